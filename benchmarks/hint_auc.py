"""Hint-AUC (Madono, Mingcheng & Simo-Serra, IEEE TVCG 2026) on a test split (OpenMoji or Open
Clip Art).

    python3 -m venv /work/venv-hintauc      # hintauc pins astropy<6, which needs numpy<2
    /work/venv-hintauc/bin/pip install -e ".[openmoji,openclipart]" "numpy<2" "ml_dtypes>=0.5.1,<0.6" \
        hintauc
    /work/venv-hintauc/bin/python benchmarks/hint_auc.py --hint-type scribble dot
    /work/venv-hintauc/bin/python benchmarks/hint_auc.py --source openclipart --model drawings

The protocol (the `hintauc` package) places deterministic hints from the ground truth's
regions, largest regions first, at 0, 1, 3, 5, 10, 25, 50 and 100% of them, scores each
output against the ground truth (PSNR, CIEDE2000 on 256 x 256) and integrates the curve over
the ratio. Hint generation is slow (~3.6 s an image here) and breaks ties randomly, so the
hints are made once and cached (`--cache`); every system gets the same ones:

- pix2color with region fill and with fill none (hints given as one RGBA hint image);
- the protocol's own hint-fill baseline (`hintauc.hint_fill_colorizer`): an oracle that
  fills the ground truth's hinted regions with their colour, for reference only.

Drawings are the split's 128-px renders enlarged to `--size` (default 256, bicubic).
`--by-place` also says where region fill's error lies with every region hinted: the mean
per-pixel CIEDE2000 on the drawing's lines, within 2 px of them, and further inside.
"""

import argparse
import os
import pickle
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

import hintauc  # noqa: E402
from pix2color import Colorizer  # noqa: E402
from pix2color.color import ciede2000, rgb_to_lab  # noqa: E402
from pix2color.data import open_pairs  # noqa: E402
from pix2color.regions import INK, line_darkness  # noqa: E402

METRICS = ("psnr", "deltae")


def load(path, size):
    return np.asarray(Image.open(path).convert("RGB").resize((size, size), Image.BICUBIC))


def cached_hints(truth, path):
    """The protocol's hints for a ground truth (RGB), made once and kept in `path`."""
    if path.exists():
        return pickle.loads(path.read_bytes())
    hints = hintauc.generate_hints(np.ascontiguousarray(truth[..., ::-1]))   # it takes BGR
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(hints))
    return hints


def pix2color_system(colorizer, fill):
    def colorize(sketch, colour_bgr, mask, sample):
        rgba = np.dstack([colour_bgr[..., ::-1], np.where(mask > 0, 255, 0).astype(np.uint8)])
        out = colorizer.colorize(sketch, hint_image=Image.fromarray(rgba, "RGBA"), fill=fill)
        return np.asarray(out.convert("RGB"))
    return colorize


def hint_fill(sketch, colour_bgr, mask, sample):
    return hintauc.hint_fill_colorizer(sample)[..., ::-1]


def error_by_place(system, data, hint_type):
    """Region fill with every region hinted: the mean per-pixel CIEDE2000 on the lines,
    within 2 px of them and further in (each over all pixels, so the three add up)."""
    from scipy import ndimage

    sums = dict.fromkeys(("on lines", "within 2 px", "inside"), 0.0)
    for sketch, truth, hints in data:
        colour, mask = hintauc.hint_inputs(hints, 1.0, hint_type, *truth.shape[:2])
        output = system(sketch, colour, mask, None)
        error = ciede2000(rgb_to_lab(output / 255.0), rgb_to_lab(truth / 255.0)).numpy()
        line = line_darkness(sketch / 255.0) >= INK
        distance = ndimage.distance_transform_cdt(~line, metric="chessboard")
        for place, where in zip(sums, (line, ~line & (distance <= 2), distance > 2)):
            sums[place] += error[where].sum() / error.size / len(data)
    print(f"\nRegion fill, {hint_type} hints in every region: mean CIEDE2000 "
          f"{sum(sums.values()):.2f}, of which " +
          ", ".join(f"{place} {value:.2f}" for place, value in sums.items()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=0,
                        help="only the first N drawings of the split (default: all)")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--hint-type", nargs="+", default=["scribble"], choices=("scribble", "dot"))
    parser.add_argument("--systems", nargs="+", default=["regions", "none", "oracle"],
                        choices=("regions", "none", "oracle"))
    parser.add_argument("--by-place", action="store_true",
                        help="also: where region fill's error lies with every region hinted")
    parser.add_argument("--cache", default=str(Path.home() / ".cache/pix2color/hintauc"))
    parser.add_argument("--source", default="openmoji", choices=("openmoji", "openclipart"))
    parser.add_argument("--model", default=None, help="a bundled model's name or a model "
                        "folder (default: the default model)")
    parser.add_argument("--data-cache", default=None,
                        help="where the source's renders are (default ~/.cache/pix2color)")
    args = parser.parse_args()

    pairs = open_pairs(args.source, cache=args.data_cache).splits()["test"]
    pairs = pairs[: args.limit or None]
    colorizer = Colorizer.load(args.model)
    systems = {"pix2color, region fill": pix2color_system(colorizer, "regions"),
               "pix2color, fill none": pix2color_system(colorizer, "none"),
               "protocol hint fill (oracle)": hint_fill}
    systems = {label: system for (label, system), name in zip(systems.items(), (
        "regions", "none", "oracle")) if name in args.systems}
    evaluator = hintauc.Evaluator(metrics=METRICS)
    alphas = list(hintauc.DEFAULT_ALPHAS)
    data = []
    for sketch_path, truth_path in pairs:
        sketch, truth = load(sketch_path, args.size), load(truth_path, args.size)
        name = f"{Path(truth_path).parent.name}-{Path(truth_path).stem}"
        hints = cached_hints(truth, Path(args.cache) / f"{args.size}" / f"{name}.pkl")
        data.append((sketch, truth, hints))
    for hint_type in args.hint_type:
        print(f"\n{len(data)} {args.source} test drawings at {args.size} px, {hint_type} hints, "
              f"{args.model or 'the default model'} (hintauc {hintauc.__version__})")
        print("| system | " + " | ".join(f"PSNR {a:.0%}" for a in alphas) +
              " | Hint-AUC PSNR | Hint-AUC CIEDE2000 |\n|---|" + "---:|" * (len(alphas) + 2))
        curves = {}
        for label, system in systems.items():
            sums = {a: dict.fromkeys(METRICS, 0.0) for a in alphas}
            for sketch, truth, hints in data:
                gray = np.asarray(Image.fromarray(sketch).convert("L"))
                for a in alphas:
                    colour, mask = hintauc.hint_inputs(hints, a, hint_type, *truth.shape[:2])
                    sample = {"alpha": a, "line_art": gray, "hint_color": colour,
                              "hint_mask": mask, "hints": hints,
                              "ground_truth": np.ascontiguousarray(truth[..., ::-1])}
                    output = system(sketch, colour, mask, sample)
                    for key, value in evaluator(np.ascontiguousarray(output), truth).items():
                        sums[a][key] += value / len(data)
            auc = hintauc.hint_auc_table(sums)
            print(f"| {label} | " + " | ".join(f"{sums[a]['psnr']:.2f}" for a in alphas) +
                  f" | {auc['psnr']:.2f} | {auc['deltae']:.2f} |", flush=True)
            curves[label] = [sums[a]["psnr"] for a in alphas]
        for label, psnr in curves.items():   # the protocol's "more hints never hurt"
            worse = [f"{a:.0%} -> {b:.0%}: {y - x:+.3f} dB" for a, b, x, y in zip(
                alphas, alphas[1:], psnr, psnr[1:]) if y < x]
            print(f"{label}: every ratio at least as good as the one before: "
                  f"{'no, ' + ', '.join(worse) if worse else 'yes'}")
        if args.by_place:
            error_by_place(pix2color_system(colorizer, "regions"), data, hint_type)


if __name__ == "__main__":
    main()
