"""Texture on line art: the dots, short hatching and small marks drawn *on* a region.

A ladybird's spots or a cheek's hatching are lines, but they wall nothing off: a colourist
fills the body in one colour and the spots stay drawn on top. Left as walls, a field of dots
splits a region into as many pieces as there are narrow passages between them. So before
segmenting, `texture` tells texture from structure and `pix2color.regions.segment` lets the
trapped balls roll over texture as if it were paper. A line component is texture when

- it is small: it fits in a box of `SIZE` ball radii a side (the largest trapped ball's
  radius, so the scale follows the drawing), and does not touch the image border;
- it encloses nothing: no free area of `min_area` pixels or more lies inside it (a small
  closed circle, an eye, is structure);
- and, with the marks near it, it encloses nothing: marks closer to each other than a ball
  can pass through form a group, and a group around an area deeper than `DEPTH` ball radii
  (a ring of dots around an eye) is structure. The cells between a field of dots are no
  deeper than about one radius, so the field stays texture.

Anything that touches a longer line is part of that line, and so structure.
"""

import numpy as np
from scipy import ndimage

SIZE = 4    # texture fits in a box this many ball radii a side
DEPTH = 2   # a group of marks around an area deeper than this many ball radii is structure
EIGHT = np.ones((3, 3), bool)


def texture(lines, gap, min_area):
    """`lines` (H, W) bool, the line pixels -> the line pixels that are texture (bool)."""
    if gap < 1:
        return np.zeros_like(lines)
    marks, count = ndimage.label(lines, structure=EIGHT)
    if not count:
        return np.zeros_like(lines)
    sides = np.array([max(s.stop - s.start for s in box) for box in ndimage.find_objects(marks)])
    small = np.r_[False, sides <= SIZE * gap]
    small[np.concatenate([marks[0], marks[-1], marks[:, 0], marks[:, -1]])] = False
    candidates = np.take(small, marks)   # (take: twice as fast as indexing, at 2048 px)
    if not candidates.any():
        return candidates
    small &= ~_enclosing(marks, candidates, lambda holes, n: np.bincount(
        holes.ravel(), minlength=n + 1) >= min_area)
    candidates = np.take(small, marks)
    distance = ndimage.distance_transform_cdt(~candidates, metric="chessboard")
    near = distance <= gap
    groups, _ = ndimage.label(near, structure=EIGHT)
    deeper = distance > DEPTH * gap   # a hole holding any of these is deeper than DEPTH radii
    deep = _enclosing(groups, near, lambda holes, n: _holding(holes, n, deeper))
    return candidates & ~deep[groups]


def _holding(labels, count, mask):
    """Which of the labels 0..count (bool) hold a pixel of `mask`."""
    found = np.zeros(count + 1, bool)
    found[labels[mask]] = True
    return found


def _enclosing(labels, mask, keep):
    """Which labels (a bool array over them) of `labels`, restricted to `mask`, border a
    hole of `mask` (an area it encloses, not reaching the image border) that `keep(holes,
    count)` keeps (a bool array over the holes' labels)."""
    holes, count = ndimage.label(~mask)
    inner = np.ones(count + 1, bool)
    inner[np.concatenate([holes[0], holes[-1], holes[:, 0], holes[:, -1]])] = False
    inner[0] = False
    inner &= keep(holes, count)
    found = np.zeros(labels.max() + 1, bool)
    if inner.any():
        ring = ndimage.binary_dilation(inner[holes], EIGHT) & mask
        found[labels[ring]] = True
    found[0] = False
    return found
