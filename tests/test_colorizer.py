import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from pix2color import Colorizer
from pix2color.colorizer import ImageReadError
from pix2color.data import find_pairs
from pix2color.modelfile import ModelFileError
from pix2color.train import TrainConfig, Trainer


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from conftest import make_pair_tree

    root = tmp_path_factory.mktemp("tiny")
    tree = make_pair_tree(root / "data", count=16)
    pairs = find_pairs(tree / "sketch", tree / "src")[0]
    config = TrainConfig(mode="l1", size=32, width=4, batch_size=8, epochs=1,
                         precision="float32", learning_rate=2e-3)
    trainer = Trainer(config, pairs, pairs[:4], logdir=root / "runs", run_name="tiny")
    trainer.fit()
    return trainer.run_dir / "model"


@pytest.fixture(scope="module")
def colorizer(tiny_model):
    return Colorizer.load(tiny_model)


def sketch(width, height, mode="RGB"):
    image = Image.new("RGB", (width, height), "white")
    pixels = np.asarray(image).copy()
    pixels[height // 3, :] = 0
    pixels[:, width // 2] = 0
    return Image.fromarray(pixels).convert(mode)


@pytest.mark.slow
def test_save_and_reload_gives_identical_output(colorizer, tmp_path):
    image = sketch(40, 24)
    before = np.asarray(colorizer.colorize(image))
    colorizer.save(tmp_path / "copy")
    again = Colorizer.load(tmp_path / "copy")
    np.testing.assert_array_equal(before, np.asarray(again.colorize(image)))
    assert (again.task, again.size, again.colour_space) == ("sketch", 32, "rgb")
    half = Colorizer.load(colorizer.save(tmp_path / "half", weights_dtype="float16"))
    assert half.model.weights[0].dtype == "float32"
    assert np.abs(np.asarray(half.colorize(image), int) - before).max() <= 3
    np.testing.assert_array_equal(before, np.asarray(colorizer.colorize(image)))  # deterministic


@pytest.mark.parametrize("size", [(300, 177), (177, 300), (1, 1), (10000, 1), (33, 31)])
def test_output_has_the_inputs_size(colorizer, size):
    assert colorizer.colorize(sketch(*size)).size == size


@pytest.mark.parametrize("mode", ["1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16", "I", "F"])
def test_every_pillow_mode(colorizer, mode):
    image = sketch(30, 20, "L" if mode in ("I;16", "I", "F") else mode)
    if mode in ("I;16", "I"):
        image = Image.fromarray(np.asarray(image).astype(np.uint16) * 257)
        image = image if mode == "I;16" else image.convert("I")
    if mode == "F":
        image = Image.fromarray(np.asarray(image).astype(np.float32) / 255.0, "F")
    out = colorizer.colorize(image)
    assert out.size == (30, 20)
    assert out.mode == ("RGBA" if mode in ("LA", "RGBA") else "RGB")


def test_16_bit_input_matches_8_bit(colorizer):
    eight = sketch(32, 32, "L")
    sixteen = Image.fromarray(np.asarray(eight).astype(np.uint16) * 257)
    assert sixteen.mode.startswith("I;16")
    np.testing.assert_array_equal(np.asarray(colorizer.colorize(eight)),
                                  np.asarray(colorizer.colorize(sixteen)))


@pytest.mark.parametrize("shape", [(20, 30), (20, 30, 1), (20, 30, 3), (20, 30, 4)])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_numpy_arrays(colorizer, shape, dtype):
    array = np.ones(shape, dtype) * (255 if dtype == np.uint8 else 1.0)
    out = colorizer.colorize(array.astype(dtype))
    assert out.size == (30, 20)


def test_alpha_is_kept(colorizer):
    image = sketch(30, 20, "RGBA")
    alpha = np.zeros((20, 30), np.uint8)
    alpha[5:15, 5:25] = 255
    image.putalpha(Image.fromarray(alpha))
    out = colorizer.colorize(image)
    assert out.mode == "RGBA"
    np.testing.assert_array_equal(np.asarray(out)[..., 3], alpha)


def test_palette_with_transparency_and_exif_rotation(colorizer, tmp_path):
    palette = sketch(30, 20).convert("P")
    palette.info["transparency"] = 0
    assert colorizer.colorize(palette).mode == "RGBA"
    rotated = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    sketch(40, 20).save(rotated, exif=exif)
    assert colorizer.colorize(rotated).size == (20, 40)
    assert colorizer.colorize(str(rotated)).size == (20, 40)


def test_saturation_scales_chroma(colorizer):
    image = sketch(32, 32)
    gray = np.asarray(colorizer.colorize(image, saturation=0.0)).astype(int)
    assert (gray.max(-1) - gray.min(-1)).max() <= 1
    normal = np.asarray(colorizer.colorize(image)).astype(int)
    vivid = np.asarray(colorizer.colorize(image, saturation=2.0)).astype(int)
    spread = lambda a: (a.max(-1) - a.min(-1)).mean()  # noqa: E731
    assert spread(vivid) > spread(normal) > 0


def test_batch_matches_one_by_one(colorizer):
    images = [sketch(30, 20), sketch(64, 64), sketch(30, 20, "L"), sketch(7, 50)]
    batch = colorizer.colorize_batch(images, batch_size=2)
    for image, out in zip(images, batch):
        np.testing.assert_array_equal(np.asarray(out), np.asarray(colorizer.colorize(image)))


def test_bad_inputs_give_clear_errors(colorizer, tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("hello")
    with pytest.raises(ImageReadError, match="notes.png: not an image"):
        colorizer.colorize(text)
    truncated = tmp_path / "cut.png"
    buffer = io.BytesIO()
    sketch(64, 64).save(buffer, "PNG")
    truncated.write_bytes(buffer.getvalue()[:100])
    with pytest.raises(ImageReadError, match="cut.png"):
        colorizer.colorize(truncated)
    with pytest.raises(ImageReadError, match="missing.png: no such file"):
        colorizer.colorize(tmp_path / "missing.png")
    with pytest.raises(ImageReadError, match="dtype"):
        colorizer.colorize(np.zeros((4, 4), np.int64))


def test_loading_something_that_is_not_a_model(tmp_path, tiny_model):
    with pytest.raises(FileNotFoundError, match="no model at"):
        Colorizer.load(tmp_path / "nothing")
    (tmp_path / "folder").mkdir()
    with pytest.raises(ModelFileError, match="is not a pix2color model"):
        Colorizer.load(tmp_path / "folder")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "generator.keras").write_bytes(b"PK not really a zip")
    (broken / "pix2color.json").write_text((tiny_model / "pix2color.json").read_text())
    with pytest.raises(ModelFileError, match="not a Keras model file"):
        Colorizer.load(broken)
    (broken / "pix2color.json").write_text('{"format": "something else"}')
    with pytest.raises(ModelFileError, match="does not describe a pix2color model"):
        Colorizer.load(broken)


def test_bundled_model_loads_offline_and_colours_a_sketch():
    from pathlib import Path

    colorizer = Colorizer.load()
    assert colorizer.task == "sketch" and colorizer.size == 128
    sample = Path(__file__).parent.parent / "examples" / "sketch.png"
    out = np.asarray(colorizer.colorize(sample)).astype(int)
    assert out.shape[:2] == np.asarray(Image.open(sample)).shape[:2]
    chroma = out.max(-1) - out.min(-1)
    assert (chroma > 40).mean() > 0.05  # a real colouring, not gray lines


def test_a_model_file_cannot_run_code(tmp_path, tiny_model):
    import keras

    inputs = keras.Input((None, None, 3))
    outputs = keras.layers.Lambda(lambda x: x * 0.0)(inputs)
    folder = tmp_path / "lambda"
    folder.mkdir()
    keras.Model(inputs, outputs).save(folder / "generator.keras")
    (folder / "pix2color.json").write_text((tiny_model / "pix2color.json").read_text())
    with pytest.raises(ModelFileError, match="cannot load"):
        Colorizer.load(folder)


@pytest.mark.parametrize("change, message", [
    (lambda i: i["generator"].update(args=[1, 2]), "generator.args must be an object"),
    (lambda i: i["generator"].update(args=None), "generator.args must be an object"),
    (lambda i: i["generator"]["args"].update(colour=1), "unknown unet argument 'colour'"),
    (lambda i: i["generator"]["args"].update(width=2048), "width = 2048 is not in 1..1024"),
    (lambda i: i["generator"]["args"].update(depth=70), "depth = 70 is not in 1..8"),
    (lambda i: i["generator"]["args"].update(width="4"), "width must be a int"),
    (lambda i: i["generator"]["args"].update(norm="magic"), "norm = 'magic' is not one of"),
    (lambda i: i.update(size=200000), "invalid working size 200000"),
    (lambda i: i.update(hints="yes"), "hints must be true or false"),
    (lambda i: i.update(colour="red"), r"unknown keys \['colour'\]"),
    (lambda i: i.pop("size"), r"missing keys \['size'\]"),
    (lambda i: i.update(colour_space="lab"), "a 'sketch' model works in rgb"),
    (lambda i: i.update(fill="magic"), "fill must be one of"),
    (lambda i: i.update(fill_settings=[]), "fill_settings must be a dict"),
    (lambda i: i.update(fill_settings={"regions": {"aggregate": "magic"}}),
     "region fill aggregate must be one of"),
    (lambda i: i.update(fill_settings={"regions": {"gap": 1.5}}), "gap must be empty or"),
    (lambda i: i.update(fill_settings={"regions": {"colour": 1}}),
     r"unknown regions fill settings \['colour'\]"),
    (lambda i: i.update(fill_settings={"magic": {}}), r"fill settings for \['magic'\]"),
    (lambda i: i.update(training=[]), "training must be a dict"),
])
def test_model_descriptions_are_checked_field_by_field(tiny_model, tmp_path, change, message):
    import json
    import shutil

    folder = tmp_path / "model"
    shutil.copytree(tiny_model, folder)
    info = json.loads((folder / "pix2color.json").read_text())
    change(info)
    (folder / "pix2color.json").write_text(json.dumps(info))
    with pytest.raises(ModelFileError, match=message):
        Colorizer.load(folder)


def test_deeply_nested_or_huge_descriptions_and_archive_bombs_are_refused(tiny_model, tmp_path):
    import shutil
    import zipfile

    folder = tmp_path / "model"
    shutil.copytree(tiny_model, folder)
    (folder / "pix2color.json").write_text("[" * 100000 + "]" * 100000)
    with pytest.raises(ModelFileError, match="not valid JSON|bytes: not a pix2color"):
        Colorizer.load(folder)
    (folder / "pix2color.json").write_text(" " * 2_000_000 + "{}")
    with pytest.raises(ModelFileError, match="not a pix2color model description"):
        Colorizer.load(folder)
    shutil.copy(tiny_model / "pix2color.json", folder / "pix2color.json")
    with zipfile.ZipFile(folder / "generator.keras", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", "{" + " " * 50_000_000 + "}")  # 50 MB from ~50 KB
    assert (folder / "generator.keras").stat().st_size < 1_000_000
    with pytest.raises(ModelFileError, match="would unpack to"):
        Colorizer.load(folder)


@pytest.mark.slow
def test_an_input_that_looks_wrong_for_the_model_says_so(tmp_path):
    import warnings

    from pix2color import InputWarning

    root = Path(__file__).parent.parent
    noise = np.random.default_rng(0).normal(size=(12, 12, 3))
    noise = (noise - noise.min()) / (noise.max() - noise.min())
    Image.fromarray(np.uint8(noise * 255)).resize((300, 200), Image.BICUBIC).save(
        tmp_path / "photo.png")  # smooth, all mid-tones: photo-like
    sketch, gray = Colorizer.load("sketch"), Colorizer.load("gray")
    with pytest.warns(InputWarning, match="photo.png looks like a photo.*--model gray"):
        sketch.colorize(tmp_path / "photo.png")
    with pytest.warns(InputWarning, match="sketch.png looks like line art.*--model sketch"):
        gray.colorize(root / "examples" / "sketch.png")
    for call in (lambda: sketch.colorize(tmp_path / "photo.png"),
                 lambda: sketch.colorize_batch([tmp_path / "photo.png"])):
        with pytest.warns(InputWarning) as record:
            call()
        assert record[0].filename == __file__   # the warning points at the user's own line
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputWarning)   # the right input: no warning
        sketch.colorize(root / "examples" / "sketch.png")
        gray.colorize(tmp_path / "photo.png")


def test_a_colour_drawing_given_to_the_line_art_model_says_so(tmp_path):
    import warnings

    from pix2color import InputWarning

    art = Image.new("RGB", (200, 160), "white")
    draw = ImageDraw.Draw(art)
    draw.ellipse((30, 20, 170, 140), fill=(230, 60, 40), outline="black", width=3)
    draw.rectangle((80, 60, 120, 100), fill=(40, 120, 220), outline="black", width=3)
    art.save(tmp_path / "emoji.png")
    lines = Image.new("RGB", (200, 160), "white")
    ImageDraw.Draw(lines).ellipse((30, 20, 170, 140), outline="black", width=3)
    tinted = Image.blend(lines, Image.new("RGB", lines.size, (250, 240, 215)), 0.6)  # old paper
    sketch = Colorizer.load("sketch")
    with pytest.warns(InputWarning, match="emoji.png is already in colour.*pix2color pairs"):
        sketch.colorize(tmp_path / "emoji.png")
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputWarning)   # lines, even on tinted paper: no warning
        sketch.colorize(lines)
        sketch.colorize(tinted)
        Colorizer.load("gray").colorize(tmp_path / "emoji.png")  # gray takes colour pictures


def test_small_images_finished_on_threads_equal_one_at_a_time(colorizer, tmp_path):
    from conftest import make_pair_tree

    from pix2color.batching import Batching

    tree = make_pair_tree(tmp_path / "data", count=6, size=48)
    drawings = sorted((tree / "sketch").rglob("*.png")) + [sketch(40, 24), sketch(64, 64)]
    try:
        for fill in ("regions", "none"):
            colorizer.batching = Batching(threads=2)
            threaded = colorizer.colorize_batch(drawings, 8, fill=fill)
            colorizer.batching = Batching(parallel_pixels=0)    # one image after another
            serial = colorizer.colorize_batch(drawings, 8, fill=fill)
            assert [np.asarray(a).tolist() for a in threaded] == \
                [np.asarray(b).tolist() for b in serial]
    finally:
        colorizer.batching = Batching()


def test_several_small_pictures_are_finished_on_threads_in_order():
    import threading

    from pix2color.batching import Batching

    batching = Batching(parallel_pixels=100, threads=2)

    def where(job):
        return job, threading.current_thread().name

    done = batching.finish_all(list(range(6)), where, pixels=lambda job: 100)
    assert [job for job, _ in done] == list(range(6))
    assert all(name.startswith("pix2color-finish") for _, name in done)
    here = threading.current_thread().name
    for jobs, pixels in (([1, 2], 101), ([1], 1)):   # one large image, or only one
        assert batching.finish_all(jobs, where, lambda job: pixels) == [(j, here) for j in jobs]


def test_network_inputs_made_together_equal_made_one_at_a_time():
    """A batch of same-size images makes its network inputs together (large ones one at a
    time), each with its own hints, and the results equal making them one at a time."""
    from pix2color.batching import Batching

    colorizer = Colorizer.load("sketch")
    images = [sketch(96, 64), sketch(96, 64), sketch(96, 64), sketch(50, 80)]
    hints = [[(10, 10, "red")], None, [(70, 50, "#0000ff"), (5, 60, "green")], None]
    pictures = [colorizer.read(image, hints=hint) for image, hint in zip(images, hints)]
    together = colorizer.prepare(pictures)
    assert [p.picture for p in together] == pictures
    assert colorizer.prepare(together) == together     # prepared ones pass as they are
    for one, picture in zip(together, pictures):
        alone, = colorizer.prepare([picture])
        np.testing.assert_array_equal(one.network, alone.network)
    assert [bool(p.network[..., -1].any()) for p in together] == [True, False, True, False]
    batched = colorizer.colorize_batch(images, 8, hints=hints, fill="none")
    colorizer.batching = Batching(batched_input_pixels=0)   # every image is "large" now
    apart = colorizer.colorize_batch(images, 8, hints=hints, fill="none")
    for one, other in zip(batched, apart):
        np.testing.assert_array_equal(np.asarray(one), np.asarray(other))
    assert not np.array_equal(np.asarray(batched[0]), np.asarray(batched[1]))  # the hint


@pytest.mark.slow
def test_average_of_models_is_the_mean_of_their_weights(tiny_model, tmp_path, capsys):
    from pix2color.cli import main

    shifted = Colorizer.load(tiny_model)
    shifted.model.set_weights([w + 1.0 for w in shifted.model.get_weights()])
    shifted.save(tmp_path / "shifted")
    assert main(["average", str(tiny_model), str(tmp_path / "shifted"),
                 "-o", str(tmp_path / "soup")]) == 0
    soup = Colorizer.load(tmp_path / "soup")
    for mean, original in zip(soup.model.get_weights(),
                              Colorizer.load(tiny_model).model.get_weights()):
        np.testing.assert_allclose(mean, original + 0.5, rtol=1e-6, atol=1e-6)
    assert [m["model"] for m in soup.info.training["average_of"]] == ["model", "shifted"]
    assert soup.colorize(sketch(40, 30)).size == (40, 30)
    main(["info", str(tmp_path / "soup")])
    assert "average of model, shifted" in capsys.readouterr().out
    Colorizer.average([tmp_path / "soup", tiny_model]).save(tmp_path / "soup2")
    main(["info", str(tmp_path / "soup2")])        # an average of an average
    shown = capsys.readouterr().out
    assert "average of soup (average of model, shifted), model" in shown
    assert "mode: ?" not in shown and "trained on:  {}" not in shown
    with pytest.raises(ModelFileError, match="not the same network"):
        Colorizer.average([tiny_model, "gray"])
    assert main(["average", str(tiny_model), "gray", "-o", str(tmp_path / "bad")]) == 2
    assert not (tmp_path / "bad").exists()


@pytest.mark.parametrize("kind, args, multiple", [("unet", {"depth": 3, "width": 4}, 8),
                                                  ("unet", {"depth": 5, "width": 4}, 32),
                                                  ("simple_lab", {}, 8)])
def test_the_input_multiple_is_read_off_the_network(kind, args, multiple):
    """Inputs are padded to what the network's strides need, whatever its arguments say."""
    from pix2color.models import generator
    from pix2color.pipeline import input_multiple

    model = generator(kind, size=None, **args)
    assert input_multiple(model) == multiple
    channels = int(model.input_shape[-1])
    assert model(np.zeros((1, multiple * 3, multiple * 2, channels), np.float32)).shape[1:3] \
        == (multiple * 3, multiple * 2)


def test_colouring_a_drawing_again_with_new_hints_gives_what_a_fresh_colorizer_gives():
    """What a Colorizer keeps between strokes (the network input, the segmentation, the
    shapes found behind an outline's gap, the palette's sampling) changes no picture: each
    set of hints, painted after others on the same drawing, gives exactly the picture (and
    layers) a Colorizer that never saw the drawing gives."""
    painter = Colorizer.load("sketch")
    image = Image.new("RGB", (160, 120), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 20, 70, 100), outline="black", width=2)
    draw.rectangle((95, 20, 150, 100), outline="black", width=2)
    drawing = np.asarray(image).copy()
    drawing[20:22, 119:131] = 255   # the right box is open at the top, wider than the
    # trapped ball closes: a hint in it finds it with larger balls

    def stroke(box, colour):
        layer = np.zeros((120, 160, 4), np.uint8)
        layer[box[1]: box[3], box[0]: box[2]] = (*colour, 255)
        return layer

    strokes = [dict(hint_image=stroke((110, 50, 130, 56), (30, 90, 220))),  # the open box
               dict(hints=[(40, 60, "#d04030")]),
               dict(),
               dict(hint_image=stroke((110, 50, 130, 56), (30, 90, 220))),  # as before
               dict(hint_image=stroke((20, 40, 60, 44), (250, 200, 0)),
                    hints=[(120, 70, "#3cb44b")]),
               dict(hint_image=stroke((110, 50, 130, 56), (30, 90, 220)), layers=True)]
    for given in strokes:
        again = painter.colorize(drawing, **given)
        fresh = Colorizer(painter.model, painter.info).colorize(drawing, **given)
        for mine, theirs in zip(*(p if given.get("layers") else [p] for p in (again, fresh))):
            np.testing.assert_array_equal(np.asarray(mine), np.asarray(theirs))
    first, second = (np.asarray(painter.colorize(drawing, **given)) for given in strokes[:2])
    assert (first[60, 120] == (30, 90, 220)).all() and (second[60, 40] == (208, 64, 48)).all()
    batch = painter.colorize_batch([drawing] * 3, hints=[None, [(40, 60, "#d04030")], None],
                                   hint_images=[strokes[0]["hint_image"], None, None])
    for mine, given in zip(batch, (strokes[0], strokes[1], {})):
        fresh = Colorizer(painter.model, painter.info).colorize(drawing, **given)
        np.testing.assert_array_equal(np.asarray(mine), np.asarray(fresh))
