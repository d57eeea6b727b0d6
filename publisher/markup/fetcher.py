"""The only way WeasyPrint may read anything: files of the book and of the templates.

WeasyPrint loads every URL a document points at (images, stylesheets, fonts,
``<link rel=attachment>``, ``<object>``, SVG references) through a *URL
fetcher*. Its default one opens ``file:``, ``http(s):``, ``ftp:`` and ``data:``
URLs, so hostile content could read ``/etc/passwd`` into the PDF or make the
build talk to the network. :class:`SafeFetcher` serves nothing but regular
files of a few harmless types (pictures, stylesheets, fonts) found under its
*mounts*, and refuses everything else: every other scheme, any other path,
symlinks whose real path leaves the mounted folder. A refusal is recorded
(URL, diagnostic code, reason) for the renderer to report, and nothing refused
is ever opened. No URL ever reaches the network.

Documents are given *virtual* base URLs (``file:///content/``,
``file:///templates/``) that the fetcher maps to the real folders. The PDF
then never depends on where the book sits on disk (WeasyPrint names images
after their URL), and a stylesheet that a book shadows in
``content/templates/`` still finds the built-in fonts: a mount may list several
folders, searched in order.
"""

from __future__ import annotations

import mimetypes
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable, Mapping
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse

# Resource types a document may load: pictures, stylesheets, fonts.
ALLOWED_SUFFIXES = frozenset({
    ".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg",
    ".css",
    ".ttf", ".otf", ".woff", ".woff2",
})
MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Refusal:
    url: str
    code: str  # P113: scheme or kind of resource not allowed; P112: outside the mounted folders; P111: missing
    reason: str


class FetchRefused(Exception):
    """Raised to WeasyPrint for a refused URL: it logs it and goes on without the resource."""


class _Response(URLFetcherResponse):
    """A served file, held in memory.

    ``path`` is None so that WeasyPrint never re-reads the resource from the
    (virtual) path of its URL later: what was checked is what is used.
    """

    @property
    def path(self) -> None:  # type: ignore[override]
        return None


def mount_url(name: str) -> str:
    """The virtual base URL of a mount: ``file:///content/``."""
    return f"file:///{name.strip('/')}/"


class SafeFetcher(URLFetcher):
    """Serve files under the mounted folders only; refuse (and record) every other URL.

    ``mounts`` maps a mount name to the real folders it shows, searched in order:
    ``{"content": [book], "templates": [book / "templates", BUILTIN]}`` serves
    ``file:///content/images/a.png`` from ``book/images/a.png``.
    """

    def __init__(self, mounts: Mapping[str, Iterable[Path | str]],
                 generated: Mapping[str, Callable[[str], bytes | None]] | None = None,
                 only: Mapping[str, Callable[[Path], bool]] | None = None) -> None:
        """``generated`` makes resources that are not files (the sheet's formula images): a URL prefix
        (``file:///content/.publisher-math/``) to what makes an SVG from the rest of the URL (None: refused)."""
        # None of the base class's handlers is ever used: fetch() below opens files itself.
        super().__init__(allowed_protocols=("file",), allow_redirects=False, fail_on_errors=False)
        self.mounts = {name.strip("/"): tuple(Path(p).resolve() for p in roots) for name, roots in mounts.items()}
        self.generated = dict(generated or {})
        self.only = dict(only or {})  # a mount that serves only some of its files (a repository: those Git tracks)
        self.transform: Callable[[Path], bytes] | None = None  # what is served for a file (the sheet: images resampled)
        self.refused: list[Refusal] = []
        self.served: list[Path] = []
        self.sealed = False  # set once the layout is done: from then on nothing is served

    # ------------------------------------------------------------------ policy

    def check(self, url: str) -> Path | Refusal:
        """The real file ``url`` would be served from, or why it is refused."""
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
            return Refusal(url, "P113", f"{what} '{short}' (only files of the book are read)")
        if parts.netloc not in ("", "localhost"):
            return Refusal(url, "P113", f"file URL on another host '{short}'")
        path = unquote(parts.path)
        if "\x00" in path or "\\" in path:
            return Refusal(url, "P113", f"bad file URL '{short}'")
        segments = PurePosixPath(path).parts[1:]  # drop the leading "/"
        if not segments or segments[0] not in self.mounts or len(segments) < 2:
            return Refusal(url, "P112", f"'{path}' is outside the book and its templates")
        name, rel = segments[0], segments[1:]
        if ".." in rel:
            return Refusal(url, "P112", f"'{path}' leaves the {name} folder")
        for root in self.mounts[name]:
            candidate = root.joinpath(*rel)
            if not (candidate.exists() or candidate.is_symlink()):
                continue  # not in this folder: try the next one (shadowing)
            try:
                real = candidate.resolve(strict=True)
                real.relative_to(root)
            except (OSError, RuntimeError, ValueError):
                return Refusal(url, "P112", f"'{'/'.join(rel)}' leads out of the {name} folder")
            if name in self.only and not self.only[name](real):
                return Refusal(url, "P112", f"'{'/'.join(rel)}' is no file Git tracks in the repository")
            if real.suffix.lower() not in ALLOWED_SUFFIXES or candidate.suffix.lower() not in ALLOWED_SUFFIXES:
                return Refusal(url, "P113", f"'{'/'.join(rel)}' is not an image, stylesheet or font")
            try:
                st = real.stat()
            except OSError:
                break
            if not stat.S_ISREG(st.st_mode):
                return Refusal(url, "P113", f"'{'/'.join(rel)}' is not a regular file")
            if st.st_size > MAX_BYTES:
                return Refusal(url, "P113", f"'{'/'.join(rel)}' is larger than {MAX_BYTES // (1024 * 1024)} MB")
            return real
        return Refusal(url, "P111", f"'{'/'.join(rel)}' not found")

    # ------------------------------------------------------------------ WeasyPrint's interface

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:  # noqa: ARG002
        for prefix, make in self.generated.items():
            if url.startswith(prefix) and not self.sealed:
                made = make(url[len(prefix):])
                if made is not None:
                    return _Response(url, body=made, headers={"Content-Type": "image/svg+xml"})
                self.refused.append(Refusal(url, "P111", f"'{url[len(prefix):][:60]}' cannot be drawn"))
                raise FetchRefused("cannot be drawn")
        decision = self.check(url)
        if isinstance(decision, Refusal):
            self.refused.append(decision)
            raise FetchRefused(decision.reason)
        data = self.transform(decision) if self.transform is not None else decision.read_bytes()
        self.served.append(decision)
        mime = mimetypes.guess_type(decision.name)[0] or "application/octet-stream"
        return _Response(url, body=data, headers={"Content-Type": mime})

    def open(self, url, data=None, timeout=None):  # type: ignore[override]  # noqa: ARG002
        return self.fetch(getattr(url, "full_url", url))

    def __call__(self, url: str) -> URLFetcherResponse:
        return self.fetch(url)
