"""Each region's colour: read from the network's output over the region's interior
(`region_palette`), or decided by the hints inside it (`apply_hints`).

The default aggregate is the mode of quantized colours, which keeps a region's dominant
colour instead of averaging it with whatever bled in near its lines (docs/region-fill.md
says how median, Lab mean and mode measured). What `region_palette` samples depends on the
regions alone, so it is found once per segmentation (`Segmentation.remembered`).
"""

import numpy as np
from scipy import ndimage

from .regions import sample_grid

AGGREGATES = ("mode", "median", "mean")
# The mode's colour bins: sRGB in steps of this many levels (13 a channel). Chosen on the
# validation split over Lab in steps of 8 (12.39 vs 12.43 foreground CIEDE2000 for the former
# bundled model, 13.23 vs 13.31 for the L1 baseline) and sRGB steps of 12 to 32 (12.46-12.59):
# it measures the same as Lab and spares the Lab conversion, 0.85 ms an image at 128 px.
MODE_STEP = 20


def region_palette(segmentation, network_rgb, aggregate="mode", network_lab=None):
    """One RGB colour per region (count + 1, 3; row 0 unused), aggregated from
    `network_rgb` (h, w, 3 in [0, 1], the network's output covering the whole image at its
    own working size) over each region's interior. `network_lab`: the same in CIE Lab, for
    the "mean" aggregate, if already at hand (computed here otherwise)."""
    if aggregate not in AGGREGATES:
        raise ValueError(f"aggregate must be one of {AGGREGATES}, got {aggregate!r}")
    values = network_rgb   # what is aggregated: RGB, or Lab for the mean
    if aggregate == "mean":
        from .color import rgb_to_lab

        values = rgb_to_lab(network_rgb).numpy() if network_lab is None else network_lab
    (h, w), count = network_rgb.shape[:2], segmentation.count
    samples, sample_labels, small, small_rows, small_cols = segmentation.remembered(
        ("palette samples", h, w), lambda: _palette_samples(segmentation, h, w))
    palette = aggregate_colours(sample_labels, values.reshape(-1, 3)[samples], count, aggregate)
    palette[small] = network_rgb[small_rows, small_cols]
    return palette


def _palette_samples(segmentation, h, w):
    """Where `region_palette` reads a segmentation's regions in the network's colour at
    (h, w), which depends on the regions alone: (the samples, as indices into the colour's
    h * w pixels; each sample's region; the regions too small for the grid; the working
    pixels at their bounding boxes' centres, rows and columns)."""
    labels, count = segmentation.labels, segmentation.count
    height, width = labels.shape
    rows, cols = sample_grid(labels.shape)
    grid_interior = segmentation.interior_at(rows, cols).ravel()
    if (h, w) == (height, width) == (len(rows), len(cols)):  # the grid is every pixel
        grid_labels, samples = labels.ravel(), np.arange(h * w)
    else:
        grid_labels = labels[np.ix_(rows, cols)].ravel()
        samples = ((rows * h // height)[:, None] * w + (cols * w // width)[None, :]).ravel()
    # Read each region on its interior where the grid reaches it, else on all its samples.
    interior_count = np.bincount(grid_labels[grid_interior], minlength=count + 1)
    use = grid_interior | (interior_count[grid_labels] == 0)
    sample_labels = grid_labels[use]
    # Regions too small for the grid: the network's colour at their bounding box's centre.
    missing = np.bincount(sample_labels, minlength=count + 1) == 0
    missing[0] = False
    small, centres = [], []
    if missing.any():
        boxes = ndimage.find_objects(labels, max_label=count)
        for label in np.nonzero(missing)[0]:
            box = boxes[label - 1]
            if box is not None:
                small.append(label)
                centres.append((min((box[0].start + box[0].stop) // 2 * h // height, h - 1),
                                min((box[1].start + box[1].stop) // 2 * w // width, w - 1)))
    small_rows, small_cols = np.asarray(centres, np.int64).reshape(-1, 2).T
    return (samples[use], sample_labels, np.asarray(small, np.int64), small_rows.copy(),
            small_cols.copy())


def aggregate_colours(labels, values, count, aggregate):
    """Region labels (n,) and their values (n, 3): RGB, or Lab for "mean" -> the palette."""
    palette = np.ones((count + 1, 3), np.float32)
    if not len(labels):
        return palette
    if aggregate == "mode":  # the most common colour, quantized (MODE_STEP); its pixels' mean
        side = -(-256 // MODE_STEP)   # bins a channel
        bins = np.minimum(values * np.float32(255.0 / MODE_STEP), side - 1).astype(np.int64)
        colour_bin = (bins[:, 0] * side + bins[:, 1]) * side + bins[:, 2]
        keys = labels.astype(np.int64) * side ** 3 + colour_bin
        order = np.argsort(keys)
        ordered = keys[order]                            # runs of equal (region, colour) keys
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        counts = np.diff(np.r_[starts, ordered.size])
        sums = np.add.reduceat(values[order], starts, axis=0, dtype=np.float64)
        owner = ordered[starts] // side ** 3
        runs = np.lexsort((counts, owner))               # per region, the largest count last
        winners = runs[np.r_[owner[runs][1:] != owner[runs][:-1], True]]
        palette[owner[winners]] = sums[winners] / counts[winners, None]
        return np.clip(palette, 0.0, 1.0)
    n = np.bincount(labels, minlength=count + 1)
    present = n > 0
    if aggregate == "mean":  # in Lab, so the mean is perceptual
        from .color import lab_to_rgb

        sums = np.stack([np.bincount(labels, values[:, c], count + 1) for c in range(3)], -1)
        palette[present] = lab_to_rgb(sums[present] / n[present, None]).numpy()
    else:  # median, channel by channel
        starts = np.concatenate([[0], np.cumsum(n)[:-1]])
        for c in range(3):
            order = np.lexsort((values[:, c], labels))
            palette[present, c] = values[order][starts[present] + n[present] // 2, c]
    return np.clip(palette, 0.0, 1.0)


def apply_hints(palette, segmentation, rows, cols, colours, background=()):
    """A region holding hints takes their colour. Several hints in one region: the colour
    that covers most hinted pixels there wins (a point is one pixel; strokes count each pixel;
    a tie goes to the larger RGB value). Only pixels more than `gap` (at least 2) from the
    region's lines count (`Segmentation.hint_band`), unless the region is all that near its
    lines (a thin one): a stroke hugging or tracing an outline, meant for the line or the
    region beyond it, neither outvotes the hint inside nor colours a region with none. Hints
    are pixels of the input: `rows`, `cols` and their `colours` (n, 3) in [0, 1] (see
    `pix2color.hints.hint_pixels`); None for none.
    A hint on a line colours nothing (the network does not see it either:
    `pipeline.hints_off_lines`); one in a `background` region (open to the border) repaints
    no region: the network, which saw it, decides what it colours."""
    if rows is None or not len(rows):
        return palette
    labels = segmentation.labels[rows, cols].astype(np.int64)
    keep = ~np.isin(labels, background) & segmentation.free[rows, cols]
    labels, colours, rows, cols = labels[keep], colours[keep], rows[keep], cols[keep]
    inside = segmentation.away_from_lines(rows, cols)
    keep = inside | ~segmentation.deeper_than(segmentation.hint_band)[labels]  # thin ones
    labels, colours = labels[keep], colours[keep]
    rgb = np.round(np.clip(colours, 0.0, 1.0) * 255).astype(np.int64)
    keys = (labels << 24) | (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
    unique, counts = np.unique(keys, return_counts=True)
    palette = palette.copy()
    for key in unique[np.argsort(counts, kind="stable")]:  # the most common is written last
        palette[key >> 24] = np.array([(key >> 16) & 255, (key >> 8) & 255, key & 255]) / 255.0
    return palette
