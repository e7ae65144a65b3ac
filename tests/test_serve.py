"""`pix2color serve` answers TF Serving's REST :predict with the picture `colorize` gives, and
refuses what it should with a JSON error: the server runs for real (uvicorn, loopback)."""

import base64
import io
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import numpy as np
import pytest
from PIL import Image, ImageDraw

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from pix2color.serve import Predictor, create_app, serving  # noqa: E402


def post(url, body, name="pix2color"):
    """(status, JSON answer) of a :predict request; `body` a dict or raw bytes."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(f"{url}/v1/models/{name}:predict", data=data)
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def b64(data):
    return {"b64": base64.b64encode(data).decode()}


def png(image):
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def picture(value):
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(value["b64"]))))


def drawing_file(path):
    image = Image.new("RGB", (48, 40), "white")
    ImageDraw.Draw(image).rectangle([6, 6, 30, 30], outline="black", width=2)
    ImageDraw.Draw(image).ellipse([26, 12, 44, 36], outline="black", width=2)
    image.save(path)
    return path


@pytest.fixture(scope="module")
def colorizer():
    from pix2color import Colorizer

    return Colorizer.load("sketch")


@pytest.fixture(scope="module")
def server(colorizer):
    with serving(create_app(Predictor(colorizer, saturation=1.2), max_request_bytes=1 << 20)) \
            as url:
        yield url


def test_the_served_picture_is_the_colorizers(colorizer, server, tmp_path):
    path = drawing_file(tmp_path / "a.png")
    hint_image = Image.new("RGBA", (48, 40), (0, 0, 0, 0))
    ImageDraw.Draw(hint_image).line([12, 18, 20, 18], fill=(250, 30, 30, 255), width=3)
    status, answer = post(server, {"signature_name": "colorize_image",
                                   "instances": [b64(path.read_bytes())]})
    assert status == 200, answer
    assert np.array_equal(picture(answer["predictions"][0]),
                          np.asarray(colorizer.colorize(path, saturation=1.2)))
    status, answer = post(server, {"signature_name": "colorize_hinted", "instances": [
        {"image_bytes": b64(path.read_bytes()), "hint_bytes": b64(png(hint_image))},
        {"image_bytes": b64(path.read_bytes()), "hints": [[36, 24, "#2040ff"]]}]})
    assert status == 200, answer
    hinted, dotted = (picture(p) for p in answer["predictions"])
    assert np.array_equal(hinted, np.asarray(colorizer.colorize(
        path, hint_image=hint_image, saturation=1.2)))
    assert np.array_equal(dotted, np.asarray(colorizer.colorize(
        path, hints=[(36, 24, "#2040ff")], saturation=1.2)))
    assert not np.array_equal(hinted, dotted)


def test_layers_come_as_pngs_and_an_openraster_file(colorizer, server, tmp_path):
    path = drawing_file(tmp_path / "a.png")
    status, answer = post(server, {"signature_name": "colorize_layers",
                                   "instances": [b64(path.read_bytes())]})
    assert status == 200, answer
    served, = answer["predictions"]
    expected = colorizer.colorize(path, saturation=1.2, layers=True)
    for key, image in zip(("png_bytes", "flats_bytes", "lines_bytes"), expected):
        assert np.array_equal(picture(served[key]), np.asarray(image)), key
    assert base64.b64decode(served["ora_bytes"]["b64"])[30:54] == b"mimetypeimage/openraster"


def test_serving_default_is_the_raw_network(colorizer, server):
    channels = int(colorizer.model.input_shape[-1])
    floats = np.ones((32, 32, channels), np.float32)
    status, answer = post(server, {"instances": [floats.tolist()]})
    assert status == 200, answer
    expected = colorizer.model(floats[None], training=False).numpy()
    assert np.allclose(answer["predictions"], expected, atol=1e-5)
    status, answer = post(server, {"instances": [np.ones((30, 32, channels)).tolist()]})
    assert status == 400 and "multiples of 32" in answer["error"]


@pytest.mark.parametrize("body, status, message", [
    (b"{not json", 400, "not JSON"),
    ({"inputs": []}, 400, "row format"),
    ({"signature_name": "colorize_image", "instances": [{"b64": "!!"}]}, 400,
     "instance 0: not valid base64"),
    ({"signature_name": "colorize_image", "instances": [
        b64(png(Image.new("RGB", (64, 64), "red"))[:80])]}, 400,
     "instance 0: broken or truncated image"),
    ({"signature_name": "colorize_image", "instances": [b64(b"hello")]}, 400,
     "instance 0: not an image Pillow can read"),
    ({"signature_name": "colorize_image", "instances": [
        b64(png(Image.new("L", (2000, 1000), 255)))]}, 400,
     "instance 0: 2000x1000 is 2 megapixels, over the limit of 1"),
    ({"signature_name": "classify", "instances": [b64(b"x")]}, 400, "no signature 'classify'"),
    ({"signature_name": "colorize_image", "instances": [{"b64": "A" * (1 << 20)}]}, 413,
     "over the limit of 1 MiB"),
])
def test_bad_requests_get_a_json_error(colorizer, server, body, status, message):
    colorizer.max_pixels = 1_000_000
    try:
        got, answer = post(server, body)
    finally:
        colorizer.max_pixels = 100_000_000
    assert got == status and message in answer["error"], answer


def test_another_model_name_is_not_found_and_the_status_is_served(server):
    status, answer = post(server, {"instances": [[0]]}, name="other")
    assert status == 404 and "this server serves 'pix2color'" in answer["error"]
    with urllib.request.urlopen(f"{server}/v1/models/pix2color", timeout=30) as reply:
        assert json.loads(reply.read())["model_version_status"][0]["state"] == "AVAILABLE"


class HeldColorizer:
    """Stands in for a Colorizer whose colouring takes until the test lets it go."""
    max_pixels, hints = 1_000_000, False

    def __init__(self):
        self.started, self.release = threading.Event(), threading.Event()

    def colorize(self, image, **options):
        self.started.set()
        assert self.release.wait(60)
        return image.convert("RGB")


def test_requests_beyond_the_queue_are_told_busy_and_none_is_lost():
    held = HeldColorizer()
    body = {"signature_name": "colorize_image", "instances": [b64(png(Image.new("L", (8, 8))))]}
    with serving(create_app(Predictor(held), max_waiting=1)) as url:
        answers = []

        def client():
            answers.append(post(url, body))

        first = threading.Thread(target=client)
        first.start()
        assert held.started.wait(60)   # the first is on the model now
        # two more: one waits in the queue (max_waiting=1), the other is told busy at once
        others = [threading.Thread(target=client) for _ in range(2)]
        for thread in others:
            thread.start()
        deadline = time.monotonic() + 60
        while not answers and time.monotonic() < deadline:   # the busy one, told at once
            others[0].join(0.05)
        held.release.set()
        for thread in [first, *others]:
            thread.join(60)
    assert sorted(code for code, _ in answers) == [200, 200, 503], answers
    busy, = [answer for code, answer in answers if code == 503]
    assert "busy" in busy["error"]


@pytest.mark.slow
def test_the_server_and_the_command_line_give_the_same_png(tmp_path):
    """The README's curl request against `pix2color serve` and `pix2color colorize` with the
    same options: the same pixels."""
    path = drawing_file(tmp_path / "a.png")
    options = ["--saturation", "1.3", "--background", "white"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    cli = subprocess.run([sys.executable, "-m", "pix2color", "colorize", str(path), "-o",
                          str(tmp_path / "out"), *options], capture_output=True, text=True,
                         env=env, timeout=300)
    assert cli.returncode == 0, cli.stderr
    server = subprocess.Popen([sys.executable, "-m", "pix2color", "serve", "--port", "0",
                               *options], stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = server.stdout.readline()   # "serving sketch at http://127.0.0.1:PORT/..."
        assert "serving sketch at http://127.0.0.1:" in line, line
        url = line.split(" at ")[1].split("/v1/")[0]
        status, answer = post(url, {"signature_name": "colorize_image",
                                    "instances": [b64(path.read_bytes())]})
    finally:
        server.terminate()
        server.wait(60)
    assert status == 200, answer
    assert np.array_equal(picture(answer["predictions"][0]),
                          np.asarray(Image.open(tmp_path / "out" / "a.png")))
