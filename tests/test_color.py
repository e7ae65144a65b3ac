import numpy as np
import pytest
import tensorflow as tf

from pix2color.color import ciede2000, lab_to_rgb, rgb_to_lab

# Sharma, Wu & Dalal (2005), "The CIEDE2000 color-difference formula": the 34 test pairs.
SHARMA = np.array([
    [50.0000, 2.6772, -79.7751, 50.0000, 0.0000, -82.7485, 2.0425],
    [50.0000, 3.1571, -77.2803, 50.0000, 0.0000, -82.7485, 2.8615],
    [50.0000, 2.8361, -74.0200, 50.0000, 0.0000, -82.7485, 3.4412],
    [50.0000, -1.3802, -84.2814, 50.0000, 0.0000, -82.7485, 1.0000],
    [50.0000, -1.1848, -84.8006, 50.0000, 0.0000, -82.7485, 1.0000],
    [50.0000, -0.9009, -85.5211, 50.0000, 0.0000, -82.7485, 1.0000],
    [50.0000, 0.0000, 0.0000, 50.0000, -1.0000, 2.0000, 2.3669],
    [50.0000, -1.0000, 2.0000, 50.0000, 0.0000, 0.0000, 2.3669],
    [50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0009, 7.1792],
    [50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0010, 7.1792],
    [50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0011, 7.2195],
    [50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0012, 7.2195],
    [50.0000, -0.0010, 2.4900, 50.0000, 0.0009, -2.4900, 4.8045],
    [50.0000, -0.0010, 2.4900, 50.0000, 0.0010, -2.4900, 4.8045],
    [50.0000, -0.0010, 2.4900, 50.0000, 0.0011, -2.4900, 4.7461],
    [50.0000, 2.5000, 0.0000, 50.0000, 0.0000, -2.5000, 4.3065],
    [50.0000, 2.5000, 0.0000, 73.0000, 25.0000, -18.0000, 27.1492],
    [50.0000, 2.5000, 0.0000, 61.0000, -5.0000, 29.0000, 22.8977],
    [50.0000, 2.5000, 0.0000, 56.0000, -27.0000, -3.0000, 31.9030],
    [50.0000, 2.5000, 0.0000, 58.0000, 24.0000, 15.0000, 19.4535],
    [50.0000, 2.5000, 0.0000, 50.0000, 3.1736, 0.5854, 1.0000],
    [50.0000, 2.5000, 0.0000, 50.0000, 3.2972, 0.0000, 1.0000],
    [50.0000, 2.5000, 0.0000, 50.0000, 1.8634, 0.5757, 1.0000],
    [50.0000, 2.5000, 0.0000, 50.0000, 3.2592, 0.3350, 1.0000],
    [60.2574, -34.0099, 36.2677, 60.4626, -34.1751, 39.4387, 1.2644],
    [63.0109, -31.0961, -5.8663, 62.8187, -29.7946, -4.0864, 1.2630],
    [61.2901, 3.7196, -5.3901, 61.4292, 2.2480, -4.9620, 1.8731],
    [35.0831, -44.1164, 3.7933, 35.0232, -40.0716, 1.5901, 1.8645],
    [22.7233, 20.0904, -46.6940, 23.0331, 14.9730, -42.5619, 2.0373],
    [36.4612, 47.8580, 18.3852, 36.2715, 50.5065, 21.2231, 1.4146],
    [90.8027, -2.0831, 1.4410, 91.1528, -1.6435, 0.0447, 1.4441],
    [90.9257, -0.5406, -0.9208, 88.6381, -0.8985, -0.7239, 1.5381],
    [6.7747, -0.2908, -2.4247, 5.8714, -0.0985, -2.2286, 0.6377],
    [2.0776, 0.0795, -1.1350, 0.9033, -0.0636, -0.5514, 0.9082],
], np.float64)


def test_ciede2000_matches_the_published_pairs():
    got = ciede2000(SHARMA[:, :3], SHARMA[:, 3:6]).numpy()
    np.testing.assert_allclose(got, SHARMA[:, 6], atol=1e-3)
    # symmetric
    np.testing.assert_allclose(ciede2000(SHARMA[:, 3:6], SHARMA[:, :3]).numpy(), got, atol=1e-3)


def random_colours(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    colours = rng.random((n, 3)).astype(np.float32)
    corners = np.array(np.meshgrid([0, 1], [0, 1], [0, 1])).reshape(3, -1).T  # gamut corners
    edges = rng.random((200, 3)).astype(np.float32)
    edges[np.arange(200), rng.integers(0, 3, 200)] = rng.integers(0, 2, 200)  # on a face
    return np.concatenate([colours, corners, edges]).astype(np.float32)


def test_lab_matches_scikit_image_and_round_trips():
    skimage_color = pytest.importorskip("skimage.color")
    rgb = random_colours()
    ours = rgb_to_lab(rgb).numpy()
    reference = skimage_color.rgb2lab(rgb[None].astype(np.float64))[0]
    assert ciede2000(ours, reference).numpy().max() < 0.5
    np.testing.assert_allclose(ours, reference, atol=0.05)
    back = lab_to_rgb(ours).numpy()
    assert np.abs(back - rgb).max() < 1 / 255
    np.testing.assert_allclose(ciede2000(reference[:500], reference[500:1000]).numpy(),
                               skimage_color.deltaE_ciede2000(reference[:500], reference[500:1000]),
                               atol=1e-3)


def test_lab_is_batched_and_differentiable():
    rgb = tf.Variable(tf.random.uniform((2, 8, 8, 3), seed=1))
    with tf.GradientTape() as tape:
        lab = rgb_to_lab(rgb)
        loss = tf.reduce_mean(lab[..., 1:] ** 2)
    assert lab.shape == (2, 8, 8, 3)
    grad = tape.gradient(loss, rgb)
    assert np.all(np.isfinite(grad.numpy())) and np.abs(grad.numpy()).sum() > 0
    np.testing.assert_allclose(rgb_to_lab([1.0, 1.0, 1.0]).numpy(), [100, 0, 0], atol=0.01)
    np.testing.assert_allclose(rgb_to_lab([0.0, 0.0, 0.0]).numpy(), [0, 0, 0], atol=0.01)


def test_lightness_and_gamut_fitting_keep_l():
    from pix2color.color import (lab_to_rgb_keeping_lightness, lab_to_srgb8_keeping_lightness,
                                 lightness)

    rgb = random_colours(500)[:700].reshape(28, 25, 3)
    lab = rgb_to_lab(rgb).numpy()
    np.testing.assert_allclose(lightness(rgb), lab[..., 0], atol=0.02)
    lab[..., 1:] *= 3.0  # push most colours out of the sRGB gamut
    fitted = lab_to_srgb8_keeping_lightness(lab[..., 0], lab[..., 1:])
    assert fitted.dtype == np.uint8 and fitted.shape == (28, 25, 3)
    assert np.abs(rgb_to_lab(fitted / 255.0).numpy()[..., 0] - lab[..., 0]).max() < 0.5
    graph_version = lab_to_rgb_keeping_lightness(lab).numpy()  # the serving export's maths
    assert np.abs(graph_version * 255 - fitted).max() <= 1
    clipped = lab_to_rgb(lab).numpy()
    assert np.abs(rgb_to_lab(clipped).numpy()[..., 0] - lab[..., 0]).max() > 2.0  # what it avoids
    in_gamut = rgb_to_lab(rgb).numpy()  # colours that fit come back as they were
    np.testing.assert_allclose(lab_to_srgb8_keeping_lightness(in_gamut[..., 0], in_gamut[..., 1:]),
                               np.round(rgb * 255), atol=1)
