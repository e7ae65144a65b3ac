"""`pix2color train`, `prepare` and `evaluate`: the commands that read a data set.

Every field of `TrainConfig` is a `train` option, generated from the field (its help, default,
type and choices), so the command line cannot drift from the configuration. All three open
their data with `pix2color.data.open_pairs`.
"""

import sys
from pathlib import Path

from ..config import add_config_options, config_from_args
from ..fills import FILL_NAMES
from ..tasks import TASK_NAMES
from .parsing import add_command

DISTRIBUTION = ("auto", "mirrored", "multiworker", "tpu", "none")
SPLITS_BY = ("name", "folder")
DATA_HELP = ("a folder with sketch/ and src/ of matching names (the Kaggle Danbooru root or its "
             "color/ work too); a folder of colour pictures (--task gray, --extract-lines); "
             "shards made by `pix2color prepare`; or a data set that installs from a package "
             "index: openmoji (pip), openclipart (apt-get install openclipart-svg), or both "
             "as openmoji,openclipart")


def add_data_arguments(group, limit=None):
    """Where the pairs come from and how they are split: shared by train, prepare, evaluate."""
    group.add_argument("--cache", default=None,
                       help="where renders are kept, with --data openmoji or openclipart "
                            "(default: ~/.cache/pix2color/NAME-SIZE; with several, CACHE/NAME)")
    group.add_argument("--limit", type=int, default=limit,
                       help=f"use the first N pairs, sorted (default: {limit or 'all'})")
    group.add_argument("--val-fraction", type=float, default=0.1,
                       help="share of the pairs held out for validation (metrics, best/)")
    group.add_argument("--test-fraction", type=float, default=0.1,
                       help="share of the pairs held out for testing (never trained on)")
    group.add_argument("--split-by", choices=SPLITS_BY, default=None,
                       help="hash the file name, or its folder (keeps a folder in one split; "
                            "default: name, folder (the drawing) for openmoji and openclipart)")


def add_training_arguments(parser, limit=None):
    """`pix2color train`'s options: the data, every `TrainConfig` field, and the run folder."""
    data = parser.add_argument_group("data")
    data.add_argument("--data", help=DATA_HELP)
    data.add_argument("--input-dir", help="input images (instead of --data)")
    data.add_argument("--target-dir", help="target images, same relative names as --input-dir")
    add_data_arguments(data, limit)
    groups = add_config_options(parser, {"data": data})
    run = groups["training"]
    run.add_argument("--strategy", choices=DISTRIBUTION, default="auto",
                     help="tf.distribute: auto = multiworker when TF_CONFIG lists several "
                          "hosts, mirrored with several GPUs, else none")
    run = groups["logging"]
    run.add_argument("--logdir", default="runs",
                     help="runs go in LOGDIR/RUN_NAME (tensorboard --logdir LOGDIR)")
    run.add_argument("--run-name", default=None,
                     help="the run folder's name (default: date, time and mode)")
    run.add_argument("--resume", action="store_true",
                     help="continue the run in --logdir/--run-name from its newest readable "
                          "checkpoint (its configuration must match; epochs, steps and "
                          "logging may change)")
    run.add_argument("--overwrite", action="store_true",
                     help="delete the run already in --logdir/--run-name and start over "
                          "(without this or --resume, a folder holding a run is refused)")


def add_parsers(commands, formatter):
    train = add_command(
        commands, "train", train_from_args, formatter, help="train on paired folders",
        description="Train a colorizer: on paired folders (sketch/ and src/ with matching "
                    "names, the Kaggle Danbooru layout), on a folder of colour pictures "
                    "(--task gray, or --extract-lines for line art), on shards made by "
                    "`pix2color prepare`, or on `openmoji`. Writes LOGDIR/RUN_NAME/: "
                    "checkpoints, TensorBoard logs, samples/, model/ and best/.")
    add_training_arguments(train)

    evaluate = add_command(commands, "evaluate", evaluate_command, formatter,
                           help="score models and baselines on one split")
    evaluate.add_argument("models", nargs="+", help="model folders, sketch, drawings, gray, or "
                          "the baselines identity and mean-colour")
    evaluate.add_argument("--data", required=True, help=f"as for training: {DATA_HELP}")
    evaluate.add_argument("--task", choices=TASK_NAMES, default="sketch",
                          help="line art or grayscale photos")
    evaluate.add_argument("--split", choices=("train", "val", "test", "all"), default="test",
                          help="which split of --data to score (the trainer's split)")
    add_data_arguments(evaluate)
    evaluate.add_argument("--batch-size", type=int, default=16, help="images per batch")
    evaluate.add_argument("--fill", action="append", choices=FILL_NAMES, default=[],
                          help="line-art models: score with this fill (repeat to compare "
                               "several; default: each model's own)")
    evaluate.add_argument("--out", help="write the table here (markdown); the grid goes beside it")

    prepare = add_command(
        commands, "prepare", prepare_command, formatter,
        help="pack paired folders into sharded TFRecord files for large data sets",
        description="Writes OUT_DIR/train, OUT_DIR/val and OUT_DIR/test, each a set of "
                    "~150 MB TFRecord shards (images kept encoded) with a manifest.json; "
                    "`pix2color train --data OUT_DIR` then reads the shards.")
    prepare.add_argument("data", help=f"as `train --data`: {DATA_HELP}")
    prepare.add_argument("out_dir", help="where train/, val/ and test/ shards go")
    prepare.add_argument("--task", choices=TASK_NAMES, default="sketch",
                         help="line art pairs or colour images")
    add_data_arguments(prepare)
    prepare.add_argument("--shard-mb", type=float, default=150.0,
                         help="start a new shard after this many MB")


def _open(args, extract_lines=False, target_dir=None):
    from ..data import open_pairs

    source = open_pairs(args.data, args.task, extract_lines=extract_lines, limit=args.limit,
                        target_dir=target_dir, cache=args.cache,
                        size=getattr(args, "size", 128))  # train: render at the training size
    if source.unmatched:
        print(f"{len(source.unmatched)} input file(s) have no partner and are left out, "
              f"e.g. {source.unmatched[0]}")
    split_by = args.split_by or source.split_by
    return source, split_by, source.splits(args.val_fraction, args.test_fraction, split_by)


def train_from_args(args):
    """Open the data, build the config and the trainer from parsed arguments, and train."""
    config = config_from_args(args)   # checks the options before any data is read
    if not args.data and not (args.input_dir and args.target_dir):
        raise SystemExit("give --data ROOT, or both --input-dir and --target-dir")
    args.data = args.data or args.input_dir
    source, split_by, splits = _open(args, config.extract_lines, args.target_dir)
    if source.pairs is None:
        print(f"shards: {len(splits['train'])} train / {len(splits['val'])} val pairs")
        info = {}
    else:
        print(f"{len(source.pairs)} pairs: {len(splits['train'])} train / "
              f"{len(splits['val'])} val / {len(splits['test'])} test")
        info = {"pairs": len(source.pairs), "split_by": split_by,
                "val_fraction": args.val_fraction, "test_fraction": args.test_fraction}
    return _train(args, config, splits["train"], splits["val"],
                  data_info={"source": source.description, **info, **source.info})


def _train(args, config, train_pairs, val_pairs, data_info):
    from ..distribute import make_strategy
    from ..train import Trainer

    run_name = args.run_name
    if args.resume and not run_name:
        run_name = _newest_run(args.logdir)
        print(f"resuming the newest run in {args.logdir}: {run_name}")
    trainer = Trainer(config, train_pairs, val_pairs, logdir=args.logdir, run_name=run_name,
                      strategy=make_strategy(args.strategy), data_info=data_info,
                      resume=args.resume, overwrite=args.overwrite)
    if args.resume and not args.overwrite:
        print(f"resuming from {trainer.restore()} (step {int(trainer.step)})")
    print(f"run folder:  {trainer.run_dir}  ({trainer.policy}, {trainer.total_steps} steps)\n"
          f"checkpoints: {trainer.run_dir / 'checkpoints'}\n"
          f"final model: {trainer.run_dir / 'model'}  (best by validation "
          f"{config.best_metric}: {trainer.run_dir / 'best'})\n"
          f"watch it:    tensorboard --logdir {args.logdir}\n"
          f"resume it:   {_resume_command(trainer.run_dir.name)}")
    metrics = trainer.fit()   # a finished run: says so and changes nothing
    if metrics:
        print(f"validation at step {int(trainer.step)} ({len(val_pairs)} pairs):\n"
              f"{metrics_table(metrics)}")
    print(f"saved {trainer.run_dir / 'model'}; try: pix2color colorize "
          f"{trainer.task.example} -o out --model {trainer.run_dir / 'model'}")
    return 0


def metrics_table(metrics):
    """Validation metrics as a short two-column table, one metric a line."""
    width = max(map(len, metrics))
    return "\n".join(f"  {name:<{width}}  {value:.4g}" for name, value in metrics.items())


def _newest_run(logdir):
    """The run folder in `logdir` written to last (the one `--resume` alone continues)."""
    from ..runs import run_names

    names = run_names(logdir)
    if not names:
        raise ValueError(f"--resume: no run to resume in {logdir} (give --run-name, or "
                         f"--logdir where the run is)")
    return names[0]


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


def prepare_command(args):
    from ..shards import write_shards

    source, _, splits = _open(args)
    if source.pairs is None:
        raise ValueError(f"{args.data} holds shards already")
    for name, split in splits.items():
        if split:
            manifest = write_shards(split, Path(args.out_dir) / name, args.shard_mb,
                                    same_file=all(a == b for a, b in split))
            print(f"{name}: {len(split)} pairs in {len(manifest['shards'])} shard(s)")
    return 0


def evaluate_command(args):
    from ..evaluate import evaluate, markdown_table

    source, split_by, splits = _open(args)
    if source.pairs is None:
        raise ValueError(f"evaluate reads image files; {args.data} holds shards (evaluate "
                         f"the folder they were made from)")
    chosen = source.pairs if args.split == "all" else splits[args.split]
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
