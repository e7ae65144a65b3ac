"""The `gray` task: grayscale photos -> colour in CIE Lab (L in, ab out)."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pix2color import Colorizer
from pix2color.color import rgb_to_lab
from pix2color.data import colour_images, paired_dataset
from pix2color.train import TrainConfig, Trainer

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def colour_folder(tmp_path_factory):
    from conftest import make_pair_tree

    tree = make_pair_tree(tmp_path_factory.mktemp("gray") / "data", count=24)
    return tree / "src"


def test_gray_pairs_stream_l_and_ab(colour_folder):
    pairs = colour_images(colour_folder)
    assert len(pairs) == 24 and all(a == b for a, b in pairs)
    l_input, ab, _ = next(iter(paired_dataset(pairs, 32, 8, training=True, task="gray")))
    assert l_input.shape == (8, 32, 32, 1) and ab.shape == (8, 32, 32, 2)
    lightness, ab = l_input.numpy()[..., 0], ab.numpy()
    # L / 50 - 1: the white paper is 1 and the black outlines near -1 in every picture
    np.testing.assert_allclose(lightness.max(axis=(1, 2)), 1.0, atol=1e-3)
    assert (lightness.min(axis=(1, 2)) < -0.9).all()
    assert np.abs(ab[lightness > 0.999]).max() < 0.01   # and white has no chroma
    assert 0.05 < float(np.abs(ab).max()) < 1.0  # the shapes are coloured
    with pytest.raises(FileNotFoundError, match="no images found"):
        colour_images(colour_folder / "nothing")


@pytest.mark.slow
@pytest.mark.parametrize("generator, mode, optimizer", [("unet", "l1", "adam"),
                                                        ("unet", "gan", "adam"),
                                                        ("simple_lab", "mse", "rmsprop")])
def test_gray_models_overfit_a_tiny_set(colour_folder, tmp_path, generator, mode, optimizer):
    pairs = colour_images(colour_folder)
    config = TrainConfig(task="gray", generator=generator, mode=mode, optimizer=optimizer,
                         size=32, width=8, depth=3, disc_width=4, batch_size=4,
                         learning_rate=2e-3, precision="float32")
    trainer = Trainer(config, pairs, logdir=tmp_path, run_name="gray")
    inputs, targets, _ = next(iter(paired_dataset(pairs[:4], 32, 4, task="gray")))
    key = "g_mse" if mode == "mse" else "g_l1"
    first = trainer.train_step(inputs, targets)[key]
    for _ in range(100):
        last = trainer.train_step(inputs, targets)[key]
    assert last < first / 3, (first, last)


@pytest.fixture(scope="module")
def gray_model(colour_folder, tmp_path_factory):
    pairs = colour_images(colour_folder)
    trainer = Trainer(TrainConfig(task="gray", mode="l1", size=32, width=8, depth=3,
                                  batch_size=8, epochs=2, learning_rate=2e-3,
                                  precision="float32"),
                      pairs[:16], pairs[16:], logdir=tmp_path_factory.mktemp("runs"),
                      run_name="gray")
    metrics = trainer.fit()
    assert {"ciede2000", "colourfulness_ratio"} <= set(metrics)
    return trainer.run_dir / "model"


@pytest.mark.slow
def test_gray_colorizer_keeps_the_inputs_lightness_and_size(gray_model):
    colorizer = Colorizer.load(gray_model)
    assert (colorizer.task, colorizer.colour_space) == ("gray", "lab")
    rng = np.random.default_rng(1)
    photo = np.kron(rng.integers(0, 256, (12, 20, 3)), np.ones((15, 15, 1))).astype(np.uint8)
    photo = photo[:177, :300]
    for kwargs in ({}, {"render_size": 64}, {"saturation": 2.0}):
        out = colorizer.colorize(photo, **kwargs)
        assert out.size == (300, 177)
        l_in = rgb_to_lab(photo / 255.0).numpy()[..., 0]
        l_out = rgb_to_lab(np.asarray(out) / 255.0).numpy()[..., 0]
        assert np.abs(l_out - l_in).max() < 1.0 and np.abs(l_out - l_in).mean() < 0.3
    gray = Image.fromarray(photo).convert("L")
    assert colorizer.colorize(gray).size == (300, 177)


@pytest.mark.slow
def test_reproduce_baseline_runs_end_to_end(colour_folder, tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "reproduce_baseline.py"), "--data",
         str(colour_folder), "--epochs", "2", "--size", "32", "--width", "4", "--batch-size",
         "8", "--precision", "float32", "--logdir", str(tmp_path / "runs"), "--out",
         str(tmp_path / "report.md")], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = (tmp_path / "report.md").read_text()
    for name in ("post-baseline", "pix2color-gan", "identity (gray)", "mean-colour"):
        assert f"| {name} |" in report
    assert (tmp_path / "report.png").exists()
    post = Colorizer.load(tmp_path / "runs" / "post-baseline" / "model")
    assert post.info.generator["kind"] == "simple_lab"
    assert post.info.training["config"]["optimizer"] == "rmsprop"
