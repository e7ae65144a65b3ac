"""Issue 26: no command loses a model or a user's file, and no small file costs gigabytes.
Model folders from anywhere, colorize's outputs, the export and the app's temporary files."""

import json
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pix2color.cli import main
from pix2color.modelfile import BUNDLED_DIR, ModelFileError


def drawing(path, shade=0, size=32):
    pixels = np.full((size, size, 3), 255, np.uint8)
    pixels[8:24, 8] = shade
    Image.fromarray(pixels).save(path)


def listing(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


# --- model folders: checked before anything is built (#26.5) -------------------------------

def tampered_model(tmp_path, info_change=None, layer_change=None):
    """A copy of the bundled sketch model with its description or its archive's config
    changed."""
    folder = tmp_path / "model"
    shutil.copytree(BUNDLED_DIR / "sketch", folder)
    if info_change:
        info = json.loads((folder / "pix2color.json").read_text())
        info_change(info)
        (folder / "pix2color.json").write_text(json.dumps(info))
    if layer_change:
        with zipfile.ZipFile(BUNDLED_DIR / "sketch" / "generator.keras") as source, \
                zipfile.ZipFile(folder / "generator.keras", "w") as target:
            for entry in source.infolist():
                data = source.read(entry)
                if entry.filename == "config.json":
                    config = json.loads(data)
                    layer_change({layer["name"]: layer for layer in config["config"]["layers"]})
                    data = json.dumps(config)
                target.writestr(entry, data)
    return folder


@pytest.mark.parametrize("change", [
    lambda info: info["generator"]["args"].update(width=64),    # built from it: 4x the weights
    lambda info: info["generator"]["args"].update(depth=6),
    lambda info: info["generator"].update(parameters=10)])
def test_a_description_that_is_not_its_archive_is_refused_before_building(tmp_path, change):
    from pix2color import Colorizer

    with pytest.raises(ModelFileError, match="not the network pix2color.json describes"):
        Colorizer.load(tampered_model(tmp_path, info_change=change))


def test_an_archive_implying_too_many_parameters_is_refused_before_keras_builds_it(tmp_path):
    from pix2color import Colorizer

    def huge_kernel(layers):
        layers["e1"]["config"]["kernel_size"] = [1000, 1000]    # 229 M parameters

    folder = tampered_model(tmp_path, layer_change=huge_kernel)
    assert (folder / "generator.keras").stat().st_size < 20_000_000
    with pytest.raises(ModelFileError, match=r"implies 229,\d+,\d+ parameters"):
        Colorizer.load(folder)
    assert main(["info", str(folder)]) == 2


def test_an_archive_with_a_layer_generators_do_not_use_is_refused(tmp_path):
    from pix2color import Colorizer

    def dense(layers):
        layers["e1"]["class_name"] = "Dense"

    with pytest.raises(ModelFileError, match="'e1' is a Dense"):
        Colorizer.load(tampered_model(tmp_path, layer_change=dense))


# --- colorize never replaces a file it did not write (#26.3), skips failed writes (#26.9) ---

@pytest.mark.slow
def test_colorize_never_replaces_a_file_already_there(tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    drawing(photos / "a.jpg")
    (photos / "a.png").write_bytes(b"the user's own file")
    assert main(["colorize", str(photos / "a.jpg"), "-o", str(photos)]) == 0
    out = capsys.readouterr().out
    assert (photos / "a.png").read_bytes() == b"the user's own file"
    assert Image.open(photos / "a-2.png").size == (32, 32)
    assert "a.png is there already; --overwrite replaces it" in out and "a-2.png" in out
    assert main(["colorize", str(photos / "a.jpg"), "-o", str(photos), "--overwrite"]) == 0
    assert Image.open(photos / "a.png").size == (32, 32)
    assert listing(photos) == ["a-2.png", "a.jpg", "a.png"]


def test_a_failed_write_is_listed_and_the_rest_are_written(tmp_path, capsys):
    (tmp_path / "in" / "sub").mkdir(parents=True)
    drawing(tmp_path / "in" / "sub" / "a.png")
    drawing(tmp_path / "in" / "b.png")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "sub").write_text("a file where a folder should be")
    assert main(["colorize", str(tmp_path / "in"), "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert f"cannot write {tmp_path / 'out' / 'sub' / 'a.png'}" in err and "skipped" in err
    assert listing(tmp_path / "out") == ["b.png", "sub"]


def test_a_write_that_fails_leaves_no_temporary_file(tmp_path):
    from pix2color.files import write_atomically

    (tmp_path / "a.png").mkdir()   # a folder in the way of the output's name
    (tmp_path / "a.png" / "inside").write_text("kept")
    with pytest.raises(OSError):
        write_atomically(tmp_path / "a.png", b"png bytes")
    assert listing(tmp_path) == ["a.png", "a.png/inside"]


# --- colorize's small ones (#26.11) ---------------------------------------------------------

@pytest.mark.parametrize("hint, message", [("5,5,rgb(999,0,0)", "each channel 0-255"),
                                           ("-1,-1,red", "lies outside the 32x32 image")])
def test_bad_hints_are_named(tmp_path, capsys, hint, message):
    drawing(tmp_path / "a.png")
    code = main_exit_code(["colorize", str(tmp_path / "a.png"), "-o", str(tmp_path / "out"),
                           "--hint", hint])
    assert code != 0 and message in capsys.readouterr().err


def main_exit_code(argv):
    try:
        return main(argv)
    except SystemExit as stop:   # argparse's own errors
        return stop.code


def test_a_missing_hint_image_and_the_input_folder_as_output_are_errors(tmp_path, capsys):
    drawing(tmp_path / "a.png")
    assert main(["colorize", str(tmp_path / "a.png"), "-o", str(tmp_path / "out"),
                 "--hint-image", str(tmp_path / "none.png")]) == 2
    assert f"--hint-image {tmp_path / 'none.png'}: no such file" in capsys.readouterr().err
    assert main(["colorize", str(tmp_path), "-o", str(tmp_path)]) == 2
    assert "is the input folder" in capsys.readouterr().err
    assert listing(tmp_path) == ["a.png"]


def test_odd_files_inside_a_folder_are_listed_not_dropped(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    drawing(tmp_path / "in" / "a.png")
    os.mkfifo(tmp_path / "in" / "pipe.png")
    os.symlink("loop.png", tmp_path / "in" / "loop.png")   # a symlink loop
    assert main(["colorize", str(tmp_path / "in"), "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    for name in ("pipe.png", "loop.png"):
        assert f"{tmp_path / 'in' / name}: not a regular file" in err
    assert listing(tmp_path / "out") == ["a.png"]


# --- WebP and unknown formats: sized from the header, before decoding (#26.6, #26.7) --------

def encoded(image, fmt, **options):
    import io

    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


@pytest.mark.parametrize("options", [{}, {"lossless": True}, {"exif": b"Exif\0\0"}],
                         ids=["lossy", "lossless", "extended"])
def test_webp_sizes_come_from_the_header(options):
    import tensorflow as tf

    from pix2color.decode import encoded_size

    data = encoded(Image.new("RGBA", (301, 77), (0, 0, 0, 100)), "WEBP", **options)
    assert [int(v) for v in encoded_size(tf.constant(data))] == [77, 301]
    jpeg_xl = b"\xff\x0a" + bytes(30)   # a JPEG XL codestream: no size TensorFlow can read
    assert [int(v) for v in encoded_size(tf.constant(jpeg_xl))] == [-1, -1]


@pytest.mark.slow
def test_the_serving_signature_refuses_a_large_webp_naming_it():
    import tensorflow as tf

    from pix2color import Colorizer
    from pix2color.export import _Servable
    from pix2color.fills import graph_fill

    colorizer = Colorizer.load("sketch")
    colorizer.max_pixels = 40 * 40
    small = encoded(Image.new("RGB", (32, 32), "white"), "PNG")
    large = encoded(Image.new("RGB", (48, 48), "white"), "WEBP", lossless=True)
    served = _Servable(colorizer, graph_fill(colorizer.task_def, None))   # the export's fill
    assert len(served.colorize_image(tf.constant([small, small]))["png_bytes"]) == 2
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"max_pixels \(1600\)") as error:
        served.colorize_image(tf.constant([small, large]))
    assert "[image] [1] [of the batch] [is] [48] [x] [48] [pixels]" in str(error.value)
    with pytest.raises(tf.errors.InvalidArgumentError, match="not a PNG, JPEG, GIF, BMP or WebP"):
        served.colorize_image(tf.constant([b"\xff\x0a" + bytes(300)]))


@pytest.mark.slow
def test_training_data_over_max_pixels_is_skipped_from_its_header(tmp_path, monkeypatch):
    from pix2color import files
    from pix2color.data import paired_dataset

    for name, side in (("small", 32), ("large", 64)):
        drawing(tmp_path / f"{name}.png", size=side)
        drawing(tmp_path / f"{name}.webp", size=side)
    monkeypatch.setattr(files, "MAX_PIXELS", 40 * 40)   # what --max-pixels sets elsewhere
    for ext in ("png", "webp"):
        pairs = [(tmp_path / f"small.{ext}", tmp_path / f"small.{ext}"),
                 (tmp_path / f"large.{ext}", tmp_path / f"small.{ext}"),
                 (tmp_path / f"small.{ext}", tmp_path / f"large.{ext}")]
        indices = [int(i) for _, _, batch in paired_dataset(pairs, 32, 4) for i in batch]
        assert indices == [0], ext   # the pairs with a large file drop out, to be counted


# --- a full disk: one line, nothing half-written (#26.8) -----------------------------------

def no_space(*args, **kwargs):
    import tensorflow as tf

    raise tf.errors.ResourceExhaustedError(None, None, "some/file; No space left on device")


def test_a_full_disk_during_export_leaves_nothing_and_says_so(tmp_path, monkeypatch, capsys):
    import tensorflow as tf


    def save_half(obj, export_dir, signatures=None):
        os.makedirs(export_dir)
        (Path(export_dir) / "saved_model.pb").write_bytes(b"half")
        no_space()

    monkeypatch.setattr(tf.saved_model, "save", save_half)
    assert main(["export", "sketch", str(tmp_path / "served")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "no space left on device" in err
    assert listing(tmp_path / "served") == []   # nothing where TF Serving looks


@pytest.mark.slow
def test_a_full_disk_during_training_is_one_line(pair_tree, tmp_path, monkeypatch, capsys):
    import tensorflow as tf

    monkeypatch.setattr(tf.train.CheckpointManager, "save", no_space)
    assert main(["train", "--data", str(pair_tree), "--size", "32", "--width", "4",
                 "--depth", "3", "--steps", "2", "--batch-size", "8", "--precision",
                 "float32", "--logdir", str(tmp_path / "runs"), "--run-name", "full"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "no space left on device writing the run folder" in err and "--resume" in err


# --- opening files (#26.11) ----------------------------------------------------------------

def test_only_the_documented_formats_are_opened(tmp_path):
    from pix2color.files import ImageReadError, open_image

    eps = tmp_path / "drawing.png"   # an EPS with a PNG's name: Ghostscript would read it
    eps.write_text("%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n")
    with pytest.raises(ImageReadError, match="drawing.png: not an image Pillow can read"):
        open_image(eps)
    os.symlink("loop.png", tmp_path / "loop.png")
    with pytest.raises(ImageReadError, match="loop.png: not a regular file"):
        open_image(tmp_path / "loop.png")


def test_an_image_over_pillows_limit_is_named_not_warned_about(tmp_path):
    import struct
    import warnings
    import zlib

    from pix2color.files import ImageReadError, open_image

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    big = tmp_path / "big.png"   # 90 megapixels in its header: over Pillow's 89.5, under 100
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 10000, 9000,
                                                                    8, 0, 0, 0, 0)) +
                    chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b""))
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # Pillow's "exceeds limit" warning would fail here
        with pytest.raises(ImageReadError, match="big.png"):
            open_image(big, max_pixels=80_000_000)
        with pytest.raises(ImageReadError, match="big.png: broken or truncated"):
            open_image(big)
