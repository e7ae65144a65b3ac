"""The graph steps shared by `Colorizer` and the SavedModel export (`pix2color.export`):
the working size, the network's input with its hint channels, and its colour enlarged.
Both run these very functions, so the two paths cannot drift apart."""

import keras
import tensorflow as tf

from .files import LUMA
from .regions import INK as LINE_INK
from .resample import shrink
from .tasks import get_task


def working_shape(shape, size):
    """(H, W) -> the (h, w) the network sees: longer side `size`, aspect ratio kept. Python
    numbers in, Python numbers out (the same rounding, half to even); tensors in a graph."""
    if isinstance(shape, tuple) and all(isinstance(n, int) for n in (*shape, size)):
        scale = size / max(shape)
        return tuple(max(1, round(n * scale)) for n in shape)
    shape = tf.cast(shape, tf.float64)
    scale = tf.cast(size, tf.float64) / tf.reduce_max(shape)
    return tf.maximum(1, tf.cast(tf.round(shape * scale), tf.int32))


def input_multiple(model):
    """What a generator's input height and width must be a multiple of: the product of its
    convolutions' strides (pix2color's generators shrink along one path and grow back)."""
    multiple = 1
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D) and not isinstance(
                layer, keras.layers.Conv2DTranspose):
            multiple *= int(layer.strides[0])
    return multiple


def hint_channels_for(colour, mask, task):
    """Hint colour (h, w, 3; RGB in [0, 1]) and mask (h, w) -> a hint-aware model's extra
    input channels: the colour in the space of its output (RGB in [-1, 1], or ab / 128),
    zero where nothing is hinted, and the mask."""
    mask = tf.cast(mask, tf.float32)[..., None]
    colour = tf.convert_to_tensor(colour, tf.float32)
    colour = get_task(task).network_target(colour)
    return tf.concat([colour * mask, mask], axis=-1)


def hints_off_lines(hint, image, task, pinned=None):
    """A line-art model's hint channels (h, w, C, or a batch) with the working pixels that
    are line in its input `image` (the network's image channels, same h, w) left unhinted,
    but for those `pinned` (same h, w bool, or None): the squares points mark.
    A stroke across or along an outline is meant for the regions it crosses; the network
    reads a hint as the colour around it and bleeds a stroke's colour on a line into the
    regions beside it (a dark outline scribble darkens them). Measured with Hint-AUC
    (docs/region-fill.md): with scribbles, fill "none" 20.75 PSNR against 19.69; dots, which
    seldom lie on a line, unchanged (a pixel or more from the lines took dots in thin
    regions away too: 18.44 against 18.83). A point is a click inside a region: its square
    reaching over a line is no stroke, so it is kept whole, as before (unmeasured on its own:
    the OpenMoji validation split with 5 point hints moved from 4.85 to 5.01 with squares
    cut and 5.03 with them whole, the paper rule of `flats._on_paper_hints` being the cause).
    """
    if not get_task(task).line_art:
        return hint
    lightness = tf.tensordot((image[..., :3] + 1.0) / 2.0, tf.constant(LUMA, image.dtype), 1)
    keep = lightness > 1.0 - LINE_INK
    if pinned is not None:
        keep |= pinned
    return hint * tf.cast(keep, hint.dtype)[..., None]


def network_input(rgb, small_shape, multiple, task, hint=None, pinned=None):
    """Full-size RGB in [0, 1] (H, W, 3), or a batch of images alike in size (N, H, W, 3) ->
    the network's input: resized to `small_shape` (line art keeping its thin lines dark:
    `resample.shrink`), in the task's input space (RGB in [-1, 1], or L / 50 - 1), padded
    with white to a multiple of `multiple`, with the hint channels (padded with zeros; none
    on its lines but where `pinned`: `hints_off_lines`) after it."""
    task = get_task(task)
    small = shrink(rgb, small_shape, darkest=task.line_art)
    image = task.network_input(small)
    padding = (-tf.convert_to_tensor(small_shape)) % multiple
    pads = [[0, 0]] * (rgb.shape.rank - 3) + [[0, padding[0]], [0, padding[1]], [0, 0]]
    image = tf.pad(image, pads, constant_values=1.0)
    if hint is not None:
        if pinned is not None:
            pinned = tf.pad(pinned, pads[:-1])
        image = tf.concat([image, hints_off_lines(tf.pad(hint, pads), image, task, pinned)],
                          axis=-1)
    return image


def network_colour(output, shape):
    """A line-art network's output (cropped to the working size) -> RGB at `shape`, in [0, 1]
    before clipping."""
    return tf.image.resize((output + 1.0) / 2.0, shape, method="bicubic", antialias=True)


def over_drawn_lines(colour, dark=0.35, grey=0.3, reach=4):
    """A line-art network's colour (h, w, 3) in [0, 1] with the lines it drew itself (dark
    pixels of little chroma) painted over by the colours beside them, up to `reach` pixels
    in: `fill="lines"` puts the user's own lines on top, and the network's, enlarged, would
    be a blurred second line around them (a thin line of a large drawing reaches the
    network dark, see `resample.shrink`). Colorizer and the export both run it."""
    colour = tf.convert_to_tensor(colour, tf.float32)
    luma = tf.tensordot(colour, tf.constant(LUMA, tf.float32), 1)
    chroma = tf.reduce_max(colour, -1) - tf.reduce_min(colour, -1)
    known = tf.cast(~((luma < dark) & (chroma < grey)), tf.float32)[None, ..., None]
    painted = colour[None] * known
    for _ in range(reach):  # each round fills the unknown pixels next to known ones
        total = tf.nn.avg_pool2d(painted, 3, 1, "SAME")
        weight = tf.nn.avg_pool2d(known, 3, 1, "SAME")
        fresh = tf.cast((known == 0) & (weight > 0), tf.float32)
        painted += fresh * total / tf.maximum(weight, 1e-6)
        known += fresh
    return tf.where(known[0] > 0, painted[0], colour)

