"""`pix2color prepare`: sharded TFRecord files read by the same pipeline as folders."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from pix2color.data import danbooru_pairs, paired_dataset, split_pairs
from pix2color.shards import ShardedPairs


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "pix2color", *map(str, args)],
                          capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))


@pytest.mark.slow
def test_prepare_writes_shards_that_stream_like_the_folders(pair_tree, tmp_path):
    broken = pair_tree / "src" / "0000" / "1000.png"
    broken.write_bytes(broken.read_bytes()[:40])          # one truncated target
    out = tmp_path / "shards"
    result = run_cli("prepare", pair_tree, out, "--shard-mb", "0.004")
    assert result.returncode == 0, result.stderr[-2000:]
    pairs, _ = danbooru_pairs(pair_tree)
    splits = split_pairs(pairs)                           # the trainer's split, by name
    manifest = json.loads((out / "train" / "manifest.json").read_text())
    assert manifest["pairs"] == len(splits["train"]) and len(manifest["shards"]) > 1
    sharded = ShardedPairs(out / "train")
    assert len(sharded) == len(splits["train"]) and sharded[0] == tuple(splits["train"][0])

    def by_index(source):
        found = {}
        for inputs, targets, indices in paired_dataset(source, size=32, batch_size=4):
            for i, x, y in zip(indices.numpy(), inputs.numpy(), targets.numpy()):
                found[int(i)] = (x, y)
        return found

    from_folders, from_shards = by_index(splits["train"]), by_index(sharded)
    assert from_folders.keys() == from_shards.keys()      # the broken pair skipped in both
    assert len(from_folders) == len(splits["train"]) - 1
    for i in from_folders:
        np.testing.assert_array_equal(from_folders[i][0], from_shards[i][0])
        np.testing.assert_array_equal(from_folders[i][1], from_shards[i][1])
    # Training shuffles reproducibly: the same seed and epoch give the same order.
    order = lambda: [int(i) for _, _, b in paired_dataset(  # noqa: E731
        sharded, 32, 4, training=True, seed=5, epoch=1) for i in b.numpy()]
    assert order() == order() and sorted(order()) == sorted(from_shards)


@pytest.mark.slow
def test_train_reads_shards_and_reports_skipped_pairs_by_name(pair_tree, tmp_path):
    broken = pair_tree / "sketch" / "0001" / "1001.png"
    broken.write_text("not an image")
    out = tmp_path / "shards"
    assert run_cli("prepare", pair_tree, out, "--val-fraction", "0.2").returncode == 0
    result = run_cli("train", "--data", out, "--epochs", "1", "--width", "4", "--size", "32",
                     "--batch-size", "4", "--precision", "float32", "--mode", "l1",
                     "--logdir", tmp_path / "runs", "--run-name", "sharded")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "shards:" in result.stdout
    run = tmp_path / "runs" / "sharded"
    assert (run / "model" / "generator.keras").exists()
    skipped = json.loads((run / "skipped_files.json").read_text())
    assert str(broken) in skipped                         # named, though read from a shard
