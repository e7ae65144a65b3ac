"""Inference speed of a Colorizer (default: the bundled sketch model), one run.

    python benchmarks/infer_speed.py [--model sketch|PATH] [--repeats 5]

Reports load time and milliseconds per image at 128x128 (batch 1 and batch 32), 512x512 and
2048x2048 (the network runs at the model's size; the rest is resizing), best of `--repeats`,
and a 2048x2048 grayscale image through the gray model. That image is uniform noise: a worst
case, as most of its pixels need their chroma fitted into the sRGB gamut.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from pix2color import Colorizer  # noqa: E402


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
    args = parser.parse_args()

    start = time.perf_counter()
    colorizer = Colorizer.load(args.model)
    load_s = time.perf_counter() - start
    rng = np.random.default_rng(0)
    rows = [("load", "", load_s * 1000)]
    for label, size, batch in [("128x128, batch 1", 128, 1), ("128x128, batch 32", 128, 32),
                               ("512x512, batch 1", 512, 1), ("2048x2048, batch 1", 2048, 1)]:
        images = [rng.integers(0, 256, (size, size, 3), np.uint8) for _ in range(batch)]
        colorizer.colorize_batch(images, batch_size=batch)  # warm-up: trace once
        seconds = best_of(args.repeats, lambda: colorizer.colorize_batch(images, batch_size=batch))
        rows.append((label, f"{batch / seconds:.1f}", seconds / batch * 1000))
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
    print(f"\n{colorizer!r}, {os.cpu_count()} CPUs, best of {args.repeats}")
    print("| case | images/s | ms per image (load: ms) |\n|---|---:|---:|")
    for label, per_second, ms in rows:
        print(f"| {label} | {per_second} | {ms:.1f} |")


if __name__ == "__main__":
    main()
