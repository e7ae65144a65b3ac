"""Files in and out: images opened and read with a clear error, and writes that a crash mid-write
can never leave half-done."""

import errno
import json
import os
import shutil
import stat
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif")
# The formats those are, and the only ones Pillow is asked to open: whatever a file is
# named, an EPS or PDF never reaches Ghostscript. (A camera's MPO opens as a JPEG.)
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF")
# The largest image (width x height) pix2color opens, read from the file's header before any
# decoding, so a small file that unpacks to a huge image is refused, not decoded: 100
# megapixels (10000 x 10000). Colorizer.max_pixels and `--max-pixels` change it.
MAX_PIXELS = 100_000_000
# Full-size images are processed in strips of about this many pixels (bounded memory).
STRIP_PIXELS = 1 << 20


def strips(height, width, multiple=1):
    """Row slices covering `height` rows, each about STRIP_PIXELS pixels and a multiple of
    `multiple` rows (but the last): how full-size images are worked on."""
    rows = max(1, STRIP_PIXELS // max(int(width), 1) // multiple) * multiple
    return [slice(top, min(top + rows, height)) for top in range(0, height, rows)]


def combine_blocks(array, factor, combine, dtype=None, fill=None):
    """Each factor x factor block of `array` (H, W, ...) combined into one value by the ufunc
    `combine` (np.minimum, np.add, np.logical_and), in `dtype` (default the array's): rows
    first, then columns, an offset at a time (4-5x faster at 2048 px than numpy's reduce
    over the short strided axes of a reshape, and the same numbers). H and W must be
    multiples of `factor`, unless `fill` is given: the value the last blocks are padded with."""
    if fill is not None and (array.shape[0] % factor or array.shape[1] % factor):
        padded = np.full((-(-array.shape[0] // factor) * factor,
                          -(-array.shape[1] // factor) * factor, *array.shape[2:]),
                         fill, array.dtype)
        padded[: array.shape[0], : array.shape[1]] = array
        array = padded
    rows = array.reshape(-1, factor, *array.shape[1:])
    out = rows[:, 0].astype(array.dtype if dtype is None else dtype)
    for k in range(1, factor):
        combine(out, rows[:, k], out=out)
    columns = out.reshape(len(out), -1, factor, *array.shape[2:])
    out = columns[:, :, 0].copy()
    for k in range(1, factor):
        combine(out, columns[:, :, k], out=out)
    return out


def image_files(folder):
    """{relative name without extension: path} of every image file under `folder`."""
    folder = Path(folder)
    return {p.relative_to(folder).with_suffix("").as_posix(): p
            for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()}


class ImageReadError(ValueError):
    """An input that is not a readable image; the message names it and says why."""


class InputWarning(UserWarning):
    """An input that reads fine but looks wrong for the model (a photo given to a line-art
    model, or line art to a photo model); the message names it and says which to use."""


def check_pixels(width, height, name, max_pixels=None):
    """Refuse an image larger than `max_pixels` (default MAX_PIXELS), naming it and its size."""
    limit = MAX_PIXELS if max_pixels is None else max_pixels
    if width * height > limit:
        raise ImageReadError(f"{name}: {width}x{height} is {width * height / 1e6:.0f} "
                             f"megapixels, over the limit of {limit / 1e6:g} (max_pixels)")


def open_image(path, max_pixels=None):
    """Open an image file with Pillow, EXIF orientation applied; a clear error if it can't be.
    Only regular files are opened: a FIFO or a device would block or never end. Only the
    IMAGE_FORMATS are read. The size is checked against `max_pixels` (default MAX_PIXELS)
    from the header, before decoding (that check, naming the file, stands in for Pillow's
    own unnamed "exceeds limit" warning)."""
    try:
        if os.path.islink(path) and not os.path.exists(path):
            raise ImageReadError(f"{path}: not a regular file (a broken link or a symlink "
                                 f"loop); skipped")
        if os.path.exists(path) and not os.path.isdir(path) and \
                not stat.S_ISREG(os.stat(path).st_mode):
            raise ImageReadError(f"{path}: not a regular file (a FIFO, socket or device); "
                                 f"skipped")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            opened = Image.open(path, formats=IMAGE_FORMATS)
        with opened:
            check_pixels(*opened.size, path, max_pixels)
            opened.load()
            ImageOps.exif_transpose(opened, in_place=True)  # no copy of an upright image
            return opened
    except ImageReadError:
        raise
    except FileNotFoundError:
        raise ImageReadError(f"{path}: no such file") from None
    except PermissionError:
        raise ImageReadError(f"{path}: permission denied (cannot read the file)") from None
    except IsADirectoryError:
        raise ImageReadError(f"{path}: is a folder, not an image") from None
    except UnidentifiedImageError:
        raise ImageReadError(f"{path}: not an image Pillow can read (pix2color reads "
                             f"{', '.join(IMAGE_FORMATS)})") from None
    except Image.DecompressionBombError as error:
        raise ImageReadError(f"{path}: too large to open safely ({error})") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageReadError(f"{path}: broken or truncated image ({error})") from None


def read_image(image, name=None, max_pixels=None):
    """Any supported input -> (RGB float32 HxWx3 in [0, 1] on white, alpha HxW or None).

    Accepts a path, a PIL image in any mode Pillow opens, or a numpy array (HxW, HxWx1,
    HxWx3, HxWx4; uint8, uint16 or float in [0, 1]). EXIF orientation is applied. Images
    over `max_pixels` (default MAX_PIXELS) are refused.
    """
    if isinstance(image, (str, Path)):
        name, image = str(image), open_image(image, max_pixels)
    name = name or "image"
    if isinstance(image, (Image.Image, np.ndarray)):
        height, width = (image.height, image.width) if isinstance(image, Image.Image) \
            else (image.shape[:2] + (1,))[:2]
        check_pixels(width, height, name, max_pixels)
    if isinstance(image, Image.Image):
        array = _pil_to_array(image)
    elif isinstance(image, np.ndarray):
        array = _scale_array(image, name)
    else:
        raise ImageReadError(f"{name}: expected a path, PIL image or numpy array, "
                             f"got {type(image).__name__}")
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[-1] not in (1, 2, 3, 4) or min(array.shape[:2]) < 1:
        raise ImageReadError(f"{name}: unsupported image shape {array.shape}")
    alpha = array[..., -1] if array.shape[-1] in (2, 4) else None
    colour = array[..., :3] if array.shape[-1] >= 3 else np.repeat(array[..., :1], 3, axis=-1)
    if alpha is not None:
        colour = colour * alpha[..., None] + (1.0 - alpha[..., None])
    return colour.astype(np.float32), alpha


def read_rgb8(image, name=None, max_pixels=None):
    """Like `read_image`, in 8 bits: (RGB uint8 HxWx3 on white, alpha uint8 HxW or None).

    Inference works on this: a 9000x9000 picture is 243 MB as uint8, four times that as
    float32. Common 8-bit images (paths, PIL images, uint8 arrays) never pass through float
    and are copied a strip at a time; 16-bit and float inputs are read by `read_image` and
    rounded to 8 bits. The result is always a new array (never the caller's)."""
    if isinstance(image, (str, Path)):
        name, image = str(image), open_image(image, max_pixels)
    name = name or "image"
    if isinstance(image, Image.Image) and image.mode not in ("I;16", "I;16B", "I;16L", "I", "F"):
        check_pixels(*image.size, name, max_pixels)
        if image.mode not in ("L", "LA", "RGB", "RGBA"):
            alpha = "A" in image.mode or "transparency" in image.info
            image = image.convert("RGBA" if alpha else "RGB")  # P, 1, CMYK, YCbCr...
        width, height = image.size
        channels = len(image.getbands())

        def rows_of(rows):
            array = np.asarray(image.crop((0, rows.start, width, rows.stop)))
            return array.reshape(array.shape[:2] + (channels,))
    elif isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim in (2, 3):
        check_pixels(image.shape[1], image.shape[0], name, max_pixels)
        array = image if image.ndim == 3 else image[..., None]
        (height, width, channels), rows_of = array.shape, array.__getitem__
        if channels not in (1, 2, 3, 4) or min(height, width) < 1:
            raise ImageReadError(f"{name}: unsupported image shape {image.shape}")
    else:  # 16-bit, float, or something read_image explains the trouble with
        colour, alpha = read_image(image, name, max_pixels)
        return to_uint8(colour), None if alpha is None else to_uint8(alpha)
    rgb = np.empty((height, width, 3), np.uint8)
    alpha = np.empty((height, width), np.uint8) if channels in (2, 4) else None
    for rows in strips(height, width):  # never a full-size copy wider than uint8
        part = rows_of(rows)
        if alpha is not None:  # onto white: c * a + 255 * (1 - a), rounded
            alpha[rows] = part[..., -1]
            a = part[..., -1:].astype(np.uint32)
            part = (part[..., :-1] * a + 255 * (255 - a) + 127) // 255
        rgb[rows] = part[..., :3]
    return rgb, alpha


LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # Rec. 601 luma weights, as Pillow's "L"


def to_uint8(values):
    """Float values in [0, 1] (clipped) -> uint8 levels, rounded."""
    return np.round(np.clip(values, 0.0, 1.0) * 255.0).astype(np.uint8)


def to_unit(levels):
    """uint8 levels -> float32 in [0, 1], in one pass (no float64 or intermediate copy)."""
    return np.multiply(levels, np.float32(1.0 / 255.0), dtype=np.float32)


def _pil_to_array(image):
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        return np.asarray(image, dtype=np.float32) / (65535.0 if image.mode != "I" or
                                                      np.asarray(image).max() > 255 else 255.0)
    if image.mode == "F":
        return np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0)
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif image.mode not in ("L", "LA", "RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.mode else "RGB")  # CMYK, YCbCr, 1, PA...
    return to_unit(np.asarray(image))


def _scale_array(array, name):
    if array.dtype == np.uint8:
        return to_unit(array)
    if array.dtype == np.uint16:
        return array.astype(np.float32) / 65535.0
    if np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)):
            raise ImageReadError(f"{name}: array holds NaN or infinite values")
        return np.clip(array, 0.0, 1.0).astype(np.float32)
    raise ImageReadError(f"{name}: unsupported array dtype {array.dtype} "
                         f"(use uint8, uint16, or float in [0, 1])")


def write_atomically(path, content):
    """Write bytes or text to `path` through a temporary file and an atomic rename; if the
    write fails (a full disk, a folder in the way) the temporary file is removed."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        if isinstance(content, str):
            tmp.write_text(content)
        else:
            tmp.write_bytes(bytes(content))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_json(path, value):
    return write_atomically(path, json.dumps(value, indent=2))


def is_disk_full(error):
    """Whether an OSError or a TensorFlow error means the disk is full."""
    return getattr(error, "errno", None) == errno.ENOSPC or \
        "No space left on device" in str(error)


def replace_folder(new, path):
    """Put the finished folder `new` in place of `path` (which may not exist): two renames,
    so `path` is either the old folder, whole, or the new one, never a mix of the two."""
    path = Path(path)
    old = path.with_name(f".{path.name}.old-{os.getpid()}")
    if path.exists():
        os.replace(path, old)
    os.replace(new, path)
    shutil.rmtree(old, ignore_errors=True)
    return path
