"""Grayscale colorization: the grayscale post's recipe against pix2color's, same data, same split.

    python examples/reproduce_baseline.py --data FOLDER_OF_COLOUR_IMAGES

Trains (1) the post's baseline: its small encoder-decoder (`simple_lab`), plain MSE on
ab / 128, RMSprop, L in; and (2) pix2color's `gan` recipe in Lab: the article U-Net with one
channel in and two out, L1 warm-up then L1 + adversarial. Both see the same training images
(streamed, any size, with jitter and flips) and are scored on the same held-out test images,
which neither trained on. Prints one table with the `identity` (gray) and `mean-colour`
baselines beside them.
"""

import argparse
import dataclasses

from pix2color import TrainConfig, Trainer, open_pairs
from pix2color.config import add_config_options, config_from_args
from pix2color.evaluate import evaluate, markdown_table

# The options both recipes share, and their defaults here; `width` is the gan recipe's U-Net.
SHARED = ("size", "batch_size", "epochs", "max_steps", "precision", "width")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="a folder of colour images (recursed)")
    add_config_options(parser, only=SHARED, epochs=10, width=32)
    parser.add_argument("--logdir", default="runs")
    parser.add_argument("--out", default="baseline_report.md")
    args = parser.parse_args()

    splits = open_pairs(args.data, task="gray").splits()
    print({name: len(split) for name, split in splits.items()}, "images (train / val / test)")
    steps_per_epoch = -(-len(splits["train"]) // args.batch_size)
    shared = config_from_args(args, task="gray")
    recipes = {  # the post's network has no width: its run records the default
        "post-baseline": dataclasses.replace(
            shared, generator="simple_lab", mode="mse", optimizer="rmsprop", learning_rate=1e-3,
            width=TrainConfig().width),
        "pix2color-gan": dataclasses.replace(
            shared, generator="unet", mode="gan", gan_loss="lsgan",
            warmup_steps=(args.epochs // 2) * steps_per_epoch, decay_fraction=0.3),
    }
    models = []
    for name, config in recipes.items():
        trainer = Trainer(config, splits["train"], splits["val"], logdir=args.logdir,
                          run_name=name, data_info={"source": args.data})
        print(f"training {name}: {trainer.total_steps} steps -> {trainer.run_dir}")
        trainer.fit()
        models.append(str(trainer.run_dir / "model"))
    rows = evaluate(models + ["identity", "mean-colour"], splits["test"], splits["train"],
                    args.batch_size, grid_path=args.out.rsplit(".", 1)[0] + ".png", task="gray")
    for row, name in zip(rows, list(recipes) + ["identity (gray)", "mean-colour"]):
        row["model"] = name
    table = markdown_table(rows)
    print(f"\n{len(splits['test'])} test images of {args.data}\n\n{table}")
    with open(args.out, "w") as report:
        report.write(f"{len(splits['test'])} test images of {args.data}\n\n{table}\n")


if __name__ == "__main__":
    main()
