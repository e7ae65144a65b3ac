"""The training steps: one update on one replica's batch, returning its losses (tensors).

Pure functions of the models, their optimizers and the configuration, so each can be built
and tested alone; `Trainer` compiles them with `tf.function` and runs them under its
tf.distribute strategy. A step only computes and applies gradients: logging, validation,
checkpoints and NaN checks happen outside it.
"""

import keras
import tensorflow as tf

from .distribute import global_batch_share
from .losses import (discriminator_loss, generator_loss, hue_class_loss, pixel_weights,
                     regression_loss)


def _forward(generator, config):
    """`forward(inputs)` -> (the generator's output, its hue head's logits or None): with
    `config.hue_loss`, a view of the same layers that also returns the head's logits."""
    if not config.hue_loss:
        return lambda inputs: (generator(inputs, training=True), None)
    both = keras.Model(generator.inputs,
                       [generator.output, generator.get_layer("hue_logits").output])
    return lambda inputs: both(inputs, training=True)


def _with_hue(losses, logits, targets, weights, config, l1_weight=1.0):
    """`losses` with the hue head's cross-entropy added to the total, `config.hue_loss`
    times what the L1 weighs there (`l1_weight`: the GAN step's), so a weight means the same
    in every mode; unchanged when there is no head to train."""
    if logits is None:
        return losses
    hue = hue_class_loss(logits, targets, weights)
    return {**losses, "total": losses["total"] + l1_weight * config.hue_loss * hue, "hue": hue}


def make_gan_step(generator, discriminator, g_optimizer, d_optimizer, config, base_channels):
    """pix2pix: the generator on L1 + adversarial loss, the PatchGAN on telling real pairs
    from generated ones, both updated from one forward pass. The discriminator sees the first
    `base_channels` of the input (the sketch or L, not the hint channels). Each step takes an
    optional `rebalanced` (batch,): which images colour rebalancing weighs (`pixel_weights`)."""

    forward = _forward(generator, config)

    def gan_step(inputs, targets, rebalanced=None):
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake, hue_logits = forward(inputs)
            condition = inputs[..., :base_channels]
            real_logits = discriminator([condition, targets], training=True)
            fake_logits = discriminator([condition, fake], training=True)
            weights = pixel_weights(inputs, targets, config, rebalanced)
            g_losses = _with_hue(generator_loss(fake_logits, fake, targets, config.l1_weight,
                                                config.gan_loss, weights),
                                 hue_logits, targets, weights, config, config.l1_weight)
            d_losses = discriminator_loss(real_logits, fake_logits, config.gan_loss)
            share = global_batch_share(inputs)
            g_scaled = g_optimizer.scale_loss(g_losses["total"] * share)
            d_scaled = d_optimizer.scale_loss(d_losses["total"] * share)
        g_grads = g_tape.gradient(g_scaled, generator.trainable_variables)
        d_grads = d_tape.gradient(d_scaled, discriminator.trainable_variables)
        g_optimizer.apply_gradients(zip(g_grads, generator.trainable_variables))
        d_optimizer.apply_gradients(zip(d_grads, discriminator.trainable_variables))
        return {**{f"g_{k}": v for k, v in g_losses.items()},
                **{f"d_{k}": v for k, v in d_losses.items()}}

    return gan_step


def make_regression_step(generator, optimizer, config):
    """The generator alone on L1 (the article; also the `gan` mode's warm-up) or MSE (the
    grayscale post's baseline)."""
    mode = "l1" if config.mode == "gan" else config.mode
    forward = _forward(generator, config)

    def regression_step(inputs, targets, rebalanced=None):
        with tf.GradientTape() as tape:
            fake, hue_logits = forward(inputs)
            weights = pixel_weights(inputs, targets, config, rebalanced)
            losses = _with_hue(regression_loss(fake, targets, mode, weights), hue_logits,
                               targets, weights, config)
            scaled = optimizer.scale_loss(losses["total"] * global_batch_share(inputs))
        grads = tape.gradient(scaled, generator.trainable_variables)
        optimizer.apply_gradients(zip(grads, generator.trainable_variables))
        return {f"g_{k}": v for k, v in losses.items()}

    return regression_step
