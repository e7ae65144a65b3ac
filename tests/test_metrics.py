import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from pix2color.evaluate import evaluate, markdown_table
from pix2color.metrics import (colourfulness, mean_ciede2000, network_or_uint8_to_unit, psnr,
                               ssim, summarize)


def test_scales():
    to_unit = network_or_uint8_to_unit
    np.testing.assert_allclose(to_unit(np.array([0, 255], np.uint8)).numpy(), [0, 1])
    np.testing.assert_allclose(to_unit(np.array([-1.0, 1.0], np.float32)).numpy(), [0, 1])


def test_colourfulness_of_gray_is_zero_and_of_a_known_image_matches_by_hand():
    gray = np.full((1, 8, 8, 3), 120, np.uint8)
    assert float(colourfulness(gray)[0]) == pytest.approx(0.0, abs=1e-4)
    image = np.zeros((1, 2, 2, 3), np.uint8)
    image[0, 0, :] = [255, 0, 0]    # red:  rg = 255, yb = 127.5
    image[0, 1, :] = [0, 0, 255]    # blue: rg = 0,   yb = -255
    rg = np.array([255, 255, 0, 0], float)
    yb = np.array([127.5, 127.5, -255, -255])
    by_hand = np.sqrt(rg.var() + yb.var()) + 0.3 * np.sqrt(rg.mean() ** 2 + yb.mean() ** 2)
    assert float(colourfulness(image)[0]) == pytest.approx(by_hand, rel=1e-5)


def test_psnr_ssim_ciede_on_identical_and_different_images():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (2, 16, 16, 3), np.uint8)
    assert float(mean_ciede2000(a, a)[0]) == pytest.approx(0.0, abs=1e-3)
    assert float(ssim(a, a)[0]) == pytest.approx(1.0)
    assert float(psnr(a, a)[0]) == 60.0  # capped, not infinite
    b = np.clip(a.astype(int) + 20, 0, 255).astype(np.uint8)
    assert 10 < float(psnr(b, a)[0]) < 40
    assert float(mean_ciede2000(b, a)[0]) > 1.0


def test_foreground_ciede2000_ignores_white_background():
    target = np.full((1, 8, 8, 3), 255, np.uint8)
    target[0, :2, :2] = [200, 30, 30]
    output = target.copy()
    output[0, :2, :2] = [30, 30, 200]                       # wrong colour on the subject only
    whole = float(mean_ciede2000(output, target)[0])
    foreground = float(mean_ciede2000(output, target, foreground_only=True)[0])
    assert foreground == pytest.approx(whole * 16, rel=1e-4)


def test_summarize_makes_the_colourfulness_ratio():
    means = summarize({"colourfulness": [np.array([10.0, 20.0])],
                       "target_colourfulness": [np.array([30.0, 30.0])]})
    assert means == {"colourfulness": 15.0, "colourfulness_ratio": 0.5}


@pytest.mark.slow
def test_evaluate_two_tiny_models_and_baselines_writes_table_and_grid(tmp_path):
    from conftest import make_pair_tree

    from pix2color.data import find_pairs, split_pairs
    from pix2color.train import TrainConfig, Trainer

    tree = make_pair_tree(tmp_path / "data", count=40)
    pairs = find_pairs(tree / "sketch", tree / "src")[0]
    splits = split_pairs(pairs, 0.2, 0.2)
    models = []
    for mode in ("l1", "mse"):
        trainer = Trainer(TrainConfig(mode=mode, size=32, width=4, batch_size=8, epochs=1,
                                      precision="float32"), splits["train"],
                          logdir=tmp_path / "runs", run_name=mode)
        trainer.fit()
        models.append(str(trainer.run_dir / "model"))
    rows = evaluate(models + ["identity", "mean-colour"], splits["test"], splits["train"],
                    batch_size=4, grid_path=tmp_path / "grid.png", grid_rows=3)
    assert [r["model"] for r in rows] == models + ["identity", "mean-colour"]
    identity = rows[2]
    assert identity["colourfulness"] == pytest.approx(0.0, abs=0.5)  # line art has no colour
    assert rows[3]["colourfulness_ratio"] < 0.5 and all(r["images_per_second"] > 0 for r in rows)
    table = markdown_table(rows)
    assert table.count("\n") == 5 and "CIEDE2000" in table
    grid = Image.open(tmp_path / "grid.png")
    assert grid.size == (128 * 6, 14 + 128 * 3)          # a header row names the columns

    # The same through the command line, on the trainer's split of the folder.
    result = subprocess.run([sys.executable, "-m", "pix2color", "evaluate", models[0],
                             "identity", "--data", tree, "--val-fraction", "0.2",
                             "--test-fraction", "0.2", "--out", tmp_path / "report.md"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    report = (tmp_path / "report.md").read_text()
    assert f"{len(splits['test'])} images: test split" in report and "| identity |" in report
    assert (tmp_path / "report.png").exists()
