"""Do colour hints work? A hint-aware model (default: the bundled sketch) on the OpenMoji
test split.

    pip install -e ".[openmoji]"
    python benchmarks/hints.py [--model sketch] [--reference MODEL] [--out docs/hints-openmoji-test]

Each test emoji (128x128, the size the model works at) is coloured with 0, 1, 5 and 20 hints
sampled from its ground truth the way a user would place them: at random foreground pixels
(not the white background) whose 3x3 neighbourhood is one flat colour (inside a region, not
on an edge), nested (the 5 include the 1, the 20 include the 5), each asking for the ground
truth's mean colour over that 3x3 square. Hints go through `Colorizer.colorize_batch(...,
hints=[(x, y, "#rrggbb"), ...])`, the public API.

Columns (CIEDE2000, lower is better):
  image       whole image against the ground truth
  foreground  the ground truth's non-white pixels only
  near hints  9x9 windows around the hints given (for 0 hints: around the spot the 1-hint
              run hints), against the ground truth
  requested   per hint, the output's 3x3 square at the hint against the requested colour
              (for 0 hints: at the 1-hint run's spot, with nothing requested)
With `--reference MODEL` (a model trained without hints, say), that model's row comes first,
for comparison. Pass: the errors fall as hints are added, and the median requested error is
<= 10.
"""

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from pix2color import Colorizer  # noqa: E402
from pix2color.color import ciede2000, rgb_to_lab  # noqa: E402
from pix2color.data import openmoji_pairs, split_pairs  # noqa: E402
from pix2color.metrics import BACKGROUND  # noqa: E402

COUNTS = (0, 1, 5, 20)
NEAR = 4  # 9x9 windows


def read(path):
    return np.asarray(Image.open(path).convert("RGB"), np.float32) / 255.0


def sample_spots(truth, count, rng):
    """Up to `count` (x, y, "#rrggbb") hints at flat-coloured foreground pixels of `truth`."""
    height, width = truth.shape[:2]
    padded = np.pad(truth, ((1, 1), (1, 1), (0, 0)), mode="edge")
    windows = np.stack([padded[dy: dy + height, dx: dx + width]
                        for dy in range(3) for dx in range(3)])            # (9, H, W, 3)
    flat = (windows.max(0) - windows.min(0)).max(-1) <= 0.04
    foreground = truth.min(-1) < BACKGROUND
    rows, cols = np.nonzero(flat & foreground)
    order = rng.permutation(len(rows))[:count]
    spots = []
    for row, col in zip(rows[order], cols[order]):
        rgb = np.round(windows[:, row, col].mean(0) * 255).astype(int)
        spots.append((int(col), int(row), "#{:02x}{:02x}{:02x}".format(*rgb)))
    return spots


def delta_e(a, b):
    return ciede2000(rgb_to_lab(a), rgb_to_lab(b)).numpy()


def window_mask(shape, spots, radius):
    mask = np.zeros(shape[:2], bool)
    for x, y, _ in spots:
        mask[max(y - radius, 0): y + radius + 1, max(x - radius, 0): x + radius + 1] = True
    return mask


def measure(outputs, truths, spots_per_image, count):
    image, foreground, near, requested = [], [], [], []
    for output, truth, spots in zip(outputs, truths, spots_per_image):
        errors = delta_e(output, truth)
        image.append(errors.mean())
        fg = truth.min(-1) < BACKGROUND
        foreground.append(errors[fg].mean())
        given = spots[: max(count, 1)]
        near.append(errors[window_mask(truth.shape, given, NEAR)].mean())
        for x, y, colour in given:
            square = output[max(y - 1, 0): y + 2, max(x - 1, 0): x + 2]
            wanted = np.broadcast_to(np.array(Image.new("RGB", (1, 1), colour))[0, 0] / 255.0,
                                     square.shape).astype(np.float32)
            requested.append(delta_e(square, wanted).mean())
    requested = np.array(requested)
    return {"image": np.mean(image), "foreground": np.mean(foreground), "near": np.mean(near),
            "requested_median": np.median(requested), "requested_mean": requested.mean(),
            "within_10": (requested <= 10).mean()}


def grid(sketches, outputs, truths, spots, path):
    """sketch | no hints | 5 hints (marked) | ground truth, for a few emoji."""
    rows = []
    for i in range(len(sketches)):
        marked = Image.fromarray(np.round(outputs[5][i] * 255).astype(np.uint8))
        draw = ImageDraw.Draw(marked)
        for x, y, colour in spots[i][:5]:
            draw.rectangle([x - 3, y - 3, x + 3, y + 3], outline="black", fill=colour)
        row = [Image.open(sketches[i]).convert("RGB"),
               Image.fromarray(np.round(outputs[0][i] * 255).astype(np.uint8)), marked,
               Image.fromarray(np.round(truths[i] * 255).astype(np.uint8))]
        rows.append(np.concatenate([np.asarray(im) for im in row], axis=1))
    Image.fromarray(np.concatenate(rows, axis=0)).save(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="sketch", help="a hint-aware model")
    parser.add_argument("--reference", default=None,
                        help="a model to compare, coloured without hints (default: none)")
    parser.add_argument("--cache", default=str(Path.home() / ".cache/pix2color/openmoji-128"))
    parser.add_argument("--limit", type=int, default=0, help="the first N test emoji")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="write OUT.md (the table) and OUT.png (examples)")
    args = parser.parse_args()

    test = split_pairs(openmoji_pairs(args.cache), by="folder")["test"]
    test = test[: args.limit] if args.limit else test
    sketches = [s for s, _ in test]
    truths = [read(c) for _, c in test]
    spots = [sample_spots(t, max(COUNTS), np.random.default_rng([args.seed, i]))
             for i, t in enumerate(truths)]
    kept = [i for i, s in enumerate(spots) if len(s) == max(COUNTS)]
    sketches, truths, spots = ([x[i] for i in kept] for x in (sketches, truths, spots))

    colorizer = Colorizer.load(args.model)
    to_float = lambda images: [np.asarray(im.convert("RGB"), np.float32) / 255 for im in images]  # noqa: E731
    outputs, rows = {}, []
    if args.reference:
        reference = Colorizer.load(args.reference)
        rows.append((f"{args.reference} (no hints)", 0, measure(
            to_float(reference.colorize_batch(sketches, 32)), truths, spots, 0)))
    for count in COUNTS:
        outputs[count] = to_float(colorizer.colorize_batch(
            sketches, 32, hints=[s[:count] for s in spots]))
        rows.append((args.model, count, measure(outputs[count], truths, spots, count)))

    lines = [f"OpenMoji test split: {len(sketches)} emoji with 20 flat foreground spots each "
             f"(of {len(test)}); CIEDE2000, lower is better.", "",
             "| model | hints | image | foreground | near hints (9x9) | requested: median | "
             "mean | share <= 10 |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, count, m in rows:
        lines.append(f"| {name} | {count} | {m['image']:.2f} | {m['foreground']:.2f} | "
                     f"{m['near']:.2f} | {m['requested_median']:.2f} | "
                     f"{m['requested_mean']:.2f} | {m['within_10']:.0%} |")
    hinted = [m for name, _, m in rows[1 if args.reference else 0:]]
    falls = all(a[k] > b[k] for a, b in zip(hinted, hinted[1:]) for k in ("image", "near"))
    honoured = all(m["requested_median"] <= 10 for m in hinted[1:])
    lines += ["", f"errors fall as hints are added: {'yes' if falls else 'NO'}; "
              f"median requested error <= 10 with 1, 5 and 20 hints: "
              f"{'yes' if honoured else 'NO'}"]
    table = "\n".join(lines)
    print(table)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out + ".md").write_text(table + "\n")
        grid(sketches[:6], {k: v[:6] for k, v in outputs.items()}, truths[:6], spots[:6],
             args.out + ".png")
        print("wrote", args.out + ".md", "and", args.out + ".png")


if __name__ == "__main__":
    main()
