"""The content images the package carries: resolved inside the content folder, resampled, known by their
bytes (an SVG only when it is safe to show)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


from ...check.imagecheck import prepared
from ...check.imagecheck import problem as image_problem
from ...check.svgcheck import looks_svg, problem as svg_problem
from ...check.validate import resolve_inside
from ...core.text import (
    slugify,
)

IMAGE_EXT = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp", "image/svg+xml": ".svg"}






def safe_svg(data: bytes) -> bool:
    """An SVG image a reading system may show: the one verdict of every output (check.svgcheck)."""
    return svg_problem(data) is None


def sniff_image(data: bytes) -> str | None:
    """The media type of an image from its bytes (not its name); None when EPUB cannot carry it."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if looks_svg("", data[:4096]) and safe_svg(data):
        return "image/svg+xml"
    return None


@dataclass
class PackedImage:
    href: str
    media_type: str
    data: bytes
    alt: bool  # every use has a non-empty alt text


class Images:
    """Content images copied into the package; only files that resolve inside the content folder."""

    def __init__(self, content_dir: Path) -> None:
        self.root = Path(content_dir)
        self.by_path: dict[Path, PackedImage] = {}
        self.refused: dict[str, str] = {}
        self.log: list[str] | None = None  # the URLs asked for, in order, while a chapter is rendered

    def src(self, url: str) -> str | None:
        if self.log is not None:
            self.log.append(url)
        if urlsplit(url.strip()).scheme or url.strip().startswith("//"):
            self.refused.setdefault(url, "remote image")
            return None
        target, why = resolve_inside(self.root, url)
        if target is None:
            self.refused.setdefault(url, why)
            return None
        if target in self.by_path:
            return self.by_path[target].href
        if image_problem(target) is not None:
            self.refused.setdefault(url, "cannot be shown (P127)")  # validation reported it
            return None
        try:
            data = prepared(target)  # at most 1600 px on its longest side, the original untouched
        except OSError:
            self.refused.setdefault(url, "missing image")
            return None
        media = sniff_image(data)
        if media is None:
            self.refused.setdefault(url, "not a PNG, JPEG, GIF, WebP or safe SVG image")
            return None
        href = f"images/img{len(self.by_path) + 1:03d}-{slugify(target.stem, limit=40) or 'image'}{IMAGE_EXT[media]}"
        self.by_path[target] = PackedImage(href, media, data, True)
        return href
