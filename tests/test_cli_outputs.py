"""`pix2color colorize` never loses or clobbers an output and never blocks on odd files."""

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from pix2color import files
from pix2color.files import ImageReadError, open_image


def colorize(*args):
    return subprocess.run([sys.executable, "-m", "pix2color", "colorize", *map(str, args)],
                          capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))


def drawing(path, shade=0):
    pixels = np.full((40, 40, 3), 255, np.uint8)
    pixels[10:30, 10] = shade
    Image.fromarray(pixels).save(path)


@pytest.mark.slow
def test_two_inputs_with_one_name_get_two_outputs(tmp_path):
    (tmp_path / "in").mkdir()
    drawing(tmp_path / "in" / "a.png")
    drawing(tmp_path / "in" / "a.jpg", shade=100)
    (tmp_path / "other").mkdir()
    drawing(tmp_path / "other" / "a.png")
    result = colorize(tmp_path / "in", tmp_path / "other", "-o", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a-2.png", "a-3.png",
                                                                      "a.png"]
    assert "wrote 3 image(s)" in result.stdout and "another input has its name" in result.stdout


@pytest.mark.slow
def test_the_output_folder_is_never_read_as_input(tmp_path):
    drawing(tmp_path / "a.png")
    for _ in range(3):
        result = colorize(tmp_path, "-o", tmp_path / "out", "--overwrite")
        assert result.returncode == 0, result.stderr
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.png"))
    assert written == ["a.png", "out/a.png"]


@pytest.mark.slow
def test_a_fifo_is_skipped_without_blocking(tmp_path):
    (tmp_path / "in").mkdir()
    os.mkfifo(tmp_path / "in" / "pipe.png")
    drawing(tmp_path / "in" / "a.png")
    result = colorize(tmp_path / "in" / "pipe.png", tmp_path / "in" / "a.png", "-o",
                      tmp_path / "out")
    assert result.returncode == 1
    assert "pipe.png: not a regular file" in result.stderr
    assert (tmp_path / "out" / "a.png").exists()
    in_folder = colorize(tmp_path / "in", "-o", tmp_path / "out2")   # in a folder: listed too
    assert in_folder.returncode == 1 and "wrote 1 image(s)" in in_folder.stdout
    assert "pipe.png: not a regular file" in in_folder.stderr


def test_a_permission_error_says_so(tmp_path, monkeypatch):
    drawing(tmp_path / "a.png")

    def refuse(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(files.Image, "open", refuse)  # root reads mode-000 files anyway
    with pytest.raises(ImageReadError, match="a.png: permission denied"):
        open_image(tmp_path / "a.png")


def test_an_interrupted_write_leaves_no_half_file(tmp_path, monkeypatch):
    from pix2color import cli

    image = Image.new("RGB", (8, 8))
    (tmp_path / "a.png").write_bytes(b"the earlier, complete output")

    def crash(self, fp, format=None, **params):
        fp.write(b"\x89PNG half")
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        cli._save_png(image, tmp_path / "a.png")
    assert (tmp_path / "a.png").read_bytes() == b"the earlier, complete output"


@pytest.mark.slow
def test_images_over_max_pixels_are_refused_from_the_header(tmp_path):
    from pix2color import Colorizer

    big = tmp_path / "big.png"
    Image.new("L", (300, 200), 255).save(big)
    colorizer = Colorizer.load()
    colorizer.max_pixels = 50_000
    with pytest.raises(ImageReadError, match=r"big.png: 300x200 is 0 megapixels, over the "
                                             r"limit of 0.05 \(max_pixels\)"):
        colorizer.colorize(big)
    with pytest.raises(ImageReadError, match="300x200"):
        colorizer.colorize(np.zeros((200, 300), np.uint8))
    drawing(tmp_path / "small.png")
    result = colorize(big, tmp_path / "small.png", "-o", tmp_path / "out", "--max-pixels",
                      50_000)
    assert result.returncode == 1 and "big.png: 300x200" in result.stderr
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["small.png"]


def test_running_out_of_memory_skips_one_file_not_the_run(tmp_path, monkeypatch, capsys):
    from pix2color import cli
    from pix2color.colorizer import Colorizer

    (tmp_path / "in").mkdir()
    drawing(tmp_path / "in" / "a.png")
    Image.new("RGB", (90, 60), "white").save(tmp_path / "in" / "huge.png")
    real = Colorizer.colorize_batch

    def tight(self, images, *args, **kwargs):
        if any(Image.open(image).width == 90 for image in images):
            raise MemoryError
        return real(self, images, *args, **kwargs)

    monkeypatch.setattr(Colorizer, "colorize_batch", tight)
    code = cli.main(["colorize", str(tmp_path / "in"), "-o", str(tmp_path / "out")])
    assert code == 1
    assert "huge.png: not enough memory to colour it" in capsys.readouterr().err
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["a.png"]


@pytest.mark.slow
def test_layers_ora_and_psd_are_written_beside_the_picture(tmp_path, capsys):
    from pix2color import cli

    pyora = pytest.importorskip("pyora")
    pytest.importorskip("psd_tools")
    (tmp_path / "in").mkdir()
    drawing(tmp_path / "in" / "a.png")
    run = ["colorize", str(tmp_path / "in"), "-o", str(tmp_path / "out")]
    assert cli.main(run + ["--layers", "ora"]) == 0
    project = pyora.Project.load(str(tmp_path / "out" / "a.ora"))
    assert [(layer.name, layer.composite_op) for layer in project.children] == [
        ("lines", "svg:multiply"), ("flats", "svg:src-over")]
    picture = np.asarray(Image.open(tmp_path / "out" / "a.png").convert("RGBA")).astype(int)
    assert np.abs(np.asarray(project.get_image_data()).astype(int) - picture).max() <= 1
    # a second run never clobbers the first: its picture and its file take the next name
    assert cli.main(run + ["--layers", "psd"]) == 0
    assert "a-2.png" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "a-2.png", "a-2.psd", "a.ora", "a.png"]
    assert cli.main(run + ["--layers", "--overwrite"]) == 0   # bare --layers: the PNGs
    assert {"a.flats.png", "a.lines.png"} <= {p.name for p in (tmp_path / "out").iterdir()}


def test_layers_psd_without_psd_tools_says_what_to_install(tmp_path, monkeypatch, capsys):
    from pix2color import cli

    drawing(tmp_path / "a.png")
    monkeypatch.setitem(sys.modules, "psd_tools", None)   # as if it were not installed
    code = cli.main(["colorize", str(tmp_path / "a.png"), "-o", str(tmp_path / "out"),
                     "--layers", "psd"])
    assert code == 2
    assert "pip install 'pix2color[layers]'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
