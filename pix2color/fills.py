"""Fills: the ways of finishing a picture from the network's output, one object each.

A `Fill` owns what differs between them: which tasks it suits, what it needs from the
network besides its output (its colour in CIE Lab, its colour without the hints), whether
it can run inside a SavedModel graph (`pix2color.export`), its settings (a frozen dataclass,
saved in the model's pix2color.json), and how it paints the input's own full-size pixels a
strip at a time. `Colorizer` and the export pick one with `fill_for(task, name)` instead of
testing a name, so a new fill is one new class in `FILLS`. Importing this module does not
start TensorFlow (the CLI's `--help` needs the names).

For a model that keeps the input's lightness (gray), "none" is its only fill: nothing is
drawn over its colour, which is its chroma put onto the input's own full-resolution L.
"""

import dataclasses
from typing import Callable, NamedTuple, Optional

import numpy as np

from PIL import Image

from .files import LUMA, strips, to_uint8, to_unit
from .layers import Layers
from .palette import AGGREGATES
from .regions import BACKGROUNDS, compose, line_darkness, line_layer


@dataclasses.dataclass(frozen=True)
class RegionSettings:
    """Region fill's settings (see `pix2color.regions` and `pix2color.flats`)."""

    gap: Optional[int] = None    # the trapped ball's largest radius; None: 1% of the longer side
    aggregate: str = "mode"      # how a region's colour is read from the network's (AGGREGATES)
    background: str = "split"    # the paper around a drawing (BACKGROUNDS)

    def __post_init__(self):
        gap = self.gap
        if gap is not None and (not isinstance(gap, int) or isinstance(gap, bool)
                                or not 0 <= gap <= 1024):
            raise ValueError(f"region fill gap must be empty or an integer in 0..1024, got "
                             f"{gap!r}")
        for name, choices in (("aggregate", AGGREGATES), ("background", BACKGROUNDS)):
            if getattr(self, name) not in choices:
                raise ValueError(f"region fill {name} must be one of {choices}, got "
                                 f"{getattr(self, name)!r}")

    def __str__(self):
        return (f"gap {'1% of the longer side' if self.gap is None else self.gap}, "
                f"aggregate {self.aggregate}, background {self.background}")


class Finishing(NamedTuple):
    """What the finish stage gives a fill: the network's `output` (cropped to the working
    size, in [-1, 1]), its colour in CIE Lab (`lab`, only when the fill wants it), the
    input's own pixels (`rgb8`), the user's hints as given, `without_hints()` (the
    network's colour, RGB in [0, 1], with the hint channels zeroed: one more network run),
    the drawing's digest (`key`) and the colorizer's kept work (`pix2color.flats.Kept`)."""
    output: np.ndarray
    lab: Optional[np.ndarray]
    rgb8: np.ndarray
    saturation: float
    settings: object
    hints: object
    hint_image: object
    without_hints: Callable
    key: bytes
    kept: object


class Fill:
    """The shared vocabulary; each fill below fills it in."""

    name = ""
    settings_type = None     # its settings' frozen dataclass, or None for none
    in_graph = False         # `graph` can run inside a SavedModel (pix2color.export)
    gives_layers = True      # it has flats (colour under the lines): `layers=True` works

    def suits(self, task):
        """Whether a `pix2color.tasks.Task`'s model can be finished this way."""
        raise NotImplementedError

    def wants_lab(self, settings):
        """Whether the network's colour is wanted in CIE Lab too (computed in its graph)."""
        return False

    def painter(self, job):
        """A `Finishing` -> `paint(rows)`: (flat colour strip or None, composed strip),
        uint8 at the input's own size."""
        raise NotImplementedError

    def graph(self, output, rgb):
        """TF: the network's `output` (working size) and the input `rgb` in [0, 1] (H, W, 3)
        -> the finished colour in [0, 1] at (H, W), for fills that run in a graph."""
        raise NotImplementedError(f"fill {self.name!r} does not run inside a graph")

    def __repr__(self):
        return f"<fill {self.name}>"


class NetworkOnly(Fill):
    """Line art: the network's output alone, resized (no lines on top)."""

    name, in_graph = "none", True
    lines_on_top = False     # the input's lines multiplied over the colour

    def suits(self, task):
        return task.line_art

    def colour(self, output):
        return (output + 1.0) / 2.0

    def painter(self, job):
        from .resample import Enlarger

        enlarge = Enlarger(self.colour(job.output), job.rgb8.shape[:2], "bicubic",
                           antialias=True)

        def paint(rows):
            flats = to_uint8(saturate(enlarge(rows), job.saturation))
            return flats, compose(flats, job.rgb8[rows]) if self.lines_on_top else flats
        return paint

    def graph(self, output, rgb):
        import tensorflow as tf

        from .pipeline import network_colour

        return tf.clip_by_value(network_colour(output, tf.shape(rgb)[:2]), 0.0, 1.0)


class UnderLines(NetworkOnly):
    """Line art: the network's colour with the input's own lines multiplied on top (the
    lines the network drew itself painted over, `pix2color.pipeline.over_drawn_lines`)."""

    name, lines_on_top = "lines", True

    def colour(self, output):
        from .pipeline import over_drawn_lines

        return over_drawn_lines(np.clip(super().colour(output), 0.0, 1.0)).numpy()

    def graph(self, output, rgb):
        import tensorflow as tf

        from .pipeline import network_colour, over_drawn_lines

        output = over_drawn_lines(tf.clip_by_value((output + 1.0) / 2.0, 0.0, 1.0))
        colour = network_colour(output * 2.0 - 1.0, tf.shape(rgb)[:2])
        return tf.clip_by_value(colour, 0.0, 1.0) * rgb


class Regions(Fill):
    """Line art: one flat colour for each region the lines enclose, read from the network's
    colour or from the hints inside it, under the input's own lines (`pix2color.flats`).
    Needs connected components, which TensorFlow has no op for: not in a graph."""

    name, settings_type = "regions", RegionSettings

    def suits(self, task):
        return task.line_art

    def wants_lab(self, settings):
        return settings.aggregate == "mean"

    def painter(self, job):
        from .flats import RegionFill
        from .hints import hint_pixels

        hinted = hint_pixels(job.hints, job.hint_image, job.rgb8.shape[:2])
        plain = job.without_hints if len(hinted[0]) else None
        return RegionFill(job.kept).painter(
            job.settings, np.clip((job.output + 1.0) / 2.0, 0.0, 1.0), job.lab, job.rgb8,
            hinted, lambda palette: saturate(palette, job.saturation), plain, job.key,
            points=len(job.hints or ()))


class OnLightness(Fill):
    """A model that predicts chroma: its ab, upsampled, put onto the input's own
    full-resolution lightness (nothing drawn over it)."""

    name, in_graph, gives_layers = "none", True, False

    def suits(self, task):
        return task.keeps_lightness

    def painter(self, job):
        from .color import AB_SCALE, lab_to_srgb8_keeping_lightness, lightness
        from .resample import Enlarger

        enlarge = Enlarger(job.output * (AB_SCALE * job.saturation), job.rgb8.shape[:2])

        def paint(rows):
            own = lightness(to_unit(job.rgb8[rows]))
            return None, lab_to_srgb8_keeping_lightness(own, enlarge(rows))
        return paint

    def graph(self, output, rgb):
        import tensorflow as tf

        from .color import AB_SCALE, lab_to_rgb_keeping_lightness, rgb_to_lab

        ab = tf.image.resize(output * AB_SCALE, tf.shape(rgb)[:2])
        return lab_to_rgb_keeping_lightness(tf.concat([rgb_to_lab(rgb)[..., :1], ab], -1))


# Every fill; the first that suits a task is its default.
FILLS = (Regions(), UnderLines(), NetworkOnly(), OnLightness())
FILL_NAMES = tuple(dict.fromkeys(fill.name for fill in FILLS))


def fill_names(task):
    """The names of the fills a task's model takes, its default first."""
    return tuple(fill.name for fill in FILLS if fill.suits(task))


def fill_for(task, name=None):
    """(task, fill name; None: the task's default) -> the `Fill`, or a ValueError saying
    what that model takes."""
    if name is not None and name not in FILL_NAMES:
        raise ValueError(f"fill must be one of {FILL_NAMES}, got {name!r}")
    for fill in FILLS:
        if fill.suits(task) and name in (None, fill.name):
            return fill
    raise ValueError(f"fill={name!r} is not for a {task.name!r} model: it takes "
                     f"{fill_names(task)}")


def graph_fill(task, name=None):
    """The fill an export runs: `name`, refused unless it runs in a graph, or by default the
    first of the task's fills that does."""
    if name is None:
        return next(fill for fill in FILLS if fill.suits(task) and fill.in_graph)
    fill = fill_for(task, name)
    if not fill.in_graph:
        raise ValueError(f"fill={name!r} cannot run inside a SavedModel graph; export one of "
                         f"{tuple(f.name for f in FILLS if f.suits(task) and f.in_graph)}")
    return fill


def fill_settings(task, given=None):
    """The settings of each of `task`'s fills that has any: `given` ({name: a settings
    object or its JSON}) over the defaults. A ValueError names what is wrong."""
    given = dict(given or {})
    settings = {}
    for fill in FILLS:
        if fill.settings_type is None or not fill.suits(task):
            continue
        value = given.pop(fill.name, None)
        if isinstance(value, dict):
            known = {f.name for f in dataclasses.fields(fill.settings_type)}
            if set(value) - known:
                raise ValueError(f"unknown {fill.name} fill settings {sorted(set(value) - known)}")
            value = fill.settings_type(**value)
        elif value is not None and not isinstance(value, fill.settings_type):
            raise ValueError(f"{fill.name} fill settings must be an object, got {value!r}")
        settings[fill.name] = value or fill.settings_type()
    if given:
        raise ValueError(f"fill settings for {sorted(given)}, which a {task.name!r} model "
                         f"does not take")
    return settings


def saturate(rgb, saturation):
    """Scale chroma around luma (saturation 1: unchanged)."""
    if saturation == 1.0:
        return rgb
    luma = rgb @ LUMA
    return np.clip(luma[..., None] + saturation * (rgb - luma[..., None]), 0.0, 1.0)


def render(paint, rgb8, alpha8, layers):
    """Put the output together a strip at a time (`paint(rows)` -> (flats, composed) uint8)
    straight into PIL images: no full-size float copy is ever made."""
    height, width = rgb8.shape[:2]
    image = Image.new("RGB" if alpha8 is None else "RGBA", (width, height))
    flats = Image.new("RGB", (width, height)) if layers else None
    lines = Image.new("RGBA", (width, height)) if layers else None
    for rows in strips(height, width):
        flat, out = paint(rows)
        if alpha8 is not None:
            out = np.dstack([out, alpha8[rows]])
        image.paste(Image.fromarray(out), (0, rows.start))
        if layers:
            darkness = line_darkness(to_unit(rgb8[rows]))
            flats.paste(Image.fromarray(flat), (0, rows.start))
            lines.paste(Image.fromarray(line_layer(darkness)), (0, rows.start))
    return Layers(image, flats, lines) if layers else image
