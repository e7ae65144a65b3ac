"""Bounded memory: full-size work in uint8 strips, large drawings segmented on a block grid,
batches read a chunk at a time, and the strip resize equal to tf.image.resize."""

import tracemalloc

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image, ImageDraw

from pix2color import Colorizer, files, regions
from pix2color.files import read_image, read_rgb8, strips
from pix2color.resample import Enlarger, box_shrink, box_shrink8


def drawing(size, seed=0):
    """Circles (4-px outlines) on white, `size` pixels a side."""
    image = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(image)
    rng = np.random.default_rng(seed)
    for _ in range(40):
        x, y = rng.integers(0, size, 2)
        r = int(rng.integers(size // 30, size // 6))
        draw.ellipse([x - r, y - r, x + r, y + r], outline=0, width=4)
    return image.convert("RGB")


def traced_peak(function):
    """Peak bytes numpy and Python allocate while `function()` runs (TensorFlow's and
    Pillow's own buffers are not traced: they are the same at every size here)."""
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
@pytest.mark.parametrize("model, fill", [("sketch", "regions"), ("sketch", "none"),
                                         ("gray", None)])
def test_memory_grows_by_a_few_bytes_a_pixel(model, fill, monkeypatch):
    # Before: float32 copies of the full-size picture, over 12 bytes a pixel each. Strips and
    # the segmentation grid are made small, so both sizes here are "large" for them.
    monkeypatch.setattr(regions, "MAX_SEGMENT_PIXELS", 250_000)
    monkeypatch.setattr(files, "STRIP_PIXELS", 1 << 16)
    colorizer = Colorizer.load(model)
    small, large = drawing(800), drawing(1600)
    # Traced once on another drawing of the same size, so neither run pays for tracing and
    # neither finds its drawing's work kept from before (that would flatter the small one).
    colorizer.colorize(drawing(800, seed=1), fill=fill)
    peaks = [traced_peak(lambda image=image: colorizer.colorize(image, fill=fill))
             for image in (small, large)]
    per_pixel = (peaks[1] - peaks[0]) / (1600 ** 2 - 800 ** 2)
    assert per_pixel < 6, f"{per_pixel:.1f} bytes a pixel"


def test_a_drawing_over_the_segmentation_limit_keeps_its_lines_and_flat_regions(monkeypatch):
    monkeypatch.setattr(regions, "MAX_SEGMENT_PIXELS", 100_000)  # a 3x3 block grid at 900 px
    image = Image.new("RGB", (900, 900), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((200, 200, 700, 700), outline="black", width=1)
    draw.line((200, 450, 700, 450), fill="black", width=1)
    pixels = np.asarray(image)
    free, step = regions.free_pixels(pixels)
    assert step == 3 and free.shape == (300, 300)
    out = np.asarray(Colorizer.load("sketch").colorize(
        image, hints=[(450, 300, "#ff0000"), (450, 600, "#0000ff")]))
    line = pixels.min(-1) == 0
    assert (out[line] == 0).all() and (out[~line].astype(int).sum(-1) > 120).all()
    assert (out[204:447, 204:697] == [255, 0, 0]).all()    # each hint fills its whole half,
    assert (out[454:697, 204:697] == [0, 0, 255]).all()    # up to the 1-px lines
    assert (out[:190] == 255).all()                          # and the background stays white


def test_colorize_batch_reads_one_chunk_at_a_time():
    from pix2color.batching import Batching

    colorizer = Colorizer.load("sketch")
    images = [np.asarray(drawing(64, seed)) for seed in range(6)]
    batching, read = Batching(chunk_pixels=2 * 64 * 64), []

    def reading(image):
        read.append(image)
        return colorizer.read(image)

    chunks = [(len(chunk), len(read)) for chunk in
              batching.chunks(images, 16, reading, colorizer.prepare)]
    assert chunks == [(2, 2), (2, 4), (2, 6)]   # two images' pixels at a time, not six
    assert [len(chunk) for chunk in Batching().chunks(images, 4, colorizer.read,
                                                      colorizer.prepare)] == [4, 2]
    colorizer.batching = batching
    results = colorizer.colorize_batch(images, batch_size=16)
    single = np.asarray(colorizer.colorize(images[4]))
    assert len(results) == 6 and np.array_equal(np.asarray(results[4]), single)  # in order


@pytest.mark.parametrize("small, shape, method, antialias", [
    ((128, 96, 2), (1000, 750), "bilinear", False),
    ((128, 96, 3), (1001, 751), "bicubic", True),
    ((128, 128, 3), (40, 70), "bicubic", True)])
def test_strip_resize_is_tf_image_resize(small, shape, method, antialias, monkeypatch):
    monkeypatch.setattr(files, "STRIP_PIXELS", 1 << 16)
    image = np.random.default_rng(0).uniform(-1, 1, small).astype(np.float32)
    expected = tf.image.resize(image, shape, method=method, antialias=antialias).numpy()
    enlarger = Enlarger(image, shape, method, antialias)
    parts = strips(*shape)
    assert len(parts) > 1 or shape == (40, 70)
    np.testing.assert_allclose(np.concatenate([enlarger(rows) for rows in parts]), expected,
                               atol=1e-5)


def test_box_shrink_in_strips_matches_the_graph_version():
    rgb8 = np.random.default_rng(0).integers(0, 256, (2030, 777, 3), dtype=np.uint8)
    graph = box_shrink(tf.constant(rgb8, tf.float32) / 255.0, 4).numpy()
    np.testing.assert_allclose(box_shrink8(rgb8, 4), graph, atol=1e-6)
    assert graph.shape == (507, 194, 3)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA", "P", "1", "CMYK", "I;16", "F"])
def test_read_rgb8_is_read_image_in_eight_bits(mode):
    rgba = np.random.default_rng(1).integers(0, 256, (37, 53, 4), dtype=np.uint8)
    image = Image.fromarray(rgba, "RGBA").convert(mode) if mode != "I;16" else \
        Image.fromarray(rgba[..., 0].astype(np.uint16) * 257)
    rgb8, alpha8 = read_rgb8(image)
    rgb, alpha = read_image(image)
    assert rgb8.dtype == np.uint8 and rgb8.shape == (37, 53, 3)
    assert np.abs(rgb8.astype(int) - np.round(rgb * 255)).max() <= 1
    assert (alpha8 is None) == (alpha is None)
    if alpha is not None:
        assert np.abs(alpha8.astype(int) - np.round(alpha * 255)).max() <= 1


def test_read_rgb8_never_hands_back_the_callers_array():
    array = np.full((8, 8, 3), 7, np.uint8)
    rgb8, _ = read_rgb8(array)
    rgb8[:] = 0
    assert (array == 7).all()
