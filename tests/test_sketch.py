"""Line extraction (XDoG), `pix2color pairs`, and training on lines extracted on the fly."""

import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, ImageDraw

from pix2color.data import danbooru_pairs, paired_dataset
from pix2color.sketch import random_lines, thicken, xdog


def flat_picture(size=64, fill=(120, 180, 230), outline=(40, 40, 40)):
    """A flat light-blue square on white, outlined as an illustration is: edges only at
    the square's border."""
    image = Image.new("RGB", (size, size), "white")
    ImageDraw.Draw(image).rectangle([16, 16, 47, 47], fill=fill, outline=outline)
    return np.asarray(image, np.float32) / 255.0


def test_xdog_draws_binary_lines_at_edges_and_white_where_flat():
    lines = xdog(flat_picture()).numpy()
    assert lines.shape == (64, 64, 3) and np.allclose(lines[..., 0], lines[..., 2])
    gray = lines[..., 0]
    assert np.mean((gray < 0.1) | (gray > 0.9)) > 0.97          # binary-ish
    assert gray[32, 14:19].min() < 0.1 and gray[14:19, 32].min() < 0.1  # a line at the border
    assert gray[24:40, 24:40].min() > 0.9                       # white inside the flat fill
    assert gray[:8].min() > 0.9 and gray[56:].min() > 0.9       # white on the flat background
    assert (gray < 0.5).mean() < 0.15
    # Without an outline, the defaults (tuned on illustrations, which have outlines) leave a
    # faint edge; a stronger sharpening `p` and a higher ink level `epsilon` draw it.
    bare = flat_picture(outline=None)
    assert xdog(bare).numpy()[32, 14:19, 0].min() > 0.5
    assert xdog(bare, p=40.0, epsilon=0.5, phi=50.0).numpy()[32, 14:19, 0].min() < 0.1


def test_soft_lines_are_gray_and_ignore_dark_fills():
    dark = flat_picture(fill=(20, 20, 30))
    hard = xdog(dark).numpy()[..., 0]
    soft = xdog(dark, soft=True).numpy()[..., 0]
    assert hard[24:40, 24:40].max() < 0.25      # the inker's solid dark fill
    assert soft[24:40, 24:40].min() > 0.99      # soft lines: no threshold, flat stays white
    assert soft[32, 14:19].min() < 0.5
    faint = xdog(flat_picture(outline=None), soft=True).numpy()[..., 0]
    assert ((faint > 0.1) & (faint < 0.9)).any()  # grays at a weak edge, like pencil


def test_thicken_and_random_lines():
    lines = xdog(flat_picture())
    assert (thicken(lines).numpy() < 0.5).sum() > (lines.numpy() < 0.5).sum()
    picture = flat_picture()
    first = random_lines(picture, seed=[1, 2]).numpy()
    assert np.array_equal(first, random_lines(picture, seed=[1, 2]).numpy())  # seeded
    others = [random_lines(picture, seed=[1, s]).numpy() for s in range(3, 9)]
    assert any(not np.array_equal(first, other) for other in others)  # fresh per seed
    for image in [first, *others]:
        assert image.shape == (64, 64, 3) and image[24:40, 24:40].min() > 0.9


@pytest.fixture
def colour_pictures(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "pictures"
    for i in range(12):
        image = Image.new("RGB", (48, 40), "white")
        fill = tuple(int(v) for v in rng.integers(60, 256, 3))
        x, y = (int(v) for v in rng.integers(4, 16, 2))
        ImageDraw.Draw(image).ellipse([x, y, x + 22, y + 20], fill=fill, outline="black")
        path = folder / f"set{i % 2}" / f"{i}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path)
    return folder


@pytest.mark.slow
def test_pairs_command_writes_the_danbooru_layout_and_lists_broken_files(colour_pictures,
                                                                           tmp_path):
    (colour_pictures / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    (colour_pictures / "notes.png").write_text("not an image")
    before = {p: hashlib.sha1(p.read_bytes()).hexdigest() for p in colour_pictures.rglob("*.png")}
    out = tmp_path / "pairs"
    result = subprocess.run([sys.executable, "-m", "pix2color", "pairs", str(colour_pictures),
                             str(out), "--size", "32"], capture_output=True, text=True,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), timeout=300)
    assert result.returncode == 1, result.stderr[-2000:]       # done, but some files skipped
    assert "skipped 2 unreadable file(s)" in result.stderr
    assert "broken.png" in result.stderr and "notes.png" in result.stderr
    assert "Traceback" not in result.stderr
    pairs, unmatched = danbooru_pairs(out)                       # the trainer's own reader
    assert len(pairs) == 12 and not unmatched
    sketch, colour = (Image.open(p) for p in pairs[0])
    assert sketch.size == colour.size == (32, 27)                # longer side 32, aspect kept
    lines = np.asarray(sketch.convert("RGB")).astype(int)
    assert (lines.max(-1) - lines.min(-1)).max() == 0            # black and white, no colour
    assert (lines < 128).any() and (lines > 250).mean() > 0.5
    after = {p: hashlib.sha1(p.read_bytes()).hexdigest() for p in colour_pictures.rglob("*.png")}
    assert after == before                                       # inputs untouched


@pytest.mark.slow
def test_training_on_lines_extracted_on_the_fly(colour_pictures, tmp_path):
    from pix2color.data import colour_images
    from pix2color.train import TrainConfig, Trainer

    pairs = colour_images(colour_pictures)
    inputs, targets, _ = next(iter(paired_dataset(pairs, size=32, batch_size=4, training=True,
                                                  extract_lines=True)))
    inputs, targets = inputs.numpy(), targets.numpy()
    assert np.allclose(inputs[..., 0], inputs[..., 1])           # line art: no colour
    assert (inputs > 0.8).mean() > 0.6 and (inputs < -0.5).any()  # mostly white, some ink
    assert np.abs(targets[..., 0] - targets[..., 2]).max() > 0.2  # the target is in colour
    config = TrainConfig(extract_lines=True, size=32, width=4, disc_width=4, batch_size=4,
                         max_steps=3, epochs=2, precision="float32", log_every=1)
    trainer = Trainer(config, pairs[:8], pairs[8:], logdir=tmp_path / "runs", run_name="xdog")
    metrics = trainer.fit()
    assert int(trainer.step) == 3 and np.isfinite(metrics["l1"])
    assert (trainer.run_dir / "model" / "generator.keras").exists()
    with pytest.raises(ValueError, match="extract_lines"):
        TrainConfig(task="gray", extract_lines=True)
