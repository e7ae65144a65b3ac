"""Region fill's flats: the drawing's regions, each painted its colour, at full size.

`RegionFill` does it for `Colorizer`: it segments the drawing (`pix2color.regions`), splits
the paper (`pix2color.paper`), reads each region's colour (`pix2color.palette`) and paints.
Segmenting a large drawing costs far more than the network at its working size, and a person
painting hints colours one drawing many times, so it keeps the last few drawings'
segmentations (in a `Kept`), keyed by their pixels and the fill settings: colouring the same
drawing again with new hints only runs the network, reads the palette and paints. What is
kept is the segmentation with its background split where the network, *without* hints,
paints colour. Hints inside a drawing move the network's colours around the paper too (a
pale cloud around a hinted shape), so they do not decide where the paper ends; a hint on the
paper itself does, for the coloured blob the network paints around it (`paper_colours`).
"""

import functools
import hashlib
import threading
from collections import OrderedDict

import numpy as np

from .files import to_uint8
from .palette import apply_hints, region_palette
from .paper import enclosed, paper_colours, split_open_regions
from .regions import Segmentation, border_values, compose, free_pixels, segment
from .resample import Enlarger

CACHED_ENTRIES = 8           # kept: segmentations and network inputs of the last drawings
CACHED_PIXELS = 1 << 22      # larger drawings (over 2048 x 2048) are not kept
WIDER = (2, 3, 4)            # a hint on the paper tries balls this many times as large
INSIDE = 2                   # with hints, the network is read where balls this many times
                             # as large as the gap close the drawing (RegionFill._inside)
CLOSED_KEPT = 4              # sets of shapes those found, kept per segmentation


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
                key=None, points=0):
        """Segment the line art (or reuse its segmentation) and colour its regions; returns
        `paint(rows)` -> (flat colour strip, composed strip), both uint8 at full size.
        `settings`: a `pix2color.fills.RegionSettings`; `network_rgb`: the network's colour
        with the hints, in [0, 1] at its working size (`network_lab`: the same in CIE Lab,
        or None);
        `hinted`: the hinted pixels (rows, cols, colours) or Nones; `tint`: applied to the
        palette (saturation); `plain()`: the network's colour without hints (None: there
        were none); `key`: the drawing's `drawing_key`, if known; `points`: how many of the
        hinted pixels, the last ones, are points."""
        segmentation, open_regions, step, later = self._segmented(rgb8, key, settings,
                                                                  network_rgb.shape[:2])
        rows, cols, colours = hinted   # the hinted pixels, in the segmentation's own grid
        if rows is not None:
            rows, cols = rows // step, cols // step
        closed = functools.partial(self._closed_wider, base=segmentation, rows=rows, cols=cols,
                                   points=points, open_regions=open_regions,
                                   key=key or drawing_key(rgb8))
        if settings.background == "split":
            plain, name = plain or (lambda: network_rgb), "split"   # the network, no hints
            if rows is not None and len(rows):   # hinted: read only inside the drawing
                plain, name = self._inside(segmentation, later, plain), "split inside"
            if name not in later:
                later[name] = split_open_regions(segmentation, open_regions, plain())
            base, segmentation = segmentation, closed(later[name])
            on_paper = _on_paper(segmentation, open_regions, rows, cols, points,
                                 network_rgb.shape[:2])
            if on_paper.any():  # and the blobs it paints around hints on the paper
                decide, asked = paper_colours(plain(), network_rgb, on_paper)
                segmentation = closed(split_open_regions(base, open_regions, decide,
                                                         asked=asked))
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
        nothing even with balls `INSIDE` (2) times the segmentation's closing their gaps:
        the paper around the drawing, where the network paints soft shadows. Used when
        there are hints: on the validation split without hints, reading the network only
        there measured worse (foreground CIEDE2000 13.28 against 12.15; with gaps up to 5%
        or 10% of the longer side closed, 13.07 and 12.95), as emoji often leave wide gaps.
        With the widest balls (`WIDER[-1]`), the paper between two shapes closer than about
        eight `gap` counted as inside, and a model that paints a cloud there (the hue-head
        `sketch`) left a stripe of it; with 5 hints the validation splits measured level
        (OpenMoji 4.90 against 4.87, Open Clip Art 19.16 against 19.23)."""
        def read():
            rgb = plain()
            if "inside" not in later:
                later["inside"] = _resized(enclosed(segmentation, INSIDE * segmentation.gap),
                                           rgb.shape[:2])
            return np.where(later["inside"][..., None], rgb, 1.0)
        return functools.cache(read)

    def _closed_wider(self, segmentation, base, open_regions, rows, cols, points, key):
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
        paper = _on_paper_hints(base, is_open, rows, cols, points)    # hinted pixels only
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
    reaching[border_values(labels)] = True
    return labels, reaching


def _resized(mask, shape):
    """A bool mask resized to `shape` by nearest neighbour."""
    rows, cols = ((np.arange(n) + 0.5) * size / n for n, size in zip(shape, mask.shape))
    return mask[np.ix_(rows.astype(int), cols.astype(int))]


def _on_paper_hints(segmentation, is_open, rows, cols, points):
    """Which hinted pixels lie on the paper (a region `is_open` says is open). A stroke's
    pixels within twice `Segmentation.hint_band` of a line do not: half of a stroke along the
    drawing's outer outline takes the paper's label, yet it is meant for the outline or the
    shape within, and counted, it had the network paint a blob over the paper (Hint-AUC with
    scribbles, docs/region-fill.md: 26.84 -> 28.73 PSNR; 27.83 at one band). The last
    `points` hinted pixels are points, clicks in a shape: they count wherever they lie (with
    the band, points in small open shapes of emoji stayed paper: OpenMoji validation split, 5
    point hints, 5.03 foreground CIEDE2000 against 4.85)."""
    stroke = np.arange(len(rows)) < len(rows) - points
    beside = stroke & ~segmentation.away_from_lines(rows, cols, 2 * segmentation.hint_band)
    return is_open[segmentation.labels[rows, cols]] & ~beside


def _on_paper(segmentation, open_regions, rows, cols, points, working_shape):
    """The working pixels holding a hint that lies on the paper, in what is left of the open
    regions (h x w bool; see `_on_paper_hints`)."""
    on_paper = np.zeros(working_shape, bool)
    if rows is None or not len(rows) or not len(open_regions):
        return on_paper
    is_open = np.zeros(segmentation.count + 1, bool)
    is_open[open_regions] = True
    there = _on_paper_hints(segmentation, is_open, rows, cols, points)
    height, width = segmentation.labels.shape
    on_paper[rows[there] * working_shape[0] // height,
             cols[there] * working_shape[1] // width] = True
    return on_paper
