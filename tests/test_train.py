import json

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from pix2color.data import find_pairs, paired_dataset
from pix2color.modelfile import load_generator
from pix2color.train import TrainConfig, Trainer, TrainingDiverged

TINY = dict(size=32, width=4, disc_width=4, batch_size=4, precision="float32", log_every=1,
            image_every=2)


def pairs_of(tree):
    return find_pairs(tree / "sketch", tree / "src")[0]


@pytest.mark.slow
@pytest.mark.parametrize("mode, key", [("l1", "g_l1"), ("mse", "g_mse"), ("gan", "g_l1")])
def test_each_mode_overfits_a_fixed_batch(pair_tree, tmp_path, mode, key):
    pairs = pairs_of(pair_tree)
    config = TrainConfig(mode=mode, **dict(TINY, width=8), depth=3, learning_rate=2e-3)
    trainer = Trainer(config, pairs, logdir=tmp_path, run_name=mode)
    inputs, targets, _ = next(iter(paired_dataset(pairs[:4], 32, 4)))
    first = trainer.train_step(inputs, targets)[key]
    for _ in range(80):
        last = trainer.train_step(inputs, targets)
    assert last[key] < first / 3, (first, last)
    if mode == "gan":
        assert {"g_adversarial", "d_total", "d_real", "d_fake"} <= set(last)


def weights(model):
    return [w.copy() for w in model.get_weights()]


@pytest.mark.slow  # two real runs end to end (about 15-20 s)
def test_interrupted_run_resumes_to_the_same_weights(pair_tree, tmp_path):
    pairs = pairs_of(pair_tree)[:12]  # 3 steps an epoch, 6 in all
    config = TrainConfig(mode="gan", **TINY, epochs=2, warmup_steps=2, decay_fraction=0.5,
                         deterministic=True, seed=7)
    straight = Trainer(config, pairs, pairs[:4], logdir=tmp_path, run_name="straight")
    straight.fit()

    class Interrupted(Trainer):
        def update(self, inputs, targets, step, indices=None):  # what fit calls for each batch
            losses = super().update(inputs, targets, step, indices)
            if step + 1 == 4:
                raise KeyboardInterrupt
            return losses

    with pytest.raises(KeyboardInterrupt):
        Interrupted(config, pairs, pairs[:4], logdir=tmp_path, run_name="resumed").fit()
    resumed = Trainer(config, pairs, pairs[:4], logdir=tmp_path, run_name="resumed",
                      resume=True)
    assert resumed.restore().endswith("ckpt-4") and int(resumed.step) == 4
    resumed.fit()
    assert int(resumed.step) == int(straight.step) == 6
    for a, b in zip(weights(straight.generator) + weights(straight.discriminator),
                    weights(resumed.generator) + weights(resumed.discriminator)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    # The resumed run's events continue at the right steps, with no step logged twice.
    steps = [e.step for e in scalar_events(tmp_path / "resumed" / "train", "loss/g_l1")]
    # (step 4's own scalars were never written: the interrupt came before they were logged)
    assert steps == sorted(set(steps)) and steps[:3] == [1, 2, 3] and steps[-2:] == [5, 6]


def scalar_events(folder, tag):
    events = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    events.Reload()
    return events.Tensors(tag)


def test_fit_writes_tensorboard_events_checkpoints_and_models(pair_tree, tmp_path):
    pairs = pairs_of(pair_tree)
    trainer = Trainer(TrainConfig(mode="gan", **TINY, epochs=1), pairs[:16], pairs[16:],
                      logdir=tmp_path, run_name="run")
    metrics = trainer.fit()
    assert set(metrics) == {"l1", "psnr", "ssim", "ciede2000", "ciede2000_fg", "colourfulness",
                            "colourfulness_ratio", "flat_noise"}
    train = EventAccumulator(str(tmp_path / "run" / "train"), size_guidance={"tensors": 0})
    train.Reload()
    tags = set(train.Tags()["tensors"])
    assert {"loss/g_total", "loss/g_l1", "loss/g_adversarial", "loss/d_total",
            "learning_rate/generator", "learning_rate/discriminator", "images_per_second",
            "input | target | output"} <= tags
    image = train.Tensors("input | target | output")[0]
    assert image.step == 1
    hparams = train.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    assert b"l1_weight" in hparams and b"gan_loss" in hparams
    val = scalar_events(tmp_path / "run" / "validation", "metrics/l1")
    assert val[-1].step == 4 and abs(float(tf.make_ndarray(val[-1].tensor_proto)) - metrics["l1"]) < 1e-5
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["config"]["mode"] == "gan" and saved["data"]["train_pairs"] == 16
    assert (tmp_path / "run" / "checkpoints" / "checkpoint").exists()
    for folder in ("model", "best"):
        model, info = load_generator(tmp_path / "run" / folder)
        assert info.training["config"]["width"] == 4 and model.count_params() > 0


@pytest.mark.slow
def test_bad_files_are_skipped_counted_and_reported(pair_tree, tmp_path, capsys):
    pairs = pairs_of(pair_tree)[:8]
    broken = pairs[3][1]
    open(broken, "wb").close()
    trainer = Trainer(TrainConfig(mode="l1", **TINY, epochs=1), pairs, logdir=tmp_path,
                      run_name="bad")
    trainer.fit()
    assert trainer.skipped == {pairs[3][0]: 1, broken: 1}
    assert "skipped 1 unreadable training pair" in capsys.readouterr().out
    assert json.loads((tmp_path / "bad" / "skipped_files.json").read_text())[broken] == 1
    counts = scalar_events(tmp_path / "bad" / "train", "data/skipped_training_files")
    assert float(tf.make_ndarray(counts[-1].tensor_proto)) == 1.0


@pytest.mark.slow
def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(pair_tree, tmp_path):
    pairs = pairs_of(pair_tree)[:16]
    trainer = Trainer(TrainConfig(mode="l1", **TINY, epochs=1, checkpoint_every=2), pairs,
                      logdir=tmp_path, run_name="nan")
    real_step = trainer.regression_step

    def poisoned(inputs, targets, indices=None):
        losses = real_step(inputs, targets, indices)
        if int(trainer.step) == 3:   # the step counts itself: this is the third update
            return dict(losses, g_total=tf.constant(np.nan))
        return losses

    trainer.regression_step = poisoned
    with pytest.raises(TrainingDiverged, match="at step 3.*ckpt-2"):
        trainer.fit()
    assert tf.train.latest_checkpoint(tmp_path / "nan" / "checkpoints").endswith("ckpt-2")
    assert not (tmp_path / "nan" / "model").exists()


@pytest.mark.slow
def test_sigterm_stops_fit_like_ctrl_c_and_gives_the_handler_back(pair_tree, tmp_path):
    """SIGTERM (what `kill` and job schedulers send) in the middle of fit: a checkpoint at
    the step reached, KeyboardInterrupt as for Ctrl-C, and the handler there before back."""
    import os
    import signal

    before = signal.getsignal(signal.SIGTERM)

    class Killed(Trainer):
        def update(self, inputs, targets, step, indices=None):
            losses = super().update(inputs, targets, step, indices)
            if step + 1 == 3:
                os.kill(os.getpid(), signal.SIGTERM)
            return losses

    trainer = Killed(TrainConfig(mode="l1", **TINY, epochs=4), pairs_of(pair_tree)[:8],
                     logdir=tmp_path, run_name="term")
    with pytest.raises(KeyboardInterrupt):
        trainer.fit()
    assert tf.train.latest_checkpoint(tmp_path / "term" / "checkpoints").endswith("ckpt-3")
    assert int(trainer.step) == 3 and signal.getsignal(signal.SIGTERM) is before


def test_unwritable_run_folder_fails_before_training(pair_tree, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OSError, match="cannot write the run folder"):
        Trainer(TrainConfig(mode="l1", **TINY), pairs_of(pair_tree), logdir=blocker)


def test_full_disk_fails_before_training(pair_tree, tmp_path, monkeypatch):
    import shutil

    import pix2color.train

    real = shutil.disk_usage
    monkeypatch.setattr(pix2color.runs.shutil, "disk_usage",
                        lambda path: real(path)._replace(free=100_000))  # 100 kB left
    with pytest.raises(OSError, match="not enough free disk space.*MiB are free"):
        Trainer(TrainConfig(mode="gan", **TINY), pairs_of(pair_tree), logdir=tmp_path)
    assert not list(tmp_path.rglob("ckpt-*"))        # nothing started


def test_config_rejects_unknown_choices():
    with pytest.raises(ValueError, match="mode"):
        TrainConfig(mode="diffusion")
    with pytest.raises(ValueError, match="divisible"):
        TrainConfig(size=100)


def test_precision_auto_follows_the_hardware(monkeypatch):
    from pix2color import optim

    assert optim.resolve_precision("float32") == "float32"
    monkeypatch.setattr(optim.tf.config, "list_physical_devices", lambda kind: [])
    monkeypatch.setattr(optim, "cpu_has_native_bfloat16", lambda: False)
    assert optim.resolve_precision("auto") == "float32"
    assert optim.resolve_precision("mixed") == "mixed_bfloat16"
    monkeypatch.setattr(optim, "cpu_has_native_bfloat16", lambda: True)
    assert optim.resolve_precision("auto") == "mixed_bfloat16"
    monkeypatch.setattr(optim.tf.config, "list_physical_devices", lambda kind: ["GPU:0"])
    assert optim.resolve_precision("auto") == "mixed_float16"


@pytest.mark.slow
def test_mixed_precision_trainer_keeps_float32_variables_and_losses(pair_tree, tmp_path):
    config = TrainConfig(mode="gan", **dict(TINY, precision="mixed"), epochs=1, max_steps=2)
    trainer = Trainer(config, pairs_of(pair_tree), logdir=tmp_path, run_name="mixed")
    assert trainer.policy in ("mixed_bfloat16", "mixed_float16")
    x, y, _ = next(iter(paired_dataset(pairs_of(pair_tree)[:4], 32, 4)))
    losses = trainer.train_step(x, y)
    assert all(np.isfinite(v) for v in losses.values())
    assert all(w.dtype == "float32" for w in trainer.generator.weights)
    path = trainer.save_generator(tmp_path / "saved")
    model, _ = load_generator(path)
    assert model.layers[1].compute_dtype == "float32"  # saved models never keep the mixed policy


@pytest.mark.slow
def test_the_compiled_steps_are_pure_functions_of_models_and_config():
    import keras

    from pix2color.models import patchgan, unet
    from pix2color.steps import make_gan_step, make_regression_step

    config = TrainConfig(mode="gan", size=32, width=4, batch_size=2, precision="float32")
    G, D = unet(size=32, width=4), patchgan(width=4)
    g_opt, d_opt = keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3)
    rng = np.random.default_rng(0)
    x, y = (tf.constant(rng.uniform(-1, 1, (2, 32, 32, 3)), tf.float32) for _ in range(2))
    before = [w.copy() for w in G.get_weights() + D.get_weights()]
    losses = tf.function(make_gan_step(G, D, g_opt, d_opt, config, 3))(x, y)
    assert {"g_total", "g_l1", "g_adversarial", "d_total"} <= set(losses)
    after = G.get_weights() + D.get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(before[:len(G.get_weights())], after))
    assert any(not np.array_equal(a, b) for a, b in zip(before[len(G.get_weights()):],
                                                          after[len(G.get_weights()):]))
    d_weights = [w.copy() for w in D.get_weights()]
    step = tf.function(make_regression_step(G, g_opt, config))
    first = float(step(x, y)["g_l1"])
    for _ in range(20):
        last = float(step(x, y)["g_l1"])
    assert last < first                                           # it learns the batch
    assert all(np.array_equal(a, b) for a, b in zip(d_weights, D.get_weights()))  # D waits


@pytest.mark.slow
def test_a_trainer_rebalances_only_the_pairs_it_is_told(pair_tree, tmp_path):
    """`Trainer(rebalanced=...)`: with no pair rebalanced the step is the plain L1 step (the
    same loss on the same batch from the same start); with all of them, a different one."""
    pairs = pairs_of(pair_tree)[:8]
    x, y, indices = next(iter(paired_dataset(pairs[:4], 32, 4)))
    first = {}
    for name, strength, rebalanced in (("plain", 0.0, None), ("none", 0.5, [False] * 8),
                                       ("all", 0.5, [True] * 8)):
        config = TrainConfig(mode="l1", **TINY, colour_rebalance=strength)
        trainer = Trainer(config, pairs, logdir=tmp_path, run_name=name, rebalanced=rebalanced)
        first[name] = trainer.train_step(x, y, indices)["g_l1"]
    assert first["none"] == pytest.approx(first["plain"], rel=1e-5)
    assert first["all"] != pytest.approx(first["plain"], rel=1e-3)
    with pytest.raises(ValueError, match="one per pair"):
        Trainer(TrainConfig(mode="l1", **TINY), pairs, logdir=tmp_path, run_name="short",
                rebalanced=[True] * 3)


def test_colour_rebalance_makes_the_step_learn_a_rare_colour_sooner():
    """The same network, batch and steps, with and without class rebalancing: on a page 94%
    white with one small red square, the rebalanced step gets the red closer."""
    import keras

    from pix2color.models import unet
    from pix2color.steps import make_regression_step

    target = np.ones((2, 32, 32, 3), np.float32)
    target[:, 12:20, 12:20] = [1.0, -1.0, -1.0]
    x = tf.constant(np.where(target.mean(-1, keepdims=True) < 1, -1.0, 1.0) *
                    np.ones((1, 1, 1, 3)), tf.float32)
    red_error = {}
    for strength in (0.0, 0.5):
        keras.utils.set_random_seed(0)
        generator = unet(size=32, width=4, depth=3)
        config = TrainConfig(mode="l1", size=32, width=4, depth=3, precision="float32",
                             colour_rebalance=strength)
        step = tf.function(make_regression_step(generator, keras.optimizers.Adam(2e-3),
                                                config))
        for _ in range(30):
            step(x, tf.constant(target))
        out = generator(x, training=False).numpy()
        red_error[strength] = np.abs(out - target)[:, 12:20, 12:20].mean()
    assert red_error[0.5] < 0.8 * red_error[0.0], red_error


@pytest.mark.slow
def test_a_hue_head_grows_on_a_trained_model_learns_and_is_saved(pair_tree, tmp_path):
    """A model without a hue head starts one (`init_from`), colouring as before at first;
    `hue_loss` trains it (its cross-entropy, logged, falls from ln 13, all classes equal);
    the saved model has it."""
    from pix2color import Colorizer

    pairs = pairs_of(pair_tree)[:8]
    tiny = dict(TINY, mode="l1", epochs=1, learning_rate=2e-3)
    plain = Trainer(TrainConfig(**tiny), pairs, logdir=tmp_path, run_name="plain")
    plain.fit()
    config = TrainConfig(**dict(tiny, epochs=5), hue_head=True, hue_loss=1.0,
                         init_from=str(plain.run_dir / "model"))
    headed = Trainer(config, pairs, logdir=tmp_path, run_name="headed")
    headed.save_generator(tmp_path / "at-start")
    sketch = np.asarray(Image.open(pairs[0][0]).convert("RGB"))
    before = [np.asarray(Colorizer.load(path).colorize(sketch, fill="none"), np.int16)
              for path in (plain.run_dir / "model", tmp_path / "at-start")]
    assert np.abs(before[0] - before[1]).max() <= 1
    headed.fit()
    hue = [float(tf.make_ndarray(e.tensor_proto))
           for e in scalar_events(headed.run_dir / "train", "loss/g_hue")]
    assert hue[0] == pytest.approx(np.log(13), rel=0.05) and np.mean(hue[-3:]) < 0.85 * hue[0]
    saved = load_generator(headed.run_dir / "model")[0]
    assert "hue_logits" in [layer.name for layer in saved.layers]
    with pytest.raises(ValueError, match="hue head.*add --hue-head"):   # not dropped silently
        Trainer(TrainConfig(**tiny, init_from=str(headed.run_dir / "model")), pairs,
                logdir=tmp_path, run_name="headless")


@pytest.mark.slow
def test_the_hue_loss_weighs_against_the_l1_in_both_modes(pair_tree, tmp_path):
    """`hue_loss` is a weight against the L1's: in the GAN step, whose L1 counts
    `l1_weight` times, the head's cross-entropy counts `l1_weight * hue_loss` times."""
    pairs = pairs_of(pair_tree)[:4]
    x, y, _ = next(iter(paired_dataset(pairs, 32, 4)))
    for mode, l1_weight in (("l1", 1.0), ("gan", 50.0)):
        config = TrainConfig(**dict(TINY, mode=mode), l1_weight=l1_weight, hue_head=True,
                             hue_loss=0.1)
        losses = Trainer(config, pairs, logdir=tmp_path, run_name=mode).train_step(x, y)
        rest = losses["g_l1"] * l1_weight + losses.get("g_adversarial", 0.0)
        assert float(losses["g_total"]) == pytest.approx(
            float(rest + l1_weight * 0.1 * losses["g_hue"]), rel=1e-4)
