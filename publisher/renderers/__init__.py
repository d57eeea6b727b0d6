"""The renderers: one module per output, one line each in REGISTRY.

Each module has ``NAME``, ``TEMPLATES`` (its folders under templates/),
``output_path(meta, out_dir) -> Path`` and
``render(loaded, out_dir, content_dir, options) -> Artifact``.
Renderers read only the model (``Loaded``); they never see each other.
The registry line also says what the renderer's output depends on besides the
content (its template folders, files of the content folder it reads itself), so
the build can tell an up-to-date artifact without importing the renderer.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType


@dataclass(frozen=True)
class Spec:
    module: str
    templates: tuple[str, ...]  # folders under templates/ the output reads
    inputs: tuple[str, ...] = ()  # files in the content folder it reads and writes itself
    reads: tuple[str, ...] = ()  # files in the content folder its output depends on, read (never written)
    after: tuple[str, ...] = ()  # renderers that write what it reads: it runs once they are done
    # whether it reads the cards: one that does not (the sheet) starts as soon as the book is read, while the
    # cards are derived and checked, and writes nothing before the checks pass (build._start_early)
    cards: bool = True


REGISTRY: dict[str, Spec] = {
    "anki": Spec("publisher.renderers.anki", ("anki",), inputs=("cards.lock",)),
    "pdf": Spec("publisher.renderers.pdf", ("cheatsheet", "fonts"), cards=False),
    # the EPUB's modified time is the card ledger's newest: it reads the ledger once the deck has written it
    "epub": Spec("publisher.renderers.epub", ("epub", "fonts"), reads=("cards.lock",), after=("anki",)),
}


@dataclass(frozen=True)
class Artifact:
    path: Path
    summary: str  # e.g. "412 notes", "4 pages"
    diagnostics: tuple = field(default_factory=tuple)


@dataclass(frozen=True)
class RenderOptions:
    paper: str | None = None  # overrides book.toml
    columns: int | None = None
    strict: bool = False  # `--strict`: a renderer's own warnings (P142, text lost) stop it, the previous artifact kept


# the libraries whose output a renderer's kept work holds (an upgrade of one changes the highlighting, the
# formulas, the quotes)
LIBRARIES = ("pygments", "latex2mathml", "ziamath", "smartypants", "nh3", "jinja2", "markupsafe", "lxml")
PACKAGE_DIR = Path(__file__).resolve().parents[1]


def salt(version: str, folder: str, content_dir: Path | str) -> str:
    """The code, the libraries and a renderer's templates (``folder`` under templates/), hashed: work a renderer
    keeps between builds under a key holding this is never reused by other code or templates."""
    import hashlib
    from importlib.metadata import PackageNotFoundError, version as installed

    from ..markup import templates

    h = hashlib.sha256(version.encode())
    for lib in LIBRARIES:
        try:
            h.update(f"{lib}={installed(lib)}\0".encode())
        except PackageNotFoundError:
            h.update(f"{lib}=none\0".encode())
    for path in sorted(PACKAGE_DIR.rglob("*.py")) + templates.files_under(folder, content_dir):
        try:
            h.update(str(path).encode() + b"\0" + path.read_bytes())
        except OSError:
            pass
    return h.hexdigest()


def image_stats(content_dir: Path | str, urls: set[str]) -> list[tuple[str, str, int, int]]:
    """Each image URL with the file it resolves to, its size and time (-1: none there), in URL order: what a
    key of work kept between builds holds for the pictures that work shows."""
    import os

    from ..check.validate import resolve_inside

    out = []
    for url in sorted(urls):
        target, _ = resolve_inside(Path(content_dir), url)
        try:
            st = os.stat(target) if target is not None else None
        except OSError:
            st = None
        out.append((url, str(target), st.st_size if st else -1, st.st_mtime_ns if st else -1))
    return out


def cache_dir(out_dir: Path, name: str) -> Path:
    """Where renderer ``name`` may keep work between builds (``build --force`` empties it)."""
    return Path(out_dir) / ".cache" / name


def get(name: str) -> ModuleType:
    return importlib.import_module(REGISTRY[name].module)
