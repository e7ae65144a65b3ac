"""The training configuration: one frozen `TrainConfig`, the one schema of a training run.

Each field carries its help text, its option group and, where it has them, its choices, taken
from where they are defined (the tasks, the GAN objectives, the metrics). `pix2color train`
and the examples build their options from these fields (`add_config_options`), so the command
line, the Python API and `config.json` cannot drift apart. Importing this module does not
start TensorFlow.
"""

import argparse
import dataclasses

from .losses import GAN_LOSSES
from .metric_table import RANKING_METRICS
from .tasks import TASK_NAMES, TASKS

GENERATORS = ("unet", "simple_lab")
NORMS = ("batch", "instance", "none")
UPSAMPLINGS = ("transpose", "resize")
MODES = ("gan", "l1", "mse")
OPTIMIZERS = ("adam", "rmsprop")
PRECISIONS = ("auto", "mixed", "float32")


def option(default, help, group="training", choices=None, flags=(), metavar=None):
    """A config field: its default, the help `--help` shows, its option group, its choices,
    any other command-line spellings (`flags`, e.g. a short form kept for old scripts) and
    the name of its value in `--help` (`metavar`)."""
    return dataclasses.field(default=default, metadata={
        "help": help, "group": group, "choices": choices, "flags": tuple(flags),
        "metavar": metavar})


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run. Saved as `config.json` in the run folder."""

    task: str = option("sketch", "sketch: line art -> colour (RGB); gray: grayscale -> "
                       "colour (Lab, L in, ab out)", "data", TASK_NAMES)
    extract_lines: bool = option(False, "sketch: the inputs are XDoG lines drawn from the "
                                 "colour targets on the fly, so a folder of colour pictures "
                                 "is a line-art training set", "data")
    line_augment: bool = option(False, "sketch: vary the line art while training (heavier, "
                                "grey pencil, hard-edged, or XDoG lines of the target), so "
                                "the model takes drawings unlike its training set's",
                                "data")
    hints: bool = option(False, "train a hint-aware model: random colour hints drawn from "
                         "the targets are extra inputs (pix2color.hints)", "data")
    hint_weight: float = option(10.0, "with hints: L1 weight of pixels at and near hints",
                                "data")
    colour_rebalance: float = option(0.0, "sketch: weigh each pixel's L1 up the rarer its "
                                     "colour is in the batch (12 hue sectors and neutrals; "
                                     "Zhang et al. 2016's class rebalancing): 0 off, 0.5 "
                                     "theirs, 1 pure inverse frequency")
    hue_loss: float = option(0.0, "sketch, with --hue-head: weight of the hue head's "
                             "cross-entropy (12 hue sectors and neutrals, weighed as the L1 "
                             "is) against the L1's; 0: the head learns only through the L1")
    no_hint_fraction: float = option(0.25, "with hints: the share of training images given "
                                     "no hints at all, so the model also learns to colour "
                                     "alone", "data")
    init_from: str = option("", "start the generator from a model folder or bundled name "
                            "(e.g. sketch: fine-tune it, or grow a plain model into a "
                            "hint-aware one; default: none, a fresh generator)", "model",
                            metavar="MODEL")
    generator: str = option("unet", "unet (the article) or simple_lab (the grayscale post's "
                            "network; task gray)", "model", GENERATORS)
    size: int = option(128, "training images are resized to SIZE x SIZE", "model")
    width: int = option(64, "generator width: filters of its first block (64 = the article)",
                        "model")
    depth: int = option(5, "encoder blocks (5 = the article)", "model")
    norm: str = option("batch", "normalization in the generator", "model", NORMS)
    upsample: str = option("transpose", "decoder: transposed convs (the article) or resize "
                           "+ conv (no checkerboard)", "model", UPSAMPLINGS)
    dropout: float = option(0.0, "decoder dropout while training (inference never uses it)",
                            "model")
    hue_head: bool = option(False, "sketch: a second head that classifies each pixel's hue "
                            "(Zhang et al. 2016's classification, over 12 hue sectors); its "
                            "choice of hue is put on the colour the first head paints",
                            "model")
    disc_width: int = option(0, "discriminator width (0: the generator's)", "model")
    disc_layers: int = option(3, "discriminator layers (3: pix2pix's 70x70 PatchGAN)", "model")
    disc_norm: str = option("batch", "normalization in the discriminator", "model", NORMS)
    mode: str = option("gan", "gan: L1 + adversarial (pix2pix); l1: the article's recipe; "
                       "mse: the grayscale post's", choices=MODES)
    gan_loss: str = option("vanilla", "gan mode: BCE on logits, least squares, or hinge",
                           choices=tuple(GAN_LOSSES))
    l1_weight: float = option(100.0, "gan mode: weight of L1 against the adversarial term")
    optimizer: str = option("adam", "adam (beta_1 0.5, as pix2pix) or rmsprop (the "
                            "grayscale post)", choices=OPTIMIZERS)
    learning_rate: float = option(2e-4, "learning rate of both networks", flags=("--lr",))
    beta_1: float = option(0.5, "Adam's beta_1")
    batch_size: int = option(16, "images per step")
    epochs: int = option(10, "passes over the training pairs")
    max_steps: int = option(0, "stop after this many steps (0: no cap; epochs decide)",
                            flags=("--steps",))
    warmup_steps: int = option(0, "gan mode: steps of L1 alone before the discriminator joins")
    decay_fraction: float = option(0.0, "learning rates decay linearly to 0 over this last "
                                   "share of training")
    precision: str = option("auto", "auto: mixed precision where the hardware runs it "
                            "natively (CUDA GPUs, CPUs with AVX512-BF16 or AMX)",
                            choices=PRECISIONS)
    jit: bool = option(False, "XLA (measured ~5x slower for the GAN step on CPU)")
    seed: int = option(0, "seeds weights, data order and augmentation")
    deterministic: bool = option(False, "deterministic TF ops: a resumed run ends with the "
                                 "same weights (slower)")
    log_every: int = option(10, "steps between scalar logs", "logging")
    image_every: int = option(200, "steps between image grids", "logging")
    val_every: int = option(0, "steps between validations (0: at every epoch's end)",
                            "logging")
    val_batches: int = option(0, "validate on this many batches (0: the whole split)",
                              "logging")
    checkpoint_every: int = option(500, "steps between checkpoints (also saved at every "
                                   "epoch's end)", "logging")
    keep_checkpoints: int = option(3, "how many checkpoints to keep", "logging")
    best_metric: str = option("ciede2000", "keeps best/ by this validation metric "
                              "(colourfulness_ratio: closest to 1)", "logging",
                              RANKING_METRICS)

    def __post_init__(self):
        for field in dataclasses.fields(self):
            value, choices = getattr(self, field.name), field.metadata["choices"]
            if choices and value not in choices:
                raise ValueError(f"{field.name} must be one of {choices}, got {value!r}")
            if field.type in (int, float) and not isinstance(value, bool) and \
                    isinstance(value, (int, float)) and value < 0:
                raise ValueError(f"{field.name} must not be negative, got {value!r}")
        for name in ("size", "width", "depth", "batch_size", "epochs", "log_every",
                     "image_every", "checkpoint_every", "keep_checkpoints"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)!r}")
        if self.size % 2**self.depth:
            raise ValueError(f"size {self.size} must be divisible by 2**depth = {2**self.depth}")
        if not 0.0 <= self.decay_fraction <= 1.0 or not 0.0 <= self.dropout < 1.0 or \
                not 0.0 <= self.no_hint_fraction <= 1.0 or self.colour_rebalance > 1.0:
            raise ValueError("decay_fraction, no_hint_fraction and colour_rebalance must be "
                             "in 0..1, dropout in 0..1 (not 1)")
        task = TASKS[self.task]
        if (self.extract_lines or self.line_augment) and not task.line_art:
            raise ValueError("extract_lines and line_augment are for line art: use "
                             "task='sketch'")
        if self.colour_rebalance and task.colour_space != "rgb":
            raise ValueError("colour_rebalance weighs RGB targets: use task='sketch'")
        if self.hue_head and (task.colour_space != "rgb" or self.generator != "unet"):
            raise ValueError("hue_head is for the unet's RGB out: use task='sketch'")
        if self.hue_loss and not self.hue_head:
            raise ValueError("hue_loss trains the hue head: add hue_head")
        if self.generator == "simple_lab" and task.colour_space != "lab":
            raise ValueError("simple_lab is the grayscale post's Lab model: use task='gray'")
        if self.hints and self.generator != "unet":
            raise ValueError("hints need the unet generator (simple_lab has a fixed input)")

    @classmethod
    def from_json(cls, values):
        """A saved `config.json`'s "config" -> TrainConfig (unknown keys are an error)."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"unknown training options {unknown}")
        return cls(**values)


def add_config_options(parser, groups=None, only=None, skip=(), **defaults):
    """Add a `--name` option for each `TrainConfig` field (those in `only`, less those in
    `skip`), its help, type, choices and other spellings taken from the field and its
    default from `defaults` (an example's own recipe) or the field. Options go in argument
    groups named as the fields' groups (`groups`: those already made); returns the groups,
    so a command can add its own options to them."""
    groups = dict(groups or {})
    unknown = set(defaults) - {f.name for f in dataclasses.fields(TrainConfig)}
    if unknown:
        raise TypeError(f"no training options {sorted(unknown)}")
    for field in dataclasses.fields(TrainConfig):
        if (only is not None and field.name not in only) or field.name in skip:
            continue
        meta, default = field.metadata, defaults.get(field.name, field.default)
        if meta["group"] not in groups:
            groups[meta["group"]] = parser.add_argument_group(meta["group"])
        flags = [f"--{field.name.replace('_', '-')}", *meta["flags"]]
        if field.type is bool:   # --name and --no-name: a recipe may turn a switch on
            groups[meta["group"]].add_argument(*flags, dest=field.name, default=default,
                                               action=argparse.BooleanOptionalAction,
                                               help=meta["help"])
        else:
            groups[meta["group"]].add_argument(*flags, dest=field.name, default=default,
                                               type=field.type, choices=meta["choices"],
                                               metavar=meta["metavar"], help=meta["help"])
    return groups


def config_from_args(args, **fixed):
    """The `TrainConfig` that parsed options describe: each field from its option where one
    was added (`add_config_options`), else from `fixed`, else its default. A field given
    both ways is an error, so a recipe never silently overrides what was asked for."""
    chosen = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)
              if hasattr(args, f.name)}
    both = sorted(set(chosen) & set(fixed))
    if both:
        raise TypeError(f"{both} are options already; do not fix them too")
    return TrainConfig(**chosen, **fixed)
