"""How much of the paper around a drawing a line-art model leaves alone: on each source's
split, the CIEDE2000 over the targets' background (pixels lighter than
`pix2color.metrics.BACKGROUND` in every channel) and the share of it kept paper white (no
channel below 235), with region fill and no hints; and the whole pictures' CIEDE2000 (each
picture's mean, averaged over pictures). `benchmarks/by_source.py` scores the foreground; a
model that paints colour where unsure can also paint the paper beside a shape.

    python benchmarks/paper_kept.py PREV_SKETCH sketch --split test
"""

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).parent))

import numpy as np  # noqa: E402

from by_source import colorize, rgb8  # noqa: E402  (benchmarks/by_source.py)
from pix2color import Colorizer  # noqa: E402
from pix2color.color import ciede2000, rgb_to_lab  # noqa: E402
from pix2color.data import open_pairs  # noqa: E402
from pix2color.metrics import BACKGROUND  # noqa: E402


def paper_scores(colorizer, inputs, truths):
    """(background CIEDE2000, share of the background kept white, both pooled over pixels;
    whole-picture CIEDE2000, the mean of the pictures' means)."""
    errors, white, whole = [], [], []
    for output, truth in zip(colorize(colorizer, inputs, [[]] * len(inputs)), truths):
        output = output.astype(np.float32) / 255
        paper = truth.min(-1) >= BACKGROUND
        error = ciede2000(rgb_to_lab(output), rgb_to_lab(truth)).numpy()
        errors.append(error[paper])
        white.append(output[paper].min(-1) >= 235 / 255)
        whole.append(error.mean())
    return np.concatenate(errors).mean(), np.concatenate(white).mean(), np.mean(whole)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+")
    parser.add_argument("--sources", nargs="+", default=["openmoji", "openclipart"])
    parser.add_argument("--split", choices=("val", "test"), default="val")
    args = parser.parse_args()
    print("| source | model | background CIEDE2000 | paper kept white | whole CIEDE2000 |\n"
          "|---|---|---:|---:|---:|")
    for source in args.sources:
        pairs = open_pairs(source).splits()[args.split]
        inputs = [rgb8(sketch) for sketch, _ in pairs]
        truths = [rgb8(colour).astype(np.float32) / 255 for _, colour in pairs]
        for model in args.models:
            error, kept, whole = paper_scores(Colorizer.load(model), inputs, truths)
            print(f"| {source} ({len(pairs)}) | {model} | {error:.2f} | {100 * kept:.1f}% | "
                  f"{whole:.2f} |", flush=True)


if __name__ == "__main__":
    main()
