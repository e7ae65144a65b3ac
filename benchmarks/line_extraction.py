"""How close XDoG lines come to the OpenMoji artists' own line art.

    pip install -e ".[openmoji]"
    python benchmarks/line_extraction.py [--split test] [--search]

Each OpenMoji colour render is put through `pix2color.sketch.xdog`; its line pixels (darker
than 0.5) are compared with those of the artist's `line` group rendered alone. Precision: the
share of extracted line pixels within 1 pixel of an artist's line pixel; recall: the share of
artist line pixels within 1 pixel of an extracted one; both summed over the split.
`--search` tries a grid of parameters on the train split (never the test split) and prints the
best by F1: that is how `pix2color.sketch.DEFAULTS` was chosen.
"""

import argparse
import itertools
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from PIL import Image  # noqa: E402

from pix2color.data import openmoji_pairs, split_pairs  # noqa: E402
from pix2color.sketch import DEFAULTS, thicken, xdog  # noqa: E402


def load(pairs):
    read = lambda p: np.asarray(Image.open(p).convert("RGB"), np.float32) / 255.0  # noqa: E731
    return (tf.constant(np.stack([read(c) for _, c in pairs])),
            tf.constant(np.stack([read(s) for s, _ in pairs])))


def line_scores(extracted, artist):
    """(precision, recall) of line pixels with a 1-pixel tolerance, summed over the batch."""
    ours = extracted[..., :1] < 0.5
    theirs = artist[..., :1] < 0.5
    near_theirs = thicken(tf.cast(~theirs, tf.float32)) < 0.5
    near_ours = thicken(tf.cast(~ours, tf.float32)) < 0.5
    count = lambda mask: float(tf.reduce_sum(tf.cast(mask, tf.float32)))  # noqa: E731
    precision = count(ours & near_theirs) / max(count(ours), 1.0)
    recall = count(theirs & near_ours) / max(count(theirs), 1.0)
    return precision, recall


def f1(precision, recall):
    return 2 * precision * recall / max(precision + recall, 1e-9)


def scores(colour, artist, batch=256, **params):
    ours = tf.concat([xdog(colour[i: i + batch], **params)
                      for i in range(0, len(colour), batch)], axis=0)
    return line_scores(ours, artist)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", default=str(Path.home() / ".cache/pix2color/openmoji-128"))
    parser.add_argument("--split", default="test", choices=("train", "val", "test"))
    parser.add_argument("--search", action="store_true",
                        help="grid-search the parameters on (about 300 images of) the train split")
    args = parser.parse_args()

    splits = split_pairs(openmoji_pairs(args.cache), by="folder")
    if args.search:
        colour, artist = load(splits["train"][::max(1, len(splits["train"]) // 300)])
        grid = {"sigma": [0.4, 0.6, 0.8, 1.0], "k": [1.6, 3.0], "p": [10.0, 20.0, 40.0],
                "epsilon": [0.2, 0.3, 0.45, 0.6], "phi": [10.0, 50.0]}
        results = []
        for values in itertools.product(*grid.values()):
            params = dict(zip(grid, values))
            precision, recall = scores(colour, artist, **params)
            results.append((f1(precision, recall), precision, recall, params))
        results.sort(key=lambda r: -r[0])
        print(f"train split sample: {len(colour)} images; best 10 of {len(results)}")
        print("| F1 | precision | recall | parameters |\n|---:|---:|---:|---|")
        for score, precision, recall, params in results[:10]:
            print(f"| {score:.3f} | {precision:.3f} | {recall:.3f} | {params} |")

    colour, artist = load(splits[args.split])
    print(f"\n{args.split} split: {len(colour)} images")
    print("| lines | precision | recall | F1 |\n|---|---:|---:|---:|")
    for label, params in [(f"xdog defaults {DEFAULTS}", DEFAULTS),
                          ("xdog defaults, soft", {**DEFAULTS, "soft": True})]:
        precision, recall = scores(colour, artist, **params)
        print(f"| {label} | {precision:.3f} | {recall:.3f} | {f1(precision, recall):.3f} |")
    gray = tf.image.grayscale_to_rgb(tf.image.rgb_to_grayscale(colour))
    precision, recall = line_scores(gray, artist)  # no extractor: dark pixels of the colour image
    print(f"| colour image's own dark pixels (no extractor) | {precision:.3f} | {recall:.3f} "
          f"| {f1(precision, recall):.3f} |")


if __name__ == "__main__":
    main()
