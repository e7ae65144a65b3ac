"""Region fill: segmentation of line art, one colour a region, hints that fill their region,
the user's lines kept at full resolution."""

import numpy as np
import pytest
from PIL import Image, ImageColor, ImageDraw

from pix2color import Colorizer
from pix2color.fills import RegionSettings, fill_for
from pix2color.palette import AGGREGATES, apply_hints, region_palette
from pix2color.paper import split_open_regions
from pix2color.regions import compose, line_darkness, segment


def box_drawing(size=256, box=(64, 64, 192, 192), width=2, gap=0):
    """A square outline on white, with a gap of `gap` pixels in its top side."""
    image = Image.new("RGB", (size, size), "white")
    ImageDraw.Draw(image).rectangle(box, outline="black", width=width)
    pixels = np.asarray(image).copy()
    if gap:
        middle = (box[0] + box[2]) // 2
        pixels[box[1]: box[1] + width, middle - gap // 2: middle - gap // 2 + gap] = 255
    return pixels.astype(np.float32) / 255.0


def test_a_closed_box_is_a_region_of_its_own():
    segmentation = segment(line_darkness(box_drawing()))
    labels = segmentation.labels
    assert labels[128, 128] != labels[10, 10]
    inside = labels[70:187, 70:187]
    assert (inside == labels[128, 128]).all()
    assert (labels.min(), labels.max()) == (1, segmentation.count)  # every pixel labelled


@pytest.mark.parametrize("gap, closed", [(2, True), (10, False)])
def test_a_small_gap_is_closed_and_a_wide_one_is_not(gap, closed):
    labels = segment(line_darkness(box_drawing(gap=gap))).labels
    assert (labels[128, 128] != labels[10, 10]) == closed


def test_a_thin_region_keeps_its_own_label():
    image = Image.new("RGB", (256, 256), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 40, 216, 216), outline="black", width=2)
    draw.line((40, 120, 216, 120), fill="black", width=2)
    draw.line((40, 124, 216, 124), fill="black", width=2)  # a 2-px stripe between two lines
    labels = segment(line_darkness(np.asarray(image, np.float32) / 255.0)).labels
    stripe, above, below = labels[122, 128], labels[80, 128], labels[170, 128]
    assert len({stripe, above, below}) == 3


def test_each_region_gets_its_dominant_colour_not_a_blend():
    drawing = box_drawing(size=128, box=(32, 32, 96, 96))
    segmentation = segment(line_darkness(drawing))
    network = np.ones((128, 128, 3), np.float32)
    network[34:95, 34:95] = [0.8, 0.1, 0.1]          # the box: red ...
    network[34:50, 34:95] = [0.1, 0.1, 0.8]          # ... with a blue quarter bled in
    for aggregate, expect_red in [("mode", True), ("median", True)]:
        palette = region_palette(segmentation, network, aggregate)
        colour = palette[segmentation.labels[64, 64]]
        np.testing.assert_allclose(colour, [0.8, 0.1, 0.1], atol=0.02)
    blend = region_palette(segmentation, network, "mean")[segmentation.labels[64, 64]]
    assert blend[2] > 0.2  # the Lab mean mixes the two


def test_a_hint_colours_its_whole_region_and_nothing_beyond_the_line():
    drawing = box_drawing()
    segmentation = segment(line_darkness(drawing))
    palette = np.ones((segmentation.count + 1, 3), np.float32)
    rows, cols = np.array([100]), np.array([150])
    palette = apply_hints(palette, segmentation, rows, cols, np.array([[1.0, 0.0, 0.0]]))
    flats = np.round(palette * 255).astype(np.uint8)[segmentation.labels]
    out = compose(flats, drawing)
    inside = segmentation.labels == segmentation.labels[128, 128]
    assert (out[inside & (drawing.min(-1) == 1.0)] == [255, 0, 0]).all()
    outside = segmentation.labels == segmentation.labels[5, 5]
    assert (out[outside & (drawing.min(-1) == 1.0)] == 255).all()


def test_a_hint_on_a_line_decides_no_region():
    segmentation = segment(line_darkness(box_drawing()))
    palette = np.ones((segmentation.count + 1, 3), np.float32)
    on_line = apply_hints(palette, segmentation, np.array([64]), np.array([128]),
                          np.array([[0.0, 0.0, 0.0]]))              # on the box's top side
    np.testing.assert_array_equal(on_line, palette)
    inside = apply_hints(palette, segmentation, np.array([70]), np.array([128]),
                         np.array([[0.0, 0.0, 0.0]]))               # just inside it
    assert (inside[segmentation.labels[128, 128]] == 0).all()


def test_two_hints_in_one_region_the_larger_wins():
    segmentation = segment(line_darkness(box_drawing()))
    palette = np.ones((segmentation.count + 1, 3), np.float32)
    rows = np.array([100, 101, 102, 150])
    cols = np.array([100, 100, 100, 150])
    colours = np.array([[0, 0, 1.0]] * 3 + [[1.0, 0, 0]], np.float32)  # 3 blue pixels, 1 red
    palette = apply_hints(palette, segmentation, rows, cols, colours)
    np.testing.assert_allclose(palette[segmentation.labels[128, 128]], [0, 0, 1])


@pytest.mark.parametrize("scale", [1, 5])   # 1280 px: segmented on a grid of 3-px blocks
def test_open_regions_split_where_the_network_paints_colour(scale):
    drawing = box_drawing(256 * scale, tuple(64 * scale + k * 128 * scale for k in (0, 0, 1, 1)),
                          width=2 * scale, gap=40 * scale)  # wide open: inside is background
    segmentation = segment(line_darkness(drawing))
    assert segmentation.block == (1 if scale == 1 else 3)
    middle, corner, outside = 128 * scale, 5 * scale, 60 * scale
    assert segmentation.labels[middle, middle] == segmentation.labels[corner, corner]
    network = np.ones((128, 128, 3), np.float32)
    network[33:96, 33:96] = [0.2, 0.6, 0.2]  # the network paints the box green
    split = split_open_regions(segmentation, segmentation.open_regions(), network)
    assert split.labels[middle, middle] != split.labels[corner, corner]
    # Just outside the outline stays background: the network's blur does not leak out.
    assert split.labels[middle, outside] == split.labels[corner, corner]
    # and the box's inside is green right up to its outline
    inner = slice(64 * scale + 2 * scale, 192 * scale - 2 * scale)
    assert (split.labels[inner, 64 * scale + 2 * scale] == split.labels[middle, middle]).all()


@pytest.mark.parametrize("scale", [1, 5])   # 1280 px: a 1-px outline inside a 3-px block
def test_a_closed_shape_inside_a_painted_open_region_keeps_no_paper_around_it(scale):
    size, (left, right) = 256 * scale, (100 * scale, 156 * scale)
    box = tuple(64 * scale + k * 128 * scale for k in (0, 0, 1, 1))
    image = Image.fromarray((box_drawing(size, box, width=2 * scale, gap=40 * scale) * 255)
                            .astype(np.uint8))
    ImageDraw.Draw(image).rectangle((left, left, right, right), outline="black", width=1)
    drawing = np.asarray(image, np.float32) / 255.0
    segmentation = segment(line_darkness(drawing))
    network = np.ones((128, 128, 3), np.float32)
    network[33:96, 33:96] = [0.2, 0.6, 0.2]  # the network paints the big box green
    split = split_open_regions(segmentation, segmentation.open_regions(), network)
    green = split.labels[80 * scale, 80 * scale]
    assert green != split.labels[5, 5]
    # The free pixels within 3 px outside the small box's outline are green, not paper.
    ring = np.zeros((size, size), bool)
    ring[left - 3: right + 4, left - 3: right + 4] = True
    ring[left: right + 1, left: right + 1] = False
    ring &= line_darkness(drawing) < 0.5
    assert (split.labels[ring] == green).all()


@pytest.mark.parametrize("scale", [1, 5])
def test_a_ring_the_network_paints_around_a_shape_stays_paper(scale):
    """A network unsure where a shape ends paints a faint ring round it on the paper: a
    piece of colour 4 working pixels wide, so under `CORE` deep, is a halo, not a shape's
    inside."""
    drawing = box_drawing(256 * scale, tuple(64 * scale + k * 128 * scale for k in (0, 0, 1, 1)),
                          width=2 * scale, gap=40 * scale)
    segmentation = segment(line_darkness(drawing))
    corner = 5 * scale
    network = np.ones((128, 128, 3), np.float32)
    network[26:102, 26:102] = [0.95, 0.8, 0.7]     # a peach ring around the box ...
    network[30:98, 30:98] = 1.0                     # ... 4 working pixels wide, 2 clear of lines
    split = split_open_regions(segmentation, segmentation.open_regions(), network)
    assert split.count == segmentation.count
    ring = split.labels[27 * 2 * scale, 128 * scale]
    assert ring == split.labels[corner, corner]     # the ring is paper
    network[26:102, 26:102] = [0.95, 0.8, 0.7]     # the same colour over the box's inside
    split = split_open_regions(segmentation, segmentation.open_regions(), network)
    assert split.labels[128 * scale, 128 * scale] != split.labels[corner, corner]


def test_a_light_grey_the_network_washes_over_the_paper_stays_paper():
    """The hue-head `sketch` washes the paper beside a plain drawing's shapes a light grey:
    a wide, deep piece, but no colour, so not a shape; a light colour as deep is one."""
    drawing = box_drawing(gap=40)
    segmentation = segment(line_darkness(drawing))
    network = np.ones((128, 128, 3), np.float32)
    network[10:118, 10:118] = [0.816, 0.831, 0.831]    # the wash seen beside the face
    split = split_open_regions(segmentation, segmentation.open_regions(), network)
    assert split.count == segmentation.count
    assert split.labels[128, 128] == split.labels[5, 5]
    network[10:118, 10:118] = [0.95, 0.8, 0.7]        # as light, but peach: a shape
    split = split_open_regions(segmentation, segmentation.open_regions(), network)
    assert split.labels[128, 128] != split.labels[5, 5]
    network[10:118, 10:118] = [0.816, 0.831, 0.831]    # the grey again, a hint's blob:
    asked = np.zeros((128, 128), bool)                  # a user's light grey on the paper
    asked[60:68, 60:68] = True
    split = split_open_regions(segmentation, segmentation.open_regions(), network, asked=asked)
    assert split.labels[128, 128] != split.labels[5, 5]


def test_a_drawing_over_1024_px_is_segmented_on_blocks_and_keeps_its_regions():
    image = Image.new("RGB", (1100, 1100), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((200, 200, 900, 900), outline="black", width=2)
    draw.line((200, 500, 900, 500), fill="black", width=2)
    draw.line((200, 504, 900, 504), fill="black", width=2)  # a 2-px stripe: finer than a block
    segmentation = segment(line_darkness(np.asarray(image, np.float32) / 255.0))
    labels = segmentation.labels
    assert segmentation.block == 3 and segmentation.nearest[0].shape == segmentation.coarse.shape
    outside, above, stripe, below = labels[100, 550], labels[350, 550], labels[502, 550], \
        labels[700, 550]
    assert len({outside, above, stripe, below}) == 4
    assert (labels[502, 203:898] == stripe).all()
    # Free pixels right beside a line (in blocks that hold line) stay on their own side.
    assert (labels[202, 203:898] == above).all() and (labels[198, 150:950] == outside).all()
    assert (labels[898, 203:898] == below).all() and (labels[902, 150:950] == outside).all()
    assert (labels[203:498, 202] == above).all() and (labels[507:898, 898] == below).all()


def test_a_light_fleck_inside_an_open_region_takes_the_colour_around_it():
    drawing = box_drawing(gap=40)
    segmentation = segment(line_darkness(drawing))
    network = np.ones((128, 128, 3), np.float32)
    network[33:96, 33:96] = [0.2, 0.6, 0.2]
    network[56:72, 56:72] = 1.0    # a pale fleck, all around it green: not background
    network[33:50, 60:68] = 1.0    # a pale channel out through the gap: background
    split = split_open_regions(segmentation, segmentation.open_regions(), network)
    background, green = split.labels[5, 5], split.labels[80, 80]
    assert green != background
    assert split.labels[128, 128] == green
    assert split.labels[80, 128] == background


def test_a_stroke_hugging_an_outline_does_not_outvote_the_hint_inside():
    segmentation = segment(line_darkness(box_drawing(size=128, box=(32, 32, 96, 96))))
    palette = np.ones((segmentation.count + 1, 3), np.float32)
    hug = np.arange(34, 95)                       # two dark rows along the inside of the top
    rows = np.r_[np.full(len(hug), 34), np.full(len(hug), 35), 64]
    cols = np.r_[hug, hug, 64]
    colours = np.array([[0.1, 0.1, 0.1]] * (2 * len(hug)) + [[1.0, 0.0, 0.0]], np.float32)
    palette = apply_hints(palette, segmentation, rows, cols, colours)
    np.testing.assert_allclose(palette[segmentation.labels[64, 64]], [1, 0, 0])
    alone = apply_hints(np.ones_like(palette), segmentation, rows[:-1], cols[:-1], colours[:-1])
    np.testing.assert_array_equal(alone, 1.0)              # alone, it colours no region either


def test_a_hint_beside_the_lines_of_a_thin_region_still_colours_it():
    image = Image.new("RGB", (128, 128), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 108, 108), outline="black", width=2)
    draw.line((20, 60, 108, 60), fill="black", width=2)
    draw.line((20, 64, 108, 64), fill="black", width=2)   # a 2-px stripe: all beside lines
    segmentation = segment(line_darkness(np.asarray(image, np.float32) / 255.0))
    palette = np.ones((segmentation.count + 1, 3), np.float32)
    palette = apply_hints(palette, segmentation, np.array([62]), np.array([64]),
                          np.array([[0.0, 0.0, 1.0]]))
    np.testing.assert_allclose(palette[segmentation.labels[62, 64]], [0, 0, 1])


def dotted(size=200, ring=False):
    """An outline with dots inside: a body densely sprinkled with them (a ladybird), or,
    with `ring`, a face with a ring of dots drawn around an eye."""
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    draw.ellipse((20, 30, 180, 170), outline="black", width=2)
    if ring:
        dots = [(100 + 30 * np.cos(a), 100 + 30 * np.sin(a))
                for a in np.linspace(0, 2 * np.pi, 24, endpoint=False)]
    else:
        dots = [(x + y // 9 % 2 * 4, y) for y in range(50, 155, 9) for x in range(35, 170, 9)
                if ((x - 100) / 72) ** 2 + ((y - 100) / 62) ** 2 < 1]
    for x, y in dots:
        draw.ellipse((x - 2, y - 2, x + 2, y + 2), fill="black")
    return np.asarray(image)


def test_dots_sprinkled_on_a_region_leave_it_one_region():
    drawing = dotted()
    labels = segment(line_darkness(drawing / 255.0)).labels
    rows, cols = np.mgrid[:200, :200]
    body = (drawing.min(-1) == 255) & (((cols - 100) / 76) ** 2 + ((rows - 100) / 66) ** 2 < 1)
    assert len(np.unique(labels[body])) == 1
    assert labels[100, 100] != labels[5, 5]


def test_a_ring_of_dots_around_an_eye_still_makes_an_eye():
    drawing = dotted(ring=True)
    labels = segment(line_darkness(drawing / 255.0)).labels
    eye, face, paper = labels[100, 100], labels[100, 50], labels[5, 5]
    assert len({eye, face, paper}) == 3
    rows, cols = np.mgrid[:200, :200]
    around = (drawing.min(-1) == 255) & (np.hypot(rows - 100, cols - 100) > 36) & \
        (((cols - 100) / 76) ** 2 + ((rows - 100) / 66) ** 2 < 1)
    assert (labels[around] == face).all()


def shapes(size=(240, 160)):
    """A house (walls and a roof with eaves), a star and a triangle in 2-px lines, and one
    hint (x, y, colour) for each of their four regions."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((16, 80, 64, 132), outline="black", width=2)
    draw.polygon([(8, 80), (40, 48), (72, 80)], outline="black", width=2)
    radii = [28, 11] * 5
    draw.polygon([(176 + r * np.cos(-np.pi / 2 + k * np.pi / 5),
                   48 + r * np.sin(-np.pi / 2 + k * np.pi / 5)) for k, r in enumerate(radii)],
                 outline="black", width=2)
    draw.polygon([(152, 144), (224, 144), (188, 92)], outline="black", width=2)
    hints = [(40, 110, "#d04030"), (40, 70, "#803010"), (176, 48, "#f0d020"),
             (188, 130, "#3070d0")]
    return np.asarray(image), hints


def areas(drawing):
    """The white areas of a drawing (pixels not touched by a line), labelled."""
    from scipy import ndimage

    return ndimage.label(drawing.min(-1) == 255)[0]


def test_corners_and_points_a_ball_cannot_enter_belong_to_their_shape():
    drawing, hints = shapes()
    labels, white = segment(line_darkness(drawing / 255.0)).labels, areas(drawing)
    for x, y, _ in hints:   # the roof's eaves, the star's points, the triangle's corners
        assert (labels[white == white[y, x]] == labels[y, x]).all(), (x, y)


# --- through the Colorizer, with the bundled model --------------------------------------

@pytest.fixture(scope="module")
def colorizer():
    return Colorizer.load()


def test_closed_box_and_a_red_hint_through_the_colorizer(colorizer):
    drawing = (box_drawing() * 255).astype(np.uint8)
    out = np.asarray(colorizer.colorize(drawing, hints=[(150, 100, "#ff0000")]))
    inside_free = np.zeros(drawing.shape[:2], bool)
    inside_free[67:190, 67:190] = True
    assert (out[inside_free] == [255, 0, 0]).all()
    outside = np.ones(drawing.shape[:2], bool)
    outside[60:197, 60:197] = False
    assert not (np.abs(out[outside].astype(int) - [255, 0, 0]).sum(-1) < 60).any()


def test_a_hint_in_the_background_does_not_repaint_the_background(colorizer):
    drawing = (box_drawing() * 255).astype(np.uint8)
    out = np.asarray(colorizer.colorize(drawing, hints=[(20, 20, "#f4eedc")]))  # pale
    assert (out[240:, 240:] == 255).all() and (out[:, 230:] == 255).all()
    inside = np.asarray(colorizer.colorize(drawing, hints=[(150, 100, "#2a7de1")]))
    assert (inside[120, 120] == [0x2a, 0x7d, 0xe1]).all() and (inside[240:, 240:] == 255).all()


def test_a_one_pixel_line_at_1024_px_stays_exactly_as_drawn(colorizer):
    image = Image.new("RGB", (1024, 1024), "white")
    draw = ImageDraw.Draw(image)
    draw.ellipse((200, 200, 824, 824), outline="black", width=1)
    draw.line((100, 512, 924, 512), fill="black", width=1)
    drawing = np.asarray(image)
    for fill in ("regions", "lines"):
        out = np.asarray(colorizer.colorize(drawing, fill=fill))
        line = drawing.min(-1) == 0
        assert (out[line] == 0).all()                      # every line pixel still black
        assert (out[~line].astype(int).sum(-1) > 3 * 40).all()  # and no line redrawn elsewhere
    out = np.asarray(colorizer.colorize(drawing, fill="regions"))
    # No halo: the pixels touching the line have their region's flat colour.
    assert (out[511, 300] == out[480, 300]).all() and (out[513, 300] == out[540, 300]).all()


def test_fill_none_is_the_raw_network_output(colorizer):
    import tensorflow as tf

    # 200 x 140 works at 128 x 90, padded with white to 128 x 96 (a multiple of 32)
    drawing = (box_drawing(size=200)[:, :140] * 255).astype(np.uint8)
    out = np.asarray(colorizer.colorize(drawing, fill="none"))
    small = tf.image.resize(drawing.astype(np.float32) / 255.0, (128, 90), antialias=True)
    padded = np.pad(small.numpy() * 2 - 1, ((0, 0), (0, 6), (0, 0)), constant_values=1.0)
    hints = np.zeros((128, 96, colorizer.model.input_shape[-1] - 3), np.float32)
    raw = colorizer.model(np.concatenate([padded, hints], -1)[None], training=False)[0]
    expected = tf.image.resize((raw[:, :90] + 1) / 2, (200, 140), method="bicubic",
                               antialias=True)
    expected = np.round(np.clip(expected.numpy(), 0, 1) * 255).astype(np.uint8)
    # The same map as tf.image.resize, applied a strip at a time: equal to float rounding.
    assert np.abs(out.astype(int) - expected).max() <= 1 and (out != expected).mean() < 1e-3
    assert not np.array_equal(out, np.asarray(colorizer.colorize(drawing)))


def test_layers_give_the_picture_back(colorizer, tmp_path):
    drawing = (box_drawing() * 255).astype(np.uint8)
    layers = colorizer.colorize(drawing, layers=True)
    assert layers.flats.mode == "RGB" and layers.lines.mode == "RGBA"
    flats = np.asarray(layers.flats)
    # flat: one colour per region, and per piece of the open paper the network painted
    # (the default model tints a few strips beside this box's outline: 6 colours in all)
    assert len(np.unique(flats.reshape(-1, 3), axis=0)) <= 8
    rebuilt = Image.alpha_composite(layers.flats.convert("RGBA"), layers.lines).convert("RGB")
    assert np.abs(np.asarray(rebuilt, int) - np.asarray(layers.image, int)).max() <= 2


def test_fill_is_for_line_art_models():
    gray = Colorizer.load("gray")
    with pytest.raises(ValueError, match=r"fill='regions' is not for a 'gray' model: it takes "
                                         r"\('none',\)"):
        gray.colorize(np.zeros((32, 32), np.uint8), fill="regions")
    with pytest.raises(ValueError, match="layers need flats"):
        gray.colorize(np.zeros((32, 32), np.uint8), layers=True)


@pytest.mark.slow
def test_cli_fill_and_layers(tmp_path):
    import os
    import subprocess
    import sys

    drawing = Image.fromarray((box_drawing() * 255).astype(np.uint8))
    drawing.save(tmp_path / "box.png")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    run = [sys.executable, "-m", "pix2color", "colorize", str(tmp_path / "box.png"), "-o"]
    result = subprocess.run(run + [str(tmp_path / "out"), "--layers", "--hint", "150,100,red"],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["box.flats.png", "box.lines.png", "box.png"]
    assert (np.asarray(Image.open(out / "box.flats.png"))[128, 128] == [255, 0, 0]).all()
    assert Image.open(out / "box.lines.png").mode == "RGBA"
    result = subprocess.run(run + [str(tmp_path / "raw"), "--fill", "none"],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    raw = np.asarray(Image.open(tmp_path / "raw" / "box.png"))
    assert not np.array_equal(raw, np.asarray(Image.open(out / "box.png")))
    result = subprocess.run(run + [str(tmp_path / "gray"), "--model", "gray", "--layers"],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 2 and "line-art" in result.stderr, result.stderr


@pytest.mark.slow
def test_the_default_fill_is_saved_with_the_model(colorizer, tmp_path):
    colorizer.fill = "lines"
    try:
        again = Colorizer.load(colorizer.save(tmp_path / "m"))
    finally:
        colorizer.fill = "regions"
    assert again.fill == "lines"
    drawing = (box_drawing(size=64, box=(16, 16, 48, 48)) * 255).astype(np.uint8)
    assert np.array_equal(np.asarray(again.colorize(drawing)),
                          np.asarray(colorizer.colorize(drawing, fill="lines")))


def test_only_the_lab_mean_converts_the_network_output_to_lab(colorizer, monkeypatch):
    """The mode and the median read sRGB: the Lab conversion of the network's output (0.85 ms
    an image at 128 px) is asked for only when the aggregate is the Lab mean."""
    from pix2color import color

    regions = fill_for(colorizer.task_def, "regions")
    assert [regions.wants_lab(RegionSettings(aggregate=a)) for a in AGGREGATES] == \
        [a == "mean" for a in AGGREGATES]
    drawing = box_drawing(size=64, box=(16, 16, 48, 48))
    prepared, = colorizer.prepare([colorizer.read(drawing)])
    outputs, labs = colorizer.network(prepared.network[None], lab=True)
    np.testing.assert_allclose(labs, color.rgb_to_lab(np.clip((outputs + 1) / 2, 0, 1)),
                               atol=1e-3)
    assert colorizer.network(prepared.network[None])[1] is None   # not asked: not made
    monkeypatch.setattr(color, "rgb_to_lab", lambda rgb: pytest.fail("converted to Lab"))
    segmentation = segment(line_darkness(drawing))
    network = np.full((64, 64, 3), 0.5, np.float32)
    for aggregate in ("mode", "median"):
        region_palette(segmentation, network, aggregate)


def test_one_hint_a_shape_fills_each_to_its_corners_and_leaves_the_paper_white(colorizer):
    drawing, hints = shapes((300, 200))   # with room around them the network paints shadows
    out = np.asarray(colorizer.colorize(drawing, hints=hints))
    white = areas(drawing)
    for x, y, colour in hints:
        shape = out[white == white[y, x]]
        assert (shape == out[y, x]).all() and (out[y, x] == ImageColor.getrgb(colour)).all()
    assert (out[white == white[0, 0]] == 255).all()   # no cloud around the hinted shapes


@pytest.mark.slow
def test_the_same_drawing_with_new_hints_is_not_segmented_again(colorizer, monkeypatch):
    from pix2color import flats

    drawing, hints = shapes()
    drawing, hints = drawing[::-1].copy(), [(x, 159 - y, c) for x, y, c in hints]  # a new one
    fresh = [np.asarray(Colorizer.load().colorize(drawing, hints=h)) for h in (hints, None)]
    calls, segment_once = [], flats.segment
    monkeypatch.setattr(flats, "segment", lambda *a, **k: calls.append(1) or segment_once(*a, **k))
    again = [np.asarray(colorizer.colorize(drawing.copy(), hints=h)) for h in (hints, None)]
    again.append(np.asarray(colorizer.colorize(drawing, hints=hints[:1])))
    assert len(calls) == 1
    for mine, theirs in zip(again, fresh):   # and the same picture as a fresh Colorizer's
        np.testing.assert_array_equal(mine, theirs)
    assert not np.array_equal(again[2], again[0])


def test_a_hint_fills_a_shape_whose_outline_has_a_gap_wider_than_the_ball(colorizer):
    drawing = (box_drawing(size=200, box=(50, 50, 150, 150), gap=10) * 255).astype(np.uint8)
    assert segment(line_darkness(drawing / 255.0)).labels[100, 100] == \
        segment(line_darkness(drawing / 255.0)).labels[5, 5]     # the gap leaves the box open
    out = np.asarray(colorizer.colorize(drawing, hints=[(100, 100, "#2a7de1")]))
    assert (out[52:149, 52:149] == [0x2a, 0x7d, 0xe1]).all()     # the box, to its corners
    assert (out[:40] == 255).all() and (out[160:] == 255).all()  # the paper stays paper



def test_a_dark_stroke_along_a_shapes_outer_outline_paints_no_blob_on_the_paper(colorizer):
    """A stroke traced along the outside of a shape's outline lies, by its labels, on the
    paper, yet it is meant for the outline: it must not have the network's dark blob around
    it painted over the paper."""
    drawing = (box_drawing(size=200, box=(60, 60, 140, 140), width=3) * 255).astype(np.uint8)
    stroke = np.zeros((200, 200, 4), np.uint8)
    stroke[56:60, 56:145] = (20, 20, 20, 255)        # along the top, 1-4 px outside it
    stroke[100:102, 98:102] = (230, 60, 40, 255)     # and a hint inside the box
    out = np.asarray(colorizer.colorize(drawing, hint_image=stroke))
    assert (out[66:136, 66:136] == [230, 60, 40]).all()
    paper = np.ones((200, 200), bool)
    paper[50:150, 50:150] = False
    assert (out[paper] == 255).all()

def test_a_point_beside_the_outline_of_an_open_shape_still_fills_it(colorizer):
    """Points count as on the paper wherever they lie: a click just inside an open box's
    outline (where a stroke's pixels would be beside the line) still finds the box."""
    drawing = (box_drawing(size=200, box=(50, 50, 150, 150), gap=10) * 255).astype(np.uint8)
    out = np.asarray(colorizer.colorize(drawing, hints=[(54, 100, "#2a7de1")]))
    assert (out[60:140, 60:140] == [0x2a, 0x7d, 0xe1]).all()

def test_a_segmentation_coloured_again_takes_the_new_colours():
    """What a segmentation keeps for its palette (where it samples each region, its regions
    too small for the sampling grid) is the regions' alone: coloured again from another
    network output, it gives the palette a segmentation made afresh gives."""
    from pix2color.regions import Segmentation

    image = Image.new("RGB", (600, 400), "white")
    ImageDraw.Draw(image).rectangle((50, 50, 300, 300), outline="black", width=3)
    darkness = line_darkness(np.asarray(image) / 255.0)

    def segmented():   # with a one-pixel region between the sampling grid's points
        made = segment(darkness)
        labels = made.labels.copy()
        labels[0, 0] = made.count + 1
        return Segmentation(labels, made.count + 1, made.free, made.coarse, made.block,
                            made.nearest, made.gap)

    kept, rng = segmented(), np.random.default_rng(0)
    for aggregate in AGGREGATES:
        for _ in range(2):
            network = rng.random((85, 128, 3)).astype(np.float32)
            palette = region_palette(kept, network, aggregate)
            np.testing.assert_array_equal(palette, region_palette(segmented(), network,
                                                                  aggregate))
            np.testing.assert_array_equal(palette[-1], network[0, 0])
