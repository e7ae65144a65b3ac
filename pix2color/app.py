"""The browser app: upload an image or draw a sketch, see it coloured (`pix2color app`).
With a hint-aware model (the default sketch) a brush paints colour hints over the upload.

Needs `pip install pix2color[app]` (Gradio). It starts with analytics off and makes no network
calls of its own; the page uses system fonts, so it works on a machine with no internet.
`colorize_upload` is the handler, kept free of Gradio so it can be tested and reused.

Uploads are capped at MAX_UPLOAD_BYTES, and uploads and results live in a folder of the app's
own that only its user can read: files older than RESULT_MAX_AGE seconds go, and the folder
goes when the app stops.
"""

import os
import shutil
import signal
import tempfile
import threading
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

from .colorizer import Colorizer
from .files import ImageReadError, InputWarning, open_image
from .modelfile import BUNDLED
from .fills import FILL_NAMES

MAX_RENDER_SIZE = 1024
MAX_UPLOAD_BYTES = 50 * 2**20   # a 9000x9000 PNG drawing is a few MB
RESULT_MAX_AGE = 3600           # seconds an upload or a result is kept
PREVIEW_SIDE = 2048  # the hint editor shows a larger upload shrunk to this many pixels a side
HINT_COLOURS = ["#e03c31", "#f28c28", "#f6d32d", "#3cb44b", "#2a7de1", "#7b3fbf", "#f4a6c0",
                "#8b5a2b", "#f1c27d", "#000000", "#ffffff", "#808080"]


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


def colorize_upload(colorizer, image, render_size=None, hint_image=None, fill=None):
    """What the app does with an upload: a file path, PIL image, numpy array, or the dict a
    Gradio sketchpad gives (its `composite`) -> a PIL image of the input's own size.
    `hint_image`: painted hints (RGBA, see `painted_hints`) for a hint-aware model; if the
    editor showed the input at another size, each painted pixel becomes a point hint where it
    lies on the input (no full-size hint image is made). `fill`: how a
    line-art model fills ("regions", "lines", "none"; None: the model's own); ignored for gray.
    Raises ImageReadError, naming the file, for anything that is not a usable image."""
    if isinstance(image, dict):  # gr.Sketchpad / gr.ImageEditor value
        image = image.get("composite")
    if image is None:
        raise ImageReadError("no image: upload one or draw a sketch first")
    if isinstance(image, np.ndarray) and image.ndim == 3 and image.shape[-1] == 4:
        if not image[..., 3].any():
            raise ImageReadError("the drawing is empty: draw a sketch first")
    # A larger render size helps a model that keeps the input's own lightness (gray);
    # the fill is for line art.
    size = int(render_size) if colorizer.task_def.keeps_lightness and render_size else None
    fill = fill if colorizer.task_def.line_art else None
    if hint_image is not None and colorizer.hints:
        if isinstance(image, (str, Path)):
            image = open_image(image)  # read once: for its size here and for the colouring
        shape = _image_shape(image)
        if hint_image.shape[:2] != shape:
            return colorizer.colorize(image, render_size=size, fill=fill,
                                      hints=_painted_points(hint_image, shape))
        return colorizer.colorize(image, render_size=size, hint_image=hint_image, fill=fill)
    return colorizer.colorize(image, render_size=size, fill=fill)


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


def build_app(models=None):
    """A gr.Blocks app. `models`: {label: model} where a model is a bundled name or a folder
    (default: the bundled models). Needs Gradio 6."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr

    models = dict(models or {name: name for name in BUNDLED})
    loaded = {}

    def colorizer_for(label):
        if label not in loaded:
            loaded[label] = Colorizer.load(models[label])
        return loaded[label]

    def run(image, label, render_size, fill, editor=None):
        colorizer = colorizer_for(label)
        hints = painted_hints(editor)
        if hints is not None and not colorizer.hints:
            gr.Warning(f"{label} takes no colour hints: the painted hints were ignored "
                       f"(pick a hint-aware model such as sketch)")
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", InputWarning)
                result = colorize_upload(colorizer, image, render_size, hints, fill)
            for warning in caught:  # "looks like a photo": shown, the result still given
                gr.Warning(_message(warning.message, image))
            return result
        except ImageReadError as error:
            raise gr.Error(_message(error, image)) from None

    def show(path):  # what the hint editor shows: the upload, shrunk if it is large
        try:
            image = open_image(path) if path else None
            if image is not None and max(image.size) > PREVIEW_SIDE:
                image.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
            return image
        except ImageReadError as error:
            raise gr.Error(_message(error, path)) from None

    def model_changed(label):
        colorizer = colorizer_for(label)
        return (gr.update(visible=colorizer.task_def.keeps_lightness, value=colorizer.size),
                gr.update(visible=colorizer.task_def.line_art, value=colorizer.fill))

    first = next(iter(models))
    with gr.Blocks(title="pix2color", analytics_enabled=False,
                   delete_cache=(RESULT_MAX_AGE // 4, RESULT_MAX_AGE)) as app:
        gr.Markdown("# pix2color\nUpload line art or a grayscale photo, or draw a sketch; "
                    "the colour result has the input's size (download it from the result).")
        with gr.Row():
            with gr.Column():
                with gr.Tabs():
                    with gr.Tab("Upload", id="upload"):
                        # A file, not gr.Image: Gradio would open a broken upload itself and
                        # fail with its own message before the handler could name the file.
                        upload = gr.File(file_types=["image"], type="filepath",
                                         label="Image file", elem_id="upload")
                        # The upload, with a brush to paint colour hints over it.
                        preview = gr.ImageEditor(
                            type="numpy", image_mode="RGBA", sources=(), transforms=(),
                            layers=False, label="Upload: paint colour hints on it "
                            "(hint-aware models, e.g. sketch)", elem_id="preview",
                            brush=gr.Brush(colors=HINT_COLOURS, default_color=HINT_COLOURS[0],
                                           default_size=8, color_mode="defaults"))
                        upload_button = gr.Button("Colorize", variant="primary",
                                                  elem_id="colorize-upload")
                    with gr.Tab("Draw", id="draw"):
                        canvas = gr.Sketchpad(type="numpy", label="Sketch", elem_id="canvas",
                                              canvas_size=(512, 512),
                                              brush=gr.Brush(colors=["#000000"],
                                                             default_size=3))
                        draw_button = gr.Button("Colorize drawing", variant="primary",
                                                elem_id="colorize-drawing")
                model = gr.Dropdown(list(models), value=first, label="Model", elem_id="model")
                render_size = gr.Slider(32, MAX_RENDER_SIZE, step=32, label="Render size "
                                        "(longer side the network sees; gray models)",
                                        visible=colorizer_for(first).task_def.keeps_lightness,
                                        value=colorizer_for(first).size)
                fill = gr.Radio(list(FILL_NAMES), value=colorizer_for(first).fill, label="Fill "
                                "(line art): regions = one flat colour per region the lines "
                                "enclose; lines = the network's colour under your lines; "
                                "none = the network's output alone", elem_id="fill",
                                visible=colorizer_for(first).task_def.line_art)
            result = gr.Image(type="pil", format="png", label="Colour", elem_id="result",
                              interactive=False)
        upload.upload(show, upload, preview)
        upload_button.click(run, [upload, model, render_size, fill, preview], result)
        draw_button.click(run, [canvas, model, render_size, fill], result)
        model.change(model_changed, model, [render_size, fill])
    return app


def _message(error, upload, limit=300):
    """The error as the user should see it: their file's name, not Gradio's temporary path."""
    message = str(error)
    if isinstance(upload, str):
        message = message.replace(upload, Path(upload).name)
    return message if len(message) <= limit else message[: limit - 3] + "..."


def launch(model=None, host="127.0.0.1", port=7860):
    """Build and serve the app; `model` (a folder or bundled name) is listed first."""
    models = {name: name for name in BUNDLED}
    if model and model not in BUNDLED:
        models = {Path(model).name: model, **models}
    elif model:
        models = {model: model, **{k: v for k, v in models.items() if k != model}}
    import gradio as gr

    # System fonts only: the default theme would fetch web fonts from the internet.
    theme = gr.themes.Default(font=["ui-sans-serif", "system-ui", "sans-serif"],
                              font_mono=["ui-monospace", "monospace"])
    # Gradio keeps uploads and results in GRADIO_TEMP_DIR (else a shared /tmp/gradio that
    # other users can read, and never emptied): a private folder, removed on the way out
    # (inside GRADIO_TEMP_DIR if one is set).
    folder = tempfile.mkdtemp(prefix="pix2color-app-", dir=os.environ.get("GRADIO_TEMP_DIR"))
    os.environ["GRADIO_TEMP_DIR"] = folder
    if threading.current_thread() is threading.main_thread():   # `kill` stops it as Ctrl-C does
        signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        build_app(models).launch(server_name=host, server_port=port, share=False,
                                 inbrowser=False, theme=theme, ssr_mode=False, show_error=True,
                                 max_file_size=MAX_UPLOAD_BYTES)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
