"""Open Clip Art as a data source, line art that keeps thin lines when shrunk, and the
line-art augmentation: on SVGs and drawings the tests make themselves."""

import json

import numpy as np
import pytest
from scipy import ndimage
import tensorflow as tf
from PIL import Image, ImageDraw

from pix2color.data import open_pairs, paired_dataset
from pix2color.openclipart import edges_shown, openclipart_pairs, openclipart_summary, reserved
from pix2color.pipeline import network_input
from pix2color.resample import box_factor, box_shrink8, shrink
from pix2color.sketch import line_weight, vary_lines

HEAD = '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" viewBox="0 0 100 100">'
STROKED = HEAD + ('<rect x="10" y="10" width="80" height="50" fill="#d03020" stroke="#000" '
                  'stroke-width="4"/><circle cx="50" cy="78" r="15" fill="#2060d0" '
                  'stroke="#000" stroke-width="4"/></svg>')
FILLED = HEAD + ('<rect x="8" y="8" width="84" height="84" fill="#000"/>'
                 '<rect x="14" y="14" width="72" height="72" style="fill:#30b040"/></svg>')
# a cat's head drawn the way many Open Clip Art drawings are: grey outlines, black eyes only
GREY_OUTLINED = HEAD + ('<circle cx="50" cy="50" r="40" fill="#606060"/>'
                        '<circle cx="50" cy="50" r="35" fill="#e08020"/>'
                        '<circle cx="38" cy="42" r="4" fill="#000"/>'
                        '<circle cx="62" cy="42" r="4" fill="#000"/></svg>')
RASTER = HEAD + ('<rect x="10" y="10" width="80" height="80" fill="#d03020" stroke="#000"/>'
                 '<image x="0" y="0" width="10" height="10" href="data:image/png;base64,AAAA"/>'
                 '</svg>')


@pytest.fixture
def library(tmp_path):
    pytest.importorskip("cairosvg", reason="needs pip install pix2color[openclipart]")
    root = tmp_path / "svg"
    for relative, text in (("animals/stroked.svg", STROKED), ("food/filled.svg", FILLED),
                           ("people/raster.svg", RASTER), ("shapes/copy.svg", STROKED),
                           ("buildings/homes/my_house_01.svg", FILLED.replace("30b040",
                                                                              "3040b0"))):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    return root


def test_openclipart_pairs_keep_drawings_and_say_how_their_lines_were_made(library, tmp_path):
    cache = tmp_path / "cache"
    pairs = openclipart_pairs(cache, size=32, svg_root=library, workers=1, progress=False)
    names = sorted(p[0].split("/")[-2] for p in pairs)
    # the copy is the same drawing (by content); the raster and the reserved one are left out
    assert names == ["filled", "stroked"]
    summary = openclipart_summary(cache)
    assert summary == {"kept": {"strokes": 1, "black": 1}, "skipped": {"embedded raster": 1}}
    by_name = {p[0].split("/")[-2]: p for p in pairs}
    sketch = np.asarray(Image.open(by_name["stroked"][0]).convert("L"))
    colour = np.asarray(Image.open(by_name["stroked"][1]).convert("RGB")).astype(int)
    assert sketch.shape == (32, 32) and colour.shape == (32, 32, 3)
    assert sketch.min() < 60 and np.mean(sketch > 200) > 0.7   # dark lines on white
    red = (colour[..., 0] > 150) & (colour[..., 1] < 100)
    assert red.mean() > 0.1 and sketch[red].mean() > 200       # no ink inside the fill
    # cached: a second call renders nothing and lists the same pairs
    stamps = {p: (cache / p).stat().st_mtime_ns for p in ("index.json",)}
    assert openclipart_pairs(cache, size=32, svg_root=library, workers=1,
                             progress=False) == pairs
    assert (cache / "index.json").stat().st_mtime_ns == stamps["index.json"]


def test_reserved_drawings_are_never_yielded(library, tmp_path):
    hashes, names = reserved()
    assert len(hashes) == 306 and "my_house_01.svg" in names
    pairs = openclipart_pairs(tmp_path / "c", size=32, svg_root=library, workers=1,
                              progress=False)
    assert all("my_house_01" not in sketch for sketch, _ in pairs)
    decisions = json.loads((tmp_path / "c" / "index.json").read_text())["drawings"]
    assert len(decisions) == 3  # stroked (once), filled, raster: the reserved one not even read


def test_line_art_that_misses_the_drawings_outlines_gives_way_to_xdog(tmp_path):
    pytest.importorskip("cairosvg", reason="needs pip install pix2color[openclipart]")
    (tmp_path / "svg" / "animals").mkdir(parents=True)
    (tmp_path / "svg" / "animals" / "cat.svg").write_text(GREY_OUTLINED)
    pairs = openclipart_pairs(tmp_path / "c", size=32, svg_root=tmp_path / "svg", workers=1,
                              progress=False)
    # its near-black pixels are the eyes alone: a usable share of ink, but not the drawing
    assert openclipart_summary(tmp_path / "c")["kept"] == {"xdog": 1}
    sketch = np.asarray(Image.open(pairs[0][0]).convert("L"))
    colour = np.asarray(Image.open(pairs[0][1]).convert("RGB")).astype(int)
    grey = (np.abs(colour - 96).max(-1) < 30)            # the grey outline ring
    assert grey.mean() > 0.05
    near_grey = ndimage.binary_dilation(grey, iterations=1)
    assert np.mean(sketch[near_grey] < 128) > 0.3, "the outline is not in the line art"


def test_edges_shown_counts_the_colour_edges_near_a_line():
    colour = np.ones((40, 40, 3), np.float32)
    colour[10:30, 10:30] = (0.9, 0.3, 0.1)                # an orange square on white
    lines = np.ones_like(colour)
    assert edges_shown(lines, colour, reach=2) == 0.0       # no ink shows nothing
    lines[9:31, 9] = 0.0                                     # its left side drawn
    assert 0.2 < edges_shown(lines, colour, reach=2) < 0.35
    lines[9, 9:31] = lines[30, 9:31] = lines[9:31, 30] = 0.0  # all four sides
    assert edges_shown(lines, colour, reach=2) == 1.0
    assert edges_shown(lines, np.ones_like(colour), reach=2) == 1.0  # nothing to show


def test_a_missing_library_is_a_one_line_error_naming_the_package(tmp_path):
    with pytest.raises(FileNotFoundError, match="apt-get install openclipart-svg"):
        openclipart_pairs(tmp_path / "c", svg_root=tmp_path / "nowhere")


def test_several_sources_split_each_alone(library, tmp_path, monkeypatch):
    import pix2color.openclipart as openclipart

    monkeypatch.setattr(openclipart, "SVG_ROOT", library)
    alone = open_pairs("openclipart", cache=tmp_path / "c" / "openclipart")
    mixed = open_pairs("openclipart,openclipart", cache=tmp_path / "c")
    assert set(mixed.parts) == {"openclipart"} and mixed.split_by == "folder"
    assert mixed.splits() == alone.splits()
    assert alone.info["credit"].startswith("Drawings from the Open Clip Art Library")


def test_a_named_source_is_rendered_at_the_size_asked_in_its_own_cache(library, tmp_path,
                                                                      monkeypatch):
    import pix2color.data as data
    import pix2color.openclipart as openclipart

    monkeypatch.setattr(openclipart, "SVG_ROOT", library)
    monkeypatch.setattr(data, "RENDER_CACHE", tmp_path)
    small = open_pairs("openclipart", size=24).pairs
    assert small and all(str(tmp_path / "openclipart-24") in sketch for sketch, _ in small)
    assert Image.open(small[0][1]).size == (24, 24)
    larger = open_pairs("openclipart,openclipart", cache=tmp_path / "c", size=40)
    assert Image.open(larger.pairs[0][0]).size == (40, 40)
    assert [p.rsplit("/", 2)[1:] for p, _ in larger.pairs] == \
        [p.rsplit("/", 2)[1:] for p, _ in small]   # the same drawings at either size
    from argparse import Namespace

    from pix2color.cli.training import _open   # `pix2color train --size 40` renders at 40
    args = Namespace(data="openclipart", task="sketch", limit=None, cache=None, size=40,
                     val_fraction=0.1, test_fraction=0.1, split_by=None)
    trained_on = _open(args)[0].pairs
    assert all(str(tmp_path / "openclipart-40") in sketch for sketch, _ in trained_on)


def thin_line_drawing(size=2048):
    image = np.full((size, size, 3), 255, np.uint8)
    image[size // 2, 100:-100] = 0   # one pixel high
    image[100:-100, size // 3] = 0   # one pixel wide
    return image


def test_shrinking_line_art_keeps_a_one_pixel_line_of_a_2048_px_drawing():
    rgb8 = thin_line_drawing()
    small = (128, 128)
    # as Colorizer does: a box pre-shrink of the uint8 input, then the graph's shrink
    shrunk = tf.constant(box_shrink8(rgb8, box_factor(rgb8.shape[:2], small), darkest=True))
    lines = network_input(shrunk, small, 32, "sketch").numpy()[..., 0]   # [-1, 1]
    assert lines[64, 8:120].max() < -0.3 and lines[8:120, 128 // 3].max() < -0.3  # dark lines
    assert np.percentile(lines, 50) == 1.0                                # paper stays white
    # a mean would have left a ghost: at most a sixteenth as dark
    averaged = shrink(tf.constant(rgb8 / 255, tf.float32), small).numpy()[..., 0]
    assert averaged[64, 20:100].min() > 0.85
    # photos (the gray task) still shrink by the mean
    photo = network_input(shrunk, small, 32, "gray").numpy()
    assert photo.shape == (128, 128, 1)


def stroke(width=2, size=32):
    image = Image.new("RGB", (size, size), "white")
    ImageDraw.Draw(image).line([(4, 16), (28, 16)], fill="black", width=width)
    return np.asarray(image, np.float32) / 255.0


def test_line_weight_changes_the_weight_of_lines_and_nothing_else():
    lines = stroke()
    heavier = line_weight(lines, 1.0).numpy()
    dark = lines[..., 0] < 0.5
    assert (heavier[..., 0] < 0.5).sum() > 1.5 * dark.sum()          # heavier
    assert np.array_equal(heavier[dark], lines[dark])                  # the line itself as it was
    rows, cols = np.nonzero(dark)
    far = np.ones_like(dark)
    far[rows.min() - 2: rows.max() + 3, cols.min() - 2: cols.max() + 3] = False
    assert np.array_equal(heavier[far], lines[far])                    # paper untouched
    assert (heavier <= lines + 1e-7).all()                             # only ever darker
    assert np.allclose(line_weight(lines, 0.0), lines)
    half = line_weight(lines, 0.5).numpy()
    assert (half >= heavier - 1e-7).all() and (half <= lines + 1e-7).all()


@pytest.mark.slow
def test_line_augmentation_varies_the_input_and_never_the_target(pair_tree):
    from pix2color.data import danbooru_pairs

    pairs = danbooru_pairs(pair_tree)[0][:8]
    plain = next(iter(paired_dataset(pairs, 32, 8, training=True, seed=3)))
    varied = next(iter(paired_dataset(pairs, 32, 8, training=True, seed=3, line_augment=True)))
    assert np.array_equal(plain[1], varied[1])          # the targets are the same pictures
    assert not np.array_equal(plain[0], varied[0])      # the line art is not
    colour = np.asarray(plain[1][0] + 1) / 2
    out = vary_lines(np.asarray(plain[0][0] + 1) / 2, colour, np.array([1, 2])).numpy()
    assert out.shape == (32, 32, 3) and 0.0 <= out.min() and out.max() <= 1.0


def test_line_augmentation_is_a_train_option_for_line_art_only():
    from pix2color.cli import build_parser, config_from_args
    from pix2color.config import TrainConfig

    args = build_parser().parse_args(["train", "--data", "openmoji,openclipart",
                                      "--line-augment"])
    assert config_from_args(args).line_augment is True
    with pytest.raises(ValueError, match="line art"):
        TrainConfig(task="gray", line_augment=True)


def test_the_uint8_pre_shrink_takes_each_blocks_darkest_value():
    rgb8 = np.random.default_rng(0).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    for factor in (2, 4):
        h, w = 40 // factor, 60 // factor
        darkest = rgb8[: h * factor, : w * factor].reshape(h, factor, w, factor, 3).min((1, 3))
        assert np.array_equal(box_shrink8(rgb8, factor, darkest=True),
                              darkest.astype(np.float32) * np.float32(1 / 255))


HOUSE = HEAD + ('<polygon points="10,45 50,8 90,45" fill="#c04020" stroke="#000" '
                'stroke-width="4"/><rect x="20" y="45" width="60" height="45" fill="#e0c080" '
                'stroke="#000" stroke-width="4"/></svg>')


def test_a_held_out_folder_leaves_out_clip_art_saved_again(library, tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
    from by_source import reserved_thumbnails, rgb8, thumbnail, without_lookalikes

    stamps = tmp_path / "stamps"
    stamps.mkdir()   # a clip-art drawing and a reserved one saved again (other bytes), one new
    (stamps / "resaved.svg").write_text(STROKED.replace("<rect", "<!-- a stamp --><rect"))
    (stamps / "home.svg").write_text(HOUSE.replace("<polygon", "<!-- a stamp --><polygon"))
    (stamps / "cat.svg").write_text(GREY_OUTLINED)
    known = [thumbnail(rgb8(colour)) for _, colour in openclipart_pairs(
        tmp_path / "clip-art", size=32, svg_root=library, workers=1, progress=False)]
    (library / "buildings/homes/my_house_01.svg").write_text(HOUSE)   # a reserved name
    reserved_looks = reserved_thumbnails(32, root=library)
    assert len(reserved_looks) == 1 and reserved_thumbnails(32, tmp_path / "none") is None
    held_out = openclipart_pairs(tmp_path / "held-out", size=32, svg_root=stamps, workers=1,
                                 progress=False)
    assert len(held_out) == 3
    kept, dropped = without_lookalikes(held_out, known + reserved_looks)
    assert [Path(p[0]).parent.name for p in kept] == ["cat"] and dropped == 2
