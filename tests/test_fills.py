"""Fills as objects: one per way of finishing a picture, picked by (task, name), each
declaring what it needs and whether it runs in a graph; region fill's typed settings."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image, ImageDraw

from pix2color import Colorizer
from pix2color.fills import (FILL_NAMES, FILLS, Finishing, NetworkOnly, RegionSettings,
                             fill_for, fill_names, graph_fill)
from pix2color.flats import Kept
from pix2color.tasks import TASKS

ROOT = Path(__file__).parent.parent


def drawing(width=48, height=40):
    image = Image.new("RGB", (width, height), "white")
    ImageDraw.Draw(image).rectangle((8, 8, 36, 30), outline="black", width=2)
    return np.asarray(image)


def test_each_task_takes_its_fills_by_name():
    sketch, gray = TASKS["sketch"], TASKS["gray"]
    assert FILL_NAMES == ("regions", "lines", "none")
    assert fill_names(sketch) == FILL_NAMES and fill_names(gray) == ("none",)
    assert fill_for(sketch).name == "regions" and fill_for(gray).name == "none"
    assert fill_for(sketch, "none") is not fill_for(gray, "none")  # raw colour vs chroma on L
    assert not fill_for(gray).gives_layers and fill_for(sketch, "none").gives_layers
    with pytest.raises(ValueError, match=r"fill must be one of \('regions', 'lines', 'none'\)"):
        fill_for(sketch, "magic")
    with pytest.raises(ValueError, match="fill='lines' is not for a 'gray' model"):
        fill_for(gray, "lines")


def test_the_export_runs_only_fills_that_declare_a_graph(tmp_path):
    sketch = TASKS["sketch"]
    assert [f.name for f in FILLS if f.suits(sketch) and f.in_graph] == ["lines", "none"]
    assert graph_fill(sketch).name == "lines" and graph_fill(TASKS["gray"]).name == "none"
    with pytest.raises(ValueError, match="fill='regions' cannot run inside a SavedModel"):
        Colorizer.load("sketch").export(tmp_path / "served", fill="regions")
    assert not (tmp_path / "served").exists()   # refused before anything was written


@pytest.mark.parametrize("task, name", [("sketch", "lines"), ("sketch", "none"),
                                        ("gray", "none")])
def test_a_graph_fill_paints_what_its_painter_paints(task, name):
    """The export's in-graph finish and Colorizer's strip painter are one fill's two forms."""
    task = TASKS[task]
    fill = fill_for(task, name)
    rgb8 = drawing()
    rng = np.random.default_rng(0)
    output = rng.uniform(-0.8, 0.8, (20, 24, task.out_channels)).astype(np.float32)
    job = Finishing(output, None, rgb8, 1.0, None, None, None, None, b"", Kept())
    painted = fill.painter(job)(slice(0, rgb8.shape[0]))[1]
    graph = fill.graph(tf.constant(output), tf.constant(rgb8 / 255.0, tf.float32)).numpy()
    served = np.round(np.clip(graph, 0, 1) * 255).astype(int)
    assert np.abs(served - painted).max() <= 2


def test_a_new_fill_is_one_class(tmp_path):
    """A fill outside the package's own list colours through the public API like the rest."""
    class Inverted(NetworkOnly):
        name = "inverted"

        def colour(self, output):
            return (1.0 - output) / 2.0

    colorizer = Colorizer.load("sketch")
    image = drawing()
    inverted = np.asarray(colorizer.colorize(image, fill=Inverted())).astype(int)
    plain = np.asarray(colorizer.colorize(image, fill="none")).astype(int)
    assert np.abs(inverted + plain - 255).max() <= 2


@pytest.mark.slow
def test_region_settings_are_typed_saved_with_the_model_and_shown(tmp_path, capsys):
    from pix2color.cli import main

    with pytest.raises(ValueError, match="background must be one of"):
        RegionSettings(background="black")
    with pytest.raises(ValueError, match="gap must be empty or an integer"):
        RegionSettings(gap=-1)
    colorizer = Colorizer.load("sketch")
    assert colorizer.fill_settings == {"regions": RegionSettings()}
    assert Colorizer.load("gray").fill_settings == {}
    colorizer.fill_settings["regions"] = RegionSettings(gap=2, background="white")
    folder = colorizer.save(tmp_path / "white")
    assert json.loads((folder / "pix2color.json").read_text())["fill_settings"] == {
        "regions": {"gap": 2, "aggregate": "mode", "background": "white"}}
    again = Colorizer.load(folder)
    assert again.fill_settings["regions"] == RegionSettings(gap=2, background="white")
    image = drawing(120, 90)
    assert np.array_equal(np.asarray(again.colorize(image)),
                          np.asarray(colorizer.colorize(image)))
    assert main(["info", str(folder)]) == 0
    assert "regions: gap 2, aggregate mode, background white" in capsys.readouterr().out


def test_no_module_branches_on_a_fill_name():
    """What differs between fills lives in pix2color.fills; nothing else tests a fill name."""
    pattern = re.compile(r"""fill\s*[!=]=\s*["']|["'](regions|lines|none)["']\s*[!=]=\s*\w*fill""")
    offenders = [f"{path.relative_to(ROOT)}:{n}" for path in (ROOT / "pix2color").rglob("*.py")
                 for n, line in enumerate(path.read_text().splitlines(), 1)
                 if pattern.search(line)]
    assert offenders == []
