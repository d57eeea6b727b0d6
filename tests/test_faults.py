"""Faults, odd input and interrupts (issue 15): every failure is loud, nothing stale is trusted.

Each test reproduces a fault found by fault injection, scaled down to run in seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from publisher import build as b
from publisher.cli import main

from test_build import BOOK, write

pytestmark = pytest.mark.slow
PUBLISHER = str(Path(sys.executable).parent / "publisher")


def run(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([PUBLISHER, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert "Traceback" not in proc.stderr + proc.stdout and "internal error" not in proc.stderr, proc.stderr
    return proc


# --------------------------------------------------------------------------- 2. images no output can show


def test_an_image_no_output_can_show_is_one_verdict_for_all_three_and_stays_reported(tmp_path: Path) -> None:
    from PIL import Image

    content = write(tmp_path / "content", {
        **BOOK,
        "03-img.md": "# Img\n\n- a message being read is hidden for the ==visibility timeout== ![fig 1](img/fake.png)\n"
                     "- a message that fails too often goes to the ==dead-letter queue== ![fig 2](img/huge.png)\n"
                     "- waiting up to 20 seconds for messages is ==long polling== ![fig 3](img/fine.png)\n",
        "img/fake.png": "this is text, not a PNG",
    })
    Image.new("1", (12000, 12000)).save(content / "img" / "huge.png")  # 144 million pixels, 2 MB on disk
    Image.new("RGB", (40, 30), "red").save(content / "img" / "fine.png")
    check = run("check", str(content), "--format", "json", cwd=tmp_path)
    found = sorted((d["line"], d["code"]) for d in json.loads(check.stdout)["diagnostics"] if d["code"] == "P127")
    assert found == [(3, "P127"), (4, "P127")] and check.returncode == 0  # before anything is written

    first = run("build", str(content), "--out", "out", cwd=tmp_path)
    assert first.returncode == 0 and "2 warnings" in first.stdout.splitlines()[-1], first.stdout
    with zipfile.ZipFile(next((tmp_path / "out").glob("*.epub"))) as z:
        assert len([n for n in z.namelist() if "/images/" in n]) == 1  # the fine one only
    with zipfile.ZipFile(next((tmp_path / "out").glob("*.apkg"))) as z:
        assert len(json.loads(z.read("media"))) == 1
    listed = subprocess.run(["pdfimages", "-list", str(next((tmp_path / "out").glob("*.pdf")))],
                            capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert len(listed) == 1 and " 40 " in listed[0] and " 30 " in listed[0]

    # the next build has nothing to do, and says the same warnings again (never "0 warnings")
    again = run("build", str(content), "--out", "out", cwd=tmp_path)
    assert "up to date" in again.stdout and again.stdout.splitlines()[-1].startswith("0 errors, 2 warnings")
    assert again.stdout.count("P127") == 2


def test_an_artifact_written_with_errors_is_never_recorded_as_current(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from publisher import renderers
    from publisher.diagnostics import diag

    content = write(tmp_path / "content", BOOK)
    real = renderers.get("epub").render

    def render_with_an_error(loaded, out_dir, content_dir, options):
        art = real(loaded, out_dir, content_dir, options)
        return type(art)(art.path, art.summary, art.diagnostics + (diag("P113", "x.md", 1, "refused after writing"),))

    monkeypatch.setattr(renderers.get("epub"), "render", render_with_an_error)
    result = b.build(content, ["epub"], tmp_path / "out", jobs=1)
    assert not result.ok and any((tmp_path / "out").glob("*.epub"))
    assert "epub" not in b.read_manifest(tmp_path / "out")
    again = b.build(content, ["epub"], tmp_path / "out", jobs=1)
    assert [o.status for o in again.outcomes] == ["built"] and not again.ok  # rendered and reported again


# --------------------------------------------------------------------------- 8. names and manifests


def test_a_file_name_that_is_not_utf8_is_a_warning_never_an_internal_error(tmp_path: Path) -> None:
    content = write(tmp_path / "content", BOOK)
    (content / os.fsdecode(b"bad-\xff.md")).write_text("# Bad\n\nText.\n", "utf-8")
    (content / os.fsdecode(b"img-\xfe.png")).write_bytes(b"\x89PNG\r\n\x1a\n")
    (content / os.fsdecode(b"dir-\xfd")).mkdir()
    check = run("check", str(content), cwd=tmp_path)
    assert check.returncode == 0 and check.stdout.count("P014") == 3, check.stdout
    assert "bad-\\xff.md" in check.stdout
    built = run("build", str(content), "--out", "out", cwd=tmp_path)
    assert built.returncode == 0, built.stdout + built.stderr


@pytest.mark.parametrize("manifest", ['{"anki": "x"}', '{"pdf": {"key": 1}}', "[1, 2]", "null", '{"_check": {"key": "k", "diagnostics": "[{}]"}}'])
def test_a_manifest_of_the_wrong_shape_is_as_if_there_were_none(tmp_path: Path, manifest: str) -> None:
    content = write(tmp_path / "content", BOOK)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / b.MANIFEST).write_text(manifest, "utf-8")
    proc = run("build", str(content), "--out", "out", "--format", "anki", cwd=tmp_path)
    assert proc.returncode == 0 and "built" in proc.stdout, proc.stdout + proc.stderr
