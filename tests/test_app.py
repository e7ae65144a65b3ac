"""The browser app: its handler, and the real page in a headless browser (Playwright)."""

import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_hints import delta_e

from pix2color import Colorizer
from pix2color.app import colorize_upload, painted_hints
from pix2color.files import ImageReadError

ROOT = Path(__file__).parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def test_handler_colours_uploads_and_drawings_at_their_size(tmp_path):
    colorizer = Colorizer.load("sketch")
    sketch = Image.open(ROOT / "examples" / "sketch.png").convert("RGB").resize((90, 60))
    sketch.save(tmp_path / "upload.png")
    result = colorize_upload(colorizer, str(tmp_path / "upload.png"))
    assert result.size == (90, 60)
    drawing = np.zeros((64, 48, 4), np.uint8)          # what gr.Sketchpad gives: RGBA layers
    drawing[10:50, 20:23] = (0, 0, 0, 255)
    assert colorize_upload(colorizer, {"composite": drawing}).size == (48, 64)
    with pytest.raises(ImageReadError, match="draw a sketch"):
        colorize_upload(colorizer, {"composite": np.zeros((64, 48, 4), np.uint8)})
    with pytest.raises(ImageReadError, match="upload one"):
        colorize_upload(colorizer, None)
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(ImageReadError, match="notes.png"):
        colorize_upload(colorizer, str(tmp_path / "notes.png"))
    gray = Colorizer.load("gray")
    photo = Image.new("L", (100, 40), 128)
    assert colorize_upload(gray, photo, render_size=64, fill="regions").size == (100, 40)


def test_handler_fills_as_asked():
    colorizer = Colorizer.load("sketch")
    sketch = Image.open(ROOT / "examples" / "sketch.png").convert("RGB")
    colours = {fill: len(np.unique(np.asarray(colorize_upload(colorizer, sketch, fill=fill))
                                   .reshape(-1, 3), axis=0)) for fill in ("regions", "none")}
    # Flat regions under the lines: far fewer distinct colours than the raw network output.
    assert colours["regions"] * 3 < colours["none"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url():
    pytest.importorskip("gradio", reason="the app needs pip install pix2color[app]")
    port = free_port()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", GRADIO_ANALYTICS_ENABLED="False")
    process = subprocess.Popen([sys.executable, "-m", "pix2color", "app", "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 180
    while time.time() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the app exited: {process.stdout.read().decode()[-2000:]}")
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            time.sleep(1)
    else:
        process.kill()
        pytest.fail("the app did not answer within 180 s")
    yield url
    process.terminate()
    process.wait(timeout=30)


needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no chromium installed (apt "
                                    "install chromium); .ci/run installs it")


@pytest.fixture
def page(app_url):
    """A headless Chromium page on the app."""
    playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(app_url)
        yield page
        browser.close()


def cat_upload(folder):
    """The example sketch as a 200x150 file to upload."""
    path = folder / "cat.png"
    Image.open(ROOT / "examples" / "sketch.png").convert("RGB").resize((200, 150)).save(path)
    return path


def result_image(page):
    """Wait for the result and fetch it, as the browser shows it."""
    result = page.locator("#result img")
    result.wait_for(timeout=120_000)
    return Image.open(io.BytesIO(page.request.get(result.get_attribute("src")).body()))


@pytest.mark.slow
@needs_chromium
def test_app_in_a_real_browser(app_url, page, tmp_path):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    page.locator("#upload input[type=file]").set_input_files(str(cat_upload(tmp_path)))
    page.locator("#colorize-upload").click()
    browser_result = result_image(page)
    assert browser_result.size == (200, 150)          # the input's own size
    rgb = np.asarray(browser_result.convert("RGB")).astype(int)
    assert (rgb.max(-1) - rgb.min(-1)).mean() > 10    # colour, not a gray copy

    page.goto(app_url)                                 # a fresh page: a broken upload
    page.locator("#upload input[type=file]").set_input_files(str(tmp_path / "broken.png"))
    page.locator("#colorize-upload").click()
    message = page.get_by_text("broken.png: broken or truncated image", exact=False)
    message.first.wait_for(timeout=60_000)             # the file named, in the page


def test_handler_takes_painted_hints():
    colorizer = Colorizer.load("sketch")
    sketch = Image.open(ROOT / "examples" / "sketch.png").convert("RGB").resize((200, 150))
    layer = np.zeros((75, 100, 4), np.uint8)         # painted on a half-size view
    layer[35:40, 40:60] = (42, 125, 225, 255)
    other = np.zeros((75, 100, 4), np.uint8)
    other[36:39, 55:60] = (224, 60, 49, 200)           # a later layer paints over it
    hints = painted_hints({"background": None, "layers": [layer, other]})
    assert (hints[37, 57, :3] == (224, 60, 49)).all()
    assert (hints[37, 45, :3] == (42, 125, 225)).all()
    assert painted_hints({"layers": [np.zeros((75, 100, 4), np.uint8)]}) is None
    assert painted_hints(None) is None
    plain = np.asarray(colorize_upload(colorizer, sketch), np.float32) / 255
    hints = painted_hints({"background": None, "layers": [layer]})
    hinted = np.asarray(colorize_upload(colorizer, sketch, hint_image=hints), np.float32) / 255
    assert hinted.shape == (150, 200, 3)
    blue = (42 / 255, 125 / 255, 225 / 255)
    core = (slice(72, 78), slice(82, 96))             # the blue stroke, at the input's size
    assert delta_e(hinted[core], blue).mean() <= 15 < delta_e(plain[core], blue).mean()


@pytest.mark.slow
@needs_chromium
def test_painting_hints_in_a_real_browser(page, tmp_path):
    page.locator("#model input").click()
    page.get_by_role("option", name="sketch", exact=True).click()   # hint-aware
    upload = cat_upload(tmp_path)
    page.locator("#upload input[type=file]").set_input_files(str(upload))
    canvas = page.locator("#preview canvas").first
    canvas.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)                        # the upload is drawn into the editor
    box = canvas.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2   # the image centre
    page.mouse.move(x - 30, y)
    page.mouse.down()                                  # the brush: its first colour, red
    for i in range(16):
        page.mouse.move(x - 30 + 4 * i, y, steps=2)
    page.mouse.up()
    page.locator("#colorize-upload").click()
    browser_result = result_image(page)
    assert browser_result.size == (200, 150)
    out = np.asarray(browser_result.convert("RGB"), np.float32) / 255
    red = (224 / 255, 60 / 255, 49 / 255)              # HINT_COLOURS[0]
    plain = np.asarray(Colorizer.load("sketch").colorize(upload), np.float32) / 255
    assert delta_e(out[72:79, 92:108], red).mean() <= 15 < delta_e(plain[72:79, 92:108], red).mean()


@pytest.mark.slow
def test_uploads_are_capped_private_and_removed_when_the_app_stops(tmp_path):
    import stat

    httpx = pytest.importorskip("httpx")
    from pix2color.app import MAX_UPLOAD_BYTES

    port = free_port()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", GRADIO_ANALYTICS_ENABLED="False")
    env.pop("GRADIO_TEMP_DIR", None)
    process = subprocess.Popen([sys.executable, "-m", "pix2color", "app", "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/gradio_api/upload"
    try:
        for _ in range(180):
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read().decode()[-2000:]
                time.sleep(1)
        cat = cat_upload(tmp_path)
        kept = httpx.post(url, files={"files": ("cat.png", cat.read_bytes())}, timeout=30)
        (stored,) = kept.json()
        (folder,) = [p for p in Path(stored).parents if p.name.startswith("pix2color-app-")]
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700   # only the app's user reads it
        junk = httpx.post(url, files={"files": ("junk.png", b"\0" * (MAX_UPLOAD_BYTES + 1))},
                          timeout=60)
        assert junk.status_code == 413 and len(list(folder.rglob("junk.png"))) == 0
    finally:
        process.terminate()
        process.wait(timeout=60)
    assert not folder.exists()   # removed when the app stops
