"""Painting speed: colouring one drawing again with new hints, against colouring a new one.

    python benchmarks/repaint_speed.py [--sizes 1024 2048] [--repeats 7]

A person painting hints colours the same drawing many times. `Colorizer` keeps what depends
on the drawing alone (its network input, its segmentation, what region fill reads off it),
so a new set of hints on the same drawing only runs the network, reads the palette and
paints. For each size, the sample sketch (examples/sketch.png) resized, with region fill:

- "new drawing": every call a drawing the Colorizer has not seen (the sketch shifted by a
  pixel), so it is segmented: the first colour, with no hints and with the two point hints
  (one lies in the cat's face, which its outline leaves open, so balls 2, 3 and 4 times as
  large are tried too: `pix2color.flats.RegionFill`);
- "same drawing, new point hints": the same drawing each call, the README's two point hints
  in new colours;
- "same drawing, new strokes": the same drawing each call with a full-size RGBA hint image
  (what the app sends), one more painted stroke each call;

and where a re-colour with new strokes spends its time, by `Colorizer`'s stages (`read`,
`prepare`, `network`: the network at its working size, which new hints must run again;
`finish`: region fill and composing the picture). Median (and best) of `--repeats` each,
measured side by side in one run; the ratio is new drawing with point hints / new strokes.
"""

import argparse
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from pix2color import Colorizer  # noqa: E402

SKETCH = Path(__file__).parent.parent / "examples" / "sketch.png"
COLOURS = ["#e03c31", "#2a7de1", "#f4c20d", "#3cb44b", "#911eb4", "#f58231"]
STAGES = ("read", "prepare", "network", "finish")


def timed(repeats, fn):
    """Seconds each of `repeats` calls of fn(k) took."""
    times = []
    for k in range(repeats):
        start = time.perf_counter()
        fn(k)
        times.append(time.perf_counter() - start)
    return times


def strokes(shape, k):
    """A hint image after stroke k: k + 1 short strokes across the middle, colours varying."""
    layer = np.zeros((*shape, 4), np.uint8)
    height, width = shape
    for i in range(k + 1):
        row, col = height // 2 + (i % 5) * height // 200, width // 3 + i * width // 250
        colour = Image.new("RGB", (1, 1), COLOURS[i % len(COLOURS)]).getpixel((0, 0))
        layer[row: row + height // 170 + 1, col: col + width // 10] = (*colour, 255)
    return layer


def by_stage(colorizer, drawing, hint_image):
    """One re-colour through the stages, each timed (seconds)."""
    times, start = {}, time.perf_counter()
    picture = colorizer.read(drawing, hint_image=hint_image)
    times["read"], start = time.perf_counter() - start, time.perf_counter()
    prepared, = colorizer.prepare([picture])
    times["prepare"], start = time.perf_counter() - start, time.perf_counter()
    outputs, _ = colorizer.network(prepared.network[None])
    times["network"], start = time.perf_counter() - start, time.perf_counter()
    colorizer.finish(prepared, outputs[0], fill="regions")
    times["finish"] = time.perf_counter() - start
    return times


def measure(colorizer, sketch, size, repeats):
    """-> ({case: times}, {stage: times}) for one size."""
    drawing = np.asarray(sketch.resize((size, size), Image.LANCZOS))
    places = [(size // 2, size * 150 // 256), (size // 2, size * 85 // 256)]  # the README's

    def hints(k):
        return [(x, y, COLOURS[(k + i) % len(COLOURS)]) for i, (x, y) in enumerate(places)]

    colorizer.colorize(drawing, hints=hints(0))   # warm-up, and the drawing is kept
    colorizer.colorize(drawing, hint_image=strokes(drawing.shape[:2], 0))
    cases = {
        "new drawing, no hints": timed(repeats, lambda k: colorizer.colorize(
            np.roll(drawing, -k - 1, axis=1))),
        "new drawing, point hints": timed(repeats, lambda k: colorizer.colorize(
            np.roll(drawing, k + 1, axis=1), hints=hints(k))),
        "same drawing, new point hints": timed(repeats, lambda k: colorizer.colorize(
            drawing, hints=hints(k + 1))),
        "same drawing, new strokes": timed(repeats, lambda k: colorizer.colorize(
            drawing, hint_image=strokes(drawing.shape[:2], k + 1))),
    }
    stages = [by_stage(colorizer, drawing, strokes(drawing.shape[:2], repeats + k))
              for k in range(repeats)]
    return cases, {stage: [t[stage] for t in stages] for stage in STAGES}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024, 2048])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    colorizer = Colorizer.load(args.model)
    sketch = Image.open(SKETCH).convert("RGB")
    results = {size: measure(colorizer, sketch, size, args.repeats) for size in args.sizes}

    def ms(times):
        return f"{statistics.median(times) * 1000:.0f} ({min(times) * 1000:.0f})"

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\n{colorizer!r}, {os.cpu_count()} CPUs (load average {load:.1f}), region fill, "
          f"median (best) of {args.repeats}, ms")
    names = list(next(iter(results.values()))[0])
    print(f"| size | {' | '.join(names)} | ratio |\n|---|{'---:|' * (len(names) + 1)}")
    for size, (cases, _) in results.items():
        ratio = statistics.median(cases[names[1]]) / statistics.median(cases[names[-1]])
        print(f"| {size}x{size} | {' | '.join(ms(cases[n]) for n in names)} | {ratio:.0f}x |")
    print(f"\nA re-colour with new strokes, by stage, median (best) ms:\n"
          f"| size | {' | '.join(STAGES)} | network's share |\n|---|{'---:|' * 5}")
    for size, (_, stages) in results.items():
        share = statistics.median(stages["network"]) / sum(
            statistics.median(stages[s]) for s in STAGES)
        print(f"| {size}x{size} | {' | '.join(ms(stages[s]) for s in STAGES)} | "
              f"{share:.0%} |")


if __name__ == "__main__":
    main()
