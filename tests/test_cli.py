import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

ROOT = Path(__file__).parent.parent


def run(*args, cwd=None):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=600)


@pytest.mark.slow
def test_danbooru_example_trains_and_logs(pair_tree, tmp_path):
    kaggle = tmp_path / "danbooru-sketch-pair-128x"
    kaggle.mkdir()
    pair_tree.rename(kaggle / "color")
    result = run(ROOT / "examples" / "train_danbooru.py", "--data", kaggle, "--steps", 3,
                 "--width", 4, "--size", 32, "--batch-size", 4, "--precision", "float32",
                 "--logdir", tmp_path / "runs", "--run-name", "example", "--mode", "gan",
                 "--log-every", 1)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "tensorboard --logdir" in result.stdout and "24 pairs" in result.stdout
    events = EventAccumulator(str(tmp_path / "runs" / "example" / "train"),
                              size_guidance={"tensors": 0})
    events.Reload()
    tags = set(events.Tags()["tensors"])
    assert {"loss/g_l1", "loss/g_adversarial", "loss/d_total", "learning_rate/generator",
            "learning_rate/discriminator"} <= tags
    assert [e.step for e in events.Tensors("loss/g_l1")] == [1, 2, 3]
    validation = EventAccumulator(str(tmp_path / "runs" / "example" / "validation"),
                                  size_guidance={"tensors": 0})
    validation.Reload()
    assert {"metrics/l1", "metrics/psnr", "metrics/ssim", "metrics/ciede2000",
            "metrics/colourfulness_ratio"} <= set(validation.Tags()["tensors"])
    assert (tmp_path / "runs" / "example" / "model" / "generator.keras").exists()

    # `pix2color info` describes the model it wrote; `--resume` picks the run up again.
    info = run("-m", "pix2color", "info", tmp_path / "runs" / "example" / "model")
    assert info.returncode == 0 and "task:        sketch" in info.stdout
    resumed = run(ROOT / "examples" / "train_danbooru.py", "--data", kaggle, "--steps", 4,
                  "--width", 4, "--size", 32, "--batch-size", 4, "--precision", "float32",
                  "--logdir", tmp_path / "runs", "--run-name", "example", "--resume",
                  "--log-every", 1)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "(step 3)" in resumed.stdout
    events.Reload()
    assert [e.step for e in events.Tensors("loss/g_l1")] == [1, 2, 3, 4]


@pytest.mark.slow
def test_example_without_data_explains(tmp_path):
    result = run(ROOT / "examples" / "train_danbooru.py")
    assert result.returncode == 2 and "--data is required" in result.stderr
    result = run(ROOT / "examples" / "train_danbooru.py", "--data", tmp_path)
    assert result.returncode == 2 and "no Danbooru layout" in result.stderr


def test_colorize_folder_skips_broken_files_and_keeps_layout(tmp_path):
    from test_colorizer import sketch

    from pix2color import Colorizer  # noqa: F401  (the model comes from a tiny run below)
    from pix2color.data import find_pairs
    from pix2color.train import TrainConfig, Trainer
    from conftest import make_pair_tree

    tree = make_pair_tree(tmp_path / "data", count=8)
    trainer = Trainer(TrainConfig(mode="l1", size=32, width=4, batch_size=8, epochs=1,
                                  precision="float32"),
                      find_pairs(tree / "sketch", tree / "src")[0], logdir=tmp_path / "runs",
                      run_name="m")
    trainer.fit()
    inputs = tmp_path / "in"
    (inputs / "sub").mkdir(parents=True)
    sketch(30, 20).save(inputs / "a.png")
    sketch(17, 50, "L").save(inputs / "sub" / "b.jpg")
    (inputs / "sub" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    before = {p: p.read_bytes() for p in inputs.rglob("*") if p.is_file()}
    result = run("-m", "pix2color", "colorize", inputs, "-o", tmp_path / "out", "--model",
                 trainer.run_dir / "model", "--batch-size", 2)
    assert result.returncode == 1
    assert "broken.png" in result.stderr and "wrote 2 image(s)" in result.stdout
    assert Image.open(tmp_path / "out" / "a.png").size == (30, 20)
    assert Image.open(tmp_path / "out" / "sub" / "b.png").size == (17, 50)
    assert {p: p.read_bytes() for p in inputs.rglob("*") if p.is_file()} == before
    # Writing into the input folder itself never overwrites an input: a free name, or with
    # --overwrite, a refusal.
    result = run("-m", "pix2color", "colorize", inputs / "a.png", "-o", inputs, "--model",
                 trainer.run_dir / "model")
    assert result.returncode == 0 and f"written as {inputs / 'a-2.png'}" in result.stdout
    result = run("-m", "pix2color", "colorize", inputs / "a.png", "-o", inputs, "--model",
                 trainer.run_dir / "model", "--overwrite")
    assert result.returncode == 1 and "would overwrite an input" in result.stderr
    assert (inputs / "a.png").read_bytes() == before[inputs / "a.png"]


def test_cli_errors_are_clear(tmp_path):
    result = run("-m", "pix2color", "info", tmp_path)
    assert result.returncode == 2 and "is not a pix2color model" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_sigterm_saves_a_checkpoint_and_resume_continues(pair_tree, tmp_path):
    import re
    import signal
    import threading
    import time

    args = [sys.executable, str(ROOT / "examples" / "train_danbooru.py"), "--data",
            str(pair_tree), "--epochs", "200", "--width", "4", "--size", "32",
            "--batch-size", "4", "--precision", "float32", "--logdir", str(tmp_path / "runs"),
            "--run-name", "term", "--mode", "l1", "--log-every", "1"]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    progress = []
    reader = threading.Thread(target=lambda: progress.extend(iter(lambda: process.stderr.read(1), "")))
    reader.start()
    deadline = time.time() + 300
    while time.time() < deadline and not re.search(r"\| [3-9]/\d+ \[", "".join(progress)):
        time.sleep(0.2)  # wait until a few steps are done
    process.send_signal(signal.SIGTERM)
    out = process.stdout.read()
    process.wait(timeout=120)
    reader.join()
    err = "".join(progress)
    assert "interrupted: saved a checkpoint at step" in out, err[-2000:]
    step = int(out.split("saved a checkpoint at step ")[1].split()[0])
    assert step > 0
    latest = tf.train.latest_checkpoint(tmp_path / "runs" / "term" / "checkpoints")
    assert latest.endswith(f"ckpt-{step}")
    resumed = run(*args[1:], "--resume", "--steps", step + 2)
    assert resumed.returncode == 0 and f"(step {step})" in resumed.stdout, resumed.stderr[-2000:]


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_nothing(pair_tree, tmp_path):
    """Kill a real training process with SIGKILL at 5 random moments, resume each time: the
    step only moves forward, every checkpoint on disk reads back whole, TensorBoard sees each
    step once, and the final weights equal an uninterrupted run's."""
    import signal
    import threading
    import time

    def train_args(name, *extra):
        return [sys.executable, "-m", "pix2color", "train", "--data", str(pair_tree),
                "--epochs", "30", "--width", "4", "--size", "32", "--batch-size", "4",
                "--precision", "float32", "--logdir", str(tmp_path / "runs"), "--run-name",
                name, "--checkpoint-every", "1", "--deterministic", "--seed", "3",
                "--log-every", "1", "--warmup-steps", "5", *extra]

    straight = run(*train_args("straight")[1:])
    assert straight.returncode == 0, straight.stderr[-2000:]
    checkpoints = tmp_path / "runs" / "killed" / "checkpoints"
    rng = np.random.default_rng(7)   # seeded; 30 epochs outlast five kills
    steps_seen, kills = [0], 0
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    while kills < 5:
        process = subprocess.Popen(train_args("killed", "--resume"), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True, env=env)
        progress = []
        reader = threading.Thread(target=lambda: progress.extend(
            iter(lambda: process.stderr.read(1), "")))
        reader.start()
        deadline = time.time() + 300
        while time.time() < deadline and process.poll() is None and \
                not re.search(r"\| [1-9]\d*/\d+ \[", "".join(progress)):
            time.sleep(0.05)                           # a first step is done...
        time.sleep(rng.uniform(0.0, 1.5))              # ...then a random moment within it
        if process.poll() is not None:
            break                                      # it finished first: nothing to kill
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        reader.join()
        kills += 1
        latest = tf.train.latest_checkpoint(checkpoints)
        if latest is None:
            continue
        step = int(latest.rsplit("-", 1)[1])
        assert step >= steps_seen[-1]                  # never moves backwards
        steps_seen.append(step)
        for path in tf.train.get_checkpoint_state(checkpoints).all_model_checkpoint_paths:
            reader_ = tf.train.load_checkpoint(path)  # whole: every tensor reads back
            for name in reader_.get_variable_to_shape_map():
                reader_.get_tensor(name)
    assert kills == 5 and steps_seen[-1] > 0, steps_seen
    final = run(*train_args("killed", "--resume")[1:])
    assert final.returncode == 0, final.stderr[-2000:]

    def model_weights(name):
        from pix2color import Colorizer
        return Colorizer.load(tmp_path / "runs" / name / "model").model.get_weights()

    for a, b in zip(model_weights("straight"), model_weights("killed")):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    # TensorBoard (which drops a restarted run's orphaned steps) sees every step once.
    from tensorboard.backend.event_processing.plugin_event_accumulator import (
        EventAccumulator as TensorBoardReader)

    events = TensorBoardReader(str(tmp_path / "runs" / "killed" / "train"),
                              size_guidance={"tensors": 0})
    events.Reload()
    steps = [e.step for e in events.Tensors("loss/g_l1")]
    total = int(re.search(r"(\d+) steps\)", straight.stdout).group(1))
    assert steps == list(range(1, total + 1)), steps
