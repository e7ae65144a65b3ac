"""Whether a picture looks like line art or a photo, so a model given the other kind can say
so (`Task.looks_wrong`, `warn_if_unsuited`). Numpy and SciPy only."""

import os
import sys
import warnings
from pathlib import Path

import numpy as np

from .files import InputWarning

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep   # warnings skip its frames


def input_kind(lightness):
    """What a picture looks like at the working size, from its lightness (h, w) in [0, 1]
    (numpy): "line art" (on white, nearly every non-white pixel within 2 px of white: strokes,
    not filled areas), "photo" (mostly mid-tones, little white) or None (neither clearly).
    Measured on 400 OpenMoji drawings and 400 of their colour renders (in gray) at 128 px: it
    called 76% of the drawings and 1.5% of the renders line art. Smooth photo-like images are
    photos; 1 render in 400 was too."""
    from scipy import ndimage

    non_white = lightness < 0.9
    if np.mean(non_white) > 0.7:
        return "photo" if np.mean((lightness > 0.2) & (lightness < 0.8)) > 0.4 else None
    if not non_white.any():
        return None
    # white within 2 px (chessboard) of a pixel: the max over its 5x5 window, clipped at the
    # border (a mirrored window holds only pixels of the clipped one)
    white_near = ndimage.maximum_filter1d(ndimage.maximum_filter1d(~non_white, 5, 0), 5, 1)
    return "line art" if np.mean(white_near[non_white]) > 0.95 else None


def looks_coloured(rgb):
    """Whether a picture (h, w, 3) in [0, 1] is already in colour, not black lines on white:
    more than a tenth of its non-white pixels carry colour (max - min channel > 0.2). Line art
    in ink or pencil, on white or on faintly tinted paper, has almost none."""
    non_white = rgb.min(axis=-1) < 0.9
    if not non_white.any():
        return False
    coloured = (rgb.max(axis=-1) - rgb.min(axis=-1)) > 0.2
    return np.mean(coloured[non_white]) > 0.1 and np.mean(coloured) > 0.02


def suitability(task, network_input):
    """"wrong" (a photo for a line-art model, or the other way round), "coloured" (a colour
    picture for a line-art model) or "" (fine), from a picture's network input for `task`
    (a `pix2color.tasks.Task`), cropped to its working size."""
    if input_kind(task.input_lightness(network_input)) == task.looks_wrong:
        return "wrong"
    if task.line_art and looks_coloured((network_input[..., :3] + 1.0) / 2.0):
        return "coloured"
    return ""


def warn_if_unsuited(task, suited, image):
    """Warn (InputWarning) when `suited` (what `suitability` said) finds the input `image`
    (a path, PIL image or array, named in the warning) wrong for a `task` model."""
    wrong, use = task.looks_wrong, task.other
    name = str(image) if isinstance(image, (str, Path)) else \
        getattr(image, "filename", None) or "the image"
    if suited == "wrong":
        warnings.warn(f"{name} looks like {'a ' * (wrong == 'photo')}{wrong}, but this "
                      f"model colours {task.made_for}: try Colorizer.load({use!r}) "
                      f"(--model {use})", InputWarning, stacklevel=_outside_level())
    elif suited == "coloured":
        warnings.warn(f"{name} is already in colour, but this model colours line art "
                      f"(dark lines on white): give it the drawing's lines (`pix2color "
                      f"pairs SRC_DIR OUT_DIR` draws them from colour pictures)",
                      InputWarning, stacklevel=_outside_level())


def _outside_level():
    """The `stacklevel` of the first caller outside this package, for warnings: the user's
    line, whether they called `colorize` or `colorize_batch`."""
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level
