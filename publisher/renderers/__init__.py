"""The renderers: one module per output, one line each in REGISTRY.

Each module has ``NAME``, ``TEMPLATES`` (its folder under templates/),
``output_path(meta, out_dir) -> Path`` and
``render(loaded, out_dir, content_dir, options) -> Artifact``.
Renderers read only the model (``Loaded``); they never see each other.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

REGISTRY: dict[str, str] = {
    "anki": "publisher.renderers.anki",
    "pdf": "publisher.renderers.pdf",
    "epub": "publisher.renderers.epub",
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


def get(name: str) -> ModuleType:
    return importlib.import_module(REGISTRY[name])
