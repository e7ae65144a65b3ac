"""A run folder is never overwritten: refusing a second run, checking the configuration on
resume before writing anything, one process at a time, checkpoints that survive damage."""

import re
import shutil
import subprocess
import sys

import pytest

from pix2color.data import find_pairs
from pix2color.runs import RunFolderError
from pix2color.train import TrainConfig, Trainer

TINY = dict(mode="l1", size=32, width=4, batch_size=4, precision="float32", epochs=1)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """One tiny finished run for the module; each test gets its own copy (finished_run)."""
    from conftest import make_pair_tree

    root = tmp_path_factory.mktemp("trained")
    tree = make_pair_tree(root / "danbooru")
    pairs = find_pairs(tree / "sketch", tree / "src")[0][:8]
    Trainer(TrainConfig(**TINY), pairs, pairs[:4], logdir=root, run_name="r1").fit()
    return pairs, root / "r1"


@pytest.fixture
def finished_run(trained_run, tmp_path):
    pairs, run = trained_run
    shutil.copytree(run, tmp_path / "r1", ignore=shutil.ignore_patterns(".lock"))
    return pairs, tmp_path, tmp_path / "r1"


def snapshot(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")
            if p.is_file() and p.name != ".lock"}


@pytest.mark.slow
def test_a_second_run_in_the_same_folder_is_refused(finished_run):
    pairs, logdir, run = finished_run
    before = snapshot(run)
    with pytest.raises(RunFolderError, match="already holds a run.*--resume.*--overwrite"):
        Trainer(TrainConfig(**TINY), pairs, logdir=logdir, run_name="r1")
    assert snapshot(run) == before
    fresh = Trainer(TrainConfig(**TINY), pairs, logdir=logdir, run_name="r1", overwrite=True)
    assert fresh.restore() is None and snapshot(run) == before   # replaced only by fit
    assert (run / "best").exists()
    fresh.fit()   # no validation pairs: the old run's best/ went with it
    assert not (run / "best").exists() and (run / "model").exists()


def test_building_a_trainer_writes_nothing_and_leaves_the_random_state(finished_run):
    import random

    import numpy as np

    pairs, logdir, run = finished_run
    python_state, numpy_state = random.getstate(), np.random.get_state()[1].copy()
    Trainer(TrainConfig(**dict(TINY, seed=11)), pairs, logdir=logdir / "new" / "runs",
            run_name="fresh")
    assert not (logdir / "new").exists()                     # no folder until fit
    assert random.getstate() == python_state                  # no process-wide seeding
    assert (np.random.get_state()[1] == numpy_state).all()
    first, again = (Trainer(TrainConfig(**dict(TINY, seed=11)), pairs, logdir=logdir,
                            run_name=name) for name in ("a", "b"))
    for a, b in zip(first.generator.get_weights(), again.generator.get_weights()):
        assert (a == b).all()                                 # the seed still decides


def test_resuming_a_run_that_is_not_there_names_the_runs_that_are(finished_run, pair_tree,
                                                                   capsys):
    from pix2color.cli import main

    pairs, logdir, run = finished_run
    with pytest.raises(RunFolderError, match=f"nothing to resume: {logdir / 'nosuch'} holds "
                                             f"no run .*the runs in {logdir}: r1"):
        Trainer(TrainConfig(**TINY), pairs, logdir=logdir, run_name="nosuch", resume=True)
    assert not (logdir / "nosuch").exists()
    assert main(["train", "--data", str(pair_tree), "--width", "4", "--size", "32",
                 "--precision", "float32", "--logdir", str(logdir), "--resume",
                 "--run-name", "nosuch"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nothing to resume" in err[0] and "r1" in err[0], err
    assert not (logdir / "nosuch").exists()


def test_resume_names_each_changed_key_before_writing_anything(finished_run):
    pairs, logdir, run = finished_run
    before = snapshot(run)
    changed = TrainConfig(**dict(TINY, width=8, mode="mse"))
    with pytest.raises(RunFolderError, match=r"mode: 'l1' -> 'mse'; width: 4 -> 8"):
        Trainer(changed, pairs, logdir=logdir, run_name="r1", resume=True)
    assert snapshot(run) == before
    longer = Trainer(TrainConfig(**dict(TINY, epochs=2)), pairs, logdir=logdir,
                     run_name="r1", resume=True)        # more epochs: allowed
    assert longer.restore().endswith("ckpt-2")


def test_resuming_a_finished_run_changes_nothing(finished_run, capsys):
    pairs, logdir, run = finished_run
    before = snapshot(run / "model")
    written = (run / "config.json").stat().st_mtime_ns
    again = Trainer(TrainConfig(**TINY), pairs, logdir=logdir, run_name="r1", resume=True)
    again.restore()
    assert again.fit() == {}
    assert "already finished at step 2" in "".join(capsys.readouterr())
    assert snapshot(run / "model") == before
    assert (run / "config.json").stat().st_mtime_ns == written   # not even rewritten


@pytest.mark.slow
def test_one_process_at_a_time(finished_run):
    """A second process may build a trainer for a run folder in use (building writes
    nothing), but its fit is refused, even with overwrite, and the folder is left alone."""
    pairs, logdir, run = finished_run
    code = ("from pix2color.train import Trainer, TrainConfig\n"
            f"Trainer(TrainConfig(**{TINY!r}), {[tuple(map(str, p)) for p in pairs]!r}, "
            f"logdir={str(logdir)!r}, run_name='r1', overwrite=True).fit()")
    others = []

    class Holder(Trainer):
        def save_generator(self, path, metrics=None):
            if path.name == "model":   # inside fit, the folder locked
                others.append(subprocess.run([sys.executable, "-c", code],
                                             capture_output=True, text=True, timeout=300))
            return super().save_generator(path, metrics)

    Holder(TrainConfig(**dict(TINY, epochs=2)), pairs, logdir=logdir, run_name="r1",
           resume=True).fit()
    [other] = others
    assert other.returncode != 0 and "in use by another training process" in other.stderr
    assert (run / "checkpoints" / "ckpt-4.index").exists()    # the holder's run, whole
    again = Trainer(TrainConfig(**dict(TINY, epochs=3)), pairs, logdir=logdir,
                    run_name="r1", resume=True)
    again.fit()   # and when the first is done, the folder is free again
    assert int(again.step) == 6


@pytest.mark.slow
def test_a_damaged_checkpoint_falls_back_to_an_older_one(finished_run, capsys):
    pairs, logdir, run = finished_run
    longer = TrainConfig(**dict(TINY, epochs=3))
    Trainer(longer, pairs, logdir=logdir, run_name="r1", resume=True).fit()
    newest = run / "checkpoints" / "ckpt-6.data-00000-of-00001"
    newest.write_bytes(newest.read_bytes()[:100])              # truncated
    (run / "checkpoints" / "ckpt-9_temp").mkdir()               # a save a kill cut short
    trainer = Trainer(TrainConfig(**dict(TINY, epochs=4)), pairs, logdir=logdir,
                      run_name="r1", resume=True)
    assert trainer.restore().endswith("ckpt-4") and int(trainer.step) == 4
    assert "ckpt-6 is damaged" in "".join(capsys.readouterr())
    trainer.fit()   # the cut-short save goes when training claims the folder
    assert not (run / "checkpoints" / "ckpt-9_temp").exists() and int(trainer.step) == 8


@pytest.mark.slow
def test_a_run_folder_loads_evaluates_into_a_new_folder_and_describes_itself(
        finished_run, pair_tree, capsys):
    from pix2color import Colorizer
    from pix2color.cli import main

    pairs, logdir, run = finished_run
    assert Colorizer.load(run).info == Colorizer.load(run / "model").info   # its model/
    report = logdir / "new" / "folder" / "report.md"
    assert main(["evaluate", str(run), "--data", str(pair_tree), "--split", "all",
                 "--limit", "4", "--out", str(report)]) == 0
    assert report.exists() and "| r1 |" not in report.read_text()
    assert "CIEDE2000 fg" in capsys.readouterr().out                      # the table, printed
    assert main(["info", str(run)]) == 0
    shown = capsys.readouterr().out
    assert "(validation split" in shown and "ciede2000 " in shown
    metrics_line = shown.split("metrics:")[1].splitlines()[0]
    assert not re.search(r"\d{6,}", metrics_line), metrics_line   # not 16 decimals


@pytest.mark.slow  # two real runs end to end (about 15-20 s)
def test_resume_alone_continues_the_newest_run_and_the_banner_says_how(pair_tree, tmp_path,
                                                                         capsys):
    from pix2color.cli import main

    args = ["train", "--data", str(pair_tree), "--width", "4", "--size", "32",
            "--batch-size", "4", "--precision", "float32", "--logdir", str(tmp_path)]
    assert main(args + ["--steps", "2", "--run-name", "first"]) == 0
    assert main(args + ["--steps", "2", "--run-name", "second"]) == 0
    banner = capsys.readouterr().out
    assert "resume it:" in banner and "--resume --run-name second" in banner
    assert main(args + ["--steps", "3", "--resume"]) == 0
    out = capsys.readouterr().out
    assert f"resuming the newest run in {tmp_path}: second" in out and "(step 2)" in out
    assert main(args + ["--steps", "3", "--resume", "--logdir", str(tmp_path / "none")]) == 2
    assert "no run to resume" in capsys.readouterr().err


@pytest.mark.slow
def test_each_epoch_leaves_samples_on_disk_and_in_tensorboard(pair_tree, tmp_path, capsys):
    import numpy as np
    from PIL import Image
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from pix2color.train import _progress_terms

    pairs = find_pairs(pair_tree / "sketch", pair_tree / "src")[0]
    trainer = Trainer(TrainConfig(**dict(TINY, epochs=2)), pairs[:8], pairs[8:12],
                      logdir=tmp_path, run_name="watched")
    assert "warning: 4 validation pairs" in "".join(capsys.readouterr())
    trainer.fit()
    samples = sorted(p.name for p in (tmp_path / "watched" / "samples").iterdir())
    assert samples == ["epoch-001.png", "epoch-002.png"]
    picture = Image.open(tmp_path / "watched" / "samples" / "epoch-002.png")
    assert picture.size == (3 * 32, 14 + 4 * 32)       # a label band, then 4 rows
    band = np.asarray(picture.convert("L"))[:14]
    for column in range(3):                             # input | target | output: each named
        assert (band[:, column * 32: (column + 1) * 32] < 128).any(), column
    assert (band[-1] == 255).all()                      # text inside the band, not on a row
    events = EventAccumulator(str(tmp_path / "watched" / "validation"),
                              size_guidance={"tensors": 0}).Reload()
    assert "validation: input | target | output" in events.Tags()["tensors"]
    gan = {"g_total": 70.0, "g_l1": 0.6, "g_adversarial": 0.9, "d_total": 0.7, "d_real": 0.3}
    assert _progress_terms(gan) == ["g_l1", "g_adversarial", "d_total"]   # no g_total


def test_overwrite_keeps_the_old_run_until_the_new_one_is_checked(finished_run, monkeypatch):
    pairs, logdir, run = finished_run
    before = snapshot(run)
    bad_start = TrainConfig(**dict(TINY, init_from=str(logdir / "does-not-exist")))
    with pytest.raises(FileNotFoundError, match="no model at"):
        Trainer(bad_start, pairs, logdir=logdir, run_name="r1", overwrite=True)
    assert snapshot(run) == before
    full = shutil.disk_usage(run)._replace(free=0)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: full)   # a full disk
    with pytest.raises(OSError, match="not enough free disk space"):
        Trainer(TrainConfig(**TINY), pairs, logdir=logdir, run_name="r1", overwrite=True)
    assert snapshot(run) == before


@pytest.mark.slow
def test_the_lock_is_held_until_the_final_model_is_written(finished_run):
    from pix2color.runs import lock_run_dir

    pairs, logdir, run = finished_run
    seen = []

    class Watched(Trainer):
        def save_generator(self, path, metrics=None):
            if path.name == "model":   # a second process now would be refused
                with pytest.raises(RunFolderError, match="in use by another"):
                    lock_run_dir(self.run_dir)
                seen.append(path)
            return super().save_generator(path, metrics)

    Watched(TrainConfig(**TINY), pairs, logdir=logdir, run_name="r1", overwrite=True).fit()
    assert seen == [run / "model"]
    lock_run_dir(run).close()   # and free once fit has returned


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["missing", "empty file", "half-written"])
def test_resuming_a_finished_run_rewrites_a_missing_or_damaged_model(finished_run, damage,
                                                                       capsys):
    from pix2color import Colorizer

    pairs, logdir, run = finished_run
    expected = Colorizer.load(run / "model").model.get_weights()
    config_before = (run / "config.json").read_bytes()
    if damage == "missing":
        shutil.rmtree(run / "model")
    elif damage == "empty file":
        (run / "model" / "generator.keras").write_bytes(b"")
    else:   # what a kill -9 in the old two-rename save left
        (run / "model" / "generator.keras").rename(run / "model" / "generator.keras.tmp.keras")
    again = Trainer(TrainConfig(**TINY), pairs, logdir=logdir, run_name="r1", resume=True)
    again.restore()
    assert again.fit() == {}
    assert "missing or damaged" in "".join(capsys.readouterr())
    restored = Colorizer.load(run / "model").model.get_weights()
    assert all((a == b).all() for a, b in zip(restored, expected))
    assert (run / "config.json").read_bytes() == config_before


def test_a_failed_save_leaves_the_old_model_folder_whole(finished_run, monkeypatch):
    import keras

    from pix2color import Colorizer

    _, _, run = finished_run
    before = snapshot(run / "model")

    def fail_half_way(self, filepath, *args, **kwargs):
        open(filepath, "wb").write(b"PK\x03\x04 half a zip")
        raise OSError(28, "No space left on device")   # what a full disk raises

    monkeypatch.setattr(keras.Model, "save", fail_half_way)
    with pytest.raises(OSError, match="No space left"):
        Colorizer.load(run / "model").save(run / "model")
    assert snapshot(run / "model") == before
    assert [p.name for p in run.iterdir() if ".tmp-" in p.name] == []   # nothing left beside
