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

from pix2color import TrainConfig, Trainer, open_pairs
from pix2color.evaluate import evaluate, markdown_table


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="a folder of colour images (recursed)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--steps", type=int, default=0, help="cap on steps per model")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--width", type=int, default=32, help="U-Net width for the gan recipe")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--precision", default="auto", choices=("auto", "mixed", "float32"))
    parser.add_argument("--logdir", default="runs")
    parser.add_argument("--out", default="baseline_report.md")
    args = parser.parse_args()

    splits = open_pairs(args.data, task="gray").splits()
    print({name: len(split) for name, split in splits.items()}, "images (train / val / test)")
    steps_per_epoch = -(-len(splits["train"]) // args.batch_size)
    shared = dict(task="gray", size=args.size, batch_size=args.batch_size, epochs=args.epochs,
                  max_steps=args.steps, precision=args.precision)
    recipes = {
        "post-baseline": TrainConfig(generator="simple_lab", mode="mse", optimizer="rmsprop",
                                     learning_rate=1e-3, **shared),
        "pix2color-gan": TrainConfig(generator="unet", mode="gan", width=args.width,
                                     gan_loss="lsgan", warmup_steps=(args.epochs // 2) * steps_per_epoch,
                                     decay_fraction=0.3, **shared),
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
