"""Train a line-art colorizer on OpenMoji: the artists' line art -> their colour emoji.

Reproduces pix2color's bundled models (seeded):

    pip install -e ".[openmoji]"
    # the bundled "sketch": a plain model, grown into a hint-aware one, then a GAN stage
    python examples/train_openmoji.py --out plain                  # 6 L1 + 6 GAN epochs
    python examples/train_openmoji.py --hints --init-from plain --mode l1 --epochs 18 \
        --out hints-l1                      # (the bundled one was made in two stages, 6 + 12)
    python examples/train_openmoji.py --hints --init-from hints-l1 --mode gan --epochs 6 \
        --warmup-epochs 0 --out hints-gan
    # two more fine-tunes, and the bundled model is the mean of the three (a model soup)
    python examples/train_openmoji.py --hints --init-from hints-l1 --mode l1 --epochs 12 \
        --out hints-l1-more
    python examples/train_openmoji.py --hints --init-from hints-gan --mode gan --epochs 12 \
        --warmup-epochs 0 --no-hint-fraction 0.5 --out hints-gan-more
    pix2color average hints-gan hints-gan-more hints-l1-more -o pix2color/weights/sketch \
        --weights-dtype float16
    python examples/train_openmoji.py --task gray --out pix2color/weights/gray

`--task gray` trains the same recipe in Lab on the colour renders alone (L in, ab out).
`--extract-lines` trains on XDoG lines drawn from the colour renders instead of the artists'
line art; it is still tested on the artists' line art. `--hints` trains a hint-aware model:
colour hints drawn from the colour image are extra inputs (`pix2color.hints`).

The emoji reserved for independent evaluation are never used, flags are left out (their
line art is an empty box), and skin-tone variants of one drawing stay in one split.
OpenMoji is CC BY-SA 4.0: a model trained on it carries that notice.
"""

import argparse
from pathlib import Path

from pix2color import Colorizer, Trainer, open_pairs
from pix2color.config import add_config_options, config_from_args
from pix2color.evaluate import evaluate, markdown_table

# The bundled models' recipe, where it differs from TrainConfig's defaults (every other
# TrainConfig field is an option with its own default).
RECIPE = dict(width=32, epochs=12, gan_loss="lsgan", decay_fraction=0.3)
PER_EPOCH = ("warmup_steps", "image_every", "checkpoint_every")  # set here in epochs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", default=None,
                        help="where the rendered PNG pairs go, made once and reused (default: "
                             "~/.cache/pix2color/openmoji-128)")
    groups = add_config_options(parser, skip=PER_EPOCH, **RECIPE)
    groups["training"].add_argument(
        "--warmup-epochs", type=float, default=6,
        help="gan mode: epochs of L1-only training before the adversarial term")
    run = parser.add_argument_group("run")
    run.add_argument("--logdir", default="runs")
    run.add_argument("--run-name", default=None)
    run.add_argument("--resume", action="store_true")
    run.add_argument("--overwrite", action="store_true",
                     help="delete the run already in the run folder and start over")
    run.add_argument("--out", default=None, help="also save the final model here (float16)")
    args = parser.parse_args()

    source = open_pairs("openmoji", args.task, cache=args.cache)  # split by drawing
    splits = source.splits()
    credit = source.info["credit"]
    print({name: len(split) for name, split in splits.items()}, "pairs (train / val / test)")
    steps_per_epoch = -(-len(splits["train"]) // args.batch_size)
    config = config_from_args(
        args, warmup_steps=round(args.warmup_epochs * steps_per_epoch) if args.mode == "gan" else 0,
        image_every=steps_per_epoch, checkpoint_every=steps_per_epoch)
    trainer = Trainer(config, splits["train"], splits["val"], logdir=args.logdir,
                      run_name=args.run_name or f"openmoji-{args.task}"
                               f"{'-xdog' if args.extract_lines else ''}"
                               f"{'-hints' if args.hints else ''}-{args.mode}-w{args.width}",
                      data_info={"name": "OpenMoji 17.0.0 colour, 128x128" if args.task == "gray"
                                 else "OpenMoji 17.0.0 XDoG lines -> colour, 128x128"
                                 if args.extract_lines
                                 else "OpenMoji 17.0.0 line art -> colour, 128x128",
                                 "hints": "random colour hints from the colour image"
                                 if args.hints else "none",
                                 "split": "by drawing (folder), 10% val, 10% test",
                                 "credit": credit},
                      resume=args.resume, overwrite=args.overwrite)
    if args.resume:
        print("resumed from", trainer.restore())
    print(f"logs and checkpoints: {trainer.run_dir}   (tensorboard --logdir {args.logdir})")
    trainer.fit()
    model = str(trainer.run_dir / "model")
    rows = evaluate([model, "identity", "mean-colour"], splits["test"], splits["train"],
                    grid_path=trainer.run_dir / "test_grid.png", task=args.task)
    table = markdown_table(rows)
    (trainer.run_dir / "test_metrics.md").write_text(table + "\n")
    print(f"test split ({len(splits['test'])} images):\n{table}")
    if args.out:
        colorizer = Colorizer.load(model)
        colorizer.save(args.out, weights_dtype="float16")
        (Path(args.out) / "LICENSE-OpenMoji.txt").write_text(credit + "\n")
        print("saved", args.out)


if __name__ == "__main__":
    main()
