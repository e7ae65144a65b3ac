"""Colour hints as a user types them: a colour ("#ff0000", "red") and a point hint
("120,40,#ff0000"). Pillow and NumPy only, so the command line checks `--hint` while it
parses its arguments, before TensorFlow starts (and before its log level is set)."""

import numpy as np
from PIL import ImageColor


def parse_colour(colour):
    """"#ff0000", "#f00", "red", "rgb(255,0,0)" (anything Pillow's ImageColor reads) or an
    (r, g, b) of 0-255 ints -> RGB floats in [0, 1]."""
    if isinstance(colour, str):
        try:
            rgb = ImageColor.getrgb(colour.strip())[:3]
        except ValueError:
            raise ValueError(f"not a colour: {colour!r} (use #rrggbb, #rgb or a name "
                             f"such as 'red')") from None
        if max(rgb) > 255:   # Pillow reads rgb(999,0,0) as it is
            raise ValueError(f"not a colour: {colour!r} (each channel 0-255)")
    else:
        rgb = tuple(colour)
        if len(rgb) != 3 or not all(0 <= v <= 255 for v in rgb):
            raise ValueError(f"not a colour: {colour!r} (an (r, g, b) needs three 0-255 values)")
    return np.asarray(rgb, np.float32) / 255.0


def parse_hint(text):
    """A command-line hint "X,Y,COLOUR" (e.g. "120,40,#ff0000") -> (x, y, COLOUR)."""
    parts = text.split(",", 2)
    try:
        x, y = float(parts[0]), float(parts[1])
        colour = parts[2]
    except (ValueError, IndexError):
        raise ValueError(f"bad hint {text!r}: expected X,Y,COLOUR such as 120,40,#ff0000 "
                         f"(X and Y in the input image's pixels)") from None
    parse_colour(colour)
    return x, y, colour
