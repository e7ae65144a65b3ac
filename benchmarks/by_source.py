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

`--svg-root DIR` adds a folder of SVG drawings that no model trained on (Debian's
`tuxpaint-stamps-default` installs Tux Paint's under /usr/share/tuxpaint/stamps), made into
pairs as Open Clip Art's are and scored whole: a second held-out set of clip art to choose
on, so a choice need not rest on one 102-drawing split. Its drawings that look like an Open
Clip Art one (stamps are often clip art saved again) are left out and counted: those the
render cache holds, which models trained or were chosen on, and the reserved ones, rendered
here only to be left out.
"""

import argparse
import hashlib
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
from pix2color.data import RENDER_CACHE, open_pairs  # noqa: E402
from pix2color.metrics import (BACKGROUND, HUE_SECTORS, batch_metrics, hue_counts,  # noqa: E402
                               hue_intersection, summarize)
from pix2color.openclipart import (SVG_ROOT, colour_render, openclipart_pairs,  # noqa: E402
                                   reserved)
from pix2color.regions import compose, line_darkness, segment  # noqa: E402

LOOKALIKE = 0.02  # mean grey difference of 32-px thumbnails under which two renders are one drawing
SECTOR_NAMES = ("red", "orange", "yellow", "chartreuse", "green", "spring", "cyan", "azure",
                "blue", "violet", "magenta", "rose")


def rgb8(path):
    return np.asarray(Image.open(path).convert("RGB"))


def thumbnail(rgb):
    """A 32x32 grey thumbnail of an RGB uint8 render, flattened, in [0, 1]."""
    grey = Image.fromarray(rgb).convert("L").resize((32, 32), Image.Resampling.BILINEAR)
    return np.asarray(grey, np.float32).ravel() / 255.0


def reserved_thumbnails(size, root=SVG_ROOT):
    """Thumbnails of the reserved Open Clip Art drawings, rendered in memory only to leave
    their look-alikes out of a held-out folder (never cached, never scored); None when the
    library is not installed, so they cannot be checked."""
    if not Path(root).is_dir():
        return None
    hashes, names = reserved()
    found = []
    for path in sorted(Path(root).rglob("*.svg")):
        svg = path.read_bytes()
        if path.name in names or hashlib.sha1(svg).hexdigest()[:12] in hashes:
            try:  # rendered as the pairs' colour is
                colour = colour_render(svg, size)[0]
            except Exception:  # cairosvg raises many kinds on broken files
                continue
            found.append(thumbnail(np.round(colour * 255).astype(np.uint8)))
    return found


def without_lookalikes(pairs, known):
    """`pairs` less those whose colour render looks like one of the `known` thumbnails."""
    if not known:
        return pairs, 0
    known = np.stack(known)
    kept = [pair for pair in pairs
            if np.abs(known - thumbnail(rgb8(pair[1]))).mean(-1).min() >= LOOKALIKE]
    return kept, len(pairs) - len(kept)


def folder_tag(root):
    """svg-NAME-HASH: a held-out folder's name in its render cache and in `--out` files."""
    root = Path(root).resolve()
    return f"svg-{root.name}-{hashlib.sha1(str(root).encode()).hexdigest()[:8]}"


def held_out_folder(root, size, clip_art_pairs):
    """(pairs, note) of every usable drawing under the SVG folder `root` that does not look
    like an Open Clip Art drawing (`clip_art_pairs`, or a reserved one), rendered into
    RENDER_CACHE/svg-NAME-HASH-SIZE."""
    pairs = openclipart_pairs(RENDER_CACHE / f"{folder_tag(root)}-{size}", size,
                              svg_root=root, progress=False)
    clip_art = [thumbnail(rgb8(colour)) for _, colour in clip_art_pairs]
    reserved_looks = reserved_thumbnails(size)
    kept, dropped = without_lookalikes(pairs, clip_art + (reserved_looks or []))
    if not kept:
        raise SystemExit(f"{root}: no usable drawing left ({len(pairs)} made into pairs, "
                         f"{dropped} like Open Clip Art ones)")
    note = f"{dropped} more left out as look-alikes of Open Clip Art drawings"
    if reserved_looks is None:
        note += f"; the reserved ones not checked: {SVG_ROOT} is missing"
    return kept, note


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
    """Score every model on one source: a named one's `args.split`, or a held-out folder."""
    if name in args.svg_root:
        clip_art = open_pairs("openclipart", size=args.size)
        pairs, note = held_out_folder(name, args.size, clip_art.pairs)
        train = clip_art.splits()["train"]
        what = f"{'the first' if args.limit else 'every'} usable SVG under {name} ({note})"
    else:
        splits = open_pairs(name, size=args.size).splits()
        pairs, train = splits[args.split], splits["train"]
        what = f"{name} {args.split} split (by drawing)"
    pairs = pairs[: args.limit or None]
    header = f"{len(pairs)} drawings: {what}"
    inputs = [rgb8(sketch) for sketch, _ in pairs]
    truths = [rgb8(colour) for _, colour in pairs]
    rng = np.random.default_rng(0)
    spots = [sample_spots(truth / 255.0, max(args.hints), rng) for truth in truths]
    fixed = median_colour(train)
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
    return header, rows, grid, drawings


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
    parser.add_argument("--sources", nargs="*", default=["openmoji", "openclipart"])
    parser.add_argument("--svg-root", nargs="+", default=[], metavar="DIR",
                        help="also score every drawing of these SVG folders, held out from "
                             "training (e.g. /usr/share/tuxpaint/stamps)")
    parser.add_argument("--split", choices=("val", "test"), default="val")
    parser.add_argument("--hints", type=int, nargs="+", default=[0, 5])
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--size", type=int, default=128,
                        help="render size of the drawings (their cache: NAME-SIZE)")
    parser.add_argument("--against", nargs="+", default=[])
    parser.add_argument("--grid", type=int, default=8, help="drawings in the picture grid")
    parser.add_argument("--out", default=None, help="write OUT.md and OUT-SOURCE.png")
    args = parser.parse_args()
    if not args.sources + args.svg_root:
        parser.error("nothing to score: name --sources or an --svg-root folder")
    text = []
    for name in args.sources + args.svg_root:
        header, rows, grid, drawings = run_source(name, args)
        text.append(tables(header, rows, drawings, args.against))
        print("\n" + text[-1], flush=True)
        if args.out:
            tag = name if name in args.sources else folder_tag(name)
            columns = save_grid(grid, f"{args.out}-{tag}.png")
            text.append(f"\nGrid columns: {' | '.join(columns)}\n\n"
                        f"![{tag}]({Path(args.out).name}-{tag}.png)\n")
    if args.out:
        command = "python benchmarks/by_source.py " + " ".join(sys.argv[1:])
        Path(f"{args.out}.md").write_text(f"Made by `{command}`\n\n" + "\n\n".join(text) + "\n")


if __name__ == "__main__":
    main()
