"""Export a Colorizer for TensorFlow Serving (SavedModel) or ONNX.

The SavedModel has these signatures:

* `serving_default`: float32 `[batch, H, W, C]` in [-1, 1] -> float32 in [-1, 1], the raw
  network (what the article's client sent). Sketch models: RGB in, RGB out. Gray models:
  L / 50 - 1 in, ab / 128 out (see `pix2color.color`). Hint-aware models take the hint
  channels after those (the hint colour in the output's space and the mask, see
  `pix2color.hints`). H and W must be multiples of 2**depth (32 for the bundled models).
* `colorize_image`: a batch of encoded images (PNG, JPEG, GIF, BMP or WebP bytes, any size) ->
  PNG bytes of the same size, with decoding, resizing, the network, the full-resolution
  lightness of gray models, the input's own lines on top of line-art colour and encoding all
  inside the graph, so a REST client sends `{"instances": [{"b64": "..."}]}`.
* `colorize_hinted` (hint-aware models only): the same, plus `hint_bytes`, one RGBA PNG per
  image, of its size, whose pixels with alpha > 0 are colour hints (an empty string: none).

Both image signatures read the width and height from the encoded header first and refuse an
image over the Colorizer's `max_pixels`, or one whose size the header does not give, before
decoding it; the error names the image's place in the batch.

These run the very functions `Colorizer.colorize` runs (`pix2color.pipeline.network_input`,
`pix2color.hints.resample_hint_image`, and the fill's own `graph`), with a fill that declares
it runs in a graph (`pix2color.fills`): by default "lines" for line art. Region fill needs
connected components, which TensorFlow has no op for, so an export with it is refused.
What else differs from `Colorizer.colorize`: EXIF orientation is ignored, alpha is dropped
(the PNG is RGB), and the gray models' gamut fitting runs as TF ops rather than numpy tables
(within 1 level).
"""

import os
import shutil
from pathlib import Path

import tensorflow as tf

from .fills import graph_fill
from .pipeline import hint_channels_for, network_input, working_shape
from .decode import check_encoded_size, decode_rgb, encoded_size  # noqa: F401 (public)
from .files import is_disk_full
from .hints import resample_hint_image
from .resample import box_factor, box_shrink


class _Servable(tf.Module):
    def __init__(self, colorizer, fill):
        super().__init__()
        self.fill = fill
        self.model = colorizer.model
        self.max_pixels = colorizer.max_pixels
        self.task_def, self.size = colorizer.task_def, colorizer.size
        self.multiple = colorizer.multiple
        channels = int(self.model.input_shape[-1])
        self.hints = colorizer.hints
        self.serving_default = tf.function(
            self._network, input_signature=[tf.TensorSpec([None, None, None, channels],
                                                          tf.float32, name="images")])
        self.colorize_image = tf.function(
            self._colorize_encoded, input_signature=[tf.TensorSpec([None], tf.string,
                                                                   name="image_bytes")])
        self.colorize_hinted = tf.function(self._colorize_hinted, input_signature=[
            tf.TensorSpec([None], tf.string, name="image_bytes"),
            tf.TensorSpec([None], tf.string, name="hint_bytes")])

    def _network(self, images):
        return {"outputs": tf.cast(self.model(images, training=False), tf.float32)}

    def _colorize_encoded(self, image_bytes):
        return self._colorize_hinted(image_bytes, tf.fill(tf.shape(image_bytes), ""))

    def _colorize_hinted(self, image_bytes, hint_bytes):
        indices = tf.range(tf.size(image_bytes))   # to name the image an error is about
        png = tf.map_fn(lambda item: self._colorize_one(*item),
                        (image_bytes, hint_bytes, indices), fn_output_signature=tf.string)
        return {"png_bytes": png}

    def _hint(self, data, shape, small_shape):
        """The hint channels from an RGBA PNG (empty bytes: no hints) at the working size."""
        def from_image():
            rgba = tf.image.convert_image_dtype(tf.io.decode_png(data, channels=4), tf.float32)
            tf.debugging.assert_equal(tf.shape(rgba)[:2], shape,
                                      "the hint image must have the image's size")
            return resample_hint_image(rgba[..., :3], rgba[..., 3] > 0, small_shape)

        def nothing():
            return tf.zeros(tf.concat([small_shape, [3]], 0)), tf.zeros(small_shape, tf.bool)

        colour, mask = tf.cond(tf.strings.length(data) > 0, from_image, nothing)
        return hint_channels_for(colour, mask, self.task_def)

    def _colorize_one(self, data, hint_data, index):
        checks = check_encoded_size(data, self.max_pixels, ["image", index, "of the batch"])
        with tf.control_dependencies(checks):  # checked before decoding, naming the image
            rgb = decode_rgb(data, self.max_pixels)
        shape = tf.shape(rgb)[:2]
        small_shape = working_shape(shape, self.size)
        hint = self._hint(hint_data, shape, small_shape) if self.hints else None
        # as Colorizer does (line art keeps its thin lines: the darkest pixel of each block)
        shrunk = box_shrink(rgb, box_factor(shape, small_shape), self.task_def.line_art)
        padded = network_input(shrunk, small_shape, self.multiple, self.task_def, hint)
        output = self._network(padded[None])["outputs"][0, : small_shape[0], : small_shape[1]]
        colour = self.fill.graph(output, rgb)
        return tf.io.encode_png(tf.cast(tf.round(tf.clip_by_value(colour, 0.0, 1.0) * 255.0),
                                        tf.uint8))


def export_saved_model(colorizer, path, version=1, fill=None):
    """Write `path/<version>/` (TF Serving's layout) with both signatures, finishing with
    `fill` (a name; None: the first of the task's fills that runs in a graph, refused if it
    cannot); returns that folder.
    It is written beside, as `path/.<version>.tmp-PID`, and renamed into place when whole,
    so TF Serving never sees half an export, and a failed one leaves nothing behind."""
    fill = graph_fill(colorizer.task_def, fill)
    target = Path(path) / str(int(version))
    if target.exists() and any(target.iterdir()):
        raise FileExistsError(f"{target} already holds an export; pick another --version")
    servable = _Servable(colorizer, fill)
    signatures = {"serving_default": servable.serving_default,
                  "colorize_image": servable.colorize_image}
    if colorizer.hints:
        signatures["colorize_hinted"] = servable.colorize_hinted
    partial = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        tf.saved_model.save(servable, str(partial), signatures=signatures)
        if target.exists():
            target.rmdir()   # empty, checked above
        partial.rename(target)
    except (tf.errors.OpError, OSError) as error:
        if not is_disk_full(error):
            raise
        raise OSError(f"no space left on device writing the export {target}; nothing was "
                      f"left there") from None
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return target


def export_onnx(colorizer, path):
    """The raw network (as `serving_default`) as an ONNX file, through Keras's own exporter
    (needs `pip install pix2color[onnx]`)."""
    path = Path(path)
    if path.suffix != ".onnx":
        path = path / "model.onnx"
    path.parent.mkdir(parents=True, exist_ok=True)
    model = colorizer.model
    channels = int(model.input_shape[-1])
    model(tf.zeros([1, colorizer.multiple, colorizer.multiple, channels]))  # Keras needs a call
    partial = path.with_name(f".{path.name}.tmp-{os.getpid()}.onnx")  # renamed when whole
    try:
        model.export(str(partial), format="onnx", verbose=False, input_signature=[
            tf.TensorSpec([None, None, None, channels], tf.float32, name="images")])
        os.replace(partial, path)
    except ImportError as error:
        raise ImportError(f"ONNX export needs its optional packages: pip install "
                          f"pix2color[onnx] ({error})") from None
    except OSError as error:
        if not is_disk_full(error):
            raise
        raise OSError(f"no space left on device writing {path}") from None
    finally:
        partial.unlink(missing_ok=True)
    return path
