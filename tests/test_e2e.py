"""End to end: the real content/ builds into all three artifacts, cleanly and reproducibly."""

from __future__ import annotations

import collections
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PUBLISHER = str(Path(sys.executable).parent / "publisher")

pytestmark = pytest.mark.slow

def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PUBLISHER, *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def test_check_real_content_is_clean_and_the_ledger_is_committed() -> None:
    result = run("check", "content", "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    errors = [d for d in data["diagnostics"] if d["severity"] == "error"]
    assert errors == []
    assert data["summary"]["cards"]["total"] >= 200
    assert data["summary"]["chapters"] == len(list((ROOT / "content").glob("*.md")))
    # a curated book, strict: no rule fires on it, the card-quality rules included, and no card the
    # ledger knew went away unannounced (P120)
    found = collections.Counter(d["code"] for d in data["diagnostics"] if d["severity"] != "note")
    assert found == collections.Counter(), found
    assert 'strict = true' in (ROOT / "content" / "book.toml").read_text("utf-8")
    assert run("check", "content", "--strict").returncode == 0


def test_build_real_content(tmp_path: Path) -> None:
    content = shutil.copytree(ROOT / "content", tmp_path / "content")
    out = tmp_path / "build"
    first = run("build", str(content), "--out", str(out))
    assert first.returncode == 0, first.stdout + first.stderr
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    slug = "aws-certified-developer-notes"
    assert names == sorted([f"{slug}.apkg", f"{slug}-cheatsheet.pdf", f"{slug}.epub"])
    assert all((out / n).stat().st_size > 10_000 for n in names)
    # the committed ledger is up to date: a build of the real content does not change it
    assert (content / "cards.lock").read_bytes() == (ROOT / "content" / "cards.lock").read_bytes()
    # a second build does no work
    second = run("build", str(content), "--out", str(out))
    assert second.returncode == 0
    assert second.stdout.count("skipped") == 3, second.stdout
    # and forcing it gives the same bytes
    before = {n: (out / n).read_bytes() for n in names}
    forced = run("build", str(content), "--out", str(out), "--force")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert {n: (out / n).read_bytes() for n in names} == before
