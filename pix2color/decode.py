"""One EXIF-aware image decoder, in TensorFlow ops, for training (`tf.data`) and the
SavedModel export. Inference through `Colorizer` decodes with Pillow (`pix2color.files`),
which applies EXIF orientation the same way, so a rotated JPEG trains as it colours."""

import tensorflow as tf

from . import files


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


def encoded_size(data):
    """(height, width) of an encoded PNG, JPEG, GIF, BMP or WebP image, read from its header
    alone, before any decoding: (-1, -1) for anything else, whose size cannot be known
    before it is decoded (JPEG XL, say), and which `decode_rgb` therefore refuses."""
    head = tf.io.decode_raw(tf.strings.substr(data + b"\0" * 32, 0, 32), tf.uint8)
    head = tf.cast(head, tf.int64)

    def number(start, size, big_endian):
        digits = head[start: start + size]
        digits = digits if big_endian else tf.reverse(digits, [0])
        return tf.reduce_sum(digits * 256 ** tf.range(size - 1, -1, -1, dtype=tf.int64))

    def starts(magic, at=0):
        return tf.strings.substr(data, at, len(magic)) == magic

    def jpeg():
        shape = tf.io.extract_jpeg_shape(data, output_type=tf.int32)
        return tf.cast(shape[0], tf.int64), tf.cast(shape[1], tf.int64)

    def webp_lossless():  # "VP8L": 14 bits of width - 1, then 14 of height - 1
        bits = number(21, 4, False)
        return (tf.bitwise.right_shift(bits, 14) & 0x3FFF) + 1, (bits & 0x3FFF) + 1

    def unknown():
        return tf.constant(-1, tf.int64), tf.constant(-1, tf.int64)

    bmp_height = number(22, 4, False)
    webp = starts(b"RIFF") & starts(b"WEBP", 8)
    return tf.case([
        (starts(b"\x89PNG"), lambda: (number(20, 4, True), number(16, 4, True))),
        (starts(b"GIF8"), lambda: (number(8, 2, False), number(6, 2, False))),
        (starts(b"BM"), lambda: (tf.abs(tf.where(bmp_height >= 2 ** 31, bmp_height - 2 ** 32,
                                                 bmp_height)), number(18, 4, False))),
        (starts(b"\xff\xd8"), jpeg),
        # WebP: lossy ("VP8 ", 14-bit sizes after the frame tag), lossless, or extended
        # ("VP8X", the canvas size minus one in 24 bits each).
        (webp & starts(b"VP8 ", 12), lambda: (number(28, 2, False) & 0x3FFF,
                                              number(26, 2, False) & 0x3FFF)),
        (webp & starts(b"VP8L", 12), webp_lossless),
        (webp & starts(b"VP8X", 12), lambda: (number(27, 3, False) + 1,
                                              number(24, 3, False) + 1))],
        default=unknown, exclusive=True)


def check_encoded_size(data, max_pixels=None, which=()):
    """Assertions, to run before decoding `data`: its size is known from its header and is
    at most `max_pixels` (default `files.MAX_PIXELS`). `which`: tensors naming the image in
    the error (a batch index, say)."""
    limit = files.MAX_PIXELS if max_pixels is None else max_pixels
    height, width = encoded_size(data)
    size = [*which, "is", width, "x", height, "pixels"]
    return [tf.debugging.Assert(height >= 0, [
                "not a PNG, JPEG, GIF, BMP or WebP image: its size cannot be read from its "
                "header, so it is not decoded;", *size]),
            tf.debugging.Assert(height * width <= limit, [
                f"the image is larger than max_pixels ({limit}); it was not decoded;", *size])]


def decode_rgb(data, max_pixels=None):
    """Encoded image bytes -> float32 RGB in [0, 1], turned upright by its EXIF orientation
    (as inference does with Pillow, so a rotated JPEG trains as it colours); grayscale is
    spread to RGB, alpha is composited onto white (line art often comes with a transparent
    background). Training and the SavedModel export both decode with this. An image over
    `max_pixels` (default `files.MAX_PIXELS`), or one whose size its header does not give,
    is refused before it is decoded (an InvalidArgumentError: training skips and counts it)."""
    with tf.control_dependencies(check_encoded_size(data, max_pixels)):
        image = tf.image.convert_image_dtype(
            tf.io.decode_image(data, channels=0, expand_animations=False), tf.float32)
    is_jpeg = tf.strings.substr(data, 0, 2) == b"\xff\xd8"  # only JPEGs carry EXIF here
    image = tf.cond(is_jpeg, lambda: upright(image, exif_orientation(data)), lambda: image)
    # On white: alpha (LA, RGBA) is composited, gray is spread to RGB, one branch a layout.
    return tf.switch_case(tf.shape(image)[-1] - 1, [
        lambda: tf.tile(image[..., :1], [1, 1, 3]),
        lambda: tf.tile(1.0 - image[..., 1:2] * (1.0 - image[..., :1]), [1, 1, 3]),
        lambda: image[..., :3],
        lambda: 1.0 - image[..., 3:4] * (1.0 - image[..., :3])])
