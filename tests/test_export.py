"""TF Serving export: its signatures, loaded in a fresh process, agree with Colorizer."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from pix2color import Colorizer

ROOT = Path(__file__).parent.parent

# Runs in a fresh interpreter: only TensorFlow and the export, no pix2color code.
CHECK = """
import base64, io, json, sys
import numpy as np, tensorflow as tf
from PIL import Image
loaded = tf.saved_model.load(sys.argv[1])
request = json.loads(open(sys.argv[2]).read())
images = [base64.b64decode(item["b64"]) for item in request["instances"]]
png = loaded.signatures["colorize_image"](image_bytes=tf.constant(images))["png_bytes"].numpy()
raw = np.load(sys.argv[3])
out = loaded.signatures["serving_default"](images=tf.constant(raw))["outputs"].numpy()
np.save(sys.argv[4], out)
for i, data in enumerate(png):
    open(f"{sys.argv[4]}.{i}.png", "wb").write(data)
if "colorize_hinted" in loaded.signatures:
    hints = [base64.b64decode(item["hint"]) for item in request["instances"]]
    png = loaded.signatures["colorize_hinted"](image_bytes=tf.constant(images),
                                               hint_bytes=tf.constant(hints))["png_bytes"]
    for i, data in enumerate(png.numpy()):
        open(f"{sys.argv[4]}.hinted.{i}.png", "wb").write(data)
print(json.dumps(sorted(loaded.signatures.keys())))
"""


def close(served, local):
    """Within 2 levels, but for a rare pixel on the edge of the sRGB gamut: the gray path
    fits such colours in four chroma steps, and float32 TF and numpy tables can land one step
    apart there (measured: at most 4 levels, on a few pixels of a 1100x660 drawing)."""
    difference = np.abs(served - local)
    return difference.max() <= 6 and (difference > 2).mean() < 1e-3 and difference.mean() < 0.05


def encode(image, fmt="PNG"):
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["sketch", "gray"])
def test_export_signatures_match_colorize_in_a_fresh_process(name, tmp_path):
    import base64

    colorizer = Colorizer.load(name)
    result = subprocess.run([sys.executable, "-m", "pix2color", "export", name,
                             str(tmp_path / "served")], capture_output=True, text=True,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    export_dir = tmp_path / "served" / "1"
    assert (export_dir / "saved_model.pb").exists()     # TF Serving's <base>/<version>/ layout

    sketch = Image.open(ROOT / "examples" / "sketch.png").convert("RGB")
    # The last is over 8x the working size, so both box-shrink it first (pix2color.resample).
    inputs = [sketch.resize((150, 90)), sketch.resize((40, 70)).convert("L"),
              sketch.resize((1100, 660))]
    hint_images = [Image.new("RGBA", im.size) for im in inputs]
    ImageDraw.Draw(hint_images[0]).line([(60, 40), (90, 40)], fill="#3cb44b", width=3)
    ImageDraw.Draw(hint_images[1]).point([(20, 30)], fill="#e03c31")
    request = {"instances": [{"b64": base64.b64encode(encode(im)).decode(),
                              "hint": base64.b64encode(encode(hint)).decode()}
                             for im, hint in zip(inputs, hint_images)]}
    (tmp_path / "request.json").write_text(json.dumps(request))
    channels = int(colorizer.model.input_shape[-1])
    raw = np.random.default_rng(0).uniform(-1, 1, (2, 64, 96, channels)).astype(np.float32)
    np.save(tmp_path / "raw.npy", raw)
    out = tmp_path / "out.npy"
    check = subprocess.run([sys.executable, "-c", CHECK, str(export_dir),
                            str(tmp_path / "request.json"), str(tmp_path / "raw.npy"), str(out)],
                           capture_output=True, text=True, timeout=600,
                           env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert check.returncode == 0, check.stderr[-2000:]
    signatures = ["colorize_image", "serving_default"] + ["colorize_hinted"] * colorizer.hints
    assert json.loads(check.stdout.strip().splitlines()[-1]) == sorted(signatures)
    np.testing.assert_allclose(np.load(out), colorizer.model(raw, training=False).numpy(),
                               atol=1e-4)
    # The graph has no region fill (no connected components op): it matches fill="lines".
    fill = "lines" if colorizer.task == "sketch" else None
    for i, image in enumerate(inputs):
        served = np.asarray(Image.open(f"{out}.{i}.png")).astype(int)
        local = np.asarray(colorizer.colorize(image, fill=fill).convert("RGB")).astype(int)
        assert served.shape == local.shape == (image.height, image.width, 3)
        assert close(served, local)
        if colorizer.hints:
            served = np.asarray(Image.open(f"{out}.hinted.{i}.png")).astype(int)
            local = np.asarray(colorizer.colorize(image, hint_image=hint_images[i], fill=fill)
                               .convert("RGB")).astype(int)
            assert close(served, local)
            unhinted = np.asarray(colorizer.colorize(image, fill=fill).convert("RGB"))
            if i < 2:   # the third image's hint image is empty
                assert np.abs(local - unhinted).max() > 20   # the hints made a difference


@pytest.mark.slow
def test_saved_model_cli_lists_both_signatures(tmp_path):
    Colorizer.load("sketch").export(tmp_path / "served", version=3)
    shown = subprocess.run([sys.executable, "-m", "tensorflow.python.tools.saved_model_cli",
                            "show", "--dir", str(tmp_path / "served" / "3"), "--all"],
                           capture_output=True, text=True, timeout=300,
                           env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert "signature_def['serving_default']" in shown.stdout
    assert "signature_def['colorize_image']" in shown.stdout
    assert "image_bytes" in shown.stdout                  # *_bytes: REST clients send b64
    with pytest.raises(FileExistsError, match="version"):
        Colorizer.load("sketch").export(tmp_path / "served", version=3)


@pytest.mark.slow
def test_onnx_export_runs_in_onnxruntime(tmp_path):
    pytest.importorskip("tf2onnx", reason="ONNX export needs pip install pix2color[onnx]")
    onnxruntime = pytest.importorskip("onnxruntime", reason="pip install pix2color[onnx]")
    colorizer = Colorizer.load("gray")
    result = subprocess.run([sys.executable, "-m", "pix2color", "export", "gray",
                             str(tmp_path / "onnx"), "--format", "onnx"], capture_output=True,
                            text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
                            timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    session = onnxruntime.InferenceSession(str(tmp_path / "onnx" / "model.onnx"))
    raw = np.random.default_rng(1).uniform(-1, 1, (2, 96, 64, 1)).astype(np.float32)
    (output,) = session.run(None, {session.get_inputs()[0].name: raw})
    np.testing.assert_allclose(output, colorizer.model(raw, training=False).numpy(), atol=1e-4)
