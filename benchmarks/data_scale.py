"""Does the input pipeline stay flat in memory as the data set grows, and what do shards buy?

    python benchmarks/data_scale.py [--counts 5000 50000] [--size 64] [--workdir /tmp/p2c-scale]

Generates N random sketch/colour pairs (2N files: the defaults make 10K and 100K files) (PNG, `--size` pixels square) in the Danbooru layout,
packs them into TFRecord shards (`pix2color prepare`'s writer), then, each in a fresh process,
streams one training epoch through `paired_dataset` (decode, jitter, flip, batch 16; no
model) from the folders and from the shards, and prints images/s and peak RSS side by side.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

STREAM = """
import json, resource, sys, time
from pix2color.data import danbooru_pairs, paired_dataset
from pix2color.shards import ShardedPairs
source, kind, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
pairs = ShardedPairs(source) if kind == "shards" else danbooru_pairs(source)[0]
start, images = time.perf_counter(), 0
for inputs, _, _ in paired_dataset(pairs, size=size, batch_size=16, training=True, seed=1):
    images += int(inputs.shape[0])
seconds = time.perf_counter() - start
peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"images": images, "seconds": seconds, "peak_rss_mib": peak_mib}))
"""


def generate(root, count, size):
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    made = sum(1 for _ in (root / "src").rglob("*.png")) if (root / "src").exists() else 0
    for i in range(made, count):
        folder = f"{i // 1000:04d}"
        for kind in ("sketch", "src"):
            (root / kind / folder).mkdir(parents=True, exist_ok=True)
        colour = rng.integers(0, 256, (size // 8, size // 8, 3), np.uint8)
        image = Image.fromarray(colour).resize((size, size), Image.NEAREST)
        image.save(root / "src" / folder / f"{i}.png")
        image.convert("L").save(root / "sketch" / folder / f"{i}.png")


def measure(source, kind, size):
    result = subprocess.run([sys.executable, "-c", STREAM, str(source), kind, str(size)],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[5000, 50000],
                        help="numbers of pairs (each is two files)")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--workdir", default="/tmp/p2c-scale")
    args = parser.parse_args()

    from pix2color.data import danbooru_pairs
    from pix2color.shards import write_shards

    rows = []
    for count in args.counts:
        root = Path(args.workdir) / f"pairs-{count}"
        start = time.perf_counter()
        generate(root, count, args.size)
        shards = Path(args.workdir) / f"shards-{count}"
        if not (shards / "manifest.json").exists():
            write_shards(danbooru_pairs(root)[0], shards, progress=False)
        print(f"{count} pairs ready in {time.perf_counter() - start:.0f} s", flush=True)
        for kind, source in (("folders", root), ("shards", shards)):
            m = measure(source, kind, args.size)
            rows.append((count, kind, m["images"] / m["seconds"], m["peak_rss_mib"]))
            print(rows[-1], flush=True)
    print(f"\n{args.size}x{args.size} pairs, batch 16, one epoch, {os.cpu_count()} CPUs")
    print("| pairs | files | read from | images/s | peak RSS (MiB) | images/s vs folders |")
    print("|---:|---:|---|---:|---:|---:|")
    folders = {count: speed for count, kind, speed, _ in rows if kind == "folders"}
    for count, kind, speed, rss in rows:
        print(f"| {count} | {2 * count} | {kind} | {speed:.0f} | {rss:.0f} | "
              f"{speed / folders[count]:.2f} |")


if __name__ == "__main__":
    main()
