"""Loss functions. Each is pure and returns a dict of its parts, so every part can be logged.

`total` is what gets differentiated; the other entries are for TensorBoard.
"""

import tensorflow as tf

GAN_LOSSES = ("vanilla", "lsgan", "hinge")


def _bce(logits, label):
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
        labels=tf.fill(tf.shape(logits), label), logits=logits))


def adversarial_generator_loss(fake_logits, kind="vanilla"):
    """How far the discriminator is from calling the generated images real."""
    if kind == "vanilla":
        return _bce(fake_logits, 1.0)
    if kind == "lsgan":
        return tf.reduce_mean(tf.square(fake_logits - 1.0))
    if kind == "hinge":
        return -tf.reduce_mean(fake_logits)
    raise ValueError(f"gan_loss must be one of {GAN_LOSSES}, got {kind!r}")


def discriminator_loss(real_logits, fake_logits, kind="vanilla"):
    """Discriminator objective on one batch of real and one of generated pairs."""
    if kind == "vanilla":
        real, fake = _bce(real_logits, 1.0), _bce(fake_logits, 0.0)
    elif kind == "lsgan":
        real = tf.reduce_mean(tf.square(real_logits - 1.0))
        fake = tf.reduce_mean(tf.square(fake_logits))
    elif kind == "hinge":
        real = tf.reduce_mean(tf.nn.relu(1.0 - real_logits))
        fake = tf.reduce_mean(tf.nn.relu(1.0 + fake_logits))
    else:
        raise ValueError(f"gan_loss must be one of {GAN_LOSSES}, got {kind!r}")
    # pix2pix halves the discriminator's loss so it learns more slowly than the generator.
    return {"total": 0.5 * (real + fake), "real": real, "fake": fake}


def _l1(fake, target, pixel_weights=None):
    error = tf.abs(target - fake)
    return tf.reduce_mean(error if pixel_weights is None else error * pixel_weights)


def generator_loss(fake_logits, fake, target, l1_weight=100.0, kind="vanilla",
                   pixel_weights=None):
    """pix2pix generator objective: adversarial term + l1_weight * L1 to the target.
    `pixel_weights` (batch, H, W, 1) weighs the L1 per pixel (hinted pixels count more)."""
    adversarial = adversarial_generator_loss(fake_logits, kind)
    l1 = _l1(fake, target, pixel_weights)
    total = adversarial + l1_weight * l1
    return {"total": total, "adversarial": adversarial, "l1": l1}


def regression_loss(fake, target, mode="l1", pixel_weights=None):
    """The regression baselines: the article's mean absolute error, or the grayscale post's MSE
    (`pixel_weights` as for `generator_loss`)."""
    l1 = _l1(fake, target, pixel_weights)
    if mode == "l1":
        return {"total": l1, "l1": l1}
    if mode == "mse":
        squared = tf.square(target - fake)
        mse = tf.reduce_mean(squared if pixel_weights is None else squared * pixel_weights)
        return {"total": mse, "mse": mse, "l1": l1}
    raise ValueError(f"regression mode must be 'l1' or 'mse', got {mode!r}")
