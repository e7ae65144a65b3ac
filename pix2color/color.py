"""CIE Lab (D65) as TensorFlow ops: batched, float32, differentiable, usable in `tf.data`.

Neither TensorFlow nor Keras has Lab, so it is written here once. Inputs are sRGB in [0, 1]
with channels last; L is in [0, 100], a and b roughly in [-128, 127].

Normalization for the `gray` task (`lab_to_network`): the data pipeline gives the network
L / 50 - 1 (in [-1, 1]) and asks for ab / 128 (tanh range), as the grayscale post scaled ab.
The post fed L unscaled (0..100); `simple_lab` undoes the scaling in its first layer, so the
baseline sees exactly what the post's network saw.
"""

import functools

import numpy as np
import tensorflow as tf

# numpy, not tf.constant: importing pix2color must not start TensorFlow's runtime, or a
# MultiWorkerMirroredStrategy created afterwards could not configure its collectives.
_RGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                        [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]], np.float32)
_XYZ_TO_RGB = np.linalg.inv(_RGB_TO_XYZ).astype(np.float32)
_WHITE_D65 = np.array([0.95047, 1.0, 1.08883], np.float32)
_DELTA = 6.0 / 29.0
AB_SCALE = 128.0


def _linear(srgb):
    srgb = tf.convert_to_tensor(srgb, tf.float32)
    # Clamp the base away from 0 so the gradient of the power stays finite.
    return tf.where(srgb <= 0.04045, srgb / 12.92,
                    tf.pow((tf.maximum(srgb, 0.04045) + 0.055) / 1.055, 2.4))


def _gamma(linear):
    return tf.where(linear <= 0.0031308, linear * 12.92,
                    1.055 * tf.pow(tf.maximum(linear, 0.0031308), 1.0 / 2.4) - 0.055)


def _f(t):
    """CIE's cube root with its linear toe (t = X/Xn, Y/Yn or Z/Zn)."""
    return tf.where(t > _DELTA**3, tf.pow(tf.maximum(t, _DELTA**3), 1.0 / 3.0),
                    t / (3.0 * _DELTA**2) + 4.0 / 29.0)


def rgb_to_lab(rgb):
    """sRGB in [0, 1] (..., 3) -> Lab (..., 3)."""
    xyz = tf.tensordot(_linear(rgb), _RGB_TO_XYZ.T, 1) / _WHITE_D65
    fx, fy, fz = tf.unstack(_f(xyz), axis=-1)
    return tf.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], axis=-1)


def lab_to_rgb(lab):
    """Lab (..., 3) -> sRGB in [0, 1] (..., 3), clipped to the gamut."""
    return tf.clip_by_value(_unclipped_rgb(tf.convert_to_tensor(lab, tf.float32)), 0.0, 1.0)


def ciede2000(lab1, lab2):
    """CIEDE2000 colour difference (Sharma, Wu & Dalal 2005) between Lab tensors (..., 3).

    Computed in float64, and hues exactly 180 degrees apart (to rounding) count as "not
    more than 180", as in the published test data; float32 rounding or a strict comparison
    puts some of its pairs on the wrong branch.
    """
    pi = tf.constant(3.141592653589793, tf.float64)
    deg = pi / 180.0
    l1, a1, b1 = tf.unstack(tf.cast(lab1, tf.float64), axis=-1)
    l2, a2, b2 = tf.unstack(tf.cast(lab2, tf.float64), axis=-1)
    c_mean = (tf.sqrt(a1**2 + b1**2) + tf.sqrt(a2**2 + b2**2)) / 2.0
    g = 0.5 * (1.0 - tf.sqrt(c_mean**7 / (c_mean**7 + 25.0**7)))
    a1p, a2p = (1.0 + g) * a1, (1.0 + g) * a2
    c1p, c2p = tf.sqrt(a1p**2 + b1**2), tf.sqrt(a2p**2 + b2**2)

    def hue(b, ap):
        h = tf.atan2(b, ap)
        h = tf.where(h < 0, h + 2 * pi, h)
        return tf.where((ap == 0) & (b == 0), tf.zeros_like(h), h)

    h1p, h2p = hue(b1, a1p), hue(b2, a2p)
    chroma_zero = c1p * c2p == 0
    dh = h2p - h1p
    half_turn = pi + 1e-9
    dh = tf.where(dh > half_turn, dh - 2 * pi, tf.where(dh < -half_turn, dh + 2 * pi, dh))
    dh = tf.where(chroma_zero, tf.zeros_like(dh), dh)
    dL, dC = l2 - l1, c2p - c1p
    dH = 2.0 * tf.sqrt(c1p * c2p) * tf.sin(dh / 2.0)

    l_mean, cp_mean = (l1 + l2) / 2.0, (c1p + c2p) / 2.0
    h_sum = h1p + h2p
    h_mean = tf.where(tf.abs(h1p - h2p) <= half_turn, h_sum / 2.0,
                      tf.where(h_sum < 2 * pi, (h_sum + 2 * pi) / 2.0, (h_sum - 2 * pi) / 2.0))
    h_mean = tf.where(chroma_zero, h_sum, h_mean)
    t = (1.0 - 0.17 * tf.cos(h_mean - 30.0 * deg) + 0.24 * tf.cos(2.0 * h_mean)
         + 0.32 * tf.cos(3.0 * h_mean + 6.0 * deg) - 0.20 * tf.cos(4.0 * h_mean - 63.0 * deg))
    d_theta = 30.0 * deg * tf.exp(-(((h_mean / deg) - 275.0) / 25.0) ** 2)
    r_c = 2.0 * tf.sqrt(cp_mean**7 / (cp_mean**7 + 25.0**7))
    s_l = 1.0 + 0.015 * (l_mean - 50.0) ** 2 / tf.sqrt(20.0 + (l_mean - 50.0) ** 2)
    s_c = 1.0 + 0.045 * cp_mean
    s_h = 1.0 + 0.015 * cp_mean * t
    r_t = -tf.sin(2.0 * d_theta) * r_c
    return tf.cast(tf.sqrt((dL / s_l) ** 2 + (dC / s_c) ** 2 + (dH / s_h) ** 2
                           + r_t * (dC / s_c) * (dH / s_h)), tf.float32)


def _linear_rgb(lab):
    """Lab -> linear (not gamma-encoded) RGB, unclipped."""
    l, a, b = tf.unstack(lab, axis=-1)
    fy = (l + 16.0) / 116.0
    f = tf.stack([fy + a / 500.0, fy, fy - b / 200.0], axis=-1)
    xyz = tf.where(f > _DELTA, f**3, 3.0 * _DELTA**2 * (f - 4.0 / 29.0)) * _WHITE_D65
    return tf.tensordot(xyz, _XYZ_TO_RGB.T, 1)


def _unclipped_rgb(lab):
    linear = _linear_rgb(lab)
    return tf.sign(linear) * _gamma(tf.abs(linear))


def lab_to_rgb_keeping_lightness(lab, steps=4):
    """Lab (..., 3) -> sRGB in [0, 1] that keeps L: a colour outside the sRGB gamut loses
    chroma, to the largest of 1, (steps-1)/steps, ..., 0 that fits, instead of being
    clipped (which would change its lightness). The graph version of
    `lab_to_srgb8_keeping_lightness`, for the serving export."""
    lab = tf.convert_to_tensor(lab, tf.float32)
    scale = tf.zeros_like(lab[..., :1])
    for i in range(1, steps + 1):
        linear = _linear_rgb(lab * tf.constant([1.0, i / steps, i / steps]))
        fits = tf.reduce_all(tf.abs(linear - 0.5) <= 0.5 + 1e-4, axis=-1, keepdims=True)
        scale = tf.where(fits, i / steps, scale)
    linear = _linear_rgb(lab * tf.concat([tf.ones_like(scale), scale, scale], axis=-1))
    return _gamma(tf.clip_by_value(linear, 0.0, 1.0))


# --- the `gray` task's network scaling, in one place ---------------------------------------

def lab_to_network(lab):
    """Lab -> (L / 50 - 1, ab / 128): the generator's input in [-1, 1], its target in tanh range."""
    return lab[..., :1] / 50.0 - 1.0, lab[..., 1:] / AB_SCALE


def network_to_lab(l_input, ab_output):
    """The inverse of `lab_to_network`."""
    return tf.concat([(l_input + 1.0) * 50.0, ab_output * AB_SCALE], axis=-1)


# --- full-resolution recombination for inference, in numpy ---------------------------------
# A 2048x2048 photo is 4M pixels. On this library's reference CPU, numpy's elementwise ops ran
# about 4x faster than TensorFlow's and a 16-bit lookup table about 2x faster than a power, so
# the gray Colorizer puts predicted chroma back onto full-resolution lightness with these
# (benchmarks/infer_speed.py). The tables are sampled from the TensorFlow functions above; they
# are off by < 0.01 in L and by < 0.5 of an 8-bit level in the output.

_TABLE_SIZE = 65536


@functools.cache
def _tables():
    grid = tf.linspace(0.0, 1.0, _TABLE_SIZE)
    to_linear = _linear(grid).numpy()
    y_to_lightness = (116.0 * _f(grid) - 16.0).numpy()
    linear_to_srgb8 = np.round(_gamma(grid).numpy() * 255.0).astype(np.uint8)
    return to_linear, y_to_lightness, linear_to_srgb8


def _table_index(values):
    return (np.clip(values, 0.0, 1.0) * np.float32(_TABLE_SIZE - 1) + 0.5).astype(np.uint16)


def lightness(rgb):
    """CIE L of an sRGB numpy image (..., 3) in [0, 1] -> (...), float32."""
    to_linear, y_to_lightness, _ = _tables()
    y = to_linear[_table_index(rgb)] @ _RGB_TO_XYZ[1]
    return y_to_lightness[_table_index(y)]


def _f_inverse(f):
    toe = np.float32(3.0 * _DELTA**2) * (f - np.float32(4.0 / 29.0))
    return np.where(f > _DELTA, f * f * f, toe)


def _linear_planes(fy, y, a, b):
    """Linear R, G, B planes of Lab given as fy = (L + 16) / 116, Y, a, b planes."""
    x = _f_inverse(fy + a * np.float32(1.0 / 500.0)) * np.float32(_WHITE_D65[0])
    z = _f_inverse(fy - b * np.float32(1.0 / 200.0)) * np.float32(_WHITE_D65[2])
    return [np.float32(m[0]) * x + np.float32(m[1]) * y + np.float32(m[2]) * z
            for m in _XYZ_TO_RGB]


def _fit(planes, tolerance=1e-4):
    inside = np.abs(planes[0] - 0.5) <= 0.5 + tolerance
    for plane in planes[1:]:
        inside &= np.abs(plane - 0.5) <= 0.5 + tolerance
    return inside


def lab_to_srgb8_keeping_lightness(l, ab, steps=4):
    """L (H, W) and ab (H, W, 2) numpy arrays -> 8-bit sRGB (H, W, 3) with that L.

    Clipping a colour outside the sRGB gamut would change its lightness; here such a pixel
    keeps its L and loses chroma instead, to the largest of 1, (steps-1)/steps, ..., 0 that fits.
    """
    l = np.asarray(l, np.float32)
    a, b = (np.ascontiguousarray(ab[..., i], np.float32) for i in (0, 1))
    fy = (l + 16.0) * np.float32(1.0 / 116.0)
    y = _f_inverse(fy)
    scale = np.zeros_like(l)
    for i in range(1, steps + 1):
        s = np.float32(i / steps)
        scale[_fit(_linear_planes(fy, y, a * s, b * s))] = s
    _, _, linear_to_srgb8 = _tables()
    planes = _linear_planes(fy, y, a * scale, b * scale)
    return np.stack([linear_to_srgb8[_table_index(plane)] for plane in planes], axis=-1)
