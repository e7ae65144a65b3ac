"""Image-quality metrics for colorization, batched TF ops.

Images are `(batch, H, W, 3)`: uint8 in [0, 255], or float in [-1, 1] (the networks' range).
PSNR and SSIM are TensorFlow's own; CIEDE2000 and colourfulness are written here.
"""

import numpy as np
import tensorflow as tf

from .color import ciede2000, rgb_to_lab

BACKGROUND = 0.95  # target pixels lighter than this in every channel count as background


def network_or_uint8_to_unit(images):
    """uint8 levels [0, 255], or float in the networks' [-1, 1], -> float32 [0, 1] (unlike
    `files.to_unit`, which takes uint8 levels only)."""
    images = tf.convert_to_tensor(images)
    if images.dtype == tf.uint8:
        return tf.cast(images, tf.float32) / 255.0
    return (tf.cast(images, tf.float32) + 1.0) / 2.0


PSNR_CAP = 60.0  # dB; identical images would give infinity and swamp a mean


def psnr(output, target):
    """Peak signal-to-noise ratio in dB, per image, capped at `PSNR_CAP` (60 dB is beyond
    what 8-bit rounding leaves, so only identical images reach it)."""
    output, target = network_or_uint8_to_unit(output), network_or_uint8_to_unit(target)
    return tf.minimum(tf.image.psnr(output, target, max_val=1.0), PSNR_CAP)


def ssim(output, target):
    """Structural similarity, per image."""
    output, target = network_or_uint8_to_unit(output), network_or_uint8_to_unit(target)
    return tf.image.ssim(output, target, max_val=1.0)


def colour_difference(output, target):
    """CIEDE2000 per pixel, (batch, H, W)."""
    output, target = network_or_uint8_to_unit(output), network_or_uint8_to_unit(target)
    return ciede2000(rgb_to_lab(output), rgb_to_lab(target))


def mean_ciede2000(output, target, foreground_only=False):
    """Mean CIEDE2000 per image; `foreground_only` skips the target's white background
    (most of a line-art image), where every model scores well."""
    difference = colour_difference(output, target)
    if not foreground_only:
        return tf.reduce_mean(difference, axis=[1, 2])
    foreground = tf.reduce_any(network_or_uint8_to_unit(target) < BACKGROUND, axis=-1)
    mask = tf.cast(foreground, tf.float32)
    return tf.reduce_sum(difference * mask, [1, 2]) / tf.maximum(tf.reduce_sum(mask, [1, 2]), 1.0)


def colourfulness(images):
    """Hasler & Suesstrunk (2003) colourfulness per image, on the 0-255 scale; 0 for gray."""
    rgb = network_or_uint8_to_unit(images) * 255.0
    r, g, b = tf.unstack(rgb, axis=-1)
    rg, yb = r - g, 0.5 * (r + g) - b
    spread = tf.sqrt(tf.math.reduce_variance(rg, [1, 2]) + tf.math.reduce_variance(yb, [1, 2]))
    mean = tf.sqrt(tf.reduce_mean(rg, [1, 2]) ** 2 + tf.reduce_mean(yb, [1, 2]) ** 2)
    return spread + 0.3 * mean


def flat_fill_noise(output, target):
    """Mean gradient of the output (0-255 levels, |dx| + |dy| averaged over channels) where the
    target is a flat foreground fill (no level changes in a 3x3 neighbourhood, not white
    background), per image: 0 for a perfectly flat fill, larger for mottled or grainy ones."""
    out, tgt = network_or_uint8_to_unit(output) * 255.0, network_or_uint8_to_unit(target) * 255.0

    def gradient(x):  # (batch, H-1, W-1)
        dx = tf.abs(x[:, :-1, 1:] - x[:, :-1, :-1])
        dy = tf.abs(x[:, 1:, :-1] - x[:, :-1, :-1])
        return tf.reduce_mean(dx + dy, axis=-1)

    changes = tf.cast(gradient(tgt) > 0.5, tf.float32)[..., None]
    flat = tf.nn.max_pool2d(changes, 3, 1, "SAME")[..., 0] == 0.0
    foreground = tf.reduce_any(network_or_uint8_to_unit(target)[:, :-1, :-1] < BACKGROUND, axis=-1)
    mask = tf.cast(flat & foreground, tf.float32)
    area = tf.maximum(tf.reduce_sum(mask, [1, 2]), 1.0)
    return tf.reduce_sum(gradient(out) * mask, [1, 2]) / area


HUE_SECTORS = 12  # 30 degrees each


def hue_counts(images, targets):
    """How the saturated colour of `images` spreads over hues: counts of their pixels with
    HSV saturation > 0.25 and value > 0.2, on the targets' foreground, in HUE_SECTORS
    30-degree sectors (red first). Numpy (HUE_SECTORS,); add them up over batches."""
    sector, saturated = hue_sectors(images)
    foreground = tf.reduce_any(network_or_uint8_to_unit(targets) < BACKGROUND, axis=-1)
    return np.bincount(tf.boolean_mask(sector, saturated & foreground).numpy(),
                       minlength=HUE_SECTORS)


def hue_sectors(images):
    """Each pixel's HUE_SECTORS hue sector (int32, sectors centred on red, yellow, green...)
    and whether it is saturated colour (HSV saturation > 0.25, value > 0.2), not a neutral."""
    hsv = tf.image.rgb_to_hsv(network_or_uint8_to_unit(images))
    saturated = (hsv[..., 1] > 0.25) & (hsv[..., 2] > 0.2)
    sector = tf.cast(tf.math.floormod(hsv[..., 0] * HUE_SECTORS + 0.5, HUE_SECTORS), tf.int32)
    return sector, saturated


def hue_classes(images):
    """Each pixel's colour class (int32): 0 for neutrals (not saturated), 1 + its hue sector
    for saturated colour; the classes of colour rebalancing and of the hue head."""
    sector, saturated = hue_sectors(images)
    return tf.where(saturated, sector + 1, 0)


def hue_intersection(counts, target_counts):
    """Histogram intersection of two `hue_counts`: the sum over sectors of the smaller share,
    1 when outputs spread over hues as the targets do, 0 when they share no hue."""
    shares = [np.asarray(c, np.float64) / max(np.sum(c), 1) for c in (counts, target_counts)]
    return float(np.minimum(*shares).sum())


def batch_metrics(output, target):
    """Every per-image metric for one batch, as a dict of (batch,) tensors."""
    return {"psnr": psnr(output, target), "ssim": ssim(output, target),
            "ciede2000": mean_ciede2000(output, target),
            "ciede2000_fg": mean_ciede2000(output, target, foreground_only=True),
            "flat_noise": flat_fill_noise(output, target),
            "colourfulness": colourfulness(output),
            "target_colourfulness": colourfulness(target)}


def summarize(per_image):
    """Means over images of lists of per-image values; the colourfulness ratio is the
    output's mean colourfulness over the target's (a dull model scores well under 1)."""
    means = {k: float(tf.reduce_mean(tf.concat(v, 0))) for k, v in per_image.items()}
    if "colourfulness" in means:
        means["colourfulness_ratio"] = means["colourfulness"] / max(
            means.pop("target_colourfulness"), 1e-6)
    return means
