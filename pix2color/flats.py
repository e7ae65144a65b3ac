"""Region fill's colours: one a region, from the network's output or from the hints.

`region_palette` gives every region one colour aggregated from the network's output over the
region's interior (not the blurred margins next to lines). The default aggregate is the mode
of quantized colours, which keeps a region's dominant colour instead of averaging it with
whatever bled in (see the README for how median, Lab mean and mode measured). `apply_hints`
lets the hints inside a region decide its colour.

`RegionFill` does it for `Colorizer`. Segmenting a large drawing costs far more than the
network at its working size, and a person painting hints colours one drawing many times, so
it keeps the last few drawings' segmentations, keyed by their pixels and the fill settings:
colouring the same drawing again with new hints only runs the network, reads the palette and
paints. What is kept is the segmentation with its background split where the network,
*without* hints, paints colour (`pix2color.regions.split_open_regions`). Hints inside a
drawing move the network's colours around the paper too (a pale cloud around a hinted
shape), so they do not decide where the paper ends; a hint on the paper itself does, for the
coloured blob the network paints around it (`paper_colours`).
"""

import functools
import hashlib
import threading
from collections import OrderedDict

import numpy as np
from scipy import ndimage

from .files import to_uint8
from .regions import (AGGREGATES, Segmentation, compose, enclosed, free_pixels, sample_grid,
                      segment, split_open_regions)
from .resample import Enlarger

CACHED_ENTRIES = 8           # kept: segmentations and network inputs of the last drawings
CACHED_PIXELS = 1 << 22      # larger drawings (over 2048 x 2048) are not kept
WHITE = 0.85                 # the network's paper: every channel above this
WIDER = (2, 3, 4)            # a hint on the paper tries balls this many times as large
CLOSED_KEPT = 4              # sets of shapes those found, kept per segmentation
# The mode's colour bins: sRGB in steps of this many levels (13 a channel). Chosen on the
# validation split over Lab in steps of 8 (12.39 vs 12.43 foreground CIEDE2000 for the former
# bundled model, 13.23 vs 13.31 for the L1 baseline) and sRGB steps of 12 to 32 (12.46-12.59):
# it measures the same as Lab and spares the Lab conversion, 0.85 ms an image at 128 px.
MODE_STEP = 20


def paper_colours(plain_rgb, hinted_rgb, paper_hints, white=WHITE):
    """The network's colours that decide where the paper ends: its output without hints
    (`plain_rgb`, h x w x 3), except in the coloured blobs of its hinted output that hold a
    hint lying on the paper (`paper_hints`, h x w bool), which a hint asked for."""
    if not paper_hints.any():
        return plain_rgb
    blobs, _ = ndimage.label(hinted_rgb.min(axis=-1) < white)
    asked = np.unique(blobs[paper_hints])
    chosen = np.isin(blobs, asked[asked > 0])
    return np.where(chosen[..., None], hinted_rgb, plain_rgb)


def drawing_key(rgb8):
    """A digest of a drawing's pixels and shape, which its kept work is filed under."""
    pixels = memoryview(np.ascontiguousarray(rgb8)).cast("B")   # no copy
    return hashlib.blake2b(pixels, digest_size=16).digest() + str(rgb8.shape).encode()


class Kept:
    """Work done for the last few drawings (`CACHED_ENTRIES`, most recent kept), by key;
    drawings over `CACHED_PIXELS` are not kept. Thread-safe: Colorizer finishes small images
    on threads."""

    def __init__(self):
        self._entries, self._lock = OrderedDict(), threading.Lock()

    def get(self, key, pixels, make):
        """The value kept under `key`, or `make()`'s, kept if `pixels` is not too many."""
        value = self.find(key)
        if value is None:
            value = make()
            self.put(key, pixels, value)
        return value

    def find(self, key):
        """The value kept under `key`, or None."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        return None

    def put(self, key, pixels, value):
        """Keep `value` under `key`, for a drawing of `pixels` pixels (not if too many)."""
        if pixels <= CACHED_PIXELS:
            with self._lock:
                self._entries[key] = value
                while len(self._entries) > CACHED_ENTRIES:
                    self._entries.popitem(last=False)


class RegionFill:
    """Region fill with the segmentations of recent drawings kept (in a `Kept`)."""

    def __init__(self, kept):
        self._kept = kept

    def _segmented(self, rgb8, key, settings, small_shape):
        """-> (segmentation before the split, its open regions, step, a dict of what is
        found later and kept with them)."""
        def make():
            free, step = free_pixels(rgb8)
            segmentation = segment(free, gap=settings.gap)
            return segmentation, segmentation.open_regions(), step, {}

        key = (key or drawing_key(rgb8), "regions", settings.gap, settings.background,
               small_shape)
        return self._kept.get(key, rgb8.shape[0] * rgb8.shape[1], make)

    def painter(self, settings, network_rgb, network_lab, rgb8, hinted, tint, plain=None,
                key=None):
        """Segment the line art (or reuse its segmentation) and colour its regions; returns
        `paint(rows)` -> (flat colour strip, composed strip), both uint8 at full size.
        `settings`: a `pix2color.fills.RegionSettings`; `network_rgb`: the network's colour
        with the hints, in [0, 1] at its working size (`network_lab`: the same in CIE Lab,
        or None);
        `hinted`: the hinted pixels (rows, cols, colours) or Nones; `tint`: applied to the
        palette (saturation); `plain()`: the network's colour without hints (None: there
        were none); `key`: the drawing's `drawing_key`, if known."""
        segmentation, open_regions, step, later = self._segmented(rgb8, key, settings,
                                                                  network_rgb.shape[:2])
        rows, cols, colours = hinted   # the hinted pixels, in the segmentation's own grid
        if rows is not None:
            rows, cols = rows // step, cols // step
        closed = functools.partial(self._closed_wider, base=segmentation, rows=rows, cols=cols,
                                   open_regions=open_regions, key=key or drawing_key(rgb8))
        if settings.background == "split":
            plain, name = plain or (lambda: network_rgb), "split"   # the network, no hints
            if rows is not None and len(rows):   # hinted: read only inside the drawing
                plain, name = self._inside(segmentation, later, plain), "split inside"
            if name not in later:
                later[name] = split_open_regions(segmentation, open_regions, plain())
            base, segmentation = segmentation, closed(later[name])
            on_paper = _on_paper(segmentation, open_regions, rows, cols, network_rgb.shape[:2])
            if on_paper.any():  # and the blobs it paints around hints on the paper
                segmentation = closed(split_open_regions(base, open_regions, paper_colours(
                    plain(), network_rgb, on_paper)))
        else:
            segmentation = closed(segmentation)
        palette = region_palette(segmentation, network_rgb, settings.aggregate, network_lab)
        if settings.background != "network":
            palette[open_regions] = 1.0
        palette = to_uint8(apply_hints(tint(palette), segmentation, rows, cols, colours,
                                       background=open_regions))
        labels, columns = segmentation.labels, np.arange(rgb8.shape[1]) // step
        network = None
        if settings.background == "network" and len(open_regions):
            network = Enlarger(network_rgb, rgb8.shape[:2], "bicubic", antialias=True)
            is_open = np.isin(np.arange(segmentation.count + 1), open_regions)

        def paint(rows):
            here = labels[rows] if step == 1 else \
                labels[np.ix_(np.arange(rows.start, rows.stop) // step, columns)]
            flats = np.take(palette, here, axis=0)
            if network is not None:
                where = is_open[here]
                flats[where] = to_uint8(network(rows)[where])
            return flats, compose(flats, rgb8[rows])
        return paint

    @staticmethod
    def _inside(segmentation, later, plain):
        """`plain()` (the network's colour without hints), white where the lines enclose
        nothing even with the widest balls (`WIDER`) closing their gaps: the paper around
        the drawing, where the network paints soft shadows. Used when there are hints: on
        the validation split without hints, reading the network only there measured worse
        (foreground CIEDE2000 13.28 against 12.15; with gaps up to 5% or 10% of the
        longer side closed, 13.07 and 12.95), as emoji often leave wide gaps."""
        def read():
            rgb = plain()
            if "inside" not in later:
                later["inside"] = _resized(enclosed(segmentation, WIDER[-1] * segmentation.gap),
                                           rgb.shape[:2])
            return np.where(later["inside"][..., None], rgb, 1.0)
        return functools.cache(read)

    def _closed_wider(self, segmentation, base, open_regions, rows, cols, key):
        """Where a hint lies on the paper because its shape's outline has a gap wider than the
        trapped ball closes, try balls `WIDER` times as large: the first under which the
        hint's region no longer reaches the image border is its shape, where `base` (the
        segmentation before the background was split) had paper: closed regions keep their
        own. Measured against one radius for the whole drawing in benchmarks/leaks.py.
        Returns `segmentation` with such shapes added."""
        if rows is None or not len(rows) or not len(open_regions):
            return segmentation
        is_open = np.zeros(base.count + 1, bool)
        is_open[open_regions] = True
        paper = is_open[base.labels[rows, cols]]    # at the hinted pixels only
        waiting, shapes = paper.copy(), []          # shapes: (ball scale, its regions found)
        for scale in WIDER:
            if not waiting.any():
                break
            wider, reaching = self._kept.get(
                (key, "wider", segmentation.gap * scale), base.labels.size,
                lambda: _reaching(segment(segmentation.free, gap=segmentation.gap * scale)))
            found = np.unique(wider[rows[waiting], cols[waiting]])
            found = found[~reaching[found]]
            if len(found):
                shapes.append((scale, tuple(found.tolist())))
                paper &= ~np.isin(wider[rows, cols], found)
                waiting &= paper
        if not shapes:
            return segmentation
        # Which shapes the hints found is all that depends on them: the labels with those
        # shapes added are made once and kept with the segmentation (the last few sets).
        made, shapes = segmentation.remembered("closed wider", dict), tuple(shapes)
        closed = made.get(shapes)
        if closed is None:
            closed = self._with_shapes(segmentation, is_open[base.labels], shapes, key)
            if len(made) >= CLOSED_KEPT:
                made.clear()   # (one call: threads finishing pictures may share it)
            made[shapes] = closed
        return closed

    def _with_shapes(self, segmentation, paper, shapes, key):
        """`segmentation` with the `shapes` `_closed_wider` found (for each ball scale, the
        labels of its regions) added where `paper` (full size) was the paper."""
        labels, count = segmentation.labels, segmentation.count
        for scale, found in shapes:
            wider, reaching = self._kept.get(
                (key, "wider", segmentation.gap * scale), labels.size,
                lambda: _reaching(segment(segmentation.free, gap=segmentation.gap * scale)))
            ids = np.zeros(len(reaching), np.int32)
            ids[list(found)] = np.arange(count + 1, count + 1 + len(found))
            shape = paper & (ids[wider] > 0)
            labels = np.where(shape, ids[wider], labels)
            paper &= ~shape
            count += len(found)
        return Segmentation(labels.astype(np.int32), count, segmentation.free,
                            segmentation.coarse, segmentation.block, None, segmentation.gap)


def _reaching(segmentation):
    """A segmentation's labels and which of them (count + 1, bool) reach the image border."""
    labels = segmentation.labels
    reaching = np.zeros(labels.max() + 1, bool)
    reaching[np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])] = True
    return labels, reaching


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
    palette = _aggregate(sample_labels, values.reshape(-1, 3)[samples], count, aggregate)
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


def _aggregate(labels, values, count, aggregate):
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
    region's lines count, unless the region is all that near its lines (a thin one): a stroke
    hugging or tracing an outline, meant for the line or the region beyond it, neither
    outvotes the hint inside nor colours a region with none. Hints are pixels of the
    input: `rows`, `cols` and their `colours` (n, 3) in [0, 1] (see
    `pix2color.hints.hint_pixels`); None for none.
    A hint on a line, or in a `background` region (open to the border), does not repaint a
    region: it lies inside none, and the network, which saw it, decides what it colours."""
    if rows is None or not len(rows):
        return palette
    labels = segmentation.labels[rows, cols].astype(np.int64)
    keep = ~np.isin(labels, background) & segmentation.free[rows, cols]
    labels, colours, rows, cols = labels[keep], colours[keep], rows[keep], cols[keep]
    block, band = segmentation.block, max(segmentation.gap, 2)
    inside = segmentation.coarse[rows // block, cols // block] > band
    keep = inside | ~segmentation.deeper_than(band)[labels]  # beside lines: thin regions only
    labels, colours = labels[keep], colours[keep]
    rgb = np.round(np.clip(colours, 0.0, 1.0) * 255).astype(np.int64)
    keys = (labels << 24) | (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
    unique, counts = np.unique(keys, return_counts=True)
    palette = palette.copy()
    for key in unique[np.argsort(counts, kind="stable")]:  # the most common is written last
        palette[key >> 24] = np.array([(key >> 16) & 255, (key >> 8) & 255, key & 255]) / 255.0
    return palette


def _resized(mask, shape):
    """A bool mask resized to `shape` by nearest neighbour."""
    rows, cols = ((np.arange(n) + 0.5) * size / n for n, size in zip(shape, mask.shape))
    return mask[np.ix_(rows.astype(int), cols.astype(int))]


def _on_paper(segmentation, open_regions, rows, cols, working_shape):
    """The working pixels holding a hint that lies on the paper, in what is left of the open
    regions (h x w bool)."""
    on_paper = np.zeros(working_shape, bool)
    if rows is None or not len(rows) or not len(open_regions):
        return on_paper
    there = np.isin(segmentation.labels[rows, cols], open_regions)
    height, width = segmentation.labels.shape
    on_paper[rows[there] * working_shape[0] // height,
             cols[there] * working_shape[1] // width] = True
    return on_paper
