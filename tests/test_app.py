"""The browser app: its handler, and the real page in a headless browser (Playwright)."""

import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest
from PIL import Image
from test_hints import delta_e

from pix2color import Colorizer
from pix2color.app.handler import (add_fill, bucket_region, colorize_upload, combined_hints,
                                   model_choices, painted_hints, region_options, undo_fill,
                                   write_downloads)
from pix2color.files import ImageReadError

ROOT = Path(__file__).parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow
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


@pytest.mark.slow
def test_handler_fills_as_asked():
    colorizer = Colorizer.load("sketch")
    sketch = Image.open(ROOT / "examples" / "sketch.png").convert("RGB")
    colours = {fill: len(np.unique(np.asarray(colorize_upload(colorizer, sketch, fill=fill))
                                   .reshape(-1, 3), axis=0)) for fill in ("regions", "none")}
    # Flat regions under the lines: far fewer distinct colours than the raw network output.
    assert colours["regions"] * 3 < colours["none"]


def cat(size=(200, 150)):
    return Image.open(ROOT / "examples" / "sketch.png").convert("RGB").resize(size)


@pytest.mark.slow
def test_the_bucket_fills_the_clicked_region_over_strokes_and_undo_takes_it_back():
    colorizer = Colorizer.load("sketch")
    stroke = np.zeros((150, 200, 4), np.uint8)
    stroke[73:78, 85:115] = (224, 60, 49, 255)           # red, across the cat's face
    painted = np.asarray(colorize_upload(colorizer, cat(), hint_image=stroke), np.float32) / 255
    region = bucket_region(colorizer, cat(), (100, 45), stroke)   # a click on the forehead
    assert region[45, 100] and region[60, 70] and region[60, 130] and not region[140, 10]
    assert bucket_region(colorizer, cat(), (100, 110)) is None     # a click on a line
    fills = add_fill([], region, "#2a7de1")
    filled = np.asarray(colorize_upload(colorizer, cat(), None,
                                        combined_hints((150, 200), stroke, fills)[0]),
                        np.float32) / 255
    blue = delta_e(filled, (42 / 255, 125 / 255, 225 / 255)) < 5
    assert blue[45, 100] and blue[75, 90] and not blue[140, 10]   # over the red stroke too
    again = combined_hints((150, 200), stroke, undo_fill(fills))[0]
    assert np.array_equal(np.asarray(colorize_upload(colorizer, cat(), hint_image=again),
                                     np.float32) / 255, painted)


def test_region_settings_reach_the_picture():
    colorizer = Colorizer.load("sketch")
    white = {}
    for background in ("split", "white"):
        region_options(colorizer, background)
        picture = np.asarray(colorize_upload(colorizer, cat()))
        white[background] = (picture.min(-1) == 255).mean()
    region_options(colorizer)
    assert white["white"] > white["split"] + 0.1               # no network colour on the paper
    saturated = np.asarray(colorize_upload(colorizer, cat(), saturation=0.0)).astype(int)
    assert (saturated.max(-1) - saturated.min(-1)).max() <= 2  # saturation 0: gray


@pytest.mark.slow
def test_downloads_are_the_picture_its_layers_and_a_layered_file(tmp_path):
    colorizer = Colorizer.load("sketch")
    layers = colorize_upload(colorizer, cat(), layers=True)
    paths = write_downloads(layers, tmp_path, "cat")
    assert sorted(p.name for p in paths) == ["cat.flats.png", "cat.lines.png", "cat.ora",
                                             "cat.png"]
    assert np.array_equal(np.asarray(Image.open(tmp_path / "cat.png")),
                          np.asarray(colorize_upload(colorizer, cat())))
    with zipfile.ZipFile(tmp_path / "cat.ora") as ora:        # read back without pix2color
        stack = ElementTree.fromstring(ora.read("stack.xml"))
    ops = [layer.get("composite-op") for layer in stack.iter("layer")]
    assert ops[0] == "svg:multiply" and len(ops) == 2          # the lines multiply, on top
    gray = colorize_upload(Colorizer.load("gray"), Image.new("L", (40, 30), 128))
    assert [p.name for p in write_downloads(gray, tmp_path / "photo", "x")] == ["x.png"]


def test_the_model_menu_lists_bundled_models_and_trained_runs(tmp_path):
    for run, kinds in (("first", ("model", "best")), ("second", ("model",)), ("empty", ())):
        (tmp_path / run / "checkpoints").mkdir(parents=True)
        for kind in kinds:
            (tmp_path / run / kind).mkdir()
            (tmp_path / run / kind / "pix2color.json").write_text("{}")
    runs = [str(tmp_path / "first" / "model"), str(tmp_path / "first" / "best"),
            str(tmp_path / "second" / "model")]
    assert list(model_choices(logdir=tmp_path)) == ["sketch", "gray", "drawings", *runs]
    assert list(model_choices("gray", tmp_path))[:2] == ["gray", "sketch"]
    assert list(model_choices(runs[2], tmp_path))[0] == runs[2]   # asked for: listed first
    assert list(model_choices(logdir=tmp_path / "nosuch")) == ["sketch", "gray", "drawings"]


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


def cat_upload(folder, size=(200, 150)):
    """The example sketch as a file to upload."""
    path = folder / "cat.png"
    cat(size).save(path)
    return path


def upload(page, path):
    with page.expect_file_chooser() as chooser:
        page.locator("#upload").click()
    chooser.value.set_files(str(path))


def wait_until(condition, timeout=120, what="the page"):
    """Poll `condition()` until it returns neither None nor False; that value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value is not None and value is not False:
            return value
        time.sleep(0.2)
    pytest.fail(f"{what} did not happen within {timeout} s")


def picture(page):
    """The picture as the browser shows it, or None while there is none."""
    result = page.locator("#result img")
    if not result.count() or not result.get_attribute("src"):
        return None
    body = page.request.get(result.get_attribute("src")).body()
    return np.asarray(Image.open(io.BytesIO(body)).convert("RGB"), np.float32) / 255


def picture_where(page, condition, what):
    """Wait until the picture shown meets `condition(rgb)`: the app colours it again on
    each stroke and click, without a button."""
    return wait_until(lambda: (lambda rgb: rgb if rgb is not None and condition(rgb) else
                               None)(picture(page)), what=what)


def drawing_shown(page):
    """Wait until the hint editor shows the upload (its lines are drawn on the canvas)."""
    canvas = page.locator("#editor canvas").first
    canvas.wait_for(timeout=60_000)
    wait_until(lambda: (np.asarray(Image.open(io.BytesIO(canvas.screenshot())).convert("L"))
                        < 60).any() or None, what="the drawing showing in the editor")
    return canvas.bounding_box()


def click_picture(page, x, y):
    """Click pixel (x, y) of the picture, wherever the page shows it."""
    image = page.locator("#result img")
    box = image.bounding_box()
    width, height = image.evaluate("i => [i.naturalWidth, i.naturalHeight]")
    scale = min(box["width"] / width, box["height"] / height)   # object-fit: contain
    left = box["x"] + (box["width"] - width * scale) / 2
    top = box["y"] + (box["height"] - height * scale) / 2
    page.mouse.click(left + (x + 0.5) * scale, top + (y + 0.5) * scale)


def toasts(page):
    return page.locator(".toast-body").all_inner_texts()


RED, BLUE = (224 / 255, 60 / 255, 49 / 255), (42 / 255, 125 / 255, 225 / 255)
STROKE = (slice(72, 79), slice(92, 108))    # the red stroke's core, on the 200x150 picture


def near(rgb, colour, where):
    return delta_e(rgb[where], colour).mean() <= 15


@pytest.mark.slow
@needs_chromium
def test_the_app_colours_as_you_paint_and_fill(page, tmp_path):
    """Upload, a red brush stroke, a bucket click and its undo, each seen in the picture with
    no button pressed; the palette closes after a pick; the downloads. Screenshots go to
    $PIX2COLOR_SCREENSHOTS (docs/ for the docs), else the test's own folder."""
    shots = Path(os.environ.get("PIX2COLOR_SCREENSHOTS", tmp_path))
    upload(page, cat_upload(tmp_path))
    first = picture_where(page, lambda rgb: True, "the upload coloured")
    assert first.shape == (150, 200, 3)                         # the input's own size
    assert (first.max(-1) - first.min(-1)).mean() > 0.04        # colour, not a gray copy
    assert not near(first, RED, STROKE)

    box = drawing_shown(page)
    page.locator("#editor button[aria-label=Color]").click()
    swatches = page.locator("#editor .swatch-wrap button.color:not(.colorpicker)")
    swatches.first.click()                                      # red, the first colour
    wait_until(lambda: not page.locator("#editor .swatch-wrap").is_visible() or None,
               what="the palette closing after a pick")
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2   # the image centre
    page.mouse.move(x - 30, y)
    page.mouse.down()
    for i in range(16):
        page.mouse.move(x - 30 + 4 * i, y, steps=2)
    page.mouse.up()
    painted = picture_where(page, lambda rgb: near(rgb, RED, STROKE), "the stroke coloured")
    page.screenshot(path=str(shots / "app-stroke.png"), full_page=True)

    forehead = (slice(43, 48), slice(97, 104))
    assert not near(painted, BLUE, forehead)
    click_picture(page, 100, 45)                                # the bucket, blue by default
    picture_where(page, lambda rgb: near(rgb, BLUE, forehead) and near(rgb, BLUE, STROKE),
                  "the bucket filling the face, over the stroke")
    page.screenshot(path=str(shots / "app.png"), full_page=True)
    page.locator("#undo").click()
    picture_where(page, lambda rgb: near(rgb, RED, STROKE) and not near(rgb, BLUE, forehead),
                  "the fill undone")

    page.locator("#make-downloads").click()
    links = wait_until(lambda: page.locator("#downloads a").count() >= 4 and
                       page.locator("#downloads a").all(), what="the downloads")
    names = sorted(Path(urllib.parse.urlparse(link.get_attribute("href")).path).name
                   for link in links)
    assert [n for n in names if n.startswith("cat")] == ["cat.flats.png", "cat.lines.png",
                                                        "cat.ora", "cat.png"], names
    assert toasts(page) == []                                   # no error, no warning


@pytest.mark.slow
@needs_chromium
def test_the_app_says_what_is_wrong_once(app_url, page, tmp_path):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    upload(page, tmp_path / "broken.png")
    wait_until(lambda: any("broken.png: broken or truncated image" in t for t in toasts(page))
               or None,
               what="the error naming the file")
    assert page.locator("#result img").count() == 0
    upload(page, cat_upload(tmp_path))         # events run in turn: once this one is done,
    picture_where(page, lambda rgb: True, "a good upload coloured")   # a repeat would show
    errors = [t for t in toasts(page) if "broken.png" in t]
    assert len(errors) == 1 and "(2)" not in page.locator("body").inner_text(), toasts(page)

    page.goto(app_url)                                          # a photo to the line-art model
    y, x = np.mgrid[0:150, 0:200]
    photo = np.dstack([x * 255 // 200, y * 255 // 150, 255 - x * 255 // 200]).astype(np.uint8)
    Image.fromarray(photo).save(tmp_path / "photo.png")
    upload(page, tmp_path / "photo.png")
    wait_until(lambda: any("photo.png looks like a photo" in t for t in toasts(page)) or None,
               what="the library's warning")
    picture_where(page, lambda rgb: True, "the photo coloured all the same")


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
def test_uploads_are_capped_private_and_removed_when_the_app_stops(tmp_path):
    """Also: the app prints its address, not Gradio's advice to set share=True."""
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
        drawing = cat_upload(tmp_path)
        kept = httpx.post(url, files={"files": ("cat.png", drawing.read_bytes())}, timeout=30)
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
    printed = process.stdout.read().decode()
    assert f"http://127.0.0.1:{port}/" in printed and "share=True" not in printed, printed
