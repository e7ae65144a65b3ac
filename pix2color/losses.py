"""Loss functions. Each is pure and returns a dict of its parts, so every part can be logged.

`total` is what gets differentiated; the other entries are for TensorBoard. The adversarial
objectives are objects in `GAN_LOSSES` (the one list `TrainConfig.gan_loss` chooses from):
a new one is one class here. Importing this module does not start TensorFlow (the CLI's
`--help` lists the names).
"""


def _bce(logits, label):
    import tensorflow as tf

    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
        labels=tf.fill(tf.shape(logits), label), logits=logits))


class GanLoss:
    """An adversarial objective on PatchGAN logits: what the generator minimises, and what
    the discriminator minimises on a real and a generated batch (its two parts)."""

    name = ""

    def generator(self, fake_logits):
        raise NotImplementedError

    def discriminator(self, real_logits, fake_logits):
        """(real part, fake part)."""
        raise NotImplementedError


class Vanilla(GanLoss):
    """pix2pix's: binary cross-entropy on logits."""

    name = "vanilla"

    def generator(self, fake_logits):
        return _bce(fake_logits, 1.0)

    def discriminator(self, real_logits, fake_logits):
        return _bce(real_logits, 1.0), _bce(fake_logits, 0.0)


class LeastSquares(GanLoss):
    """LSGAN (Mao et al. 2017): squared distance of the logits to the labels 1 and 0."""

    name = "lsgan"

    def generator(self, fake_logits):
        import tensorflow as tf

        return tf.reduce_mean(tf.square(fake_logits - 1.0))

    def discriminator(self, real_logits, fake_logits):
        import tensorflow as tf

        return tf.reduce_mean(tf.square(real_logits - 1.0)), tf.reduce_mean(tf.square(fake_logits))


class Hinge(GanLoss):
    """The hinge loss of SAGAN and BigGAN: the discriminator is pushed past margins of +-1."""

    name = "hinge"

    def generator(self, fake_logits):
        import tensorflow as tf

        return -tf.reduce_mean(fake_logits)

    def discriminator(self, real_logits, fake_logits):
        import tensorflow as tf

        return (tf.reduce_mean(tf.nn.relu(1.0 - real_logits)),
                tf.reduce_mean(tf.nn.relu(1.0 + fake_logits)))


GAN_LOSSES = {loss.name: loss for loss in (Vanilla(), LeastSquares(), Hinge())}


def gan_loss(kind):
    """A `GAN_LOSSES` name -> its objective, or a ValueError naming the choices."""
    if kind not in GAN_LOSSES:
        raise ValueError(f"gan_loss must be one of {tuple(GAN_LOSSES)}, got {kind!r}")
    return GAN_LOSSES[kind]


def adversarial_generator_loss(fake_logits, kind="vanilla"):
    """How far the discriminator is from calling the generated images real."""
    return gan_loss(kind).generator(fake_logits)


def discriminator_loss(real_logits, fake_logits, kind="vanilla"):
    """Discriminator objective on one batch of real and one of generated pairs."""
    real, fake = gan_loss(kind).discriminator(real_logits, fake_logits)
    # pix2pix halves the discriminator's loss so it learns more slowly than the generator.
    return {"total": 0.5 * (real + fake), "real": real, "fake": fake}


def colour_rebalance_weights(targets, strength):
    """Per-pixel L1 weights (batch, H, W, 1) that make rare colours count: Zhang, Isola &
    Efros (2016)'s class rebalancing, with the classes the twelve 30-degree hue sectors of
    saturated colour plus one for neutrals (white paper, black lines, greys), their shares
    counted in the batch. A class with share p weighs 1 / (strength * p + (1 - strength) / 13),
    scaled so the batch's mean weight is 1: strength 0 is uniform (off), 1 pure inverse
    frequency, 0.5 Zhang's (their lambda = 1 - strength). Without it, an L1 model paints the
    white that most pixels are whenever it is unsure."""
    import tensorflow as tf

    from .metrics import HUE_SECTORS, hue_classes

    classes = hue_classes(targets)
    count = HUE_SECTORS + 1
    share = tf.reduce_mean(tf.one_hot(classes, count), axis=[0, 1, 2])
    class_weight = 1.0 / (strength * share + (1.0 - strength) / count)
    weights = tf.gather(class_weight, classes)
    return tf.stop_gradient(weights / tf.reduce_mean(weights))[..., None]


def hue_class_loss(logits, targets, pixel_weights=None):
    """The hue head's cross-entropy (`unet(hue_head=True)`): each target pixel's class is
    its hue sector, or neutral (`colour_rebalance_weights`' classes), weighed per pixel as
    the L1 is (so rare colours count more where the L1's do)."""
    import tensorflow as tf

    from .metrics import hue_classes

    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(hue_classes(targets),
                                                          tf.cast(logits, tf.float32))
    if pixel_weights is not None:
        loss *= pixel_weights[..., 0]
    return tf.reduce_mean(loss)


def pixel_weights(inputs, targets, config, rebalanced=None):
    """The per-pixel weights of the L1 that the configuration asks for, multiplied, or None
    when all are 1. With hints, pixels at and within 2 pixels of a hint count `hint_weight`
    times: hinted pixels are a fraction of a percent of an image, and without the extra
    weight the generator learns to follow them very slowly. With `colour_rebalance`, rare
    colours count more (`colour_rebalance_weights`), in the images where `rebalanced`
    (batch,) is 1 (None: all of them); the others weigh every pixel 1. A new weighting term
    goes here."""
    import tensorflow as tf

    weights = None
    if config.hints and config.hint_weight != 1.0:
        near_hint = tf.nn.max_pool2d(inputs[..., -1:], 5, 1, "SAME")
        weights = 1.0 + (config.hint_weight - 1.0) * near_hint
    if config.colour_rebalance:
        rebalance = colour_rebalance_weights(targets, config.colour_rebalance)
        if rebalanced is not None:
            on = tf.reshape(tf.cast(rebalanced, rebalance.dtype), [-1, 1, 1, 1])
            rebalance = 1.0 + on * (rebalance - 1.0)
        weights = rebalance if weights is None else weights * rebalance
    return weights


def _l1(fake, target, pixel_weights=None):
    import tensorflow as tf

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
    import tensorflow as tf

    l1 = _l1(fake, target, pixel_weights)
    if mode == "l1":
        return {"total": l1, "l1": l1}
    if mode == "mse":
        squared = tf.square(target - fake)
        mse = tf.reduce_mean(squared if pixel_weights is None else squared * pixel_weights)
        return {"total": mse, "mse": mse, "l1": l1}
    raise ValueError(f"regression mode must be 'l1' or 'mse', got {mode!r}")
