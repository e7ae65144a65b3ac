"""Layered files open in paint programs with the lines as a multiply layer over the flats:
each file is read back by a reader that shares no code with the writer: pyora for OpenRaster,
and for PSD a reader here that follows Adobe's specification (Pillow's PSD plugin reads a
layer's channels in the wrong order: it takes the transparency, stored first, for red); psd-tools,
which writes it, reads it too."""

import re
import shutil
import struct
import subprocess
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest
from PIL import Image

from pix2color.layers import Layers


def sample_layers(alpha=False):
    """Flats in four colours, a line across them with soft edges, and the picture they make."""
    flats = np.zeros((24, 32, 3), np.uint8)
    flats[:12, :16], flats[:12, 16:] = (230, 40, 40), (40, 200, 90)
    flats[12:, :16], flats[12:, 16:] = (30, 60, 220), (250, 240, 120)
    lines = np.zeros((24, 32, 4), np.uint8)
    lines[10:14, :, 3] = 255
    lines[9, :, 3] = lines[14, :, 3] = 90   # anti-aliased edges
    lines[:, 20, 3] = 255
    darkness = lines[..., 3:] / 255.0
    picture = np.round(flats * (1.0 - darkness)).astype(np.uint8)
    if alpha:
        coverage = np.full((24, 32, 1), 255, np.uint8)
        coverage[:, :4] = 0   # transparent paper down the left edge
        picture = np.concatenate([picture, coverage], axis=-1)
    return Layers(Image.fromarray(picture), Image.fromarray(flats), Image.fromarray(lines))


def pixels(image):
    return np.asarray(image.convert("RGBA")).astype(int)


def test_openraster_opens_with_lines_multiplied_over_the_flats(tmp_path):
    pyora = pytest.importorskip("pyora")
    layers = sample_layers()
    assert layers.save(tmp_path / "a.ora") == [tmp_path / "a.ora"]
    with zipfile.ZipFile(tmp_path / "a.ora") as ora:   # the specification's first entry
        first = ora.infolist()[0]
        assert (first.filename, first.compress_type) == ("mimetype", zipfile.ZIP_STORED)
        assert ora.read("mimetype") == b"image/openraster"
    project = pyora.Project.load(str(tmp_path / "a.ora"))
    assert project.dimensions == (32, 24)
    lines, flats = project.children   # top layer first
    assert (lines.name, lines.composite_op) == ("lines", "svg:multiply")
    assert (flats.name, flats.composite_op) == ("flats", "svg:src-over")
    assert np.array_equal(pixels(lines.get_image_data()), pixels(layers.lines))
    assert np.array_equal(pixels(flats.get_image_data()), pixels(layers.flats))
    # pyora's own compositing of the stack gives the picture back
    rendered = pixels(project.get_image_data())
    assert np.abs(rendered - pixels(layers.image)).max() <= 1
    with zipfile.ZipFile(tmp_path / "a.ora") as ora:   # what viewers without layers show
        assert np.array_equal(pixels(Image.open(ora.open("mergedimage.png"))),
                              pixels(layers.image))
        assert Image.open(ora.open("Thumbnails/thumbnail.png")).size == (32, 24)


def unpack_bits(data, size):
    """PackBits (Apple's run-length code, PSD's "RLE"): a header byte n, then n + 1 literal
    bytes (n < 128) or one byte repeated 257 - n times (n > 128); 128 is a no-op."""
    out, i = bytearray(), 0
    while len(out) < size:
        n = data[i]
        if n < 128:
            out += data[i + 1: i + 2 + n]
            i += n + 2
        else:
            out += data[i + 1: i + 2] * (257 - n if n > 128 else 0)
            i += 2 if n > 128 else 1
    return bytes(out)


def read_psd_layers(path):
    """(name, blend-mode key, RGBA pixels) of each layer, bottom first, read with struct
    following Adobe's Photoshop File Format Specification (version 1, 8 bits, RGB): it
    shares no code with the writer."""
    data = memoryview(Path(path).read_bytes())
    assert bytes(data[:4]) == b"8BPS"
    at = 26
    for _ in range(2):   # colour mode data, image resources
        at += 4 + struct.unpack_from(">I", data, at)[0]
    at += 8   # the layer-and-mask section's length, then the layer info's
    count = abs(struct.unpack_from(">h", data, at)[0])
    at += 2
    records = []
    for _ in range(count):
        top, left, bottom, right, channels = struct.unpack_from(">4iH", data, at)
        at += 18
        ids = [struct.unpack_from(">hI", data, at + 6 * c) for c in range(channels)]
        at += 6 * channels
        signature, blend = bytes(data[at: at + 4]), bytes(data[at + 4: at + 8])
        assert signature == b"8BIM"
        extra = struct.unpack_from(">I", data, at + 12)[0]
        inner = at + 16
        for _ in range(2):   # the layer mask data, the blending ranges
            inner += 4 + struct.unpack_from(">I", data, inner)[0]
        name = bytes(data[inner + 1: inner + 1 + data[inner]]).decode("latin-1")
        records.append((name, blend, (bottom - top, right - left), ids))
        at += 16 + extra
    layers = []
    for name, blend, (height, width), ids in records:
        planes = {}
        for channel, length in ids:
            compression = struct.unpack_from(">H", data, at)[0]
            body = bytes(data[at + 2: at + length])
            if compression == 1:   # a 2-byte byte count per row, then the rows
                counts = struct.unpack_from(f">{height}H", body)
                rows, offset = [], 2 * height
                for n in counts:
                    rows.append(unpack_bits(body[offset: offset + n], width))
                    offset += n
                body = b"".join(rows)
            assert compression in (0, 1)
            planes[channel] = np.frombuffer(body, np.uint8).reshape(height, width)
            at += length
        rgba = np.dstack([planes[0], planes[1], planes[2], planes[-1]])
        layers.append((name, blend, rgba.astype(int)))
    return layers


def test_psd_opens_with_lines_multiplied_over_the_flats(tmp_path):
    psd_tools = pytest.importorskip("psd_tools")
    from psd_tools.constants import BlendMode

    layers = sample_layers()
    layers.save(tmp_path / "a.psd")
    (flats, normal, flat_pixels), (lines, multiply, line_pixels) = read_psd_layers(
        tmp_path / "a.psd")
    assert (flats, normal, lines, multiply) == ("flats", b"norm", "lines", b"mul ")
    assert np.array_equal(flat_pixels, pixels(layers.flats))
    assert np.array_equal(line_pixels, pixels(layers.lines))
    psd = psd_tools.PSDImage.open(tmp_path / "a.psd")
    assert (psd.width, psd.height, psd.depth, psd.channels) == (32, 24, 8, 3)
    assert [(layer.name, layer.blend_mode) for layer in psd] == [
        ("flats", BlendMode.NORMAL), ("lines", BlendMode.MULTIPLY)]
    assert not psd[1].has_mask()   # the lines' alpha is the layer's own transparency
    with Image.open(tmp_path / "a.psd") as merged:   # what viewers without layers show
        assert np.abs(pixels(merged) - pixels(layers.image)).max() <= 1


def test_a_transparent_picture_keeps_its_transparency_in_the_flats(tmp_path):
    pyora = pytest.importorskip("pyora")
    layers = sample_layers(alpha=True)
    layers.save(tmp_path / "a.ora")
    _, flats = pyora.Project.load(str(tmp_path / "a.ora")).children
    alpha = pixels(flats.get_image_data())[..., 3]
    assert (alpha[:, :4] == 0).all() and (alpha[:, 4:] == 255).all()


def test_png_writes_the_picture_and_both_layers_beside_it(tmp_path):
    layers = sample_layers()
    written = layers.save(tmp_path / "a.png")
    assert [p.name for p in written] == ["a.png", "a.flats.png", "a.lines.png"]
    for image, path in zip(layers, written):
        assert np.array_equal(pixels(Image.open(path)), pixels(image))


def test_an_unknown_suffix_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(ValueError, match=r"a.tif: a layered file ends in .ora, .psd or .png"):
        sample_layers().save(tmp_path / "a.tif")
    assert list(tmp_path.iterdir()) == []
    sample_layers().save(tmp_path / "picture", format="ora")   # an explicit format wins
    assert zipfile.is_zipfile(tmp_path / "picture")


def paint_program(name):
    path = shutil.which(name)
    if path is None or (name == "krita" and shutil.which("xvfb-run") is None):
        pytest.skip(f"{name} is not installed (apt install {name}"
                    f"{' xvfb' if name == 'krita' else ''})")
    return path


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".ora", ".psd"])
def test_krita_opens_them_with_lines_multiplied_over_the_flats(tmp_path, suffix):
    """Krita itself: saved as its own .kra, the stack it read; exported flat, the picture."""
    paint_program("krita")
    layers = sample_layers()
    layers.save(tmp_path / f"a{suffix}")
    for out in ("a.kra", "flat.png"):
        subprocess.run(["xvfb-run", "-a", "krita", str(tmp_path / f"a{suffix}"), "--export",
                        "--export-filename", str(tmp_path / out)], capture_output=True,
                       timeout=600, check=True, text=True)
    with zipfile.ZipFile(tmp_path / "a.kra") as kra:
        stack = ElementTree.fromstring(kra.read("maindoc.xml"))
    found = [(layer.get("name"), layer.get("compositeop")) for layer in stack.iter()
             if layer.tag.endswith("layer") and layer.get("compositeop")]
    assert found == [("lines", "multiply"), ("flats", "normal")]
    assert np.abs(pixels(Image.open(tmp_path / "flat.png")) - pixels(layers.image)).max() <= 1


@pytest.mark.slow
def test_gimp_opens_the_psd_with_lines_multiplied_over_the_flats(tmp_path):
    """GIMP 2.10 (its OpenRaster plug-in needs Python 2, which Debian 12 lacks: PSD only)."""
    paint_program("gimp-console-2.10")
    layers = sample_layers()
    layers.save(tmp_path / "a.psd")
    psd, flat = tmp_path / "a.psd", tmp_path / "flat.png"
    script = (f'(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE "{psd}" "{psd}"))))'
              f' (for-each (lambda (layer) (gimp-message (string-append "layer "'
              f' (car (gimp-item-get-name layer)) " "'
              f' (number->string (car (gimp-layer-get-mode layer))))))'
              f' (vector->list (cadr (gimp-image-get-layers image))))'
              f' (file-png-save-defaults RUN-NONINTERACTIVE image'
              f' (car (gimp-image-flatten image)) "{flat}" "{flat}"))')
    run = subprocess.run(["gimp-console-2.10", "-i", "-d", "-f", "-b", script, "-b",
                          "(gimp-quit 0)"], capture_output=True, text=True, timeout=600)
    said = re.findall(r"layer (\w+) (\d+)", run.stdout + run.stderr)
    assert said == [("lines", "30"), ("flats", "28")]   # GIMP_LAYER_MODE_MULTIPLY, _NORMAL
    assert np.abs(pixels(Image.open(flat)) - pixels(layers.image)).max() <= 1
