"""Peak memory (RSS) of colouring one large picture, through the API, the CLI and the app.

Each row runs in a fresh process and reads its own peak resident set size (ru_maxrss), so
TensorFlow and the model count too. Sizes 3000, 6000 and 9000 px a side show how the peak
grows with the image (the growth rate per megapixel is the last column). Inputs are made
here: a line drawing (circles, 6-px outlines) and a smooth photo-like gradient, as PNGs.

    python benchmarks/peak_memory.py [--sizes 3000 6000 9000]
"""

import argparse
import os
import platform
import subprocess
import sys
import tempfile
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
    args = parser.parse_args()
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"peak RSS in MB, each row a fresh process")
    cases = [("sketch", drawing, "regions"), ("sketch", drawing, "none"), ("gray", photo, "-")]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
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


if __name__ == "__main__":
    main()
