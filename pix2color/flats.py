"""Region fill for `Colorizer`: the drawing's regions, kept per drawing, filled with colours.

Segmenting a large drawing costs far more than the network at its working size, and a
person painting hints colours one drawing many times. So `RegionFill` keeps the last few
drawings' segmentations, keyed by their pixels and the fill settings: colouring the same
drawing again with new hints only runs the network, reads the palette and paints.

What is kept is the segmentation with its background split where the network, *without*
hints, paints colour (`pix2color.regions.split_open_regions`). Hints inside a drawing move
the network's colours around the paper too (a pale cloud around a hinted shape), so they do
not decide where the paper ends; a hint on the paper itself does, for the coloured blob the
network paints around it (`paper_colours`).
"""

import hashlib
import threading
from collections import OrderedDict

import numpy as np
from scipy import ndimage

from .files import to_uint8
from .regions import (apply_hints, compose, free_pixels, region_palette, segment,
                      split_open_regions)
from .resample import Enlarger

CACHED_DRAWINGS = 2          # segmentations kept, most recent first
CACHED_PIXELS = 1 << 22      # larger drawings (over 2048 x 2048) are not kept
WHITE = 0.85                 # the network's paper: every channel above this


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


class RegionFill:
    """Segmentations of the last `CACHED_DRAWINGS` drawings, and painting with them."""

    def __init__(self):
        self._kept = OrderedDict()
        self._lock = threading.Lock()   # Colorizer finishes small images on threads

    def _segmented(self, rgb8, options, small_shape):
        """-> [segmentation before the split, its open regions, step, the split one or
        None]: the cache's own list, so a split found later is kept with it."""
        digest = hashlib.blake2b(rgb8.tobytes(), digest_size=16).digest()
        key = (digest, rgb8.shape, options["gap"], options["background"], small_shape)
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]
        free, step = free_pixels(rgb8)
        segmentation = segment(free, gap=options["gap"])
        found = [segmentation, segmentation.open_regions(), step, None]
        if rgb8.shape[0] * rgb8.shape[1] <= CACHED_PIXELS:
            with self._lock:
                self._kept[key] = found
                while len(self._kept) > CACHED_DRAWINGS:
                    self._kept.popitem(last=False)
        return found

    def painter(self, options, network_rgb, network_lab, rgb8, hinted, tint, plain=None):
        """Segment the line art (or reuse its segmentation) and colour its regions; returns
        `paint(rows)` -> (flat colour strip, composed strip), both uint8 at full size.
        `network_rgb`: the network's colour with the hints, in [0, 1] at its working size;
        `hinted`: the hinted pixels (rows, cols, colours) or Nones; `tint`: applied to the
        palette (saturation); `plain()`: the network's colour without hints (None: there
        were none)."""
        found = self._segmented(rgb8, options, network_rgb.shape[:2])
        segmentation, open_regions, step, split = found
        rows, cols, colours = hinted   # the hinted pixels, in the segmentation's own grid
        if rows is not None:
            rows, cols = rows // step, cols // step
        if options["background"] == "split":
            on_paper = _on_paper(segmentation, open_regions, rows, cols, network_rgb.shape[:2])
            if on_paper.any() or split is None:
                split = split_open_regions(segmentation, open_regions, paper_colours(
                    network_rgb if plain is None else plain(), network_rgb, on_paper))
                if not on_paper.any():
                    found[3] = split   # kept with the drawing
            segmentation = split
        palette = region_palette(segmentation, network_rgb, options["aggregate"],
                                 network_lab if network_lab.shape[-1] else None)
        if options["background"] != "network":
            palette[open_regions] = 1.0
        palette = to_uint8(apply_hints(tint(palette), segmentation, rows, cols, colours,
                                       background=open_regions))
        labels, columns = segmentation.labels, np.arange(rgb8.shape[1]) // step
        network = None
        if options["background"] == "network" and len(open_regions):
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


def _on_paper(segmentation, open_regions, rows, cols, working_shape):
    """The working pixels holding a hint that lies in an open region (h x w bool)."""
    on_paper = np.zeros(working_shape, bool)
    if rows is None or not len(rows) or not len(open_regions):
        return on_paper
    there = np.isin(segmentation.labels[rows, cols], open_regions)
    height, width = segmentation.labels.shape
    on_paper[rows[there] * working_shape[0] // height,
             cols[there] * working_shape[1] // width] = True
    return on_paper
