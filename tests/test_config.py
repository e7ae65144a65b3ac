"""The configuration as the one schema, tasks as objects, and one way to open data."""

import dataclasses
import re
from pathlib import Path

import pytest

from pix2color.config import TrainConfig

ROOT = Path(__file__).parent.parent


def train_parser():
    from pix2color.cli import build_parser

    return build_parser()


def test_every_config_field_is_a_train_option_with_its_default():
    args = train_parser().parse_args(["train", "--data", "x"])
    from pix2color.cli import config_from_args

    assert config_from_args(args) == TrainConfig()          # the same defaults, every field
    for field in dataclasses.fields(TrainConfig):
        assert getattr(args, field.name) == field.default, field.name


def test_every_config_field_can_be_set_from_the_command_line():
    changed = {"task": "gray", "hints": True, "hint_weight": 3.0, "no_hint_fraction": 0.5,
               "init_from": "sketch",
               "generator": "unet", "size": 64, "width": 8, "depth": 3, "norm": "instance",
               "upsample": "resize", "dropout": 0.5, "disc_width": 4, "disc_layers": 2,
               "disc_norm": "none", "mode": "l1", "gan_loss": "hinge", "l1_weight": 50.0,
               "optimizer": "rmsprop", "learning_rate": 1e-3, "beta_1": 0.9, "batch_size": 4,
               "epochs": 2, "max_steps": 7, "warmup_steps": 3, "decay_fraction": 0.3,
               "precision": "float32", "jit": True, "seed": 5, "deterministic": True,
               "log_every": 2, "image_every": 3, "val_every": 4, "val_batches": 5,
               "checkpoint_every": 6, "keep_checkpoints": 1, "best_metric": "psnr"}
    sketch_only = {"extract_lines", "line_augment"}  # the task here is gray
    assert set(changed) | sketch_only == {f.name for f in dataclasses.fields(TrainConfig)}
    argv = ["train", "--data", "x"]
    for name, value in changed.items():
        flag = "--" + name.replace("_", "-")
        argv += [flag] if value is True else [flag, str(value)]
    from pix2color.cli import config_from_args

    assert config_from_args(train_parser().parse_args(argv)) == TrainConfig(**changed)
    # The short spellings older scripts use still work.
    old = train_parser().parse_args(["train", "--data", "x", "--lr", "0.01", "--steps", "9"])
    assert (old.learning_rate, old.max_steps) == (0.01, 9)


def test_choices_come_from_the_config_and_bad_values_are_refused(capsys):
    with pytest.raises(SystemExit):
        train_parser().parse_args(["train", "--data", "x", "--mode", "diffusion"])
    assert "invalid choice: 'diffusion'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        TrainConfig(batch_size=0)
    with pytest.raises(ValueError, match="unknown training options"):
        TrainConfig.from_json({"epochs": 3, "colour": "red"})
    assert TrainConfig.from_json(dataclasses.asdict(TrainConfig(epochs=3))).epochs == 3


def test_no_module_branches_on_a_task_name():
    """What differs between tasks lives in pix2color.tasks; nothing else tests a task's name."""
    pattern = re.compile(r"""task\s*[!=]=\s*["']|["'](gray|sketch)["']\s*[!=]=\s*\w*task""")
    offenders = [f"{path.relative_to(ROOT)}:{n}" for path in (ROOT / "pix2color").rglob("*.py")
                 for n, line in enumerate(path.read_text().splitlines(), 1)
                 if pattern.search(line)]
    assert offenders == []


def test_a_task_converts_pictures_to_and_from_the_network():
    import numpy as np

    from pix2color.tasks import TASKS, get_task

    rgb = np.random.default_rng(0).random((1, 8, 8, 3)).astype(np.float32)
    for task in TASKS.values():
        inputs, targets = task.network_input(rgb), task.network_target(rgb)
        assert inputs.shape[-1] == task.in_channels and targets.shape[-1] == task.out_channels
        back = (np.asarray(task.to_rgb(inputs, targets)) + 1.0) / 2.0
        assert np.abs(back - rgb).max() < 2e-3, task.name     # the round trip gives it back
    with pytest.raises(ValueError, match="task must be one of"):
        get_task("paint")


def test_open_pairs_recognises_each_kind_of_data(tmp_path):
    from conftest import make_pair_tree

    from pix2color.data import open_pairs
    from pix2color.shards import write_shards

    tree = make_pair_tree(tmp_path / "kaggle" / "color", count=12)
    danbooru = open_pairs(tmp_path / "kaggle")                       # the Danbooru layout
    assert len(danbooru.pairs) == 12 and danbooru.pairs[0][0].endswith("sketch/0000/1000.png")
    assert open_pairs(tree / "sketch", target_dir=tree / "src").pairs == danbooru.pairs
    colour = open_pairs(tree / "src", task="gray")                    # a folder of pictures
    assert colour.pairs[0][0] == colour.pairs[0][1] and len(colour.pairs) == 12
    assert len(open_pairs(tree / "src", extract_lines=True).pairs) == 12
    assert len(open_pairs(tmp_path / "kaggle", limit=5).pairs) == 5
    splits = danbooru.splits(0.25, 0.25)
    assert sum(map(len, splits.values())) == 12
    for name, split in splits.items():
        if split:
            write_shards(split, tmp_path / "shards" / name, progress=False)
    sharded = open_pairs(tmp_path / "shards")                         # made by `prepare`
    assert sharded.pairs is None
    assert len(sharded.splits()["train"]) == len(splits["train"])
    with pytest.raises(FileNotFoundError, match="no Danbooru layout"):
        open_pairs(tmp_path / "kaggle" / "color" / "sketch" / "0000")
