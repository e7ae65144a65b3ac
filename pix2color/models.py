"""Model builders: the article's U-Net generator, the grayscale post's Lab baseline, a PatchGAN.

Every builder returns a functional `keras.Model`. `dtype` is a Keras dtype policy name
("float32", "mixed_bfloat16", "mixed_float16") applied layer by layer, so a mixed-precision
model can be built without touching Keras's global policy; outputs are always float32.
"""

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from .regions import FILLS

NORMS = ("batch", "instance", "none")
UPSAMPLINGS = ("transpose", "resize")


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


def _up(filters, upsample, dtype, name, activation=None):
    """A x2 upsampling convolution: the article's transposed conv, or resize-then-conv."""
    if upsample == "transpose":
        return [keras.layers.Conv2DTranspose(filters, 5, strides=2, padding="same",
                                             activation=activation, dtype=dtype, name=name)]
    if upsample == "resize":
        # Resize-then-conv avoids the checkerboard a stride-2 transposed conv leaves in flat fills.
        return [keras.layers.UpSampling2D(2, interpolation="bilinear", dtype=dtype,
                                          name=f"{name}_resize"),
                keras.layers.Conv2D(filters, 5, padding="same", activation=activation,
                                    dtype=dtype, name=name)]
    raise ValueError(f"upsample must be one of {UPSAMPLINGS}, got {upsample!r}")


def unet(size=128, in_channels=3, out_channels=3, width=64, depth=5, norm="batch",
         upsample="transpose", dropout=0.0, dtype="float32", name="unet"):
    """The sketch-painting article's U-Net generator.

    The defaults build it exactly: five 5x5 stride-2 conv blocks (LeakyReLU 0.2, BatchNorm
    momentum 0.9), a transposed-conv decoder whose skips are *added*, tanh out; 21,730,307
    parameters. `size=None` gives a model that runs at any size divisible by 2**depth.
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
    for layer in _up(out_channels, upsample, dtype, "out"):
        x = layer(x)
    outputs = keras.layers.Activation("tanh", dtype="float32", name="out_tanh")(x)
    return keras.Model(inputs, outputs, name=name)


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


def generator(kind, **kwargs):
    """Build a generator by the name stored in a model file ("unet" or "simple_lab")."""
    if kind == "unet":
        return unet(**kwargs)
    if kind == "simple_lab":
        return simple_lab(**kwargs)
    raise ValueError(f"unknown generator {kind!r}; expected 'unet' or 'simple_lab'")


# --- the model file: one folder, a Keras 3 `.keras` generator plus a JSON description ----

MODEL_FILE = "generator.keras"
INFO_FILE = "pix2color.json"
FORMAT = "pix2color-model"


def save_generator(path, model, kind, args, info, weights_dtype="float32"):
    """Write `path/generator.keras` and `path/pix2color.json`.

    The generator is rebuilt in `weights_dtype` ("float32", or "float16" to halve the file)
    whatever precision it was trained in, so a saved model never depends on a mixed policy.
    """
    from . import __version__
    from .files import write_json

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    stored = generator(kind, **args, dtype=weights_dtype)
    stored.set_weights([w.astype(weights_dtype) for w in model.get_weights()])
    info = dict(info, format=FORMAT, pix2color_version=__version__,
                generator={"kind": kind, "args": args, "parameters": stored.count_params(),
                           "weights_dtype": weights_dtype},
                in_channels=int(stored.input_shape[-1]), out_channels=int(stored.output_shape[-1]))
    tmp = path / (MODEL_FILE + ".tmp.keras")
    stored.save(tmp)
    tmp.replace(path / MODEL_FILE)  # a crash mid-save never leaves a half-written model
    write_json(path / INFO_FILE, info)
    return path


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


class ModelFileError(ValueError):
    """A path that is not a loadable pix2color model."""


_TASK_CHANNELS = {"sketch": (3, 3), "gray": (1, 2)}


BUNDLED_DIR = Path(__file__).parent / "weights"
BUNDLED = ("sketch", "gray")
# Older names that still load: the hint-aware line-art model is the default "sketch" now.
ALIASES = {"sketch-hints": "sketch"}


def model_path(model):
    """A bundled model's name ("sketch", "gray"; None = "sketch"; "sketch-hints" is another
    name for "sketch") -> its folder inside the package; anything else is taken as a path."""
    if model is None or model in BUNDLED or model in ALIASES:
        name = ALIASES.get(model, model or "sketch")
        path = BUNDLED_DIR / name
        if not path.exists():
            raise FileNotFoundError(f"the bundled {name!r} model is not part of this "
                                    f"install ({path} is missing)")
        return path
    return Path(model)


def load_generator(path):
    """Read a model folder written by `save_generator`; returns `(model, info)`.

    Keras safe mode is on: a model file cannot run code (Lambda layers are refused).
    Weights stored as float16 are brought back into a float32 model.
    """
    import json

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no model at {path}")
    if path.is_file():
        path = path.parent if path.name in (MODEL_FILE, INFO_FILE) else path
    if not (path / INFO_FILE).exists() and (path / "model" / INFO_FILE).is_file():
        path = path / "model"  # a training run's folder: its final model
    if not (path / INFO_FILE).is_file() or not (path / MODEL_FILE).is_file():
        raise ModelFileError(f"{path} is not a pix2color model: expected a folder holding "
                             f"{MODEL_FILE} and {INFO_FILE}")
    if (path / INFO_FILE).stat().st_size > MAX_INFO_BYTES:
        raise ModelFileError(f"{path / INFO_FILE} is {(path / INFO_FILE).stat().st_size:,} "
                             f"bytes: not a pix2color model description (at most "
                             f"{MAX_INFO_BYTES:,})")
    try:
        info = json.loads((path / INFO_FILE).read_text())
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise ModelFileError(f"{path / INFO_FILE} is not valid JSON: "
                             f"{str(error)[:200] or type(error).__name__}") from None
    _check_info(info, path / INFO_FILE)
    _check_archive(path / MODEL_FILE)
    try:
        model = keras.saving.load_model(path / MODEL_FILE, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many kinds; all mean "not a usable model"
        raise ModelFileError(f"cannot load {path / MODEL_FILE}: {error}") from None
    expected = expected_channels(info)
    got = (int(model.input_shape[-1]), int(model.output_shape[-1]))
    if got != expected:
        raise ModelFileError(f"{path / MODEL_FILE} maps {got[0]} to {got[1]} channels, but a "
                             f"{info['task']!r} model maps {expected[0]} to {expected[1]}")
    if any(w.dtype != "float32" for w in model.get_weights()):
        spec = info["generator"]
        float32_model = generator(spec["kind"], **spec["args"])
        float32_model.set_weights([w.astype("float32") for w in model.get_weights()])
        model = float32_model
    return model, info


def task_channels(task, hints=False):
    """(in, out) channels of a `task` generator: the sketch's RGB or L in, RGB or ab out,
    plus the hint channels (`pix2color.hints`) of a hint-aware model."""
    from .hints import hint_channels

    base_in, out = _TASK_CHANNELS[task]
    return base_in + (hint_channels(out) if hints else 0), out


def expected_channels(info):
    """(in, out) channels of the model a `pix2color.json` describes."""
    return task_channels(info["task"], info.get("hints", False))


MAX_INFO_BYTES = 1_000_000          # a pix2color.json is a few KB
MAX_ARCHIVE_CONFIG_BYTES = 10_000_000   # a generator's Keras config is tens of KB
MAX_ARCHIVE_BYTES = 4_000_000_000    # the article's generator at width 64 is ~90 MB
GENERATOR_ARGS = {  # name: (type, low, high) for each argument a generator may have
    "unet": {"size": (int, 1, 16384), "in_channels": (int, 1, 64),
             "out_channels": (int, 1, 64), "width": (int, 1, 1024), "depth": (int, 1, 8),
             "norm": (str, NORMS, None), "upsample": (str, UPSAMPLINGS, None),
             "dropout": (float, 0.0, 1.0)},
    "simple_lab": {"size": (int, 1, 16384), "raw_l": (bool, None, None)},
}


def _check_archive(path):
    """A `.keras` file is a zip: refuse one that is not, or that would unpack to too much."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError) as error:
        raise ModelFileError(f"{path} is not a Keras model file ({error})") from None
    config = sum(e.file_size for e in entries if e.filename.endswith(".json"))
    total = sum(e.file_size for e in entries)
    if config > MAX_ARCHIVE_CONFIG_BYTES or total > MAX_ARCHIVE_BYTES:
        raise ModelFileError(f"{path} would unpack to {total:,} bytes ({config:,} of "
                             f"configuration): refused (at most {MAX_ARCHIVE_BYTES:,}, and "
                             f"{MAX_ARCHIVE_CONFIG_BYTES:,} of configuration)")


def _check_generator_args(kind, args, where):
    if not isinstance(args, dict):
        raise ModelFileError(f"{where}: generator.args must be an object, got "
                             f"{type(args).__name__}")
    allowed = GENERATOR_ARGS[kind]
    for name, value in args.items():
        if name not in allowed:
            raise ModelFileError(f"{where}: unknown {kind} argument {name!r}")
        kind_of, low, high = allowed[name]
        if value is None and name == "size":
            continue
        if kind_of is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind_of) or (kind_of is int and isinstance(value, bool)):
            raise ModelFileError(f"{where}: generator argument {name} must be a "
                                 f"{kind_of.__name__}, got {value!r}")
        if kind_of is str and value not in low or kind_of in (int, float) and \
                not low <= value <= high:
            expected = f"one of {low}" if kind_of is str else f"in {low}..{high}"
            raise ModelFileError(f"{where}: generator argument {name} = {value!r} is not "
                                 f"{expected}")


def _check_info(info, where):
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise ModelFileError(f"{where} does not describe a pix2color model (format is not {FORMAT!r})")
    task = info.get("task")
    if task not in _TASK_CHANNELS:
        raise ModelFileError(f"{where}: unknown task {task!r}; expected one of {sorted(_TASK_CHANNELS)}")
    if not isinstance(info.get("hints", False), bool):
        raise ModelFileError(f"{where}: hints must be true or false")
    if (info.get("in_channels"), info.get("out_channels")) != expected_channels(info):
        kind = f"{task!r} model{' with hints' if info.get('hints') else ''}"
        raise ModelFileError(f"{where}: a {kind} needs {expected_channels(info)} input/output "
                             f"channels, the file says {(info.get('in_channels'), info.get('out_channels'))}")
    spec = info.get("generator")
    if not isinstance(spec, dict) or spec.get("kind") not in GENERATOR_ARGS:
        raise ModelFileError(f"{where}: missing or unknown generator description")
    _check_generator_args(spec["kind"], spec.get("args"), where)
    if info.get("fill") not in (None, *FILLS) or (
            info.get("fill") not in (None, "none") and task != "sketch"):
        raise ModelFileError(f"{where}: fill must be regions, lines or none (line-art models) "
                             f"or none, got {info.get('fill')!r}")
    if not isinstance(info.get("size"), int) or isinstance(info["size"], bool) or \
            not 1 <= info["size"] <= 16384:
        raise ModelFileError(f"{where}: missing or invalid working size {info.get('size')!r} "
                             f"(an integer in 1..16384)")
