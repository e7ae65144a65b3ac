"""Training data: paired image folders streamed through `tf.data`, deterministic splits,
the Kaggle Danbooru sketch-pair layout, and the one way to open any data set (`open_pairs`).

A data set is a list of `(input_path, target_path)` pairs. `paired_dataset` streams them:
files are decoded in parallel, never all held in memory, and an unreadable file is dropped
from the stream instead of stopping it. Each element carries its pair's index, so the trainer
can tell which files were skipped and report them.
"""

import dataclasses
import hashlib
import os
from pathlib import Path

import tensorflow as tf

from .decode import decode_rgb
from .files import image_files
from .hints import no_hints, sample_hints
from .openmoji import (OPENMOJI_CACHE, OPENMOJI_CREDIT,  # noqa: F401  (public here too)
                       is_flag, openmoji_base, openmoji_pairs, openmoji_reserved)
from .resample import shrink
from .sketch import random_lines, vary_lines, xdog
from .tasks import get_task

JITTER_SCALE = 286 / 256  # pix2pix: upscale to 286, randomly crop back to 256
RENDER_CACHE = Path.home() / ".cache/pix2color"  # the named sources' renders: NAME-SIZE/


def find_pairs(input_dir, target_dir):
    """Pair files that share a relative path (extension aside) under the two folders.

    Returns `(pairs, unmatched)`: sorted `(input, target)` path pairs, and the input files
    with no partner. A folder with no pairs is an error naming both folders.
    """
    for folder in (input_dir, target_dir):
        if not Path(folder).is_dir():
            raise FileNotFoundError(f"not a folder: {folder}")
    inputs, targets = image_files(input_dir), image_files(target_dir)
    keys = sorted(inputs.keys() & targets.keys())
    if not keys:
        raise ValueError(f"no image pairs found: no file under {input_dir} has a partner with "
                         f"the same relative name under {target_dir} "
                         f"({len(inputs)} and {len(targets)} image files)")
    unmatched = sorted(str(inputs[k]) for k in inputs.keys() - targets.keys())
    return [(str(inputs[k]), str(targets[k])) for k in keys], unmatched


def danbooru_dirs(root):
    """The `sketch/` and `src/` folders of the Kaggle Danbooru sketch-pair layout.

    Accepts the Kaggle root (`danbooru-sketch-pair-128x/`), its `color/` folder, or any
    folder holding `sketch/` and `src/`.
    """
    root = Path(root)
    for base in (root, root / "color"):
        if (base / "sketch").is_dir() and (base / "src").is_dir():
            return base / "sketch", base / "src"
    pictures = len(image_files(root)) if root.is_dir() else 0
    hint = (f"; it holds {pictures} picture(s): to learn line art from colour pictures, "
            f"extract their lines while training (--extract-lines, extract_lines=True) or "
            f"make pairs first (pix2color pairs {root} PAIRS, then train on PAIRS)"
            if pictures else "")
    raise FileNotFoundError(f"no Danbooru layout under {root}: looked for sketch/ and src/ "
                            f"in {root} and {root / 'color'}{hint}")


def danbooru_pairs(root, limit=None):
    """Sketch -> colour pairs of the Danbooru layout; `limit` keeps the first N in sorted order."""
    pairs, unmatched = find_pairs(*danbooru_dirs(root))
    return (pairs[:limit] if limit else pairs), unmatched


def split_key(path, by="name"):
    """What decides a file's split: its name, or its folder (to keep related images together)."""
    path = Path(path)
    return path.parent.name if by == "folder" else path.stem


def split_pairs(pairs, val_fraction=0.1, test_fraction=0.1, by="name"):
    """Deterministic train / val / test split by a hash of each pair's split key.

    The same file always lands in the same split, whatever else is in the folder, so
    validation and test images are never training images across runs.
    """
    splits = {"train": [], "val": [], "test": []}
    for pair in pairs:
        digest = hashlib.sha1(split_key(pair[0], by).encode("utf-8", "surrogateescape")).digest()
        u = int.from_bytes(digest[:8], "big") / 2**64
        name = "test" if u < test_fraction else "val" if u < test_fraction + val_fraction else "train"
        splits[name].append(pair)
    return splits


@dataclasses.dataclass(frozen=True)
class PairRecipe:
    """How a training pair becomes network tensors: the fields of a `TrainConfig` that say so
    (`PairRecipe.of(config)`), checked once."""

    task: str = "sketch"
    size: int = 128
    extract_lines: bool = False     # sketch: the input is XDoG lines of the target
    line_augment: bool = False      # sketch, training: the line art is varied
    hints: bool = False             # hint channels follow the input (pix2color.hints)
    no_hint_fraction: float = 0.25  # training with hints: the share of images given none

    def __post_init__(self):
        if self.extract_lines and not get_task(self.task).line_art:
            raise ValueError("extract_lines makes line-art inputs: it needs task='sketch'")

    @classmethod
    def of(cls, config):
        """The recipe of a `TrainConfig` (or anything with the same fields)."""
        return cls(**{f.name: getattr(config, f.name) for f in dataclasses.fields(cls)})

    @property
    def from_target(self):
        """The input is made from the target picture, so a pair is one colour file."""
        return get_task(self.task).input_from_target or self.extract_lines

    def load(self, index, input_data, target_data, augment, seed):
        """Encoded input and target -> (inputs, targets, index) (`input_data` is unused when
        the input is made from the target)."""
        inputs, targets = self.network_pair(input_data, target_data, augment, seed)
        if self.hints:  # random hints from the target while training; none when evaluating
            hint = (sample_hints(targets, seed + 2, no_hint_fraction=self.no_hint_fraction)
                    if augment else no_hints(targets))
            inputs = tf.concat([inputs, hint], axis=-1)
        return inputs, targets, index

    def network_pair(self, input_data, target_data, augment, seed):
        task, size, target = get_task(self.task), self.size, decode_rgb(target_data)
        # When the input is made from the target (gray, extracted lines) it is made after the
        # augmentation, so the two can never be cropped differently (and the file is read once).
        images = [target] if self.from_target else [decode_rgb(input_data), target]
        both_size = round(size * JITTER_SCALE) if augment else size
        # Line art shrinks as Colorizer shrinks it: by the darkest pixel of each block.
        both = tf.concat([shrink(im, [both_size, both_size], task.line_art and im is not target)
                          for im in images], axis=-1)
        # One random crop and flip for both images, so input and target can never disagree.
        if augment:
            both = tf.image.stateless_random_crop(both, [size, size, 3 * len(images)], seed=seed)
            both = tf.image.stateless_random_flip_left_right(both, seed=seed[::-1])
        both = tf.clip_by_value(both, 0.0, 1.0)
        colour = both[..., -3:]
        if self.extract_lines:  # fresh random XDoG parameters per image and epoch in training
            source = random_lines(colour, seed + 1) if augment else xdog(colour)
        else:
            source = colour if self.from_target else both[..., :3]
            if augment and self.line_augment:
                source = vary_lines(source, colour, seed + 3)
        return task.network_pair(source, colour)


def paired_dataset(pairs, size=None, batch_size=16, training=False, seed=0, epoch=0, skip=0,
                   shard=None, config=None, **recipe):
    """Stream `(inputs, targets, pair_indices)` batches.

    How a pair becomes tensors (`PairRecipe`) comes from `config` (a `TrainConfig`, whose
    task, size, extract_lines, line_augment, hints and no_hint_fraction it reads), or from
    `size` (default 128) and `recipe` (those names as keywords). `sketch`: RGB input and
    target in [-1, 1]; `gray`: the pair's target is a colour image, the input its L / 50 - 1
    and the target its ab / 128 (`pix2color.color`); `extract_lines`: the input is XDoG lines
    of the target; `line_augment` (training): the line art is varied; `hints` appends hint
    channels (`pix2color.hints`), drawn from the target while training (none for a
    `no_hint_fraction` share of images) and all zero otherwise.
    Training shuffles with a seed per epoch and applies pix2pix jitter (upscale ~1.12x,
    random crop) and a horizontal flip, identical for input and target; the randomness
    is drawn from (seed, epoch, pair index), so a run resumed part-way (`skip` elements)
    sees exactly what the uninterrupted run saw. `shard=(index, count)` keeps every
    count-th pair after the shuffle (one worker's share under tf.distribute).
    `pairs` is a list of `(input_path, target_path)`, or `pix2color.shards.ShardedPairs`
    (TFRecord shards made by `pix2color prepare`), read the same way.
    """
    if config is not None and (size is not None or recipe):
        raise TypeError("give either config or size and the recipe's keywords, not both")
    recipe = PairRecipe.of(config) if config is not None else \
        PairRecipe(size=size or 128, **recipe)
    if not pairs:
        raise ValueError("no image pairs to read")
    from_files = not hasattr(pairs, "records")
    if from_files:
        # As bytes, the way the OS names them: a name that is not valid UTF-8 still opens.
        inputs, targets = zip(*[(os.fsencode(a), os.fsencode(b)) for a, b in pairs])
        ds = tf.data.Dataset.from_tensor_slices(
            (tf.range(len(pairs), dtype=tf.int64), list(inputs), list(targets)))
        if training:
            ds = ds.shuffle(len(pairs), seed=seed + epoch, reshuffle_each_iteration=False)
    else:
        ds = pairs.records(shuffle_seed=seed + epoch if training else None)
    if shard:
        ds = ds.shard(shard[1], shard[0])
    if skip:
        ds = ds.skip(skip)

    def load(index, input_data, target_data):
        if from_files:  # paths so far: read the files (the input only when it is needed)
            target_data = tf.io.read_file(target_data)
            input_data = target_data if recipe.from_target else tf.io.read_file(input_data)
        element_seed = tf.stack([tf.cast(seed * 100003 + epoch, tf.int64), index])
        return recipe.load(index, input_data, target_data, training, element_seed)

    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.ignore_errors()  # unreadable files drop out here; the trainer reports them
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def colour_images(folder):
    """Every image under `folder` as a `gray`-task pair `(path, path)`: any folder of colour
    pictures is a training set for grayscale colorization."""
    files = sorted(image_files(folder).values()) if Path(folder).is_dir() else []
    if not files:
        raise FileNotFoundError(f"no images found under {folder}")
    return [(str(p), str(p)) for p in files]


class PairSource:
    """What `open_pairs` found: `pairs` (a list of `(input, target)` paths, or None for
    shards, which are split already), the input files with no partner (`unmatched`), how
    its pairs are split by default (`split_by`), a `description` for logs and `info` for
    the models trained on it. A mix of named sources keeps each one in `parts`, split
    by its own rule, so a drawing's split does not depend on what it is mixed with."""

    def __init__(self, pairs, description, split_by="name", unmatched=(), shards=None,
                 info=None, parts=None):
        self.pairs, self.description, self.split_by = pairs, description, split_by
        self.unmatched, self.shards = list(unmatched), shards
        self.info = info or {}  # what a model trained on it records (a licence, say)
        self.parts = parts or {}  # {name: PairSource} of a mix

    def splits(self, val_fraction=0.1, test_fraction=0.1, by=None):
        """{"train", "val", "test"} -> pairs: the deterministic split (`split_pairs`), or a
        sharded set's own train/, val/ and test/ folders; a mix's parts split alone."""
        if self.shards is not None:
            from .shards import ShardedPairs, is_sharded

            return {name: ShardedPairs(self.shards / name) if is_sharded(self.shards / name)
                    else [] for name in ("train", "val", "test")}
        if self.parts:
            merged = {"train": [], "val": [], "test": []}
            for part in self.parts.values():
                for name, pairs in part.splits(val_fraction, test_fraction, by).items():
                    merged[name] += pairs
            return merged
        return split_pairs(self.pairs, val_fraction, test_fraction, by=by or self.split_by)


def named_source(name, cache=None, size=128):
    """A data set that installs from a package index: `openmoji` or `openclipart` line art
    and colour renders of `size` px, made in `cache` (default: ~/.cache/pix2color/NAME-SIZE),
    split by drawing. Render at the size a model trains at: a 128 px render enlarged to
    256 gives blurred lines and colour, not a 256 px drawing."""
    cache = cache or RENDER_CACHE / f"{name}-{size}"
    if name == "openmoji":
        pairs, credit = openmoji_pairs(cache, size=size), OPENMOJI_CREDIT
    else:
        from .openclipart import OPENCLIPART_CREDIT, openclipart_pairs

        pairs, credit = openclipart_pairs(cache, size=size), OPENCLIPART_CREDIT
    return PairSource(pairs, name, split_by="folder", info={"credit": credit})


NAMED_SOURCES = ("openmoji", "openclipart")


def open_pairs(data, task="sketch", extract_lines=False, limit=None, target_dir=None,
               cache=None, size=128):
    """The one way training, `prepare` and `evaluate` open a data set. `data` is:

    - `openmoji` or `openclipart`: line art and colour renders of `size` px made in `cache`
      (split by drawing), or several of them joined by commas (`openmoji,openclipart`), each
      split alone and, with `cache`, rendered into `cache/NAME`;
    - a folder of shards made by `pix2color prepare` (its train/, val/, test/);
    - for a task whose pairs are one colour picture (gray), or with `extract_lines`: a
      folder of colour pictures;
    - with `target_dir`: a folder of inputs, paired with `target_dir` by relative name;
    - otherwise the Danbooru layout: a folder holding sketch/ and src/ (or its color/).

    `limit` keeps the first N pairs in sorted order (not for shards)."""
    from_target = PairRecipe(task, extract_lines=extract_lines).from_target
    names = str(data).split(",")
    if all(name in NAMED_SOURCES for name in names):
        if len(names) == 1:
            source = named_source(data, cache, size)
            pairs = source.pairs[:limit] if limit else source.pairs
            source.pairs = [(colour, colour) for _, colour in pairs] if from_target else pairs
            return source
        parts = {name: open_pairs(name, task, extract_lines, limit,
                                  cache=cache and Path(cache) / name, size=size)
                 for name in names}
        return PairSource([pair for part in parts.values() for pair in part.pairs], data,
                          split_by="folder", parts=parts,
                          info={"credit": " / ".join(p.info["credit"] for p in parts.values())})
    from .shards import is_sharded

    if not Path(data).exists():
        raise FileNotFoundError(f"{data} does not exist: give a folder of pairs or pictures, "
                                f"shards, or one of {', '.join(NAMED_SOURCES)}")
    if is_sharded(Path(data) / "train"):
        return PairSource(None, f"shards in {data}", shards=Path(data))
    if from_target:
        pairs, unmatched = colour_images(data), []
    elif target_dir:
        pairs, unmatched = find_pairs(data, target_dir)
    else:
        pairs, unmatched = danbooru_pairs(data)
    source = f"{data} -> {target_dir}" if target_dir and not from_target else str(data)
    return PairSource(pairs[:limit] if limit else pairs, source, unmatched=unmatched)
