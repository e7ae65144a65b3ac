"""Region fill on OpenMoji line art: raw network vs lines on top vs region fill, with and
without hints, and the choice of the fill's settings.

    pip install -e ".[openmoji]"
    python benchmarks/region_fill.py --split val --tune              # pick settings here
    python benchmarks/region_fill.py MODEL... --split test --hints 0 5 \
        --out docs/region-fill-openmoji-test

Every image of the split (128x128, the size the bundled models work at) is coloured through
`Colorizer.colorize_batch`, the public API. Hints (`--hints 0 5`) are sampled from the ground
truth as `benchmarks/hints.py` samples them (flat foreground spots, the truth's colour there).
Columns: CIEDE2000 over the foreground (the target's non-white pixels) and over the whole
image, PSNR, colourfulness ratio (output / target, Hasler-Suesstrunk), and flat noise: the
output's mean gradient (0-255 levels) where the target is a flat foreground fill, 0 for a
perfectly flat fill (`pix2color.metrics.flat_fill_noise`).
`--tune` scores every aggregate x background setting of the region fill (and three gap radii)
instead, for the first model. `--against MODEL...` also prints, for each model's region fill
without hints, its foreground CIEDE2000 difference from MODEL's with a 95% bootstrap interval
over drawings (skin-tone variants resampled together, 5,000 times): how large a difference
the split can tell apart. Several `--against` models (one recipe trained with several seeds)
are compared one by one and as a recipe: against each image's error averaged over them, so
one lucky or unlucky seed does not decide the comparison.
"""

import argparse
import itertools
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).parent))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from hints import sample_spots  # noqa: E402  (benchmarks/hints.py)
from pix2color import Colorizer  # noqa: E402
from pix2color.data import openmoji_pairs, split_pairs  # noqa: E402
from pix2color.metrics import batch_metrics, summarize  # noqa: E402
from pix2color.fills import RegionSettings  # noqa: E402
from pix2color.palette import AGGREGATES  # noqa: E402
from pix2color.regions import BACKGROUNDS  # noqa: E402

COLUMNS = [("CIEDE2000 fg", "ciede2000_fg", "{:.2f}"), ("CIEDE2000", "ciede2000", "{:.2f}"),
           ("PSNR dB", "psnr", "{:.2f}"), ("colourfulness ratio", "colourfulness_ratio", "{:.2f}"),
           ("flat noise", "flat_noise", "{:.2f}")]


def rgb8(path):
    return np.asarray(Image.open(path).convert("RGB"))


def score(colorizer, inputs, truths, spots, fill, batch_size=32):
    per_image, outputs = {}, []
    for start in range(0, len(inputs), batch_size):
        chunk = slice(start, start + batch_size)
        hints = spots[chunk] if colorizer.hints else None
        results = colorizer.colorize_batch(inputs[chunk], batch_size, hints=hints, fill=fill)
        for output, truth in zip(results, truths[chunk]):
            output = np.asarray(output.convert("RGB"))
            outputs.append(output)
            for key, value in batch_metrics(output[None], truth[None]).items():
                per_image.setdefault(key, []).append(value)
    metrics = summarize(per_image)
    metrics["per_image_fg"] = np.concatenate([np.ravel(v) for v in per_image["ciede2000_fg"]])
    return metrics, outputs


def interval(differences, drawings, draws=5000, seed=0):
    """Mean of per-image differences and its 95% bootstrap interval, resampling drawings."""
    names = sorted(set(drawings))
    members = [np.flatnonzero(np.asarray(drawings) == name) for name in names]
    rng, means = np.random.default_rng(seed), []
    for _ in range(draws):
        picked = np.concatenate([members[k] for k in rng.integers(0, len(names), len(names))])
        means.append(differences[picked].mean())
    return differences.mean(), *np.percentile(means, [2.5, 97.5])


def cat_3x(colorizer, path):
    """The sample sketch enlarged 3x: input | fill none | fill regions, at full size, to show
    that the lines stay the user's own, sharp, while the colour is computed at 128 px."""
    sketch = Image.open(Path(__file__).parent.parent / "examples" / "sketch.png").convert("RGB")
    big = sketch.resize((sketch.width * 3, sketch.height * 3), Image.LANCZOS)
    row = [big] + [colorizer.colorize(big, fill=fill) for fill in ("none", "regions")]
    picture = Image.new("RGB", (big.width * 3, big.height), "white")
    for i, image in enumerate(row):
        picture.paste(image.convert("RGB"), (i * big.width, 0))
    picture.save(path)


def table(rows):
    lines = ["| model | fill | hints | " + " | ".join(c[0] for c in COLUMNS) + " |",
             "|---|---|---:|" + "---:|" * len(COLUMNS)]
    for label, fill, hints, metrics in rows:
        lines.append(f"| {label} | {fill} | {hints} | " +
                     " | ".join(fmt.format(metrics[key]) for _, key, fmt in COLUMNS) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", default=["sketch"])
    parser.add_argument("--split", choices=("val", "test"), default="val")
    parser.add_argument("--hints", type=int, nargs="+", default=[0])
    parser.add_argument("--fills", nargs="+", default=["none", "lines", "regions"])
    parser.add_argument("--tune", action="store_true")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--cache", default=str(Path.home() / ".cache/pix2color/openmoji-128"))
    parser.add_argument("--out", default=None, help="write OUT.md and a picture grid OUT.png")
    parser.add_argument("--against", nargs="+", default=[],
                        help="models to compare each model's region fill with, e.g. one recipe "
                             "trained with several seeds (see above)")
    args = parser.parse_args()

    pairs = split_pairs(openmoji_pairs(args.cache), by="folder")[args.split]
    pairs = pairs[: args.limit] if args.limit else pairs
    inputs = [rgb8(sketch) for sketch, _ in pairs]
    truths = [rgb8(colour) for _, colour in pairs]
    rng = np.random.default_rng(0)
    spots = [sample_spots(truth / 255.0, max(args.hints), rng) for truth in truths]
    rows, grid = [], {}
    if args.tune:
        colorizer = Colorizer.load(args.models[0])
        for gap, aggregate, background in [(None, a, b) for a, b in
                                           itertools.product(AGGREGATES, BACKGROUNDS)] + \
                [(g, "mode", "split") for g in (1, 3)]:
            colorizer.fill_settings["regions"] = RegionSettings(gap, aggregate, background)
            metrics, _ = score(colorizer, inputs, truths, [[]] * len(inputs), "regions")
            rows.append((args.models[0], f"regions gap={gap or 'auto'} {aggregate} {background}",
                         0, metrics))
            print(table(rows[-1:]).splitlines()[-1], flush=True)
    else:
        for name, fill, count in itertools.product(args.models, args.fills, args.hints):
            colorizer = Colorizer.load(name)
            if count and not colorizer.hints:
                continue
            metrics, outputs = score(colorizer, inputs, truths,
                                     [s[:count] for s in spots], fill)
            rows.append((name, fill, count, metrics))
            grid[(name, fill, count)] = outputs[:8]
            print(table(rows[-1:]).splitlines()[-1], flush=True)
    if args.against:
        drawings = [Path(sketch).parent.name for sketch, _ in pairs]
        bases = {name: score(Colorizer.load(name), inputs, truths, [[]] * len(inputs),
                             "regions")[0]["per_image_fg"] for name in args.against}
        if len(bases) > 1:
            recipe = f"the mean of {', '.join(args.against)}"
            bases[recipe] = np.mean(list(bases.values()), axis=0)
        for base_name, base in bases.items():
            print(f"{base_name}: CIEDE2000 fg {base.mean():.2f}")
            for name, fill, count, metrics in rows:
                if fill == "regions" and count == 0:
                    ours = metrics["per_image_fg"]
                    mean, low, high = interval(base - ours, drawings)
                    print(f"  {name}: {mean:.2f} better (95% interval over "
                          f"{len(set(drawings))} drawings: {low:.2f} to {high:.2f}); better "
                          f"on {np.mean(base > ours):.0%} of the images")
    header = f"{len(pairs)} images: OpenMoji {args.split} split (by drawing)"
    print(f"\n{header}\n\n{table(rows)}")
    if args.out:
        columns = [inputs[:8]] + list(grid.values()) + [truths[:8]]
        cell = 128
        picture = Image.new("RGB", (cell * len(columns), cell * len(columns[0])), "white")
        for c, column in enumerate(columns):
            for r, image in enumerate(column):
                picture.paste(Image.fromarray(image).resize((cell, cell)), (c * cell, r * cell))
        picture.save(f"{args.out}.png")
        cat_3x(Colorizer.load(args.models[0]), f"{args.out}-cat-3x.png")
        names = ["input"] + [f"{n} {f} {h} hints" for n, f, h in grid] + ["target"]
        Path(f"{args.out}.md").write_text(
            f"{header}\n\n{table(rows)}\n\nGrid columns: {' | '.join(names)}\n\n"
            f"![grid]({Path(args.out).name}.png)\n")


if __name__ == "__main__":
    main()
