"""What a picture is between `Colorizer`'s stages: `Picture` (read, with its hints) and
`Prepared` (with the network's padded input). Plain records, so each stage can be called,
and tested, alone."""

from typing import NamedTuple

import numpy as np


class Picture(NamedTuple):
    """An image read for colouring (`Colorizer.read`): the input's own pixels (`rgb8`,
    `alpha8`), its working shape, its digest, and its hints: at the working size (`colour`,
    `mask`, and `pinned`, where points put them) and at full size for region fill (`hints` as
    given, `hint_image` a `HintImage`)."""
    source: object         # what was given: a path, PIL image or array (named in warnings)
    rgb8: np.ndarray
    alpha8: object         # uint8 (H, W), or None
    small_shape: tuple
    key: bytes             # the drawing's digest (`pix2color.flats.drawing_key`)
    factor: int            # the box shrink before the network's resize (resample.box_factor)
    colour: np.ndarray
    mask: np.ndarray
    hints: object = None
    hint_image: object = None
    pinned: object = None  # the working pixels points mark (h, w bool): kept on lines too

    @property
    def pixels(self):
        return self.rgb8.shape[0] * self.rgb8.shape[1]

    @property
    def shrunk_shape(self):
        """The shape of its box-shrunk copy (float32 RGB), which its network input is made
        from."""
        return (self.rgb8.shape[0] // self.factor, self.rgb8.shape[1] // self.factor, 3)

    @property
    def shrunk_pixels(self):
        return self.shrunk_shape[0] * self.shrunk_shape[1]


class Prepared(NamedTuple):
    """A `Picture` and the network's padded input for it (`Colorizer.prepare`)."""
    picture: Picture
    network: np.ndarray
