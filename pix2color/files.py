"""Writing files so that a crash mid-write never leaves a half-written one behind."""

import json
import os
from pathlib import Path


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
