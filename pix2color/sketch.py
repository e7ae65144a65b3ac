"""Line art from colour pictures: XDoG as TensorFlow ops, and `pix2color pairs`.

The Danbooru sketch-pair set was made by running a line extractor over colour illustrations;
`xdog` lets anyone do the same with their own pictures, ahead of time (`make_pairs`,
`pix2color pairs`) or inside `tf.data` while training (`random_lines`: fresh parameters per
image and epoch act as augmentation).

XDoG, the extended difference of Gaussians (Winnemoeller, Kyprianidis & Olsen 2012), on
lightness Y in [0, 1]:

    S = (1 + p) * G(sigma) - p * G(k * sigma)        a sharpened image
    T = 1 where S >= epsilon, else 1 + tanh(phi * (S - epsilon))

`p` sets how strongly edges are sharpened (the dark side of an edge dips below epsilon and
becomes a line), `epsilon` the level below which a pixel is ink (solid dark fills stay
black, as an inker would draw them), `phi` how hard the step is (large: black lines on
white; small: gray, pencil-like). `sigma` sets the line width. The defaults were picked by
line-pixel F1 against the OpenMoji artists' own line art (`benchmarks/line_extraction.py`).
"""

import math
from pathlib import Path

import numpy as np
import tensorflow as tf

from .files import ImageReadError, image_files, read_image, write_atomically

# Picked by benchmarks/line_extraction.py --search (line-pixel F1 on OpenMoji's train split).
DEFAULTS = {"sigma": 0.4, "k": 1.6, "p": 10.0, "epsilon": 0.2, "phi": 10.0}


def _gaussian_blur(gray, sigma, radius):
    """Separable Gaussian blur of (N, H, W, 1) with edges reflected; `sigma` may be a tensor."""
    x = tf.range(-radius, radius + 1, dtype=tf.float32)
    kernel = tf.exp(-(x**2) / (2.0 * tf.cast(sigma, tf.float32) ** 2))
    kernel /= tf.reduce_sum(kernel)
    padded = tf.pad(gray, [[0, 0], [radius, radius], [radius, radius], [0, 0]], mode="REFLECT")
    rows = tf.nn.conv2d(padded, tf.reshape(kernel, [-1, 1, 1, 1]), 1, "VALID")
    return tf.nn.conv2d(rows, tf.reshape(kernel, [1, -1, 1, 1]), 1, "VALID")


def _radius(sigma, k):
    return max(1, math.ceil(3.0 * k * sigma))


def xdog(rgb, sigma=DEFAULTS["sigma"], k=DEFAULTS["k"], p=DEFAULTS["p"],
         epsilon=DEFAULTS["epsilon"], phi=DEFAULTS["phi"], soft=False, radius=None):
    """Colour images (N, H, W, 3) or (H, W, 3) in [0, 1] -> line art of the same shape,
    dark lines on white in [0, 1].

    `soft=True` drops the threshold: a pixel darkens with the strength of the edge it is on
    (1 + tanh(phi * p * min(0, G(sigma) - G(k sigma)))), so flat areas are white whatever
    their colour and lines come out in grays, more like pencil. The parameters may be scalar
    tensors (random per image in `random_lines`); then give `radius`, the blur's half-width.
    """
    rgb = tf.convert_to_tensor(rgb, tf.float32)
    single = rgb.shape.rank == 3
    batch = rgb[None] if single else rgb
    gray = tf.image.rgb_to_grayscale(batch)
    if radius is None:
        radius = _radius(float(sigma), float(k))
    fine = _gaussian_blur(gray, sigma, radius)
    coarse = _gaussian_blur(gray, sigma * k, radius)
    if soft:
        lines = 1.0 + tf.tanh(phi * p * tf.minimum(fine - coarse, 0.0))
    else:
        sharpened = (1.0 + p) * fine - p * coarse
        lines = tf.where(sharpened >= epsilon, 1.0, 1.0 + tf.tanh(phi * (sharpened - epsilon)))
    lines = tf.tile(tf.clip_by_value(lines, 0.0, 1.0), [1, 1, 1, 3])
    return lines[0] if single else lines


def thicken(lines, pixels=1):
    """Widen dark lines by `pixels` on each side (a min filter)."""
    size = 2 * pixels + 1
    lines = tf.convert_to_tensor(lines, tf.float32)
    single = lines.shape.rank == 3
    batch = lines[None] if single else lines
    wider = -tf.nn.max_pool2d(-batch, size, 1, "SAME")
    return wider[0] if single else wider


def random_lines(rgb, seed, sigma_range=(0.3, 0.8), soft_fraction=0.2, thick_fraction=0.25):
    """`xdog` of one image (H, W, 3) with random parameters drawn from `seed` (a stateless
    seed pair): sigma (line width), epsilon and phi jittered around the defaults, a soft
    (pencil) rendering `soft_fraction` of the time and lines widened by a pixel
    `thick_fraction` of the time. For augmentation inside `tf.data`."""
    u = tf.random.stateless_uniform([5], seed=seed)
    sigma = sigma_range[0] + u[0] * (sigma_range[1] - sigma_range[0])
    epsilon = DEFAULTS["epsilon"] * (0.7 + 0.6 * u[1])
    phi = DEFAULTS["phi"] * (0.5 + u[2])
    radius = _radius(sigma_range[1], DEFAULTS["k"])
    lines = tf.cond(u[3] < soft_fraction,  # only the rendering drawn is computed
                    lambda: xdog(rgb, sigma=sigma, phi=phi, soft=True, radius=radius),
                    lambda: xdog(rgb, sigma=sigma, epsilon=epsilon, phi=phi, radius=radius))
    return tf.where(u[4] < thick_fraction, thicken(lines), lines)


def line_weight(lines, amount):
    """Heavier lines: a blend of the line art and its lines widened by a pixel each side,
    `amount` 0 (unchanged) to 1 (one pixel heavier). Only pixels next to a line change, and
    they only get darker."""
    return lines + (thicken(lines) - lines) * amount


def vary_lines(lines, colour, seed, xdog_fraction=0.2, heavy_fraction=0.3, grey_fraction=0.3,
               hard_fraction=0.2):
    """Augment one line-art image (H, W, 3) the ways people's drawings differ (in grey:
    line art's colour is not what is learnt), drawn from
    `seed` (a stateless seed pair): XDoG lines of the `colour` target instead of the
    artist's (`xdog_fraction` of the time), heavier lines, grey pencil instead of black
    ink (darkness 0.35-1), and hard, unsmoothed edges. For line art that is not all
    OpenMoji's thick, even, black outlines."""
    u = tf.random.stateless_uniform([6], seed=seed)
    gray = tf.image.rgb_to_grayscale(tf.convert_to_tensor(lines, tf.float32))  # one channel:
    gray = tf.cond(u[0] < xdog_fraction,                                    # 3x cheaper
                   lambda: random_lines(colour, seed + 1)[..., :1], lambda: gray)
    gray = tf.cond(u[1] < heavy_fraction, lambda: line_weight(gray, u[2]), lambda: gray)
    gray = tf.where(u[3] < hard_fraction, tf.where(gray < 0.6, 0.0, 1.0), gray)
    darkness = tf.where(u[4] < grey_fraction, 0.35 + 0.65 * u[5], 1.0)
    return tf.tile(1.0 - (1.0 - gray) * darkness, [1, 1, 3])


# --- pix2color pairs: a colour folder -> the Danbooru sketch/ + src/ layout ----------------

def make_pairs(src_dir, out_dir, size=None, progress=True, **xdog_args):
    """Write `out_dir/sketch/<name>.png` (extracted lines) and `out_dir/src/<name>.png` (the
    colour image) for every image under `src_dir`, keeping relative names, so the trainer's
    `--data out_dir` reads them. `size`: resize so the longer side is `size`, keeping the
    aspect ratio (default: keep the size). Unreadable files are skipped; returns
    `(written, skipped)` where `skipped` lists "file: reason" lines."""
    from tqdm.auto import tqdm

    src_dir, out_dir = Path(src_dir), Path(out_dir)
    if not src_dir.is_dir():
        raise FileNotFoundError(f"not a folder: {src_dir}")
    files = sorted(image_files(src_dir).items())
    if not files:
        raise FileNotFoundError(f"no images found under {src_dir}")
    written, skipped = 0, []
    for relative, path in tqdm(files, unit="img", desc="pairs", disable=not progress):
        try:
            rgb = _read_rgb(path, size)
        except ImageReadError as error:
            skipped.append(str(error))
            continue
        lines = xdog(rgb, **xdog_args).numpy()
        for folder, image in (("sketch", lines), ("src", rgb)):
            target = out_dir / folder / f"{relative}.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(target, _png_bytes(image))
        written += 1
    return written, skipped


def _read_rgb(path, size):
    """A file -> RGB float32 in [0, 1] on white, resized so its longer side is `size`."""
    rgb, _ = read_image(path)
    height, width = rgb.shape[:2]
    if size and max(height, width) != size:
        scale = size / max(height, width)
        shape = (max(1, round(height * scale)), max(1, round(width * scale)))
        rgb = np.clip(tf.image.resize(rgb, shape, antialias=True).numpy(), 0.0, 1.0)
    return rgb


def _png_bytes(rgb):
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()

