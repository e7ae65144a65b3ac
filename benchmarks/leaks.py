"""Sketchy outlines: does a hint fill its shape and stop at the gaps in its outline?

    python benchmarks/leaks.py [--drawings 40] [--size 384]

Generated drawings (seeded): one shape a drawing (an ellipse or a polygon, 2-px lines) whose
outline has two gaps of G pixels (G = 2, 4, 8, 12, 16), and "dumbbells": two closed blobs
joined by a corridor W pixels wide (W = 10, 16, 24), which one hint should fill whole. A
hint sits at the deepest point of the shape. Each way of finding the hint's region is scored
on the pixels the shape encloses (filled: the share the hint's region covers) and on the
paper around it (leak: the share it covers); "ok" counts drawings with filled >= 95% and
leak <= 1%. Ways compared, all `pix2color.regions.segment` at the drawing's full size:

- trapped balls of one radius: the default (1% of the longer side) and 2x, 3x, 4x that;
- adaptive: the default radius, and where the hint's region is open to the image border (it
  leaked), the smallest of 2x, 3x, 4x under which it is not.
"""

import argparse

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from pix2color.regions import default_gap, segment

GAPS = (2, 4, 8, 12, 16)
CORRIDORS = (10, 16, 24)
SCALES = (1, 2, 3, 4)


def line_art(mask, rng, gap=0):
    """A filled shape (bool) -> its 2-px outline as line art (uint8 RGB) with two gaps of
    `gap` pixels, and the free area the outline encloses (bool)."""
    inside = ndimage.binary_erosion(mask, iterations=2)
    line = mask & ~inside
    if gap:
        points = np.argwhere(line)
        first = points[rng.integers(len(points))]
        far = points[np.hypot(*(points - first).T) > 0.5 * np.ptp(points[:, 0])]
        rows, cols = np.indices(mask.shape)
        for y, x in (first, far[rng.integers(len(far))]):
            line &= np.hypot(rows - y, cols - x) > gap / 2
    return np.dstack([np.where(line, 0, 255).astype(np.uint8)] * 3), inside


def shape_mask(rng, size):
    """A random ellipse or polygon, filled."""
    centre, radius = size / 2 + rng.uniform(-20, 20, 2), rng.uniform(0.25, 0.4) * size
    if rng.random() < 0.5:
        angles, scale = np.linspace(0, 2 * np.pi, 64, endpoint=False), np.ones(64)
    else:
        count = rng.integers(5, 9)
        angles, scale = np.sort(rng.uniform(0, 2 * np.pi, count)), rng.uniform(0.7, 1, count)
    corners = [(centre[0] + radius * k * np.cos(a), centre[1] + radius * k * 0.8 * np.sin(a))
               for a, k in zip(angles, scale)]
    image = Image.new("1", (size, size), 0)
    ImageDraw.Draw(image).polygon(corners, fill=1)
    return np.asarray(image)


def dumbbell_mask(rng, size, corridor):
    """Two discs joined by a corridor `corridor` pixels wide, filled: one region."""
    image = Image.new("1", (size, size), 0)
    draw, r = ImageDraw.Draw(image), rng.uniform(0.14, 0.18) * size
    y = size / 2 + rng.uniform(-10, 10)
    for x in (0.28 * size, 0.72 * size):
        draw.ellipse((x - r, y - r, x + r, y + r), fill=1)
    draw.rectangle((0.28 * size, y - corridor / 2, 0.72 * size, y + corridor / 2), fill=1)
    return np.asarray(image)


def region_of_hint(drawing, hint, gap):
    labels = segment(drawing.min(-1) >= 128, gap=gap).labels
    return labels == labels[hint]


def open_to_border(region):
    return region[0].any() or region[-1].any() or region[:, 0].any() or region[:, -1].any()


def score(region, inside):
    outside = ~inside
    return region[inside].mean(), region[outside].mean()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--drawings", type=int, default=40, help="drawings per gap / corridor")
    parser.add_argument("--size", type=int, default=384)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    base = default_gap((args.size, args.size))
    cases = [(f"gap {g} px", lambda g=g: line_art(shape_mask(rng, args.size), rng, g))
             for g in GAPS]
    cases += [(f"corridor {w} px", lambda w=w: line_art(dumbbell_mask(rng, args.size, w), rng))
              for w in CORRIDORS]
    ways = [f"one radius {s * base} px" for s in SCALES] + ["adaptive"]
    table = {}
    for case, make in cases:
        results = {way: [] for way in ways}
        for _ in range(args.drawings):
            drawing, inside = make()
            hint = np.unravel_index(np.argmax(ndimage.distance_transform_edt(inside)),
                                    inside.shape)
            regions = {s: region_of_hint(drawing, hint, s * base) for s in SCALES}
            for s in SCALES:
                results[f"one radius {s * base} px"].append(score(regions[s], inside))
            chosen = next((s for s in SCALES if not open_to_border(regions[s])), 1)
            results["adaptive"].append(score(regions[chosen], inside))
        table[case] = {way: np.asarray(v) for way, v in results.items()}
    print(f"\n{args.drawings} drawings a row, {args.size} px, default radius {base} px; "
          f"filled % / leak % / ok of {args.drawings}")
    print("| drawing | " + " | ".join(ways) + " |\n|---|" + "---:|" * len(ways))
    for case, results in table.items():
        cells = [f"{100 * r[:, 0].mean():.0f} / {100 * r[:, 1].mean():.1f} / "
                 f"{int(((r[:, 0] >= 0.95) & (r[:, 1] <= 0.01)).sum())}" for r in results.values()]
        print(f"| {case} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
