"""The layers a colourist works with, the flat colours and the lines over them, and the
layered files paint programs open them from.

`Layers.save(path)` writes, by the path's suffix:

* `.ora`: OpenRaster (Krita, GIMP, MyPaint), a zip of PNGs and a `stack.xml`; written here with
  zipfile and Pillow, following the OpenRaster 0.0.6 specification.
* `.psd`: Photoshop (also Krita, GIMP, Affinity), written by psd-tools (`pip install
  'pix2color[layers]'`): RGB, 8 bits a channel, the lines' alpha as the layer's own
  transparency (not a layer mask).
* `.png`: the picture, and NAME.flats.png and NAME.lines.png beside it.

In both layered files the lines are the top layer, set to multiply, over the flats, so the
file opens showing the picture and the lines can be hidden, recoloured or redrawn alone.
"""

import io
import zipfile
from pathlib import Path
from typing import NamedTuple
from xml.etree import ElementTree

from PIL import Image

from .files import write_atomically

FORMATS = ("png", "ora", "psd")
ORA_MIMETYPE = b"image/openraster"
ORA_THUMBNAIL = 256   # the specification's largest thumbnail side


class Layers(NamedTuple):
    """`colorize(..., layers=True)`: the composed picture, and the layers a comic colourist
    works with: `flats` (the colour alone, no lines; RGB) and `lines` (black on transparent,
    RGBA), which, laid over the flats, give the picture back."""
    image: Image.Image
    flats: Image.Image
    lines: Image.Image

    def save(self, path, format=None):
        """Write the layers to `path` as `format` ("ora", "psd" or "png"; default: from the
        suffix). Each file goes through a temporary one, so an interrupted save never leaves
        half a file. Returns the paths written (three for "png", else one)."""
        path = Path(path)
        format = format or format_of(path)
        if format == "png":
            names = [path, *side_files(path)]
            for image, name in zip(self, names):
                write_atomically(name, png_bytes(image))
            return names
        write_atomically(path, self.encode(format))
        return [path]

    def encode(self, format):
        """The layered file ("ora" or "psd") as bytes."""
        if format == "ora":
            return ora_bytes(self)
        if format == "psd":
            return psd_bytes(self)
        raise ValueError(f"a layered file is 'ora' or 'psd', not {format!r}")

    def flats_layer(self):
        """The flats as the bottom layer of a file: where the picture is transparent (the
        input had alpha), so is this layer, and the file composes to the picture."""
        if self.image.mode != "RGBA":
            return self.flats.convert("RGB")
        flats = self.flats.convert("RGBA")
        flats.putalpha(self.image.getchannel("A"))
        return flats


def format_of(path):
    """"ora", "psd" or "png" from a file name's suffix."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ValueError(f"{path}: a layered file ends in .ora, .psd or .png (three PNGs), "
                         f"not {Path(path).suffix or 'no suffix'}")
    return suffix


def side_files(path, format="png"):
    """The files `pix2color colorize --layers FORMAT` writes beside the picture `path`."""
    path = Path(path)
    if format == "png":
        return [path.with_suffix(".flats.png"), path.with_suffix(".lines.png")]
    return [path.with_suffix(f".{format}")]


def png_bytes(image):
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def ora_bytes(layers):
    """An OpenRaster file: `mimetype` first and stored (so the zip's first bytes name the
    format), `stack.xml` (the first layer listed is the top one), the layer PNGs,
    `mergedimage.png` (the picture, for viewers) and `Thumbnails/thumbnail.png`."""
    width, height = layers.image.size
    image = ElementTree.Element("image", version="0.0.6", w=str(width), h=str(height))
    stack = ElementTree.SubElement(image, "stack")
    for name, op in (("lines", "svg:multiply"), ("flats", "svg:src-over")):
        ElementTree.SubElement(stack, "layer", name=name, src=f"data/{name}.png", x="0",
                               y="0", opacity="1.0", visibility="visible", **{
                                   "composite-op": op})
    thumbnail = layers.image.copy()
    thumbnail.thumbnail((ORA_THUMBNAIL, ORA_THUMBNAIL))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as ora:
        ora.writestr(zipfile.ZipInfo("mimetype"), ORA_MIMETYPE, zipfile.ZIP_STORED)
        ora.writestr("stack.xml", ElementTree.tostring(image, encoding="UTF-8",
                                                       xml_declaration=True))
        # PNGs are compressed already: stored, so deflating them twice costs nothing
        for name, picture in (("data/lines.png", layers.lines),
                              ("data/flats.png", layers.flats_layer()),
                              ("mergedimage.png", layers.image),
                              ("Thumbnails/thumbnail.png", thumbnail)):
            ora.writestr(name, png_bytes(picture), zipfile.ZIP_STORED)
    return buffer.getvalue()


def check_writer(format):
    """Raise ImportError, saying what to install, if `format`'s writer is missing (psd-tools
    for "psd"); the others need nothing beyond Pillow."""
    if format == "psd":
        try:
            import psd_tools  # noqa: F401
        except ImportError:
            raise ImportError("PSD files need psd-tools: pip install 'pix2color[layers]' "
                              "(.ora needs nothing more)") from None


def psd_bytes(layers):
    """A Photoshop file with two pixel layers: flats (normal) and, over them, lines
    (multiply); psd-tools writes it and composes its merged image from the layers."""
    import numpy as np

    check_writer("psd")
    from psd_tools import PSDImage
    from psd_tools.constants import BlendMode

    psd = PSDImage.new("RGB", layers.image.size)
    # from arrays: an RGBA array's alpha becomes the layer's transparency channel
    psd.create_pixel_layer_from_array(np.asarray(layers.flats_layer()), name="flats")
    psd.create_pixel_layer_from_array(np.asarray(layers.lines.convert("RGBA")), name="lines",
                                      blend_mode=BlendMode.MULTIPLY)
    buffer = io.BytesIO()
    psd.save(buffer)
    return buffer.getvalue()
