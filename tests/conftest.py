"""Shared test helpers: inline fixture books written into pytest's tmp_path."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, Mapping

import pytest

Files = Mapping[str, "str | bytes"]
# a whole 1 x 1 PNG: what decodes (a bare signature is not an image: P127)
TINY_PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde\x00"
            b"\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82")


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



PUBLISHER = str(Path(sys.executable).parent / "publisher")


def run_publisher(*args: str, cwd: Path, timeout: float = 600) -> "subprocess.CompletedProcess[str]":
    """The `publisher` command as a user runs it; never a traceback or an internal error."""
    import subprocess

    proc = subprocess.run([PUBLISHER, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert "Traceback" not in proc.stderr + proc.stdout and "internal error" not in proc.stderr, proc.stderr
    return proc


def python_in_child(code: str, timeout: float) -> "subprocess.CompletedProcess[str]":
    """Python ``code`` run in a child process from the project's root, with a time limit: a regression to
    slow (exponential or quadratic) reading fails the test (TimeoutExpired) instead of hanging the suite."""
    import subprocess

    return subprocess.run([sys.executable, "-c", code], timeout=timeout, cwd=Path(__file__).resolve().parents[1],
                          capture_output=True, text=True)


def build_and_check(fixture: Path, name: str, base: Path) -> dict:
    """A copy of a fixture book built and checked as a new user would: {base, build, check (JSON), out}."""
    import json
    import shutil

    shutil.copytree(fixture, base / name)
    build = run_publisher("build", name, "--out", "out", cwd=base)
    check = run_publisher("check", name, "--format", "json", cwd=base)
    return {"base": base, "build": build, "check": json.loads(check.stdout), "out": base / "out"}
