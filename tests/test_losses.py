import math

import numpy as np
import pytest
import tensorflow as tf

from pix2color.losses import (GAN_LOSSES, adversarial_generator_loss, colour_rebalance_weights,
                              discriminator_loss, generator_loss, regression_loss)


def test_vanilla_loss_is_binary_cross_entropy_on_logits():
    zeros = tf.zeros((2, 4, 4, 1))
    assert float(adversarial_generator_loss(zeros, "vanilla")) == pytest.approx(math.log(2), 1e-5)
    confident = discriminator_loss(tf.fill((1, 2, 2, 1), 20.0), tf.fill((1, 2, 2, 1), -20.0))
    assert float(confident["total"]) < 1e-6
    fooled = discriminator_loss(tf.fill((1, 2, 2, 1), -20.0), tf.fill((1, 2, 2, 1), 20.0))
    assert float(fooled["real"]) == pytest.approx(20.0, 1e-4)


def test_lsgan_and_hinge():
    real, fake = tf.fill((1, 2, 2, 1), 1.0), tf.fill((1, 2, 2, 1), 0.0)
    assert float(discriminator_loss(real, fake, "lsgan")["total"]) == 0.0
    assert float(adversarial_generator_loss(fake, "lsgan")) == 1.0
    hinge = discriminator_loss(tf.fill((1, 1, 1, 1), 0.5), tf.fill((1, 1, 1, 1), -2.0), "hinge")
    assert float(hinge["real"]) == 0.5 and float(hinge["fake"]) == 0.0
    assert float(adversarial_generator_loss(tf.fill((1, 1, 1, 1), 3.0), "hinge")) == -3.0
    with pytest.raises(ValueError, match="gan_loss"):
        adversarial_generator_loss(fake, "wasserstein")


def test_generator_loss_adds_weighted_l1_and_returns_parts():
    target = tf.zeros((1, 4, 4, 3))
    fake = tf.fill((1, 4, 4, 3), 0.5)
    parts = generator_loss(tf.zeros((1, 2, 2, 1)), fake, target, l1_weight=100.0)
    assert float(parts["l1"]) == pytest.approx(0.5)
    assert float(parts["total"]) == pytest.approx(math.log(2) + 50.0, 1e-5)


def test_regression_losses():
    target = tf.constant(np.zeros((1, 2, 2, 1), np.float32))
    fake = tf.constant(np.full((1, 2, 2, 1), -2.0, np.float32))
    assert float(regression_loss(fake, target, "l1")["total"]) == 2.0
    mse = regression_loss(fake, target, "mse")
    assert float(mse["total"]) == 4.0 and float(mse["l1"]) == 2.0


def test_pixel_weights_weigh_the_regression_terms():
    fake = tf.zeros([1, 2, 2, 3])
    target = tf.constant([[[[1.0] * 3, [0.0] * 3], [[0.0] * 3, [0.0] * 3]]])
    weights = tf.constant([[[[10.0], [1.0]], [[1.0], [1.0]]]])    # the one wrong pixel x10
    assert float(regression_loss(fake, target)["l1"]) == pytest.approx(0.25)
    assert float(regression_loss(fake, target, "l1", weights)["l1"]) == pytest.approx(2.5)
    assert float(regression_loss(fake, target, "mse", weights)["mse"]) == pytest.approx(2.5)
    logits = tf.zeros([1, 1, 1, 1])
    assert float(generator_loss(logits, fake, target, 1.0, "lsgan", weights)["l1"]) == \
        pytest.approx(2.5)


@pytest.mark.parametrize("kind", sorted(GAN_LOSSES))
def test_every_gan_objective_rewards_fooling_and_telling_apart(kind):
    """What any adversarial objective must do, so a new one in GAN_LOSSES is tested here too:
    the generator's loss falls as the discriminator calls its images real, and the
    discriminator's falls as it tells real (high logits) from generated (low) apart."""
    from pix2color.config import TrainConfig

    assert TrainConfig(gan_loss=kind).gan_loss == kind          # a training option
    logits = [tf.fill((1, 2, 2, 1), v) for v in (-1.0, 0.0, 1.0)]
    fooled = [float(adversarial_generator_loss(x, kind)) for x in logits]
    assert fooled[0] > fooled[1] > fooled[2]
    apart = float(discriminator_loss(logits[2], logits[0], kind)["total"])
    confused = float(discriminator_loss(logits[0], logits[2], kind)["total"])
    assert apart < confused


def test_colour_rebalance_weighs_rare_colours_up_and_keeps_the_mean():
    """90% white paper, 10% red: at strength 0 every pixel weighs 1; at Zhang's 0.5 the red
    pixels weigh several times the white ones; at 1 each class's pixels weigh in total the
    same. The mean weight is 1 throughout, so the L1's scale does not change."""
    white, red = [1.0, 1.0, 1.0], [1.0, -1.0, -1.0]
    target = tf.constant([[[white] * 9 + [red]] * 10])           # (1, 10, 10, 3)
    weights = [colour_rebalance_weights(target, s).numpy()[0, ..., 0] for s in (0.0, 0.5, 1.0)]
    assert np.allclose(weights[0], 1.0)
    for w in weights:
        assert w.mean() == pytest.approx(1.0)
    assert weights[1][0, 9] / weights[1][0, 0] == pytest.approx((0.5 * 0.9 + 0.5 / 13) /
                                                                 (0.5 * 0.1 + 0.5 / 13))
    assert weights[2][:, 9].sum() == pytest.approx(weights[2][:, :9].sum())


def test_colour_rebalance_weighs_only_the_images_asked():
    """Rebalancing one source of a mixed batch: the images not `rebalanced` keep weight 1
    everywhere; the others keep the weights the whole batch gives them."""
    from pix2color.config import TrainConfig
    from pix2color.losses import pixel_weights

    white, red = [1.0, 1.0, 1.0], [1.0, -1.0, -1.0]
    target = tf.constant([[[white] * 9 + [red]] * 10] * 2)          # (2, 10, 10, 3)
    config = TrainConfig(colour_rebalance=0.5)
    every = pixel_weights(target, target, config).numpy()
    some = pixel_weights(target, target, config, tf.constant([0.0, 1.0])).numpy()
    assert np.allclose(some[0], 1.0) and not np.allclose(every[0], 1.0)
    assert np.allclose(some[1], every[1])


def test_colour_rebalance_is_a_training_option_for_rgb_targets():
    from pix2color.config import TrainConfig

    assert TrainConfig(colour_rebalance=0.5).colour_rebalance == 0.5
    with pytest.raises(ValueError, match="colour_rebalance"):
        TrainConfig(colour_rebalance=1.5)
    with pytest.raises(ValueError, match="task='sketch'"):
        TrainConfig(task="gray", colour_rebalance=0.5)


def test_the_hue_loss_is_lowest_for_the_targets_hue_and_weighs_its_pixels():
    from pix2color.losses import hue_class_loss

    target = np.ones((1, 2, 2, 3), np.float32)     # white paper (neutral: class 0) ...
    target[0, 0] = [1.0, -1.0, -1.0]               # ... with a red top row (class 1)
    right = np.zeros((1, 2, 2, 13), np.float32)
    right[0, 0, :, 1], right[0, 1, :, 0] = 10.0, 10.0
    wrong = np.zeros((1, 2, 2, 13), np.float32)
    wrong[..., 5] = 10.0                           # green everywhere
    assert float(hue_class_loss(right, target)) < 0.01 < 9.0 < float(hue_class_loss(wrong, target))
    only_paper = np.zeros((1, 2, 2, 1), np.float32)
    only_paper[0, 1] = 2.0                         # the red row weighs nothing
    half_right = right.copy()
    half_right[0, 0] = wrong[0, 0]
    assert float(hue_class_loss(half_right, target, only_paper)) < 0.01
    assert float(hue_class_loss(half_right, target)) > 4.0


def test_the_hue_loss_needs_a_hue_head():
    from pix2color.config import TrainConfig

    assert TrainConfig(hue_head=True, hue_loss=0.05).hue_loss == 0.05
    with pytest.raises(ValueError, match="add hue_head"):
        TrainConfig(hue_loss=0.05)
    with pytest.raises(ValueError, match="hue_head is for"):
        TrainConfig(task="gray", hue_head=True)
