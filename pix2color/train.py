"""Training: a frozen `TrainConfig` and a `Trainer` that owns the generator, the
discriminator, both optimizers, the checkpoints and the TensorBoard logs of one run.

The steps themselves are pure functions in `pix2color.steps`, the run folder's rules in
`pix2color.runs`, tf.distribute helpers in `pix2color.distribute`. The compiled step only
computes and applies gradients and returns its losses; progress bars, logging, validation,
checkpoints and NaN checks happen outside it, in `fit`, and the host waits for the device
only on logging and checkpoint steps (losses stay tensors between them).
"""

import dataclasses
import math
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from . import __version__
from .color import lab_to_rgb, network_to_lab
from .data import paired_dataset
from .distribute import is_chief, task_id, worker_count
from .files import write_atomically, write_json
from .metrics import batch_metrics, summarize
from .steps import make_gan_step, make_regression_step
from .runs import (RunFolderError, checkpoints_newest_first, claim_run_dir, lock_run_dir,
                   mark_session_start)
from .models import (generator, load_generator, model_path, patchgan, save_generator,
                     task_channels, transfer_weights)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run. Saved as `config.json` in the run folder."""

    task: str = "sketch"              # sketch (RGB -> RGB) or gray (Lab: L -> ab)
    extract_lines: bool = False       # sketch: inputs are XDoG lines made from colour targets
    hints: bool = False               # colour-hint inputs, drawn from the targets (pix2color.hints)
    hint_weight: float = 10.0         # L1 weight of pixels at and near hints (hints only)
    init_from: str = ""               # start the generator from this model (folder or bundled
                                      # name); a plain model can start a hint-aware one
    mode: str = "gan"                 # gan (L1 + adversarial), l1 (the article), mse (baseline)
    generator: str = "unet"           # unet (the article) or simple_lab (the grayscale post)
    optimizer: str = "adam"           # adam, or rmsprop as the grayscale post
    size: int = 128                   # training images are resized to size x size
    width: int = 64                   # generator width (64 = the article)
    depth: int = 5                    # encoder blocks (5 = the article)
    norm: str = "batch"               # batch (the article), instance, none
    upsample: str = "transpose"       # transpose (the article) or resize (no checkerboard)
    dropout: float = 0.0              # decoder dropout; inference never uses it
    disc_width: int = 0               # 0 = the generator's width
    disc_layers: int = 3              # 3 = pix2pix's 70x70 PatchGAN
    disc_norm: str = "batch"
    gan_loss: str = "vanilla"         # vanilla (BCE on logits), lsgan, hinge
    l1_weight: float = 100.0
    learning_rate: float = 2e-4
    beta_1: float = 0.5
    batch_size: int = 16
    epochs: int = 1
    max_steps: int = 0                # 0 = no cap: epochs decide
    warmup_steps: int = 0             # L1-only steps before the adversarial term starts
    decay_fraction: float = 0.0       # linear learning-rate decay to 0 over this last fraction
    precision: str = "auto"           # auto, mixed, float32
    jit: bool = False                 # XLA; measured ~5x slower for the GAN step on CPU
    seed: int = 0
    deterministic: bool = False       # deterministic TF ops (exact resume; slower)
    log_every: int = 10
    image_every: int = 200
    val_every: int = 0                # 0 = validate at the end of every epoch
    val_batches: int = 0              # 0 = the whole validation split
    checkpoint_every: int = 500
    keep_checkpoints: int = 3
    best_metric: str = "ciede2000"    # keeps best/ by: l1, psnr, ssim, ciede2000,
                                      # ciede2000_fg or colourfulness_ratio (closest to 1)

    def __post_init__(self):
        choices = {"task": ("sketch", "gray"), "generator": ("unet", "simple_lab"),
                   "optimizer": ("adam", "rmsprop"),
                   "mode": ("gan", "l1", "mse"), "norm": ("batch", "instance", "none"),
                   "disc_norm": ("batch", "instance", "none"), "upsample": ("transpose", "resize"),
                   "gan_loss": ("vanilla", "lsgan", "hinge"),
                   "precision": ("auto", "mixed", "float32"),
                   "best_metric": ("l1", "psnr", "ssim", "ciede2000", "ciede2000_fg",
                                   "colourfulness_ratio")}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if self.size % 2**self.depth:
            raise ValueError(f"size {self.size} must be divisible by 2**depth = {2**self.depth}")
        if self.extract_lines and self.task != "sketch":
            raise ValueError("extract_lines makes line-art inputs: use task='sketch'")
        if self.generator == "simple_lab" and self.task != "gray":
            raise ValueError("simple_lab is the grayscale post's Lab model: use task='gray'")
        if self.hints and self.generator != "unet":
            raise ValueError("hints need the unet generator (simple_lab has a fixed input)")


def resolve_precision(precision):
    """The Keras dtype policy for `precision`: `auto` takes mixed precision where the
    hardware runs it natively (float16 on CUDA GPUs, bfloat16 on CPUs with AVX512-BF16 or
    AMX), float32 otherwise; `mixed` takes it everywhere."""
    if precision == "float32":
        return "float32"
    if tf.config.list_physical_devices("GPU"):
        return "mixed_float16"
    if precision == "mixed" or _cpu_has_native_bfloat16():
        return "mixed_bfloat16"
    return "float32"


def _cpu_has_native_bfloat16():
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


class ConstantThenLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Constant learning rate, then linear decay to zero over the last `decay_steps`."""

    def __init__(self, learning_rate, total_steps, decay_steps):
        self.learning_rate = learning_rate
        self.total_steps = total_steps
        self.decay_steps = decay_steps

    def __call__(self, step):
        if not self.decay_steps:
            return tf.constant(self.learning_rate, tf.float32)
        remaining = tf.cast(self.total_steps, tf.float32) - tf.cast(step, tf.float32)
        fraction = tf.clip_by_value(remaining / self.decay_steps, 0.0, 1.0)
        return self.learning_rate * fraction

    def get_config(self):
        return {"learning_rate": self.learning_rate, "total_steps": self.total_steps,
                "decay_steps": self.decay_steps}


def _badness(metric, value):
    """A validation metric as "lower is better", for choosing the best checkpoint."""
    if metric in ("psnr", "ssim"):
        return -value
    if metric == "colourfulness_ratio":
        return abs(1.0 - value)
    return value


def _on_sigterm(trainer):
    """Make SIGTERM (what `kill` and job schedulers send) save a checkpoint like Ctrl-C does.
    The handler only raises a flag that the loop checks between steps: an exception raised in
    the middle of TensorFlow's tracing would not unwind cleanly. Returns the previous handler,
    or None where signals cannot be set (not the main thread)."""
    def request_stop(signum, frame):
        trainer.stop_requested = True

    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, request_stop)


def _floats(losses):
    return {k: float(v) for k, v in losses.items()}


def _progress_terms(losses):
    """The loss terms a progress bar shows: each term on its own scale (L1 or MSE, the
    adversarial terms), not a weighted total whose scale jumps when the warm-up ends."""
    return [k for k in ("g_l1", "g_mse", "g_adversarial", "d_total") if k in losses]


TINY_SPLIT = 20  # fewer validation pairs than this get a warning

class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; nothing after the last good checkpoint was saved."""


class Trainer:
    """Trains one pix2pix (or L1 / MSE regression) colorizer and keeps its run folder:

    runs/<run_name>/config.json        the resolved configuration
    runs/<run_name>/train, validation  TensorBoard events
    runs/<run_name>/checkpoints/       step, both nets, both optimizers (tf.train.Checkpoint)
    runs/<run_name>/model/, best/      the final generator, and the best by validation
                                       `best_metric`; both ready for Colorizer.load
    """

    def __init__(self, config, train_pairs, val_pairs=(), logdir="runs", run_name=None,
                 data_info=None, strategy=None, resume=False, overwrite=False):
        """`resume`: continue the run in the folder (call `restore`); its configuration must
        match but for `RESUMABLE` keys. `overwrite`: delete the run already in the folder.
        Without either, a folder that holds a run is refused: nothing is ever overwritten."""
        self.config = c = config
        # tf.distribute: the current strategy unless one is given (see `make_strategy`).
        self.strategy = strategy or tf.distribute.get_strategy()
        self.is_chief = is_chief(self.strategy)
        # Lists of (input, target) paths, or ShardedPairs (pix2color.shards): kept as given.
        self.train_pairs = train_pairs if hasattr(train_pairs, "records") else list(train_pairs)
        self.val_pairs = val_pairs if hasattr(val_pairs, "records") else list(val_pairs)
        if not len(self.train_pairs):
            raise ValueError("no training pairs")
        self.run_dir = Path(logdir) / (run_name or time.strftime(f"%Y%m%d-%H%M%S-{c.mode}"))
        self._prepare_run_dir()
        if self.is_chief:
            self._lock = lock_run_dir(self.run_dir)
            claim_run_dir(self.run_dir, c, resume, overwrite)
        if c.deterministic:
            tf.config.experimental.enable_op_determinism()
        keras.utils.set_random_seed(c.seed)
        self.policy = resolve_precision(c.precision)

        # Plain counters, the same on every worker: created outside the strategy's scope.
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.best = tf.Variable(np.inf, dtype=tf.float32, trainable=False, name="best_score")
        with self.strategy.scope():
            self._build(c)
        self._compiled_gan_step = self._distributed(make_gan_step(
            self.generator, self.discriminator, self.g_optimizer, self.d_optimizer, c,
            self.base_channels))
        self._compiled_regression_step = self._distributed(make_regression_step(
            self.generator, self.g_optimizer, c))
        self._predict = tf.function(lambda x: self.generator(x, training=False),
                                    reduce_retracing=True)
        self.data_info = dict(data_info or {}, train_pairs=len(self.train_pairs),
                              val_pairs=len(self.val_pairs))
        self.skipped = {}  # path -> times skipped as unreadable
        if len(self.val_pairs) < TINY_SPLIT:
            tqdm.write(f"warning: {len(self.val_pairs)} validation pairs: "
                       + ("no validation metrics and no best/ model"
                          if not len(self.val_pairs) else
                          "its metrics and the best/ model will be noisy")
                       + f" (aim for {TINY_SPLIT} or more; --val-fraction)")
        self._check_free_space()
        self._write_json("config.json", self.describe())

    # --- set-up -------------------------------------------------------------------------

    def _build(self, c):
        """Networks, optimizers and checkpoints (under the strategy's scope)."""
        channels = task_channels(c.task)
        self.base_channels = channels[0]  # the sketch or L; hint channels come after it
        self.generator_args = dict(size=None)
        if c.generator == "unet":
            in_channels, out_channels = task_channels(c.task, c.hints)
            self.generator_args.update(in_channels=in_channels, out_channels=out_channels,
                                       width=c.width, depth=c.depth, norm=c.norm,
                                       upsample=c.upsample, dropout=c.dropout)
        self.generator = generator(c.generator, **self.generator_args, dtype=self.policy)
        if c.init_from:
            self._start_from(c.init_from)
        self.discriminator = None
        if c.mode == "gan":  # conditional: sees the sketch (or L) with the colour, no hints
            self.discriminator = patchgan(*channels, width=c.disc_width or c.width,
                                          n_layers=c.disc_layers, norm=c.disc_norm,
                                          dtype=self.policy)

        self.steps_per_epoch = math.ceil(len(self.train_pairs) / c.batch_size)
        self.total_steps = c.epochs * self.steps_per_epoch
        if c.max_steps:
            self.total_steps = min(self.total_steps, c.max_steps)
        # Each optimizer counts its own updates; the discriminator's start after the warm-up.
        decay_steps = round(c.decay_fraction * self.total_steps)
        self.g_optimizer = self._optimizer(
            ConstantThenLinearDecay(c.learning_rate, self.total_steps, decay_steps), self.generator)
        self.d_optimizer = None
        if self.discriminator is not None:
            d_steps = max(self.total_steps - c.warmup_steps, 1)
            self.d_optimizer = self._optimizer(
                ConstantThenLinearDecay(c.learning_rate, d_steps, min(decay_steps, d_steps)),
                self.discriminator)

        nets = {"generator": self.generator, "g_optimizer": self.g_optimizer}
        if self.discriminator is not None:
            nets.update(discriminator=self.discriminator, d_optimizer=self.d_optimizer)
        self.checkpoint = tf.train.Checkpoint(step=self.step, best=self.best, **nets)
        # Every worker takes part in a save; only the chief's lands in checkpoints/.
        directory = self.run_dir / "checkpoints"
        if not self.is_chief:
            directory = self.run_dir / f".worker-{task_id(self.strategy)}-checkpoints"
        self.checkpoints = tf.train.CheckpointManager(self.checkpoint, directory,
                                                      max_to_keep=c.keep_checkpoints)

    def _start_from(self, model):
        source, info = load_generator(model_path(model))
        args = {k: v for k, v in self.generator_args.items() if k != "in_channels"}
        source_args = {k: v for k, v in info["generator"]["args"].items() if k != "in_channels"}
        if info["task"] != self.config.task or info["generator"]["kind"] != self.config.generator \
                or source_args != args:
            raise ValueError(f"init_from {model}: a {info['task']} {info['generator']['kind']} "
                             f"{source_args} cannot start a {self.config.task} "
                             f"{self.config.generator} {args}")
        transfer_weights(source, self.generator)

    def _release(self):
        """Give up the run folder's lock (fit does at its end, however it ends)."""
        lock, self._lock = getattr(self, "_lock", None), None
        if lock is not None:
            lock.close()

    def _prepare_run_dir(self):
        try:
            (self.run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
            probe = self.run_dir / f".write-test-{os.getpid()}"  # workers may share the folder
            probe.write_bytes(b"\0" * 1024 * 1024)  # fail now, not hours in, on a full disk
            probe.unlink()
        except OSError as error:
            raise OSError(f"cannot write the run folder {self.run_dir}: "
                          f"{error.strerror or error}") from None

    def _check_free_space(self):
        """Fail before training, not hours in, when the disk cannot hold what the run writes:
        `keep_checkpoints` + 1 checkpoints (weights and optimizer slots of both networks)
        and the model/ and best/ folders."""
        variables = self.generator.variables + (self.discriminator.variables
                                                if self.discriminator is not None else [])
        weights = sum(int(np.prod(v.shape)) * 4 for v in variables)
        needed = weights * 3 * (self.config.keep_checkpoints + 1) + weights * 2
        free = shutil.disk_usage(self.run_dir).free
        if free < needed:
            raise OSError(f"not enough free disk space for the run folder {self.run_dir}: "
                          f"it needs about {needed / 2**20:.0f} MiB for checkpoints and models, "
                          f"{free / 2**20:.0f} MiB are free")

    def _optimizer(self, schedule, model):
        if self.config.optimizer == "rmsprop":
            optimizer = keras.optimizers.RMSprop(schedule)
        else:
            optimizer = keras.optimizers.Adam(schedule, beta_1=self.config.beta_1)
        if self.policy == "mixed_float16":
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        optimizer.build(model.trainable_variables)  # so a checkpoint can restore its slots
        return optimizer

    def describe(self):
        """The resolved run description saved next to the checkpoints and in the model."""
        return {"pix2color_version": __version__, "config": dataclasses.asdict(self.config),
                "precision": self.policy, "data": self.data_info,
                "generator_parameters": self.generator.count_params()}

    def _write_json(self, name, value):
        if self.is_chief:
            write_json(self.run_dir / name, value)

    # --- the compiled steps -------------------------------------------------------------

    def _distributed(self, step):
        """Compile `step` to run on every replica of the strategy; losses come back averaged."""
        replica_step = tf.function(step, jit_compile=self.config.jit, reduce_retracing=True)

        def run(inputs, targets):
            losses = self.strategy.run(replica_step, args=(inputs, targets))
            return {k: self.strategy.reduce("MEAN", v, axis=None) for k, v in losses.items()}

        return tf.function(run, reduce_retracing=True)

    def train_step(self, inputs, targets):
        """One update on one batch; returns the losses as floats. In `gan` mode the first
        `warmup_steps` train the generator on L1 alone (the discriminator waits)."""
        return _floats(self._update(inputs, targets, int(self.step)))

    def _update(self, inputs, targets, step):
        """`train_step` without waiting: the losses stay tensors, so the host can queue the
        next steps while the device works. `step`: the number of updates made before."""
        warming_up = self.discriminator is None or step < self.config.warmup_steps
        losses = (self._compiled_regression_step if warming_up else
                  self._compiled_gan_step)(inputs, targets)
        self.step.assign_add(1)
        return losses

    # --- the loop -----------------------------------------------------------------------

    def restore(self):
        """Continue from the newest checkpoint in the run folder that reads back whole (a
        damaged one is named and skipped); returns its path, or None if there is none."""
        # Every worker restores from the chief's folder (the others only write scratch copies).
        damaged = []
        for path in checkpoints_newest_first(self.run_dir / "checkpoints"):
            try:
                self.checkpoint.restore(path).assert_existing_objects_matched()
            except (tf.errors.OpError, ValueError, IndexError, AssertionError) as error:
                damaged.append(path)
                tqdm.write(f"checkpoint {path} is damaged ({type(error).__name__}: "
                           f"{str(error).splitlines()[0][:200]}); trying an older one")
                continue
            return path
        if damaged:
            raise RunFolderError(f"no checkpoint in {self.run_dir / 'checkpoints'} reads back "
                                 f"whole (damaged: {', '.join(damaged)})")
        return None

    def fit(self):
        """Train until `total_steps`; returns the final validation metrics (if any)."""
        c = self.config
        if int(self.step) >= self.total_steps:  # nothing to do: keep what was saved
            self._release()
            tqdm.write(f"{self.run_dir} already finished at step {int(self.step)}; raise "
                       f"--epochs or --steps to train it further")
            return {}
        if self.is_chief:
            self._val_writer = tf.summary.create_file_writer(str(self.run_dir / "validation"))
            train_writer = tf.summary.create_file_writer(str(self.run_dir / "train"))
            for writer in (train_writer, self._val_writer):
                mark_session_start(writer, int(self.step) + 1)
        else:  # other workers compute and checkpoint with the chief, but write no logs
            self._val_writer = train_writer = tf.summary.create_noop_writer()
        val_writer = self._val_writer
        if int(self.step) == 0:
            self._log_hparams(train_writer)
        image_batch = self._image_batch()
        metrics = {}
        self.stop_requested = False
        previous_handler = _on_sigterm(self)
        try:
            while int(self.step) < self.total_steps:
                epoch, done = divmod(int(self.step), self.steps_per_epoch)
                self._train_epoch(epoch, done, train_writer, image_batch)
                if not c.val_every or int(self.step) == self.total_steps:
                    metrics = self._validate(val_writer)
                self._epoch_samples(epoch, image_batch, val_writer)
                self.checkpoints.save(checkpoint_number=int(self.step))
        except KeyboardInterrupt:
            self.checkpoints.save(checkpoint_number=int(self.step))
            tqdm.write(f"\ninterrupted: saved a checkpoint at step {int(self.step)} in "
                       f"{self.checkpoints.directory}; continue with --resume")
            raise
        finally:
            train_writer.flush()
            val_writer.flush()
            if previous_handler is not None:
                signal.signal(signal.SIGTERM, previous_handler)
            self._release()
        if self.is_chief:
            self.save_generator(self.run_dir / "model", metrics)
        else:
            shutil.rmtree(self.checkpoints.directory, ignore_errors=True)
        return metrics

    def _train_epoch(self, epoch, done, writer, image_batch):
        """One epoch from step `done` on. The host waits for the device only on logging and
        checkpoint steps: the step count is kept in Python, losses stay tensors between."""
        c = self.config
        steps = min(self.steps_per_epoch, self.total_steps - epoch * self.steps_per_epoch)
        seen = []   # the pairs' indices, as tensors until the epoch ends
        bar = tqdm(total=steps, initial=done, desc=f"epoch {epoch + 1}/{c.epochs}",
                   unit="step", dynamic_ncols=True)
        step, start, images = int(self.step), time.perf_counter(), 0
        last = epoch * self.steps_per_epoch + steps   # the epoch's last step: always shown
        for inputs, targets, indices in self._training_data(epoch, done):
            losses = self._update(inputs, targets, step)
            step += 1
            seen += self.strategy.experimental_local_results(indices)
            images += sum(int(t.shape[0]) for t in self.strategy.experimental_local_results(inputs))
            bar.update(1)
            if step % c.log_every == 0 or step in (1, last) or step % c.checkpoint_every == 0:
                losses = _floats(losses)  # the one wait for the device in most steps
                self._check_finite(losses, step)
                speed = images / (time.perf_counter() - start)
                bar.set_postfix({**{k: f"{losses[k]:.3f}" for k in _progress_terms(losses)},
                                 "img/s": f"{speed:.1f}"})
                self._log_losses(writer, losses, speed, step)
            if image_batch is not None and (step % c.image_every == 0 or step == 1):
                self._log_images(writer, image_batch, step)
            if c.val_every and step % c.val_every == 0:
                self._validate(self._val_writer)
            if step % c.checkpoint_every == 0:
                self.checkpoints.save(checkpoint_number=step)
            if self.stop_requested:
                raise KeyboardInterrupt  # saved and reported by fit
            if step >= self.total_steps:
                break
        if seen:
            self._check_finite(_floats(losses), step)  # before fit saves anything
        seen = [t.numpy() for t in seen]
        bar.close()
        epoch_end = min((epoch + 1) * self.steps_per_epoch, self.total_steps)
        if int(self.step) < epoch_end:
            # Unreadable files made this pass shorter than an epoch: go on to the next epoch
            # (re-reading this one's tail could find nothing readable, for ever).
            self.step.assign(epoch_end)
        if done == 0 and int(self.step) == (epoch + 1) * self.steps_per_epoch and \
                worker_count(self.strategy) == 1:
            # (with several workers each sees only its own shard of the pairs)
            self._report_skipped(self.train_pairs, seen, "training", writer)

    def _training_data(self, epoch, done):
        """This epoch's batches from step `done` on. Under a strategy with several replicas,
        each worker reads its own shard of the (identically shuffled) pairs, batched per
        replica, so no file is decoded twice."""
        c = self.config

        def make(context=None):
            shards = context.num_input_pipelines if context else 1
            batch = context.get_per_replica_batch_size(c.batch_size) if context else c.batch_size
            return paired_dataset(self.train_pairs, c.size, batch, training=True, seed=c.seed,
                                  epoch=epoch, skip=done * c.batch_size // shards, task=c.task,
                                  extract_lines=c.extract_lines, hints=c.hints,
                                  shard=(context.input_pipeline_id, shards) if context else None)

        if self.strategy.num_replicas_in_sync == 1:
            return make()
        return self.strategy.distribute_datasets_from_function(make)

    def _log_losses(self, writer, losses, speed, step):
        with writer.as_default(step=step):
            for name, value in losses.items():
                tf.summary.scalar(f"loss/{name}", value)
            tf.summary.scalar("learning_rate/generator", float(self.g_optimizer.learning_rate))
            if self.d_optimizer is not None:
                tf.summary.scalar("learning_rate/discriminator",
                                  float(self.d_optimizer.learning_rate))
            tf.summary.scalar("images_per_second", speed)

    def _check_finite(self, losses, step):
        bad = {k: v for k, v in losses.items() if not math.isfinite(v)}
        if bad:
            raise TrainingDiverged(
                f"loss became {bad} at step {step}; stopped without saving. The last good "
                f"checkpoint is {self.checkpoints.latest_checkpoint or 'none (no checkpoint yet)'}")

    def _report_skipped(self, pairs, seen, split, writer):
        seen_indices = set(np.concatenate(seen).tolist()) if seen else set()
        missing = [pairs[i] for i in range(len(pairs)) if i not in seen_indices]
        with writer.as_default(step=int(self.step)):
            tf.summary.scalar(f"data/skipped_{split}_files", len(missing))
        for pair in missing:
            for path in map(str, pair):
                self.skipped[path] = self.skipped.get(path, 0) + 1
        if missing:
            listing = "\n".join(f"  {a}  |  {b}" for a, b in missing[:20])
            more = f"\n  ... and {len(missing) - 20} more" if len(missing) > 20 else ""
            tqdm.write(f"skipped {len(missing)} unreadable {split} pair(s) of {len(pairs)}:\n"
                       f"{listing}{more}")
            self._write_json("skipped_files.json", self.skipped)

    def _validate(self, writer):
        """L1, PSNR, SSIM, CIEDE2000 and colourfulness over the validation split, generator
        in inference mode; keeps the best generator by `best_metric`."""
        c = self.config
        if not self.val_pairs:
            return {}
        data = paired_dataset(self.val_pairs, c.size, c.batch_size, task=c.task,
                              extract_lines=c.extract_lines, hints=c.hints)  # (no hints given)
        if c.val_batches:
            data = data.take(c.val_batches)
        per_image, seen = {}, []
        for inputs, targets, indices in data:
            outputs = self._predict(inputs)
            per_image.setdefault("l1", []).append(tf.reduce_mean(tf.abs(outputs - targets), [1, 2, 3]))
            for name, values in batch_metrics(self.as_rgb(inputs, outputs),
                                              self.as_rgb(inputs, targets)).items():
                per_image.setdefault(name, []).append(values)
            seen.append(indices.numpy())
        if not c.val_batches:
            self._report_skipped(self.val_pairs, seen, "validation", writer)
        if not seen:
            return {}
        metrics = summarize(per_image)
        with writer.as_default(step=int(self.step)):
            for name, value in metrics.items():
                tf.summary.scalar(f"metrics/{name}", value)
        writer.flush()
        score = _badness(c.best_metric, metrics[c.best_metric])
        if score < float(self.best):
            self.best.assign(score)
            if self.is_chief:
                self.save_generator(self.run_dir / "best", metrics)
        return metrics

    def _image_batch(self):
        """A fixed batch of (up to 4) validation pairs, drawn at every image log."""
        pairs = self.val_pairs if len(self.val_pairs) else self.train_pairs
        for inputs, targets, _ in paired_dataset(pairs, self.config.size, 4,
                                                 task=self.config.task,
                                                 extract_lines=self.config.extract_lines,
                                                 hints=self.config.hints):
            return inputs, targets
        return None

    def as_rgb(self, inputs, outputs):
        """Network tensors -> RGB in [-1, 1], what metrics and image logs take."""
        outputs = tf.cast(outputs, tf.float32)
        if self.config.task == "sketch":
            return outputs
        lab = network_to_lab(inputs[..., : self.base_channels], outputs)
        return lab_to_rgb(lab) * 2.0 - 1.0

    def _grid(self, batch):
        """input | target | output side by side, one row an image, in [0, 1]."""
        inputs, targets = batch
        outputs = self._predict(inputs)
        shown_input = inputs[..., :3] if self.config.task == "sketch" else self.as_rgb(
            inputs, tf.zeros_like(targets))  # L alone, as gray
        grid = tf.concat([shown_input, self.as_rgb(inputs, targets),
                          self.as_rgb(inputs, outputs)], axis=2)  # side by side
        return tf.clip_by_value((grid + 1.0) / 2.0, 0.0, 1.0)

    def _log_images(self, writer, batch, step):
        with writer.as_default(step=step):
            tf.summary.image("input | target | output", self._grid(batch), max_outputs=4)

    def _epoch_samples(self, epoch, batch, writer):
        """The fixed validation batch after each epoch: in TensorBoard's validation run and
        as runs/<run>/samples/epoch-NNN.png, rows of input | target | output."""
        if batch is None:
            return
        grid = self._grid(batch)  # on every worker, as the image logs are
        with writer.as_default(step=int(self.step)):
            tf.summary.image("validation: input | target | output", grid, max_outputs=4)
        if not self.is_chief:
            return
        picture = tf.reshape(grid, [-1, grid.shape[2], grid.shape[3]])  # rows stacked
        png = tf.io.encode_png(tf.cast(tf.round(picture * 255.0), tf.uint8)).numpy()
        (self.run_dir / "samples").mkdir(exist_ok=True)
        write_atomically(self.run_dir / "samples" / f"epoch-{epoch + 1:03d}.png", png)

    def _log_hparams(self, writer):
        from tensorboard.plugins.hparams import api as hp

        hparams = {k: v for k, v in dataclasses.asdict(self.config).items()
                   if isinstance(v, (bool, int, float, str))}
        with writer.as_default():
            hp.hparams(hparams, trial_id=self.run_dir.name)

    def save_generator(self, path, metrics=None):
        """Save the generator as a pix2color model folder (see `models.save_generator`)."""
        c = self.config
        info = {"task": c.task, "colour_space": "rgb" if c.task == "sketch" else "lab",
                "size": c.size, "hints": c.hints,
                "training": dict(self.describe(), step=int(self.step), metrics=metrics or {})}
        return save_generator(path, self.generator, c.generator, self.generator_args, info)
