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
    missing = [f for f in data if not any(fnmatch.fnmatch(f, pattern) for pattern in patterns)]
    assert not missing, f"not in package-data: {missing}"


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


def test_the_public_api_is_there():
    import pix2color

    for name in pix2color.__all__:
        assert getattr(pix2color, name) is not None
    assert issubclass(pix2color.ImageReadError, ValueError)


def test_every_option_says_what_it_does_and_its_default():
    import re

    from pix2color.cli import XDOG_OPTIONS, build_parser

    commands = build_parser()._subparsers._group_actions[0].choices   # name -> subparser
    assert commands["train"].description                 # `train --help` explains itself
    for name, command in commands.items():
        options = command.format_help().split("options:", 1)[1]
        for entry in re.split(r"\n(?=  -)", options):
            if not entry.strip() or entry.split()[0] == "-h,":
                continue
            flag, described = entry.split()[0], " ".join(entry.split()[1:])
            assert len(described) > 10, (name, flag)         # what it does
            if flag.lstrip("-") not in XDOG_OPTIONS:         # (their defaults are tuned values)
                assert "(default:" in described, (name, flag)
