"""The run folder of a training run: one process at a time (a lock), never another run's
folder overwritten, a resume checked against the saved configuration before anything is
written, checkpoints listed newest first, and TensorBoard told where a resumed session starts.
"""

import dataclasses
import json
import os
import shutil
import time
from pathlib import Path

import tensorflow as tf
from tensorboard.compat.proto import event_pb2

from .files import write_json


class RunFolderError(RuntimeError):
    """A run folder that holds another run, is in use by another process, or whose
    configuration differs from the one asked to resume it."""


# What may change when a run is resumed: how long it runs and what it logs, not the model.
RESUMABLE = ("epochs", "max_steps", "log_every", "image_every", "val_every", "val_batches",
             "checkpoint_every", "keep_checkpoints", "jit", "deterministic")


def lock_run_dir(run_dir):
    """Hold an exclusive lock on `run_dir/.lock` while this process trains; a second process
    is refused. The lock dies with the process, so a crash leaves nothing stale."""
    import fcntl

    handle = open(run_dir / ".lock", "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        owner = handle.read().strip() or "?"
        handle.close()
        raise RunFolderError(f"{run_dir} is in use by another training process (pid {owner}); "
                             f"wait for it or pick another --run-name") from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def checkpoints_newest_first(directory):
    """Paths (without suffix) of the checkpoints in `directory`, newest first."""
    steps = []
    for index in Path(directory).glob("ckpt-*.index"):
        number = index.name[len("ckpt-"): -len(".index")]
        if number.isdigit():
            steps.append(int(number))
    return [str(Path(directory) / f"ckpt-{n}") for n in sorted(steps, reverse=True)]


def holds_run(run_dir):
    """Whether `run_dir` holds a run: a checkpoint, or a final model."""
    return bool(checkpoints_newest_first(run_dir / "checkpoints")) or \
        (run_dir / "model").exists()


def run_names(logdir):
    """The runs in `logdir` (folders holding a config.json), newest first."""
    logdir = Path(logdir)
    configs = list(logdir.glob("*/config.json")) if logdir.is_dir() else []
    return [p.parent.name for p in sorted(configs, key=lambda p: p.stat().st_mtime,
                                          reverse=True)]


def _nothing_to_resume(run_dir):
    """Why `run_dir` cannot be resumed, naming the runs that can be."""
    there = "a model but no checkpoint to continue from" if (run_dir / "model").exists() \
        else "no run"
    names = run_names(run_dir.parent)
    runs = (f"the runs in {run_dir.parent}: {', '.join(names)}" if names
            else f"there are no runs in {run_dir.parent}")
    return RunFolderError(f"nothing to resume: {run_dir} holds {there} ({runs}; without "
                          f"--resume (resume=False) a new run starts)")


def check_run_dir(run_dir, config, resume, overwrite):
    """Whether `run_dir` may take this run, read only: a folder that holds a run is refused
    unless resuming it (with a matching configuration) or overwriting it, and resuming
    needs a checkpoint. Returns whether an old run is to be replaced."""
    has_run = holds_run(run_dir)
    saved_path = run_dir / "config.json"
    if has_run and not resume and not overwrite:
        raise RunFolderError(f"{run_dir} already holds a run: continue it with --resume "
                             f"(resume=True), or start it over with --overwrite "
                             f"(overwrite=True), or pick another --run-name")
    if resume and not overwrite and not checkpoints_newest_first(run_dir / "checkpoints"):
        raise _nothing_to_resume(run_dir)
    if resume and not overwrite and saved_path.exists():
        try:
            saved = json.loads(saved_path.read_text())["config"]
        except (ValueError, KeyError, TypeError) as error:
            raise RunFolderError(f"{saved_path} is unreadable ({error}): cannot check that "
                                 f"the run is resumed with its own configuration") from None
        new = dataclasses.asdict(config)
        changed = [f"{key}: {saved.get(key)!r} -> {new.get(key)!r}"
                   for key in sorted(set(saved) | set(new))
                   if key not in RESUMABLE and saved.get(key) != new.get(key)]
        if changed:
            raise RunFolderError(f"cannot resume {run_dir} with a different configuration: "
                                 f"{'; '.join(changed)} (only {', '.join(RESUMABLE)} may "
                                 f"change on resume)")
    return has_run and overwrite


def remove_crash_leftovers(run_dir):
    """Writes a crash cut short: a checkpoint save, a model folder (save_generator)."""
    for stale in (run_dir / "checkpoints").glob("*_temp*"):
        shutil.rmtree(stale, ignore_errors=True)
    for stale in run_dir.glob(".*.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)


def existing_ancestor(path):
    """`path` itself, or the nearest folder above it that exists (where it would be made)."""
    path = Path(path).absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def clear_run_dir(run_dir):
    """Delete the run in `run_dir` (--overwrite), keeping the folder and its lock."""
    for name in ("checkpoints", "model", "best", "train", "validation", "samples"):
        shutil.rmtree(run_dir / name, ignore_errors=True)
    for name in ("config.json", "skipped_files.json"):
        (run_dir / name).unlink(missing_ok=True)
    (run_dir / "checkpoints").mkdir()


def mark_session_start(writer, step):
    """Tell TensorBoard a session starts at `step`: on a resume, whatever the interrupted
    run logged from `step` on (after its last checkpoint) is dropped, not shown twice."""
    event = event_pb2.Event(wall_time=time.time(), step=step,
                            session_log=event_pb2.SessionLog(status=event_pb2.SessionLog.START))
    # tf.summary has no call for session events; the raw op writes one through the writer.
    tf.raw_ops.ImportEvent(writer=writer._resource, event=event.SerializeToString())


class RunFolder:
    """One run's folder (`logdir/run_name`) and what lives in it:

    config.json        the resolved configuration
    train, validation  TensorBoard events (pix2color.logs)
    checkpoints/       step, both nets, both optimizers (tf.train.Checkpoint)
    model/, best/      the final generator, and the best by validation; Colorizer.load-able
    samples/           a picture of the fixed validation batch after every epoch

    Only the chief worker writes here; another worker checkpoints into a scratch folder of
    its own (every worker must take part in a save) that is removed when training ends."""

    def __init__(self, path, is_chief=True, worker=0):
        self.path, self.is_chief = Path(path), is_chief
        self.checkpoint_dir = self.path / ("checkpoints" if is_chief else
                                           f".worker-{worker}-checkpoints")
        self._lock, self._replace = None, False

    def check(self, config, resume, overwrite):
        """Read only, so a Trainer can fail early without touching anything: the folder could
        be made and written, and it may take this run (`check_run_dir`; chief only)."""
        base = existing_ancestor(self.path)
        if not base.is_dir() or not os.access(base, os.W_OK):
            why = "not a folder" if not base.is_dir() else "not writable"
            raise OSError(f"cannot write the run folder {self.path}: {base} is {why}")
        if self.is_chief:
            check_run_dir(self.path, config, resume, overwrite)

    def claim(self, config, resume, overwrite):
        """When training starts: make the folder, prove it takes a write, lock it for this
        process and check again (chief only) that it may hold this run, now that no other
        process can change it. An old run to overwrite stays until `start`."""
        try:
            (self.path / "checkpoints").mkdir(parents=True, exist_ok=True)
            probe = self.path / f".write-test-{os.getpid()}"  # workers may share the folder
            probe.write_bytes(b"\0" * 1024 * 1024)  # fail now, not hours in, on a full disk
            probe.unlink()
        except OSError as error:
            raise OSError(f"cannot write the run folder {self.path}: "
                          f"{error.strerror or error}") from None
        if self.is_chief:
            self._lock = lock_run_dir(self.path)
            try:
                self._replace = check_run_dir(self.path, config, resume, overwrite)
                remove_crash_leftovers(self.path)
            except BaseException:
                self.release()
                raise

    def start(self):
        """The new run is built and checked: only now does an overwritten run go."""
        if self._replace:
            clear_run_dir(self.path)
            self._replace = False

    def release(self):
        """Give up the lock (fit does after its last write, however it ends)."""
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.close()

    def check_free_space(self, weight_bytes, keep_checkpoints):
        """Fail before training, not hours in, when the disk cannot hold what the run
        writes: `keep_checkpoints` + 1 checkpoints (weights and two optimizer slots) and the
        model/ and best/ folders."""
        needed = weight_bytes * 3 * (keep_checkpoints + 1) + weight_bytes * 2
        free = shutil.disk_usage(existing_ancestor(self.path)).free
        if free < needed:
            raise OSError(f"not enough free disk space for the run folder {self.path}: "
                          f"it needs about {needed / 2**20:.0f} MiB for checkpoints and "
                          f"models, {free / 2**20:.0f} MiB are free")

    def write_json(self, name, value):
        if self.is_chief:
            write_json(self.path / name, value)

    def checkpoints(self, checkpoint, keep):
        return tf.train.CheckpointManager(checkpoint, self.checkpoint_dir, max_to_keep=keep)

    def restore(self, checkpoint):
        """Restore the newest checkpoint that reads back whole (a damaged one is named and
        skipped); its path, or None if there is none. Every worker reads the chief's."""
        from tqdm.auto import tqdm

        damaged = []
        for path in checkpoints_newest_first(self.path / "checkpoints"):
            try:
                checkpoint.restore(path).assert_existing_objects_matched()
            except (tf.errors.OpError, ValueError, IndexError, AssertionError) as error:
                damaged.append(path)
                tqdm.write(f"checkpoint {path} is damaged ({type(error).__name__}: "
                           f"{str(error).splitlines()[0][:200]}); trying an older one")
                continue
            return path
        if damaged:
            raise RunFolderError(f"no checkpoint in {self.path / 'checkpoints'} reads back "
                                 f"whole (damaged: {', '.join(damaged)})")
        return None

    def finish(self):
        """After training: a worker's scratch checkpoints go."""
        if not self.is_chief:
            shutil.rmtree(self.checkpoint_dir, ignore_errors=True)
