"""Painting speed: colouring one drawing again with new hints, against colouring a new one.

    python benchmarks/repaint_speed.py [--sizes 1024 2048] [--repeats 5]

A person painting hints colours the same drawing many times. `Colorizer` keeps the last
drawings' segmentations (`pix2color.flats.RegionFill`), so a new set of hints on the same
drawing only runs the network, reads the palette and paints. For each size, the sample sketch
(examples/sketch.png) resized, with region fill and the README's two point hints:

- "new drawing": every call a drawing the Colorizer has not seen (the sketch shifted by a
  pixel), so it is segmented;
- "same drawing, new hints": the same drawing each call, the hints' colours changed.

Best of `--repeats` each, measured side by side in one run; the ratio is new / same.
"""

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from pix2color import Colorizer  # noqa: E402

SKETCH = Path(__file__).parent.parent / "examples" / "sketch.png"
COLOURS = ["#e03c31", "#2a7de1", "#f4c20d", "#3cb44b", "#911eb4", "#f58231"]


def best_of(repeats, fn):
    times = []
    for k in range(repeats):
        start = time.perf_counter()
        fn(k)
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024, 2048])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    colorizer = Colorizer.load(args.model)
    sketch = Image.open(SKETCH).convert("RGB")
    rows = []
    for size in args.sizes:
        drawing = np.asarray(sketch.resize((size, size), Image.LANCZOS))
        places = [(size // 2, size * 150 // 256), (size // 2, size * 85 // 256)]  # the README's

        def hints(k):
            return [(x, y, COLOURS[(k + i) % len(COLOURS)]) for i, (x, y) in enumerate(places)]

        def new_drawing(k):
            colorizer.colorize(np.roll(drawing, k + 1, axis=1), hints=hints(k))

        def same_drawing(k):
            colorizer.colorize(drawing, hints=hints(k + 1))

        colorizer.colorize(drawing, hints=hints(0))   # warm-up, and the drawing is kept
        new = best_of(args.repeats, new_drawing)
        colorizer.colorize(drawing, hints=hints(0))
        same = best_of(args.repeats, same_drawing)
        rows.append((size, new * 1000, same * 1000))
    print(f"\n{colorizer!r}, {os.cpu_count()} CPUs, best of {args.repeats}, region fill, "
          f"2 point hints")
    print("| size | new drawing, ms | same drawing, new hints, ms | ratio |\n|---|---:|---:|---:|")
    for size, new, same in rows:
        print(f"| {size}x{size} | {new:.0f} | {same:.0f} | {new / same:.1f}x |")


if __name__ == "__main__":
    main()
