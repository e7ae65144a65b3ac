"""The `pix2color` command line: colorize, train, evaluate, prepare, pairs, export, app, info.

One module per group of commands: `colorize` (`pix2color.cli.colorize`), the commands that read
a data set (`pix2color.cli.training`), and the small ones here; `pix2color.cli.parsing` makes
every command's parser. `--help` never starts TensorFlow.
"""

import argparse
import json
import os
import sys
from pathlib import Path

from .. import __version__
from . import colorize, serve, training
from .colorize import _save_png  # noqa: F401  (tests reach it as pix2color.cli._save_png)
from .parsing import HelpFormatter, add_command
from .training import (add_training_arguments, config_from_args,  # noqa: F401  (public)
                       train_from_args)

MODEL_HELP = ("the model: sketch (the bundled line-art model, hint-aware), drawings (the same "
              "for clip art and drawings that are not emoji), gray (the bundled photo model), "
              "or a model folder")
# The XDoG options of `pix2color pairs`: what each does, and its default, which is
# pix2color.sketch.DEFAULTS (written out here so `--help` need not start TensorFlow; a test
# keeps the two equal).
XDOG_OPTIONS = {"sigma": ("blur width (line width)", 0.4), "k": ("ratio of the two blurs", 1.6),
                "p": ("edge sharpening", 10.0), "epsilon": ("ink level", 0.2),
                "phi": ("step sharpness", 10.0)}


def pairs_command(args):
    from ..sketch import make_pairs

    chosen = {name: getattr(args, name) for name in XDOG_OPTIONS if getattr(args, name) is not None}
    written, skipped = make_pairs(args.src_dir, args.out_dir, size=args.size, soft=args.soft,
                                  **chosen)
    print(f"wrote {written} pair(s) to {Path(args.out_dir) / 'sketch'} and "
          f"{Path(args.out_dir) / 'src'}")
    if skipped:
        print(f"skipped {len(skipped)} unreadable file(s):", *skipped, sep="\n  ",
              file=sys.stderr)
        return 1
    return 0


def export_command(args):
    from ..colorizer import Colorizer

    written = Colorizer.load(args.model).export(args.dir, args.version, args.format)
    print(f"wrote {written}")
    if args.format == "saved_model":
        print(f"serve it: docker run -p 8501:8501 -v {Path(args.dir).resolve()}:/models/pix2color "
              f"-e MODEL_NAME=pix2color tensorflow/serving")
    return 0


def average_command(args):
    from ..colorizer import Colorizer

    Colorizer.average(args.models).save(args.out, args.weights_dtype)
    print(f"wrote {args.out}: the mean of {len(args.models)} models' weights")
    return 0


def app_command(args):
    try:
        from ..app import launch
        import gradio  # noqa: F401
    except ImportError:
        print("pix2color app needs Gradio: pip install 'pix2color[app]'", file=sys.stderr)
        return 2
    launch(args.model, args.host, args.port)
    return 0


def _rounded(metrics):
    return ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                     for k, v in metrics.items()) or "none recorded"


def info_command(args):
    from ..colorizer import Colorizer

    colorizer = Colorizer.load(args.model)
    info = colorizer.info
    training = info.training
    runs = list(_trained_runs(training))
    data = sorted({run.get("data", {}).get("name") or json.dumps(run.get("data", {}))
                   for run in runs})
    modes = sorted({run.get("config", {}).get("mode", "?") for run in runs})
    print(f"task:        {colorizer.task} ({colorizer.colour_space})\n"
          f"size:        {colorizer.size} (longer side the network sees)\n"
          f"channels:    {info.in_channels} in, {info.out_channels} out"
          f"{' (with colour hints)' if colorizer.hints else ''}\n"
          f"fill:        {colorizer.fill} (default for colorize; see --fill)"
          f"{''.join(f'; {name}: {value}' for name, value in colorizer.fill_settings.items())}\n"
          f"generator:   {info.generator['kind']} {json.dumps(info.generator['args'])}\n"
          f"parameters:  {colorizer.model.count_params():,}\n"
          f"trained on:  {'; '.join(data)}\n"
          f"steps:       {_steps(training)}  mode: {', '.join(modes)}\n"
          f"metrics:     {_rounded(training.get('metrics', {}))} (validation split, the "
          f"network's raw output)\n"
          f"version:     pix2color {info.pix2color_version}")
    return 0


def _trained_runs(training):
    """The training records of the runs behind a model: itself, or an average's members'
    (averages of averages included)."""
    members = training.get("average_of")
    if not members:
        yield training
    for member in members or ():
        yield from _trained_runs(member["training"])


def _steps(training):
    """A run's step count, or what an average was made of: "average of a (average of b, c), d"."""
    members = training.get("average_of")
    if not members:
        return str(training.get("step", "?"))
    return "average of " + ", ".join(
        member["model"] + (f" ({_steps(member['training'])})"
                           if "average_of" in member["training"] else "")
        for member in members)


def add_small_parsers(commands):
    """The parsers of this module's commands, in the order `--help` lists them."""
    pairs = add_command(
        commands, "pairs", pairs_command,
        help="make line-art training pairs from a folder of colour images (XDoG)",
        description="Writes OUT_DIR/sketch/... (extracted lines) and OUT_DIR/src/... (the colour "
                    "images) with matching names: the layout `pix2color train --data` reads.")
    pairs.add_argument("src_dir", help="a folder of colour images (searched recursively)")
    pairs.add_argument("out_dir", help="where sketch/ and src/ go")
    pairs.add_argument("--size", type=int, default=None,
                       help="resize so the longer side is SIZE (default: keep the size)")
    for name, (meaning, default) in XDOG_OPTIONS.items():
        pairs.add_argument(f"--{name}", type=float, default=default,
                           help=f"XDoG {meaning} (default: {default}, picked by line F1 on "
                                f"OpenMoji)")
    pairs.add_argument("--soft", action="store_true", help="threshold-free, pencil-like lines")

    export = add_command(
        commands, "export", export_command,
        help="export a model for TensorFlow Serving (or ONNX)",
        description="Writes DIR/<version>/saved_model.pb with the signatures serving_default "
                    "(float tensors) and colorize_image (encoded image bytes -> PNG bytes).")
    export.add_argument("model", help=MODEL_HELP)
    export.add_argument("dir", help="the model base path TF Serving watches")
    export.add_argument("--version", type=int, default=1,
                        help="the version folder under DIR (TF Serving serves the highest)")
    export.add_argument("--format", choices=("saved_model", "onnx"), default="saved_model",
                        help="onnx needs pip install pix2color[onnx]")

    app = add_command(commands, "app", app_command,
                      help="the browser app (pip install pix2color[app])")
    app.add_argument("--model", default=None, help="a model folder (listed first); the "
                     "bundled sketch (line art, hints) and gray (photos) are always listed")
    app.add_argument("--host", default="127.0.0.1",
                     help="the address to serve on (0.0.0.0 exposes it to the network)")
    app.add_argument("--port", type=int, default=7860, help="the port to serve on")

    average = add_command(
        commands, "average", average_command,
        help="average the weights of fine-tunes of one model (a model soup)",
        description="Writes a model whose weights are the mean of the given models'. They "
                    "must be the same network (task, size, hints, generator): fine-tunes of "
                    "one starting model, as the bundled sketch model is.")
    average.add_argument("models", nargs="+", help="two or more model folders (or sketch, "
                         "gray)")
    average.add_argument("-o", "--out", required=True, help="the model folder to write")
    average.add_argument("--weights-dtype", choices=("float32", "float16"), default="float32",
                         help="float16 halves the file")

    info = add_command(commands, "info", info_command, help="describe a model")
    info.add_argument("model", help=MODEL_HELP)


def build_parser():
    parser = argparse.ArgumentParser(prog="pix2color", formatter_class=HelpFormatter,
                                     description="Colorize line art and "
                                     "grayscale images the pix2pix way.")
    parser.add_argument("--tf-logs", action="store_true",
                        help="show TensorFlow's own log lines (oneDNN, CUDA probing, CPU "
                             "features), hidden by default; so does setting "
                             "TF_CPP_MIN_LOG_LEVEL yourself")
    parser.add_argument("--version", action="version", version=f"pix2color {__version__}")
    commands = parser.add_subparsers(dest="command")

    colorize.add_parser(commands, HelpFormatter)
    training.add_parsers(commands, HelpFormatter)
    serve.add_parser(commands, HelpFormatter)
    add_small_parsers(commands)
    return parser


def run_reporting_errors(command, args, name):
    """Run a parsed command the way `pix2color` does: TensorFlow imported quietly (unless
    `args.tf_logs`); a user's mistake (bad path, bad file, bad option) is one line, not a
    traceback; Ctrl-C ends it with exit status 130 and no traceback (training says what it
    saved first)."""
    try:
        if not getattr(args, "tf_logs", False):
            import_tensorflow_quietly()
        from ..files import ImageReadError
        from ..modelfile import ModelFileError
        from ..runs import RunFolderError

        try:
            return command(args)
        except (ModelFileError, FileNotFoundError, ImageReadError, ValueError, OSError,
                RunFolderError, ImportError) as error:  # ImportError: a missing optional extra
            print(f"{name}: error: {error}", file=sys.stderr)
            return 2
    except KeyboardInterrupt:
        return 130   # 128 + SIGINT, what a shell reports for it


def import_tensorflow_quietly():
    """Import TensorFlow without its start-up log lines. TF_CPP_MIN_LOG_LEVEL=3 quiets what
    it logs once running, but TensorFlow prints a few lines (oneDNN, CUDA drivers, CPU
    features) before its logger reads that, so stderr itself is pointed at /dev/null while
    it loads and probes its devices. Python errors are still printed: after it is restored."""
    if "tensorflow" in sys.modules or "TF_CPP_MIN_LOG_LEVEL" in os.environ:
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow as tf

        tf.config.list_physical_devices()  # the CUDA probe logs on first use, not on import
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:   # `pix2color` alone: what it can do
        parser.print_help()
        return 2
    return run_reporting_errors(args.run, args, f"pix2color {args.command}")


if __name__ == "__main__":
    sys.exit(main())
