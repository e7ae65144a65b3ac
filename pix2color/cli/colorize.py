"""`pix2color colorize`: colour image files and folders, a chunk of files at a time."""

import argparse
import dataclasses
import re
import sys
import warnings
import os
from pathlib import Path

from ..files import IMAGE_EXTENSIONS, MAX_PIXELS
from ..layers import FORMATS, side_files
from ..fills import FILL_NAMES
from ..regions import BACKGROUNDS
from .parsing import add_command


def add_parser(commands, formatter):
    colorize = add_command(commands, "colorize", colorize_command, formatter,
                           help="colour image files or folders")
    colorize.add_argument("inputs", nargs="+", help="image files or folders (recursed)")
    colorize.add_argument("-o", "--output", required=True, help="output folder")
    colorize.add_argument("--batch-size", type=int, default=16,
                          help="images of one size the network colours at once")
    add_colour_options(colorize)
    colorize.add_argument("--hint", action="append", type=_hint_argument, default=[],
                          metavar="X,Y,COLOUR",
                          help="a colour hint at pixel X,Y of the input, e.g. 120,40,#ff0000 "
                               "(repeat for more; needs a hint-aware model such as the "
                               "default, sketch)")
    colorize.add_argument("--hint-image", default=None, metavar="PNG",
                          help="an RGBA image of the input's size: its pixels with alpha > 0 "
                               "are colour hints (strokes)")
    colorize.add_argument("--overwrite", action="store_true",
                          help="replace output files already there (without it, an output "
                               "name that is taken gets a free one, NAME-2.png, and a note)")
    colorize.add_argument("--layers", nargs="?", const="png", choices=FORMATS, default=None,
                          help="line-art models: also write the layers for colouring by hand, "
                               "the flats (the colour, no lines) and the lines (black on "
                               "transparent): 'png' (a bare --layers) as NAME.flats.png and "
                               "NAME.lines.png; 'ora' (Krita, GIMP, MyPaint) or 'psd' "
                               "(Photoshop; needs pip install 'pix2color[layers]') as one "
                               "layered file, NAME.ora or NAME.psd, the lines a multiply "
                               "layer over the flats")
    # "-1,-1,red" is a value, not an option: the rule Python 3.13's argparse applies.
    colorize._negative_number_matcher = re.compile(r"-\.?\d")


def add_colour_options(parser):
    """The options that decide the picture, shared by `colorize` and `serve` so the server's
    picture is the command line's."""
    parser.add_argument("--model", default=None,
                        help="sketch (the default; hint-aware), drawings (for clip art and "
                             "drawings that are not emoji), gray, or a model folder")
    parser.add_argument("--saturation", type=float, default=1.0,
                        help="scales the output's chroma (1: as the model painted it)")
    parser.add_argument("--render-size", type=int, default=None,
                        help="longer side the network sees (default: its training size)")
    parser.add_argument("--fill", choices=FILL_NAMES, default=None,
                        help="line-art models: 'regions' gives each region the lines enclose "
                             "one flat colour, 'lines' keeps the network's colour, 'none' is "
                             "the network's output without the input's lines on top "
                             "(default: the model's own, regions for the bundled models)")
    parser.add_argument("--background", choices=BACKGROUNDS, default=None,
                        help="region fill: the paper around a drawing. 'split' (default) "
                             "colours what the network, without hints, paints there and "
                             "keeps the rest white; 'white' keeps it all white; 'network' "
                             "takes the network's colour as painted")
    parser.add_argument("--max-pixels", type=int, default=MAX_PIXELS,
                        help="refuse images with more pixels than this, read from the "
                             "file's header before decoding (colorize skips them, serve "
                             "answers 400) (default: %(default)s)")


def load_colorizer(args):
    """The Colorizer `add_colour_options`' arguments ask for, set up as they say."""
    from ..colorizer import Colorizer

    colorizer = Colorizer.load(args.model)
    colorizer.max_pixels = args.max_pixels
    if args.background and "regions" in colorizer.fill_settings:   # line-art models
        colorizer.fill_settings["regions"] = dataclasses.replace(
            colorizer.fill_settings["regions"], background=args.background)
    return colorizer


def _collect_inputs(inputs, out_dir=None):
    """(file, path relative to its input argument) for every image file named or under a
    folder, and what was passed over: inside folders only regular files are read (a FIFO,
    a device or a symlink loop is listed "not a regular file"), and nothing under `out_dir`,
    so a run never reads what an earlier run wrote."""
    found, odd = [], []
    skip = Path(out_dir).resolve() if out_dir else None
    for item in map(Path, inputs):
        if item.is_dir():
            for p in sorted(item.rglob("*")):
                if p.suffix.lower() not in IMAGE_EXTENSIONS or p.is_dir():
                    continue
                if not p.is_file():
                    odd.append(f"{p}: not a regular file (a FIFO, socket, device or broken "
                               f"link); skipped")
                elif not (skip and skip in p.resolve().parents):
                    found.append((p, p.relative_to(item)))
        else:
            found.append((item, Path(item.name)))
    return found, odd


def _output_names(jobs, out_dir, overwrite=False, layers=None):
    """One output PNG per input, never two inputs on one name (a.png and a.jpg, or x.png in
    two input folders, become a.png and a-2.png), and never a file already there unless
    `overwrite`: that one gets the next free name too. Returns the names and a note for
    each input whose output is not its own name. `layers` ("png", "ora", "psd"): the layer
    files beside each output count too."""
    taken, targets, notes = set(), [], []
    for path, relative in jobs:
        wanted = (out_dir / relative).with_suffix(".png")
        target, stem, n = wanted, wanted.with_suffix(""), 2

        def busy(name):
            names = [name, *(side_files(name, layers) if layers else [])]
            return any(p in taken or not overwrite and os.path.lexists(p) for p in names)

        while busy(target):
            target, n = stem.with_name(f"{stem.name}-{n}").with_suffix(".png"), n + 1
        taken.update([target, *(side_files(target, layers) if layers else [])])
        targets.append(target)
        if target != wanted:
            why = "another input has its name" if wanted in taken else \
                f"{wanted.name} is there already; --overwrite replaces it"
            notes.append(f"note: {path} is written as {target} ({why})")
    return targets, notes


def _hint_argument(text):
    from ..hint_text import parse_colour, parse_hint

    try:
        x, y, colour = parse_hint(text)
        if parse_colour(colour).max() > 1.0:   # Pillow reads rgb(999,0,0) as it is
            raise ValueError(f"bad hint {text!r}: {colour} is not a colour (each channel "
                             f"0-255)")
        return x, y, colour
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _save_png(image, path):
    """Save as PNG through a temporary file, so an interrupted run never leaves half a file."""
    import io

    from ..files import write_atomically

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    write_atomically(path, buffer.getvalue())


def _colorize_chunk(colorizer, paths, args, failed):
    """Colour one chunk of files in batches. If one cannot be read or memory runs out, the
    chunk goes again one file at a time: a file that still fails is skipped (None) and
    listed in `failed`, never the end of the run."""
    from ..files import ImageReadError

    options = dict(fill=args.fill, layers=bool(args.layers), saturation=args.saturation,
                   render_size=args.render_size)
    hinted = bool(args.hint or args.hint_image)
    hints = [args.hint] * len(paths) if hinted else None
    hint_images = [args.hint_image] * len(paths) if hinted else None
    try:
        return colorizer.colorize_batch(paths, args.batch_size, hints=hints,
                                        hint_images=hint_images, **options)
    except (ImageReadError, MemoryError):
        results = []
        for i, path in enumerate(paths):
            try:
                results.append(colorizer.colorize(path, hints=hints and hints[i],
                                                  hint_image=hint_images and hint_images[i],
                                                  **options))
            except ImageReadError as error:
                failed.append(str(error))
                results.append(None)
            except MemoryError:
                failed.append(f"{path}: not enough memory to colour it; skipped")
                results.append(None)
        return results


def colorize_command(args):
    from ..layers import check_writer

    check_writer(args.layers)   # a missing psd-tools is said now, not after the colouring
    hinted = bool(args.hint or args.hint_image)
    # Hints without --model mean the bundled hint-aware line-art model.
    colorizer = load_colorizer(args)
    if hinted and not colorizer.hints:
        print(f"{args.model} was not trained with colour hints: use --model sketch (the "
              f"default) or another hint-aware model", file=sys.stderr)
        return 2
    if args.hint_image and not Path(args.hint_image).is_file():
        print(f"--hint-image {args.hint_image}: no such file", file=sys.stderr)
        return 2
    out_dir = Path(args.output)
    same = [item for item in args.inputs if Path(item).is_dir() and
            Path(item).resolve() == out_dir.resolve()]
    if same:
        print(f"-o {args.output} is the input folder {same[0]}: give another output folder "
              f"(one inside it is fine: it is never read as input)", file=sys.stderr)
        return 2
    jobs, failed = _collect_inputs(args.inputs, out_dir)
    if not jobs:
        print(f"no images found in {' '.join(args.inputs)}", *failed, sep="\n  ",
              file=sys.stderr)
        return 2
    if hinted and len(jobs) != 1:
        print(f"--hint and --hint-image are in one image's pixel coordinates: give one input "
              f"image, not {len(jobs)}", file=sys.stderr)
        return 2
    targets, notes = _output_names(jobs, out_dir, args.overwrite, args.layers)
    for note in notes[:10]:
        print(note)
    if len(notes) > 10:
        print(f"note: ... and {len(notes) - 10} more written under another name")
    written = _colorize_jobs(colorizer, jobs, targets, args, failed)
    print(f"wrote {written} image(s) to {out_dir}")
    if failed:
        print(f"skipped {len(failed)} file(s):", *failed, sep="\n  ", file=sys.stderr)
        return 1
    return 0


def _colorize_jobs(colorizer, jobs, targets, args, failed):
    """Colour every (path, relative) job into its target a chunk of `--batch-size` files
    at a time, with a progress bar; returns how many were written (the rest are listed in
    `failed`). A target that is one of the inputs is never written."""
    from tqdm.auto import tqdm

    from ..files import InputWarning

    input_files = {p.resolve() for p, _ in jobs if p.exists()}
    written = 0
    with tqdm(total=len(jobs), unit="img", desc="colorize") as bar, \
            warnings.catch_warnings():   # "looks like a photo" and the like: one line each
        warnings.simplefilter("always", InputWarning)
        warnings.showwarning = lambda message, *_, **__: tqdm.write(f"warning: {message}",
                                                                     file=sys.stderr)
        for start in range(0, len(jobs), args.batch_size):
            paths, chunk_targets = [], []   # read by colorize_batch, a chunk at a time
            for (path, _), target in zip(jobs[start: start + args.batch_size],
                                         targets[start: start + args.batch_size]):
                if target.resolve() in input_files:
                    failed.append(f"{path}: output {target} would overwrite an input; skipped")
                    continue
                paths.append(path)
                chunk_targets.append(target)
            for path, result, target in zip(
                    paths, _colorize_chunk(colorizer, paths, args, failed), chunk_targets):
                if result is not None:
                    written += _write_result(result, target, path, args.layers, failed)
            bar.update(len(jobs[start: start + args.batch_size]))
    return written


def _write_result(result, target, path, layers, failed):
    """Write one result (and its layers, as `layers`: "png", "ora", "psd" or None); a write
    that fails (a full disk, a file where a folder should be) is listed in `failed` and the
    run goes on. 1 if written, else 0."""
    from ..files import is_disk_full

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if layers == "png":  # name.png, and name.flats.png / name.lines.png beside it
            result.save(target)
            return 1
        if layers:  # name.ora or name.psd beside name.png
            result.save(side_files(target, layers)[0], layers)
            result = result.image
        _save_png(result, target)
        return 1
    except OSError as error:
        why = "no space left on device" if is_disk_full(error) else \
            (error.strerror or str(error)).lower()
        failed.append(f"{path}: cannot write {target}: {why}; skipped")
        return 0
