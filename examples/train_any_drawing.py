"""Train the default line-art model on drawings of many hands: OpenMoji and the Open Clip Art
Library together, with the line art varied, so it colours drawings unlike its training set.

    apt-get install openclipart-svg
    pip install -e ".[openmoji,openclipart]"
    python examples/train_any_drawing.py --recipe rebalanced --epochs 4 --learning-rate 5e-5 \
        --openclipart-repeat 1 --rebalance-sources openclipart --hue-head --hue-loss 0.05 \
        --init-from HUE_SKETCH --out sketch-new  # the bundled sketch (docs/model-sketch.md)
    python examples/train_any_drawing.py --recipe rebalanced --init-from "" --width 64 \
        --epochs 17 --rebalance-sources openclipart --hue-head --hue-loss 0.05 --run-name W64
    python examples/train_any_drawing.py --recipe rebalanced --init-from runs/W64/model \
        --width 64 --epochs 4 --learning-rate 1e-4 --openclipart-repeat 1 \
        --rebalance-sources openclipart --hue-head --hue-loss 0.05 --out drawings-new
        # DRAWINGS_V2; the bundled drawings averages it with three fine-tunes of it
        # (`pix2color average`, docs/model-drawings.md)
    python examples/train_any_drawing.py --recipe baseline --out baseline  # the article's recipe

Recipes (all at 128 px unless `--size`, batch 16, split by drawing, each source split alone):
- `gan`: fine-tune a hint-aware model (`--init-from`, default the bundled `sketch`, which
  has a hue head: add `--hue-head` to keep it) with L1 + least-squares GAN, the line art
  varied (`TrainConfig.line_augment`), no hints for half of the images.
- `l1`: the same fine-tune with L1 alone (to measure what the adversarial term adds).
- `rebalanced`: the L1 fine-tune with rare colours weighed up (`TrainConfig.colour_rebalance`
  0.5, Zhang et al. 2016's class rebalancing), so the model stops painting white when unsure;
  `--rebalance-sources openclipart` weighs only the Open Clip Art pairs so; `--hue-head
  --hue-loss 0.05` adds a head that classifies each pixel's hue (`TrainConfig.hue_head`).
- `baseline`: the article's plain recipe on the same pairs: a fresh width-32 U-Net, L1, no
  hints, no line augmentation, 17 epochs.
- `wide`: a fresh U-Net at the article's width 64 (four times the weights of width 32), hint
  inputs, the line art varied, trained 30 epochs with the `rebalanced` L1 from the start.

Open Clip Art holds about a quarter as many usable drawings as OpenMoji (see
`docs/data-openclipart.md`); its training pairs are repeated `--openclipart-repeat` times
(augmented differently each time) so each epoch sees both sources about equally.
"""

import argparse
from pathlib import Path

from pix2color import Trainer, open_pairs
from pix2color.config import add_config_options, config_from_args

# What every recipe shares, where it differs from TrainConfig's defaults, then each recipe's
# own; the chosen recipe's values are the options' defaults (every TrainConfig field is one).
SHARED = dict(init_from="sketch", width=32, size=128, decay_fraction=0.3)
REBALANCED = dict(mode="l1", hints=True, line_augment=True, no_hint_fraction=0.5,
                  colour_rebalance=0.5)
RECIPES = {
    "gan": dict(mode="gan", gan_loss="lsgan", hints=True, line_augment=True,
                no_hint_fraction=0.5, epochs=8),
    "l1": dict(mode="l1", hints=True, line_augment=True, no_hint_fraction=0.5, epochs=8),
    "rebalanced": dict(REBALANCED, epochs=2),
    "baseline": dict(init_from="", mode="l1", epochs=17),
    "wide": dict(REBALANCED, init_from="", width=64, epochs=30),
}
PER_EPOCH = ("image_every", "checkpoint_every")  # set here: once an epoch


def parse_args():
    chooser = argparse.ArgumentParser(add_help=False)
    chooser.add_argument("--recipe", choices=RECIPES, default="gan")
    recipe = chooser.parse_known_args()[0].recipe
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], parents=[chooser])
    parser.add_argument("--openclipart-repeat", type=int, default=3)
    parser.add_argument("--rebalance-sources", default="openmoji,openclipart",
                        help="the sources whose pairs --colour-rebalance weighs (the others "
                             "keep plain L1), comma-separated")
    add_config_options(parser, skip=PER_EPOCH, **{**SHARED, **RECIPES[recipe]})
    run = parser.add_argument_group("run")
    run.add_argument("--logdir", default="runs")
    run.add_argument("--run-name", default=None)
    run.add_argument("--resume", action="store_true")
    run.add_argument("--out", default=None, help="also save the final model here (float16)")
    return parser.parse_args()


def main():
    args = parse_args()

    source = open_pairs("openmoji,openclipart", size=args.size)  # rendered at the working size
    parts = {name: part.splits() for name, part in source.parts.items()}
    train = parts["openmoji"]["train"] + parts["openclipart"]["train"] * args.openclipart_repeat
    weighed = args.rebalance_sources.split(",")
    emoji = len(parts["openmoji"]["train"])
    rebalanced = ["openmoji" in weighed] * emoji + ["openclipart" in weighed] * (len(train) - emoji)
    val = parts["openmoji"]["val"] + parts["openclipart"]["val"]
    for name, splits in parts.items():
        print(name, {split: len(pairs) for split, pairs in splits.items()})
    steps_per_epoch = -(-len(train) // args.batch_size)
    try:
        config = config_from_args(args, image_every=steps_per_epoch,
                                  checkpoint_every=steps_per_epoch)
        trainer = Trainer(config, train, val, logdir=args.logdir,
                          run_name=args.run_name or f"any-drawing-{args.recipe}",
                          data_info={"name": "OpenMoji 17.0.0 line art + Open Clip Art 0.18 "
                                             f"drawings -> colour, {args.size}x{args.size}",
                                     "split": "by drawing, each source alone, 10% val, 10% test",
                                     "openclipart_repeat": args.openclipart_repeat,
                                     "rebalance_sources": args.rebalance_sources,
                                     "credit": source.info["credit"]},
                          resume=args.resume, rebalanced=rebalanced)
    except ValueError as error:   # a bad option or starting model: one line, no traceback
        raise SystemExit(f"train_any_drawing: {error}") from None
    if args.resume:
        print("resumed from", trainer.restore())
    print(f"logs and checkpoints: {trainer.run_dir}   (tensorboard --logdir {args.logdir})")
    try:
        trainer.fit()
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: fit saved a checkpoint and said so
        raise SystemExit(130) from None
    if args.out:
        from pix2color import Colorizer
        from pix2color.openclipart import OPENCLIPART_CREDIT
        from pix2color.openmoji import OPENMOJI_CREDIT

        Colorizer.load(str(trainer.run_dir / "model")).save(args.out, weights_dtype="float16")
        (Path(args.out) / "LICENSE-OpenMoji.txt").write_text(OPENMOJI_CREDIT + "\n")
        (Path(args.out) / "CREDIT-OpenClipArt.txt").write_text(OPENCLIPART_CREDIT + "\n")
        print("saved", args.out)


if __name__ == "__main__":
    main()
