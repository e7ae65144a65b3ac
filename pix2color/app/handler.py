"""What the app does with a drawing, kept free of Gradio so it can be tested and timed alone:
colour it with the painted hints and the bucket's fills, list the models, write the downloads.
"""

import dataclasses
from pathlib import Path

import numpy as np
from PIL import Image, ImageColor
from scipy import ndimage

from ..files import ImageReadError, open_image
from ..layers import Layers
from ..modelfile import BUNDLED, INFO_FILE

PREVIEW_SIDE = 2048  # the hint editor shows a larger upload shrunk to this many pixels a side


def painted_hints(editor_value):
    """The strokes painted in a gr.ImageEditor (its layers, merged) as an RGBA array, or None
    when nothing was painted: a hint image for `Colorizer.colorize`."""
    layers = [np.asarray(layer) for layer in (editor_value or {}).get("layers") or []
              if layer is not None]
    layers = [layer for layer in layers if layer.ndim == 3 and layer.shape[-1] == 4 and
              layer[..., 3].any()]
    if not layers:
        return None
    merged = layers[0].copy()
    for layer in layers[1:]:  # later layers paint over earlier ones
        on_top = layer[..., 3] > 0
        merged[on_top] = layer[on_top]
    return merged


def open_drawing(path):
    """An uploaded file -> (the image, read whole; what the hint editor shows: the image, or a
    copy shrunk to PREVIEW_SIDE). Raises ImageReadError naming the file."""
    image = open_image(path)
    preview = image
    if max(image.size) > PREVIEW_SIDE:
        preview = image.copy()
        preview.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    return image, preview


def colorize_upload(colorizer, image, render_size=None, hint_image=None, fill=None, *,
                    hints=None, saturation=1.0, layers=False):
    """What the app does with a drawing: a file path, PIL image, numpy array, or the dict a
    Gradio sketchpad gives (its `composite`) -> a PIL image of the input's own size (or
    `Layers` with `layers=True`).

    `hint_image`: painted hints (RGBA, see `painted_hints`) for a hint-aware model; if the
    editor showed the input at another size, each painted pixel becomes a point hint where it
    lies on the input (no full-size hint image is made). `hints`: point hints (x, y, colour)
    in the input's pixels, e.g. the bucket's fills. `fill`: how a line-art model fills
    ("regions", "lines", "none"; None: the model's own); ignored for gray.
    Raises ImageReadError, naming the file, for anything that is not a usable image."""
    if isinstance(image, dict):  # gr.Sketchpad / gr.ImageEditor value
        image = image.get("composite")
    if image is None:
        raise ImageReadError("no image: upload one or draw a sketch first")
    if isinstance(image, np.ndarray) and image.ndim == 3 and image.shape[-1] == 4:
        if not image[..., 3].any():
            raise ImageReadError("the drawing is empty: draw a sketch first")
    # A larger render size helps a model that keeps the input's own lightness (gray);
    # the fill and the layers are for line art.
    line_art = colorizer.task_def.line_art
    options = dict(render_size=int(render_size) if colorizer.task_def.keeps_lightness and
                   render_size else None, fill=fill if line_art else None,
                   saturation=float(saturation), layers=layers and line_art)
    if not colorizer.hints or (hint_image is None and not hints):
        return colorizer.colorize(image, **options)
    if isinstance(image, (str, Path)):
        image = open_image(image)  # read once: for its size here and for the colouring
    hints = list(hints or [])
    shape = _image_shape(image)
    if hint_image is not None and hint_image.shape[:2] != shape:
        hints, hint_image = _painted_points(hint_image, shape) + hints, None
    return colorizer.colorize(image, hints=hints or None, hint_image=hint_image, **options)


def _painted_points(hint_image, shape):
    """Painted pixels of a hint image shown at another size -> point hints (x, y, (r, g, b))
    at the centres of those pixels on an image of `shape`."""
    rows, cols = np.nonzero(hint_image[..., 3] > 0)
    scale_y, scale_x = shape[0] / hint_image.shape[0], shape[1] / hint_image.shape[1]
    colours = hint_image[rows, cols, :3]
    return [(min(int((c + 0.5) * scale_x), shape[1] - 1), min(int((r + 0.5) * scale_y),
                                                                shape[0] - 1), tuple(rgb))
            for r, c, rgb in zip(rows.tolist(), cols.tolist(), colours.tolist())]


def _image_shape(image):
    if isinstance(image, Image.Image):
        return image.height, image.width
    return np.asarray(image).shape[:2]


def region_options(colorizer, background=None, gap=None):
    """Set how region fill treats the paper (`background`: "split", "white", "network") and
    the gaps it closes (`gap`: the trapped ball's radius in pixels; None: 1% of the
    drawing's longer side) on `colorizer`; each setting keeps its own segmentations."""
    if "regions" in colorizer.fill_settings:   # line-art models
        colorizer.fill_settings["regions"] = dataclasses.replace(
            colorizer.fill_settings["regions"], background=background or "split",
            gap=None if gap is None else int(gap))


def model_choices(model=None, logdir="runs"):
    """{label: model} for the model menu: `model` (a bundled name or a folder) first, the
    bundled models, then each training run's final and best model found in `logdir`."""
    choices = {name: name for name in BUNDLED}
    for run in sorted(Path(logdir).glob("*")) if Path(logdir).is_dir() else []:
        for kind in ("model", "best"):
            if (run / kind / INFO_FILE).is_file():
                choices[str(run / kind)] = str(run / kind)
    if model:
        label = model if model in BUNDLED else str(Path(model))
        choices = {label: model, **{k: v for k, v in choices.items() if k != label}}
    return choices


def bucket_region(colorizer, image, point, hint_image=None, hints=None):
    """The region a bucket click at `point` (x, y) fills, as a bool mask of `image`'s size:
    the pixels around it that region fill (with the hints so far) paints one flat colour,
    bounded by the lines; None for a click on a line."""
    layers = colorize_upload(colorizer, image, None, hint_image, "regions", hints=hints,
                             layers=True)
    flats, lines = np.asarray(layers.flats), np.asarray(layers.lines)[..., 3] > 127
    x, y = (int(v) for v in point)
    same = (flats == flats[y, x]).all(-1) & ~lines
    labels, _ = ndimage.label(same)
    return None if labels[y, x] == 0 else labels == labels[y, x]


def add_fill(fills, region, colour):
    """The bucket: `region` (a `bucket_region` mask) set to `colour`, over the strokes and
    fills before it. A new list."""
    return [*(fills or []), (region, colour)]


def undo_fill(fills):
    """The fills without the last one. A new list."""
    return list(fills or [])[:-1]


def combined_hints(shape, painted=None, fills=()):
    """Painted strokes (RGBA, see `painted_hints`; None) and bucket fills -> (a hint image of
    `shape`, or None; point hints, or None) for `colorize_upload`. Each fill paints its whole
    region, so it outvotes any stroke there (a fill made on another drawing, of another size,
    is left out); strokes painted on a shrunk view of the drawing become point hints."""
    points = None
    if painted is not None and painted.shape[:2] != tuple(shape):
        points, painted = _painted_points(painted, shape), None
    fills = [(region, colour) for region, colour in fills or () if region.shape == tuple(shape)]
    if not fills:
        return painted, points
    hint_image = np.zeros((*shape, 4), np.uint8) if painted is None else painted.copy()
    for region, colour in fills:
        hint_image[region] = (*ImageColor.getrgb(colour)[:3], 255)
    return hint_image, points


def write_downloads(picture, folder, stem):
    """Write `picture` (a PIL image, or `Layers`: then also its flats and lines as PNGs and
    one layered OpenRaster file, the lines a multiply layer over the flats) into `folder`,
    named after `stem`; returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if not isinstance(picture, Layers):   # a photo model's picture: no layers
        picture.save(folder / f"{stem}.png")
        return [folder / f"{stem}.png"]
    paths = picture.save(folder / f"{stem}.png")     # the picture, .flats.png, .lines.png
    return [*paths, *picture.save(folder / f"{stem}.ora")]


def message(error, upload, limit=300):
    """The error as the user should see it: their file's name, not Gradio's temporary path."""
    text = str(error)
    if isinstance(upload, (str, Path)):
        text = text.replace(str(upload), Path(upload).name)
    return text if len(text) <= limit else text[: limit - 3] + "..."
