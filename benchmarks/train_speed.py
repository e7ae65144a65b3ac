"""Training speed: the article's loop against pix2color's trainer, same model, same PNGs, one run.

    python benchmarks/train_speed.py [--width 64] [--data FOLDER_WITH_sketch_AND_src]

(a)  the article: load a batch of PNGs synchronously, `train_on_batch` (MAE), then load a
     validation batch and `test_on_batch`, every step
(a') the same without the per-step validation
(b)  pix2color Trainer, `l1` mode, float32, fed by the tf.data pipeline
(c)  the same with `--precision auto`
(d)  `gan` mode (U-Net + PatchGAN), float32 and auto
Only steady-state steps are timed (the first `--warmup` steps of each are not).
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from pix2color.data import danbooru_pairs, paired_dataset  # noqa: E402
from pix2color.models import unet  # noqa: E402
from pix2color.train import TrainConfig, Trainer  # noqa: E402


def make_pngs(root, count, size):
    rng = np.random.default_rng(0)
    for i in range(count):
        colour = rng.integers(0, 256, (size // 8, size // 8, 3), np.uint8)
        colour = np.kron(colour, np.ones((8, 8, 1), np.uint8))
        lines = np.where(np.abs(np.diff(colour.astype(int), axis=0, append=0)).sum(-1) > 0, 0, 255)
        for kind, array in (("sketch", np.repeat(lines[..., None], 3, -1).astype(np.uint8)),
                            ("src", colour)):
            path = Path(root) / kind / f"{i:05d}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(array).save(path)
    return root


def load_batch(pairs):
    """The article's loader: PIL, one file after another, scaled to [-1, 1]."""
    x = np.stack([np.asarray(Image.open(a).convert("RGB"), np.float32) for a, _ in pairs])
    y = np.stack([np.asarray(Image.open(b).convert("RGB"), np.float32) for _, b in pairs])
    return (x - 127.5) / 127.5, (y - 127.5) / 127.5


def article_loop(pairs, args, validate):
    model = unet(size=args.size, width=args.width)
    model.compile(keras.optimizers.Adam(2e-4, beta_1=0.5), loss="mae")
    bs, timed, start = args.batch_size, 0, None
    for step in range(args.warmup + args.steps):
        if step == args.warmup:
            start = time.perf_counter()
        batch = pairs[(step * bs) % (len(pairs) - bs):][:bs]
        model.train_on_batch(*load_batch(batch))
        if validate:
            val = pairs[-bs:]
            model.test_on_batch(*load_batch(val))
        timed += bs if step >= args.warmup else 0
    return timed / (time.perf_counter() - start)


def trainer_loop(pairs, args, mode, precision):
    config = TrainConfig(mode=mode, size=args.size, width=args.width, batch_size=args.batch_size,
                         precision=precision)
    with tempfile.TemporaryDirectory() as logdir:
        trainer = Trainer(config, pairs, logdir=logdir, run_name="bench")
        data = paired_dataset(pairs, args.size, args.batch_size, training=True).repeat()
        timed, start = 0, None
        for step, (x, y, _) in enumerate(data.take(args.warmup + args.steps)):
            if step == args.warmup:
                start = time.perf_counter()
            trainer.train_step(x, y)
            timed += int(x.shape[0]) if step >= args.warmup else 0
        return timed / (time.perf_counter() - start), trainer.policy


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=12, help="timed steps per row")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps per row")
    parser.add_argument("--data", help="a folder with sketch/ and src/ (default: generated PNGs)")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    root = args.data or make_pngs(tmp.name, 320, args.size)
    pairs, _ = danbooru_pairs(root)

    rows = [("(a)  article: sync PNG + train_on_batch + test_on_batch", "float32",
             article_loop(pairs, args, validate=True))]
    rows.append(("(a') article without per-step validation", "float32",
                 article_loop(pairs, args, validate=False)))
    for label, mode, precision in [("(b)  pix2color l1, float32", "l1", "float32"),
                                   ("(c)  pix2color l1, auto", "l1", "auto"),
                                   ("(d)  pix2color gan, float32", "gan", "float32"),
                                   ("(d)  pix2color gan, auto", "gan", "auto")]:
        speed, policy = trainer_loop(pairs, args, mode, precision)
        rows.append((label, policy, speed))

    base, base_no_val = rows[0][2], rows[1][2]
    print(f"\nwidth {args.width}, {args.size}x{args.size}, batch {args.batch_size}, "
          f"{args.steps} timed steps per row, {os.cpu_count()} CPUs")
    print("| run | precision | train img/s | / (a) | / (a') |\n|---|---|---:|---:|---:|")
    for label, policy, speed in rows:
        print(f"| {label} | {policy} | {speed:.1f} | {speed / base:.2f} | {speed / base_no_val:.2f} |")


if __name__ == "__main__":
    main()
