"""Evaluate models and trivial baselines on the same images: one table, one grid picture.

Baselines, so a number means something:
- `identity`: the input itself (a sketch scores what "no colour at all" scores);
- `mean-colour`: the input's lightness with the training targets' mean chroma (Lab a, b).
"""

import time
import warnings

import numpy as np
import tensorflow as tf
from PIL import Image
from tqdm.auto import tqdm

from .color import lab_to_rgb, rgb_to_lab
from .colorizer import Colorizer
from .files import InputWarning, read_image
from .metric_table import METRICS
from .metrics import batch_metrics, summarize
from .tasks import get_task


def _rgb8(path, size=None):
    rgb = read_image(path)[0]
    image = Image.fromarray(np.round(rgb * 255).astype(np.uint8))
    return np.asarray(image.resize(size, Image.BICUBIC) if size and image.size != size else image)


def mean_chroma(pairs, limit=500):
    """Mean Lab (a, b) over (up to `limit`) target images."""
    sums = [tf.reduce_mean(rgb_to_lab(read_image(target)[0])[..., 1:], [0, 1])
            for _, target in pairs[:limit]]
    return tf.reduce_mean(tf.stack(sums), 0).numpy()


def _with_chroma(path, ab):
    """The image's own lightness with one fixed chroma (ab), as uint8 RGB."""
    lab = rgb_to_lab(read_image(path)[0]).numpy()
    lab[..., 1:] = ab
    return np.round(lab_to_rgb(lab).numpy() * 255).astype(np.uint8)


def predictor(name, train_pairs=(), task="sketch", fill=None):
    """A function: list of input paths -> list of uint8 RGB arrays of the inputs' sizes.
    For `gray` the input paths are colour images, of which only the lightness is used.
    `fill`: how a line-art model fills (see `Colorizer.colorize`; None: the model's default)."""
    if name == "identity":
        if get_task(task).keeps_lightness:  # the input's lightness, no colour
            return lambda paths: [_with_chroma(p, (0.0, 0.0)) for p in paths]
        return lambda paths: [_rgb8(p) for p in paths]
    if name == "mean-colour":
        if not train_pairs:
            raise ValueError("the mean-colour baseline needs training pairs to average")
        ab = mean_chroma(train_pairs)
        return lambda paths: [_with_chroma(p, ab) for p in paths]
    colorizer = Colorizer.load(name)
    if colorizer.task != task:
        raise ValueError(f"{name} is a {colorizer.task!r} model; this evaluation is {task!r}")

    def colorize(paths):  # test data is what the model is for: no "looks wrong" warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InputWarning)
            return [np.asarray(im.convert("RGB")) for im in colorizer.colorize_batch(paths,
                                                                                      fill=fill)]
    return colorize


def evaluate(models, pairs, train_pairs=(), batch_size=16, grid_path=None, grid_rows=8,
             task="sketch", fills=(None,)):
    """Score each model (a model path, "sketch", "gray", or a baseline name) on `pairs`
    (for `gray`, pairs of a colour image with itself), once for each of `fills` (line-art
    models: "regions", "lines", "none"; None is the model's default).

    Returns one dict a row: every metric's mean, and images/s of the prediction alone.
    """
    targets = [_rgb8(t) for _, t in pairs]
    rows, grid_columns = [], []
    runs = [(name, fill) for name in models
            for fill in (fills if name not in ("identity", "mean-colour") else (None,))]
    for name, fill in runs:
        predict = predictor(name, train_pairs, task, fill)
        per_image, seconds, firsts = {}, 0.0, []
        for start in tqdm(range(0, len(pairs), batch_size), desc=str(name), unit="batch"):
            chunk = pairs[start: start + batch_size]
            began = time.perf_counter()
            outputs = predict([p for p, _ in chunk])
            seconds += time.perf_counter() - began
            for output, target in zip(outputs, targets[start: start + batch_size]):
                if output.shape != target.shape:
                    target = np.asarray(Image.fromarray(target).resize(
                        (output.shape[1], output.shape[0]), Image.BICUBIC))
                for key, value in batch_metrics(output[None], target[None]).items():
                    per_image.setdefault(key, []).append(value)
            firsts += outputs[: max(0, grid_rows - len(firsts))]
        label = f"{name} (fill {fill})" if fill else str(name)
        rows.append({"model": label, **summarize(per_image),
                     "images_per_second": len(pairs) / max(seconds, 1e-9)})
        grid_columns.append(firsts)
    if grid_path:
        shown_inputs = predictor("identity", task=task)([i for i, _ in pairs[:grid_rows]])
        write_grid(grid_path, shown_inputs, targets[:grid_rows], grid_columns,
                   labels=[row["model"] for row in rows])
    return rows


def write_grid(path, inputs, targets, columns, cell=128, labels=None):
    """input | target | each model, one row per image (uint8 RGB arrays), under a header row
    that names each column (`labels`: one per model column)."""
    from PIL import ImageDraw

    names = ["input", "target"] + list(labels or [f"model {i + 1}" for i in range(len(columns))])
    rows = [[i, t] + [column[r] for column in columns]
            for r, (i, t) in enumerate(zip(inputs, targets))]
    header = 14
    grid = Image.new("RGB", (cell * len(names), header + cell * len(rows)), "white")
    draw = ImageDraw.Draw(grid)
    for c, name in enumerate(names):
        text = name if len(name) <= cell // 6 else "..." + name[-(cell // 6 - 3):]
        draw.text((c * cell + 2, 1), text, fill="black")
    for r, row in enumerate(rows):
        for c, image in enumerate(row):
            grid.paste(Image.fromarray(image).resize((cell, cell), Image.BICUBIC),
                       (c * cell, header + r * cell))
    grid.save(path)
    return path


def markdown_table(rows):
    """The rows as a markdown table: the model, each metric of `METRICS` the rows hold, and
    images/s."""
    shown = [m for m in METRICS.values() if rows and all(m.name in row for row in rows)]
    columns = [("model", "model", "{}"), *((m.label, m.name, m.format) for m in shown),
               ("img/s", "images_per_second", "{:.1f}")]
    lines = ["| " + " | ".join(c[0] for c in columns) + " |",
             "|" + "|".join("---" if i == 0 else "---:" for i in range(len(columns))) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(fmt.format(row[key]) for _, key, fmt in columns) + " |")
    return "\n".join(lines)
