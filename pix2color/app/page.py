"""The app's page (Gradio 6): one drawing, coloured again on every stroke, control and click.

Every event that colours goes through `paint`, one at a time (one concurrency group): the
models are shared by every visitor, and two colourings at once would only halve each other's
speed on a small machine.
"""

import os
import tempfile
import warnings
from pathlib import Path
from typing import NamedTuple

from PIL import Image

from ..colorizer import Colorizer
from ..files import ImageReadError, InputWarning
from ..fills import FILL_NAMES
from ..regions import BACKGROUNDS, default_gap
from .handler import (add_fill, bucket_region, colorize_upload, combined_hints, message,
                      open_drawing, painted_hints, region_options, undo_fill, write_downloads)

MAX_RENDER_SIZE = 1024
RESULT_MAX_AGE = 3600           # seconds an upload or a result is kept
MAX_GAP = 48                    # the gap slider's end, in pixels
HINT_COLOURS = ["#e03c31", "#f28c28", "#f6d32d", "#3cb44b", "#2a7de1", "#7b3fbf", "#f4a6c0",
                "#8b5a2b", "#f1c27d", "#000000", "#ffffff", "#808080"]
# Gradio's brush palette stays open over the canvas after a colour is picked: close it as a
# press outside it does (a mousedown elsewhere), so the next stroke lands on the canvas.
HEAD = """<script>
document.addEventListener("click", (event) => {
  if (!event.target.closest("#editor .swatch-wrap button.color:not(.colorpicker)")) return;
  setTimeout(() => document.body.dispatchEvent(new MouseEvent("mousedown", {bubbles: true})));
}, true);
</script>"""


class Drawing(NamedTuple):
    """What is being coloured: the image (read whole); the uploaded file (messages name it
    by its own name, not Gradio's temporary path) or None; its name for the downloads; and
    whether the hint editor shows it (a sketch from the Sketch tab has no hints)."""
    image: object
    path: object
    name: str
    in_editor: bool


class DrawingInputs(NamedTuple):
    """Where a drawing comes from and what marks it: an upload and its hint editor, the
    Sketch tab's canvas, and the bucket with its undo."""
    upload: object
    editor: object
    canvas: object
    bucket: object
    undo: object


class Settings(NamedTuple):
    """The controls every colouring reads, in the order `PageEvents.colour` takes them."""
    model: object
    fill: object
    background: object
    gap: object
    saturation: object
    render_size: object


class Outputs(NamedTuple):
    """The picture, and the button and file list of its downloads."""
    result: object
    make_files: object
    files: object


def build_app(models):
    """A gr.Blocks app. `models`: {label: model}, a model being a bundled name or a folder
    (see `handler.model_choices`). Needs Gradio 6."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr

    events = PageEvents(gr, models)
    first = events.colorizer_for(next(iter(models)))
    with gr.Blocks(title="pix2color", analytics_enabled=False,
                   delete_cache=(RESULT_MAX_AGE // 4, RESULT_MAX_AGE)) as app:
        gr.Markdown("# pix2color\nOpen line art (or a grayscale photo): the picture is "
                    "coloured at once and again after every stroke. Paint colour hints with "
                    "the brush, or click a region of the picture to fill it with the bucket "
                    "colour.")
        drawing, fills = gr.State(None), gr.State([])
        with gr.Row():
            with gr.Column():
                inputs = drawing_inputs(gr)
                settings = setting_controls(gr, models, first)
            with gr.Column():
                outputs = result_outputs(gr)
        wire_events(gr, events, (drawing, inputs.editor, fills), inputs, settings, outputs)
    return app


def drawing_inputs(gr):
    """The Drawing and Sketch tabs, then the bucket colour and its undo."""
    with gr.Tabs():
        with gr.Tab("Drawing", id="drawing"):
            # An upload button, not the editor's own upload: the browser would fail
            # silently on a file it cannot decode; this names the file.
            upload = gr.UploadButton("Open a drawing", file_types=["image"], type="filepath",
                                     elem_id="upload", variant="primary")
            editor = gr.ImageEditor(
                type="numpy", image_mode="RGBA", sources=(), transforms=(), layers=False,
                label="Paint colour hints (hint-aware models, e.g. sketch)", elem_id="editor",
                brush=gr.Brush(colors=HINT_COLOURS, default_color=HINT_COLOURS[0],
                               default_size=8, color_mode="defaults"))
        with gr.Tab("Sketch", id="sketch"):
            canvas = gr.Sketchpad(type="numpy", label="Draw a sketch", elem_id="canvas",
                                  canvas_size=(512, 512),
                                  brush=gr.Brush(colors=["#000000"], default_size=3))
    with gr.Row():
        bucket = gr.ColorPicker(HINT_COLOURS[4], label="Bucket colour (click the picture to "
                                "fill a region)", elem_id="bucket")
        undo = gr.Button("Undo fill", elem_id="undo")
    return DrawingInputs(upload, editor, canvas, bucket, undo)


def setting_controls(gr, models, first):
    """The model and the settings of its picture, shown as the `first` model takes them (the
    region-fill ones for line art, the render size for gray models)."""
    model = gr.Dropdown(list(models), value=next(iter(models)), label="Model", elem_id="model")
    line_art = first.task_def.line_art
    fill = gr.Radio(list(FILL_NAMES), value=first.fill, elem_id="fill", label="Fill",
                    visible=line_art, info="regions: one flat colour per region the lines "
                    "enclose; lines: the network's colour under your lines; none: the "
                    "network's output alone")
    background = gr.Radio(list(BACKGROUNDS), value="split", visible=line_art,
                          label="Background (region fill)", elem_id="background",
                          info="split: colour only where the network paints; white: the "
                          "paper stays white; network: as painted")
    gap = gr.Slider(0, MAX_GAP, step=1, value=1, visible=line_art, label="Gap (region fill)",
                    elem_id="gap", info="gaps in outlines up to about twice this many pixels "
                    "are closed (set to 1% of the drawing's side on upload)")
    saturation = gr.Slider(0, 2, step=0.05, value=1.0, label="Saturation",
                           elem_id="saturation")
    render_size = gr.Slider(32, MAX_RENDER_SIZE, step=32, value=first.size,
                            visible=first.task_def.keeps_lightness,
                            label="Render size (gray models: the longer side the network sees)")
    return Settings(model, fill, background, gap, saturation, render_size)


def result_outputs(gr):
    """The picture (clickable: the bucket) and its downloads."""
    result = gr.Image(type="pil", format="png", label="Picture (click a region to fill it)",
                      elem_id="result", interactive=False)
    make_files = gr.Button("Make downloads", elem_id="make-downloads")
    files = gr.File(file_count="multiple", label="Downloads: the picture, its flats, its "
                    "lines, and a layered OpenRaster file (Krita, GIMP)", elem_id="downloads",
                    interactive=False, height=140)
    return Outputs(result, make_files, files)


def wire_events(gr, events, state, inputs, settings, outputs):
    """Every event to its `PageEvents` handler, all in one concurrency group (one colouring
    at a time), each acting on the last of a burst of triggers. `state`: the drawing, the
    hint editor and the fills."""
    once = dict(concurrency_id="paint", concurrency_limit=1, trigger_mode="always_last",
                show_progress="minimal")
    drawing, editor, fills = state
    result = outputs.result

    def clicked(evt: gr.SelectData, *args):   # Gradio passes the click by this annotation
        return events.clicked(evt.index, *args)

    inputs.upload.upload(events.opened, [inputs.upload, *settings],
                         [drawing, editor, fills, settings.gap, result], **once)
    editor.input(events.paint, [*state, *settings], result, **once)
    inputs.canvas.input(events.sketched, [inputs.canvas, fills, *settings], [drawing, result],
                        **once)
    result.select(clicked, [*state, inputs.bucket, *settings], [fills, result], **once)
    inputs.undo.click(events.undone, [*state, *settings], [fills, result], **once)
    for control in (settings.fill, settings.background):
        control.input(events.paint, [*state, *settings], result, **once)
    for control in (settings.gap, settings.saturation, settings.render_size):
        control.release(events.paint, [*state, *settings], result, **once)
    settings.model.input(events.model_changed, [*state, *settings],
                         [settings.render_size, settings.fill, settings.background,
                          settings.gap, result], **once)
    outputs.make_files.click(events.downloads, [*state, *settings], outputs.files, **once)


class PageEvents:
    """What the page's events do. Each takes the drawing, the hint editor's value and the
    bucket fills with the settings (in `Settings`' order) and returns what its event
    updates. The models load on first use and are shared by every visitor."""

    def __init__(self, gr, models):
        self.gr, self.models, self.loaded = gr, models, {}

    def colorizer_for(self, label):
        if label not in self.loaded:
            self.loaded[label] = Colorizer.load(self.models[label])
        return self.loaded[label]

    @staticmethod
    def set_regions(colorizer, shape, background, gap):
        # The gap slider starts at the drawing's default: leave that to the library.
        region_options(colorizer, background, None if gap == default_gap(shape) else gap)

    def colour(self, drawing, editor, fills, label, fill, background, gap, saturation, size,
               announce=False, layers=False):
        """The picture (or its Layers) of `drawing` with the current hints and settings;
        `announce`: show the library's InputWarning (on a new drawing or model, not on
        every stroke)."""
        gr, colorizer = self.gr, self.colorizer_for(label)
        painted = painted_hints(editor) if drawing.in_editor else None
        if (painted is not None or fills) and not colorizer.hints:
            if announce:
                gr.Warning(f"{label} takes no colour hints: the hints are ignored (pick a "
                           f"hint-aware model such as sketch)")
            painted, fills = None, []
        shape = drawing.image.height, drawing.image.width
        hint_image, points = combined_hints(shape, painted, fills)
        self.set_regions(colorizer, shape, background, gap)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", InputWarning)
                result = colorize_upload(colorizer, drawing.image, size, hint_image, fill,
                                         hints=points, saturation=saturation, layers=layers)
        except ImageReadError as error:
            raise gr.Error(message(error, drawing.path)) from None
        for warning in caught if announce else []:  # "looks like a photo": the result stands
            gr.Warning(message(warning.message, drawing.path))
        return result

    def paint(self, drawing, editor, fills, *settings):
        if drawing is None:
            return self.gr.skip()
        return self.colour(drawing, editor, fills, *settings)

    def opened(self, path, *settings):
        """A new upload: read it (an unreadable file says so, once), show it in the editor,
        set the gap slider to its default, forget the last drawing's fills, colour it."""
        gr = self.gr
        if path is None:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        try:
            image, preview = open_drawing(path)
        except ImageReadError as error:
            raise gr.Error(message(error, path)) from None
        drawing = Drawing(image, path, Path(path).name, True)
        gap = default_gap((image.height, image.width))
        settings = settings[:3] + (gap,) + settings[4:]
        picture = self.colour(drawing, None, [], *settings, announce=True)
        editor = {"background": preview, "layers": [], "composite": None}
        return drawing, editor, [], gr.update(value=gap), picture

    def sketched(self, canvas, fills, *settings):
        image = (canvas or {}).get("composite")
        if image is None or not image[..., 3].any():
            return self.gr.skip(), self.gr.skip()
        drawing = Drawing(Image.fromarray(image), None, "sketch", False)
        return drawing, self.colour(drawing, None, fills, *settings)

    def clicked(self, index, drawing, editor, fills, bucket, *settings):
        """The bucket: the region clicked at `index` (x, y) takes the bucket colour."""
        gr, colorizer = self.gr, self.colorizer_for(settings[0])
        if drawing is None or not colorizer.hints:
            return gr.skip(), gr.skip()
        shape = drawing.image.height, drawing.image.width
        painted = painted_hints(editor) if drawing.in_editor else None
        self.set_regions(colorizer, shape, *settings[2:4])
        region = bucket_region(colorizer, drawing.image, index,
                               *combined_hints(shape, painted, fills))
        if region is None:
            gr.Info("that is a line: click inside a region to fill it")
            return gr.skip(), gr.skip()
        fills = add_fill(fills, region, bucket)
        return fills, self.colour(drawing, editor, fills, *settings)

    def undone(self, drawing, editor, fills, *settings):
        if drawing is None or not fills:
            return self.gr.skip(), self.gr.skip()
        fills = undo_fill(fills)
        return fills, self.colour(drawing, editor, fills, *settings)

    def downloads(self, drawing, editor, fills, *settings):
        if drawing is None:
            raise self.gr.Error("nothing to download yet: open a drawing first")
        line_art = self.colorizer_for(settings[0]).task_def.line_art
        picture = self.colour(drawing, editor, fills, *settings, layers=line_art)
        folder = tempfile.mkdtemp(prefix="downloads-", dir=os.environ.get("GRADIO_TEMP_DIR"))
        return [str(p) for p in write_downloads(picture, folder, Path(drawing.name).stem)]

    def model_changed(self, drawing, editor, fills, label, *settings):
        gr, colorizer = self.gr, self.colorizer_for(label)
        line_art = colorizer.task_def.line_art
        picture = gr.skip() if drawing is None else self.colour(
            drawing, editor, fills, label, *settings, announce=True)
        return (gr.update(visible=colorizer.task_def.keeps_lightness),
                gr.update(visible=line_art, value=colorizer.fill),
                gr.update(visible=line_art), gr.update(visible=line_art), picture)
