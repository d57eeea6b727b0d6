"""Shared test helpers: inline fixture books written into pytest's tmp_path."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Mapping

import pytest

Files = Mapping[str, "str | bytes"]


def make_book(tmp_path: Path, files: Files, name: str = "content") -> Path:
    """Write ``files`` (relative path -> text or bytes) into ``tmp_path/name`` and return that folder.

    Text is written as UTF-8 exactly as given (no dedent, no added newline), so
    line numbers in a test's inline Markdown are the line numbers diagnostics report.
    """
    folder = tmp_path / name
    folder.mkdir(parents=True, exist_ok=True)
    for rel, data in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8", newline="")
    return folder


@pytest.fixture(name="make_book")
def make_book_fixture() -> Callable[..., Path]:
    """The :func:`make_book` helper as a fixture: ``make_book(tmp_path, {"01-a.md": "# A\\n"})``."""
    return make_book

