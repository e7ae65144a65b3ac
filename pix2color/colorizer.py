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

import functools
import os
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import numpy as np
import tensorflow as tf
from PIL import Image

from .color import AB_SCALE, lab_to_srgb8_keeping_lightness, lightness, rgb_to_lab
from .files import (LUMA, MAX_PIXELS, ImageReadError, InputWarning,  # noqa: F401  (public)
                    open_image, read_rgb8, strips, to_uint8, to_unit)
from .flats import Kept, RegionFill, drawing_key
from .hints import hint_channels, hint_pixels, rasterize_hints
from .layers import Layers
from .input_kind import input_kind
from .modelfile import average_generators, load_generator, model_path, save_generator
from .regions import FILLS, compose, line_darkness, line_layer
from .pipeline import hint_channels_for, network_input, over_drawn_lines, working_shape
from .resample import Enlarger, box_factor, box_shrink8

# colorize_batch reads images until they hold this many pixels, then colours them: 64 Mpx
# (about 200 MB as uint8) before a batch runs.
CHUNK_PIXELS = 1 << 26
# Images up to this many pixels are finished (segmented, filled, composed) on several threads
# at once; larger ones one after another, so their full-size work never runs twice at once.
PARALLEL_PIXELS = 1 << 20
_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep   # warnings skip its frames
# Images whose shrunk copy (float32 RGB, before the network's resize) is at most this many
# pixels get their network inputs made together, a chunk at a time; larger ones at once, so
# their copies are never held all together.
BATCHED_INPUT_PIXELS = 1 << 18


@functools.lru_cache(maxsize=1)
def _finishers():
    return ThreadPoolExecutor(max(1, min(4, os.cpu_count() or 1)), "pix2color-finish")


class Prepared(NamedTuple):
    """An image read for colouring: the input's own pixels (`rgb8`, `alpha8`), its working
    shape, and the network's padded input (`network`), or, until that is made, what it is
    made from (`shrunk`, the hint `colour` and `mask`)."""
    image: object
    rgb8: np.ndarray
    alpha8: object
    small_shape: tuple
    shrunk: object = None
    colour: object = None
    mask: object = None
    network: object = None
    key: object = None     # the drawing's digest (`pix2color.flats.drawing_key`)


class Colorizer:
    """A trained generator plus what is needed to use it on real images."""

    def __init__(self, model, info):
        """`model`: the generator; `info`: its `pix2color.modelfile.ModelInfo`."""
        self.model = model
        self.info = info
        self.task = info.task                    # "sketch" (line art) or "gray" (photos)
        self.task_def = info.task_def            # what the task means (pix2color.tasks)
        self.size = info.size                    # the training size (longer side at inference)
        self.colour_space = info.colour_space
        self.hints = info.hints                  # takes colour hints (see pix2color.hints)
        # How line art is filled by default ("regions", "lines", "none"; see pix2color.regions)
        self.fill = info.fill
        # Region fill settings: trapped-ball radius, colour aggregate, open background regions.
        self.fill_options = {"gap": None, "aggregate": "mode", "background": "split"}
        self._kept = Kept()                  # recent drawings' network inputs and regions
        self._region_fill = RegionFill(self._kept)
        self.max_pixels = MAX_PIXELS  # larger inputs are refused, from their header
        args = info.generator["args"]
        self.multiple = 2 ** args.get("depth", 3)
        channels = int(model.input_shape[-1])
        self._hint_channels = hint_channels(int(model.output_shape[-1])) if self.hints else 0
        self._input = tf.function(self._graph_input, input_signature=[
            tf.TensorSpec([None, None, None, 3], tf.float32),
            tf.TensorSpec([None, None, None, 3], tf.float32),
            tf.TensorSpec([None, None, None], tf.bool), tf.TensorSpec([2], tf.int32)])
        self._run = tf.function(self._network, input_signature=[
            tf.TensorSpec([None, None, None, channels], tf.float32), tf.TensorSpec([], tf.bool)])

    def _network(self, batch, lab):
        """The network's output and, for region fill with the Lab mean, its colour in CIE
        Lab, in one call: many small eager ops would cost more than the network at 128 px."""
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

    @classmethod
    def average(cls, models):
        """A model whose weights are the mean of `models`' (bundled names or folders), which
        must be the same network, e.g. fine-tunes of one model; see
        `pix2color.modelfile.average_generators`. `.save(path)` keeps it."""
        return cls(*average_generators(models))

    def save(self, path, weights_dtype="float32"):
        """Write this model as a folder `Colorizer.load(path)` turns back into it (with
        `self.fill` as its default fill)."""
        spec = self.info.generator
        info = {k: v for k, v in self.info.to_json().items() if k in (
            "task", "size", "hints", "colour_space", "training")}
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
        """Read an image -> `Prepared`, with what its network input is made from."""
        rgb8, alpha8 = read_rgb8(image, max_pixels=self.max_pixels)
        shape = rgb8.shape[:2]
        small_shape = self.working_shape(*shape, render_size)
        colour, mask = np.zeros((1, 1, 3), np.float32), np.zeros((1, 1), bool)
        if self.hints:
            colour, mask = rasterize_hints(hints, hint_image, shape, small_shape)
        elif hints or hint_image is not None:
            raise ValueError("this model was not trained with colour hints: use a hint-aware "
                             "model such as Colorizer.load('sketch')")
        # A drawing coloured again (new hints) reuses its shrunk copy.
        key, factor = drawing_key(rgb8), box_factor(shape, small_shape)
        shrunk = self._kept.get((key, "shrunk", factor), shape[0] * shape[1],
                                lambda: box_shrink8(rgb8, factor, self.task_def.line_art))
        item = Prepared(image, rgb8, alpha8, small_shape, shrunk, colour, mask, key=key)
        if shrunk.shape[0] * shrunk.shape[1] > BATCHED_INPUT_PIXELS:
            item, = self._network_inputs([item])  # its float copy goes now, not with the chunk
        return item

    def _network_inputs(self, items):
        """`Prepared` items -> the same with their network input made. Items alike in shape
        go through the graph input together: at 128 px a call costs more than its work."""
        alike, items = {}, list(items)
        for i, item in enumerate(items):
            if item.network is None:
                key = (item.shrunk.shape, item.small_shape, item.colour.shape)
                alike.setdefault(key, []).append(i)
        for (_, small_shape, _), indices in alike.items():
            padded = self._input(*(np.stack([getattr(items[i], name) for i in indices])
                                   for name in ("shrunk", "colour", "mask")),
                                 np.asarray(small_shape, np.int32)).numpy()
            for i, network in zip(indices, padded):
                items[i] = items[i]._replace(network=network, shrunk=None, colour=None,
                                             mask=None)
        return items

    def _check_kind(self, item):
        """Warn (InputWarning) when the input looks wrong for this model."""
        task, image = self.task_def, item.image
        network_input = item.network[: item.small_shape[0], : item.small_shape[1]]
        wrong, use = task.looks_wrong, task.other
        if input_kind(task.input_lightness(network_input)) == wrong:
            name = str(image) if isinstance(image, (str, Path)) else \
                getattr(image, "filename", None) or "the image"
            warnings.warn(f"{name} looks like {'a ' * (wrong == 'photo')}{wrong}, but this "
                          f"model colours {task.made_for}: try Colorizer.load({use!r}) "
                          f"(--model {use})", InputWarning, stacklevel=_outside_level())

    def _graph_input(self, rgb, hint_colour, hint_mask, small_shape):
        """`network_input` (and the hint channels) of a batch of images alike in shape, as
        one compiled call: as separate eager ops they cost more than the network itself on a
        128-px image."""
        hint = hint_channels_for(hint_colour, hint_mask, self.task_def) if self.hints else None
        return network_input(rgb, small_shape, self.multiple, self.task_def, hint)

    def _finish(self, output, lab, crop, rgb8, alpha8, saturation, fill, hinted, layers,
                plain=None, key=None):
        """Network output -> PIL image of the input's size, with its alpha (or `Layers`),
        put together a strip at a time from the input's own uint8 pixels. `plain()`: for
        region fill, the network's colour without the hints (None: there were none)."""
        output, lab = output[: crop[0], : crop[1]], lab[: crop[0], : crop[1]]
        shape = rgb8.shape[:2]
        if self.task_def.keeps_lightness:
            # Only the chroma comes from the network: it is upsampled and put back onto the
            # input's own full-resolution lightness.
            enlarge = Enlarger(output * (AB_SCALE * saturation), shape)

            def paint(rows):
                own = lightness(to_unit(rgb8[rows]))
                return None, lab_to_srgb8_keeping_lightness(own, enlarge(rows))
        elif fill == "regions":
            paint = self._region_fill.painter(
                self.fill_options, np.clip((output + 1.0) / 2.0, 0.0, 1.0), lab, rgb8, hinted,
                lambda palette: _saturate(palette, saturation), plain, key)
        else:
            colour = (output + 1.0) / 2.0
            if fill == "lines":  # the user's lines go on top, not the network's too
                colour = over_drawn_lines(np.clip(colour, 0.0, 1.0)).numpy()
            enlarge = Enlarger(colour, shape, "bicubic", antialias=True)

            def paint(rows):
                flats = to_uint8(_saturate(enlarge(rows), saturation))
                return flats, flats if fill == "none" else compose(flats, rgb8[rows])
        return _render(paint, rgb8, alpha8, layers)

    def _without_hints(self, network, crop):
        """The network's colour (RGB in [0, 1], cropped to the working size) for its input
        `network` with the hint channels zeroed: what it paints with no hints at all."""
        plain = np.array(network, np.float32)
        plain[..., plain.shape[-1] - self._hint_channels:] = 0.0
        output = self._run(tf.constant(plain[None]), tf.constant(False))[0][0].numpy()
        return np.clip((output[: crop[0], : crop[1]] + 1.0) / 2.0, 0.0, 1.0)

    def colorize(self, image, *, saturation=1.0, render_size=None, hints=None, hint_image=None,
                 fill=None, layers=False):
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
        return self.colorize_batch([image], 1, saturation=saturation, render_size=render_size,
                                   hints=[hints], hint_images=[hint_image], fill=fill,
                                   layers=layers)[0]

    def colorize_batch(self, images, batch_size=16, *, saturation=1.0, render_size=None,
                       hints=None, hint_images=None, fill=None, layers=False):
        """Colour many images; images that share a working shape run together in batches.
        `hints` and `hint_images`, when given, are lists with one entry per image. Images are
        read a chunk at a time (`batch_size` images, or fewer once they hold CHUNK_PIXELS), so
        a long list of large files never sits in memory at once."""
        fill = self._check_fill(fill, layers)
        hints = hints or [None] * len(images)
        hint_images = list(hint_images or [None] * len(images))
        if not len(hints) == len(hint_images) == len(images):
            raise ValueError("hints and hint_images need one entry per image")
        results, chunk, pixels = [], [], 0
        for i, image in enumerate(images):
            # A hint image file is read once here: region fill reads it again at full size.
            hint_images[i] = _opened(hint_images[i])
            chunk.append((i, self._prepare(image, render_size, hints[i], hint_images[i])))
            pixels += chunk[-1][1].rgb8.shape[0] * chunk[-1][1].rgb8.shape[1]
            if len(chunk) == batch_size or pixels >= CHUNK_PIXELS or i == len(images) - 1:
                indices, items = zip(*chunk)
                prepared = dict(zip(indices, self._network_inputs(items)))
                for item in prepared.values():
                    self._check_kind(item)
                results += self._colorize_chunk(prepared, saturation, hints, hint_images, fill,
                                                layers, batch_size)
                chunk, pixels = [], 0
        return results

    def _colorize_chunk(self, prepared, saturation, hints, hint_images, fill, layers,
                        batch_size):
        by_shape = {}
        for i, item in prepared.items():
            by_shape.setdefault(item.network.shape, []).append(i)
        want_lab = tf.constant(fill == "regions" and self.fill_options["aggregate"] == "mean")
        results = {}
        for indices in by_shape.values():
            for start in range(0, len(indices), batch_size):
                batch = np.stack([prepared[i].network for i in indices[start: start + batch_size]])
                outputs, labs = (t.numpy() for t in self._run(tf.constant(batch, tf.float32),
                                                              want_lab))

                def finish(i, output, lab):
                    item, plain = prepared[i], None
                    hinted = (hint_pixels(hints[i], hint_images[i], item.rgb8.shape[:2])
                              if fill == "regions" else (None, None, None))
                    if hinted[0] is not None and len(hinted[0]):
                        plain = functools.partial(self._without_hints, item.network,
                                                  item.small_shape)
                    results[i] = self._finish(output, lab, item.small_shape, item.rgb8,
                                              item.alpha8, saturation, fill, hinted, layers,
                                              plain, item.key)
                    prepared[i] = None  # its full-size pixels are no longer needed

                jobs = list(zip(indices[start: start + batch_size], outputs, labs))
                small = all(np.prod(prepared[i].rgb8.shape[:2]) <= PARALLEL_PIXELS
                            for i, _, _ in jobs)
                if small and len(jobs) > 1:  # numpy and SciPy let go of the GIL in their loops
                    list(_finishers().map(lambda job: finish(*job), jobs))
                else:  # one at a time: a large image's full-size work is not doubled
                    for job in jobs:
                        finish(*job)
        return [results[i] for i in sorted(results)]

    def _check_fill(self, fill, layers):
        fill = fill or self.fill
        if fill not in FILLS:
            raise ValueError(f"fill must be one of {FILLS}, got {fill!r}")
        if fill not in self.task_def.fills or layers and not self.task_def.line_art:
            raise ValueError(f"fill={fill!r} and layers are for line-art models; a "
                             f"{self.task!r} model keeps the input's own lightness already")
        return fill


def _outside_level():
    """The `stacklevel` of the first caller outside this package, for warnings: the user's
    line, whether they called `colorize` or `colorize_batch`."""
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level


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
    luma = rgb @ LUMA
    return np.clip(luma[..., None] + saturation * (rgb - luma[..., None]), 0.0, 1.0)


def _render(paint, rgb8, alpha8, layers):
    """Put the output together a strip at a time (`paint(rows)` -> (flats, composed) uint8)
    straight into PIL images: no full-size float copy is ever made."""
    height, width = rgb8.shape[:2]
    image = Image.new("RGB" if alpha8 is None else "RGBA", (width, height))
    flats = Image.new("RGB", (width, height)) if layers else None
    lines = Image.new("RGBA", (width, height)) if layers else None
    for rows in strips(height, width):
        flat, out = paint(rows)
        if alpha8 is not None:
            out = np.dstack([out, alpha8[rows]])
        image.paste(Image.fromarray(out), (0, rows.start))
        if layers:
            darkness = line_darkness(to_unit(rgb8[rows]))
            flats.paste(Image.fromarray(flat), (0, rows.start))
            lines.paste(Image.fromarray(line_layer(darkness)), (0, rows.start))
    return Layers(image, flats, lines) if layers else image
