"""Inference: `Colorizer.load().colorize(img)` on images of any size and mode.

How sizes are handled: a model is trained at one size (128 for the bundled ones), and the
scale of its strokes is what it learned. So an input is resized, keeping its aspect ratio,
until its longer side equals that size (or `render_size`), padded (with white) to a multiple
of 2**depth so the fully convolutional network can run on it, and the result is cropped and
resized back to the input's own size. Nothing is squashed into a square.

A `gray` model predicts only chroma: its ab is upsampled and put back onto the input's own
full-resolution L, so a large scan keeps every detail of its lightness.

A hint-aware model (the bundled "sketch-hints") also takes colour hints, in the input's own
pixel coordinates, put onto the working size without blurring (see `pix2color.hints`).
"""

import numpy as np
import tensorflow as tf
from PIL import Image

from .color import (AB_SCALE, lab_to_network, lab_to_srgb8_keeping_lightness, lightness,
                    rgb_to_lab)
from .files import ImageReadError, open_image, read_image  # noqa: F401  (also public here)
from .hints import rasterize_hints
from .models import load_generator, model_path, save_generator


class Colorizer:
    """A trained generator plus what is needed to use it on real images."""

    def __init__(self, model, info):
        self.model = model
        self.info = info
        self.task = info["task"]                 # "sketch" (line art) or "gray" (photos)
        self.size = int(info["size"])            # the training size (longer side at inference)
        self.colour_space = info.get("colour_space", "rgb")
        self.hints = bool(info.get("hints"))     # takes colour hints (see pix2color.hints)
        args = info["generator"]["args"]
        self.multiple = 2 ** args.get("depth", 3)
        channels = int(model.input_shape[-1])
        self._run = tf.function(lambda x: model(x, training=False), input_signature=[
            tf.TensorSpec([None, None, None, channels], tf.float32)])

    @classmethod
    def load(cls, model=None):
        """Load a bundled model (`None` or "sketch": line art; "gray": grayscale photos;
        "sketch-hints": line art with colour hints) or a model folder saved by training or
        by `Colorizer.save`."""
        return cls(*load_generator(model_path(model)))

    def save(self, path, weights_dtype="float32"):
        """Write this model as a folder `Colorizer.load(path)` turns back into it."""
        spec = self.info["generator"]
        info = {k: v for k, v in self.info.items() if k not in ("generator", "format")}
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
        scale = (render_size or self.size) / max(height, width)
        return max(1, round(height * scale)), max(1, round(width * scale))

    def _prepare(self, image, render_size, hints=None, hint_image=None):
        rgb, alpha = read_image(image)
        h, w = self.working_shape(*rgb.shape[:2], render_size)
        small = tf.image.resize(rgb, (h, w), antialias=True)
        if self.task == "gray":
            network_input = lab_to_network(rgb_to_lab(small))[0].numpy()  # L, scaled
        else:
            network_input = small.numpy() * 2.0 - 1.0
        pad = ((0, -h % self.multiple), (0, -w % self.multiple), (0, 0))
        network_input = np.pad(network_input, pad, constant_values=1.0)  # white margins
        if self.hints:
            hint = self._hint_channels(hints, hint_image, rgb.shape[:2], (h, w))
            network_input = np.concatenate([network_input, np.pad(hint, pad)], axis=-1)
        elif hints or hint_image is not None:
            raise ValueError("this model was not trained with colour hints: use a hint-aware "
                             "model such as Colorizer.load('sketch-hints')")
        return network_input, (h, w), rgb, alpha

    def _hint_channels(self, hints, hint_image, image_shape, working_shape):
        """Hints -> the model's hint channels at the working size: the colour in the space of
        its output (RGB in [-1, 1], or ab / 128), zero where nothing is hinted, and the mask."""
        rgb, mask = rasterize_hints(hints, hint_image, image_shape, working_shape)
        if self.task == "gray":
            colour = lab_to_network(rgb_to_lab(rgb))[1].numpy()
        else:
            colour = rgb * 2.0 - 1.0
        mask = mask[..., None].astype(np.float32)
        return np.concatenate([colour * mask, mask], axis=-1)

    def _finish(self, output, crop, rgb, alpha, saturation):
        """Network output -> PIL image of the input's size, with its alpha."""
        output = output[: crop[0], : crop[1]]
        if self.task == "gray":
            # Only the chroma comes from the network: it is upsampled and put back onto the
            # input's own full-resolution lightness.
            ab = tf.image.resize(output * (AB_SCALE * saturation), rgb.shape[:2]).numpy()
            rgb8 = lab_to_srgb8_keeping_lightness(lightness(rgb), ab)
        else:
            rgb = tf.image.resize((output + 1.0) / 2.0, rgb.shape[:2], method="bicubic",
                                  antialias=True).numpy()
            if saturation != 1.0:
                luma = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
                rgb = luma[..., None] + saturation * (rgb - luma[..., None])
            rgb8 = np.round(np.clip(rgb, 0.0, 1.0) * 255.0).astype(np.uint8)
        if alpha is None:
            return Image.fromarray(rgb8, "RGB")
        alpha8 = np.round(alpha * 255.0).astype(np.uint8)[..., None]
        return Image.fromarray(np.concatenate([rgb8, alpha8], axis=-1), "RGBA")

    def colorize(self, image, saturation=1.0, render_size=None, hints=None, hint_image=None):
        """Colour one image; returns a PIL image of the input's own size (RGB, or RGBA when
        the input had alpha, which is kept). `saturation` scales the output's chroma;
        `render_size` sets the longer side the network sees (default: its training size).

        Hint-aware models take `hints=[(x, y, "#ff0000"), ...]` (x, y in the input's pixels;
        a colour as #rrggbb, a name or an (r, g, b)) and/or `hint_image`: an RGBA image of
        the input's size whose pixels with alpha > 0 are hints (strokes)."""
        return self.colorize_batch([image], 1, saturation, render_size, [hints],
                                   [hint_image])[0]

    def colorize_batch(self, images, batch_size=16, saturation=1.0, render_size=None,
                       hints=None, hint_images=None):
        """Colour many images; images that share a working shape run together in batches.
        `hints` and `hint_images`, when given, are lists with one entry per image."""
        hints = hints or [None] * len(images)
        hint_images = hint_images or [None] * len(images)
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
                outputs = self._run(tf.constant(batch, tf.float32)).numpy()
                for i, output in zip(chunk, outputs):
                    results[i] = self._finish(output, *prepared[i][1:], saturation)
        return results
