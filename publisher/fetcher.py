"""The only way WeasyPrint may read anything: local files under allowed folders.

WeasyPrint loads every URL a document points at (images, stylesheets, fonts,
``<link rel=attachment>``) through a *URL fetcher*. Its default one opens
``file:``, ``http(s):``, ``ftp:`` and ``data:`` URLs, so hostile content could
read ``/etc/passwd`` into the PDF or make the build talk to the network.
:class:`SafeFetcher` serves regular files of a few harmless types whose *real*
path (symlinks resolved) lies under one of its roots, and refuses everything
else. Each refusal is recorded (URL, diagnostic code, reason) for the
renderer to report; nothing refused is ever opened.

A build never touches the network: no scheme but ``file:`` is served, and a
``file://host/...`` URL naming another host is refused too.
"""

from __future__ import annotations

import mimetypes
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from weasyprint.urls import URLFetcher, URLFetcherResponse

# Resource types a cheat sheet may load: pictures, stylesheets, fonts.
ALLOWED_SUFFIXES = frozenset({
    ".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg",
    ".css",
    ".ttf", ".otf", ".woff", ".woff2",
})
MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Refusal:
    url: str
    code: str  # P113: scheme or kind of resource not allowed; P112: path leaves the allowed folders; P111: missing
    reason: str


class FetchRefused(Exception):
    """Raised to WeasyPrint for a refused URL: it logs it and goes on without the resource."""


class SafeFetcher(URLFetcher):
    """Serve files under ``roots`` only; refuse (and record) every other URL.

    ``shadows`` maps a folder to a fallback folder, for files a book may shadow:
    a stylesheet in ``content/templates/cheatsheet/`` that says
    ``url(../fonts/X.ttf)`` gets the built-in ``templates/fonts/X.ttf`` when the
    book ships no font of that name.
    """

    def __init__(self, roots: Iterable[Path | str], shadows: Iterable[tuple[Path | str, Path | str]] = ()) -> None:
        # No handler of the base class is ever used: fetch() below opens files itself.
        super().__init__(allowed_protocols=("file",), allow_redirects=False, fail_on_errors=False)
        self.roots = tuple(Path(r).resolve() for r in roots)
        self.shadows = tuple((Path(a).resolve(), Path(b).resolve()) for a, b in shadows)
        self.refused: list[Refusal] = []
        self.served: list[Path] = []
        self.sealed = False  # once sealed (the layout is done) nothing more is served

    # ------------------------------------------------------------------ policy

    def check(self, url: str) -> Path | Refusal:
        """The real path ``url`` may be served from, or why not."""
        short = url if len(url) <= 120 else url[:117] + "..."
        if self.sealed:
            return Refusal(url, "P113", f"'{short}' requested after layout (an attachment?)")
        try:
            parts = urlsplit(url)
        except ValueError:
            return Refusal(url, "P113", f"malformed URL '{short}'")
        scheme = parts.scheme.lower()
        if scheme != "file":
            what = f"{scheme}: URL" if scheme else "relative URL without a base"
            return Refusal(url, "P113", f"{what} '{short}' (only files in the content folder are read)")
        if parts.netloc not in ("", "localhost"):
            return Refusal(url, "P113", f"file URL on another host '{short}'")
        raw = url2pathname(unquote(parts.path))
        if "\x00" in raw or not os.path.isabs(raw):
            return Refusal(url, "P113", f"bad file URL '{short}'")
        path = Path(raw)
        if path.suffix.lower() not in ALLOWED_SUFFIXES:
            return Refusal(url, "P113", f"'{path.name}' is not an image, stylesheet or font")
        found = self._inside(path)
        if found is None:
            for folder, fallback in self.shadows:
                rel = _relative(Path(os.path.abspath(path)), folder)
                if rel is not None and not path.exists():
                    found = self._inside(fallback / rel)
                    if found is not None:
                        break
        if found is None:
            if not path.exists() and self._lexically_inside(path):
                return Refusal(url, "P111", f"'{path.name}' not found")
            return Refusal(url, "P112", f"'{short}' is outside the content and template folders")
        try:
            st = found.stat()
        except OSError:
            return Refusal(url, "P111", f"'{path.name}' not found")
        if not stat.S_ISREG(st.st_mode):
            return Refusal(url, "P113", f"'{path.name}' is not a regular file")
        if st.st_size > MAX_BYTES:
            return Refusal(url, "P113", f"'{path.name}' is larger than {MAX_BYTES // (1024 * 1024)} MB")
        return found

    def _inside(self, path: Path) -> Path | None:
        """The resolved path when it exists and its real location is under a root."""
        try:
            real = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        return real if any(_relative(real, root) is not None for root in self.roots) else None

    def _lexically_inside(self, path: Path) -> bool:
        normal = Path(os.path.normpath(path))
        return any(_relative(normal, root) is not None for root in self.roots)

    # ------------------------------------------------------------------ WeasyPrint's interface

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:  # noqa: ARG002
        decision = self.check(url)
        if isinstance(decision, Refusal):
            self.refused.append(decision)
            raise FetchRefused(decision.reason)
        data = decision.read_bytes()
        self.served.append(decision)
        mime = mimetypes.guess_type(decision.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=data, headers={"Content-Type": mime})

    def open(self, url, data=None, timeout=None):  # type: ignore[override]  # noqa: ARG002
        full = getattr(url, "full_url", url)
        return self.fetch(full)

    def __call__(self, url: str) -> URLFetcherResponse:
        return self.fetch(url)


def _relative(path: Path, root: Path) -> Path | None:
    try:
        return path.relative_to(root)
    except ValueError:
        return None
