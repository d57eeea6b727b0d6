"""One image policy for every output: which content image files can be shown at all.

`check` reports the verdict at the image's line (P127) before anything is written, and the three
renderers ask the same question, so an image is either in all three artifacts or shown as its alt
text in all three. An image is refused when it is larger than :data:`MAX_BYTES`, has more than
:data:`MAX_PIXELS` pixels (Pillow's decompression-bomb guard, lowered), or does not decode as a PNG,
JPEG, GIF or WebP. An SVG is refused when it is not safe to show (:mod:`.svgcheck`; `check` says so as
P110, an error).
"""

from __future__ import annotations

import functools
import os
import warnings
from pathlib import Path

from .svgcheck import looks_svg, problem as svg_problem

MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000  # e.g. 8000 x 5000: a photo a phone takes; a 30000 x 30000 PNG is refused
FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}
SVG_UNSAFE = "is an SVG that is not safe to show: it has "


MAX_SOUND_BYTES = 50 * 1024 * 1024  # a card's sound: a clip, not an album (the deck holds a copy of each)


def sound_problem(path: Path | str) -> str | None:
    """Why the sound at ``path`` is not packed into the deck (None: it is). Judged by its size, unread."""
    try:
        size = os.stat(path).st_size
    except OSError as exc:
        return exc.strerror or "cannot be read"
    if size > MAX_SOUND_BYTES:
        return f"is {size / 1024 / 1024:.0f} MB, more than {MAX_SOUND_BYTES // 1024 // 1024} MB"
    return None


def unsafe(path: Path | str) -> str | None:
    """Why the image at ``path`` could run or fetch something (an SVG that is not safe): P110's question."""
    why = problem(path)
    return why if why is not None and why.startswith(SVG_UNSAFE) else None


def problem(path: Path | str) -> str | None:
    """Why the image at ``path`` cannot be shown (None: it can). Cached by the file's size and time."""
    try:
        st = os.stat(path)
    except OSError as exc:
        return exc.strerror or "cannot be read"
    return _problem(str(path), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=4096)
def _problem(path: str, size: int, mtime_ns: int) -> str | None:  # noqa: ARG001 - size and time key the cache
    if size > MAX_BYTES:
        return f"is {size / 1024 / 1024:.0f} MB, more than {MAX_BYTES // 1024 // 1024} MB"
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError as exc:
        return exc.strerror or "cannot be read"
    if looks_svg(path, head):  # text, not pixels: what it holds decides
        try:
            with open(path, "rb") as f:
                why = svg_problem(f.read())
        except OSError as exc:
            return exc.strerror or "cannot be read"
        return None if why is None else SVG_UNSAFE + why
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                if im.format not in FORMATS:
                    return f"is a {im.format} image (PNG, JPEG, GIF or WebP can be shown)"
                width, height = im.size
                if width * height > MAX_PIXELS:
                    return f"is {width} x {height} pixels, more than {MAX_PIXELS // 1_000_000} million"
                im.verify()  # the whole file is read and checked, nothing is decoded into memory
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return f"has more than {MAX_PIXELS // 1_000_000} million pixels"
    except Exception:  # noqa: BLE001 - Pillow raises many kinds for a file that is not an image
        return "is not an image (it does not decode as PNG, JPEG, GIF or WebP)"
    return None


MAX_SIDE = 1600  # the EPUB's and the deck's images: longest side in pixels (a phone's or a reader's screen)
PRINT_SIDE = 1000  # the sheet's: a column at about 200 dpi (A4, three columns: 90 mm wide, 80 mm high at most)


def prepared(path: Path | str, max_side: int = MAX_SIDE) -> bytes:
    """The image's bytes for an output: the file itself, or, when its longest side is more than
    ``max_side`` pixels, a copy resampled to that (never upscaled; animated GIFs and SVG as they are;
    the original file untouched). Deterministic: the same file gives the same bytes."""
    try:
        st = os.stat(path)
    except OSError:
        return b""
    return _prepared(str(path), st.st_size, st.st_mtime_ns, max_side)


@functools.lru_cache(maxsize=256)
def _prepared(path: str, size: int, mtime_ns: int, max_side: int) -> bytes:  # noqa: ARG001 - cache keys
    with open(path, "rb") as f:
        data = f.read()
    if problem(path) is not None or looks_svg(path, data[:4096]):
        return data
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            if max(im.size) <= max_side or getattr(im, "n_frames", 1) > 1 or im.format not in FORMATS:
                return data
            fmt = im.format
            scale = max_side / max(im.size)
            small = im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))), Image.LANCZOS)
            out = io.BytesIO()
            if fmt == "JPEG":
                small.convert("RGB").save(out, "JPEG", quality=88, optimize=True)
            elif fmt == "WEBP":
                small.save(out, "WEBP", quality=88)
            else:
                small.save(out, fmt, optimize=True)
            return out.getvalue()
    except Exception:  # noqa: BLE001 - what cannot be resampled is used as it is
        return data
