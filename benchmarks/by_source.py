"""Line-art models on each data source's own test split: OpenMoji and Open Clip Art apart.

    pip install -e ".[openmoji,openclipart]"   # and: apt-get install openclipart-svg
    python benchmarks/by_source.py sketch runs/baseline/model --split test --hints 0 5 \
        --against runs/baseline/model --out docs/by-source-test

For every source, every image of the split (128 px renders, or `--size`; split by drawing)
is coloured through `Colorizer.colorize_batch` with region fill, without hints and with 5
hints sampled from the ground truth as `benchmarks/hints.py` samples them. Beside the models:
`identity` returns the line art unchanged, and `one colour` fills every closed region of the
line art (regions that do not touch the border) with one fixed colour: the median
foreground colour of the source's training targets, a safe guess that CIEDE2000 alone rewards.

Columns: foreground CIEDE2000, colourfulness ratio (output / target), and hue intersection:
the saturated foreground pixels (HSV s > 0.25, v > 0.2) of all drawings pooled into twelve
30-degree hue sectors, for outputs and for targets, and the histogram intersection of the
two (1: colour spread over hues like the targets'; a model that paints everything orange
scores the orange share of the targets). The hue table prints each row's shares. `--against
MODEL` prints each row's foreground CIEDE2000 difference from MODEL's (no hints) with a 95%
bootstrap interval over drawings (variants of a drawing resampled together); MODEL may also be
`identity` or `one colour`.
"""

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).parent))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from hints import sample_spots  # noqa: E402  (benchmarks/hints.py)
from region_fill import interval  # noqa: E402  (benchmarks/region_fill.py)
from pix2color import Colorizer  # noqa: E402
from pix2color.data import open_pairs  # noqa: E402
from pix2color.metrics import (BACKGROUND, HUE_SECTORS, batch_metrics, hue_counts,  # noqa: E402
                               hue_intersection, summarize)
from pix2color.regions import compose, line_darkness, segment  # noqa: E402

SECTOR_NAMES = ("red", "orange", "yellow", "chartreuse", "green", "spring", "cyan", "azure",
                "blue", "violet", "magenta", "rose")


def rgb8(path):
    return np.asarray(Image.open(path).convert("RGB"))


def one_colour(line_art, colour):
    """Every closed region of the line art in `colour`, the open ones white, lines on top."""
    segmentation = segment(line_darkness(line_art / 255.0))
    fill = np.where(np.isin(segmentation.labels, segmentation.open_regions())[..., None],
                    1.0, np.asarray(colour, np.float32))
    return compose(fill, line_art)


def median_colour(pairs, limit=400):
    """The median foreground colour of (up to `limit` of) the training targets."""
    pixels = [t[t.min(-1) < BACKGROUND * 255] for t in (rgb8(c) for _, c in pairs[:limit])]
    return np.median(np.concatenate(pixels), axis=0) / 255.0


def score(outputs, truths):
    per_image, counts, target_counts = {}, np.zeros(HUE_SECTORS), np.zeros(HUE_SECTORS)
    for start in range(0, len(outputs), 64):
        out, truth = np.stack(outputs[start: start + 64]), np.stack(truths[start: start + 64])
        for key, value in batch_metrics(out, truth).items():
            per_image.setdefault(key, []).append(value)
        counts += hue_counts(out, truth)
        target_counts += hue_counts(truth, truth)
    metrics = summarize(per_image)
    metrics["per_image_fg"] = np.concatenate([np.ravel(v) for v in per_image["ciede2000_fg"]])
    metrics["hue"] = hue_intersection(counts, target_counts)
    metrics["shares"], metrics["target_shares"] = (c / max(c.sum(), 1)
                                                   for c in (counts, target_counts))
    return metrics


def colorize(colorizer, inputs, spots, batch_size=32):
    outputs = []
    for start in range(0, len(inputs), batch_size):
        chunk = slice(start, start + batch_size)
        hints = spots[chunk] if colorizer.hints else None
        results = colorizer.colorize_batch(inputs[chunk], batch_size, hints=hints,
                                           fill="regions")
        outputs += [np.asarray(image.convert("RGB")) for image in results]
    return outputs


def run_source(name, args):
    source = open_pairs(name, size=args.size)
    splits = source.splits()
    pairs = splits[args.split][: args.limit or None]
    inputs = [rgb8(sketch) for sketch, _ in pairs]
    truths = [rgb8(colour) for _, colour in pairs]
    rng = np.random.default_rng(0)
    spots = [sample_spots(truth / 255.0, max(args.hints), rng) for truth in truths]
    fixed = median_colour(splits["train"])
    rows = [("identity", 0, score(inputs, truths)),
            (f"one colour #{''.join(f'{round(v * 255):02x}' for v in fixed)}", 0,
             score([one_colour(x, fixed) for x in inputs], truths))]
    grid = {"input": inputs[: args.grid], "target": truths[: args.grid]}
    for model in args.models:
        colorizer = Colorizer.load(model)
        for count in args.hints:
            if count and not colorizer.hints:
                continue
            outputs = colorize(colorizer, inputs, [s[:count] for s in spots])
            rows.append((model, count, score(outputs, truths)))
            grid[f"{model}, {count} hints"] = outputs[: args.grid]
            print(f"  {name} {model} {count} hints: fg {rows[-1][2]['ciede2000_fg']:.2f}",
                  flush=True)
    drawings = [Path(sketch).parent.name for sketch, _ in pairs]
    return f"{len(pairs)} drawings: {name} {args.split} split (by drawing)", rows, grid, drawings


def tables(header, rows, drawings, against):
    lines = [f"### {header}", "", "| model | hints | CIEDE2000 fg | colourfulness ratio | "
             "hue intersection |", "|---|---:|---:|---:|---:|"]
    for label, count, m in rows:
        lines.append(f"| {label} | {count} | {m['ciede2000_fg']:.2f} | "
                     f"{m['colourfulness_ratio']:.2f} | {m['hue']:.2f} |")
    lines += ["", "Hue shares of the saturated foreground pixels (%):", "",
              "| model | hints | " + " | ".join(SECTOR_NAMES) + " |",
              "|---|---:|" + "---:|" * HUE_SECTORS]
    target = rows[0][2]["target_shares"]
    for label, count, shares in [("targets", "", target)] + \
            [(label, count, m["shares"]) for label, count, m in rows[1:]]:
        lines.append(f"| {label} | {count} | " + " | ".join(f"{100 * s:.0f}" for s in shares)
                     + " |")
    for base_label in against:
        base = next(((label, m) for label, count, m in rows if count == 0 and base_label in (
            label, label.split(" #")[0])), None)   # "one colour" names that row
        if base is None:
            continue
        base_label, base = base
        lines += ["", f"Foreground CIEDE2000 better than {base_label} (no hints), mean and "
                  f"95% bootstrap interval over {len(set(drawings))} drawings:", ""]
        for label, count, m in rows:
            if label != base_label:
                mean, low, high = interval(base["per_image_fg"] - m["per_image_fg"], drawings)
                lines.append(f"- {label}, {count} hints: {mean:+.2f} ({low:+.2f} to {high:+.2f})")
    return "\n".join(lines)


def save_grid(grid, path, cell=128):
    columns = list(grid.values())
    names = list(grid)
    order = [names.index("input")] + [i for i, n in enumerate(names)
                                      if n not in ("input", "target")] + [names.index("target")]
    picture = Image.new("RGB", (cell * len(order), cell * len(columns[0])), "white")
    for c, index in enumerate(order):
        for r, image in enumerate(columns[index]):
            picture.paste(Image.fromarray(image).resize((cell, cell)), (c * cell, r * cell))
    picture.save(path)
    return [names[i] for i in order]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", default=["sketch"])
    parser.add_argument("--sources", nargs="+", default=["openmoji", "openclipart"])
    parser.add_argument("--split", choices=("val", "test"), default="val")
    parser.add_argument("--hints", type=int, nargs="+", default=[0, 5])
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--size", type=int, default=128,
                        help="render size of the drawings (their cache: NAME-SIZE)")
    parser.add_argument("--against", nargs="+", default=[])
    parser.add_argument("--grid", type=int, default=8, help="drawings in the picture grid")
    parser.add_argument("--out", default=None, help="write OUT.md and OUT-SOURCE.png")
    args = parser.parse_args()
    text = []
    for name in args.sources:
        header, rows, grid, drawings = run_source(name, args)
        text.append(tables(header, rows, drawings, args.against))
        print("\n" + text[-1], flush=True)
        if args.out:
            columns = save_grid(grid, f"{args.out}-{name}.png")
            text.append(f"\nGrid columns: {' | '.join(columns)}\n\n"
                        f"![{name}]({Path(args.out).name}-{name}.png)\n")
    if args.out:
        command = "python benchmarks/by_source.py " + " ".join(sys.argv[1:])
        Path(f"{args.out}.md").write_text(f"Made by `{command}`\n\n" + "\n\n".join(text) + "\n")


if __name__ == "__main__":
    main()
