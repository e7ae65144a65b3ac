"""Inference: `Colorizer.load().colorize(img)` on images of any size and mode.

How sizes are handled: a model is trained at one size (128 for the bundled ones), and the
scale of its strokes is what it learned. So an input is resized, keeping its aspect ratio,
until its longer side equals that size (or `render_size`), padded (with white) to a multiple
of 2**depth so the fully convolutional network can run on it, and the result is cropped and
resized back to the input's own size. Nothing is squashed into a square.

A `gray` model predicts only chroma: its ab is upsampled and put back onto the input's own
full-resolution L, so a large scan keeps every detail of its lightness.

A line-art model decides colours, never where the lines are: the result is composed at the
input's own full resolution with the input's line art multiplied on top. By default
(`fill="regions"`) each region the lines enclose gets one flat colour read from the network's
prediction (see `pix2color.regions`); `fill="lines"` keeps the network's colour as painted under
the user's lines; `fill="none"` is the network's output alone, resized.

A hint-aware model (the bundled "sketch", the default) also takes colour hints, in the
input's own pixel coordinates, put onto the working size without blurring (see
`pix2color.hints`). With region fill, a hint also decides the colour of the whole region it
lies in.
"""

from pathlib import Path
from typing import NamedTuple

import numpy as np
import tensorflow as tf
from PIL import Image

from .color import (AB_SCALE, lab_to_network, lab_to_srgb8_keeping_lightness, lightness,
                    rgb_to_lab)
from .files import (MAX_PIXELS, ImageReadError, open_image,  # noqa: F401  (also public here)
                    read_image)
from .hints import hint_pixels, rasterize_hints
from .models import load_generator, model_path, save_generator
from .regions import (FILLS, apply_hints, compose, line_darkness, line_layer, region_palette,
                      segment, split_open_regions)


class Layers(NamedTuple):
    """`colorize(..., layers=True)`: the composed picture, and the layers a comic colourist
    works with: `flats` (the colour alone, no lines; RGB) and `lines` (black on transparent,
    RGBA), which, laid over the flats, give the picture back."""
    image: Image.Image
    flats: Image.Image
    lines: Image.Image


# --- the graph steps shared by `Colorizer` and the SavedModel export (pix2color.export) -----

def working_shape(shape, size):
    """(H, W) -> the (h, w) the network sees: longer side `size`, aspect ratio kept. Python
    numbers in, Python numbers out (the same rounding, half to even); tensors in a graph."""
    if isinstance(shape, tuple) and all(isinstance(n, int) for n in (*shape, size)):
        scale = size / max(shape)
        return tuple(max(1, round(n * scale)) for n in shape)
    shape = tf.cast(shape, tf.float64)
    scale = tf.cast(size, tf.float64) / tf.reduce_max(shape)
    return tf.maximum(1, tf.cast(tf.round(shape * scale), tf.int32))


def hint_channels_for(colour, mask, task):
    """Hint colour (h, w, 3; RGB in [0, 1]) and mask (h, w) -> a hint-aware model's extra
    input channels: the colour in the space of its output (RGB in [-1, 1], or ab / 128),
    zero where nothing is hinted, and the mask."""
    mask = tf.cast(mask, tf.float32)[..., None]
    colour = tf.convert_to_tensor(colour, tf.float32)
    colour = lab_to_network(rgb_to_lab(colour))[1] if task == "gray" else colour * 2.0 - 1.0
    return tf.concat([colour * mask, mask], axis=-1)


def network_input(rgb, small_shape, multiple, task, hint=None):
    """Full-size RGB in [0, 1] -> the network's input: resized to `small_shape`, in the task's
    input space (RGB in [-1, 1], or L / 50 - 1), padded with white to a multiple of
    `multiple`, with the hint channels (padded with zeros) after it."""
    small = tf.image.resize(rgb, small_shape, antialias=True)
    image = lab_to_network(rgb_to_lab(small))[0] if task == "gray" else small * 2.0 - 1.0
    padding = (-tf.convert_to_tensor(small_shape)) % multiple
    pads = [[0, padding[0]], [0, padding[1]], [0, 0]]
    image = tf.pad(image, pads, constant_values=1.0)
    if hint is not None:
        image = tf.concat([image, tf.pad(hint, pads)], axis=-1)
    return image


def network_colour(output, shape):
    """A line-art network's output (cropped to the working size) -> RGB at `shape`, in [0, 1]
    before clipping."""
    return tf.image.resize((output + 1.0) / 2.0, shape, method="bicubic", antialias=True)


class Colorizer:
    """A trained generator plus what is needed to use it on real images."""

    def __init__(self, model, info):
        self.model = model
        self.info = info
        self.task = info["task"]                 # "sketch" (line art) or "gray" (photos)
        self.size = int(info["size"])            # the training size (longer side at inference)
        self.colour_space = info.get("colour_space", "rgb")
        self.hints = bool(info.get("hints"))     # takes colour hints (see pix2color.hints)
        # How line art is filled by default ("regions", "lines", "none"; see pix2color.regions)
        self.fill = info.get("fill") or ("regions" if self.task == "sketch" else "none")
        # Region fill settings: trapped-ball radius, colour aggregate, open background regions.
        self.fill_options = {"gap": None, "aggregate": "mode", "background": "split"}
        self.max_pixels = MAX_PIXELS  # larger inputs are refused, from their header
        args = info["generator"]["args"]
        self.multiple = 2 ** args.get("depth", 3)
        channels = int(model.input_shape[-1])
        self._input = tf.function(self._graph_input, input_signature=[
            tf.TensorSpec([None, None, 3], tf.float32), tf.TensorSpec([2], tf.int32),
            tf.TensorSpec([None, None, 3], tf.float32), tf.TensorSpec([None, None], tf.bool)])
        self._run = tf.function(self._network, input_signature=[
            tf.TensorSpec([None, None, None, channels], tf.float32), tf.TensorSpec([], tf.bool)])

    def _network(self, batch, lab):
        """The network's output and, for region fill, its colour in CIE Lab, in one call:
        many small eager ops would cost more than the network at 128 px."""
        output = self.model(batch, training=False)
        if not lab:
            return output, output[..., :0]
        return output, rgb_to_lab(tf.clip_by_value((output + 1.0) / 2.0, 0.0, 1.0))

    @classmethod
    def load(cls, model=None):
        """Load a bundled model (`None` or "sketch": line art, with optional colour hints;
        "gray": grayscale photos; "sketch-hints" is an older name for "sketch") or a model
        folder saved by training or by `Colorizer.save`."""
        return cls(*load_generator(model_path(model)))

    def save(self, path, weights_dtype="float32"):
        """Write this model as a folder `Colorizer.load(path)` turns back into it (with
        `self.fill` as its default fill)."""
        spec = self.info["generator"]
        info = {k: v for k, v in self.info.items() if k not in ("generator", "format")}
        info["fill"] = self.fill   # the default fill travels with the model
        return save_generator(path, self.model, spec["kind"], spec["args"], info, weights_dtype)

    def export(self, path, version=1, format="saved_model"):
        """Export for serving: a SavedModel in TF Serving's layout (`path/<version>/`, with
        `serving_default` and `colorize_image` signatures) or, with `format="onnx"`, an ONNX
        file of the network. See `pix2color.export`."""
        from .export import export_onnx, export_saved_model

        if format == "onnx":
            return export_onnx(self, path)
        if format != "saved_model":
            raise ValueError(f"format must be 'saved_model' or 'onnx', got {format!r}")
        return export_saved_model(self, path, version)

    def __repr__(self):
        return (f"Colorizer(task={self.task!r}, size={self.size}, colour_space="
                f"{self.colour_space!r}, hints={self.hints}, "
                f"parameters={self.model.count_params():,})")

    # --- inference ----------------------------------------------------------------------

    def working_shape(self, height, width, render_size=None):
        """The (h, w) the network sees before padding: longer side = `render_size` (default:
        the training size), aspect ratio kept."""
        return working_shape((int(height), int(width)), int(render_size or self.size))

    def _prepare(self, image, render_size, hints=None, hint_image=None):
        rgb, alpha = read_image(image, max_pixels=self.max_pixels)
        small_shape = self.working_shape(*rgb.shape[:2], render_size)
        colour, mask = np.zeros((1, 1, 3), np.float32), np.zeros((1, 1), bool)
        if self.hints:
            colour, mask = rasterize_hints(hints, hint_image, rgb.shape[:2], small_shape)
        elif hints or hint_image is not None:
            raise ValueError("this model was not trained with colour hints: use a hint-aware "
                             "model such as Colorizer.load('sketch')")
        padded = self._input(rgb, np.asarray(small_shape, np.int32), colour, mask)
        return padded.numpy(), small_shape, rgb, alpha

    def _graph_input(self, rgb, small_shape, hint_colour, hint_mask):
        """`network_input` (and the hint channels) as one compiled call: as separate eager
        ops they cost more than the network itself on a 128-px image."""
        hint = hint_channels_for(hint_colour, hint_mask, self.task) if self.hints else None
        return network_input(rgb, small_shape, self.multiple, self.task, hint)

    def _finish(self, output, lab, crop, rgb, alpha, saturation, fill, hinted, layers):
        """Network output -> PIL image of the input's size, with its alpha (or `Layers`)."""
        output, lab = output[: crop[0], : crop[1]], lab[: crop[0], : crop[1]]
        flats = None
        if self.task == "gray":
            # Only the chroma comes from the network: it is upsampled and put back onto the
            # input's own full-resolution lightness.
            ab = tf.image.resize(output * (AB_SCALE * saturation), rgb.shape[:2]).numpy()
            rgb8 = lab_to_srgb8_keeping_lightness(lightness(rgb), ab)
        elif fill == "regions":
            flats = self._region_flats(np.clip((output + 1.0) / 2.0, 0.0, 1.0), lab, rgb,
                                       hinted, saturation)
            rgb8 = compose(flats, rgb)
        else:
            colour = _saturate(network_colour(output, rgb.shape[:2]).numpy(), saturation)
            flats = np.round(np.clip(colour, 0.0, 1.0) * 255.0).astype(np.uint8)
            rgb8 = flats if fill == "none" else compose(flats, rgb)
        image = _with_alpha(rgb8, alpha)
        if not layers:
            return image
        return Layers(image, Image.fromarray(flats, "RGB"),
                      Image.fromarray(line_layer(line_darkness(rgb)), "RGBA"))

    def _region_flats(self, network_rgb, network_lab, rgb, hinted, saturation):
        """One flat colour per region of the line art, at full resolution (uint8 RGB)."""
        options = self.fill_options
        segmentation = segment(line_darkness(rgb), gap=options["gap"])
        open_regions = segmentation.open_regions()
        if options["background"] == "split":
            segmentation = split_open_regions(segmentation, open_regions, network_rgb)
        palette = region_palette(segmentation, network_rgb, options["aggregate"], network_lab)
        if options["background"] != "network":
            palette[open_regions] = 1.0
        palette = apply_hints(_saturate(palette, saturation), segmentation, *hinted,
                              background=open_regions)
        flats = np.take(np.round(palette * 255.0).astype(np.uint8), segmentation.labels, axis=0)
        if options["background"] == "network" and len(open_regions):
            colour = tf.image.resize(network_rgb, rgb.shape[:2], method="bicubic",
                                     antialias=True).numpy()
            where = np.isin(segmentation.labels, open_regions)
            flats[where] = np.round(np.clip(colour[where], 0.0, 1.0) * 255.0).astype(np.uint8)
        return flats

    def colorize(self, image, saturation=1.0, render_size=None, hints=None, hint_image=None,
                 *, fill=None, layers=False):
        """Colour one image; returns a PIL image of the input's own size (RGB, or RGBA when
        the input had alpha, which is kept). `saturation` scales the output's chroma;
        `render_size` sets the longer side the network sees (default: its training size).

        Line-art models: `fill` is "regions" (default: one flat colour per region the lines
        enclose), "lines" (the network's colour, the input's lines on top) or "none" (the
        network's output alone); `layers=True` returns `Layers(image, flats, lines)`.

        Hint-aware models take `hints=[(x, y, "#ff0000"), ...]` (x, y in the input's pixels;
        a colour as #rrggbb, a name or an (r, g, b)) and/or `hint_image`: an RGBA image of
        the input's size whose pixels with alpha > 0 are hints (strokes). With region fill a
        hint colours the whole region it lies in."""
        return self.colorize_batch([image], 1, saturation, render_size, [hints],
                                   [hint_image], fill=fill, layers=layers)[0]

    def colorize_batch(self, images, batch_size=16, saturation=1.0, render_size=None,
                       hints=None, hint_images=None, *, fill=None, layers=False):
        """Colour many images; images that share a working shape run together in batches.
        `hints` and `hint_images`, when given, are lists with one entry per image."""
        fill = self._check_fill(fill, layers)
        hints = hints or [None] * len(images)
        # A hint image file is read once here: region fill reads it again at full size.
        hint_images = [_opened(h) for h in hint_images or [None] * len(images)]
        if not len(hints) == len(hint_images) == len(images):
            raise ValueError("hints and hint_images need one entry per image")
        prepared = [self._prepare(image, render_size, image_hints, hint_image)
                    for image, image_hints, hint_image in zip(images, hints, hint_images)]
        results = [None] * len(prepared)
        by_shape = {}
        for i, item in enumerate(prepared):
            by_shape.setdefault(item[0].shape, []).append(i)
        for indices in by_shape.values():
            for start in range(0, len(indices), batch_size):
                chunk = indices[start: start + batch_size]
                batch = np.stack([prepared[i][0] for i in chunk])
                outputs, labs = (t.numpy() for t in self._run(tf.constant(batch, tf.float32),
                                                              tf.constant(fill == "regions")))
                for i, output, lab in zip(chunk, outputs, labs):
                    rgb = prepared[i][2]
                    hinted = (hint_pixels(hints[i], hint_images[i], rgb.shape[:2])
                              if fill == "regions" else (None, None, None))
                    results[i] = self._finish(output, lab, *prepared[i][1:], saturation,
                                              fill, hinted, layers)
        return results

    def _check_fill(self, fill, layers):
        fill = fill or self.fill
        if fill not in FILLS:
            raise ValueError(f"fill must be one of {FILLS}, got {fill!r}")
        if self.task != "sketch" and (fill != "none" or layers):
            raise ValueError(f"fill={fill!r} and layers are for line-art models; a "
                             f"{self.task!r} model keeps the input's own lightness already")
        return fill


def _opened(hint_image):
    """A hint image given as a path -> the PIL image (named after its file), else as given."""
    if not isinstance(hint_image, (str, Path)):
        return hint_image
    image = open_image(hint_image)
    image.filename = str(hint_image)  # so errors about it still name the file
    return image


def _saturate(rgb, saturation):
    """Scale chroma around luma (saturation 1: unchanged)."""
    if saturation == 1.0:
        return rgb
    luma = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    return np.clip(luma[..., None] + saturation * (rgb - luma[..., None]), 0.0, 1.0)


def _with_alpha(rgb8, alpha):
    if alpha is None:
        return Image.fromarray(rgb8, "RGB")
    alpha8 = np.round(alpha * 255.0).astype(np.uint8)[..., None]
    return Image.fromarray(np.concatenate([rgb8, alpha8], axis=-1), "RGBA")
