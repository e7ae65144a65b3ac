"""The model file: one folder holding a Keras 3 `generator.keras` and its `pix2color.json`,
described by a frozen `ModelInfo` that is validated whenever a folder is loaded.

Loading is defensive (a model folder may come from anywhere): the JSON is size-capped and
checked key by key, the `.keras` zip is checked before it is unpacked, and Keras safe mode
refuses code in the file.
"""

import dataclasses
import json
import os
import re
import zipfile
from pathlib import Path

import keras
import numpy as np

from .config import NORMS, UPSAMPLINGS
from .fills import fill_names, fill_settings
from .archive import MAX_PARAMETERS, archive_network
from .models import GENERATOR_BUILDERS, generator, generator_arguments
from .tasks import TASKS, get_task

MODEL_FILE = "generator.keras"
INFO_FILE = "pix2color.json"
FORMAT = "pix2color-model"


def save_generator(path, model, kind, args, info, weights_dtype="float32"):
    """Write `path/generator.keras` and `path/pix2color.json`; `info`: the `ModelInfo`
    fields that say what the model does (task, size, hints, fill, training).

    The generator is rebuilt in `weights_dtype` ("float32", or "float16" to halve the file)
    whatever precision it was trained in, so a saved model never depends on a mixed policy.
    Both files are written into a folder beside `path` that then takes its place, so a
    crash mid-save leaves the old folder (or none), never half a model. Other files already
    in `path` (a licence, say) are kept.
    """
    import shutil

    from . import __version__
    from .files import replace_folder, write_json

    path = Path(path)
    stored = generator(kind, **args, dtype=weights_dtype)
    stored.set_weights([w.astype(weights_dtype) for w in model.get_weights()])
    info = ModelInfo(**dict(info, pix2color_version=__version__, generator={
        "kind": kind, "args": args, "parameters": stored.count_params(),
        "weights_dtype": weights_dtype}, in_channels=int(stored.input_shape[-1]),
        out_channels=int(stored.output_shape[-1])))
    path.parent.mkdir(parents=True, exist_ok=True)
    new = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    shutil.rmtree(new, ignore_errors=True)
    try:
        if path.is_dir():  # keep what else the folder holds (not an older save's leftovers)
            shutil.copytree(path, new, ignore=lambda _, names: [
                n for n in names if n in (MODEL_FILE, INFO_FILE) or ".tmp" in n])
        else:
            new.mkdir()
        stored.save(new / MODEL_FILE)
        write_json(new / INFO_FILE, info.to_json())
        replace_folder(new, path)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    return path


def average_generators(paths):
    """The mean of the weights of models alike in network ('model soup', Wortsman et al.
    2022): fine-tunes of one starting model sit in one basin of the loss, and their average
    often colours unseen drawings better than any of them. Returns `(model, info)`, with
    the first model's description and its members' training records under
    `training["average_of"]`. Models that differ in network, task, size or hints are refused
    with a ModelFileError naming the two."""
    if len(paths) < 2:
        raise ValueError("averaging needs at least two models")
    loaded = [load_generator(model_path(path)) for path in paths]
    model, info = loaded[0]

    def network(info):
        return (info.task, info.size, info.hints, info.generator["kind"],
                info.generator["args"])

    for path, (_, other) in zip(paths[1:], loaded[1:]):
        if network(other) != network(info):
            raise ModelFileError(f"{path} is not the same network as {paths[0]}: "
                                 f"{network(other)} vs {network(info)}")
    members = [m.get_weights() for m, _ in loaded]
    model.set_weights([np.mean([weights[k] for weights in members], axis=0)
                       for k in range(len(members[0]))])
    training = {"average_of": [{"model": Path(str(path)).name or str(path),
                                "training": other.training}
                               for path, (_, other) in zip(paths, loaded)]}
    return model, dataclasses.replace(info, training=training)


class ModelFileError(ValueError):
    """A path that is not a loadable pix2color model."""


BUNDLED_DIR = Path(__file__).parent / "weights"
BUNDLED = ("sketch", "gray", "drawings")
# Older names that still load: the hint-aware line-art model is the default "sketch" now.
ALIASES = {"sketch-hints": "sketch"}


def model_path(model):
    """A bundled model's name ("sketch", "gray", "drawings"; None = "sketch"; "sketch-hints" is
    another name for "sketch") -> its folder inside the package; anything else is a path."""
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
    Nothing is built before the archive's own configuration is checked: the layers it
    names, the parameters they imply (at most MAX_PARAMETERS), and that it is the network
    `pix2color.json` describes. Weights stored as float16 are brought back into a float32
    model.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no model at {path}: give a bundled model "
                                f"({', '.join(BUNDLED)}) or a model folder (one that "
                                f"holds {MODEL_FILE}, or a training run's folder)")
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
    info = ModelInfo.from_json(info, path / INFO_FILE)
    _check_archive(path / MODEL_FILE, info)
    try:
        model = keras.saving.load_model(path / MODEL_FILE, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many kinds; all mean "not a usable model"
        raise ModelFileError(f"cannot load {path / MODEL_FILE}: {error}") from None
    expected = (info.in_channels, info.out_channels)
    got = (int(model.input_shape[-1]), int(model.output_shape[-1]))
    if got != expected:
        raise ModelFileError(f"{path / MODEL_FILE} maps {got[0]} to {got[1]} channels, but a "
                             f"{info.task!r} model maps {expected[0]} to {expected[1]}")
    if any(w.dtype != "float32" for w in model.get_weights()):
        spec = info.generator   # checked to be the archive's network, so of its size
        float32_model = generator(spec["kind"], **spec["args"])
        float32_model.set_weights([w.astype("float32") for w in model.get_weights()])
        model = float32_model
    return model, info


MAX_INFO_BYTES = 1_000_000          # a pix2color.json is a few KB
MAX_ARCHIVE_CONFIG_BYTES = 10_000_000   # a generator's Keras config is tens of KB
MAX_ARCHIVE_BYTES = 4_000_000_000    # the article's generator at width 64 is ~90 MB
# What a model file may pass each generator argument (the arguments each generator takes are
# its builder's, pix2color.models.generator_arguments): name -> (type, low, high), or
# (str, choices, None).
ARGUMENT_LIMITS = {
    "size": (int, 1, 16384), "in_channels": (int, 1, 64), "out_channels": (int, 1, 64),
    "width": (int, 1, 1024), "depth": (int, 1, 8), "norm": (str, NORMS, None),
    "upsample": (str, UPSAMPLINGS, None), "dropout": (float, 0.0, 1.0),
    "raw_l": (bool, None, None), "hue_head": (bool, None, None)}


def _check_archive(path, info):
    """A `.keras` file is a zip: refuse one that is not, that would unpack to too much, or
    whose configuration is not the network `info` describes, before Keras builds anything."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            config = sum(e.file_size for e in entries if e.filename.endswith(".json"))
            total = sum(e.file_size for e in entries)
            if config > MAX_ARCHIVE_CONFIG_BYTES or total > MAX_ARCHIVE_BYTES:
                raise ModelFileError(
                    f"{path} would unpack to {total:,} bytes ({config:,} of configuration): "
                    f"refused (at most {MAX_ARCHIVE_BYTES:,}, and "
                    f"{MAX_ARCHIVE_CONFIG_BYTES:,} of configuration)")
            network = json.loads(archive.read("config.json"))
    except (zipfile.BadZipFile, OSError) as error:
        raise ModelFileError(f"{path} is not a Keras model file ({error})") from None
    except (KeyError, ValueError, UnicodeDecodeError, RecursionError) as error:
        raise ModelFileError(f"cannot load {path}: no readable config.json in it "
                             f"({str(error)[:200]})") from None
    try:
        channels, parameters = archive_network(network)
    except (KeyError, TypeError, ValueError, IndexError) as error:
        raise ModelFileError(f"cannot load {path}: its configuration is not a pix2color "
                             f"generator ({type(error).__name__}: {str(error)[:200]})") from None
    if parameters > MAX_PARAMETERS:
        raise ModelFileError(f"cannot load {path}: its configuration implies {parameters:,} "
                             f"parameters (at most {MAX_PARAMETERS:,})")
    # The description must be this network: it is what a float32 copy is built from.
    spec, args = info.generator, info.generator["args"]
    found = {"parameters": parameters}
    wanted = {"parameters": spec.get("parameters", parameters)}
    if spec["kind"] == "unet":
        found.update(width=channels.get("e1"),
                     depth=sum(1 for name in channels if re.fullmatch(r"e\d+", name)))
        wanted.update(width=args.get("width", 64), depth=args.get("depth", 5))
    if found != wanted:
        raise ModelFileError(f"cannot load {path}: it is not the network {INFO_FILE} "
                             f"describes (the archive has {found}, the description says "
                             f"{wanted})")


def _check_generator_args(kind, args, where):
    if not isinstance(args, dict):
        raise ModelFileError(f"{where}: generator.args must be an object, got "
                             f"{type(args).__name__}")
    allowed = generator_arguments(kind)
    for name, value in args.items():
        if name not in allowed:
            raise ModelFileError(f"{where}: unknown {kind} argument {name!r}")
        kind_of, low, high = ARGUMENT_LIMITS[name]
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


def task_channels(task, hints=False):
    """(in, out) channels of a `task` generator: the picture's channels in (RGB or L),
    RGB or ab out, plus the hint channels (`pix2color.hints`) of a hint-aware model."""
    from .hints import hint_channels

    task = get_task(task)
    return task.in_channels + (hint_channels(task.out_channels) if hints else 0), \
        task.out_channels


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    """What `pix2color.json` says about a model, checked on load (`from_json`)."""

    task: str                   # a name in pix2color.tasks.TASKS
    size: int                   # the training size: the longer side the network sees
    generator: dict             # {"kind", "args", "parameters", "weights_dtype"}
    in_channels: int
    out_channels: int
    hints: bool = False         # takes colour hints (pix2color.hints)
    fill: str = ""              # line-art models: the default fill ("" = the task's default)
    fill_settings: dict = dataclasses.field(default_factory=dict)  # {fill: its settings}
    colour_space: str = ""      # "" = the task's
    training: dict = dataclasses.field(default_factory=dict)  # how it was trained, metrics
    pix2color_version: str = "?"
    format: str = FORMAT

    def __post_init__(self):
        task = get_task(self.task)
        object.__setattr__(self, "fill", self.fill or fill_names(task)[0])
        object.__setattr__(self, "fill_settings", fill_settings(task, self.fill_settings))
        object.__setattr__(self, "colour_space", self.colour_space or task.colour_space)

    @property
    def task_def(self):
        """The definition of the model's task (a `pix2color.tasks.Task`)."""
        return TASKS[self.task]

    def to_json(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, info, where):
        """A parsed `pix2color.json` -> ModelInfo, or ModelFileError naming what is wrong."""
        if not isinstance(info, dict) or info.get("format") != FORMAT:
            raise ModelFileError(f"{where} does not describe a pix2color model (format is "
                                 f"not {FORMAT!r})")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(info) - set(fields))
        missing = sorted(name for name, f in fields.items() if name not in info and
                         f.default is dataclasses.MISSING and
                         f.default_factory is dataclasses.MISSING)
        if unknown or missing:
            raise ModelFileError(f"{where}: " + "; ".join(
                part for part in (unknown and f"unknown keys {unknown}",
                                  missing and f"missing keys {missing}") if part))
        if info["task"] not in TASKS:
            raise ModelFileError(f"{where}: unknown task {info['task']!r}; expected one of "
                                 f"{sorted(TASKS)}")
        task = TASKS[info["task"]]
        for name, kind in (("hints", bool), ("fill", str), ("fill_settings", dict),
                           ("colour_space", str), ("training", dict),
                           ("pix2color_version", str)):
            if name in info and not isinstance(info[name], kind):
                expected = "true or false" if kind is bool else f"a {kind.__name__}"
                raise ModelFileError(f"{where}: {name} must be {expected}, got {info[name]!r}")
        expected = task_channels(task, info.get("hints", False))
        if (info["in_channels"], info["out_channels"]) != expected:
            kind = f"{task.name!r} model{' with hints' if info.get('hints') else ''}"
            raise ModelFileError(f"{where}: a {kind} needs {expected} input/output channels, "
                                 f"the file says {(info['in_channels'], info['out_channels'])}")
        spec = info["generator"]
        if not isinstance(spec, dict) or spec.get("kind") not in GENERATOR_BUILDERS:
            raise ModelFileError(f"{where}: missing or unknown generator description")
        _check_generator_args(spec["kind"], spec.get("args"), where)
        if info.get("fill", "") not in ("", *fill_names(task)):
            raise ModelFileError(f"{where}: fill must be one of {fill_names(task)} for a "
                                 f"{task.name!r} model, got {info.get('fill')!r}")
        try:
            fill_settings(task, info.get("fill_settings"))
        except (ValueError, TypeError) as error:
            raise ModelFileError(f"{where}: {error}") from None
        if info.get("colour_space", task.colour_space) != task.colour_space:
            raise ModelFileError(f"{where}: a {task.name!r} model works in "
                                 f"{task.colour_space}, the file says {info['colour_space']!r}")
        size = info["size"]
        if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= 16384:
            raise ModelFileError(f"{where}: missing or invalid working size {size!r} "
                                 f"(an integer in 1..16384)")
        return cls(**info)
