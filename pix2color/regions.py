"""Region fill: colour line art the way a colourist flats it.

A colourist does not repaint a drawing. They fill each region its lines enclose with one flat
colour on a layer *under* the line art, and set the line layer to multiply. This module does
that with the network's prediction as the source of colours:

1. `segment` splits the drawing, at its own full resolution, into the regions its lines
   enclose. Small gaps in outlines are closed the trapped-ball way (Zhang et al. 2009,
   "Vectorizing cartoon animations"): the free (non-line) area is eroded by a ball of radius
   `gap`, so a ball cannot pass a gap narrower than about 2 * gap + 1 pixels; the surviving
   cores are labelled as regions and then grown back over the eroded margins and under the
   lines (each pixel takes its nearest core). Thin regions the ball cannot enter keep their own
   label; specks smaller than `min_area` join their neighbours.
2. `region_palette` gives every region one colour aggregated from the network's output over the
   region's interior (not the blurred margins next to lines). The default aggregate is the mode
   of quantized Lab colours, which keeps a region's dominant colour instead of averaging it with
   whatever bled in (see the README for how median, Lab mean and mode measured).
   A colour hint inside a region decides that region's colour.
3. `compose` multiplies the user's own line art back on top, so lines stay exactly as drawn.

Only SciPy's `ndimage` (connected components, erosion, a chamfer distance transform) and numpy
are used: none of TensorFlow, Keras or Pillow labels connected components.
"""

import numpy as np
from PIL import Image
from scipy import ndimage

FILLS = ("regions", "lines", "none")
AGGREGATES = ("mode", "median", "mean")
BACKGROUNDS = ("split", "white", "network")
INK = 0.5          # a pixel darker than this (0 white .. 1 black) is line
MAX_SAMPLES = 640  # region colours are read on a grid of at most this many pixels a side


def line_darkness(rgb):
    """sRGB in [0, 1] (H, W, 3) -> darkness (H, W) in [0, 1]: 1 - luma (0 white, 1 black)."""
    return 1.0 - rgb @ np.array([0.299, 0.587, 0.114], np.float32)


def _disk(radius):
    y, x = np.mgrid[-radius: radius + 1, -radius: radius + 1]
    return x * x + y * y <= radius * radius + radius  # a digital disk, not a diamond


class Segmentation:
    """Region labels of a drawing: `labels` (H, W) int32 in 1..count, every pixel labelled
    (line pixels take their nearest region), and `interior` (H, W) bool: the pixels a ball of
    radius `gap` reaches, away from lines and their anti-aliased edges."""

    def __init__(self, labels, count, interior, distance):
        self.labels, self.count, self.interior = labels, count, interior
        self.distance = distance  # chessboard distance of each pixel to the nearest line

    def open_regions(self, min_fraction=0.1):
        """Labels of the regions that touch the image border and cover at least
        `min_fraction` of it: the background around a drawing."""
        labels = self.labels
        border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
        area = np.bincount(labels.ravel(), minlength=self.count + 1)
        return border[area[border] >= min_fraction * labels.size]


def default_gap(shape):
    """The trapped ball's largest radius for an image of `shape`: 1.5% of its longer side
    (2 px at 128, 4 at 256, 15 at 1024), so gaps scale with the drawing."""
    return max(1, round(0.015 * max(shape)))


def segment(darkness, gap=None, ink=INK, min_area=None):
    """Split line art into the regions its lines enclose (see the module docstring).

    `darkness` (H, W) in [0, 1]; `gap`: the largest trapped ball's radius (gaps in outlines
    up to about 2 * gap pixels are closed, wider ones are not; 0 closes none; default:
    `default_gap`); `ink`: the darkness above which a pixel is line; `min_area`: regions smaller
    than this many pixels are specks and join their neighbours (default: 4, or one 50,000th
    of the image if larger).
    """
    free = darkness < ink
    gap = default_gap(free.shape) if gap is None else int(gap)
    if min_area is None:
        min_area = max(4, free.size // 50000)
    raw = ndimage.label(free)[0]
    # Balls of decreasing radius: a ball of radius r fits where the distance to the nearest
    # line exceeds r. The largest balls find regions that gaps join; smaller ones then find
    # the narrower regions that no larger ball entered, each becoming a region of its own.
    distance = ndimage.distance_transform_cdt(free, metric="chessboard")
    labels, count = np.zeros(free.shape, np.int32), 0
    radius = gap
    while True:
        cores, found = ndimage.label(distance > radius)
        if found:
            taken = np.zeros(found + 1, bool)
            taken[cores[labels > 0]] = True
            area = np.bincount(cores.ravel(), minlength=found + 1)
            new = ~taken & (area >= (min_area if radius == 0 else 1))
            new[0] = False
            ids = np.cumsum(new) * new + count
            fresh = new[cores]
            labels[fresh] = ids[cores[fresh]]
            count += int(new.sum())
        if radius == 0:
            break
        radius //= 2
    interior = distance > max(gap // 2, 1)
    # A free pixel whose nearest core lies across a line (a thin part of a region that a gap
    # joins to another) becomes its own region rather than a leak into the neighbour's.
    raw_of_label = np.zeros(count + 1, np.int64)
    raw_of_label[labels[labels > 0]] = raw[labels > 0]   # a core lies in one free component
    labels = _grow(labels)
    stray = free & (raw_of_label[labels] != raw)
    if stray.any():
        pieces, extra = ndimage.label(stray)
        big = np.bincount(pieces.ravel(), minlength=extra + 1) >= min_area
        big[0] = False
        new_ids = np.cumsum(big) * big + count
        keep = big[pieces]
        labels[keep] = new_ids[pieces[keep]]
        count += int(big.sum())
        labels = _grow(np.where(stray & ~keep, 0, labels))
    return Segmentation(labels, count, interior, distance)


def split_open_regions(segmentation, open_regions, network_rgb, white=0.85):
    """Where outlines leave a region open to the background, let the network say where the
    background ends. The network's colour is blurred near lines, so it is read only on pixels
    more than one working pixel away from any line: the parts it paints in colour there (some
    channel below `white`) become regions of their own, the rest stays background, and the
    pixels near lines join the nearest of those on their own side. Returns a new segmentation
    (the same labels, new ones appended)."""
    labels = segmentation.labels
    if not len(open_regions):
        return segmentation
    in_open = np.isin(labels, open_regions)
    margin = max(1, -(-max(labels.shape) // max(network_rgb.shape[:2])))
    far = in_open & (segmentation.distance > margin)
    darkest = Image.fromarray(np.min(network_rgb, axis=-1).astype(np.float32), "F")
    darkest = np.asarray(darkest.resize(labels.shape[::-1], Image.BILINEAR))
    pieces, found = ndimage.label(far & (darkest < white))
    big = np.bincount(pieces.ravel(), minlength=found + 1) >= 4 * margin * margin
    big[0] = False
    if not big.any():
        return segmentation
    ids = np.cumsum(big) * big + segmentation.count
    seeds = np.where(far, np.where(big[pieces], ids[pieces], labels), 0)
    labels = np.where(in_open, _grow(seeds), labels).astype(np.int32)
    return Segmentation(labels, segmentation.count + int(big.sum()), segmentation.interior,
                        segmentation.distance)


def _grow(labels):
    """Every pixel with label 0 takes the label of its nearest labelled pixel (chamfer)."""
    unlabelled = labels == 0
    if not unlabelled.any() or unlabelled.all():
        return np.maximum(labels, 1) if unlabelled.all() else labels
    rows, cols = ndimage.distance_transform_cdt(unlabelled, metric="chessboard",
                                                return_distances=False, return_indices=True)
    return labels[rows, cols]


def _samples(shape):
    """Row and column indices of a sampling grid over an image of `shape`."""
    step = max(1, -(-max(shape) // MAX_SAMPLES))
    return np.arange(step // 2, shape[0], step), np.arange(step // 2, shape[1], step)


def region_palette(segmentation, network_rgb, aggregate="mode", network_lab=None):
    """One RGB colour per region (count + 1, 3; row 0 unused), aggregated from
    `network_rgb` (h, w, 3 in [0, 1], the network's output covering the whole image at its
    own working size) over each region's interior. `network_lab`: the same in CIE Lab, if
    already at hand (computed here otherwise)."""
    if network_lab is None:
        from .color import rgb_to_lab

        network_lab = rgb_to_lab(network_rgb).numpy()
    if aggregate not in AGGREGATES:
        raise ValueError(f"aggregate must be one of {AGGREGATES}, got {aggregate!r}")
    labels, count = segmentation.labels, segmentation.count
    (height, width), (h, w) = labels.shape, network_rgb.shape[:2]
    rows, cols = _samples(labels.shape)
    grid_labels = labels[np.ix_(rows, cols)].ravel()
    grid_interior = segmentation.interior[np.ix_(rows, cols)].ravel()
    cells = np.ix_(rows * h // height, cols * w // width)
    colours, labs = network_rgb[cells].reshape(-1, 3), network_lab[cells].reshape(-1, 3)
    # Read each region on its interior where the grid reaches it, else on all its samples.
    interior_count = np.bincount(grid_labels[grid_interior], minlength=count + 1)
    use = grid_interior | (interior_count[grid_labels] == 0)
    sample_labels = grid_labels[use]
    palette = _aggregate(sample_labels, colours[use], labs[use], count, aggregate)
    # Regions too small for the grid: the network's colour at their bounding box's centre.
    missing = np.bincount(sample_labels, minlength=count + 1) == 0
    missing[0] = False
    if missing.any():
        boxes = ndimage.find_objects(labels, max_label=count)
        for label in np.nonzero(missing)[0]:
            box = boxes[label - 1]
            if box is not None:
                row = (box[0].start + box[0].stop) // 2 * h // height
                col = (box[1].start + box[1].stop) // 2 * w // width
                palette[label] = network_rgb[min(row, h - 1), min(col, w - 1)]
    return palette


def _aggregate(labels, colours, lab, count, aggregate):
    palette = np.ones((count + 1, 3), np.float32)
    n = np.bincount(labels, minlength=count + 1)
    present = n > 0
    if aggregate == "mean":  # in Lab, so the mean is perceptual
        from .color import lab_to_rgb

        sums = np.stack([np.bincount(labels, lab[:, c], count + 1) for c in range(3)], -1)
        palette[present] = lab_to_rgb(sums[present] / n[present, None]).numpy()
    elif aggregate == "median":
        for c in range(3):
            order = np.lexsort((colours[:, c], labels))
            starts = np.concatenate([[0], np.cumsum(n)[:-1]])
            palette[present, c] = colours[order][starts[present] + n[present] // 2, c]
    else:  # mode: the most common colour, quantized in Lab to steps of 8, then its mean
        bins = np.floor((lab + [0.0, 128.0, 128.0]) / 8.0).astype(np.int64)
        bin_id = (bins[:, 0] * 33 + bins[:, 1]) * 33 + bins[:, 2]
        keys = labels.astype(np.int64) * 33 ** 3 + bin_id
        unique, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
        owner = unique // 33 ** 3
        order = np.lexsort((counts, owner))             # per region, the largest count last
        last = np.r_[owner[order][1:] != owner[order][:-1], True]
        winner = np.zeros(count + 1, np.int64) - 1
        winner[owner[order][last]] = order[last]
        chosen = inverse == winner[labels]
        sums = np.stack([np.bincount(labels[chosen], colours[chosen, c], count + 1)
                         for c in range(3)], -1)
        hits = np.bincount(labels[chosen], minlength=count + 1)
        palette[present] = sums[present] / hits[present, None]
    return np.clip(palette, 0.0, 1.0)


def apply_hints(palette, segmentation, rows, cols, colours):
    """A region holding hints takes their colour. Several hints in one region: the colour
    that covers most hinted pixels there wins (a point is one pixel; strokes count each pixel;
    a tie goes to the larger RGB value). Hints are pixels of the input: `rows`, `cols` and
    their `colours` (n, 3) in [0, 1] (see `pix2color.hints.hint_pixels`); None for none."""
    if rows is None or not len(rows):
        return palette
    labels = segmentation.labels[rows, cols].astype(np.int64)
    rgb = np.round(np.clip(colours, 0.0, 1.0) * 255).astype(np.int64)
    keys = (labels << 24) | (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
    unique, counts = np.unique(keys, return_counts=True)
    palette = palette.copy()
    for key in unique[np.argsort(counts, kind="stable")]:  # the most common is written last
        palette[key >> 24] = np.array([(key >> 16) & 255, (key >> 8) & 255, key & 255]) / 255.0
    return palette


def compose(colour, line_art):
    """Multiply the line art (float RGB in [0, 1] on white) over a colour layer (uint8 or
    float RGB of the same size): uint8 RGB. White line art leaves the colour as it is."""
    colour = colour.astype(np.float32) / 255.0 if colour.dtype == np.uint8 else colour
    return np.round(np.clip(colour * line_art, 0.0, 1.0) * 255.0).astype(np.uint8)


def line_layer(darkness):
    """The line art as a layer a colourist puts over flats: black, alpha = darkness (RGBA)."""
    alpha = np.round(np.clip(darkness, 0.0, 1.0) * 255.0).astype(np.uint8)
    return np.dstack([np.zeros(alpha.shape + (3,), np.uint8), alpha])
