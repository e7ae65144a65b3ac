"""Open Clip Art Library drawings (Debian's `openclipart-svg`) as line art -> colour pairs.

OpenMoji alone teaches one style of drawing: thick, even outlines. The Open Clip Art Library
(public domain, about 8,000 SVG files under /usr/share/openclipart/svg) holds drawings of
everything by many hands. `openclipart_pairs` turns it into pairs the way OpenMoji is:

1. **Deduplicate** by the SHA-1 of the file's bytes (the same file sits in several folders).
   Drawings reserved for independent evaluation (`openclipart_reserved.txt`) are left out by
   hash *and* by file name, so a copy under another folder is left out too.
2. **Keep drawings that are drawings**, read from the SVG before rendering: no embedded
   raster (`<image>`: a photo or a scan, not line art), no text (letters are not regions to
   colour), not photo-like (more than a fifth of the shapes filled with gradients or blurred
   by filters: there is no flat colour to learn), not a trace (over 1 MB of SVG); and, by
   folder, not an icon (`computer`, `buttons`, `logos`: screenshots and UI glyphs), a flag
   (its line art is an empty box) or a tiling pattern. After
   rendering: not too dark, with colour in it, and with lines to draw.
3. **Line art from the drawing itself**, rendered at 4x the working size and shrunk by the
   darkest pixel of each block (what `Colorizer` does with a large drawing), tried in order:
   - `strokes`: the drawing with every fill removed, where its strokes are its outlines
     (they draw at least half of its near-black pixels);
   - `black`: its own near-black, low-chroma pixels, where outlines are filled shapes;
   - `xdog`: XDoG lines of the colour render where neither gives lines.
   Lines count only where they show the drawing: near at least 60% of its colour's hard
   edges (`edges_shown`). Without that rule a cat drawn in grey outlines gave the
   near-black lines of its eyes alone, a coloured picture for a nearly blank page.
4. **Cache** the renders (`sketch/<name>/<hash>.png`, `src/<name>/<hash>.png`) with an
   `index.json` of every decision, so a second call renders nothing; split by drawing name
   (`split_by="folder"`), so variants of one drawing stay in one split.
"""

import hashlib
import io
import json
import multiprocessing
import os
import re
import xml.etree.ElementTree as ET
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from .files import LUMA, write_atomically, write_json

SVG_ROOT = Path("/usr/share/openclipart/svg")
OPENCLIPART_CACHE = Path.home() / ".cache/pix2color/openclipart-128"
OPENCLIPART_CREDIT = ("Drawings from the Open Clip Art Library 0.18 (Debian openclipart-svg), "
                      "public domain (Creative Commons CC0 dedication)")
ICON_FOLDERS = ("computer", "buttons", "logos")  # top folders of screenshots and UI glyphs
MAX_SVG_BYTES = 1 << 20
GRADIENT_SHARE = 0.2       # more shapes than this share filled by gradients or filters: photo-like
RENDER_SCALE = 4           # lines are drawn at 4x the working size, then block-min shrunk
MIN_INK, MAX_INK = 0.004, 0.35   # share of line pixels that makes usable line art
EDGES_SHOWN = 0.6          # least share of the colour's edges the line art must come near ...
EDGE_REACH = 2             # ... within this many working pixels
INDEX_VERSION = 2          # 2: line art must show the colour's edges (EDGES_SHOWN)

_SHAPES = {"path", "rect", "circle", "ellipse", "polygon", "polyline", "line"}
_URL_FILL = re.compile(r"(?:^|;)\s*fill\s*:\s*url\(|^url\(")


def reserved():
    """(hashes, file names) of drawings kept for independent evaluation."""
    text = (Path(__file__).parent / "openclipart_reserved.txt").read_text()
    rows = [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]
    return {digest for digest, _ in rows}, {Path(path).name for _, path in rows}


def _tag(element):
    return element.tag.rsplit("}", 1)[-1]


def folder_problem(relative):
    """Why a drawing's place in the library says it is not a drawing to learn colouring
    from (icons, flags, tiling patterns), or None. `relative`: its path under the library."""
    folders = Path(relative).parts[:-1]
    if folders[:1] and folders[0] in ICON_FOLDERS:
        return "icon"
    if "flags" in folders:
        return "flag"  # an empty box for line art: its colours cannot be told from it
    if "patterns" in folders:
        return "pattern"  # a tiling with no outlines of its own
    return None


def svg_problem(svg_bytes):
    """Why an SVG is not a drawing to learn colouring from, in a word, or None."""
    if len(svg_bytes) > MAX_SVG_BYTES:
        return "too complex"
    try:
        root = ET.fromstring(svg_bytes)
    except ET.ParseError:
        return "not valid XML"
    shapes = shaded = 0
    for element in root.iter():
        tag = _tag(element)
        if tag == "image":
            return "embedded raster"
        if tag in ("text", "flowRoot"):
            return "text"
        if tag in _SHAPES:
            shapes += 1
            fill = element.get("fill", "") + ";" + element.get("style", "")
            shaded += bool(_URL_FILL.search(fill) or "filter" in element.get("style", "")
                           or element.get("filter"))
    if shapes == 0:
        return "no shapes"
    if shaded > GRADIENT_SHARE * shapes:
        return "photo-like gradients"
    return None


def strokes_only(svg_bytes):
    """The SVG with every fill removed: only its strokes are drawn."""
    root = ET.fromstring(svg_bytes)
    for element in root.iter():
        if element.get("fill") is not None:
            element.set("fill", "none")
        style = element.get("style")
        if style:
            element.set("style", re.sub(r"(?<![-\w])fill\s*:[^;]*", "fill:none", style))
        if _tag(element) in _SHAPES and element.get("fill") is None:
            element.set("fill", "none")
    return ET.tostring(root)


def render(svg_bytes, size, box=None):
    """An SVG -> RGB float32 (size, size, 3) in [0, 1] on white, and the box it was cropped
    to: by default what the drawing covers (drawings come on pages of any size and margin),
    centred with its longer side filling the square. Pass the colour render's `box` to
    crop its strokes-only render alike."""
    import cairosvg

    png = cairosvg.svg2png(bytestring=svg_bytes, output_width=round(1.25 * size))
    image = Image.open(io.BytesIO(png)).convert("RGBA")
    box = box or image.getchannel("A").point(lambda a: 255 * (a > 8)).getbbox()
    if box is None:
        raise ValueError("renders empty")
    image = image.crop(box)
    scale = (size - 2) / max(image.size)
    shape = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    image = image.resize(shape, Image.Resampling.BOX if scale < 1 else Image.Resampling.BICUBIC)
    page = Image.new("RGBA", (size, size), (255, 255, 255, 255))
    page.alpha_composite(image, ((size - shape[0]) // 2, (size - shape[1]) // 2))
    return np.asarray(page.convert("RGB"), np.float32) / 255.0, box


def block_min(image, factor):
    """(H, W, C) -> the darkest value of each factor x factor block: how a large drawing's
    lines are kept visible when shrunk (`pix2color.pipeline.shrink_line_art`)."""
    h, w = image.shape[0] // factor, image.shape[1] // factor
    return image[: h * factor, : w * factor].reshape(h, factor, w, factor, -1).min(axis=(1, 3))


def near_black(rgb):
    """Line art from a drawing's own near-black, low-chroma pixels (grey levels kept)."""
    luma = rgb @ LUMA
    chroma = rgb.max(-1) - rgb.min(-1)
    ink = np.where(chroma < 0.2, np.clip(luma / 0.5, 0.0, 1.0), 1.0)
    return np.repeat(ink[..., None], 3, axis=-1)


def stroke_lines(strokes_rgb):
    """Line art from the strokes-only render: any stroke darker than mid-grey, in greys."""
    ink = np.clip((strokes_rgb @ LUMA) / 0.6, 0.0, 1.0)
    return np.repeat(ink[..., None], 3, axis=-1)


def ink_share(lines):
    return float(np.mean(lines[..., 0] < 0.5))


def colour_problem(rgb):
    """Why a colour render is not a colouring target, or None."""
    foreground = np.abs(1.0 - rgb).max(-1) > 0.06
    share = foreground.mean()
    if share < 0.03:
        return "nearly empty"
    luma = rgb @ LUMA
    if luma[foreground].mean() < 0.25:
        return "too dark"
    value = rgb.max(-1)
    saturation = (value - rgb.min(-1)) / np.maximum(value, 1e-6)
    if np.mean((saturation > 0.25) & (value > 0.2) & foreground) < 0.1 * share:
        return "no colour fills"
    return None


def edges_shown(lines, colour, reach):
    """The share of the colour's hard edges (a jump over 0.25 in a channel between two
    neighbouring pixels) within `reach` pixels of a line: how much of the drawing the line
    art shows. Grey outlines with a few black details give near-black lines of the details
    only; the network would get a blank page for a coloured picture."""
    jumps = np.abs(np.diff(colour, axis=0)).max(-1) > 0.25, \
        np.abs(np.diff(colour, axis=1)).max(-1) > 0.25
    edges = np.zeros(colour.shape[:2], bool)
    edges[:-1] |= jumps[0]
    edges[:, :-1] |= jumps[1]
    if not edges.any():
        return 1.0
    ink = lines[..., 0] < 0.5
    if not ink.any():
        return 0.0
    near = ndimage.distance_transform_edt(~ink)[edges] <= reach
    return float(near.mean())


def line_art(colour, strokes):
    """(method, lines) at the render size: strokes, near-black pixels or XDoG, as above; the
    first with a usable share of ink that shows `EDGES_SHOWN` of the colour's edges."""
    black = near_black(colour)
    dark = black[..., 0] < 0.5
    from_strokes = stroke_lines(strokes)
    drawn = from_strokes[..., 0] < 0.5
    strokes_are_outlines = dark.any() and (drawn & dark).sum() >= 0.5 * dark.sum()

    def usable(lines):
        return (MIN_INK <= ink_share(lines) <= MAX_INK
                and edges_shown(lines, colour, EDGE_REACH * RENDER_SCALE) >= EDGES_SHOWN)

    if strokes_are_outlines and usable(from_strokes):
        return "strokes", from_strokes
    if usable(black):
        return "black", black
    from .sketch import xdog

    lines = xdog(colour).numpy()
    if usable(lines):
        return "xdog", lines
    return None, None


def colour_render(svg_bytes, size):
    """A drawing's colour as its pairs hold it: rendered at RENDER_SCALE times `size` and
    shrunk by box averaging. Returns (the `size` px colour, the large render, its crop box),
    floats in [0, 1]; the large render and the box are what its line art is made from."""
    colour, box = render(svg_bytes, size * RENDER_SCALE)
    small = Image.fromarray(np.round(colour * 255).astype(np.uint8)).reduce(RENDER_SCALE)
    return np.asarray(small, np.float32) / 255.0, colour, box


def make_pair(svg_path, sketch_path, src_path, size):
    """Render one drawing into the cache: {"lines": method} or {"skipped": reason}."""
    svg = Path(svg_path).read_bytes()
    problem = svg_problem(svg)
    if problem:
        return {"skipped": problem}
    try:
        small, colour, box = colour_render(svg, size)
        problem = colour_problem(small)
        if problem:
            return {"skipped": problem}
        strokes, _ = render(strokes_only(svg), size * RENDER_SCALE, box)
    except Exception as error:  # cairosvg raises many kinds on broken files
        return {"skipped": f"unrenderable ({type(error).__name__})"}
    method, lines = line_art(colour, strokes)
    if method is None:
        return {"skipped": "no lines"}
    for path, image in ((sketch_path, block_min(lines, RENDER_SCALE)), (src_path, small)):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        Image.fromarray(np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)).save(buffer, "PNG")
        write_atomically(path, buffer.getvalue())
    return {"lines": method}


def _make_pair(job):
    return job[0], make_pair(*job[1:])


def openclipart_pairs(cache_dir=OPENCLIPART_CACHE, size=128, svg_root=None, limit=None,
                      workers=None, progress=True):
    """Render the Open Clip Art Library into line-art / colour PNG pairs and list them
    (`(sketch, colour)` paths, sorted). Decisions and counts are kept in
    `cache_dir/index.json` (`openclipart_summary` reads them). `svg_root`: where the SVGs
    are (default: Debian's `/usr/share/openclipart/svg`)."""
    root = Path(svg_root) if svg_root else SVG_ROOT
    if not root.is_dir():
        raise FileNotFoundError(f"Open Clip Art not found at {root}: install Debian's "
                                f"openclipart-svg (apt-get install openclipart-svg)")
    try:
        import cairosvg  # noqa: F401
    except (ImportError, OSError) as error:
        raise ImportError(f"Open Clip Art pairs need cairosvg: pip install "
                          f"pix2color[openclipart] ({error})") from None
    reserved_hashes, reserved_names = reserved()
    cache_dir = Path(cache_dir)
    index_path = cache_dir / "index.json"
    index = json.loads(index_path.read_text()) if index_path.exists() else {}
    if index.get("version") != INDEX_VERSION or index.get("size") != size:
        index = {"version": INDEX_VERSION, "size": size, "drawings": {}}
    drawings = index["drawings"]
    seen, jobs, keys, changed = set(), [], [], False
    for path in sorted(root.rglob("*.svg"))[:limit]:
        if path.name in reserved_names or not path.is_file():
            continue
        digest = hashlib.sha1(path.read_bytes()).hexdigest()[:12]
        if digest in reserved_hashes or digest in seen:
            continue
        seen.add(digest)
        name = path.stem
        sketch = cache_dir / "sketch" / name / f"{digest}.png"
        src = cache_dir / "src" / name / f"{digest}.png"
        keys.append((digest, sketch, src))
        problem = folder_problem(path.relative_to(root))
        if problem:  # decided by where it is, whatever the cache says: the rules may change
            changed |= drawings.get(digest) != {"skipped": problem}
            drawings[digest] = {"skipped": problem}
            continue
        done = drawings.get(digest)
        if done is None or ("lines" in done and not (sketch.exists() and src.exists())):
            jobs.append((digest, str(path), str(sketch), str(src), size))
    if jobs:
        from tqdm.auto import tqdm

        workers = workers or min(len(jobs), os.cpu_count() or 1)
        cache_dir.mkdir(parents=True, exist_ok=True)
        # spawned, not forked: a fork of a process already running TensorFlow can deadlock
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            for n, (digest, result) in enumerate(tqdm(
                    pool.map(_make_pair, jobs, chunksize=8), total=len(jobs), unit="svg",
                    desc="openclipart", disable=not progress)):
                drawings[digest] = result
                if n % 500 == 499:
                    write_json(index_path, index)
    if jobs or changed:
        cache_dir.mkdir(parents=True, exist_ok=True)
        write_json(index_path, index)  # every decision, for openclipart_summary
    return [(str(sketch), str(src)) for digest, sketch, src in keys
            if "lines" in drawings.get(digest, {})]


def openclipart_summary(cache_dir=OPENCLIPART_CACHE):
    """Counts of the cache's decisions: {"kept": {method: n}, "skipped": {reason: n}}."""
    drawings = json.loads((Path(cache_dir) / "index.json").read_text())["drawings"]
    summary = {"kept": {}, "skipped": {}}
    for result in drawings.values():
        kind, value = ("kept", result["lines"]) if "lines" in result else \
            ("skipped", result["skipped"])
        summary[kind][value] = summary[kind].get(value, 0) + 1
    return summary
