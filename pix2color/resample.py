"""Between the network's working size and the input's own full size, a strip of rows at a time.

A 9000x9000 picture is 81 megapixels: one float32 RGB copy of it is about 1 GB. So inference
never makes a full-size float array. The input is shrunk from uint8 a strip at a time, and the
network's small output is enlarged a strip at a time, with the very linear map
`tf.image.resize` applies (read off it once per shape, as one matrix for rows and a few taps
per column), straight into the uint8 result. Peak memory then grows with the image by a few
bytes per pixel (see `benchmarks/peak_memory.py`).
"""

import functools

import numpy as np
import tensorflow as tf

from .files import combine_blocks, strips, to_unit


SHRINK_AHEAD = 4  # an input over 2x this many times the working size is box-shrunk first


def resize(image, shape):
    """`tf.image.resize(image, shape, antialias=True)` in a graph, at a fraction of its cost
    where antialiasing changes nothing: the same size is the image itself, and enlarging
    gives the same pixels (to 1e-7) with plain bilinear."""
    shape = tf.convert_to_tensor(shape, tf.int32)
    size = tf.shape(image)[-3:-1]
    return tf.case([(tf.reduce_all(size == shape), lambda: image),
                    (tf.reduce_any(size > shape),
                     lambda: tf.image.resize(image, shape, antialias=True))],
                   default=lambda: tf.image.resize(image, shape))


def box_factor(shape, small_shape):
    """How many input pixels a side are first averaged into one (a box filter) before the
    antialiased resize to the working size: 1 unless the input is at least 2 * SHRINK_AHEAD
    times the working size. The resize then reads an image 4-8x the working size instead of
    the whole input, and blurs as much as it would have (the box is under a quarter of its
    filter's width). Python ints, or tensors in a graph."""
    if isinstance(shape, tuple) and isinstance(small_shape, tuple):
        return max(1, min(shape[0] // small_shape[0], shape[1] // small_shape[1]) // SHRINK_AHEAD)
    ratio = tf.reduce_min(tf.cast(shape, tf.int32) // tf.cast(small_shape, tf.int32))
    return tf.maximum(1, ratio // SHRINK_AHEAD)


def shrink(image, shape, darkest=False):
    """`resize` to a smaller `shape`; `darkest=True` (line art) first takes the darkest pixel
    of each block as many input pixels a side as the shrink factor, so a line one pixel wide
    on a 2048-px drawing is still a dark line at 128 px, not an area-averaged grey ghost.
    Takes (H, W, C) or a batch (N, H, W, C)."""
    if darkest:
        image = tf.convert_to_tensor(image, tf.float32)
        size = tf.shape(image)[-3:-1]
        factor = tf.reduce_min(size // tf.maximum(tf.convert_to_tensor(shape, tf.int32), 1))
        image = tf.cond(factor >= 2, lambda: _block_min(image, factor), lambda: image)
    return resize(image, shape)


def _block_min(image, factor):
    """The darkest value of each factor x factor block (the last partial ones dropped)."""
    batch = image if image.shape.rank == 4 else image[None]
    n, height, width, channels = tf.unstack(tf.shape(batch))
    h, w = height // factor, width // factor
    blocks = tf.reshape(batch[:, : h * factor, : w * factor], [n, h, factor, w, factor, channels])
    smallest = tf.reduce_min(blocks, axis=[2, 4])
    return smallest if image.shape.rank == 4 else smallest[0]


def box_shrink(rgb, factor, darkest=False):
    """Graph version of `box_shrink8`: float RGB (H, W, 3) -> the mean (or with `darkest`,
    the minimum) of each factor x factor block (the last partial row and column of blocks
    are dropped)."""
    shape = tf.shape(rgb)[:2] // factor
    blocks = tf.reshape(rgb[: shape[0] * factor, : shape[1] * factor],
                        [shape[0], factor, shape[1], factor, 3])
    return (tf.reduce_min if darkest else tf.reduce_mean)(blocks, axis=[1, 3])


def box_shrink8(rgb8, factor, darkest=False):
    """uint8 RGB (H, W, 3) -> float32 RGB in [0, 1], each factor x factor block averaged (or
    with `darkest`, its darkest value per channel, for line art), a strip at a time
    (`box_shrink` in numpy)."""
    height, width = (n // factor for n in rgb8.shape[:2])
    if factor == 1:
        return to_unit(rgb8)
    out = np.empty((height, width, 3), np.float32)
    for part in strips(height * factor, width * factor, factor):
        pixels = rgb8[part, : width * factor]
        if darkest:
            shrunk = combine_blocks(pixels, factor, np.minimum)
        else:  # integer sums, then one float32 division
            shrunk = combine_blocks(pixels, factor, np.add, np.uint32).astype(np.float32)
            shrunk /= factor ** 2
        out[part.start // factor: part.stop // factor] = shrunk
    return out * np.float32(1 / 255)


def _resize_matrix(n_out, n_in, method, antialias):
    """(n_out, n_in): the map `tf.image.resize` applies along one axis of length n_in."""
    eye = tf.eye(n_in)[:, :, None]  # resizing only its rows gives the map itself
    return tf.image.resize(eye, (n_out, n_in), method=method, antialias=antialias)[..., 0].numpy()


@functools.lru_cache(maxsize=64)
def _taps(n_out, n_in, method, antialias):
    """The map `tf.image.resize` applies along an axis (n_in -> n_out) as its few nonzero
    taps: indices and weights (n_out, taps). Cached: a batch of one size reads it once."""
    matrix = _resize_matrix(n_out, n_in, method, antialias)
    taps = int(np.count_nonzero(matrix, axis=1).max())
    index = np.argsort(matrix == 0, axis=1, kind="stable")[:, :taps]
    weights = np.take_along_axis(matrix, index, 1)
    index.flags.writeable = weights.flags.writeable = False
    return index, weights


class Enlarger:
    """A small image (h, w, c) resized to `shape` (H, W) as `tf.image.resize(small, shape,
    method, antialias)` would, but a strip of rows at a time: `enlarger(rows)` is
    `resized[rows]`, to float rounding. Columns are resized once (h rows are few); each strip
    then mixes a few of those rows."""

    def __init__(self, small, shape, method="bilinear", antialias=False):
        small = np.asarray(small, np.float32)
        (h, w, _), (height, width) = small.shape, shape
        index, weights = _taps(width, w, method, antialias)
        wide = np.einsum("hwtc,wt->hwc", small[:, index], weights)       # (h, W, c)
        self.wide = np.ascontiguousarray(wide, np.float32)
        self.index, self.weights = _taps(height, h, method, antialias)

    def __call__(self, rows):
        index, weights = self.index[rows], self.weights[rows, :, None, None]
        out = self.wide[index[:, 0]] * weights[:, 0]
        for t in range(1, index.shape[1]):
            out += self.wide[index[:, t]] * weights[:, t]
        return out
