"""The layers a colourist works with: the flat colours and the lines over them."""

from typing import NamedTuple

from PIL import Image


class Layers(NamedTuple):
    """`colorize(..., layers=True)`: the composed picture, and the layers a comic colourist
    works with: `flats` (the colour alone, no lines; RGB) and `lines` (black on transparent,
    RGBA), which, laid over the flats, give the picture back."""
    image: Image.Image
    flats: Image.Image
    lines: Image.Image
