"""The `pix2color` command line: colorize, train, evaluate, pairs, info."""

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

from .files import IMAGE_EXTENSIONS, MAX_PIXELS
from .regions import FILLS

# The article's data: 15,000 Danbooru pairs, 12,000 / 1,500 / 1,500 train / val / test.
DANBOORU_LIMIT = 15000
# The XDoG options of `pix2color pairs`: what each does, and its default, which is
# pix2color.sketch.DEFAULTS (written out here so `--help` need not start TensorFlow; a test
# keeps the two equal).
XDOG_OPTIONS = {"sigma": ("blur width (line width)", 0.4), "k": ("ratio of the two blurs", 1.6),
                "p": ("edge sharpening", 10.0), "epsilon": ("ink level", 0.2),
                "phi": ("step sharpness", 10.0)}


def _collect_inputs(inputs, out_dir=None):
    """(file, path relative to its input argument) for every image file named or under a
    folder. Inside folders only regular files count (no FIFOs or devices), and nothing
    under `out_dir`, so a run never reads what an earlier run wrote."""
    found = []
    skip = Path(out_dir).resolve() if out_dir else None
    for item in map(Path, inputs):
        if item.is_dir():
            files = sorted(p for p in item.rglob("*") if p.is_file() and
                           p.suffix.lower() in IMAGE_EXTENSIONS and
                           not (skip and skip in p.resolve().parents))
            found += [(p, p.relative_to(item)) for p in files]
        else:
            found.append((item, Path(item.name)))
    return found


def _output_names(jobs, out_dir):
    """One output PNG per input, never two inputs on one name: a.png and a.jpg (or x.png in
    two input folders) become a.png and a-2.png."""
    taken, targets = set(), []
    for _, relative in jobs:
        target = (out_dir / relative).with_suffix(".png")
        stem, n = target.with_suffix(""), 2
        while target in taken:
            target, n = stem.with_name(f"{stem.name}-{n}").with_suffix(".png"), n + 1
        taken.add(target)
        targets.append(target)
    return targets


def _hint_argument(text):
    from .hints import parse_hint

    try:
        return parse_hint(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _save_png(image, path):
    """Save as PNG through a temporary file, so an interrupted run never leaves half a file."""
    import io

    from .files import write_atomically

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    write_atomically(path, buffer.getvalue())


def _colorize_chunk(colorizer, paths, args, failed):
    """Colour one chunk of files in batches. If one cannot be read or memory runs out, the
    chunk goes again one file at a time: a file that still fails is skipped (None) and
    listed in `failed`, never the end of the run."""
    from .files import ImageReadError

    options = dict(fill=args.fill, layers=args.layers, saturation=args.saturation,
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
    from tqdm.auto import tqdm

    from .colorizer import Colorizer
    from .files import InputWarning

    hinted = bool(args.hint or args.hint_image)
    # Hints without --model mean the bundled hint-aware line-art model.
    colorizer = Colorizer.load(args.model)
    colorizer.max_pixels = args.max_pixels
    if hinted and not colorizer.hints:
        print(f"{args.model} was not trained with colour hints: use --model sketch (the "
              f"default) or another hint-aware model", file=sys.stderr)
        return 2
    out_dir = Path(args.output)
    jobs = _collect_inputs(args.inputs, out_dir)
    if not jobs:
        print(f"no images found in {' '.join(args.inputs)}", file=sys.stderr)
        return 2
    if hinted and len(jobs) != 1:
        print(f"--hint and --hint-image are in one image's pixel coordinates: give one input "
              f"image, not {len(jobs)}", file=sys.stderr)
        return 2
    input_files = {p.resolve() for p, _ in jobs if p.exists()}
    all_targets = _output_names(jobs, out_dir)
    for (path, relative), target in zip(jobs, all_targets):
        if target.name != relative.with_suffix(".png").name:
            print(f"note: {path} is written as {target} (another input has its name)")
    failed = []
    with tqdm(total=len(jobs), unit="img", desc="colorize") as bar, \
            warnings.catch_warnings():   # "looks like a photo" and the like: one line each
        warnings.simplefilter("always", InputWarning)
        warnings.showwarning = lambda message, *_, **__: tqdm.write(f"warning: {message}",
                                                                     file=sys.stderr)
        for start in range(0, len(jobs), args.batch_size):
            paths, targets = [], []   # read by colorize_batch, a chunk at a time
            for (path, _), target in zip(jobs[start: start + args.batch_size],
                                         all_targets[start: start + args.batch_size]):
                if target.resolve() in input_files:
                    failed.append(f"{path}: output {target} would overwrite an input; skipped")
                    continue
                paths.append(path)
                targets.append(target)
            for result, target in zip(_colorize_chunk(colorizer, paths, args, failed), targets):
                if result is None:
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                if args.layers:  # name.png, and name.flats.png / name.lines.png beside it
                    _save_png(result.flats, target.with_suffix(".flats.png"))
                    _save_png(result.lines, target.with_suffix(".lines.png"))
                    result = result.image
                _save_png(result, target)
            bar.update(len(jobs[start: start + args.batch_size]))
    print(f"wrote {len(jobs) - len(failed)} image(s) to {out_dir}")
    if failed:
        print(f"skipped {len(failed)} file(s):", *failed, sep="\n  ", file=sys.stderr)
        return 1
    return 0


def prepare_command(args):
    from .data import colour_images, danbooru_pairs, split_pairs
    from .shards import write_shards

    if args.task == "gray":
        pairs, unmatched = colour_images(args.data)[: args.limit], []
    else:
        pairs, unmatched = danbooru_pairs(args.data, args.limit)
    splits = split_pairs(pairs, args.val_fraction, args.test_fraction, by=args.split_by)
    for name, split in splits.items():
        if split:
            manifest = write_shards(split, Path(args.out_dir) / name, args.shard_mb,
                                    same_file=args.task == "gray")
            print(f"{name}: {len(split)} pairs in {len(manifest['shards'])} shard(s)")
    if unmatched:
        print(f"{len(unmatched)} input file(s) have no partner and were left out")
    return 0


def pairs_command(args):
    from .sketch import make_pairs

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
    from .colorizer import Colorizer

    written = Colorizer.load(args.model).export(args.dir, args.version, args.format)
    print(f"wrote {written}")
    if args.format == "saved_model":
        print(f"serve it: docker run -p 8501:8501 -v {Path(args.dir).resolve()}:/models/pix2color "
              f"-e MODEL_NAME=pix2color tensorflow/serving")
    return 0


def app_command(args):
    try:
        from .app import launch
        import gradio  # noqa: F401
    except ImportError:
        print("pix2color app needs Gradio: pip install 'pix2color[app]'", file=sys.stderr)
        return 2
    launch(args.model, args.host, args.port)
    return 0


def add_training_arguments(parser, limit=None, epochs=10):
    """The training options shared by `pix2color train` and examples/train_danbooru.py."""
    data = parser.add_argument_group("data")
    data.add_argument("--task", choices=("sketch", "gray"), default="sketch",
                      help="sketch: paired folders; gray: any folder of colour images (Lab)")
    data.add_argument("--data", help="a folder holding sketch/ and src/ with matching file names "
                           "(the Kaggle Danbooru root or its color/ folder work too)")
    data.add_argument("--extract-lines", action="store_true",
                      help="sketch: --data is a folder of colour images; the line-art inputs "
                           "are drawn from them with XDoG on the fly (pix2color.sketch)")
    data.add_argument("--hints", action="store_true",
                      help="train a hint-aware model: random colour hints drawn from the "
                           "targets are extra inputs (see pix2color.hints)")
    data.add_argument("--hint-weight", type=float, default=10.0,
                      help="with --hints: L1 weight of pixels at and near hints")
    data.add_argument("--input-dir", help="input images (instead of --data)")
    data.add_argument("--target-dir", help="target images, same relative names as --input-dir")
    data.add_argument("--limit", type=int, default=limit,
                      help=f"use the first N pairs (sorted; default: {limit or 'all'})")
    data.add_argument("--val-fraction", type=float, default=0.1,
                      help="share of the pairs held out for validation (metrics, best/)")
    data.add_argument("--test-fraction", type=float, default=0.1,
                      help="share of the pairs held out for testing (never trained on)")
    data.add_argument("--split-by", choices=("name", "folder"), default="name",
                      help="hash the file name, or its folder (keeps a folder in one split)")
    run = parser.add_argument_group("training")
    run.add_argument("--mode", choices=("gan", "l1", "mse"), default="gan",
                     help="gan: L1 + adversarial (pix2pix); l1: the article's recipe; mse: "
                          "the grayscale post's")
    run.add_argument("--epochs", type=int, default=epochs, help="passes over the training pairs")
    run.add_argument("--steps", type=int, default=0, help="stop after this many steps (0: no cap)")
    run.add_argument("--batch-size", type=int, default=16, help="images per step")
    run.add_argument("--size", type=int, default=128,
                     help="training images are resized to SIZE x SIZE")
    run.add_argument("--generator", choices=("unet", "simple_lab"), default="unet",
                     help="simple_lab: the grayscale post's network (--task gray)")
    run.add_argument("--optimizer", choices=("adam", "rmsprop"), default="adam",
                     help="adam (beta_1 0.5, as pix2pix) or rmsprop (the grayscale post)")
    run.add_argument("--width", type=int, default=64,
                     help="generator width: filters of its first block (64 = the article)")
    run.add_argument("--depth", type=int, default=5, help="encoder blocks (5 = the article)")
    run.add_argument("--norm", choices=("batch", "instance", "none"), default="batch",
                     help="normalization in generator and discriminator")
    run.add_argument("--upsample", choices=("transpose", "resize"), default="transpose",
                     help="decoder: transposed convs (the article) or resize + conv")
    run.add_argument("--gan-loss", choices=("vanilla", "lsgan", "hinge"), default="vanilla",
                     help="gan mode: BCE on logits, least squares, or hinge")
    run.add_argument("--l1-weight", type=float, default=100.0,
                     help="gan mode: weight of L1 against the adversarial term")
    run.add_argument("--lr", type=float, default=2e-4, help="learning rate of both networks")
    run.add_argument("--warmup-steps", type=int, default=0,
                     help="gan mode: steps of L1 alone before the discriminator joins")
    run.add_argument("--decay-fraction", type=float, default=0.0,
                     help="learning rates decay linearly to 0 over this last share of training")
    run.add_argument("--precision", choices=("auto", "mixed", "float32"), default="auto",
                     help="auto: mixed precision where the hardware has it natively")
    run.add_argument("--jit", action="store_true", help="XLA (measured ~5x slower on CPU)")
    run.add_argument("--strategy", choices=("auto", "mirrored", "multiworker", "tpu", "none"),
                     default="auto", help="tf.distribute: auto = multiworker when TF_CONFIG "
                     "lists several hosts, mirrored with several GPUs, else none")
    run.add_argument("--init-from", default="", metavar="MODEL",
                     help="start the generator from a model folder or bundled name (e.g. "
                          "sketch: fine-tune it, or grow it into a hint-aware model)")
    run.add_argument("--seed", type=int, default=0,
                     help="seeds weights, data order and augmentation")
    run.add_argument("--logdir", default="runs",
                     help="runs go in LOGDIR/RUN_NAME (tensorboard --logdir LOGDIR)")
    run.add_argument("--log-every", type=int, default=10, help="steps between scalar logs")
    run.add_argument("--image-every", type=int, default=200, help="steps between image grids")
    run.add_argument("--checkpoint-every", type=int, default=500,
                     help="steps between checkpoints (also saved at every epoch's end)")
    run.add_argument("--deterministic", action="store_true",
                     help="deterministic TF ops: a resumed run ends with the same weights")
    run.add_argument("--run-name", default=None,
                     help="the run folder's name (default: date, time and mode)")
    run.add_argument("--resume", action="store_true",
                     help="continue the run in --logdir/--run-name from its newest readable "
                          "checkpoint (its configuration must match; epochs, steps and "
                          "logging may change)")
    run.add_argument("--overwrite", action="store_true",
                     help="delete the run already in --logdir/--run-name and start over "
                          "(without this or --resume, a folder holding a run is refused)")


def train_from_args(args):
    """Build the pairs, the config and the trainer from parsed arguments, and train."""
    from .data import colour_images, danbooru_pairs, find_pairs, split_pairs

    if args.extract_lines and args.task != "sketch":
        raise SystemExit("--extract-lines makes line art: use it with --task sketch")
    from .shards import is_sharded

    if args.data and is_sharded(Path(args.data) / "train"):
        return _train(args, *_sharded_splits(args.data), source=f"shards in {args.data}")
    if args.task == "gray" or args.extract_lines:
        if not args.data:
            raise SystemExit(f"--{'task gray' if args.task == 'gray' else 'extract-lines'} "
                             f"needs --data FOLDER of colour images")
        pairs, unmatched = colour_images(args.data), []
        pairs = pairs[: args.limit] if args.limit else pairs
        source = str(args.data)
    elif args.data:
        pairs, unmatched = danbooru_pairs(args.data, args.limit)
        source = str(args.data)
    elif args.input_dir and args.target_dir:
        pairs, unmatched = find_pairs(args.input_dir, args.target_dir)
        pairs = pairs[: args.limit] if args.limit else pairs
        source = f"{args.input_dir} -> {args.target_dir}"
    else:
        raise SystemExit("give --data ROOT, or both --input-dir and --target-dir")
    if unmatched:
        print(f"{len(unmatched)} input file(s) have no target partner and are left out, "
              f"e.g. {unmatched[0]}")
    splits = split_pairs(pairs, args.val_fraction, args.test_fraction, by=args.split_by)
    print(f"{len(pairs)} pairs: {len(splits['train'])} train / {len(splits['val'])} val / "
          f"{len(splits['test'])} test")
    return _train(args, splits["train"], splits["val"], source=source,
                  data_info={"pairs": len(pairs), "split_by": args.split_by,
                             "val_fraction": args.val_fraction,
                             "test_fraction": args.test_fraction})


def _sharded_splits(folder):
    from .shards import ShardedPairs, is_sharded

    train = ShardedPairs(Path(folder) / "train")
    val = ShardedPairs(Path(folder) / "val") if is_sharded(Path(folder) / "val") else []
    print(f"shards: {len(train)} train / {len(val)} val pairs ({len(train.files)} train shards)")
    return train, val


def _train(args, train_pairs, val_pairs, source, data_info=None):
    from .distribute import make_strategy
    from .train import TrainConfig, Trainer

    config = TrainConfig(
        task=args.task, extract_lines=args.extract_lines, hints=args.hints,
        hint_weight=args.hint_weight, init_from=args.init_from, generator=args.generator,
        optimizer=args.optimizer, mode=args.mode, size=args.size, width=args.width,
        depth=args.depth, norm=args.norm,
        upsample=args.upsample, gan_loss=args.gan_loss, l1_weight=args.l1_weight,
        learning_rate=args.lr, batch_size=args.batch_size, epochs=args.epochs,
        max_steps=args.steps, warmup_steps=args.warmup_steps,
        decay_fraction=args.decay_fraction, precision=args.precision, jit=args.jit,
        seed=args.seed, log_every=args.log_every, image_every=args.image_every,
        checkpoint_every=args.checkpoint_every, deterministic=args.deterministic)
    run_name = args.run_name
    if args.resume and not run_name:
        run_name = _newest_run(args.logdir)
        print(f"resuming the newest run in {args.logdir}: {run_name}")
    strategy = make_strategy(args.strategy)
    trainer = Trainer(config, train_pairs, val_pairs, logdir=args.logdir,
                      run_name=run_name, strategy=strategy,
                      data_info={"source": source, **(data_info or {})},
                      resume=args.resume, overwrite=args.overwrite)
    if args.resume:
        restored = trainer.restore()
        print(f"resuming from {restored} (step {int(trainer.step)})" if restored
              else "no checkpoint to resume from; starting fresh")
    print(f"run folder:  {trainer.run_dir}  ({trainer.policy}, {trainer.total_steps} steps)\n"
          f"checkpoints: {trainer.run_dir / 'checkpoints'}\n"
          f"final model: {trainer.run_dir / 'model'}  (best by validation "
          f"{config.best_metric}: {trainer.run_dir / 'best'})\n"
          f"watch it:    tensorboard --logdir {args.logdir}\n"
          f"resume it:   {_resume_command(trainer.run_dir.name)}")
    if int(trainer.step) >= trainer.total_steps:
        print(f"{trainer.run_dir} already finished at step {int(trainer.step)}; nothing was "
              f"changed (raise --epochs or --steps to train it further)")
        return 0
    metrics = trainer.fit()
    print("validation:", json.dumps({k: round(v, 4) for k, v in metrics.items()}))
    example = "PHOTO.jpg" if args.task == "gray" else "DRAWING.png"
    print(f"saved {trainer.run_dir / 'model'}; try: pix2color colorize {example} -o out "
          f"--model {trainer.run_dir / 'model'}")
    return 0


def _newest_run(logdir):
    """The run folder in `logdir` written to last (the one `--resume` alone continues)."""
    runs = [p for p in Path(logdir).glob("*/config.json")] if Path(logdir).is_dir() else []
    if not runs:
        raise ValueError(f"--resume: no run to resume in {logdir} (give --run-name, or "
                         f"--logdir where the run is)")
    return max(runs, key=lambda p: p.stat().st_mtime).parent.name


def _resume_command(run_name):
    """The command line that continues this run: this one, with --resume --run-name."""
    import shlex

    words = [w for w in sys.argv[1:] if w not in ("--resume", "--overwrite")]
    if "--run-name" in words:
        i = words.index("--run-name")
        del words[i: i + 2]
    program = "pix2color" if Path(sys.argv[0]).name in ("pix2color", "__main__.py") \
        else f"python {sys.argv[0]}"
    return " ".join([program, *map(shlex.quote, words), "--resume", "--run-name",
                     shlex.quote(run_name)])


def _rounded(metrics):
    return ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                     for k, v in metrics.items()) or "none recorded"


def info_command(args):
    from .colorizer import Colorizer

    colorizer = Colorizer.load(args.model)
    info = colorizer.info
    training = info.get("training", {})
    print(f"task:        {colorizer.task} ({colorizer.colour_space})\n"
          f"size:        {colorizer.size} (longer side the network sees)\n"
          f"channels:    {info['in_channels']} in, {info['out_channels']} out"
          f"{' (with colour hints)' if colorizer.hints else ''}\n"
          f"fill:        {colorizer.fill} (default for colorize; see --fill)\n"
          f"generator:   {info['generator']['kind']} {json.dumps(info['generator']['args'])}\n"
          f"parameters:  {colorizer.model.count_params():,}\n"
          f"trained on:  {json.dumps(training.get('data', {}))}\n"
          f"steps:       {training.get('step', '?')}  mode: "
          f"{training.get('config', {}).get('mode', '?')}\n"
          f"metrics:     {_rounded(training.get('metrics', {}))} (validation split, the "
          f"network's raw output)\n"
          f"version:     pix2color {info.get('pix2color_version', '?')}")
    return 0


def evaluate_command(args):
    from .data import colour_images, danbooru_pairs, openmoji_pairs, split_pairs
    from .evaluate import evaluate, markdown_table

    if args.data == "openmoji":
        pairs, split_by = openmoji_pairs(args.cache), "folder"
        if args.task == "gray":
            pairs = [(colour, colour) for _, colour in pairs]
    elif args.task == "gray":
        pairs, split_by = colour_images(args.data), args.split_by
    else:
        pairs, split_by = danbooru_pairs(args.data)[0], args.split_by
    splits = split_pairs(pairs, args.val_fraction, args.test_fraction, by=split_by)
    chosen = pairs if args.split == "all" else splits[args.split]
    chosen = chosen[: args.limit] if args.limit else chosen
    if not chosen:
        raise ValueError(f"the {args.split} split of {args.data} is empty")
    grid = Path(args.out).with_suffix(".png") if args.out else Path("evaluation.png")
    grid.parent.mkdir(parents=True, exist_ok=True)  # before the work, not after it
    rows = evaluate(args.models, chosen, splits["train"], args.batch_size, grid_path=grid,
                    task=args.task, fills=args.fill or (None,))
    table = markdown_table(rows)
    header = (f"{len(chosen)} images: {args.split} split of {args.data} (split by {split_by}, "
              f"val {args.val_fraction}, test {args.test_fraction})")
    print(f"\n{header}\n\n{table}\n\ngrid (input | target | models): {grid}")
    if args.out:
        Path(args.out).write_text(f"{header}\n\n{table}\n\n![grid]({grid.name})\n")
        print(f"report: {args.out}")
    return 0


class _HELP(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's help ends with its default, unless the help already says it or there
    is none to say (required, or not given: None)."""

    def _get_help_string(self, action):
        if "default:" in (action.help or "") or action.default is None or action.required:
            return action.help
        return super()._get_help_string(action)


def build_parser():
    parser = argparse.ArgumentParser(prog="pix2color", formatter_class=_HELP,
                                     description="Colorize line art and "
                                     "grayscale images the pix2pix way.")
    parser.add_argument("--tf-logs", action="store_true",
                        help="show TensorFlow's own log lines (oneDNN, CUDA probing, CPU "
                             "features), hidden by default; so does setting "
                             "TF_CPP_MIN_LOG_LEVEL yourself")
    commands = parser.add_subparsers(dest="command", required=True)

    colorize = commands.add_parser("colorize", help="colour image files or folders",
                                     formatter_class=_HELP)
    colorize.add_argument("inputs", nargs="+", help="image files or folders (recursed)")
    colorize.add_argument("-o", "--output", required=True, help="output folder")
    colorize.add_argument("--model", default=None,
                          help="sketch (the default; hint-aware), gray, or a model folder")
    colorize.add_argument("--batch-size", type=int, default=16,
                          help="images of one size the network colours at once")
    colorize.add_argument("--saturation", type=float, default=1.0,
                          help="scales the output's chroma (1: as the model painted it)")
    colorize.add_argument("--render-size", type=int, default=None,
                          help="longer side the network sees (default: its training size)")
    colorize.add_argument("--hint", action="append", type=_hint_argument, default=[],
                          metavar="X,Y,COLOUR",
                          help="a colour hint at pixel X,Y of the input, e.g. 120,40,#ff0000 "
                               "(repeat for more; needs a hint-aware model such as the "
                               "default, sketch)")
    colorize.add_argument("--hint-image", default=None, metavar="PNG",
                          help="an RGBA image of the input's size: its pixels with alpha > 0 "
                               "are colour hints (strokes)")
    colorize.add_argument("--fill", choices=FILLS, default=None,
                          help="line-art models: 'regions' gives each region the lines enclose "
                               "one flat colour, 'lines' keeps the network's colour, 'none' is "
                               "the network's output without the input's lines on top "
                               "(default: the model's own, regions for the bundled models)")
    colorize.add_argument("--max-pixels", type=int, default=MAX_PIXELS,
                          help="refuse (skip) images with more pixels than this, read from "
                               "the file's header before decoding (default: %(default)s)")
    colorize.add_argument("--layers", action="store_true",
                          help="line-art models: also write NAME.flats.png (the colour, no "
                               "lines) and NAME.lines.png (black lines on transparent) for "
                               "colouring by hand")
    colorize.set_defaults(run=colorize_command)

    train = commands.add_parser(
        "train", help="train on paired folders", formatter_class=_HELP,
        description="Train a colorizer: on paired folders (sketch/ and src/ with matching "
                    "names, the Kaggle Danbooru layout), on a folder of colour pictures "
                    "(--task gray, or --extract-lines for line art), on shards made by "
                    "`pix2color prepare`, or on `openmoji`. Writes LOGDIR/RUN_NAME/: "
                    "checkpoints, TensorBoard logs, samples/, model/ and best/.")
    add_training_arguments(train)
    train.set_defaults(run=train_from_args)

    evaluate = commands.add_parser("evaluate", help="score models and baselines on one split",
                                   formatter_class=_HELP)
    evaluate.add_argument("models", nargs="+", help="model folders, sketch, gray, or the "
                          "baselines identity and mean-colour")
    evaluate.add_argument("--data", required=True, help="as for training: a folder with sketch/ "
                          "and src/ (sketch) or of colour images (gray); or `openmoji`")
    evaluate.add_argument("--cache", default=str(Path.home() / ".cache/pix2color/openmoji-128"),
                          help="where OpenMoji renders are kept (with --data openmoji)")
    evaluate.add_argument("--task", choices=("sketch", "gray"), default="sketch",
                          help="line art or grayscale photos")
    evaluate.add_argument("--split", choices=("train", "val", "test", "all"), default="test",
                          help="which split of --data to score (the trainer's split)")
    evaluate.add_argument("--split-by", choices=("name", "folder"), default="name",
                          help="as for training: hash the file name or its folder")
    evaluate.add_argument("--val-fraction", type=float, default=0.1,
                          help="as for training")
    evaluate.add_argument("--test-fraction", type=float, default=0.1,
                          help="as for training")
    evaluate.add_argument("--limit", type=int, default=0,
                          help="evaluate the first N images (0: all)")
    evaluate.add_argument("--batch-size", type=int, default=16, help="images per batch")
    evaluate.add_argument("--fill", action="append", choices=FILLS, default=[],
                          help="line-art models: score with this fill (repeat to compare "
                               "several; default: each model's own)")
    evaluate.add_argument("--out", help="write the table here (markdown); the grid goes beside it")
    evaluate.set_defaults(run=evaluate_command)

    prepare = commands.add_parser(
        "prepare", help="pack paired folders into sharded TFRecord files for large data sets",
        formatter_class=_HELP,
        description="Writes OUT_DIR/train, OUT_DIR/val and OUT_DIR/test, each a set of "
                    "~150 MB TFRecord shards (images kept encoded) with a manifest.json; "
                    "`pix2color train --data OUT_DIR` then reads the shards.")
    prepare.add_argument("data", help="as `train --data`: a folder with sketch/ and src/ "
                         "(or of colour images with --task gray)")
    prepare.add_argument("out_dir", help="where train/, val/ and test/ shards go")
    prepare.add_argument("--task", choices=("sketch", "gray"), default="sketch",
                         help="line art pairs or colour images")
    prepare.add_argument("--limit", type=int, default=None,
                         help="pack the first N pairs (sorted; default: all)")
    prepare.add_argument("--val-fraction", type=float, default=0.1, help="as for training")
    prepare.add_argument("--test-fraction", type=float, default=0.1, help="as for training")
    prepare.add_argument("--split-by", choices=("name", "folder"), default="name",
                         help="as for training: hash the file name or its folder")
    prepare.add_argument("--shard-mb", type=float, default=150.0,
                         help="start a new shard after this many MB")
    prepare.set_defaults(run=prepare_command)

    pairs = commands.add_parser(
        "pairs", help="make line-art training pairs from a folder of colour images (XDoG)",
        formatter_class=_HELP,
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
    pairs.set_defaults(run=pairs_command)

    export = commands.add_parser(
        "export", help="export a model for TensorFlow Serving (or ONNX)", formatter_class=_HELP,
        description="Writes DIR/<version>/saved_model.pb with the signatures serving_default "
                    "(float tensors) and colorize_image (encoded image bytes -> PNG bytes).")
    export.add_argument("model", help="sketch (the default; hint-aware), gray, or a model folder")
    export.add_argument("dir", help="the model base path TF Serving watches")
    export.add_argument("--version", type=int, default=1,
                        help="the version folder under DIR (TF Serving serves the highest)")
    export.add_argument("--format", choices=("saved_model", "onnx"), default="saved_model",
                        help="onnx needs pip install pix2color[onnx]")
    export.set_defaults(run=export_command)

    app = commands.add_parser("app", help="the browser app (pip install pix2color[app])",
                              formatter_class=_HELP)
    app.add_argument("--model", default=None, help="a model folder (listed first); the "
                     "bundled sketch (line art, hints) and gray (photos) are always listed")
    app.add_argument("--host", default="127.0.0.1",
                     help="the address to serve on (0.0.0.0 exposes it to the network)")
    app.add_argument("--port", type=int, default=7860, help="the port to serve on")
    app.set_defaults(run=app_command)

    info = commands.add_parser("info", help="describe a model", formatter_class=_HELP)
    info.add_argument("model", help="sketch (the default; hint-aware), gray, or a model folder")
    info.set_defaults(run=info_command)
    return parser


def run_reporting_errors(command, args, name):
    """Run a command; a user's mistake (bad path, bad file, bad option) is one line, not a
    traceback."""
    from .files import ImageReadError
    from .models import ModelFileError
    from .runs import RunFolderError

    try:
        return command(args)
    except (ModelFileError, FileNotFoundError, ImageReadError, ValueError, OSError,
            RunFolderError, ImportError) as error:  # ImportError: a missing optional extra
        print(f"{name}: error: {error}", file=sys.stderr)
        return 2


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
    args = build_parser().parse_args(argv)
    if not args.tf_logs:
        import_tensorflow_quietly()
    return run_reporting_errors(args.run, args, f"pix2color {args.command}")


if __name__ == "__main__":
    sys.exit(main())
