"""Sharded TFRecord files for large data sets (the full Danbooru set is 323K pairs, 9.6 GB).

`pix2color prepare` packs pairs into shards of about 150 MB with the images kept encoded (the
bytes of the original files), one set of shards per split, each with a `manifest.json`.
Training reads shards interleaved in parallel through the same pipeline as folders
(`paired_dataset`), so nothing else changes: millions of small files become a few hundred
large sequential reads.
"""

import json
from pathlib import Path

import tensorflow as tf

from .files import write_json

MANIFEST = "manifest.json"
FORMAT = "pix2color-shards-1"
_FEATURES = {"index": tf.io.FixedLenFeature([], tf.int64),
             "input": tf.io.FixedLenFeature([], tf.string),
             "target": tf.io.FixedLenFeature([], tf.string)}


def _bytes(value):
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def write_shards(pairs, out_dir, shard_megabytes=150, same_file=False, progress=True):
    """Write `pairs` as `out_dir/shard-NNNNN.tfrecord` + `manifest.json`; returns the manifest.
    `same_file`: input and target are one file (gray task, extracted lines): stored once."""
    from tqdm.auto import tqdm

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    limit = shard_megabytes * 2**20
    shards, writer, size = [], None, 0
    for index, (input_path, target_path) in enumerate(
            tqdm(pairs, unit="pair", desc=f"shards {out_dir.name}", disable=not progress)):
        if writer is None or size >= limit:
            if writer is not None:
                writer.close()
            shards.append({"file": f"shard-{len(shards):05d}.tfrecord", "pairs": 0})
            writer, size = tf.io.TFRecordWriter(str(out_dir / shards[-1]["file"])), 0
        target = Path(target_path).read_bytes()
        source = b"" if same_file else Path(input_path).read_bytes()
        example = tf.train.Example(features=tf.train.Features(feature={
            "index": tf.train.Feature(int64_list=tf.train.Int64List(value=[index])),
            "input": _bytes(source), "target": _bytes(target)}))
        record = example.SerializeToString()
        writer.write(record)
        size += len(record)
        shards[-1]["pairs"] += 1
    if writer is not None:
        writer.close()
    manifest = {"format": FORMAT, "pairs": len(pairs), "same_file": same_file,
                "shards": shards, "names": [[str(a), str(b)] for a, b in pairs]}
    write_json(out_dir / MANIFEST, manifest)
    return manifest


def is_sharded(folder):
    return (Path(folder) / MANIFEST).is_file()


class ShardedPairs:
    """The pairs of one set of shards. Behaves like the list of `(input, target)` names for
    `len`, indexing and reports of skipped pairs; `paired_dataset` reads the records."""

    def __init__(self, folder):
        self.folder = Path(folder)
        try:
            manifest = json.loads((self.folder / MANIFEST).read_text())
        except (OSError, ValueError) as error:
            raise FileNotFoundError(f"{self.folder}: no readable {MANIFEST} ({error})") from None
        if manifest.get("format") != FORMAT:
            raise ValueError(f"{self.folder / MANIFEST}: not a pix2color shard manifest")
        self.files = [str(self.folder / shard["file"]) for shard in manifest["shards"]]
        self.names = [tuple(pair) for pair in manifest["names"]]
        self.same_file = manifest["same_file"]

    def __len__(self):
        return len(self.names)

    def __getitem__(self, index):
        return self.names[index]

    def __repr__(self):
        return f"ShardedPairs({str(self.folder)!r}, {len(self)} pairs, {len(self.files)} shards)"

    def records(self, shuffle_seed=None, buffer=2048):
        """(index, input bytes, target bytes), shards read in parallel; with a seed, the shard
        order and a buffer of records are shuffled, reproducibly."""
        files = tf.data.Dataset.from_tensor_slices(self.files)
        if shuffle_seed is not None:
            files = files.shuffle(len(self.files), seed=shuffle_seed)
        ds = files.interleave(tf.data.TFRecordDataset, cycle_length=min(8, len(self.files)),
                              num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        if shuffle_seed is not None:
            ds = ds.shuffle(buffer, seed=shuffle_seed, reshuffle_each_iteration=False)

        def parse(record):
            example = tf.io.parse_single_example(record, _FEATURES)
            return example["index"], example["input"], example["target"]

        return ds.map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
