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
    assert "validation at step 3 (" in result.stdout and "{" not in result.stdout
    assert re.search(r"^  psnr +\d+\.?\d*$", result.stdout, re.M), result.stdout
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


@pytest.mark.slow
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


def test_pix2color_alone_prints_its_help_and_version_says_which(capsys):
    from pix2color import __version__
    from pix2color.cli import main

    assert main([]) == 2                       # no command: a usage error, shown the help
    shown = capsys.readouterr()
    assert shown.out.startswith("usage: pix2color") and "colorize" in shown.out
    assert "train" in shown.out and not shown.err
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.strip() == f"pix2color {__version__}"


def test_help_says_what_is_required_and_the_example_shows_its_own_defaults():
    from pix2color.cli import build_parser

    commands = build_parser()._subparsers._group_actions[0].choices   # name -> subparser
    for name in ("export", "info"):
        assert "[model]" not in commands[name].format_usage()         # required...
        assert "(the default" not in commands[name].format_help()     # ...and not said otherwise
    example = run(ROOT / "examples" / "train_danbooru.py", "--help")
    assert example.returncode == 0 and example.stdout.startswith("usage: train_danbooru.py")
    assert "(default: 15000)" in " ".join(example.stdout.split()), example.stdout


def test_a_model_that_is_not_there_names_the_bundled_ones(capsys):
    from pix2color.cli import main

    assert main(["info", "sketchy"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no model at sketchy" in err
    assert "(sketch, gray, drawings)" in err and "model folder" in err


def test_validation_metrics_print_as_a_table():
    from pix2color.cli.training import metrics_table

    table = metrics_table({"l1": 0.18712345, "psnr": 16.30861, "colourfulness_ratio": 0.7075})
    assert table.splitlines() == ["  l1                   0.1871",
                                  "  psnr                 16.31",
                                  "  colourfulness_ratio  0.7075"]


@pytest.mark.slow
def test_cli_errors_are_clear(tmp_path):
    result = run("-m", "pix2color", "info", tmp_path)
    assert result.returncode == 2 and "is not a pix2color model" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("stop", ["SIGINT", "SIGTERM"])   # Ctrl-C, and what `kill` sends
def test_a_stopped_run_saves_a_checkpoint_ends_at_its_message_and_resumes(pair_tree, tmp_path,
                                                                          stop):
    import signal

    args = [sys.executable, str(ROOT / "examples" / "train_danbooru.py"), "--data",
            str(pair_tree), "--epochs", "200", "--width", "4", "--size", "32",
            "--batch-size", "4", "--precision", "float32", "--logdir", str(tmp_path / "runs"),
            "--run-name", "term", "--mode", "l1", "--log-every", "1"]
    # A background job's children start with SIGINT ignored (so Python would not turn it into
    # KeyboardInterrupt): give the run the default a terminal gives it.
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    stderr = ProgressReader(process)
    try:
        stderr.wait_for_step(3)   # a few steps done
        process.send_signal(getattr(signal, stop))
        process.wait(timeout=300)   # a run that ignored the signal fails here, not hangs
    finally:
        if process.poll() is None:
            process.kill()
    out = process.stdout.read()
    err = stderr.text()
    assert process.returncode == 130, err[-2000:]
    assert "interrupted: saved a checkpoint at step" in out, err[-2000:]
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err[-2000:]
    step = int(out.split("saved a checkpoint at step ")[1].split()[0])
    assert step > 0
    latest = tf.train.latest_checkpoint(tmp_path / "runs" / "term" / "checkpoints")
    assert latest.endswith(f"ckpt-{step}")
    resumed = run(*args[1:], "--resume", "--steps", step + 2)
    assert resumed.returncode == 0 and f"(step {step})" in resumed.stdout, resumed.stderr[-2000:]


class ProgressReader:
    """A training process's stderr, read as it comes, and the step its progress bar shows."""

    BAR = re.compile(r"epoch (\d+)/\d+:\s+\d+%\|[^|]*\| (\d+)/(\d+) \[")

    def __init__(self, process):
        import threading

        self.process, self.chunks, self.more = process, [], threading.Event()
        self.thread = threading.Thread(target=self._read)
        self.thread.start()

    def _read(self):
        for char in iter(lambda: self.process.stderr.read(1), ""):
            self.chunks.append(char)
            self.more.set()
        self.more.set()   # and at the end

    def text(self):
        self.thread.join(timeout=120)
        return "".join(self.chunks)

    def step(self):
        """The run's step as its newest bar shows it (the epochs before it were whole)."""
        bars = self.BAR.findall("".join(self.chunks))
        if not bars:
            return 0
        epoch, done, _ = map(int, bars[-1])
        return (epoch - 1) * int(bars[0][2]) + done

    def wait_for_step(self, step):
        """Until the bar shows `step`; the process ending first fails, showing its stderr."""
        while self.step() < step:
            assert self.process.poll() is None, "".join(self.chunks)[-3000:]
            self.more.wait(timeout=1)   # woken by the next output
            self.more.clear()


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_nothing(pair_tree, tmp_path):
    """Kill a real training process with SIGKILL 5 times, each a random 1-3 steps after the
    run's last checkpoint (as its progress bar shows them: progress decides, not a clock),
    resume each time: the step only moves forward, every checkpoint on disk reads back whole,
    TensorBoard sees each step once, and the final weights equal an uninterrupted run's."""
    import signal

    def train_args(name, *extra):
        return [sys.executable, "-m", "pix2color", "train", "--data", str(pair_tree),
                "--epochs", "6", "--width", "4", "--size", "32", "--batch-size", "4",
                "--precision", "float32", "--logdir", str(tmp_path / "runs"), "--run-name",
                name, "--checkpoint-every", "1", "--deterministic", "--seed", "3",
                "--log-every", "1", "--warmup-steps", "5", *extra]

    straight = run(*train_args("straight")[1:])
    assert straight.returncode == 0, straight.stderr[-2000:]
    total = int(re.search(r"(\d+) steps\)", straight.stdout).group(1))
    assert total >= 5 * 3 + 1            # room for five kills of at most 3 steps each
    checkpoints = tmp_path / "runs" / "killed" / "checkpoints"
    rng = np.random.default_rng(7)
    steps_seen = [0]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    for _ in range(5):
        resume = ("--resume",) if steps_seen[-1] else ()   # the first start is a new run
        process = subprocess.Popen(train_args("killed", *resume), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True, env=env)
        stderr = ProgressReader(process)
        stderr.wait_for_step(steps_seen[-1] + int(rng.integers(1, 4)))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        stderr.text()
        latest = tf.train.latest_checkpoint(checkpoints)
        step = int(latest.rsplit("-", 1)[1]) if latest else 0
        assert step >= steps_seen[-1]                  # never moves backwards
        steps_seen.append(step)
        for path in tf.train.get_checkpoint_state(checkpoints).all_model_checkpoint_paths:
            reader_ = tf.train.load_checkpoint(path)  # whole: every tensor reads back
            for name in reader_.get_variable_to_shape_map():
                reader_.get_tensor(name)
    assert steps_seen[-1] > 0, steps_seen
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
    assert steps == list(range(1, total + 1)), steps
