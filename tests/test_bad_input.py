"""Every entry point against the same table of awkward and broken files: each one gives the
right output or a clear error naming the file; training skips and counts; nothing crashes
and no input is modified."""

import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image, ImageDraw

from pix2color import Colorizer
from pix2color.app import colorize_upload
from pix2color.data import find_pairs, paired_dataset
from pix2color.files import ImageReadError

NON_UTF8 = os.fsdecode(b"caf\xe9.png")  # a Latin-1 file name, not valid UTF-8


def _png_chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data +
            struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def make_inputs(folder):
    """{file name: expected}: expected is the (width, height) a readable image keeps, or a
    fragment of the error that names it."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    rgb = Image.fromarray(rng.integers(0, 256, (24, 40, 3), np.uint8))
    png, jpeg = io.BytesIO(), io.BytesIO()
    rgb.save(png, "PNG")
    rgb.save(jpeg, "JPEG")
    png, jpeg = png.getvalue(), jpeg.getvalue()
    palette = rgb.convert("P", palette=Image.ADAPTIVE, colors=16)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees": shown 24 wide and 40 high
    huge = struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0)  # 900 Mpixel header, no data
    writers = {
        "zero.png": lambda p: p.write_bytes(b""),
        "truncated.png": lambda p: p.write_bytes(png[: len(png) // 2]),
        "truncated.jpg": lambda p: p.write_bytes(jpeg[: len(jpeg) // 2]),
        "text.png": lambda p: p.write_text("hello, not a picture\n"),
        "cmyk.jpg": lambda p: rgb.convert("CMYK").save(p, "JPEG"),
        "sixteen.png": lambda p: Image.fromarray(
            rng.integers(0, 65536, (24, 40)).astype(np.uint16)).save(p),
        "palette.png": lambda p: palette.save(p, transparency=0),
        "la.png": lambda p: rgb.convert("LA").save(p),
        "rgba.png": lambda p: rgb.convert("RGBA").save(p),
        "exif.jpg": lambda p: rgb.save(p, "JPEG", exif=exif.tobytes()),
        "one.png": lambda p: Image.new("RGB", (1, 1), "red").save(p),
        "strip.png": lambda p: Image.new("L", (10000, 1), 80).save(p),
        "bomb.png": lambda p: p.write_bytes(
            b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", huge) +
            _png_chunk(b"IDAT", zlib.compress(b"\0" * 100)) + _png_chunk(b"IEND", b"")),
        NON_UTF8: lambda p: rgb.save(p, "PNG"),
    }
    for name, write in writers.items():
        write(folder / name)
    return {"zero.png": "not an image", "truncated.png": "truncated",
            "truncated.jpg": "truncated", "text.png": "not an image", "cmyk.jpg": (40, 24),
            "sixteen.png": (40, 24), "palette.png": (40, 24), "la.png": (40, 24),
            "rgba.png": (40, 24), "exif.jpg": (24, 40), "one.png": (1, 1),
            "strip.png": (10000, 1), "bomb.png": "too large", NON_UTF8: (40, 24)}


def fingerprint(folder):
    return {p: hashlib.sha1(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("awkward") / "in"
    table = make_inputs(folder)
    before = fingerprint(folder)
    yield folder, table
    assert fingerprint(folder) == before  # no entry point modified an input


@pytest.fixture(scope="module")
def colorizer():
    return Colorizer.load("sketch")


@pytest.mark.parametrize("entry", ["Colorizer.colorize", "app handler"])
def test_python_entry_points(inputs, colorizer, entry):
    folder, table = inputs
    call = {"Colorizer.colorize": lambda path: colorizer.colorize(path),
            "app handler": lambda path: colorize_upload(colorizer, str(path))}[entry]
    for name, expected in table.items():
        path = folder / name
        if isinstance(expected, tuple):
            result = call(path)
            assert result.size == expected, name
            assert result.mode in ("RGB", "RGBA"), name
        else:
            with pytest.raises(ImageReadError) as error:
                call(path)
            assert str(path) in str(error.value) or path.name in str(error.value), name
            assert expected in str(error.value), (name, str(error.value))
    with pytest.raises(ImageReadError, match="is a folder"):
        call(folder)


@pytest.mark.slow
def test_cli_colorizes_a_folder_of_them(inputs, tmp_path):
    folder, table = inputs
    result = subprocess.run([sys.executable, "-m", "pix2color", "colorize", str(folder), "-o",
                             str(tmp_path / "out")], capture_output=True, timeout=600,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 1 and b"Traceback" not in result.stderr, stderr[-3000:]
    bad = [name for name, expected in table.items() if not isinstance(expected, tuple)]
    assert f"skipped {len(bad)} file(s)" in stderr
    for name in bad:
        assert name in stderr and table[name] in stderr, name
    for name, expected in table.items():
        if isinstance(expected, tuple):
            written = tmp_path / "out" / Path(name).with_suffix(".png").name
            assert Image.open(written).size == expected, name
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = subprocess.run([sys.executable, "-m", "pix2color", "colorize", str(empty), "-o",
                              str(tmp_path / "none")],
                             capture_output=True, text=True, timeout=300,
                             env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert nothing.returncode == 2 and "no images found" in nothing.stderr


@pytest.mark.slow
def test_data_pipeline_and_training_skip_and_count_them(inputs, tmp_path):
    from pix2color.train import TrainConfig, Trainer

    folder, table = inputs
    target = folder / "rgba.png"
    for name, expected in table.items():
        got = sum(int(batch[0].shape[0]) for batch in paired_dataset(
            [(folder / name, target)], size=32, batch_size=2))
        assert got == (1 if isinstance(expected, tuple) else 0), name
    # A pair with mismatched sizes is resized to the training size like any other.
    (batch,) = list(paired_dataset([(folder / "strip.png", folder / "one.png")], 32, 1))
    assert batch[0].shape == batch[1].shape == (1, 32, 32, 3)
    pairs = [(folder / name, target) for name in table]
    config = TrainConfig(size=32, width=4, disc_width=4, batch_size=4, epochs=1,
                         precision="float32", mode="l1")
    trainer = Trainer(config, pairs, [], logdir=tmp_path / "runs", run_name="awkward")
    trainer.fit()                                        # no crash: trains on the rest
    skipped = json.loads((trainer.run_dir / "skipped_files.json").read_text())
    bad = {str(folder / name) for name, expected in table.items()
           if not isinstance(expected, tuple)}
    assert set(skipped) - {str(target)} == bad           # each bad file named and counted
    assert all(skipped[path] == 1 for path in bad)


def test_pairs_without_partners_and_folders_without_images(tmp_path):
    sketch, colour = tmp_path / "sketch", tmp_path / "src"
    sketch.mkdir()
    colour.mkdir()
    with pytest.raises(ValueError, match="no image pairs found"):
        find_pairs(sketch, colour)                       # a directory with no images
    for name in ("a", "b"):
        Image.new("RGB", (8, 8)).save(sketch / f"{name}.png")
    Image.new("RGB", (8, 8)).save(colour / "a.png")
    pairs, unmatched = find_pairs(sketch, colour)        # b has no colour partner
    assert len(pairs) == 1 and unmatched == [str(sketch / "b.png")]


def test_data_that_is_no_pair_layout_says_what_it_is_and_what_to_do(tmp_path, capsys):
    from pix2color.cli import main

    missing = tmp_path / "nonexistent"
    assert main(["train", "--data", str(missing)]) == 2
    err = capsys.readouterr().err.strip()
    assert f"{missing} does not exist" in err and "Danbooru" not in err
    assert len(err.splitlines()) == 1
    pictures = tmp_path / "pictures"                     # colour pictures, no sketch/ src/
    pictures.mkdir()
    for name in ("a", "b"):
        Image.new("RGB", (8, 8), "orange").save(pictures / f"{name}.png")
    assert main(["train", "--data", str(pictures)]) == 2
    err = capsys.readouterr().err.strip()
    assert "no Danbooru layout" in err and "2 picture(s)" in err and len(err.splitlines()) == 1
    assert "--extract-lines" in err and f"pix2color pairs {pictures} PAIRS" in err


@pytest.mark.slow
def test_serving_signature_takes_them_as_bytes(inputs, colorizer, tmp_path):
    folder, table = inputs
    export = tf.saved_model.load(str(colorizer.export(tmp_path / "served")))
    colorize_image = export.signatures["colorize_image"]
    for name, expected in table.items():
        data = (folder / name).read_bytes()
        if name == "bomb.png":  # refused from its header, before TF allocates 900 Mpixels
            with pytest.raises(tf.errors.InvalidArgumentError, match="max_pixels"):
                colorize_image(image_bytes=tf.constant([data]))
            continue
        if isinstance(expected, tuple):
            png = colorize_image(image_bytes=tf.constant([data]))["png_bytes"][0].numpy()
            size = Image.open(io.BytesIO(png)).size
            # The graph turns JPEGs upright by their EXIF orientation, as Colorizer does.
            assert size == expected, name
        else:
            with pytest.raises(tf.errors.InvalidArgumentError):
                colorize_image(image_bytes=tf.constant([data]))


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "BMP"])
def test_encoded_sizes_come_from_the_header(fmt):
    from pix2color.export import encoded_size

    buffer = io.BytesIO()
    Image.new("RGB", (301, 77), "white").save(buffer, fmt)
    height, width = encoded_size(tf.constant(buffer.getvalue()))
    assert (int(height), int(width)) == (77, 301)
    assert [int(v) for v in encoded_size(tf.constant(b"not an image"))] == [-1, -1]


@pytest.mark.slow
@pytest.mark.parametrize("orientation", range(1, 9))
def test_training_and_inference_turn_a_rotated_jpeg_upright_alike(orientation, tmp_path):
    import tensorflow as tf

    from pix2color.data import decode_rgb
    from pix2color.files import read_image

    image = Image.new("RGB", (48, 32), "white")
    ImageDraw.Draw(image).rectangle((0, 0, 15, 7), fill=(220, 30, 30))   # a corner marker
    ImageDraw.Draw(image).rectangle((32, 16, 47, 31), fill=(30, 30, 220))
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "photo.jpg"
    image.save(path, quality=95, exif=exif.tobytes())
    upright = read_image(path)[0]                          # Pillow's exif_transpose
    # what training sees: decode_rgb inside a graph, as tf.data and the export run it
    trained = tf.function(decode_rgb)(tf.constant(path.read_bytes())).numpy()
    assert trained.shape == upright.shape == ((32, 48, 3) if orientation < 5 else (48, 32, 3))
    assert np.abs(trained - upright).mean() < 0.01
