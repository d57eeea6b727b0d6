"""Hostile and broken input: a clear diagnostic every time, nothing lost, nothing let in.

The corpus is tests/hostile/: one content file per case, and cases.toml with the
diagnostic each must produce. Every case runs through `publisher check` and
`publisher build`; then all the payload cases are rendered together by every
renderer, validation bypassed, to prove the renderers themselves let nothing in.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from publisher import renderers
from publisher.build import build
from publisher.cli import main
from publisher.pipeline import load
from publisher.renderers import RenderOptions

HERE = Path(__file__).resolve().parent / "hostile"
CASES = tomllib.loads((HERE / "cases.toml").read_text("utf-8"))["case"]
GOOD = "# Good\n\n## Basics\n\n- **Queue** - holds messages\n"


def _name(case: dict) -> str:
    return case.get("file") or case["generate"]


def make_case(case: dict, root: Path) -> tuple[Path, str]:
    """A content folder holding the case; returns (folder, file name the diagnostic names)."""
    folder = root / "content"
    folder.mkdir(parents=True)
    (folder / "00-good.md").write_text(GOOD, "utf-8")
    if "file" in case:
        shutil.copy(HERE / case["file"], folder / case["file"])
        return folder, case["file"]
    kind = case["generate"]
    name = f"{kind}.md"
    path = folder / name
    if kind == "huge":
        path.write_text("# Huge\n\n" + "- a line of text in a very large file\n" * 300_000, "utf-8")
    elif kind == "deep-lists":
        path.write_text("# Deep\n\n" + "".join("    " * i + f"- level {i}\n" for i in range(1000)), "utf-8")
    elif kind == "deep-quotes":
        path.write_text("# Quotes\n\n" + ">" * 1000 + " deep text\n", "utf-8")
    elif kind == "many-marks":
        # one paragraph (lines of 1,000 marks: a longer line is refused on its own, P003); words around: not junk
        path.write_text("# Marks\n\n" + "\n".join(["a ==x== " * 1000] * 100) + "\n", "utf-8")
    elif kind == "symlink-out":
        (folder / "img").mkdir()
        os.symlink("/etc/passwd", folder / "img" / "passwd.png")
        path.write_text("# Link\n\n![pw](img/passwd.png)\n", "utf-8")
    elif kind == "svg-script-file":
        (folder / "pic.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert("pwned-svg-file")</script><rect width="4" height="4"/></svg>', "utf-8")
        path.write_text("# Picture\n\n![a picture](pic.svg)\n", "utf-8")
    elif kind == "duplicate-pins":
        (folder / "01-a.md").write_text("# A\n\n- **One** - first <!-- id: same-card -->\n", "utf-8")
        path = folder / "02-b.md"
        name = path.name
        path.write_text("# B\n\n- **Two** - second <!-- id: same-card -->\n", "utf-8")
    elif kind == "book-wrong-types":
        name = "book.toml"
        (folder / name).write_text('title = 42\n[ids]\ndeck = "x"\n', "utf-8")
    elif kind == "book-unknown-key":
        name = "book.toml"
        (folder / name).write_text('title = "T"\ntitel = "typo"\n', "utf-8")
    else:  # pragma: no cover - a case the corpus names but this test does not know
        raise AssertionError(kind)
    return folder, name


@pytest.mark.parametrize("case", CASES, ids=_name)
def test_check_reports_the_case(case: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder, name = make_case(case, tmp_path)
    code = main(["check", str(folder)])
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    lines = [ln for ln in out.out.splitlines() if ln.split(":", 1)[0].endswith(name)]
    wanted = case["code"]
    if not wanted or case.get("absent"):
        assert not [ln for ln in lines if wanted and f": {wanted} " in ln], out.out
        return
    hits = [ln for ln in lines if f": {wanted} " in ln]
    assert hits, f"expected {wanted} for {name}; got:\n{out.out}"
    if "line" in case:
        assert any(ln.split(":")[1] == str(case["line"]) for ln in hits), hits
    if "message" in case:
        assert any(case["message"] in ln for ln in hits), hits
    assert code == (0 if case.get("severity") == "warning" else 1)


@pytest.mark.parametrize("case", [c for c in CASES if c.get("severity") != "warning"], ids=_name)
def test_build_refuses_errors_and_leaves_build_untouched(case: dict, tmp_path: Path) -> None:
    folder, _ = make_case(case, tmp_path)
    out = tmp_path / "build"
    out.mkdir()
    (out / "previous.apkg").write_bytes(b"previous artifact")
    result = build(folder, out_dir=out)
    assert not result.ok
    assert result.outcomes == []
    assert sorted(p.name for p in out.iterdir()) == ["previous.apkg"]
    assert (out / "previous.apkg").read_bytes() == b"previous artifact"
    assert not (folder / "cards.lock").exists()


# --------------------------------------------------------------------------- payloads never get through


def artifact_bytes(path: Path) -> bytes:
    """Everything a reader of the artifact could get at, as bytes."""
    if path.suffix in (".apkg", ".epub"):
        chunks = []
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                data = z.read(info)
                chunks.append(info.filename.encode() + b"\n" + data)
                if info.filename.startswith("collection.anki2"):
                    db = path.parent / f".{path.stem}.sqlite"
                    db.write_bytes(data)
                    con = sqlite3.connect(db)
                    rows = con.execute("select flds from notes").fetchall()
                    rows += con.execute("select models from col").fetchall()
                    con.close()
                    db.unlink()
                    chunks.extend(str(r).encode() for r in rows)
        return b"\n".join(chunks)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True).stdout
    raw = path.read_bytes()
    return text + b"\n" + raw


def test_renderers_let_no_payload_in_even_without_validation(tmp_path: Path) -> None:
    folder = tmp_path / "content"
    folder.mkdir()
    (folder / "00-good.md").write_text(GOOD, "utf-8")
    payloads = []
    for case in CASES:
        if "file" in case and "payload" in case:
            shutil.copy(HERE / case["file"], folder / case["file"])
            payloads.append(case["payload"])
    (folder / "img").mkdir()
    os.symlink("/etc/passwd", folder / "img" / "passwd.png")
    (folder / "zz-symlink.md").write_text("# Link\n\n![pw](img/passwd.png)\n", "utf-8")
    (folder / "pic.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert("pwned-svg-file")</script></svg>', "utf-8")
    (folder / "zz-svg.md").write_text("# Picture\n\n![a picture](pic.svg)\n", "utf-8")
    payloads.append("pwned-svg-file")
    loaded = load(folder)
    assert not loaded.ok  # the check refuses all of this; the renderers must cope anyway
    out = tmp_path / "build"
    for name in renderers.REGISTRY:
        artifact = renderers.get(name).render(loaded, out, folder, RenderOptions())
        blob = artifact_bytes(artifact.path)
        for payload in payloads + ["<script", "onerror", "<iframe", "<object", "@import"]:
            assert payload.encode() not in blob, f"{payload!r} reached the {name} artifact"
        if name == "pdf":
            raw = artifact.path.read_bytes()
            assert b"/EmbeddedFile" not in raw
            assert b"/Subtype /Image" not in raw and b"/Subtype/Image" not in raw
        if name == "epub":
            with zipfile.ZipFile(artifact.path) as z:
                assert not [n for n in z.namelist() if "passwd" in n]


def test_cli_never_prints_a_traceback_on_a_missing_folder(tmp_path: Path) -> None:
    result = subprocess.run([str(Path(sys.executable).parent / "publisher"), "check", str(tmp_path / "nope")],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "P005" in result.stdout
