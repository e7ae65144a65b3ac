"""The app's re-colour latency: one brush stroke on a drawing already open, as the server
handles it.

    python benchmarks/app_latency.py [--side 1024] [--strokes 10]

The example sketch resized to `--side` pixels on its longer side is opened (coloured once:
its segmentation is made and kept), then `--strokes` strokes are painted one after another,
each a new short red line; after each the drawing is coloured again as the app's handler
does it (painted hints merged, region fill with the kept segmentation). Reported per stroke:

- handler: `pix2color.app.handler` from the editor's value to the picture;
- of which `Colorizer.colorize` alone, with the same hint image;
- Gradio: what Gradio does around it on the server, decoding the editor's three PNGs
  (background, hint layer, composite) and encoding the picture as PNG for the page, each
  timed;
- for reference, the same drawing coloured again with no hints at all.

Not counted: the browser exporting its canvas and the round trip (on the same machine, a few
tens of ms). Median and best of the strokes, side by side with opening the drawing (its
first colour) in the same run.
"""

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from pix2color import Colorizer  # noqa: E402
from pix2color.app.handler import (colorize_upload, combined_hints, painted_hints,  # noqa: E402
                                   region_options)

SKETCH = Path(__file__).parent.parent / "examples" / "sketch.png"


def drawing(side):
    image = Image.open(SKETCH).convert("RGB")
    scale = side / max(image.size)
    return image.resize((round(image.width * scale), round(image.height * scale)))


def stroke(shape, k):
    """The hint layer after stroke k: k + 1 short red lines across the middle."""
    layer = np.zeros((*shape, 4), np.uint8)
    height, width = shape
    for i in range(k + 1):
        row = height // 2 + (i % 5) * 3
        layer[row: row + 6, width // 3 + 4 * i: width // 3 + 4 * i + width // 10] = \
            (224, 60, 49, 255)
    return layer


def handle(colorizer, image, editor):
    """What the app's `colour` does for a stroke, without Gradio."""
    hint_image, points = combined_hints((image.height, image.width), painted_hints(editor))
    region_options(colorizer, "split", None)
    return colorize_upload(colorizer, image, None, hint_image, None, hints=points)


def gradio_round(editor_files, picture):
    """Gradio's server-side work for one event: the editor's PNGs decoded, the picture
    encoded."""
    import gradio as gr
    from gradio.data_classes import FileData
    from gradio.components.image_editor import EditorData

    component = gr.ImageEditor(type="numpy", image_mode="RGBA", render=False)
    payload = EditorData(background=FileData(path=editor_files[0]),
                         layers=[FileData(path=editor_files[1])],
                         composite=FileData(path=editor_files[2]))
    start = time.perf_counter()
    component.preprocess(payload)
    decoded, start = time.perf_counter() - start, time.perf_counter()
    gr.Image(type="pil", format="png", render=False).postprocess(picture)
    return decoded, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--side", type=int, default=1024)
    parser.add_argument("--strokes", type=int, default=10)
    args = parser.parse_args()
    colorizer = Colorizer.load("sketch")
    image = drawing(args.side)
    shape = (image.height, image.width)
    start = time.perf_counter()
    picture = handle(colorizer, image, None)             # the upload: segmented once
    opened = time.perf_counter() - start
    times = {name: [] for name in ("handler", "of which Colorizer.colorize", "Gradio decodes "
                                   "the editor's PNGs", "Gradio encodes the picture",
                                   "server total", "no hints (reference)")}
    names = list(times)
    with tempfile.TemporaryDirectory() as folder:
        for k in range(args.strokes):
            start = time.perf_counter()
            handle(colorizer, image, None)
            times[names[5]].append(time.perf_counter() - start)
            layer = stroke(shape, k)
            editor = {"background": None, "layers": [layer], "composite": None}
            start = time.perf_counter()
            picture = handle(colorizer, image, editor)
            times[names[0]].append(time.perf_counter() - start)
            start = time.perf_counter()
            colorizer.colorize(image, hint_image=stroke(shape, k + args.strokes))
            times[names[1]].append(time.perf_counter() - start)
            files = [str(Path(folder) / f"{name}.png") for name in ("bg", "layer", "comp")]
            image.convert("RGBA").save(files[0])
            Image.fromarray(layer).save(files[1])
            composite = image.convert("RGBA")
            composite.alpha_composite(Image.fromarray(layer))
            composite.save(files[2])
            for name, spent in zip(names[2:4], gradio_round(files, picture)):
                times[name].append(spent)
    times[names[4]] = [sum(parts) for parts in zip(*(times[n] for n in (names[0], *names[2:4])))]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"drawing {image.width}x{image.height}, {os.cpu_count()} CPUs (load average "
          f"{load:.1f}); opening it (segmented, the first colour): {opened * 1000:.0f} ms")
    print("| per stroke | median ms | best ms |\n|---|---:|---:|")
    for name, spent in times.items():
        print(f"| {name} | {statistics.median(spent) * 1000:.0f} | {min(spent) * 1000:.0f} |")
    handler = statistics.median(times[names[0]])
    print(f"opening / a stroke's handler: {opened / handler:.0f}x")


if __name__ == "__main__":
    main()
