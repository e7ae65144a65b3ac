"""Train the default line-art model on drawings of many hands: OpenMoji and the Open Clip Art
Library together, with the line art varied, so it colours drawings unlike its training set.

    apt-get install openclipart-svg
    pip install -e ".[openmoji,openclipart]"
    python examples/train_any_drawing.py --recipe gan --out any-gan        # the bundled sketch
    python examples/train_any_drawing.py --recipe baseline --out baseline  # the article's recipe

Recipes (all at 128 px, batch 16, split by drawing, each source split alone):
- `gan`: fine-tune the hint-aware OpenMoji model (`--init-from`, default the bundled
  `sketch` of pix2color 0.x) with L1 + least-squares GAN, the line art varied
  (`TrainConfig.line_augment`), no hints for half of the images.
- `l1`: the same fine-tune with L1 alone (to measure what the adversarial term adds).
- `baseline`: the article's plain recipe on the same pairs: a fresh width-32 U-Net, L1, no
  hints, no line augmentation, 17 epochs.

Open Clip Art holds about a quarter as many usable drawings as OpenMoji (see
`docs/data-openclipart.md`); its training pairs are repeated `--openclipart-repeat` times
(augmented differently each time) so each epoch sees both sources about equally.
"""

import argparse

from pix2color import TrainConfig, Trainer, open_pairs

RECIPES = {
    "gan": dict(mode="gan", gan_loss="lsgan", hints=True, line_augment=True,
                no_hint_fraction=0.5, epochs=8),
    "l1": dict(mode="l1", hints=True, line_augment=True, no_hint_fraction=0.5, epochs=8),
    "baseline": dict(mode="l1", epochs=17),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipe", choices=RECIPES, default="gan")
    parser.add_argument("--init-from", default="sketch",
                        help="the model the gan and l1 recipes fine-tune")
    parser.add_argument("--epochs", type=int, default=0, help="default: the recipe's")
    parser.add_argument("--openclipart-repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--logdir", default="runs")
    parser.add_argument("--run-name", default=None)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--out", default=None, help="also save the final model here (float16)")
    args = parser.parse_args()

    source = open_pairs("openmoji,openclipart")
    parts = {name: part.splits() for name, part in source.parts.items()}
    train = parts["openmoji"]["train"] + parts["openclipart"]["train"] * args.openclipart_repeat
    val = parts["openmoji"]["val"] + parts["openclipart"]["val"]
    for name, splits in parts.items():
        print(name, {split: len(pairs) for split, pairs in splits.items()})
    recipe = dict(RECIPES[args.recipe])
    if args.epochs:
        recipe["epochs"] = args.epochs
    steps_per_epoch = -(-len(train) // 16)
    config = TrainConfig(
        init_from=args.init_from if args.recipe != "baseline" else "", width=32, size=128,
        decay_fraction=0.3, seed=args.seed, image_every=steps_per_epoch,
        checkpoint_every=steps_per_epoch, **recipe)
    trainer = Trainer(config, train, val, logdir=args.logdir,
                      run_name=args.run_name or f"any-drawing-{args.recipe}",
                      data_info={"name": "OpenMoji 17.0.0 line art + Open Clip Art 0.18 "
                                         "drawings -> colour, 128x128",
                                 "split": "by drawing, each source alone, 10% val, 10% test",
                                 "openclipart_repeat": args.openclipart_repeat,
                                 "credit": source.info["credit"]},
                      resume=args.resume)
    if args.resume:
        print("resumed from", trainer.restore())
    print(f"logs and checkpoints: {trainer.run_dir}   (tensorboard --logdir {args.logdir})")
    trainer.fit()
    if args.out:
        from pix2color import Colorizer

        from pathlib import Path

        from pix2color.data import OPENMOJI_CREDIT
        from pix2color.openclipart import OPENCLIPART_CREDIT

        Colorizer.load(str(trainer.run_dir / "model")).save(args.out, weights_dtype="float16")
        (Path(args.out) / "LICENSE-OpenMoji.txt").write_text(OPENMOJI_CREDIT + "\n")
        (Path(args.out) / "CREDIT-OpenClipArt.txt").write_text(OPENCLIPART_CREDIT + "\n")
        print("saved", args.out)


if __name__ == "__main__":
    main()
