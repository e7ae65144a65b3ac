"""Training: a `Trainer` that puts the parts of a run together and `fit`s.

The parts, one job each: the configuration (`pix2color.config.TrainConfig`), the nets and
their optimizers (`pix2color.nets`), the compiled steps (`pix2color.steps`), precision
(`pix2color.optim`), the run folder and its checkpoints (`pix2color.runs.RunFolder`),
TensorBoard (`pix2color.logs`), validation and the best model (`pix2color.validate`),
tf.distribute (`pix2color.distribute`), and what an early stop keeps (`pix2color.stopping`).
The compiled step only computes and applies gradients; the host waits for the device only on
logging and checkpoint steps (losses stay tensors between them).
"""

import dataclasses
import math
import time
from pathlib import Path

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from . import __version__
from .config import TrainConfig  # noqa: F401  (public here too)
from .data import paired_dataset
from .distribute import is_chief, task_id, worker_count
from .logs import RunLogs, sample_batch, sample_grid
from .modelfile import ModelFileError, load_generator, save_generator
from .nets import build_nets
from .optim import resolve_precision
from .runs import RunFolder, checkpoints_newest_first
from .steps import make_gan_step, make_regression_step
from .stopping import (TrainingDiverged,  # noqa: F401  (public here too)
                       check_finite, saved_on_stop, stop_on_sigterm)
from .tasks import get_task
from .validate import Validator

TINY_SPLIT = 20  # fewer validation pairs than this get a warning


class Trainer:
    """Trains one pix2pix (or L1 / MSE regression) colorizer in the run folder
    `logdir/run_name` (see `pix2color.runs.RunFolder` for its layout)."""

    def __init__(self, config, train_pairs, val_pairs=(), logdir="runs", run_name=None,
                 data_info=None, strategy=None, resume=False, overwrite=False, rebalanced=None):
        """`train_pairs`, `val_pairs`: lists of (input, target) paths, or ShardedPairs.
        `rebalanced`: a bool per training pair, the pairs `config.colour_rebalance` weighs
        (default: all), e.g. only the sources whose drawings come back too pale.
        `resume`: continue the run in the folder from its newest readable checkpoint; its
        configuration must match but for `runs.RESUMABLE` keys. `overwrite`: replace the run
        already there. Without either, a folder that holds a run is refused: nothing is ever
        overwritten. Building checks all of that and builds the nets, but writes nothing:
        the folder is claimed (and an old run replaced) when `fit` starts."""
        self.config = c = config
        self.task = get_task(c.task)
        self.strategy = strategy or tf.distribute.get_strategy()  # see distribute.make_strategy
        self.train_pairs = train_pairs if hasattr(train_pairs, "records") else list(train_pairs)
        self.val_pairs = val_pairs if hasattr(val_pairs, "records") else list(val_pairs)
        if not len(self.train_pairs):
            raise ValueError("no training pairs")
        if rebalanced is not None and len(rebalanced) != len(self.train_pairs):
            raise ValueError(f"rebalanced has {len(rebalanced)} entries for "
                             f"{len(self.train_pairs)} training pairs: give one per pair")
        self.rebalanced = None if rebalanced is None else \
            tf.constant(np.asarray(rebalanced, np.float32))
        run_name = run_name or time.strftime(f"%Y%m%d-%H%M%S-{c.mode}")
        self.run = RunFolder(Path(logdir) / run_name, is_chief(self.strategy),
                             task_id(self.strategy))
        self.run_dir = self.run.path
        self.resume, self.overwrite = resume, overwrite
        self.run.check(c, resume, overwrite)
        self._restored_from = None   # the checkpoints there were when `restore` last read one
        self._set_up(data_info)

    def _set_up(self, data_info):
        """Everything built and checked before `fit` may claim the run folder."""
        c = self.config
        self.policy = resolve_precision(c.precision)
        self.steps_per_epoch = math.ceil(len(self.train_pairs) / c.batch_size)
        self.total_steps = min(c.epochs * self.steps_per_epoch, c.max_steps or math.inf)

        # Plain counters, the same on every worker: created outside the strategy's scope.
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.predict = tf.function(lambda x: self.generator(x, training=False),
                                   reduce_retracing=True)
        self.validator = Validator(self.val_pairs, c, self.task, self.predict)
        with self.strategy.scope():
            nets = build_nets(c, self.task, self.total_steps, self.policy)
        self.generator, self.generator_args = nets.generator, nets.generator_args
        self.discriminator = nets.discriminator
        self.g_optimizer, self.d_optimizer = nets.g_optimizer, nets.d_optimizer
        self.checkpoint = tf.train.Checkpoint(step=self.step, best=self.validator.best,
                                              **nets.checkpointed())
        # The compiled steps: pure functions of the nets (pix2color.steps), run per replica.
        self.regression_step = self._distributed(make_regression_step(
            self.generator, self.g_optimizer, c))
        self.gan_step = None if self.discriminator is None else self._distributed(make_gan_step(
            self.generator, self.discriminator, self.g_optimizer, self.d_optimizer, c,
            self.task.in_channels))

        self.data_info = dict(data_info or {}, train_pairs=len(self.train_pairs),
                              val_pairs=len(self.val_pairs))
        if self.rebalanced is not None:
            self.data_info["rebalanced_pairs"] = int(tf.reduce_sum(self.rebalanced))
        self.skipped = {}  # path -> times skipped as unreadable
        if len(self.val_pairs) < TINY_SPLIT:
            tqdm.write(f"warning: {len(self.val_pairs)} validation pairs: "
                       + ("no validation metrics and no best/ model"
                          if not len(self.val_pairs) else
                          "its metrics and the best/ model will be noisy")
                       + f" (aim for {TINY_SPLIT} or more; --val-fraction)")
        self.run.check_free_space(nets.weight_bytes(), c.keep_checkpoints)

    # --- set-up -------------------------------------------------------------------------

    def _distributed(self, step):
        """Compile `step` to run on every replica of the strategy; losses come back averaged."""
        table = self.rebalanced

        def replica(inputs, targets, indices):  # which images colour rebalancing weighs
            return step(inputs, targets, None if indices is None else tf.gather(table, indices))

        replica_step = tf.function(replica, jit_compile=self.config.jit, reduce_retracing=True)

        def run(inputs, targets, indices=None):
            indices = None if table is None else indices
            losses = self.strategy.run(replica_step, args=(inputs, targets, indices))
            self.step.assign_add(1)  # in the graph: no eager op of its own each step
            return {k: self.strategy.reduce("MEAN", v, axis=None) for k, v in losses.items()}

        return tf.function(run, reduce_retracing=True)

    def describe(self):
        """The resolved run description saved next to the checkpoints and in the model."""
        return {"pix2color_version": __version__, "config": dataclasses.asdict(self.config),
                "precision": self.policy, "data": self.data_info,
                "generator_parameters": self.generator.count_params()}

    # --- training -----------------------------------------------------------------------

    def train_step(self, inputs, targets, indices=None):
        """One update on one batch; returns the losses as floats."""
        return _floats(self.update(inputs, targets, int(self.step), indices))

    def update(self, inputs, targets, step, indices=None):
        """One update without waiting for it: the losses stay tensors. `step`: the updates
        made before; `indices`: the batch's pair indices (they say which pairs are
        `rebalanced`; None: all). In gan mode the first `warmup_steps` train the generator on
        L1 alone."""
        warm = self.gan_step is not None and step >= self.config.warmup_steps
        return (self.gan_step if warm else self.regression_step)(inputs, targets, indices)

    def restore(self):
        """Continue from the newest readable checkpoint (reading only); its path, or None if
        there is none (always, with overwrite: the run there is to be replaced). `fit` does
        this itself when resuming, unless it was done already."""
        if self.overwrite:
            return None
        self._restored_from = checkpoints_newest_first(self.run_dir / "checkpoints")
        return self.run.restore(self.checkpoint)

    def fit(self):
        """Claim the run folder and train until `total_steps`; returns the final validation
        metrics (if any). A run already finished is left as it is (`_repair_model`). The
        folder stays locked until the final model is written."""
        self.run.claim(self.config, self.resume, self.overwrite)
        try:
            if self.resume and self._restored_from != checkpoints_newest_first(
                    self.run_dir / "checkpoints"):   # not restored, or changed since
                self.restore()
            if int(self.step) >= self.total_steps:  # nothing to train: keep what was saved
                self._repair_model()
                return {}
            return self._train()
        finally:
            self.run.release()

    def _train(self):
        """The training loop of `fit`, in a claimed folder: an old run to overwrite goes once
        the sample batch has been read, the last thing that can fail before training."""
        samples = sample_batch(self.val_pairs if len(self.val_pairs) else self.train_pairs,
                               self.config)
        if self.config.deterministic:
            tf.config.experimental.enable_op_determinism()
        self.run.start()
        self.checkpoints = self.run.checkpoints(self.checkpoint, self.config.keep_checkpoints)
        self.run.write_json("config.json", self.describe())
        self.logs = RunLogs(self.run_dir, self.run.is_chief, int(self.step) + 1)
        if int(self.step) == 0:
            self.logs.hparams(self.config, self.run_dir.name)
        metrics = {}
        try:
            with stop_on_sigterm() as stop, \
                    saved_on_stop(self.checkpoints, self.step, self.run_dir):
                self.stop_requested = stop   # set by SIGTERM, checked between steps
                while int(self.step) < self.total_steps:
                    epoch, done = divmod(int(self.step), self.steps_per_epoch)
                    self._train_epoch(epoch, done, samples)
                    if not self.config.val_every or int(self.step) == self.total_steps:
                        metrics = self.validate()
                    if samples is not None:
                        grid = sample_grid(self.task, self.predict, samples)
                        self.logs.epoch_samples(int(self.step), epoch, grid)
                    self.checkpoints.save(checkpoint_number=int(self.step))
                if self.run.is_chief:
                    self.save_generator(self.run_dir / "model", metrics)
                self.run.finish()
        finally:
            self.logs.flush()
        return metrics

    def _repair_model(self):
        """A finished run: its model/ is left as it is, unless a kill during the final save
        left it missing or damaged; then it is written again from the last checkpoint."""
        model = self.run_dir / "model"
        try:
            load_generator(model)
        except (ModelFileError, FileNotFoundError) as error:
            if not self.run.is_chief:
                return
            tqdm.write(f"{model} is missing or damaged ({str(error)[:200]}): writing it "
                       f"again from the checkpoint at step {int(self.step)}")
            metrics = self.validator.score()[0] if len(self.val_pairs) else {}
            self.save_generator(model, metrics)
            return
        tqdm.write(f"{self.run_dir} already finished at step {int(self.step)}; nothing was "
                   f"changed (raise --epochs or --steps to train it further)")

    def _train_epoch(self, epoch, done, samples):
        """One epoch from step `done` on. The step count is kept in Python; the host waits
        for the device only on logging and checkpoint steps."""
        c = self.config
        steps = min(self.steps_per_epoch, self.total_steps - epoch * self.steps_per_epoch)
        last = epoch * self.steps_per_epoch + steps   # the epoch's last step: always shown
        bar = tqdm(total=steps, initial=done, desc=f"epoch {epoch + 1}/{c.epochs}",
                   unit="step", dynamic_ncols=True)
        step, start, images, seen = int(self.step), time.perf_counter(), 0, []
        for inputs, targets, indices in self._training_data(epoch, done):
            losses = self.update(inputs, targets, step, indices)
            step += 1
            seen += self.strategy.experimental_local_results(indices)  # tensors till the end
            images += sum(int(t.shape[0]) for t in self.strategy.experimental_local_results(inputs))
            bar.update(1)
            if step % c.log_every == 0 or step in (1, last) or step % c.checkpoint_every == 0:
                self._log(_floats(losses), step, images / (time.perf_counter() - start), bar)
            if samples is not None and (step % c.image_every == 0 or step == 1):
                self.logs.images(step, sample_grid(self.task, self.predict, samples))
            if c.val_every and step % c.val_every == 0:
                self.validate()
            if step % c.checkpoint_every == 0:
                self.checkpoints.save(checkpoint_number=step)
            if self.stop_requested.is_set():
                raise KeyboardInterrupt  # saved and reported by fit
            if step >= self.total_steps:
                break
        if seen:
            check_finite(_floats(losses), step, self.checkpoints)  # before fit saves anything
        bar.close()
        epoch_end = min((epoch + 1) * self.steps_per_epoch, self.total_steps)
        if int(self.step) < epoch_end:
            # Unreadable files made this pass shorter than an epoch: go on to the next epoch
            # (re-reading this one's tail could find nothing readable, for ever).
            self.step.assign(epoch_end)
        # A whole epoch read on one worker (others see only their shard): report what was not.
        if done == 0 and int(self.step) == (epoch + 1) * self.steps_per_epoch and \
                worker_count(self.strategy) == 1:
            self._report_skipped(self.train_pairs, [t.numpy() for t in seen], "training")

    def _log(self, losses, step, speed, bar):
        """The one wait for the device in most steps: check, show and log the losses."""
        check_finite(losses, step, self.checkpoints)
        bar.set_postfix({**{k: f"{losses[k]:.3f}" for k in _progress_terms(losses)},
                         "img/s": f"{speed:.1f}"})
        rates = {"generator": float(self.g_optimizer.learning_rate)}
        if self.d_optimizer is not None:
            rates["discriminator"] = float(self.d_optimizer.learning_rate)
        self.logs.losses(step, losses, rates, speed)

    def _training_data(self, epoch, done):
        """This epoch's batches from step `done` on. Under a strategy with several replicas,
        each worker reads its own shard of the (identically shuffled) pairs, batched per
        replica, so no file is decoded twice."""
        c = self.config

        def make(context=None):
            shards = context.num_input_pipelines if context else 1
            batch = context.get_per_replica_batch_size(c.batch_size) if context else c.batch_size
            return paired_dataset(self.train_pairs, batch_size=batch, training=True, seed=c.seed,
                                  epoch=epoch, skip=done * c.batch_size // shards, config=c,
                                  shard=(context.input_pipeline_id, shards) if context else None)

        if self.strategy.num_replicas_in_sync == 1:
            return make()
        return self.strategy.distribute_datasets_from_function(make)

    def _report_skipped(self, pairs, seen, split):
        seen_indices = set(np.concatenate(seen).tolist()) if seen else set()
        missing = [pairs[i] for i in range(len(pairs)) if i not in seen_indices]
        self.logs.skipped(int(self.step), split, len(missing))
        for pair in missing:
            for path in map(str, pair):
                self.skipped[path] = self.skipped.get(path, 0) + 1
        if missing:
            listing = "\n".join(f"  {a}  |  {b}" for a, b in missing[:20])
            more = f"\n  ... and {len(missing) - 20} more" if len(missing) > 20 else ""
            tqdm.write(f"skipped {len(missing)} unreadable {split} pair(s) of {len(pairs)}:\n"
                       f"{listing}{more}")
            self.run.write_json("skipped_files.json", self.skipped)

    # --- validation, pictures and the model -----------------------------------------------

    def validate(self):
        """Score the validation split, log it, and keep the best generator in best/."""
        metrics, seen = self.validator.score()
        if not self.config.val_batches and len(self.val_pairs):
            self._report_skipped(self.val_pairs, seen, "validation")
        if not metrics:
            return {}
        self.logs.metrics(int(self.step), metrics)
        if self.validator.is_best(metrics) and self.run.is_chief:
            self.save_generator(self.run_dir / "best", metrics)
        return metrics

    def save_generator(self, path, metrics=None):
        """Save the generator as a pix2color model folder (see `modelfile.save_generator`)."""
        info = {"task": self.task.name, "size": self.config.size, "hints": self.config.hints,
                "training": dict(self.describe(), step=int(self.step), metrics=metrics or {})}
        return save_generator(path, self.generator, self.config.generator,
                              self.generator_args, info)


def _floats(losses):
    return {k: float(v) for k, v in losses.items()}


def _progress_terms(losses):
    """The loss terms a progress bar shows: each term on its own scale (L1 or MSE, the
    adversarial terms), not a weighted total whose scale jumps when the warm-up ends."""
    return [k for k in ("g_l1", "g_mse", "g_adversarial", "d_total") if k in losses]
