"""Evaluate models and trivial baselines on the same images: one table, one grid picture.

Baselines, so a number means something:
- `identity`: the input itself (a sketch scores what "no colour at all" scores);
- `mean-colour`: the input's lightness with the training targets' mean chroma (Lab a, b).
"""

import time

import numpy as np
import tensorflow as tf
from PIL import Image
from tqdm.auto import tqdm

from .color import lab_to_rgb, rgb_to_lab
from .colorizer import Colorizer, read_image
from .metrics import batch_metrics, summarize

BASELINES = ("identity", "mean-colour")


def _rgb8(path, size=None):
    rgb = read_image(path)[0]
    image = Image.fromarray(np.round(rgb * 255).astype(np.uint8))
    return np.asarray(image.resize(size, Image.BICUBIC) if size and image.size != size else image)


def mean_chroma(pairs, limit=500):
    """Mean Lab (a, b) over (up to `limit`) target images."""
    sums = [tf.reduce_mean(rgb_to_lab(read_image(target)[0])[..., 1:], [0, 1])
            for _, target in pairs[:limit]]
    return tf.reduce_mean(tf.stack(sums), 0).numpy()


def predictor(name, train_pairs=()):
    """A function: list of input paths -> list of uint8 RGB arrays of the inputs' sizes."""
    if name == "identity":
        return lambda paths: [_rgb8(p) for p in paths]
    if name == "mean-colour":
        if not train_pairs:
            raise ValueError("the mean-colour baseline needs training pairs to average")
        ab = mean_chroma(train_pairs)

        def mean_colour(paths):
            outputs = []
            for path in paths:
                lab = rgb_to_lab(read_image(path)[0]).numpy()
                lab[..., 1:] = ab
                outputs.append(np.round(lab_to_rgb(lab).numpy() * 255).astype(np.uint8))
            return outputs
        return mean_colour
    colorizer = Colorizer.load(name)
    return lambda paths: [np.asarray(im.convert("RGB")) for im in colorizer.colorize_batch(paths)]


def evaluate(models, pairs, train_pairs=(), batch_size=16, grid_path=None, grid_rows=8):
    """Score each model (a model path, "sketch", "gray", or a baseline name) on `pairs`.

    Returns one dict a model: every metric's mean, and images/s of the prediction alone.
    """
    targets = [_rgb8(t) for _, t in pairs]
    rows, grid_columns = [], []
    for name in models:
        predict = predictor(name, train_pairs)
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
        rows.append({"model": str(name), **summarize(per_image),
                     "images_per_second": len(pairs) / max(seconds, 1e-9)})
        grid_columns.append(firsts)
    if grid_path:
        write_grid(grid_path, pairs[:grid_rows], grid_columns)
    return rows


def write_grid(path, pairs, columns, cell=128):
    """input | target | each model, one row per image."""
    rows = [[_rgb8(i), _rgb8(t)] + [column[r] for column in columns]
            for r, (i, t) in enumerate(pairs)]
    grid = Image.new("RGB", (cell * len(rows[0]), cell * len(rows)), "white")
    for r, row in enumerate(rows):
        for c, image in enumerate(row):
            grid.paste(Image.fromarray(image).resize((cell, cell), Image.BICUBIC), (c * cell, r * cell))
    grid.save(path)
    return path


def markdown_table(rows):
    columns = [("model", "model", "{}"), ("PSNR dB", "psnr", "{:.2f}"), ("SSIM", "ssim", "{:.3f}"),
               ("CIEDE2000", "ciede2000", "{:.2f}"), ("CIEDE2000 fg", "ciede2000_fg", "{:.2f}"),
               ("colourfulness", "colourfulness", "{:.1f}"),
               ("colourfulness ratio", "colourfulness_ratio", "{:.2f}"),
               ("img/s", "images_per_second", "{:.1f}")]
    lines = ["| " + " | ".join(c[0] for c in columns) + " |",
             "|" + "|".join("---" if i == 0 else "---:" for i in range(len(columns))) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(fmt.format(row[key]) for _, key, fmt in columns) + " |")
    return "\n".join(lines)
