import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402


def draw_pair(rng, size=32):
    """A random flat-coloured picture and its black-on-white line drawing."""
    colour = Image.new("RGB", (size, size), "white")
    lines = Image.new("RGB", (size, size), "white")
    for _ in range(3):
        x0, y0 = rng.integers(0, size // 2, 2)
        x1, y1 = np.array([x0, y0]) + rng.integers(size // 4, size // 2, 2)
        box = [int(x0), int(y0), int(x1), int(y1)]
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        shape = ImageDraw.Draw(colour).ellipse if rng.random() < 0.5 else ImageDraw.Draw(colour).rectangle
        shape(box, fill=fill, outline="black")
        (ImageDraw.Draw(lines).ellipse if shape.__name__ == "ellipse"
         else ImageDraw.Draw(lines).rectangle)(box, outline="black")
    return lines, colour


def make_pair_tree(root, count=24, size=32, seed=0, folders=("0000", "0001")):
    """A small data set in the Kaggle Danbooru layout: root/sketch/NNNN/i.png, root/src/..."""
    rng = np.random.default_rng(seed)
    for i in range(count):
        folder = folders[i % len(folders)]
        lines, colour = draw_pair(rng, size)
        for kind, image in (("sketch", lines), ("src", colour)):
            path = Path(root) / kind / folder / f"{1000 + i}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            image.save(path)
    return Path(root)


@pytest.fixture
def pair_tree(tmp_path):
    return make_pair_tree(tmp_path / "danbooru")


# --- test tiers ----------------------------------------------------------------------------
# `python -m pytest -q` runs the fast tier (the inner loop, a few minutes on 2 cores);
# `python -m pytest -q --all` adds the `slow` tier (fresh interpreters, end-to-end training,
# the browser) and the `weights` tier (quality of the bundled models). CI runs --all.

def pytest_addoption(parser):
    parser.addoption("--all", action="store_true",
                     help="also run the slow and weights tiers (what CI runs)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--all"):
        return
    kept, deselected = [], []
    for item in items:
        (deselected if {"slow", "weights"} & set(item.keywords) else kept).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept
