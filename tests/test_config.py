"""The configuration as the one schema, tasks as objects, and one way to open data."""

import ast
import dataclasses
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
    sketch_only = {"extract_lines", "line_augment", "colour_rebalance", "hue_head",
                   "hue_loss"}  # the task here is gray
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


def task_name_tests(source):
    """The lines of `source` that test something task-like (a name, attribute or key with
    "task" in it) against a task's name, however it is spelt: ==, !=, is, in a collection of
    names, in either order, a dict of task names indexed by it, or a match on it."""
    from pix2color.tasks import TASK_NAMES

    def names_a_task(node):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return any(names_a_task(item) for item in node.elts)
        return isinstance(node, ast.Constant) and node.value in TASK_NAMES

    def mentions_task(node):
        return any("task" in (getattr(n, "id", None) or getattr(n, "attr", None) or
                              (n.value if isinstance(getattr(n, "value", None), str) else ""))
                   for n in ast.walk(node))

    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            hit = any(map(names_a_task, sides)) and any(map(mentions_task, sides))
        elif isinstance(node, ast.Subscript):
            hit = isinstance(node.value, ast.Dict) and any(map(names_a_task, node.value.keys)) \
                and mentions_task(node.slice)
        elif isinstance(node, ast.Match):
            hit = mentions_task(node.subject) and any(
                isinstance(case.pattern, ast.MatchValue) and names_a_task(case.pattern.value)
                for case in node.cases)
        else:
            hit = False
        lines += [node.lineno] if hit else []
    return sorted(lines)


def test_the_task_name_lint_catches_every_spelling():
    source = """
if task == "gray": pass
if "sketch" != self.task: pass
if config.task in ("gray", "other"): pass
if info["task"] is 'sketch': pass
colour = {"sketch": 1, "gray": 2}[c.task]
match args.task:
    case "gray": pass
model = "sketch"
if model == "sketch" or task.line_art: pass
"""
    assert task_name_tests(source) == [2, 3, 4, 5, 6, 7]


def test_no_module_branches_on_a_task_name():
    """What differs between tasks lives in pix2color.tasks; nothing else tests a task's name."""
    offenders = [f"{path.relative_to(ROOT)}:{n}" for path in (ROOT / "pix2color").rglob("*.py")
                 for n in task_name_tests(path.read_text())]
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


def test_a_script_maps_its_options_onto_the_config():
    """What the examples do: TrainConfig's fields as options, with the script's own defaults,
    and the fields it sets itself left out."""
    import argparse

    from pix2color.config import add_config_options, config_from_args

    parser = argparse.ArgumentParser()
    groups = add_config_options(parser, skip=("image_every",), width=32, gan_loss="lsgan")
    assert set(groups) == {"data", "model", "training", "logging"}
    args = parser.parse_args(["--epochs", "3", "--hints", "--steps", "7"])
    config = config_from_args(args, image_every=11)
    assert config == TrainConfig(width=32, gan_loss="lsgan", epochs=3, hints=True,
                                 max_steps=7, image_every=11)
    with pytest.raises(SystemExit):
        parser.parse_args(["--image-every", "5"])            # the script sets it
    with pytest.raises(TypeError, match="width"):
        config_from_args(args, width=8)                       # an option already
    with pytest.raises(TypeError, match="colour"):
        add_config_options(argparse.ArgumentParser(), colour="red")
    switched_on = argparse.ArgumentParser()   # a recipe's switch can be turned off
    add_config_options(switched_on, only=("hints", "line_augment"), hints=True, line_augment=True)
    assert vars(switched_on.parse_args(["--no-line-augment"])) == {"hints": True,
                                                                   "line_augment": False}
    few = argparse.ArgumentParser()
    add_config_options(few, only=("size", "epochs"), epochs=10)
    assert config_from_args(few.parse_args([]), task="gray") == TrainConfig(task="gray", epochs=10)


def test_choices_are_listed_where_they_are_defined():
    from pix2color.losses import GAN_LOSSES
    from pix2color.metric_table import METRICS

    choices = {f.name: f.metadata["choices"] for f in dataclasses.fields(TrainConfig)}
    assert choices["gan_loss"] == tuple(GAN_LOSSES)
    assert set(choices["best_metric"]) == {n for n, m in METRICS.items() if m.better}
    better = {name: METRICS[name].badness for name in ("psnr", "ciede2000",
                                                       "colourfulness_ratio")}
    assert better["psnr"](30.0) < better["psnr"](20.0)                 # higher is better
    assert better["ciede2000"](2.0) < better["ciede2000"](5.0)          # lower is better
    assert better["colourfulness_ratio"](1.1) < better["colourfulness_ratio"](0.5)  # near 1


def _any_drawing_example():
    """examples/train_any_drawing.py, imported as a module."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "train_any_drawing", ROOT / "examples" / "train_any_drawing.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    return example


@pytest.mark.parametrize("recipe", ["gan", "l1", "rebalanced", "baseline", "wide"])
def test_each_any_drawing_recipe_is_a_valid_configuration(recipe, monkeypatch):
    """The recipes of examples/train_any_drawing.py (how the bundled line-art models and the
    candidates in docs/model-drawings.md were made) are training configurations as written."""
    from pix2color.config import config_from_args

    example = _any_drawing_example()
    monkeypatch.setattr("sys.argv", ["train_any_drawing.py", "--recipe", recipe])
    config = config_from_args(example.parse_args(), image_every=1, checkpoint_every=1)
    assert config.size == 128 and config.decay_fraction == 0.3
    if recipe == "wide":   # the article's width, from scratch, rebalanced from the first step
        assert (config.width, config.init_from, config.colour_rebalance) == (64, "", 0.5)
        assert config.hints and config.line_augment and config.mode == "l1"
    else:
        assert config.width == 32


def test_the_any_drawing_commands_the_docs_give_are_valid(monkeypatch):
    """Every `examples/train_any_drawing.py` command in the README, docs/training.md and the
    script's own docstring (how the bundled models were made) parses into a training
    configuration as written."""
    import shlex

    from pix2color.config import config_from_args

    example = _any_drawing_example()
    commands = []
    for page in ("README.md", "docs/training.md", "examples/train_any_drawing.py"):
        text = (ROOT / page).read_text().replace("\\\n", " ")
        commands += [line.split("#")[0] for line in map(str.strip, text.splitlines())
                     if line.startswith("python examples/train_any_drawing.py")]
    assert len(commands) >= 12
    for command in commands:
        monkeypatch.setattr("sys.argv", shlex.split(command)[1:])
        config = config_from_args(example.parse_args(), image_every=1, checkpoint_every=1)
        assert config.size == 128, command
