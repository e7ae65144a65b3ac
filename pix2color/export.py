"""Export a Colorizer for TensorFlow Serving (SavedModel) or ONNX.

The SavedModel has two signatures:

* `serving_default`: float32 `[batch, H, W, C]` in [-1, 1] -> float32 in [-1, 1], the raw
  network (what the article's client sent). Sketch models: RGB in, RGB out. Gray models:
  L / 50 - 1 in, ab / 128 out (see `pix2color.color`). Hint-aware models take the hint
  channels after those (the hint colour in the output's space and the mask, see
  `pix2color.hints`). H and W must be multiples of 2**depth (32 for the bundled models).
* `colorize_image`: a batch of encoded images (PNG, JPEG, GIF or BMP bytes, any size) ->
  PNG bytes of the same size, with decoding, resizing, the network, the full-resolution
  lightness of gray models and encoding all inside the graph, so a REST client sends
  `{"instances": [{"b64": "..."}]}`. It does what `Colorizer.colorize` does, except that it
  ignores EXIF orientation and drops alpha (the PNG is RGB). It gives hint-aware models no
  hints; send hints through `serving_default`.
"""

from pathlib import Path

import tensorflow as tf

from .color import AB_SCALE, lab_to_network, lab_to_rgb_keeping_lightness, rgb_to_lab
from .data import decode_rgb
from .models import task_channels


class _Servable(tf.Module):
    def __init__(self, colorizer):
        super().__init__()
        self.model = colorizer.model
        self.task, self.size, self.multiple = colorizer.task, colorizer.size, colorizer.multiple
        channels = int(self.model.input_shape[-1])
        self.hint_channels = channels - task_channels(self.task)[0]
        self.serving_default = tf.function(
            self._network, input_signature=[tf.TensorSpec([None, None, None, channels],
                                                          tf.float32, name="images")])
        self.colorize_image = tf.function(
            self._colorize_encoded, input_signature=[tf.TensorSpec([None], tf.string,
                                                                   name="image_bytes")])

    def _network(self, images):
        return {"outputs": tf.cast(self.model(images, training=False), tf.float32)}

    def _colorize_encoded(self, image_bytes):
        png = tf.map_fn(self._colorize_one, image_bytes, fn_output_signature=tf.string)
        return {"png_bytes": png}

    def _colorize_one(self, data):
        rgb = decode_rgb(data)
        shape = tf.shape(rgb)[:2]
        scale = self.size / tf.cast(tf.reduce_max(shape), tf.float32)
        small_shape = tf.maximum(1, tf.cast(tf.round(tf.cast(shape, tf.float32) * scale),
                                            tf.int32))
        small = tf.image.resize(rgb, small_shape, antialias=True)
        if self.task == "gray":
            network_input = lab_to_network(rgb_to_lab(small))[0]
        else:
            network_input = small * 2.0 - 1.0
        padding = (-small_shape) % self.multiple
        padded = tf.pad(network_input, [[0, padding[0]], [0, padding[1]], [0, 0]],
                        constant_values=1.0)
        if self.hint_channels:  # a hint-aware model given no hints
            padded = tf.pad(padded, [[0, 0], [0, 0], [0, self.hint_channels]])
        output = self._network(padded[None])["outputs"][0, : small_shape[0], : small_shape[1]]
        if self.task == "gray":
            ab = tf.image.resize(output * AB_SCALE, shape)
            lab = tf.concat([rgb_to_lab(rgb)[..., :1], ab], axis=-1)
            colour = lab_to_rgb_keeping_lightness(lab)
        else:
            colour = tf.image.resize((output + 1.0) / 2.0, shape, method="bicubic",
                                     antialias=True)
        return tf.io.encode_png(tf.cast(tf.round(tf.clip_by_value(colour, 0.0, 1.0) * 255.0),
                                        tf.uint8))


def export_saved_model(colorizer, path, version=1):
    """Write `path/<version>/` (TF Serving's layout) with both signatures; returns that folder."""
    target = Path(path) / str(int(version))
    if target.exists() and any(target.iterdir()):
        raise FileExistsError(f"{target} already holds an export; pick another --version")
    servable = _Servable(colorizer)
    tf.saved_model.save(servable, str(target), signatures={
        "serving_default": servable.serving_default,
        "colorize_image": servable.colorize_image})
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
    try:
        model.export(str(path), format="onnx", verbose=False, input_signature=[
            tf.TensorSpec([None, None, None, channels], tf.float32, name="images")])
    except ImportError as error:
        raise ImportError(f"ONNX export needs its optional packages: pip install "
                          f"pix2color[onnx] ({error})") from None
    return path
