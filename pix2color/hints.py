"""Colour hints: a few points or strokes that tell a model which colour goes where.

A hint-aware generator takes, after its usual input (the sketch's RGB, or L), the hint colour
in the space of its output (RGB in [-1, 1] for line art, ab / 128 for grayscale) and a hint
mask: `out_channels + 1` more input channels, all zero where nothing is hinted. With the mask
all zero it is an ordinary colorizer.

Training draws hints from the target on the fly (`sample_hints`): a random number of small
rectangles, each filled with the target's mean colour over it, as in interactive colorization
research (Zhang et al. 2017, "Real-Time User-Guided Image Colorization").

At inference hints are given in the input image's own pixel coordinates, as points
`(x, y, colour)` or as an RGBA hint image of the input's size (colour wherever alpha > 0).
`rasterize_hints` puts them onto the working size the network sees without blurring: a point
marks a small square around where it lands; a hint image is resampled so that each working
pixel takes the mean colour of the hinted pixels it covers (a 1-pixel stroke on a large
image survives a big reduction) or, when enlarging, its nearest hinted pixel.
"""

import dataclasses
import math
from pathlib import Path

import numpy as np
import tensorflow as tf

from PIL import Image

from .files import open_image, read_image, to_uint8, to_unit
from .hint_text import parse_colour, parse_hint  # noqa: F401  (public here too)

AGAINST = 2       # a hinted pixel this near a line (in input pixels) lies against it
POINT_RADIUS = 1  # a point hint marks (2r + 1)^2 working pixels: 3x3 of the 128 a model sees


def hint_channels(out_channels):
    """How many input channels hints add to a generator: the colour and the mask."""
    return out_channels + 1


# --- training: hints drawn from the target, inside tf.data --------------------------------

def sample_hints(target, seed, max_hints=32, max_patch=9, no_hint_fraction=0.25):
    """Random hints taken from `target` (H, W, C network tensor): (H, W, C + 1), the hint
    colour (zero where none) and the mask.

    With probability `no_hint_fraction` there are none, so the model still learns to colour
    alone; otherwise 1 + a geometric number (p = 1/8, as Zhang et al.), at most `max_hints`,
    of rectangles 1 to `max_patch` pixels high and wide (dots, dabs and short strokes),
    placed around the image centre. Each carries the target's mean colour over it.
    `seed`: a stateless seed, shape [2].
    """
    target = tf.convert_to_tensor(target, tf.float32)
    height, width = tf.shape(target)[0], tf.shape(target)[1]
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 3)
    u = tf.random.stateless_uniform([2], seeds[0], minval=1e-6, maxval=1.0)
    geometric = tf.floor(tf.math.log(u[1]) / math.log(1.0 - 1.0 / 8.0))
    count = tf.where(u[0] < no_hint_fraction, 0.0, tf.minimum(1.0 + geometric, max_hints))
    active = tf.cast(tf.range(max_hints, dtype=tf.float32) < count, tf.float32)

    sides = tf.random.stateless_uniform([max_hints, 2], seeds[1], 1, max_patch + 1, tf.int32)
    # Places: a 2-D Gaussian around the image centre, sigma = a quarter of the size (Zhang et
    # al.), where the subject usually is, rather than uniform over a white background.
    size = tf.stack([height, width])
    centres = tf.cast(size, tf.float32) / 2.0 + tf.random.stateless_normal(
        [max_hints, 2], seeds[2]) * tf.cast(size, tf.float32) / 4.0
    corners = tf.cast(tf.floor(centres), tf.int32) - sides // 2
    corners = tf.clip_by_value(corners, 0, tf.maximum(size - sides, 0))
    top, left = corners[:, 0], corners[:, 1]
    rows = tf.range(height)[None, :, None]
    cols = tf.range(width)[None, None, :]
    boxes = ((rows >= top[:, None, None]) & (rows < (top + sides[:, 0])[:, None, None]) &
             (cols >= left[:, None, None]) & (cols < (left + sides[:, 1])[:, None, None]))
    boxes = tf.cast(boxes, tf.float32) * active[:, None, None]          # (N, H, W)
    area = tf.maximum(tf.reduce_sum(boxes, [1, 2]), 1.0)
    means = tf.einsum("nhw,hwc->nc", boxes, target) / area[:, None]     # (N, C)
    cover = tf.reduce_sum(boxes, 0)[..., None]                          # overlaps average
    colour = tf.einsum("nhw,nc->hwc", boxes, means) / tf.maximum(cover, 1.0)
    return tf.concat([colour, tf.cast(cover > 0, tf.float32)], axis=-1)


def no_hints(target):
    """The hint channels of "no hints at all" for `target`: all zero."""
    shape = tf.shape(target)
    return tf.zeros(tf.concat([shape[:-1], [shape[-1] + 1]], 0))


# --- inference: user hints in image coordinates -> the working size -----------------------

def rasterize_hints(points, hint_image, image_shape, working_shape, radius=POINT_RADIUS):
    """User hints -> (rgb, mask) at the working size: RGB floats in [0, 1] (h, w, 3) and a
    bool mask (h, w). `points`: [(x, y, colour), ...] in the input's pixel coordinates
    (image_shape = its (H, W)); `hint_image`: None, or RGBA of the input's size (a path, PIL
    image, array or `HintImage`) whose pixels with alpha > 0 are hints. Points are drawn over
    the image."""
    rgb = np.zeros((*working_shape, 3), np.float32)
    mask = np.zeros(working_shape, bool)
    if hint_image is not None:
        hint_image = HintImage.read(hint_image, image_shape)
        rgb, mask = (np.array(t) for t in _resample_compiled(
            hint_image.where, hint_image.colours, np.asarray(image_shape, np.int64),
            np.asarray(working_shape, np.int64)))
    for square, colour in _point_squares(points, image_shape, working_shape, radius):
        rgb[square] = parse_colour(colour)
        mask[square] = True
    return rgb, mask


def point_mask(points, image_shape, working_shape, radius=POINT_RADIUS):
    """The working pixels (h, w bool) that `rasterize_hints` marks for the `points` alone."""
    mask = np.zeros(working_shape, bool)
    for square, _ in _point_squares(points, image_shape, working_shape, radius):
        mask[square] = True
    return mask


def _point_squares(points, image_shape, working_shape, radius):
    """Each point's square of working pixels (a pair of slices) and its colour as given."""
    (height, width), (h, w) = image_shape, working_shape
    for x, y, colour in _checked_points(points, image_shape):
        col = min(int((x + 0.5) * w / width), w - 1)  # the working pixel the point falls in
        row = min(int((y + 0.5) * h / height), h - 1)
        yield (slice(max(row - radius, 0), row + radius + 1),
               slice(max(col - radius, 0), col + radius + 1)), colour


def hint_pixels(points, hint_image, image_shape):
    """User hints -> the hinted pixels of the input itself: (rows, cols, rgb), rgb (n, 3) in
    [0, 1]. A point is the one pixel it falls in; a hint image gives every pixel with alpha > 0.
    Points come after the hint image, as in `rasterize_hints`. For region fill."""
    rows, cols = np.zeros((2, 0), np.int64)
    colours = np.zeros((0, 3), np.float32)
    if hint_image is not None:
        hint_image = HintImage.read(hint_image, image_shape)
        (rows, cols), colours = hint_image.where.T, hint_image.colours
    points = list(_checked_points(points, image_shape))
    if points:
        height, width = image_shape
        rows = np.r_[rows, [min(int(y), height - 1) for _, y, _ in points]].astype(np.int64)
        cols = np.r_[cols, [min(int(x), width - 1) for x, _, _ in points]].astype(np.int64)
        colours = np.concatenate([colours, [parse_colour(c) for _, _, c in points]])
    return rows, cols, colours.astype(np.float32, copy=False)


def _checked_points(points, image_shape):
    height, width = image_shape
    for hint in points or ():
        try:
            x, y, colour = hint
        except (TypeError, ValueError):
            raise ValueError(f"bad hint {hint!r}: expected (x, y, colour)") from None
        if not (0 <= x < width and 0 <= y < height):
            raise ValueError(f"hint {hint!r} lies outside the {width}x{height} image "
                             f"(x and y are in the input image's pixels)")
        yield x, y, colour


@dataclasses.dataclass(frozen=True)
class HintImage:
    """A hint image read once: its hinted pixels (alpha > 0), `where` (n, 2: rows, cols, in
    row-major order) and their `colours` (n, 3 floats in [0, 1]) un-composited from white,
    on an image of `shape` (H, W). Both the network's hint channels and region fill's votes
    are taken from it. Only the hinted pixels are ever made float: an 8-bit 1024 px hint
    image with a few strokes on it costs what its strokes do, not 1024 x 1024 floats."""

    where: np.ndarray
    colours: np.ndarray
    shape: tuple

    @classmethod
    def read(cls, image, image_shape):
        """A hint image (a path, PIL image or RGBA array; a HintImage passes as it is) for a
        picture of `image_shape` (H, W) -> HintImage, or a ValueError naming the problem."""
        if isinstance(image, cls):
            return image
        name = str(image) if isinstance(image, (str, Path)) else getattr(image, "filename", None)
        where = f"the hint image {name}" if name else "the hint image"
        if isinstance(image, (str, Path)):
            image = open_image(image)
        levels = _levels8(image)
        if levels is None:  # 16-bit or float: read whole, as any image
            colour, alpha = read_image(image, name="the hint image")
        else:
            colour, alpha = levels[..., :-1], levels[..., -1] if levels.shape[-1] in (2, 4) \
                else None
        if alpha is None:
            raise ValueError(f"{where} has no alpha channel: hints are the pixels with alpha "
                             f"> 0, so it must be RGBA (transparent where there is no hint)")
        if colour.shape[:2] != tuple(image_shape):
            raise ValueError(f"{where} is {colour.shape[1]}x{colour.shape[0]}, but the image "
                             f"it hints is {image_shape[1]}x{image_shape[0]}: they must match")
        rows, cols = _hinted(alpha)
        colour, alpha = colour[rows, cols], alpha[rows, cols, None]
        if levels is not None:  # as read_image puts 8 bits onto white, for these pixels only
            colour, alpha = to_unit(colour), to_unit(alpha)
            colour = colour * alpha + (1.0 - alpha)
            if colour.shape[-1] == 1:
                colour = np.repeat(colour, 3, axis=-1)
        # read_image put the colour onto white; a soft brush edge gets its own colour back.
        colour = (colour - (1.0 - alpha)) / np.maximum(alpha, 1e-6)
        return cls(np.stack([rows, cols], -1).astype(np.int64), np.clip(colour, 0.0, 1.0),
                   tuple(image_shape))

    def without_line_strokes(self, rgb8):
        """This hint image without the strokes that trace the lines of the line art `rgb8`
        (H, W, 3 uint8): a stroke (8-connected pixels of one colour) as dark as ink (no
        channel above half) lying mostly on the lines or against them (within `AGAINST`
        pixels). Region fill keeps the user's lines as drawn anyway, and such a stroke's few
        pixels off the lines would vote: a black stroke over a hash sign's bars blackened the
        hole between them (Hint-AUC scribbles, docs/region-fill.md). Lighter or coloured
        strokes are kept wherever they lie: a brush wider than a thin region covers more
        line than region."""
        from scipy import ndimage

        from .regions import INK, free_pixels

        dark = np.flatnonzero(self.colours.max(axis=-1) <= 1.0 - INK)   # every channel dark
        if not len(dark):
            return self
        rows, cols = self.where[dark].T
        colours = to_uint8(self.colours[dark]).astype(np.int64) @ np.array([1 << 16, 1 << 8, 1])
        # The lines within AGAINST pixels of each pixel, over the box the dark strokes span.
        top, left = max(rows.min() - AGAINST, 0), max(cols.min() - AGAINST, 0)
        box = rgb8[top: rows.max() + AGAINST + 1, left: cols.max() + AGAINST + 1]
        free, _ = free_pixels(box, max_pixels=box.shape[0] * box.shape[1])   # pixel by pixel
        line = ndimage.maximum_filter(~free, 2 * AGAINST + 1)
        on_line = line[rows - top, cols - left]                      # on a line or against one
        drop = np.zeros(len(dark), bool)
        for key in np.unique(colours):
            one = colours == key
            top, left = rows[one].min(), cols[one].min()      # this colour's strokes' box
            canvas = np.zeros((rows[one].max() - top + 1, cols[one].max() - left + 1), bool)
            canvas[rows[one] - top, cols[one] - left] = True
            labels, _ = ndimage.label(canvas, structure=np.ones((3, 3), bool))
            stroke = labels[rows[one] - top, cols[one] - left]
            share = np.bincount(stroke, on_line[one]) / np.maximum(np.bincount(stroke), 1)
            drop[np.flatnonzero(one)] = share[stroke] >= 0.5
        if not drop.any():
            return self
        keep = np.ones(len(self.where), bool)
        keep[dark[drop]] = False
        return dataclasses.replace(self, where=self.where[keep], colours=self.colours[keep])


def _hinted(alpha):
    """The (rows, cols) of the pixels whose `alpha` (H, W) is above 0, row-major, looked for
    only in the rows that hold any: a few strokes on a large image lie in a few rows."""
    rows = np.flatnonzero(alpha.max(axis=1) > 0)
    in_rows, cols = np.nonzero(alpha[rows] > 0)
    return rows[in_rows], cols


def _levels8(image):
    """An 8-bit image (a PIL image but 16-bit or float ones, or a uint8 array) -> its uint8
    levels (H, W, C: L, LA, RGB or RGBA), without making floats; anything else -> None."""
    if isinstance(image, Image.Image) and image.mode not in ("I;16", "I;16B", "I;16L", "I",
                                                             "F"):
        if image.mode not in ("L", "LA", "RGB", "RGBA"):
            alpha = "A" in image.mode or "transparency" in image.info
            image = image.convert("RGBA" if alpha else "RGB")
        levels = np.asarray(image)
    elif isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim in (2, 3):
        levels = image
    else:
        return None
    levels = levels if levels.ndim == 3 else levels[..., None]
    return levels if levels.shape[-1] in (1, 2, 3, 4) else None


def resample_hint_image(colour, hinted, working_shape):
    """A hint image's colour (H, W, 3) and hinted pixels (H, W, bool) -> (rgb, mask) at the
    working size, without blurring. TensorFlow ops, so the SavedModel export runs the same
    as `Colorizer` (which gives `resample_hint_pixels` a `HintImage`'s pixels)."""
    where = tf.where(hinted)                                      # (n, 2) rows, cols
    return resample_hint_pixels(where, tf.gather_nd(colour, where),
                                tf.shape(colour, out_type=tf.int64)[:2], working_shape)


def resample_hint_pixels(where, colours, shape, working_shape):
    """Hinted pixels, `where` (n, 2: rows, cols, row-major) and their `colours` (n, 3), of an
    image of `shape` (H, W) -> (rgb, mask) at the working size, without blurring.

    Shrinking: every hinted pixel lands in one working pixel, which takes their mean colour
    (a 1-pixel stroke survives any reduction). Enlarging: a working pixel whose nearest input
    pixel is hinted takes its colour."""
    where = tf.convert_to_tensor(where, tf.int64)
    colours = tf.convert_to_tensor(colours, tf.float32)
    shape = tf.cast(tf.convert_to_tensor(shape), tf.int64)
    small = tf.cast(tf.convert_to_tensor(working_shape), tf.int64)
    cells = (where[:, 0] * small[0] // shape[0]) * small[1] + where[:, 1] * small[1] // shape[1]
    size = small[0] * small[1]
    counts = tf.math.unsorted_segment_sum(tf.ones_like(cells, tf.float32), cells, size)
    sums = tf.math.unsorted_segment_sum(colours, cells, size)
    rgb = tf.reshape(sums / tf.maximum(counts, 1.0)[:, None], tf.concat([small, [3]], 0))
    mask = tf.reshape(counts > 0, small)

    def nearest(n, big):  # the input pixel nearest to each of n working pixels along an axis
        scale = tf.cast(big, tf.float64) / tf.cast(n, tf.float64)
        centres = (tf.range(n, dtype=tf.float64) + 0.5) * scale
        return tf.minimum(tf.cast(centres, tf.int64), big - 1)

    # Each working pixel's nearest input pixel, looked up among the hinted ones (row-major,
    # so sorted by their index; one past the last stands for "not hinted").
    rows, cols = nearest(small[0], shape[0]), nearest(small[1], shape[1])
    wanted = tf.reshape(rows[:, None] * shape[1] + cols[None, :], [-1])
    hinted = tf.concat([where[:, 0] * shape[1] + where[:, 1], [shape[0] * shape[1]]], 0)
    found = tf.searchsorted(hinted, wanted, out_type=tf.int64)
    near_hinted = tf.reshape(tf.gather(hinted, found) == wanted, small) & ~mask
    near_colour = tf.reshape(tf.gather(tf.concat([colours, tf.zeros([1, 3])], 0), found),
                             tf.concat([small, [3]], 0))
    rgb = tf.where(near_hinted[..., None], near_colour, rgb)
    return rgb, mask | near_hinted


# Colorizer's: one compiled call for a picture's hints (as eager ops they cost more than the
# work, ~25 ms at 1024 px).
_resample_compiled = tf.function(resample_hint_pixels, input_signature=[
    tf.TensorSpec([None, 2], tf.int64), tf.TensorSpec([None, 3], tf.float32),
    tf.TensorSpec([2], tf.int64), tf.TensorSpec([2], tf.int64)])
