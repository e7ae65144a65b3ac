"""A plain drawing, as a new user would draw one: a house, a face and a triangle in 2-px black
lines on white, at 600x400 and at 2400x1600 (the same drawing, lines still 2 px).

    python benchmarks/plain_drawing.py sketch [MODEL...] --out docs/plain-drawing.png

For each model and size it prints how much of each shape's inside is coloured (not paper
white: some channel below 235), with region fill and no hints, and writes the pictures side
by side. The OpenMoji-only model returned this drawing uncoloured at both sizes.
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from pix2color import Colorizer  # noqa: E402

SHAPES = {  # at 600x400: the polygon of each shape, and a point inside it
    "house": [(60, 200), (200, 200), (200, 340), (60, 340)],
    "roof": [(50, 200), (130, 110), (210, 200)],
    "face": [(270, 130), (410, 270)],          # the ellipse's box
    "triangle": [(450, 330), (520, 190), (580, 330)],
}


def plain_drawing(scale=1, line=2):
    """The drawing at 600*scale x 400*scale, lines `line` px, and a mask of each shape's inside."""
    size = (600 * scale, 400 * scale)
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    masks = {}
    for name, points in SHAPES.items():
        points = [(x * scale, y * scale) for x, y in points]
        mask = Image.new("L", size, 0)
        if name == "face":
            draw.ellipse(points, outline="black", width=line)
            ImageDraw.Draw(mask).ellipse(points, fill=255)
            (x0, y0), (x1, y1) = points
            cx, cy, r = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2
            for dx in (-0.35, 0.35):  # eyes
                draw.ellipse([cx + dx * r - 6 * scale, cy - 0.25 * r - 6 * scale,
                              cx + dx * r + 6 * scale, cy - 0.25 * r + 6 * scale],
                             outline="black", width=line)
            draw.arc([cx - 0.5 * r, cy - 0.3 * r, cx + 0.5 * r, cy + 0.55 * r], 20, 160,
                     fill="black", width=line)
        else:
            draw.polygon(points, outline="black", width=line)
            ImageDraw.Draw(mask).polygon(points, fill=255)
        masks[name] = np.asarray(mask) > 0
    # the inside only: shrink each mask away from its outline
    from scipy import ndimage

    return image, {k: ndimage.binary_erosion(m, iterations=4 * scale) for k, m in masks.items()}


def coloured_share(picture, mask):
    rgb = np.asarray(picture.convert("RGB"))
    return float(np.mean(rgb[mask].min(-1) < 235))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", default=["sketch"])
    parser.add_argument("--out", default=None, help="a PNG of the results (600-px row each)")
    args = parser.parse_args()
    rows = []
    print("| model | size | " + " | ".join(SHAPES) + " |\n|---|---|" + "---:|" * len(SHAPES))
    for model in args.models:
        colorizer = Colorizer.load(model)
        for scale in (1, 4):
            drawing, masks = plain_drawing(scale)
            picture = colorizer.colorize(drawing)
            shares = [coloured_share(picture, masks[name]) for name in SHAPES]
            print(f"| {model} | {drawing.width}x{drawing.height} | "
                  + " | ".join(f"{s:.0%}" for s in shares) + " |", flush=True)
            rows.append(picture.convert("RGB").resize((600, 400), Image.BOX))
    if args.out:
        sheet = Image.new("RGB", (1200, 400 * len(args.models)), "white")
        for i, picture in enumerate(rows):
            sheet.paste(picture, ((i % 2) * 600, (i // 2) * 400))
        sheet.save(args.out)


if __name__ == "__main__":
    main()
