"""The browser app (`pix2color app`): open line art, see it coloured, and colour it again on
every brush stroke, bucket click and setting, then download the picture and its layers.

Needs `pip install pix2color[app]` (Gradio). It starts with analytics off and makes no network
calls of its own; the page uses system fonts, so it works on a machine with no internet.
`handler` holds what the app does with a drawing, free of Gradio (tested and timed alone);
`page` lays out the page and wires its events.

Uploads are capped at MAX_UPLOAD_BYTES, and uploads and results live in a folder of the app's
own that only its user can read: files older than RESULT_MAX_AGE seconds go, and the folder
goes when the app stops.
"""

import os
import shutil
import signal
import tempfile
import threading

from .handler import PREVIEW_SIDE, colorize_upload, model_choices, painted_hints  # noqa: F401
from .page import HEAD, HINT_COLOURS, MAX_RENDER_SIZE, RESULT_MAX_AGE, build_app  # noqa: F401

MAX_UPLOAD_BYTES = 50 * 2**20   # a 9000x9000 PNG drawing is a few MB


def launch(model=None, host="127.0.0.1", port=7860, logdir="runs"):
    """Build and serve the app: `model` (a folder or bundled name) listed first, then the
    bundled models and the models of the training runs in `logdir`."""
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
        app = build_app(model_choices(model, logdir))
        # quiet: Gradio's own banner tells a CLI user to set share=True, which they cannot.
        app.launch(server_name=host, server_port=port, share=False, inbrowser=False,
                   theme=theme, head=HEAD, ssr_mode=False, show_error=True, quiet=True,
                   max_file_size=MAX_UPLOAD_BYTES, prevent_thread_lock=True)
        print(f"pix2color app: http://{host}:{port}/ (Ctrl-C stops it)", flush=True)
        app.block_thread()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
