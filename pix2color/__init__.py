"""pix2color: colorize line art and grayscale images the pix2pix way (TensorFlow 2 / Keras 3)."""

__version__ = "0.1.0"

from .colorizer import Colorizer  # noqa: E402
from .models import patchgan, simple_lab, unet  # noqa: E402
from .train import TrainConfig, Trainer  # noqa: E402

__all__ = ["Colorizer", "TrainConfig", "Trainer", "unet", "patchgan", "simple_lab", "__version__"]
