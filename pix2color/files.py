"""Files in and out: images opened with a clear error, and writes that a crash mid-write
can never leave half-done."""

import json
import os
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif")


def image_files(folder):
    """{relative name without extension: path} of every image file under `folder`."""
    folder = Path(folder)
    return {p.relative_to(folder).with_suffix("").as_posix(): p
            for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()}


class ImageReadError(ValueError):
    """An input that is not a readable image; the message names it and says why."""


def open_image(path):
    """Open an image file with Pillow, EXIF orientation applied; a clear error if it can't be."""
    try:
        with Image.open(path) as opened:
            opened.load()
            return ImageOps.exif_transpose(opened)
    except FileNotFoundError:
        raise ImageReadError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ImageReadError(f"{path}: is a folder, not an image") from None
    except UnidentifiedImageError:
        raise ImageReadError(f"{path}: not an image Pillow can read") from None
    except Image.DecompressionBombError as error:
        raise ImageReadError(f"{path}: too large to open safely ({error})") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageReadError(f"{path}: broken or truncated image ({error})") from None


def write_atomically(path, content):
    """Write bytes or text to `path` through a temporary file and an atomic rename."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    if isinstance(content, str):
        tmp.write_text(content)
    else:
        tmp.write_bytes(bytes(content))
    os.replace(tmp, path)
    return path


def write_json(path, value):
    return write_atomically(path, json.dumps(value, indent=2))
