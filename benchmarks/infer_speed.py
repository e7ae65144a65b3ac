"""Inference speed of a Colorizer (default: the bundled sketch model), one run.

    python benchmarks/infer_speed.py [--model sketch|PATH] [--repeats 5]

Reports load time and milliseconds per image at 128x128 (batch 1 and batch 32), 512x512 and
2048x2048 (the network runs at the model's size; the rest is resizing and, for line art, the
fill), best of `--repeats`, for each fill ("none": the raw network output; "lines": the input's
lines on top; "regions": region fill), and a 2048x2048 grayscale image through the gray model.
The line art is the sample sketch (examples/sketch.png) resized to each size; the grayscale
image is uniform noise: a worst case, as most of its pixels need their chroma fitted into the
sRGB gamut.
"""

import argparse
import itertools
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from pix2color import Colorizer  # noqa: E402

SKETCH = Path(__file__).parent.parent / "examples" / "sketch.png"


def best_of(repeats, fn):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--gray-model", default="gray",
                        help="also time a 2048x2048 grayscale image end to end with this model")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--fills", nargs="+", default=["none", "lines", "regions"])
    args = parser.parse_args()

    start = time.perf_counter()
    colorizer = Colorizer.load(args.model)
    load_s = time.perf_counter() - start
    rng = np.random.default_rng(0)
    rows = [("load", "", load_s * 1000)]
    sketch = Image.open(SKETCH).convert("RGB")
    for (label, size, batch), fill in itertools.product(
            [("128x128, batch 1", 128, 1), ("128x128, batch 32", 128, 32),
             ("512x512, batch 1", 512, 1), ("2048x2048, batch 1", 2048, 1)], args.fills):
        images = [np.asarray(sketch.resize((size, size), Image.LANCZOS))] * batch

        def run():
            colorizer.colorize_batch(images, batch_size=batch, fill=fill)

        run()  # warm-up: trace once
        seconds = best_of(args.repeats, run)
        rows.append((f"{label}, fill {fill}", f"{batch / seconds:.1f}", seconds / batch * 1000))
    if args.gray_model:
        try:
            gray = Colorizer.load(args.gray_model)
        except FileNotFoundError as error:
            print(f"(no gray row: {error})")
        else:
            image = rng.integers(0, 256, (2048, 2048), np.uint8)
            gray.colorize(image)
            seconds = best_of(args.repeats, lambda: gray.colorize(image))
            rows.append(("gray model, 2048x2048 grayscale, end to end", f"{1 / seconds:.2f}",
                         seconds * 1000))
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    bf16 = ", ".join(f for f in ("avx512_bf16", "amx_bf16") if f in flags) or "none"
    print(f"\n{colorizer!r}, {os.cpu_count()} CPUs (native bfloat16: {bf16}), "
          f"best of {args.repeats}")
    print("| case | images/s | ms per image (load: ms) |\n|---|---:|---:|")
    for label, per_second, ms in rows:
        print(f"| {label} | {per_second} | {ms:.1f} |")


if __name__ == "__main__":
    main()
