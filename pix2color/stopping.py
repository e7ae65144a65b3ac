"""How a training run that stops before its end says so, and what it keeps: Ctrl-C, or
SIGTERM (what `kill` and job schedulers send), saves a checkpoint to resume from; a full disk
and a loss gone NaN stop it naming the last whole checkpoint."""

import contextlib
import math
import signal
import threading

import tensorflow as tf
from tqdm.auto import tqdm

from .files import is_disk_full


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; nothing after the last good checkpoint was saved."""


def check_finite(losses, step, checkpoints):
    """Raise TrainingDiverged if a loss (floats by name) is NaN or infinite at `step`."""
    bad = {k: v for k, v in losses.items() if not math.isfinite(v)}
    if bad:
        raise TrainingDiverged(
            f"loss became {bad} at step {step}; stopped without saving. The last good "
            f"checkpoint is {checkpoints.latest_checkpoint or 'none (no checkpoint yet)'}")


@contextlib.contextmanager
def stop_on_sigterm():
    """A threading.Event that SIGTERM sets while inside, for the loop to check between steps
    and stop as Ctrl-C does: an exception raised in the middle of TensorFlow's tracing would
    not unwind cleanly. The previous handler comes back after; where signals cannot be set
    (not the main thread) SIGTERM is left as it is."""
    stop = threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    try:
        yield stop
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def saved_on_stop(checkpoints, step, run_dir):
    """Inside: Ctrl-C saves a checkpoint at `step` (a variable) and says how to go on; a
    full disk becomes one OSError that names the last whole checkpoint."""
    try:
        yield
    except KeyboardInterrupt:
        checkpoints.save(checkpoint_number=int(step))
        tqdm.write(f"\ninterrupted: saved a checkpoint at step {int(step)} in "
                   f"{checkpoints.directory}; continue with --resume")
        raise
    except (tf.errors.OpError, OSError) as error:
        if not is_disk_full(error):
            raise
        raise OSError(f"no space left on device writing the run folder {run_dir}; "
                      f"the last whole checkpoint is "
                      f"{checkpoints.latest_checkpoint or 'none'}: free some space "
                      f"and continue with --resume") from None
