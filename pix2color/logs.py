"""TensorBoard logs of a training run: losses, learning rates and speed in `train/`, metrics
and sample grids in `validation/`, the configuration as hyperparameters, and the samples also
as PNG files in `samples/`. Only the chief worker writes; the others get no-op writers."""

import dataclasses

import numpy as np
import tensorflow as tf

from .data import paired_dataset
from .files import write_atomically
from .runs import mark_session_start


class RunLogs:
    """The two TensorBoard writers of a run folder, opened for one `fit`."""

    def __init__(self, run_dir, write, first_step):
        self.run_dir, self.write = run_dir, write
        if write:
            self.train = tf.summary.create_file_writer(str(run_dir / "train"))
            self.validation = tf.summary.create_file_writer(str(run_dir / "validation"))
            for writer in (self.train, self.validation):
                mark_session_start(writer, first_step)
        else:  # other workers compute and checkpoint with the chief, but write no logs
            self.train = self.validation = tf.summary.create_noop_writer()

    def hparams(self, config, trial_id):
        from tensorboard.plugins.hparams import api as hp

        values = {k: v for k, v in dataclasses.asdict(config).items()
                  if isinstance(v, (bool, int, float, str))}
        with self.train.as_default():
            hp.hparams(values, trial_id=trial_id)

    def losses(self, step, losses, learning_rates, speed):
        """`losses` and `learning_rates`: name -> Python float."""
        with self.train.as_default(step=step):
            for name, value in losses.items():
                tf.summary.scalar(f"loss/{name}", value)
            for name, value in learning_rates.items():
                tf.summary.scalar(f"learning_rate/{name}", value)
            tf.summary.scalar("images_per_second", speed)

    def images(self, step, grid):
        with self.train.as_default(step=step):
            tf.summary.image("input | target | output", grid, max_outputs=4)

    def metrics(self, step, metrics):
        with self.validation.as_default(step=step):
            for name, value in metrics.items():
                tf.summary.scalar(f"metrics/{name}", value)
        self.validation.flush()

    def skipped(self, step, split, count):
        writer = self.validation if split == "validation" else self.train
        with writer.as_default(step=step):
            tf.summary.scalar(f"data/skipped_{split}_files", count)

    def epoch_samples(self, step, epoch, grid):
        """The fixed validation batch after an epoch: in TensorBoard's validation run and as
        samples/epoch-NNN.png, rows of input | target | output under a band naming them."""
        with self.validation.as_default(step=step):
            tf.summary.image("validation: input | target | output", grid, max_outputs=4)
        if not self.write:
            return
        (self.run_dir / "samples").mkdir(exist_ok=True)
        write_atomically(self.run_dir / "samples" / f"epoch-{epoch + 1:03d}.png",
                         labelled_png(grid, SAMPLE_COLUMNS))

    def flush(self):
        self.train.flush()
        self.validation.flush()


SAMPLE_COLUMNS = ("input", "target", "output")
LABEL_BAND = 14   # pixels above the rows: one line of Pillow's default font


def labelled_png(grid, labels):
    """A sample grid (rows, H, W, 3) in [0, 1] as PNG bytes: the rows stacked, under a white
    band with each column's label centred over it."""
    import io

    from PIL import Image, ImageDraw

    rows = np.round(np.asarray(grid) * 255.0).astype(np.uint8)
    stacked = rows.reshape(-1, *rows.shape[2:])
    picture = Image.new("RGB", (stacked.shape[1], LABEL_BAND + stacked.shape[0]), "white")
    picture.paste(Image.fromarray(stacked), (0, LABEL_BAND))
    draw, column = ImageDraw.Draw(picture), stacked.shape[1] / len(labels)
    for i, label in enumerate(labels):
        left = (i + 0.5) * column - draw.textlength(label) / 2
        draw.text((max(left, i * column), 1), label, fill="black")
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def sample_batch(pairs, config):
    """A fixed batch of (up to 4) pairs, drawn at every image log: (inputs, targets)."""
    for inputs, targets, _ in paired_dataset(pairs, batch_size=4, config=config):
        return inputs, targets
    return None


def sample_grid(task, predict, batch):
    """input | target | output side by side, one row an image, in [0, 1]."""
    inputs, targets = batch
    grid = tf.concat([task.shown_input(inputs), task.to_rgb(inputs, targets),
                      task.to_rgb(inputs, predict(inputs))], axis=2)
    return tf.clip_by_value((grid + 1.0) / 2.0, 0.0, 1.0)
