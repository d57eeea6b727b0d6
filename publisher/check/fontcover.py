"""Which characters some font on this machine can draw (the sheet's fonts and the system's).

WeasyPrint lays out the sheet with the bundled fonts first and then, glyph by glyph, any font fontconfig
knows. A character no font has is drawn blank, silently; `check` reports it instead (P015) and names the
Debian package of Noto fonts that draws it. The system's fonts are fontconfig's own list with each font's
character set (``fc-list``, ~70 ms for the Noto families); the bundled fonts' code points are read with
fontTools. Without fontconfig, the usual font folders are read with fontTools. The union is cached,
keyed by what it was made from.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import os
import pickle
import unicodedata
from pathlib import Path

from ..core.fsutil import cache_dir

# the built-in templates' fonts (templates.BUILTIN, without importing Jinja for a path)
BUILTIN_FONTS = Path(__file__).resolve().parents[2] / "templates" / "fonts"

FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts")
FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")
CACHE_FORMAT = "1"
# Latin, Cyrillic, Latin Extended Additional, General Punctuation, currency signs: what most notes use beside
# ASCII (curly quotes, dashes, accents), all drawn by the bundled fonts
BUNDLED_RANGES = ((0x00A0, 0x024F), (0x0400, 0x04FF), (0x1E00, 0x1EFF), (0x2000, 0x206F), (0x20A0, 0x20BF))

# (first, last, package): where to find a font for a character none of the machine's fonts has
PACKAGES = (
    (0x1F000, 0x1FAFF, "fonts-noto-color-emoji"), (0x2600, 0x27BF, "fonts-noto-color-emoji"),
    (0x2E80, 0x9FFF, "fonts-noto-cjk"), (0xA960, 0xA97F, "fonts-noto-cjk"), (0xAC00, 0xD7FF, "fonts-noto-cjk"),
    (0xF900, 0xFAFF, "fonts-noto-cjk"), (0xFE30, 0xFE4F, "fonts-noto-cjk"), (0xFF00, 0xFFEF, "fonts-noto-cjk"),
    (0x1100, 0x11FF, "fonts-noto-cjk"), (0x20000, 0x3FFFF, "fonts-noto-cjk"),
)


def package_for(ch: str) -> str:
    cp = ord(ch)
    for first, last, package in PACKAGES:
        if first <= cp <= last:
            return package
    return "fonts-noto-core"


def font_files() -> list[Path]:
    """The bundled fonts and every font file in the usual system folders."""
    out = sorted(p for p in BUILTIN_FONTS.glob("*") if p.suffix.lower() in FONT_SUFFIXES)
    for folder in FONT_DIRS:
        root = Path(os.path.expanduser(folder))
        if not root.is_dir():
            continue
        for dirpath, _dirs, files in os.walk(root):
            out.extend(Path(dirpath, f) for f in sorted(files) if f.lower().endswith(FONT_SUFFIXES))
    return out


def _fontconfig() -> str | None:
    """Every font fontconfig knows with its character set, as ``fc-list`` prints them (None: no fontconfig)."""
    import subprocess

    try:
        return subprocess.run(["fc-list", "--format", "%{charset}\n"], capture_output=True, text=True,
                              timeout=60, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None


def _charset_points(listing: str) -> set[int]:
    out: set[int] = set()
    for token in listing.split():
        first, _, last = token.partition("-")
        try:
            out.update(range(int(first, 16), int(last or first, 16) + 1))
        except ValueError:
            continue
    return out


@functools.lru_cache(maxsize=1)
def coverage() -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The code points some font has, as sorted (starts, ends) of ranges."""
    listing = _fontconfig()
    bundled = sorted(p for p in BUILTIN_FONTS.glob("*") if p.suffix.lower() in FONT_SUFFIXES)
    files = bundled if listing is not None else font_files()
    key = hashlib.sha256(CACHE_FORMAT.encode())
    key.update((listing or "").encode())
    for p in files:
        try:
            st = p.stat()
        except OSError:
            continue
        key.update(f"{p}\0{st.st_size}\0{st.st_mtime_ns}\n".encode(errors="surrogateescape"))
    cache = cache_dir() / f"coverage-{key.hexdigest()[:24]}.pickle"
    try:
        with open(cache, "rb") as f:
            starts, ends = pickle.load(f)
        if isinstance(starts, tuple) and isinstance(ends, tuple) and len(starts) == len(ends):
            return starts, ends
    except (OSError, ValueError, EOFError, pickle.UnpicklingError, TypeError):
        pass
    points = _charset_points(listing) if listing else set()
    for p in files:
        points |= _points(p)
    ranges = _ranges(sorted(points))
    try:
        from ..core.fsutil import atomic_path

        with atomic_path(cache) as tmp:
            tmp.write_bytes(pickle.dumps(ranges))
        for old in cache.parent.glob("coverage-*.pickle"):  # one machine, one set of fonts: the rest is stale
            if old != cache:
                old.unlink(missing_ok=True)
    except OSError:
        pass
    return ranges


def _points(path: Path) -> set[int]:
    from fontTools.ttLib import TTCollection, TTFont

    out: set[int] = set()
    try:
        fonts = TTCollection(str(path), lazy=True).fonts if path.suffix.lower() in (".ttc", ".otc") else \
            [TTFont(str(path), lazy=True)]
        for font in fonts:
            cmap = font.getBestCmap() or {}
            out.update(cmap)
    except Exception:  # noqa: BLE001 - a broken font file draws nothing
        pass
    return out


def _ranges(points: list[int]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    starts: list[int] = []
    ends: list[int] = []
    for cp in points:
        if ends and cp == ends[-1] + 1:
            ends[-1] = cp
        else:
            starts.append(cp)
            ends.append(cp)
    return tuple(starts), tuple(ends)


def drawable(ch: str) -> bool:
    """Can some font draw ``ch``? Characters that are never drawn (controls, joiners, variation
    selectors, spaces) count as drawable."""
    cp = ord(ch)
    if cp < 0x80 or ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Mn", "Me", "Zs", "Zl", "Zp"):
        return True  # combining marks go with a base the shaper draws together (coverage is not shaping)
    if 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF:
        return True  # variation selectors
    if any(first <= cp <= last for first, last in BUNDLED_RANGES):
        return True  # the sheet's own Noto Sans has them all (a test holds it to that): no font lookup
    starts, ends = coverage()
    at = bisect.bisect_right(starts, cp) - 1
    return at >= 0 and cp <= ends[at]


@functools.lru_cache(maxsize=1)
def bundled() -> frozenset[int]:
    """The code points of the bundled fonts (read once a process: a few milliseconds)."""
    points: set[int] = set()
    for p in sorted(BUILTIN_FONTS.glob("*")):
        if p.suffix.lower() in FONT_SUFFIXES:
            points |= _points(p)
    return frozenset(points)
