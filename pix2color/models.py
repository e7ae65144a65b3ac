"""Model builders: the article's U-Net generator, the grayscale post's Lab baseline, a PatchGAN.

Every builder returns a functional `keras.Model`. `dtype` is a Keras dtype policy name
("float32", "mixed_bfloat16", "mixed_float16") applied layer by layer, so a mixed-precision
model can be built without touching Keras's global policy; outputs are always float32.
"""

import colorsys
import inspect

import keras
import numpy as np
import tensorflow as tf

from .config import GENERATORS, NORMS, UPSAMPLINGS
from .metrics import HUE_SECTORS


def _norm(kind, dtype, name):
    if kind == "batch":
        # Built under a strategy with several replicas (tf.distribute), the statistics are
        # taken over the global batch, so N devices train like one device with N times the
        # batch; per-replica statistics would make multi-GPU pix2pix train differently.
        synchronized = tf.distribute.get_strategy().num_replicas_in_sync > 1
        return keras.layers.BatchNormalization(momentum=0.9, synchronized=synchronized,
                                               dtype=dtype, name=name)
    if kind == "instance":
        # Instance normalization, the Keras 3 replacement for tensorflow-addons' layer.
        return keras.layers.GroupNormalization(groups=-1, dtype=dtype, name=name)
    if kind == "none":
        return keras.layers.Identity(dtype=dtype, name=name)
    raise ValueError(f"norm must be one of {NORMS}, got {kind!r}")


def _up(filters, upsample, dtype, name, activation=None, initializer="glorot_uniform"):
    """A x2 upsampling convolution: the article's transposed conv, or resize-then-conv."""
    if upsample == "transpose":
        return [keras.layers.Conv2DTranspose(filters, 5, strides=2, padding="same",
                                             activation=activation, dtype=dtype, name=name,
                                             kernel_initializer=initializer)]
    if upsample == "resize":
        # Resize-then-conv avoids the checkerboard a stride-2 transposed conv leaves in flat fills.
        return [keras.layers.UpSampling2D(2, interpolation="bilinear", dtype=dtype,
                                          name=f"{name}_resize"),
                keras.layers.Conv2D(filters, 5, padding="same", activation=activation,
                                    dtype=dtype, name=name, kernel_initializer=initializer)]
    raise ValueError(f"upsample must be one of {UPSAMPLINGS}, got {upsample!r}")


def unet(size=128, in_channels=3, out_channels=3, width=64, depth=5, norm="batch",
         upsample="transpose", dropout=0.0, hue_head=False, dtype="float32", name="unet"):
    """The sketch-painting article's U-Net generator.

    The defaults build it exactly: five 5x5 stride-2 conv blocks (LeakyReLU 0.2, BatchNorm
    momentum 0.9), a transposed-conv decoder whose skips are *added*, tanh out; 21,730,307
    parameters. `size=None` gives a model that runs at any size divisible by 2**depth.
    `hue_head` (RGB out only) adds a second head beside the last one, `hue_logits`: a class
    per hue sector and one for neutrals, whose hue `HueDecode` puts on the colour (the
    model's output is still one RGB image); it learns through that and, with
    `TrainConfig.hue_loss`, from its own cross-entropy.
    """
    if size is not None and size % 2**depth:
        raise ValueError(f"size {size} is not divisible by 2**depth = {2**depth}")
    filters = [width * min(2**i, 8) for i in range(depth)]  # 64, 128, 256, 512, 512

    inputs = keras.Input((size, size, in_channels), name="input")
    # e1: plain conv, no norm.                                  (batch, 64, 64, 64)
    x = keras.layers.Conv2D(filters[0], 5, strides=2, padding="same", dtype=dtype, name="e1")(inputs)
    skips = [x]
    # e2..e5: LeakyReLU -> conv -> norm.              (batch, 32, 32, 128) ... (batch, 4, 4, 512)
    for i, f in enumerate(filters[1:], start=2):
        x = keras.layers.LeakyReLU(0.2, dtype=dtype, name=f"e{i}_lrelu")(x)
        x = keras.layers.Conv2D(f, 5, strides=2, padding="same", dtype=dtype, name=f"e{i}")(x)
        x = _norm(norm, dtype, f"e{i}_norm")(x)
        skips.append(x)

    # d4..d1: upsample (relu) -> norm -> [dropout] -> add the encoder block of the same size.
    #                                              (batch, 8, 8, 512) ... (batch, 64, 64, 64)
    for level in range(depth - 1, 0, -1):
        f = filters[level - 1]
        for layer in _up(f, upsample, dtype, f"d{level}", activation="relu"):
            x = layer(x)
        x = _norm(norm, dtype, f"d{level}_norm")(x)
        if dropout and level >= depth - 3:  # pix2pix puts dropout in the innermost three
            x = keras.layers.Dropout(dropout, dtype=dtype, name=f"d{level}_dropout")(x)
        x = keras.layers.Add(dtype=dtype, name=f"d{level}_skip")([x, skips[level - 1]])

    # out: back to full size.                                  (batch, 128, 128, out_channels)
    features = x
    for layer in _up(out_channels, upsample, dtype, "out"):
        x = layer(x)
    outputs = keras.layers.Activation("tanh", dtype="float32", name="out_tanh")(x)
    if hue_head:
        if out_channels != 3:
            raise ValueError(f"hue_head needs RGB out (3 channels), got {out_channels}")
        # Starts at zero: every class equally likely, so the decode keeps the colour as is.
        logits = features
        for layer in _up(1 + HUE_SECTORS, upsample, dtype, "hue_logits", initializer="zeros"):
            logits = layer(logits)
        outputs = HueDecode(dtype="float32", name="out_hue")([outputs, logits])
    return keras.Model(inputs, outputs, name=name)


@keras.saving.register_keras_serializable(package="pix2color")
class HueDecode(keras.layers.Layer):
    """An RGB colour in [-1, 1] given the hue its hue head chose: Zhang, Isola & Efros
    (2016)'s annealed mean (softmax at `temperature`), over the hue sectors of
    `pix2color.metrics` instead of their ab bins (its classes: `metrics.hue_classes`). The
    colour keeps its grey level and its chroma (its distance from the grey axis); its
    direction across that axis becomes the mean of the sector centres' directions weighed
    by the classes' annealed probabilities, the neutral class voting for the colour's own
    direction. A regression head unsure between hues paints their mean, a dull orange; a
    class head picks one (where its votes cancel, two opposite hues equally likely, the
    colour fades to grey)."""

    def __init__(self, temperature=0.38, **kwargs):
        super().__init__(**kwargs)
        if not temperature > 0:
            raise ValueError(f"temperature must be above 0, got {temperature!r}")
        self.temperature = temperature
        centres = np.array([colorsys.hsv_to_rgb(k / HUE_SECTORS, 1.0, 1.0)
                            for k in range(HUE_SECTORS)], np.float32)
        centres -= centres.mean(axis=1, keepdims=True)
        self._directions = centres / np.linalg.norm(centres, axis=1, keepdims=True)

    def call(self, inputs):
        ops = keras.ops
        rgb, logits = inputs
        rgb = (rgb + 1.0) / 2.0
        grey = ops.mean(rgb, axis=-1, keepdims=True)
        across = rgb - grey
        chroma = ops.sqrt(ops.sum(ops.square(across), axis=-1, keepdims=True) + 1e-8)
        chances = ops.softmax(ops.cast(logits, "float32") / self.temperature, axis=-1)
        direction = ops.matmul(chances[..., 1:], ops.convert_to_tensor(self._directions)) + \
            chances[..., :1] * across / chroma
        direction = direction / ops.maximum(
            ops.sqrt(ops.sum(ops.square(direction), axis=-1, keepdims=True)), 1e-3)
        return ops.clip(grey + chroma * direction, 0.0, 1.0) * 2.0 - 1.0

    def compute_output_shape(self, input_shapes):
        return input_shapes[0]

    def get_config(self):
        return {**super().get_config(), "temperature": self.temperature}


def simple_lab(size=None, raw_l=True, dtype="float32", name="simple_lab"):
    """The grayscale post's encoder-decoder: L in, ab / 128 out, no skips, 3x3 relu convs.

    The pipeline scales L to [-1, 1]; with `raw_l` the first layer maps it back to 0..100,
    the unscaled L the post fed its network.
    """
    def conv(filters, strides=1, activation="relu", layer_name=None):
        return keras.layers.Conv2D(filters, 3, strides=strides, padding="same",
                                   activation=activation, dtype=dtype, name=layer_name)

    inputs = keras.Input((size, size, 1), name="input")
    x = inputs
    if raw_l:
        x = keras.layers.Rescaling(50.0, offset=50.0, dtype=dtype, name="raw_l")(x)
    x = conv(8, 2, layer_name="conv1")(x)                       # (batch, H/2, W/2, 8)
    x = conv(8, layer_name="conv2")(x)
    x = conv(16, layer_name="conv3")(x)
    x = conv(16, 2, layer_name="conv4")(x)                      # (batch, H/4, W/4, 16)
    x = conv(32, layer_name="conv5")(x)
    x = conv(32, 2, layer_name="conv6")(x)                      # (batch, H/8, W/8, 32)
    for i, filters in enumerate((32, 16), start=1):
        x = keras.layers.UpSampling2D(2, dtype=dtype, name=f"up{i}")(x)
        x = conv(filters, layer_name=f"upconv{i}")(x)           # (batch, H/4 then H/2, ...)
    x = keras.layers.UpSampling2D(2, dtype=dtype, name="up3")(x)
    x = conv(2, activation=None, layer_name="upconv3")(x)       # (batch, H, W, 2)
    outputs = keras.layers.Activation("tanh", dtype="float32", name="out_tanh")(x)
    return keras.Model(inputs, outputs, name=name)


def patchgan(in_channels=3, out_channels=3, width=64, n_layers=3, norm="batch",
             dtype="float32", name="patchgan"):
    """Conditional PatchGAN: judges (condition, image) pairs patch by patch, logits out.

    `n_layers=3` gives pix2pix's 70x70 receptive field (4x4 kernels, three stride-2 convs,
    then two stride-1 convs).
    """
    condition = keras.Input((None, None, in_channels), name="condition")
    image = keras.Input((None, None, out_channels), name="image")
    x = keras.layers.Concatenate(dtype=dtype, name="pair")([condition, image])
    for i in range(n_layers + 1):
        filters = width * min(2**i, 8)
        strides = 2 if i < n_layers else 1
        x = keras.layers.Conv2D(filters, 4, strides=strides, padding="same", dtype=dtype,
                                name=f"c{i + 1}")(x)              # (batch, H/2, W/2, 64) ...
        if i > 0:
            x = _norm(norm, dtype, f"c{i + 1}_norm")(x)
        x = keras.layers.LeakyReLU(0.2, dtype=dtype, name=f"c{i + 1}_lrelu")(x)
    x = keras.layers.Conv2D(1, 4, padding="same", dtype=dtype, name="logits")(x)
    logits = keras.layers.Activation("linear", dtype="float32", name="logits_f32")(x)
    return keras.Model([condition, image], logits, name=name)


# The name a model file records for a generator -> its builder (the names: config.GENERATORS).
GENERATOR_BUILDERS = {"unet": unet, "simple_lab": simple_lab}


def generator(kind, **kwargs):
    """Build a generator by the name stored in a model file ("unet" or "simple_lab")."""
    if kind not in GENERATOR_BUILDERS:
        raise ValueError(f"unknown generator {kind!r}; expected one of {GENERATORS}")
    return GENERATOR_BUILDERS[kind](**kwargs)


def generator_arguments(kind):
    """The arguments a model file records for a `kind` generator: its builder's parameters,
    less `dtype` and `name` (how it is built here, not what it is)."""
    parameters = inspect.signature(GENERATOR_BUILDERS[kind]).parameters
    return tuple(name for name in parameters if name not in ("dtype", "name"))


def generator_args(kind, config, **given):
    """The arguments to build (and record) a `kind` generator with: each of its builder's
    from `given`, else from the `config` field of that name; the builder's default where
    neither has it."""
    return {name: given[name] if name in given else getattr(config, name)
            for name in generator_arguments(kind) if name in given or hasattr(config, name)}


def transfer_weights(source, target):
    """Start `target` from `source`'s weights, layer by layer (matched by name). Where the
    target's first layer takes more input channels (a hint-aware model grown from a plain
    one), the extra kernel slices start at zero, so the new inputs start with no effect.
    Returns the names of the layers copied."""
    copied = []
    for layer in target.layers:
        try:
            weights = source.get_layer(layer.name).get_weights()
        except ValueError:
            continue
        new = []
        for old, current in zip(weights, layer.get_weights(), strict=True):
            if old.shape != current.shape:
                if old.ndim != 4 or old.shape[:2] + old.shape[3:] != \
                        current.shape[:2] + current.shape[3:] or old.shape[2] > current.shape[2]:
                    raise ValueError(f"layer {layer.name}: cannot start weights of shape "
                                     f"{current.shape} from {old.shape}")
                old = np.concatenate([old, np.zeros(current.shape[:2] + (
                    current.shape[2] - old.shape[2], current.shape[3]), old.dtype)], axis=2)
            new.append(old.astype(current.dtype))
        layer.set_weights(new)
        copied.append(layer.name)
    return copied
