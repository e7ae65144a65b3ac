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

`Colorizer` is a thin façade over four stages, each public so they can be used (and tested)
alone: `read` (an image -> `Picture`), `prepare` (pictures -> `Prepared`, with the network's
padded input), `network` (a batch of inputs -> outputs) and `finish` (an output -> the
picture, by a `pix2color.fills.Fill`). `colorize_batch` strings them together under the
memory bounds of `pix2color.batching`.
"""

import functools
from pathlib import Path

import numpy as np
import tensorflow as tf

from .batching import Batching
from .color import rgb_to_lab
from .files import (LUMA, MAX_PIXELS, ImageReadError, InputWarning,  # noqa: F401  (public)
                    open_image, read_rgb8)
from .fills import Finishing, Fill, fill_for, render
from .flats import Kept, drawing_key
from .hints import HintImage, hint_channels, point_mask, rasterize_hints
from .input_kind import suitability, warn_if_unsuited
from .modelfile import average_generators, load_generator, model_path, save_generator
from .pictures import Picture, Prepared
from .pipeline import (hint_channels_for, hints_off_lines, input_multiple, network_input,
                       working_shape)
from .resample import box_factor, box_shrink8


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
        # The default fill (a name in pix2color.fills) and the settings of the fills that
        # have any ({name: a frozen settings object}, e.g. "regions": RegionSettings).
        self.fill = info.fill
        self.fill_settings = dict(info.fill_settings)
        self.batching = Batching()               # colorize_batch's memory bounds
        self._kept = Kept()                  # recent drawings' network inputs and regions
        self.max_pixels = MAX_PIXELS  # larger inputs are refused, from their header
        self.multiple = input_multiple(model)    # its input's sides are multiples of this
        channels = int(model.input_shape[-1])
        self._hint_channels = hint_channels(int(model.output_shape[-1])) if self.hints else 0
        self._input = tf.function(self._graph_input, input_signature=[
            tf.TensorSpec([None, None, None, 3], tf.float32),
            tf.TensorSpec([None, None, None, 3], tf.float32),
            tf.TensorSpec([None, None, None], tf.bool), tf.TensorSpec([None, None, None], tf.bool),
            tf.TensorSpec([2], tf.int32)])
        self._hint_input = tf.function(  # a drawing coloured again: its hint channels only
            self._graph_hints, input_signature=[
                tf.TensorSpec([None, None, 3], tf.float32), tf.TensorSpec([None, None], tf.bool),
                tf.TensorSpec([None, None], tf.bool), tf.TensorSpec([None, None, None], tf.float32)])
        self._compiled = tf.function(self._network, input_signature=[
            tf.TensorSpec([None, None, None, channels], tf.float32), tf.TensorSpec([], tf.bool)])

    def _network(self, batch, lab):
        """The network's output and, when asked, its colour in CIE Lab, in one call: many
        small eager ops would cost more than the network at 128 px."""
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
        `self.fill` as its default fill and `self.fill_settings`)."""
        spec = self.info.generator
        info = {k: v for k, v in self.info.to_json().items() if k in (
            "task", "size", "hints", "colour_space", "training")}
        info.update(fill=self.fill, fill_settings=self.fill_settings)  # they travel with it
        return save_generator(path, self.model, spec["kind"], spec["args"], info, weights_dtype)

    def export(self, path, version=1, format="saved_model", fill=None):
        """Export for serving: a SavedModel in TF Serving's layout (`path/<version>/`, with
        `serving_default` and `colorize_image` signatures) finishing pictures with `fill`
        (one that runs in a graph; default: "lines" for line art) or, with `format="onnx"`,
        an ONNX file of the network. See `pix2color.export`."""
        from .export import export_onnx, export_saved_model

        if format == "onnx":
            return export_onnx(self, path)
        if format != "saved_model":
            raise ValueError(f"format must be 'saved_model' or 'onnx', got {format!r}")
        return export_saved_model(self, path, version, fill)

    def __repr__(self):
        return (f"Colorizer(task={self.task!r}, size={self.size}, colour_space="
                f"{self.colour_space!r}, hints={self.hints}, "
                f"parameters={self.model.count_params():,})")

    # --- the stages ---------------------------------------------------------------------

    def working_shape(self, height, width, render_size=None):
        """The (h, w) the network sees before padding: longer side = `render_size` (default:
        the training size), aspect ratio kept."""
        return working_shape((int(height), int(width)), int(render_size or self.size))

    def read(self, image, render_size=None, hints=None, hint_image=None):
        """Read an image (and its hints, see `colorize`) -> `Picture`."""
        rgb8, alpha8 = read_rgb8(image, max_pixels=self.max_pixels)
        shape = rgb8.shape[:2]
        small_shape = self.working_shape(*shape, render_size)
        colour, mask = np.zeros((1, 1, 3), np.float32), np.zeros((1, 1), bool)
        pinned = mask
        if self.hints:
            if hint_image is not None:
                hint_image = HintImage.read(hint_image, shape)  # once, for both uses
                if self.task_def.line_art:
                    hint_image = hint_image.without_line_strokes(rgb8)
            colour, mask = rasterize_hints(hints, hint_image, shape, small_shape)
            pinned = point_mask(hints, shape, small_shape)
        elif hints or hint_image is not None:
            raise ValueError("this model was not trained with colour hints: use a hint-aware "
                             "model such as Colorizer.load('sketch')")
        return Picture(image, rgb8, alpha8, small_shape, drawing_key(rgb8),
                       box_factor(shape, small_shape), colour, mask, hints, hint_image, pinned)

    def prepare(self, items):
        """`Picture`s -> `Prepared`s, in order (a `Prepared` passes as it is). Pictures
        alike in shape go through the graph input together: at 128 px a call costs more
        than its work. A drawing coloured again (new hints) reuses the image channels of
        its input, kept from the first time: only its hint channels are new."""
        items = list(items)
        pending = []
        for i, item in enumerate(items):
            if isinstance(item, Picture):
                kept = self._kept.find(self._input_key(item))
                if kept is None:
                    pending.append(i)
                else:
                    items[i] = Prepared(item, self._with_hints(kept[0], item))
        for group in Batching.alike(pending, lambda i: (
                items[i].shrunk_shape, items[i].small_shape, items[i].colour.shape),
                max(1, len(pending))):
            pictures = [items[pending[g]] for g in group]
            padded = self._input(np.stack([box_shrink8(p.rgb8, p.factor, self.task_def.line_art)
                                           for p in pictures]),
                                 np.stack([p.colour for p in pictures]),
                                 np.stack([p.mask for p in pictures]),
                                 np.stack([p.pinned for p in pictures]),
                                 np.asarray(pictures[0].small_shape, np.int32)).numpy()
            for g, picture, network in zip(group, pictures, padded):
                items[pending[g]] = Prepared(picture, network)
                image = np.array(network[..., :network.shape[-1] - self._hint_channels])
                image.flags.writeable = False   # kept with what is found from it later
                self._kept.put(self._input_key(picture), picture.pixels, (image, {}))
        return items

    @staticmethod
    def _input_key(picture):
        return picture.key, "input", picture.small_shape, picture.factor

    def _drawn(self, picture, name, make):
        """`make()`, kept under `name` with the drawing's network input (see `prepare`):
        what depends on the drawing alone, found once however often it is coloured."""
        kept = self._kept.find(self._input_key(picture))
        if kept is None:     # a drawing too large to keep, or no longer kept
            return make()
        if name not in kept[1]:
            kept[1][name] = make()
        return kept[1][name]

    def _with_hints(self, image, picture):
        """A drawing's kept network input channels (padded) with a picture's hint channels
        after them (padded with zeros, as `network_input` does)."""
        if not self.hints:
            return image
        hint = self._hint_input(picture.colour, picture.mask, picture.pinned, image).numpy()
        network = np.zeros(image.shape[:2] + (image.shape[-1] + hint.shape[-1],), np.float32)
        network[..., : image.shape[-1]] = image
        network[: hint.shape[0], : hint.shape[1], image.shape[-1]:] = hint
        return network

    def _graph_hints(self, colour, mask, pinned, image):
        """The hint channels for a drawing's kept network `image` (padded), as `network_input`
        makes them."""
        image = image[: tf.shape(mask)[0], : tf.shape(mask)[1]]
        return hints_off_lines(hint_channels_for(colour, mask, self.task_def), image,
                               self.task_def, pinned)

    def _graph_input(self, rgb, hint_colour, hint_mask, pinned, small_shape):
        """`network_input` (and the hint channels) of a batch of images alike in shape, as
        one compiled call: as separate eager ops they cost more than the network itself on a
        128-px image."""
        hint = hint_channels_for(hint_colour, hint_mask, self.task_def) if self.hints else None
        return network_input(rgb, small_shape, self.multiple, self.task_def, hint, pinned)

    def network(self, batch, lab=False):
        """A batch of network inputs (N, H, W, C) -> (outputs, their colour in CIE Lab, or
        None unless `lab`), numpy."""
        outputs, labs = self._compiled(tf.constant(batch, tf.float32), tf.constant(bool(lab)))
        return outputs.numpy(), labs.numpy() if lab else None

    def finish(self, prepared, output, lab=None, *, fill=None, saturation=1.0, layers=False):
        """The network's `output` for a `Prepared` (and its `lab`, if the fill wants it) ->
        PIL image of the input's size, with its alpha (or `Layers`), put together a strip at
        a time from the input's own uint8 pixels. `fill`: a name or a `Fill`."""
        fill = self._fill(fill, layers)
        picture, (height, width) = prepared.picture, prepared.picture.small_shape
        job = Finishing(output[:height, :width], None if lab is None else lab[:height, :width],
                        picture.rgb8, saturation, self.fill_settings.get(fill.name),
                        picture.hints, picture.hint_image,
                        functools.partial(self._without_hints, prepared), picture.key,
                        self._kept)
        return render(fill.painter(job), picture.rgb8, picture.alpha8, layers)

    def _without_hints(self, prepared):
        """The network's colour (RGB in [0, 1], cropped to the working size) for a picture
        with the hint channels of its input zeroed: what it paints with no hints at all.
        It depends on the drawing alone, so it is kept with it."""
        def run():
            plain = np.array(prepared.network, np.float32)
            plain[..., plain.shape[-1] - self._hint_channels:] = 0.0
            output = self.network(plain[None])[0][0]
            height, width = prepared.picture.small_shape
            colour = np.clip((output[:height, :width] + 1.0) / 2.0, 0.0, 1.0)
            colour.flags.writeable = False
            return colour

        return self._drawn(prepared.picture, "without hints", run)

    def _fill(self, fill, layers):
        """A fill's name (None: this model's default) or a `Fill` -> the `Fill`, checked."""
        if not isinstance(fill, Fill):
            fill = fill_for(self.task_def, fill or self.fill)
        elif not fill.suits(self.task_def):
            raise ValueError(f"{fill!r} is not for a {self.task!r} model")
        if layers and not fill.gives_layers:
            raise ValueError(f"layers need flats (the colour under the lines), which "
                             f"line-art models' fills give; fill={fill.name!r} of a "
                             f"{self.task!r} model has none")
        return fill

    def _warn_if_unsuited(self, prepared):
        """Warn (InputWarning) when the input looks wrong for this model (found once a
        drawing, kept with it)."""
        (height, width), network = prepared.picture.small_shape, prepared.network
        suited = self._drawn(prepared.picture, "looks", lambda: suitability(
            self.task_def, network[:height, :width]))
        warn_if_unsuited(self.task_def, suited, prepared.picture.source)

    # --- the façade ---------------------------------------------------------------------

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
        read a chunk at a time (`batch_size` images, or fewer once they hold
        `self.batching.chunk_pixels`), so a long list of large files never sits in memory
        at once."""
        fill = self._fill(fill, layers)
        hints = hints or [None] * len(images)
        hint_images = hint_images or [None] * len(images)
        if not len(hints) == len(hint_images) == len(images):
            raise ValueError("hints and hint_images need one entry per image")
        # A hint image file is read once here: region fill reads it again at full size.
        requests = ((image, render_size, hint, _opened(hint_image))
                    for image, hint, hint_image in zip(images, hints, hint_images))
        results = []
        for chunk in self.batching.chunks(requests, batch_size, lambda r: self.read(*r),
                                          self.prepare):
            for prepared in chunk:
                self._warn_if_unsuited(prepared)
            results += self._colorize_chunk(chunk, fill, saturation, layers, batch_size)
        return results

    def _colorize_chunk(self, chunk, fill, saturation, layers, batch_size):
        """Run the network on a chunk of `Prepared`s, batches alike in shape, and finish
        each (its place in `chunk` let go as soon as it is done)."""
        results = [None] * len(chunk)
        lab = fill.wants_lab(self.fill_settings.get(fill.name))
        for indices in self.batching.alike(chunk, lambda item: item.network.shape, batch_size):
            outputs, labs = self.network(np.stack([chunk[i].network for i in indices]), lab)

            def finish(job):
                i, output, lab = job
                results[i] = self.finish(chunk[i], output, lab, fill=fill,
                                         saturation=saturation, layers=layers)
                chunk[i] = None  # its full-size pixels are no longer needed

            jobs = list(zip(indices, outputs, [None] * len(indices) if labs is None else labs))
            self.batching.finish_all(jobs, finish, lambda job: chunk[job[0]].picture.pixels)
        return results


def _opened(hint_image):
    """A hint image given as a path -> the PIL image (named after its file), else as given."""
    if not isinstance(hint_image, (str, Path)):
        return hint_image
    image = open_image(hint_image)
    image.filename = str(hint_image)  # so errors about it still name the file
    return image
