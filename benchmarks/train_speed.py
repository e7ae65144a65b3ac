"""Training speed: the article's loop against pix2color's trainer, same model, same PNGs, one run.

    python benchmarks/train_speed.py [--width 64] [--data FOLDER_WITH_sketch_AND_src]

(a)  the article: load a batch of PNGs synchronously, `train_on_batch` (MAE), then load a
     validation batch and `test_on_batch`, every step
(a') the same without the per-step validation
(b)  pix2color Trainer, `l1` mode, float32, fed by the tf.data pipeline
(c)  the same with `--precision auto`
(d)  `gan` mode (U-Net + PatchGAN), float32 and auto
Only steady-state steps are timed (the first `--warmup` steps of each are not).

First, the loop table: for widths 32 and 64, float32 and auto precision, the compiled step on
one in-memory batch (the ceiling), the step fed from files by `paired_dataset`, and the whole
`Trainer.fit` loop, side by side, with the CPU's native bfloat16 support printed.
"""

import argparse
import dataclasses
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


def quiet_trainer(pairs, args, width, precision, logdir, steps=0, kind="step"):
    config = TrainConfig(mode=args.mode, size=args.size, width=width, batch_size=args.batch_size,
                         precision=precision, max_steps=steps, log_every=10,
                         image_every=10**9, checkpoint_every=10**9)
    return Trainer(config, pairs, logdir=logdir,
                   run_name=f"bench-{kind}-{width}-{precision}-{steps}")


def step_ceiling(pairs, args, width, precision, logdir):
    """The compiled step alone, on one batch already in memory: what the loop can reach."""
    trainer = quiet_trainer(pairs, args, width, precision, logdir)
    x, y, _ = next(iter(paired_dataset(pairs, args.size, args.batch_size, training=True)))
    for step in range(args.warmup):
        trainer.train_step(x, y)
    start = time.perf_counter()
    for step in range(args.steps):
        losses = trainer.update(x, y, args.warmup + step)
    float(losses["g_total"])  # wait for the last step
    return args.steps * args.batch_size / (time.perf_counter() - start), trainer.policy


def step_from_files(pairs, args, width, precision, logdir):
    """The compiled step fed straight from `paired_dataset` (PNG decoding, jitter, prefetch)."""
    trainer = quiet_trainer(pairs, args, width, precision, logdir, kind="files")
    batches = iter(paired_dataset(pairs, args.size, args.batch_size, training=True).repeat())
    for step in range(args.warmup):
        trainer.train_step(*next(batches)[:2])
    start = time.perf_counter()
    for step in range(args.steps):
        x, y, _ = next(batches)
        losses = trainer.update(x, y, args.warmup + step)
    float(losses["g_total"])
    return args.steps * args.batch_size / (time.perf_counter() - start)


def whole_fit(pairs, args, width, precision, logdir):
    """`Trainer.fit`, the whole loop (progress bar, TensorBoard, index bookkeeping, the data
    pipeline): one run of `warmup + steps` steps, timed from the end of the warm-up to the
    end of the last step, so building, tracing and saving are left out."""
    marks = []

    class Timed(Trainer):
        def update(self, inputs, targets, step, indices=None):
            losses = super().update(inputs, targets, step, indices)
            if step + 1 in (args.warmup, args.warmup + args.steps):
                float(losses["g_total"])   # wait for the device at both marks
                marks.append(time.perf_counter())
            return losses

    config = quiet_trainer(pairs, args, width, precision, logdir, kind="probe").config
    trainer = Timed(dataclasses.replace(config, max_steps=args.warmup + args.steps), pairs,
                    logdir=logdir, run_name=f"bench-fit-{width}-{precision}")
    trainer.fit()
    return args.steps * args.batch_size / (marks[1] - marks[0])


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


def loop_table(pairs, args):
    """Is the loop as fast as its step? Each width and precision, side by side."""
    from pix2color.optim import cpu_has_native_bfloat16

    print(f"\n{args.mode} mode, {args.size}x{args.size}, batch {args.batch_size}, "
          f"{len(pairs)} pairs, {args.steps} timed steps a row; CPU native bfloat16: "
          f"{cpu_has_native_bfloat16()} (auto precision = mixed bfloat16 if so)")
    print("| width | precision | step, in-memory batch img/s | step fed from files img/s | "
          "Trainer.fit img/s | fit / in-memory |\n|---:|---|---:|---:|---:|---:|")
    for width in args.widths:
        for precision in ("float32", "auto"):
            with tempfile.TemporaryDirectory() as logdir:
                ceiling, policy = step_ceiling(pairs, args, width, precision, logdir)
                files = step_from_files(pairs, args, width, precision, logdir)
                fit = whole_fit(pairs, args, width, precision, logdir)
            print(f"| {width} | {policy} | {ceiling:.1f} | {files:.1f} | {fit:.1f} | "
                  f"{fit / ceiling:.2f} |", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--width", type=int, default=64, help="width of the article rows")
    parser.add_argument("--widths", type=int, nargs="+", default=[32, 64],
                        help="widths of the loop table")
    parser.add_argument("--mode", default="gan", help="training mode of the loop table")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=12, help="timed steps per row")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps per row")
    parser.add_argument("--data", help="a folder with sketch/ and src/ (default: generated PNGs)")
    parser.add_argument("--only", choices=["article", "loop"], default=None,
                        help="run only the article comparison or only the loop table")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    root = args.data or make_pngs(tmp.name, 320, args.size)
    pairs, _ = danbooru_pairs(root)
    if args.only != "article":
        loop_table(pairs, args)
    if args.only == "loop":
        return
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
