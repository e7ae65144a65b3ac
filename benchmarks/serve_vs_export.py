"""The same request to `pix2color serve` and to the TF Serving export: the picture each gives.

    python benchmarks/serve_vs_export.py [--image examples/sketch.png] [--out docs/serving-vs-export.png]

Sends `colorize_image` with the image to a `pix2color serve` app on loopback and to the
exported SavedModel's `colorize_image` signature (loaded with `tf.saved_model.load`, as TF
Serving would run it), checks the served picture against `Colorizer.colorize`, and writes
input | served | exported side by side (2x, nearest neighbour, so the fills can be seen).
"""

import argparse
import base64
import io
import json
import os
import tempfile
import urllib.request

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from PIL import Image  # noqa: E402

from pix2color import Colorizer  # noqa: E402
from pix2color.serve import Predictor, create_app, serving  # noqa: E402


def served(colorizer, data):
    body = json.dumps({"signature_name": "colorize_image",
                       "instances": [{"b64": base64.b64encode(data).decode()}]}).encode()
    with serving(create_app(Predictor(colorizer))) as url:
        request = urllib.request.Request(f"{url}/v1/models/pix2color:predict", data=body)
        answer = json.load(urllib.request.urlopen(request, timeout=300))
    return Image.open(io.BytesIO(base64.b64decode(answer["predictions"][0]["b64"])))


def exported(colorizer, data):
    with tempfile.TemporaryDirectory() as folder:
        colorizer.export(folder, 1)
        signature = tf.saved_model.load(os.path.join(folder, "1")).signatures["colorize_image"]
        png = signature(image_bytes=tf.constant([data]))["png_bytes"][0].numpy()
    return Image.open(io.BytesIO(png))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", default="examples/sketch.png")
    parser.add_argument("--model", default=None)
    parser.add_argument("--out", default="docs/serving-vs-export.png")
    args = parser.parse_args()
    colorizer = Colorizer.load(args.model)
    data = open(args.image, "rb").read()
    picture, graph = served(colorizer, data), exported(colorizer, data)
    cli = np.asarray(colorizer.colorize(args.image))
    print(f"served == Colorizer.colorize: {np.array_equal(np.asarray(picture), cli)}")
    difference = np.abs(np.asarray(picture.convert("RGB"), int) -
                        np.asarray(graph.convert("RGB"), int)).mean()
    print(f"served vs exported: mean difference {difference:.1f} levels")
    panels = [Image.open(args.image).convert("RGB"), picture.convert("RGB"), graph.convert("RGB")]
    width, height = panels[0].size
    sheet = Image.new("RGB", (3 * width * 2, height * 2), "white")
    for i, panel in enumerate(panels):
        sheet.paste(panel.resize((width * 2, height * 2), Image.NEAREST), (i * width * 2, 0))
    sheet.save(args.out)
    print(f"wrote {args.out}: input | pix2color serve | TF Serving export")


if __name__ == "__main__":
    main()
