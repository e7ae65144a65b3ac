"""Peak memory (RSS) of colouring one large picture, through the API, the CLI and the app.

Each row runs in a fresh process and reads its own peak resident set size (ru_maxrss), so
TensorFlow and the model count too. Sizes 3000, 6000 and 9000 px a side show how the peak
grows with the image (the growth rate per megapixel is the last column). Inputs are made
here: a line drawing (circles, 6-px outlines) and a smooth photo-like gradient, as PNGs.

A second table is what hostile small files cost: model folders whose description or archive
ask for a huge network, and a 12000x12000 WebP of a few KB given to the serving signature and
to training. Each should be refused (or skipped) from its header or configuration, at about
the memory of starting up.

    python benchmarks/peak_memory.py [--sizes 3000 6000 9000]
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

API = """
import resource, sys
from pix2color import Colorizer
colorizer = Colorizer.load(sys.argv[1])
colorizer.colorize(sys.argv[2], **({"fill": sys.argv[3]} if sys.argv[3] != "-" else {}))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
CLI = """
import resource, sys
from pix2color.cli import main
code = main(["colorize", *sys.argv[1:]])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss if code == 0 else f"exit {code}")
"""
APP = """
import resource, sys
import numpy as np
from pix2color import Colorizer
from pix2color.app import PREVIEW_SIDE, colorize_upload
hints = np.zeros((PREVIEW_SIDE, PREVIEW_SIDE, 4), np.uint8)  # painted on the app's preview
hints[1000:1010, 900:1100] = (224, 60, 49, 255)
colorize_upload(Colorizer.load("sketch"), sys.argv[1], hint_image=hints)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
BASELINE = """
import resource, sys
from pix2color import Colorizer
Colorizer.load(sys.argv[1]).colorize(sys.argv[2])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

LOAD = """
import resource, sys
from pix2color import Colorizer
try:
    Colorizer.load(sys.argv[1])
    outcome = "loaded"
except Exception as error:
    message = str(error).split(": ", 1)[-1].split(" (the archive")[0]
    outcome = f"{type(error).__name__}: {message[:70]}"
print(outcome, "|", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
SERVE = """
import resource, sys
import tensorflow as tf
from pix2color import Colorizer
from pix2color.export import _Servable
try:
    data = tf.constant([open(sys.argv[1], "rb").read()])
    _Servable(Colorizer.load("sketch")).colorize_image(data)
    outcome = "coloured"
except tf.errors.InvalidArgumentError as error:
    outcome = "refused: " + error.message.split("assertion failed: ")[-1].splitlines()[0][:70]
print(outcome, "|", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
TRAIN_DATA = """
import resource, sys
from pix2color.data import paired_dataset
pairs = [(sys.argv[1], sys.argv[2]), (sys.argv[2], sys.argv[2])]
read = sum(int(batch[0].shape[0]) for batch in paired_dataset(pairs, 128, 2))
print(f"{read} of 2 pairs read (the WebP pair skipped)" if read == 1 else f"{read} of 2 read",
      "|", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


BUNDLED_SKETCH = Path(__file__).parent.parent / "pix2color" / "weights" / "sketch"
# Made in a process of its own: a child process starts with its parent's resident size
# as its peak, so this one stays small (it never imports TensorFlow or holds the image).
HUGE_WEBP = """
import sys
from PIL import Image
Image.new("L", (12000, 12000), 255).save(sys.argv[1], lossless=True)
"""


def hostile_model(tmp, name, info_change=None, layer_change=None):
    """A copy of the bundled sketch model with its description or archive changed."""
    folder = tmp / name
    shutil.copytree(BUNDLED_SKETCH, folder)
    if info_change:
        info = json.loads((folder / "pix2color.json").read_text())
        info_change(info)
        (folder / "pix2color.json").write_text(json.dumps(info))
    if layer_change:
        with zipfile.ZipFile(BUNDLED_SKETCH / "generator.keras") as source, \
                zipfile.ZipFile(folder / "generator.keras", "w", zipfile.ZIP_DEFLATED) as target:
            for entry in source.infolist():
                data = source.read(entry)
                if entry.filename == "config.json":
                    config = json.loads(data)
                    layer_change({layer["name"]: layer for layer in config["config"]["layers"]})
                    data = json.dumps(config)
                target.writestr(entry.filename, data)
    return folder


def outcome_and_mb(command):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    last = (result.stdout.strip().splitlines() or ["?"])[-1]
    if result.returncode != 0 or "|" not in last:
        return f"crashed: {(result.stderr.strip() or '?').splitlines()[-1][:60]}", "-"
    outcome, peak = last.rsplit("|", 1)
    return outcome.strip(), f"{int(peak) / 1024:.0f}"


def hostile_files(tmp):
    """The second table: small files that used to cost gigabytes."""
    def width(value):
        return lambda info: info["generator"]["args"].update(width=value)

    def kernel(layers):
        layers["e1"]["config"]["kernel_size"] = [1500, 1500]

    models = [("pix2color.json says width 1024 (bundled sketch archive)",
               hostile_model(tmp, "wide", info_change=width(1024))),
              ("generator.keras gives e1 a 1500x1500 kernel",
               hostile_model(tmp, "kernel", layer_change=kernel)),
              ("the bundled sketch model, unchanged", hostile_model(tmp, "plain"))]
    webp = tmp / "huge.webp"
    subprocess.run([sys.executable, "-c", HUGE_WEBP, str(webp)], check=True)
    small = tmp / "small.png"
    drawing(256, small)
    print("\n| hostile input | size | what happens | peak MB |\n|---|---|---|---|")
    for label, folder in models:
        size = sum(p.stat().st_size for p in folder.iterdir() if p.name != "LICENSE-OpenMoji.txt")
        outcome, peak = outcome_and_mb([sys.executable, "-c", LOAD, str(folder)])
        print(f"| model folder: {label} | {size / 1024:.0f} KB | {outcome} | {peak} |",
              flush=True)
    kb = webp.stat().st_size / 1024
    for label, command in (
            ("`colorize_image` signature", [sys.executable, "-c", SERVE, str(webp)]),
            ("training data", [sys.executable, "-c", TRAIN_DATA, str(webp), str(small)])):
        outcome, peak = outcome_and_mb(command)
        print(f"| 12000x12000 WebP, {label} | {kb:.1f} KB | {outcome} | {peak} |", flush=True)


def drawing(size, path):
    image = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(image)
    rng = np.random.default_rng(0)
    for _ in range(300):
        x, y = rng.integers(0, size, 2)
        r = int(rng.integers(size // 180, size // 11))
        draw.ellipse([x - r, y - r, x + r, y + r], outline=0, width=max(1, size // 1500))
    image.convert("RGB").save(path)


def photo(size, path):
    ramp = np.linspace(0, 255, size, dtype=np.float32)
    rgb = np.stack([np.add.outer(ramp, ramp) / 2, np.add.outer(ramp, 255 - ramp) / 2,
                    np.broadcast_to(ramp[:, None], (size, size))], -1)
    Image.fromarray(rgb.astype(np.uint8)).save(path)


def peak_mb(command):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0 or not result.stdout.split()[-1].isdigit():
        return f"failed: {(result.stderr.strip() or result.stdout).splitlines()[-1][:60]}"
    return int(result.stdout.split()[-1]) / 1024


def cli_peak_mb(model, path, out, fill):
    """`pix2color colorize` (its `main`, in a fresh process), writing the PNG too."""
    fills = ["--fill", fill] if fill != "-" else []
    return peak_mb([sys.executable, "-c", CLI, str(path), "-o", str(out), "--model", model,
                    *fills])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[3000, 6000, 9000])
    parser.add_argument("--hostile-only", action="store_true",
                        help="only the second table (hostile small files)")
    args = parser.parse_args()
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"peak RSS in MB, each row a fresh process")
    cases = [("sketch", drawing, "regions"), ("sketch", drawing, "none"), ("gray", photo, "-")]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.hostile_only:
            return hostile_files(tmp)
        small = tmp / "small.png"
        drawing(256, small)
        base = {m: peak_mb([sys.executable, "-c", BASELINE, m, str(small)])
                for m in ("sketch", "gray")}
        print("| model | fill | input | API peak MB | MB per Mpx above a 256-px run | "
              "CLI peak MB |")
        print("|---|---|---|---|---|---|")
        for model, make, fill in cases:
            print(f"| {model} | {fill} | 256x256 | {base[model]:.0f} | - | - |")
            for size in sorted(args.sizes):
                path = tmp / f"{make.__name__}-{size}.png"
                if not path.exists():
                    make(size, path)
                api = peak_mb([sys.executable, "-c", API, model, str(path), fill])
                rate = (api - base[model]) / (size * size / 1e6) \
                    if isinstance(api, float) else float("nan")
                cli = cli_peak_mb(model, path, tmp / "out", fill)
                api_text = f"{api:.0f}" if isinstance(api, float) else api
                cli_text = f"{cli:.0f}" if isinstance(cli, float) else cli
                print(f"| {model} | {fill} | {size}x{size} | {api_text} | {rate:.1f} | "
                      f"{cli_text} |", flush=True)
        size = max(args.sizes)
        app = peak_mb([sys.executable, "-c", APP, str(tmp / f"drawing-{size}.png")])
        app = f"{app:.0f}" if isinstance(app, float) else app
        print(f"| sketch, app handler, painted hints | regions | {size}x{size} | {app} | - | - |")
        hostile_files(tmp)


if __name__ == "__main__":
    main()
