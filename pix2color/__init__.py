"""pix2color: colorize line art and grayscale images the pix2pix way (TensorFlow 2 / Keras 3)."""

__version__ = "0.1.0"

# The public API, imported on first use: `import pix2color` and `pix2color --help` stay light,
# and TensorFlow starts only when a model or a trainer is asked for.
_PUBLIC = {"Colorizer": "colorizer", "Layers": "layers", "TrainConfig": "config",
           "Trainer": "train", "open_pairs": "data",
           "unet": "models", "patchgan": "models", "simple_lab": "models",
           "ImageReadError": "files", "InputWarning": "files", "ModelFileError": "modelfile",
           "ModelInfo": "modelfile", "import_tensorflow_quietly": "cli"}

__all__ = [*_PUBLIC, "__version__"]


def __getattr__(name):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'pix2color' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
    globals()[name] = value
    return value
