"""Region fill: colour line art the way a colourist flats it.

A colourist does not repaint a drawing. They fill each region its lines enclose with one flat
colour on a layer *under* the line art, and set the line layer to multiply. This module does
that with the network's prediction as the source of colours:

1. `segment` splits the drawing, at its own full resolution, into the regions its lines
   enclose. Small gaps in outlines are closed the trapped-ball way (Zhang et al. 2009,
   "Vectorizing cartoon animations"): a ball of radius r fits where the distance to the
   nearest line exceeds r, so it cannot pass a gap narrower than about 2r. Balls of radius
   `gap`, `gap`/2, ..., 1 found region cores (a smaller ball only where no larger one did);
   every other pixel, lines included, takes its nearest core's label. Texture (dots,
   hatching: `pix2color.marks`) is no wall. A shallow core beside a deeper one in the same
   free area (a corner, a star's point) is no region of its own, and a pixel whose nearest
   core lies across a line joins its own side's region. Enclosed areas no ball entered keep
   their own label. Over 1024 px a side, distances, cores and their growth are found on a
   grid of blocks (a block holding any line is line); the free areas, thin areas and
   strays stay at full resolution. `pix2color.paper.split_open_regions` lets the network
   decide where a region left open by a wide gap ends.
2. `pix2color.palette` gives every region one colour from the network's output or the hints.
3. `compose` multiplies the user's own line art back on top, so lines stay exactly as drawn.

SciPy's `ndimage` does the connected components and chamfer distance transforms, which none
of TensorFlow, Keras, Pillow or numpy has; the rest is numpy.
"""

import math

import numpy as np
from scipy import ndimage

from .files import LUMA, combine_blocks, strips, to_uint8, to_unit
from .marks import texture

BACKGROUNDS = ("split", "white", "network")
INK = 0.5          # a pixel darker than this (0 white .. 1 black) is line
MAX_SAMPLES = 256  # region colours are read on a grid of at most this many pixels a side
# Drawings larger than this are segmented on a grid of blocks (see `free_pixels`), so the
# memory segmentation takes is bounded (about 35 bytes a pixel of what it segments).
MAX_SEGMENT_PIXELS = 3072 * 3072


def line_darkness(rgb):
    """sRGB in [0, 1] (H, W, 3) -> darkness (H, W) in [0, 1]: 1 - luma (0 white, 1 black)."""
    return 1.0 - rgb @ LUMA


def free_pixels(rgb8, ink=INK, max_pixels=None):
    """uint8 RGB line art (H, W, 3) -> (free, step): the pixels that are not line (darkness
    below `ink`), found a strip at a time. A drawing over `max_pixels` is measured on a grid
    of step x step blocks, a block with any line pixel in it being line: outlines stay closed
    (they only get thicker), while areas thinner than a block join the line around them and
    take a neighbour's colour. The lines on the output are the input's own either way.
    `max_pixels` defaults to MAX_SEGMENT_PIXELS."""
    height, width = rgb8.shape[:2]
    max_pixels = max_pixels or MAX_SEGMENT_PIXELS
    step = max(1, math.ceil(math.sqrt(height * width / max_pixels)))
    free = np.empty((-(-height // step), -(-width // step)), bool)
    for rows in strips(height, width, step):
        part = line_darkness(to_unit(rgb8[rows])) < ink
        if step > 1:  # padded with free pixels to whole blocks; a block is free if all are
            part = combine_blocks(part, step, np.logical_and, fill=True)
        free[rows.start // step: rows.start // step + len(part)] = part
    return free, step


class Segmentation:
    """Region labels of a drawing: `labels` (H, W) int32 in 1..count, every pixel labelled
    (line pixels take their nearest region); `free` (H, W): the pixels that are not line;
    `coarse`: the distance to the nearest line on a grid of `block`-pixel blocks (see
    `_distance_to_lines`); `nearest`: on that grid, the (rows, cols) of each block's nearest
    seed (a region core, or a thin area's pixel where there are no cores), from which its
    line and margin pixels took their label; None where nothing was grown."""

    def __init__(self, labels, count, free, coarse, block, nearest, gap):
        self.labels, self.count, self.free, self.nearest = labels, count, free, nearest
        self.coarse, self.block, self.gap = coarse, block, gap
        self._remembered = {}

    def remembered(self, key, make):
        """`make()`, found once and kept with this segmentation under `key` (read-only):
        what depends on the regions alone, not on the colours put in them, so colouring
        the same drawing again with new hints does not find it again."""
        if key not in self._remembered:
            value = make()
            for array in value if isinstance(value, tuple) else (value,):
                if isinstance(array, np.ndarray):
                    array.flags.writeable = False
            self._remembered[key] = value
        return self._remembered[key]

    def deeper_than(self, distance):
        """Which regions (count + 1, bool) reach more than `distance` from their lines, on
        the block grid."""
        def find():
            found = np.zeros(self.count + 1, bool)
            found[self.labels[:: self.block, :: self.block][self.coarse > distance]] = True
            return found
        return self.remembered(("deeper than", distance), find)

    @property
    def hint_band(self):
        """How near its lines a hinted pixel is beside them, not inside its region."""
        return max(self.gap, 2)

    def away_from_lines(self, rows, cols, band=None):
        """Which of the pixels (rows, cols) are neither line nor within `band` (default
        `hint_band`) of one."""
        far = self.coarse[rows // self.block, cols // self.block] > (band or self.hint_band)
        return far & self.free[rows, cols]

    def interior_at(self, rows, cols):
        """On the grid rows x cols: the pixels away from lines and their soft edges."""
        if self.block == 1 and (len(rows), len(cols)) == self.free.shape:  # every pixel
            return (self.coarse > max(self.gap // 2, 1)) & self.free
        far = self.coarse[np.ix_(rows // self.block, cols // self.block)] > max(self.gap // 2, 1)
        return far & self.free[np.ix_(rows, cols)]

    def open_regions(self, min_fraction=0.1):
        """Labels of the regions that touch the image border and cover at least
        `min_fraction` of it: the background around a drawing."""
        labels = self.labels
        border = np.unique(border_values(labels))
        rows, cols = sample_grid(labels.shape)  # areas from the sampling grid: plenty for 10%
        grid = labels if (len(rows), len(cols)) == labels.shape else labels[np.ix_(rows, cols)]
        area = np.bincount(grid.ravel(), minlength=self.count + 1)
        return border[area[border] >= min_fraction * len(rows) * len(cols)]


def default_gap(shape):
    """The trapped ball's largest radius for an image of `shape`: 1% of its longer side (1 px
    at 128, 3 at 256, 10 at 1024), so gaps scale with the drawing. Chosen on the validation
    split: 1, 2 and 3 px at 128 px scored foreground CIEDE2000 12.43, 12.58 and 12.79."""
    return max(1, round(0.01 * max(shape)))


def segment(darkness, gap=None, ink=INK, min_area=None):
    """Split line art into the regions its lines enclose (see the module docstring).

    `darkness` (H, W) in [0, 1], or a bool mask of the pixels that are not line; `gap`: the
    largest trapped ball's radius (gaps in outlines up to about 2 * gap pixels are closed,
    wider ones are not; 0 closes none; default: `default_gap`); `ink`: the darkness above
    which a pixel is line; `min_area`: enclosed areas smaller than this many pixels are
    specks and join their neighbours (default: 4, or one 50,000th of the image if larger).
    """
    free = darkness if darkness.dtype == bool else darkness < ink
    gap = default_gap(free.shape) if gap is None else int(gap)
    if min_area is None:
        min_area = max(4, free.size // 50000)
    # Texture (dots, hatching: see pix2color.marks) is no wall: the balls roll over it.
    open_ = free | texture(~free, gap, min_area)
    raw, raw_count = ndimage.label(open_, output=np.intp)  # intp: bincount takes it as is
    coarse, block = _distance_to_lines(open_)
    # Cores, slivers and growth work on the block grid the distance was measured on: a core
    # block is all free, so its corner pixel says which free component the core lies in.
    cores, count = _ball_cores(coarse, gap)
    deep = np.zeros(count + 1, bool)     # the cores reaching more than 1.5 gap from lines
    deep[cores[coarse > 1.5 * gap]] = True
    deep[0] = False
    raw_of_label = np.zeros(count + 1, np.int32)
    cored = cores > 0
    raw_of_label[cores[cored]] = raw[::block, ::block][cored]
    cores, count, raw_of_label = _drop_slivers(cores, deep, raw_of_label, raw_count)
    # Enclosed areas that no ball entered (a stripe between two lines) are regions too.
    thin = np.bincount(raw.ravel(), minlength=raw_count + 1) >= min_area
    thin[raw_of_label] = False   # (raw_of_label[0] is 0: the lines are never thin)
    thin_labels = ((np.cumsum(thin) + count) * thin).astype(np.int32)  # 0 where not thin
    raw_of_label = np.r_[raw_of_label, np.flatnonzero(thin)].astype(np.int32)
    # Grow the cores over the rest: every pixel takes its nearest core's label.
    side = None   # the free component each pixel's label lies in, if found on the way
    if count and block > 1:  # on the grid; the thin areas (finer than it) keep their own
        grown, nearest = _grow(cores)
        labels = blow_up(grown, block, free.shape)
        side = blow_up(np.take(raw_of_label, grown), block, free.shape)
        if thin.any():
            in_thin = np.take(thin_labels, raw)
            labels = np.where(in_thin > 0, in_thin, labels)
            side = np.where(in_thin > 0, raw, side)
    elif count or thin.any():  # at full resolution
        seeds = blow_up(cores, block, free.shape)
        if thin.any():
            seeds = seeds + np.take(thin_labels, raw)
        labels, nearest = _grow(seeds)
        if block > 1:  # only thin areas: their nearest pixels on the grid
            nearest = tuple(index[::block, ::block] // block for index in nearest)
    else:  # no free pixel at all
        nearest, labels, count = None, np.ones(free.shape, np.int32), 1
        raw_of_label = np.zeros(2, np.int32)
    count += int(thin.sum())
    # A free pixel whose nearest core lies across a line (a corner no ball entered, a thin
    # part of a region) must not leak into that neighbour: it joins its own side's region.
    if side is None:
        side = np.take(raw_of_label, labels)
    stray = open_ & (side != raw)
    if stray.any():
        labels = _join_strays(labels, stray, open_)
    return Segmentation(labels, count, free, coarse, block, nearest, gap)


def nearest_pixels(mask):
    """(rows, cols): for every pixel, the nearest (chessboard) pixel of the bool `mask`."""
    return ndimage.distance_transform_cdt(~mask, metric="chessboard", return_distances=False,
                                          return_indices=True)


def _grow(seeds):
    """Every pixel of `seeds` takes the label of its nearest (chessboard) non-zero pixel:
    (labels, (rows, cols) of that pixel)."""
    nearest = nearest_pixels(seeds > 0)
    return np.take(seeds, nearest[0] * seeds.shape[1] + nearest[1]), nearest  # (flat: faster)


def _join_strays(labels, stray, free):
    """Each connected piece of `stray` pixels takes the label most of its free neighbours
    outside it carry (4-neighbours: the same free component). A piece with none (a speck
    walled in by lines alone) keeps the label it had, its nearest region's."""
    pieces, count = ndimage.label(stray)
    votes = []                       # (piece, label) for each stray pixel's outer neighbour
    for axis, shift in ((0, 1), (0, -1), (1, 1), (1, -1)):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (0, 1) if shift > 0 else (1, 0)
        cut = [slice(None), slice(None)]
        cut[axis] = slice(1, None) if shift > 0 else slice(None, -1)
        beside = (np.pad(free & ~stray, pad)[tuple(cut)], np.pad(labels, pad)[tuple(cut)])
        where = stray & beside[0]
        votes.append(np.stack([pieces[where], beside[1][where]]))
    votes = np.concatenate(votes, axis=1)
    owner = np.zeros(count + 1, labels.dtype)
    if votes.size:
        (piece, label), counts = np.unique(votes, axis=1, return_counts=True)
        order = np.lexsort((counts, piece))            # per piece, the most votes last
        last = order[np.r_[piece[order][1:] != piece[order][:-1], True]]
        owner[piece[last]] = label[last]
    return np.where(stray & (owner[pieces] > 0), owner[pieces], labels).astype(np.int32)


def _distance_to_lines(free, coarse_side=1024):
    """Chessboard distance to the nearest line pixel, and the size of the blocks it is
    measured in. An image up to `coarse_side` a side is measured exactly; a larger one
    between blocks of a grid no larger than half that a side (a block holding any line
    counts as line) and the distance rounded down to a bound: all that cores, interiors and
    margins need, at a fraction of the cost. (Exact up to 1024 px: on a 600 px drawing, 2-px
    blocks cut a face's chin off at its smile.)"""
    block = 1 if max(free.shape) <= coarse_side else -(-max(free.shape) // (coarse_side // 2))
    if block == 1:
        return ndimage.distance_transform_cdt(free, metric="chessboard"), 1
    coarse_free = combine_blocks(free, block, np.logical_and, fill=False)
    blocks = ndimage.distance_transform_cdt(coarse_free, metric="chessboard")
    return np.where(blocks > 0, (blocks - 1) * block + 1, 0).astype(np.int32), block


def blow_up(coarse, block, shape):
    """A block grid back to pixels (each block's value on all its pixels), cropped to shape."""
    if block == 1:
        return coarse
    return np.repeat(np.repeat(coarse, block, 0), block, 1)[: shape[0], : shape[1]]


def _drop_slivers(seeds, deep, raw_of_label, raw_count):
    """Shallow cores (at most 1.5 `gap` from a line: a corner, a star's point, a pocket
    the largest ball could not roll about in) that share their free area with a deeper one
    are dropped: their pixels grow from the cores around them instead. `deep`: whether
    each core reaches further from its lines. Returns (seeds, count, raw_of_label)."""
    has_deep = np.zeros(raw_count + 1, bool)
    has_deep[raw_of_label[deep]] = True
    sliver = ~deep & has_deep[raw_of_label]
    sliver[0] = False
    if not sliver.any():
        return seeds, len(deep) - 1, raw_of_label
    new_id = np.where(sliver, 0, np.cumsum(~sliver) - 1).astype(np.int32)
    return new_id[seeds], int((~sliver).sum()) - 1, raw_of_label[~sliver]


def _ball_cores(distance, gap):
    """Cores of the regions: where balls of radius gap, gap / 2, ..., 1 fit (distance to the
    nearest line > radius). A ball of a smaller radius only founds a region where no larger
    one did, so a gap narrower than the largest ball never joins two regions."""
    labels, count, radius = np.zeros(distance.shape, np.int32), 0, max(gap, 1)
    while radius >= 1:
        cores, found = ndimage.label(distance > radius)
        if found and not count:  # the first cores found: all new
            labels, count = cores.astype(np.int32), found
        elif found:
            taken = np.zeros(found + 1, bool)
            taken[cores[labels > 0]] = True
            new = ~taken
            new[0] = False
            ids = ((np.cumsum(new) + count) * new).astype(np.int32)   # 0 where not new
            labels += np.take(ids, cores)   # (a new core's pixels were all 0)
            count += int(new.sum())
        radius //= 2
    return labels, count


def border_values(array):
    """The values on the four edges of a 2-D array."""
    return np.concatenate([array[0], array[-1], array[:, 0], array[:, -1]])


def sample_grid(shape):
    """Row and column indices of a sampling grid over an image of `shape`."""
    step = max(1, -(-max(shape) // MAX_SAMPLES))
    return np.arange(step // 2, shape[0], step), np.arange(step // 2, shape[1], step)


def compose(colour, line_art):
    """Multiply the line art (RGB on white) over a colour layer of the same size, each uint8
    or float in [0, 1]: uint8 RGB. White line art leaves the colour as it is."""
    colour, line_art = (x if x.dtype == np.uint8 else to_uint8(x) for x in (colour, line_art))
    product = np.multiply(colour, line_art, dtype=np.uint16)
    product += 127           # in place: each step one pass over the strip, no new array
    product //= 255
    return product.astype(np.uint8)


def line_layer(darkness):
    """The line art as a layer a colourist puts over flats: black, alpha = darkness (RGBA)."""
    alpha = np.round(np.clip(darkness, 0.0, 1.0) * 255.0).astype(np.uint8)
    return np.dstack([np.zeros(alpha.shape + (3,), np.uint8), alpha])
