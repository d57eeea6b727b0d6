"""Faults, odd input and interrupts (issue 15): every failure is loud, nothing stale is trusted.

Each test reproduces a fault found by fault injection, scaled down to run in seconds.
"""

from __future__ import annotations

import json
import re
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from publisher import build as b
from publisher.cli import main

from conftest import PUBLISHER, run_publisher
from test_build import BOOK, write

pytestmark = pytest.mark.slow


run = run_publisher


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
    from publisher.core.diagnostics import diag

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


# --------------------------------------------------------------------------- 5. the ledger


@pytest.mark.parametrize("damage", ["bad byte", "truncated", "far future", "cut at a line end", "emptied"])
def test_a_damaged_ledger_stops_the_deck_never_a_silent_reset(tmp_path: Path, damage: str) -> None:
    content = write(tmp_path / "content", BOOK)
    assert run("build", str(content), "--out", "out", cwd=tmp_path).returncode == 0
    (content / "01-alpha.md").write_text(BOOK["01-alpha.md"].replace("- Messages live ==14 days== at most\n", ""), "utf-8")
    assert run("build", str(content), "--out", "out", cwd=tmp_path).returncode == 0  # a removed card, remembered
    lock = content / "cards.lock"
    good = lock.read_bytes()
    deck = next((tmp_path / "out").glob("*.apkg"))
    before = deck.read_bytes()
    if damage == "bad byte":
        lock.write_bytes(good[:200] + b"\xff" + good[201:])
    elif damage == "truncated":
        lock.write_bytes(good[: len(good) // 2])
    elif damage == "cut at a line end":  # the last lines lost: every line left still parses
        lock.write_bytes(b"".join(good.splitlines(keepends=True)[:-3]))
    elif damage == "emptied":
        lock.write_bytes(b"")
    else:
        lock.write_bytes(good.replace(b'"time":', b'"time":5000000', 1))
    damaged = lock.read_bytes()
    backup = (tmp_path / "out" / ".cards.lock.bak").read_bytes()
    assert backup == good

    check = run("check", str(content), cwd=tmp_path)
    assert check.returncode == 1 and "P117" in check.stdout  # at its line
    (content / "02-beta.md").write_text(BOOK["02-beta.md"] + "\n- a new ==fact==\n", "utf-8")
    built = run("build", str(content), "--out", "out", cwd=tmp_path)
    assert built.returncode != 0 and "cards.lock" in built.stdout + built.stderr and "damaged" in built.stdout + built.stderr
    assert ".cards.lock.bak" in built.stdout + built.stderr  # where the previous one is
    assert lock.read_bytes() == damaged and deck.read_bytes() == before  # nothing reset, nothing overwritten
    assert (tmp_path / "out" / ".cards.lock.bak").read_bytes() == backup  # the backup kept as it was
    lock.write_bytes((tmp_path / "out" / ".cards.lock.bak").read_bytes())  # the backup restores it
    assert run("build", str(content), "--out", "out", cwd=tmp_path).returncode == 0
    assert '"removed":true' in lock.read_text("utf-8")


def test_a_ledger_that_went_missing_is_not_a_new_book_while_its_backup_is_there(tmp_path: Path) -> None:
    content = write(tmp_path / "content", BOOK)
    assert run("build", str(content), "--out", "out", cwd=tmp_path).returncode == 0
    (content / "01-alpha.md").write_text(BOOK["01-alpha.md"].replace("- Messages live ==14 days== at most\n", ""), "utf-8")
    assert run("build", str(content), "--out", "out", cwd=tmp_path).returncode == 0
    backup = (tmp_path / "out" / ".cards.lock.bak").read_bytes()
    assert b'"removed":true' in backup
    (content / "cards.lock").unlink()
    built = run("build", str(content), "--out", "out", "--format", "anki", cwd=tmp_path)
    assert built.returncode != 0 and "cards.lock is missing" in built.stdout + built.stderr
    assert not (content / "cards.lock").exists() and (tmp_path / "out" / ".cards.lock.bak").read_bytes() == backup
    # another book built into the same folder starts its own ledger
    other = write(tmp_path / "other", {**BOOK, "book.toml": 'title = "Other Book"\nshort_name = "Other"\n'})
    assert run("build", str(other), "--out", "out", "--format", "anki", cwd=tmp_path).returncode == 0


# --------------------------------------------------------------------------- 3, 6, 7. processes and locks

REAL = Path(__file__).resolve().parents[1] / "content"


def _ours(marker: str) -> list[str]:
    out = subprocess.run(["ps", "-ww", "-eo", "pid,cmd"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if marker in line and "ps -eo" not in line]


@pytest.mark.parametrize(("how", "after"), [("SIGKILL", 1.5), ("SIGTERM", 1.5), ("Ctrl-C", 1.5), ("Ctrl-C", 0.3)])
def test_stopping_a_build_stops_its_workers_with_one_line_and_no_temp_files(tmp_path: Path, how: str, after: float) -> None:
    import shutil
    import signal
    import time

    content = tmp_path / "book"
    shutil.copytree(REAL, content)
    out = tmp_path / f"out-{how}"
    # as from a terminal: Ctrl-C's signal not ignored (a background job of a script would have it ignored)
    proc = subprocess.Popen([PUBLISHER, "build", str(content), "--out", str(out), "--force"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(after)
    assert len(_ours(str(out))) >= 1
    if how == "Ctrl-C":
        os.killpg(proc.pid, signal.SIGINT)  # the terminal sends it to the whole foreground group
    else:
        os.kill(proc.pid, getattr(signal, how))
    stdout, stderr = proc.communicate(timeout=30)
    time.sleep(0.5)
    written = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} if out.is_dir() else {}
    deadline = time.monotonic() + 6
    while _ours(str(out)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _ours(str(out)) == []  # no worker lives on (re-parented to PID 1)
    time.sleep(1)
    assert {p: p.stat().st_mtime_ns for p in written if p.exists()} == written  # and none writes afterwards
    assert "Traceback" not in stderr
    if how == "Ctrl-C":
        assert proc.returncode == 130 and stderr.strip().splitlines()[-1] == "publisher: interrupted"
    elif how == "SIGTERM":
        assert proc.returncode == 143 and "stopped" in stderr.strip().splitlines()[-1]
    # what a killed build left behind is cleaned at the next start
    again = run("build", str(content), "--out", str(out), cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert not [p for p in out.rglob("*.tmp")]


def test_a_second_build_into_the_same_folder_stops_with_a_clear_message(tmp_path: Path) -> None:
    from publisher.core.fsutil import output_lock

    content = write(tmp_path / "content", BOOK)
    out = tmp_path / "out"
    with output_lock(out):  # a first build, still writing
        proc = run("build", str(content), "--out", "out", cwd=tmp_path)
    assert proc.returncode == 1 and "another build is writing to out" in proc.stderr, proc.stderr
    assert str(os.getpid()) in proc.stderr
    assert not list(out.glob("*.apkg"))  # nothing was written by the second
    assert run("build", str(content), "--out", "out", cwd=tmp_path).returncode == 0  # the lock went with it


def test_temp_files_of_a_killed_build_are_removed_at_the_next_start(tmp_path: Path) -> None:
    content = write(tmp_path / "content", BOOK)
    out = tmp_path / "out"
    (out / ".cache" / "pdf").mkdir(parents=True)
    stale = [out / ".tiny-book.epub.k2j3h4g5.tmp", out / ".cache" / "pdf" / ".chunk-001.pdf.a1b2c3d4.tmp"]
    for p in stale:
        p.write_bytes(b"half written")
    keep = out / "notes.tmp"  # not one of ours
    keep.write_text("mine", "utf-8")
    assert run("build", str(content), "--out", "out", cwd=tmp_path).returncode == 0
    assert not any(p.exists() for p in stale) and keep.exists()


# --------------------------------------------------------------------------- 4. caches


@pytest.mark.parametrize("damage", ["truncate", "flip", "record", "record pages", "record head", "drawn", "drawn swapped",
                                    "html", "html swapped"])
def test_a_damaged_chunk_in_the_cache_is_laid_out_again_never_trusted(tmp_path: Path, damage: str,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from publisher.renderers import pdf_chunks

    from test_pdf import chunked_book, topic_chapter

    monkeypatch.setattr(pdf_chunks, "CHUNK_FACTS", 12)
    # (a last chapter longer than a column: its chunk has a running head, whichever columns the chunks start in)
    folder = chunked_book(tmp_path / "book", last=topic_chapter(9, items=80))
    first = b.build(folder, ["pdf"], tmp_path / "out", jobs=1)
    assert first.ok
    sheet = next((tmp_path / "out").glob("*.pdf"))
    good = sheet.read_bytes()
    cache = sorted((tmp_path / "out" / ".cache" / "pdf").glob("*.pdf"))
    assert len(cache) >= 3
    victim = cache[1]
    if damage == "record head":  # a chunk with a running head to change (which one has depends on the layout)
        victim = next(p for p in cache if re.search(r'"text": "\w', p.with_suffix(".json").read_text("utf-8")))
    drawn = sorted((tmp_path / "out" / ".cache" / "pdf").glob("*-drawn/drawn-*.bin"))
    if damage.startswith("drawn"):  # a page drawn onto another, as the merge kept it rewritten
        assert len(drawn) >= 2, drawn
        victim = drawn[0]
    htmls = sorted((tmp_path / "out" / ".cache" / "pdf").glob("*-html-*.json"))
    if damage.startswith("html"):  # a chunk's document, as kept to be read again instead of written
        assert len(htmls) >= 2, htmls
        victim = htmls[0]
    data = victim.read_bytes()
    if damage == "drawn swapped":  # whole, but another page's
        victim.write_bytes(drawn[1].read_bytes())
    elif damage == "html swapped":
        victim.write_bytes(htmls[1].read_bytes())
    elif damage == "html":  # one letter of a word changed: still JSON, still HTML
        at = len(data) // 2 + re.search(rb">[A-Za-z]", data[len(data) // 2:]).start() + 1
        victim.write_bytes(data[:at] + bytes([data[at] ^ 1]) + data[at + 1:])
    elif damage in ("truncate", "drawn"):
        victim.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        middle = len(data) // 2
        victim.write_bytes(data[:middle] + bytes(x ^ 0xFF for x in data[middle:middle + 64]) + data[middle + 64:])
    elif damage == "record":
        victim.with_suffix(".json").write_text('{"pages": 1, "fetches": [', "utf-8")
    else:  # a record that still parses, with one thing changed: a page count, a running head's words
        record = victim.with_suffix(".json")
        text = record.read_text("utf-8")
        pages = json.loads(text)["pages"]
        changed = (text.replace(f'"pages": {pages}', f'"pages": {pages + 1}') if damage == "record pages"
                   else re.sub(r'("text": ")(\w)', lambda f: f.group(1) + chr(ord(f.group(2)) ^ 1), text, count=1))
        assert changed != text
        record.write_text(changed, "utf-8")
    sheet.unlink()  # the sheet must be made again, from the cache
    again = b.build(folder, ["pdf"], tmp_path / "out", jobs=1)
    assert again.ok, [o.error for o in again.outcomes]
    assert sheet.read_bytes() == good  # byte-identical to the sheet made without a cache


# --------------------------------------------------------------------------- 9. scale


def test_a_big_unrelated_file_is_never_read_for_the_change_hash(tmp_path: Path) -> None:
    content = write(tmp_path / "content", BOOK)
    for name in ("lecture.mp4", "lecture.webm"):  # a video beside the notes; one with a sound's suffix
        with open(content / name, "wb") as f:
            f.truncate(600 * 1024 * 1024)  # sparse: no disk used, but reading it would take 600 MB
    assert run("build", str(content), "--out", "out", cwd=tmp_path).returncode == 0
    # the no-op build's peak memory, measured in a process of its own (this one has run other tests' children)
    measure = ("import resource, subprocess, sys; p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
               "print(p.returncode, p.stdout.count('up to date'), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", measure, PUBLISHER, "build", str(content), "--out", "out"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300).stdout.split()
    assert out[:2] == ["0", "3"] and int(out[2]) < 300 * 1024, out  # KiB


def test_lists_nested_deeper_than_the_parser_reads_are_reported_not_silently_flattened(tmp_path: Path) -> None:
    def nested(n: int) -> str:
        return "# Deep\n\n" + "".join("    " * i + f"- level {i + 1}\n" for i in range(n))

    for n, expected in ((20, []), (21, [("P009", 22)]), (400, [("P009", 22)])):
        content = write(tmp_path / f"c{n}", {"01-deep.md": nested(n)})
        data = json.loads(run("check", str(content), "--format", "json", cwd=tmp_path).stdout)
        assert [(d["code"], d["line"]) for d in data["diagnostics"] if d["code"] == "P009"] == expected


# --------------------------------------------------------------------------- 1. scripts and fonts

SCRIPTS = "# Scripts\n\n- **Chinese** - 你好世界\n- **Thai** - สวัสดี\n- **Hindi** - नमस्ते\n- a rocket 🚀 and a bucket ==存储桶==\n"


def test_characters_no_font_draws_are_reported_with_the_package_to_install(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from publisher.check import fontcover
    from publisher.pipeline import load

    monkeypatch.setattr(fontcover, "_fontconfig", lambda: "")  # a machine with the bundled fonts only
    monkeypatch.setattr(fontcover, "FONT_DIRS", ())
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    fontcover.coverage.cache_clear()
    try:
        content = write(tmp_path / "content", {"01-s.md": SCRIPTS + "- Curly “quotes”, café, naïve – dashes\n"})
        found = [(d.line, d.severity, d.message) for d in load(content).diagnostics if d.code == "P015"]
    finally:
        fontcover.coverage.cache_clear()
    assert [(line, sev) for line, sev, _ in found] == [(3, "warning"), (4, "warning"), (6, "warning")]
    cjk, core, emoji = (msg for _, _, msg in found)
    assert "你" in cjk and "存" in cjk and cjk.endswith("install fonts-noto-cjk")
    assert "ส" in core and "न" in core and core.endswith("install fonts-noto-core")
    assert "🚀" in emoji and emoji.endswith("install fonts-noto-color-emoji")  # and nothing for “ é – (bundled)


def test_the_sheet_draws_every_script_with_the_fonts_system_deps_installs(tmp_path: Path) -> None:
    from publisher.check import fontcover

    fontcover.coverage.cache_clear()
    if not all(fontcover.drawable(c) for c in "你ส🚀न"):
        pytest.skip("the Noto fonts are not installed (bash scripts/system-deps.sh installs them)")
    content = write(tmp_path / "content", {"01-s.md": SCRIPTS})
    assert "P015" not in run("check", str(content), cwd=tmp_path).stdout
    assert run("build", str(content), "--out", "out", "--format", "pdf", cwd=tmp_path).returncode == 0
    pdf = next((tmp_path / "out").glob("*.pdf"))
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "CJK" in fonts and "Thai" in fonts and "Devanagari" in fonts and "Emoji" in fonts, fonts
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "你好世界" in text and "存储桶" in text


def test_a_folder_of_more_files_than_a_book_has_is_refused_before_reading(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from publisher.read import sources
    from publisher.pipeline import load

    monkeypatch.setattr(sources, "MAX_FILES", 50)  # 5,000 in real life (make bench: 100,000 files)
    content = write(tmp_path / "content", {f"d{i // 20}/n{i:03d}.md": f"# N {i}\n\nText.\n" for i in range(60)})
    loaded = load(content)
    assert [(d.code, d.severity) for d in loaded.diagnostics if d.severity == "error"] == [("P016", "error")]
    assert loaded.book.chapters == ()
    result = b.build(content, out_dir=tmp_path / "out")
    assert not result.ok and not (tmp_path / "out").exists()  # nothing hashed, nothing written


def test_the_ranges_taken_as_drawn_without_a_lookup_are_in_the_bundled_fonts() -> None:
    import unicodedata

    from publisher.check import fontcover

    have = fontcover.bundled()
    for first, last in fontcover.BUNDLED_RANGES:
        missing = [c for c in range(first, last + 1)
                   if c not in have and not unicodedata.category(chr(c)).startswith(("C", "Z", "M"))]
        assert missing == [], (hex(first), [hex(c) for c in missing[:5]])


# --------------------------------------------------------------------------- 10. smaller


def test_an_edit_made_and_undone_while_the_build_reads_is_never_recorded_as_current(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from publisher import pipeline

    content = write(tmp_path / "content", BOOK)
    note = content / "01-alpha.md"
    real_load = pipeline.read_normalized

    def load_during_an_edit(folder):  # the change hash saw the saved file; the reader sees an edit, then it is undone
        note.write_text(BOOK["01-alpha.md"].replace("14 days", "4 days"), "utf-8")
        try:
            return real_load(folder)
        finally:
            note.write_text(BOOK["01-alpha.md"], "utf-8")

    monkeypatch.setattr(b, "read_normalized", load_during_an_edit)
    first = b.build(content, ["epub"], tmp_path / "out", jobs=1)
    assert [d.code for d in first.diagnostics if d.code == "P017"] == ["P017"]
    assert "epub" not in b.read_manifest(tmp_path / "out")
    monkeypatch.setattr(b, "read_normalized", real_load)
    again = b.build(content, ["epub"], tmp_path / "out", jobs=1)
    assert [o.status for o in again.outcomes] == ["built"]  # made again, from the file as it is
    import zipfile

    with zipfile.ZipFile(next((tmp_path / "out").glob("*.epub"))) as z:
        text = " ".join(z.read(n).decode() for n in z.namelist() if n.endswith(".xhtml"))
    assert "14 days" in text and ">4 days" not in text


def test_large_images_are_resampled_for_each_output_and_the_originals_untouched(tmp_path: Path) -> None:
    import io

    from PIL import Image

    content = write(tmp_path / "content", {
        **BOOK, "03-img.md": "# Img\n\n- the ==architecture== of the system ![slide](img/slide.png)\n"
                            "- a small ==icon== of the rack ![icon](img/icon.png)\n"})
    (content / "img").mkdir()
    Image.new("RGB", (3200, 2400), "navy").save(content / "img" / "slide.png")
    Image.new("RGB", (64, 48), "red").save(content / "img" / "icon.png")
    original = (content / "img" / "slide.png").read_bytes()
    assert run("build", str(content), "--out", "out", cwd=tmp_path).returncode == 0
    out = tmp_path / "out"
    with zipfile.ZipFile(next(out.glob("*.epub"))) as z:
        sizes = sorted(Image.open(io.BytesIO(z.read(n))).size for n in z.namelist() if "/images/" in n)
    assert sizes == [(64, 48), (1600, 1200)]  # capped, never upscaled
    with zipfile.ZipFile(next(out.glob("*.apkg"))) as z:
        media = json.loads(z.read("media"))
        sizes = sorted(Image.open(io.BytesIO(z.read(k))).size for k in media)
    assert sizes == [(64, 48), (1600, 1200)]
    listed = subprocess.run(["pdfimages", "-list", str(next(out.glob("*.pdf")))], capture_output=True, text=True,
                            check=True).stdout.splitlines()[2:]
    assert sorted(tuple(map(int, line.split()[3:5])) for line in listed) == [(64, 48), (1000, 750)]  # ~200 dpi
    assert (content / "img" / "slide.png").read_bytes() == original


def test_a_long_token_at_the_start_of_a_definition_stays_in_its_column(tmp_path: Path) -> None:
    import pdfplumber

    token = "A" * 38 + "B" * 38  # 76 characters, no break opportunity
    content = write(tmp_path / "content", {"01-t.md": f"# Tokens\n\n## Long\n\n- **{token}** - a definition after a long term\n"
                                           + "".join(f"- filler line {i} with words\n" for i in range(40))})
    assert run("build", str(content), "--out", "out", "--format", "pdf", cwd=tmp_path).returncode == 0
    with pdfplumber.open(next((tmp_path / "out").glob("*.pdf"))) as pdf:
        page = pdf.pages[0]
        letters = [c for c in page.chars if c["text"] in "AB" and c["size"] < 9]
        assert len(letters) >= 76
        first_column_right = page.width / 3  # three columns: the term is in the first
        assert max(c["x1"] for c in letters) < first_column_right


def test_parallel_layout_leaves_no_weasyprint_folder_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from publisher.renderers import pdf_chunks

    from test_pdf import chunked_book

    monkeypatch.setattr(pdf_chunks, "CHUNK_FACTS", 12)
    folder = chunked_book(tmp_path / "book")
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    assert b.build(folder, ["pdf"], tmp_path / "out").ok
    assert [p.name for p in temp.iterdir() if p.name.startswith("weasyprint-")] == []


def test_the_font_coverage_reads_the_built_in_fonts_folder() -> None:
    from publisher.check import fontcover
    from publisher.markup import templates

    assert fontcover.BUILTIN_FONTS == templates.BUILTIN / "fonts" and any(fontcover.BUILTIN_FONTS.glob("*.ttf"))


def _fails(message: str) -> None:
    raise ValueError(message)


def test_work_set_aside_in_a_second_process_gives_what_it_would_give_here(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """pipeline.load runs the rules that need no cards in a forked process on a large book: the same
    findings as one process, an error raised there is raised here, and no process is left behind."""
    import multiprocessing

    from publisher import pipeline
    from publisher.read import reader
    from publisher.core.fsutil import Aside

    write(tmp_path, {f"{n:02d}-topic.md": f"# Topic {n}\n\n## Part\n\n- **Term{n}** - a {'recieved' if n == 0 else 'kept'} value\n"
                                          f"- See [missing](nowhere.md#x)\n" for n in range(6)})
    monkeypatch.setattr(pipeline, "PARALLEL_FROM", 10**6)
    alone = pipeline.load(tmp_path).diagnostics
    monkeypatch.setattr(pipeline, "PARALLEL_FROM", 2)
    shared = pipeline.load(tmp_path).diagnostics
    assert alone == shared and {"P114", "P116"} <= {d.code for d in alone}, alone
    assert reader.PARALLEL_FROM >= 2

    with pytest.raises(ValueError, match="from the child"), Aside(_fails, "from the child") as aside:
        aside.result()
    with Aside(sum, (1, 2, 3)) as aside:
        assert aside.result() == 6
    assert multiprocessing.active_children() == []


def test_a_stop_that_lands_in_a_native_callback_ends_the_worker_quietly() -> None:
    """Ctrl-C once printed "Exception ignored in: <function _attribute_filter ...>" and a traceback: the
    workers' SIGTERM raised inside nh3's callback, which cannot unwind through native code. A worker
    now leaves at once, with the code the stop asked for, and prints nothing."""
    script = (
        "import os, signal, nh3\n"
        "from publisher.core.fsutil import worker_init\n"
        "worker_init(os.getppid())\n"
        "def stop(tag, attr, value):\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"  # the parent stops this worker, mid-sanitizing
        "    return value\n"
        "nh3.clean('<a href=\"x\">y</a>', attribute_filter=stop)\n"
        "print('went on')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (143, "", "")


# --------------------------------------------------------------------------- issue 31: files outside the book


def artifact_text(out: Path) -> str:
    """Everything the three artifacts in ``out`` say: the EPUB's files, the deck's notes, the sheet's text."""
    import sqlite3
    import tempfile

    parts = []
    with zipfile.ZipFile(next(out.glob("*.epub"))) as z:
        parts += [z.read(n).decode("utf-8", "replace") for n in z.namelist()]
    with zipfile.ZipFile(next(out.glob("*.apkg"))) as z, tempfile.TemporaryDirectory() as tmp:
        z.extract("collection.anki2", tmp)
        with sqlite3.connect(Path(tmp) / "collection.anki2") as db:
            parts += [row[0] for row in db.execute("select flds from notes")]
            parts += [row[0] for row in db.execute("select models from col")]
    parts.append(subprocess.run(["pdftotext", str(next(out.glob("*.pdf"))), "-"], capture_output=True, text=True,
                                check=True).stdout)
    return "\n".join(parts)


def test_a_link_to_a_file_outside_the_book_is_refused_and_in_no_artifact(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "notes.md").write_text("# Private\n\n- **Password** - hunter2-outside-the-book\n", "utf-8")
    (secret / "style.css").write_text("body { color: red } /* css-outside-the-book */\n", "utf-8")
    content = write(tmp_path / "content", BOOK)
    (content / "03-passwd.md").symlink_to("/etc/passwd")
    (content / "04-notes.md").symlink_to(secret / "notes.md")
    (content / "05-inside.md").symlink_to(content / "02-beta.md")  # a link that stays inside is read
    (content / "elsewhere").symlink_to(secret, target_is_directory=True)
    (content / "templates" / "epub").mkdir(parents=True)
    (content / "templates" / "epub" / "style.css").symlink_to(secret / "style.css")

    check = run("check", str(content), "--format", "json", cwd=tmp_path)
    found = {(Path(d["file"]).name, d["code"]) for d in json.loads(check.stdout)["diagnostics"]}
    assert {("03-passwd.md", "P112"), ("04-notes.md", "P112"), ("style.css", "P112")} <= found, found
    assert ("elsewhere", "P012") in found  # a linked folder is not followed, and says so
    assert check.returncode == 1  # before anything is written

    # the author removes what check named; the links that stayed are never read
    (content / "03-passwd.md").unlink()
    (content / "04-notes.md").unlink()
    (content / "03-passwd.md").symlink_to("/etc/passwd")  # and one comes back between check and build
    built = run("build", str(content), "--out", "out", cwd=tmp_path)
    assert built.returncode == 1 and "P112" in built.stdout
    assert not list((tmp_path / "out").glob("*.epub"))  # errors stop the build before anything is written

    # were the errors ignored, the renderers themselves read nothing outside the book
    from publisher import renderers
    from publisher.pipeline import load
    from publisher.renderers import RenderOptions

    loaded = load(content)
    assert {Path(d.file).name for d in loaded.diagnostics if d.code == "P112"} == {"03-passwd.md", "style.css"}
    out = tmp_path / "bypassed"
    out.mkdir()
    for name in ("anki", "pdf", "epub"):
        renderers.get(name).render(loaded, out, content, RenderOptions())
    said = artifact_text(out)
    assert "Because it scales" in said  # the inside link was read
    for leak in ("root:x:0", "hunter2-outside-the-book", "css-outside-the-book"):
        assert leak not in said


def test_a_file_too_large_is_refused_by_its_size_without_being_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from publisher.read import reader

    content = write(tmp_path / "content", BOOK)
    with open(content / "03-huge.md", "wb") as f:  # sparse: 3 GB on paper, nothing on disk
        f.truncate(3 * 1024**3)
    opened = []
    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: opened.append(self.name) or real(self))
    book, diags = reader.read_book(content)
    assert "03-huge.md" not in opened
    assert [(Path(d.file).name, d.code) for d in diags if d.code == "P003"] == [("03-huge.md", "P003")]


def test_a_copied_output_folder_is_judged_by_what_it_holds(tmp_path: Path) -> None:
    import shutil

    content = write(tmp_path / "content", BOOK)
    assert run("build", str(content), "--out", "out", cwd=tmp_path).returncode == 0
    shutil.copytree(tmp_path / "out", tmp_path / "copy")
    epub = next((tmp_path / "copy").glob("*.epub"))
    epub.unlink()  # missing from the copy, still in the original
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    again = run("build", str(content), "--out", str(tmp_path / "copy"), cwd=elsewhere)
    assert again.returncode == 0
    assert "epub: up to date" not in again.stderr + again.stdout and epub.is_file(), again.stdout + again.stderr
    manifest = json.loads((tmp_path / "copy" / ".publisher-manifest.json").read_text("utf-8"))
    assert manifest["epub"]["path"] == epub.name  # from the output folder
    # a hand-edited entry that points out of the folder is as if there were none
    manifest["anki"]["path"] = "../out/" + next((tmp_path / "out").glob("*.apkg")).name
    (tmp_path / "copy" / ".publisher-manifest.json").write_text(json.dumps(manifest), "utf-8")
    next((tmp_path / "copy").glob("*.apkg")).unlink()
    assert run("build", str(content), "--out", "copy", cwd=tmp_path).returncode == 0
    assert list((tmp_path / "copy").glob("*.apkg"))


# --------------------------------------------------------------------------- issue 31: SVG, one verdict

SVG_HEAD = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20" viewBox="0 0 40 20">'
BAD_SVGS = {
    "prefixed.svg": ('<svg:svg xmlns:svg="http://www.w3.org/2000/svg" width="40" height="20"><svg:text y="10">pwned-a'
                     '</svg:text><svg:script>alert(1)</svg:script></svg:svg>').encode(),
    "utf16.svg": (SVG_HEAD + '<text y="10">pwned-b</text><script>alert(1)</script></svg>').encode("utf-16"),
    "padded.svg": (SVG_HEAD + '<text y="10">pwned-c</text><!-- ' + "x" * 2_100_000 + ' --><script>alert(1)</script>'
                   '</svg>').encode(),
    "css-url.svg": (SVG_HEAD + '<text y="10">pwned-d</text><rect width="40" height="20" '
                    'style="fill: url(http://example.invalid/track.png)"/></svg>').encode(),
    "dtd.svg": ('<?xml version="1.0"?>\n<!DOCTYPE svg SYSTEM "http://example.invalid/x.dtd">\n' + SVG_HEAD +
                '<text y="10">pwned-e</text></svg>').encode(),
}
# as drawing programs write it: the W3C document type, Inkscape's metadata, an embedded PNG
GOOD_SVG = ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
            '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n<svg xmlns="http://www.w3.org/2000/svg" '
            'xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" '
            'width="40" height="20" viewBox="0 0 40 20" inkscape:version="1.3"><defs><linearGradient id="g">'
            '<stop offset="0" stop-color="#00f"/></linearGradient></defs><rect width="40" height="20" '
            'style="fill:url(#g)"/><image width="4" height="4" xlink:href="data:image/png;base64,iVBORw0KGgo="/>'
            '<text y="10" font-size="6">safe-svg</text></svg>').encode()


def test_each_unsafe_svg_is_refused_by_check_and_in_no_artifact(tmp_path: Path) -> None:
    from publisher import renderers
    from publisher.pipeline import load
    from publisher.renderers import RenderOptions

    words = ["apple", "banana", "cherry", "damson", "elder", "fig"]
    lines = "".join(f"- figure {n} shows the ==word {w}== ![fig {n}](img/{name})\n"
                    for n, (w, name) in enumerate(zip(words, [*BAD_SVGS, "good.svg"])))
    content = write(tmp_path / "content", {**BOOK, "03-figs.md": "# Figures\n\n" + lines})
    (content / "img").mkdir()
    for name, data in {**BAD_SVGS, "good.svg": GOOD_SVG}.items():
        (content / "img" / name).write_bytes(data)

    check = run("check", str(content), "--format", "json", cwd=tmp_path)
    found = sorted((d["line"], d["code"]) for d in json.loads(check.stdout)["diagnostics"] if d["file"].endswith("03-figs.md") and d["severity"] == "error")
    assert found == [(line, "P110") for line in range(3, 3 + len(BAD_SVGS))], found  # each bad one, not the good one
    assert check.returncode == 1
    assert run("build", str(content), "--out", "out", cwd=tmp_path).returncode == 1
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.epub"))

    # were the errors ignored, no renderer lets one in: the good one is in all three, the bad ones in none
    loaded = load(content)
    out = tmp_path / "bypassed"
    out.mkdir()
    for name in ("anki", "pdf", "epub"):
        renderers.get(name).render(loaded, out, content, RenderOptions())
    with zipfile.ZipFile(next(out.glob("*.apkg"))) as z:
        media = [z.read(n) for n in json.loads(z.read("media"))]
    assert media == [GOOD_SVG]
    with zipfile.ZipFile(next(out.glob("*.epub"))) as z:
        images = [z.read(n) for n in z.namelist() if "/images/" in n]
    assert images == [GOOD_SVG]
    sheet = subprocess.run(["pdftotext", str(next(out.glob("*.pdf"))), "-"], capture_output=True, text=True).stdout
    assert "safe-svg" in sheet and "pwned" not in sheet


# --------------------------------------------------------------------------- issue 31: limits, said before the work


def test_a_long_title_is_diagnosed_at_once(tmp_path: Path) -> None:
    import time

    for size, code, line_says in ((1_000_000, "P004", "bytes"), (10_000, "P004", "characters long")):
        content = write(tmp_path / f"t{size}", {**BOOK, "book.toml": BOOK["book.toml"].replace('"Tiny Book"', '"' + "T" * size + '"')})
        started = time.monotonic()
        proc = run("build", str(content), "--out", str(tmp_path / f"out{size}"), cwd=tmp_path, timeout=60)
        assert time.monotonic() - started < 20 and proc.returncode == 1
        said = [line for line in proc.stdout.splitlines() if "book.toml" in line and code in line]
        assert said and line_says in said[0], proc.stdout[-2000:]
    content = write(tmp_path / "front", {**BOOK, "03-long.md": "---\ntitle: " + "x" * 5000 + "\n---\n# Long\n\n- **A** - b\n"})
    check = run("check", str(content), "--format", "json", cwd=tmp_path)
    assert any(d["code"] == "P011" and "5,000 characters" in d["message"] for d in json.loads(check.stdout)["diagnostics"])


def test_too_deep_and_too_long_are_diagnostics_never_an_internal_error(tmp_path: Path) -> None:
    content = write(tmp_path / "content", {**BOOK, "03-quotes.md": "# Quotes\n\n" + "> " * 30 + "deep words\n",
                                           "04-line.md": "# Line\n\nshort\n\n" + "word " * 60_000 + "\n"})
    deep = content / "folders"
    deep.mkdir()
    here = os.getcwd()
    os.chdir(deep)  # a path a thousand folders long is too long to name from the top
    try:
        for _ in range(1000):
            os.mkdir("x")
            os.chdir("x")
        Path("a.md").write_text("# Deep\n\n- **A** - b\n", "utf-8")
    finally:
        os.chdir(here)
    try:
        check = run("check", str(content), "--format", "json", cwd=tmp_path)
        assert "Traceback" not in check.stderr and "internal error" not in check.stderr, check.stderr[-2000:]
        found = {(Path(d["file"]).name, d["code"], d["line"]) for d in json.loads(check.stdout)["diagnostics"]}
        assert ("03-quotes.md", "P009", 3) in found  # quotes deeper than the parser reads
        assert ("04-line.md", "P003", 5) in found  # a 300,000-character line
        assert not any(name == "04-line.md" and code == "P142" for name, code, _ in found)  # (said once: left out)
        assert any(code == "P009" and name == "x" for name, code, _ in found)  # folders 33 deep and more
        built = run("build", str(content), "--out", "out", cwd=tmp_path)
        assert built.returncode == 1 and "internal error" not in built.stderr
    finally:
        subprocess.run(["rm", "-rf", str(deep)], check=True)  # pytest's own clean-up recurses


def test_a_huge_image_or_sound_is_refused_by_its_size_without_being_read(tmp_path: Path) -> None:
    content = write(tmp_path / "content", {**BOOK, "03-media.md": "# Media\n\n- the ==big picture== ![big](img/big.png)\n"
                                           "- the ==big sound== [sound:snd/big.mp3]\n"})
    for rel in ("img/big.png", "snd/big.mp3"):  # sparse: 3 GB on paper, nothing on disk
        (content / rel).parent.mkdir(exist_ok=True)
        with open(content / rel, "wb") as f:
            f.truncate(3 * 1024**3)
    check = run("check", str(content), "--format", "json", cwd=tmp_path)
    found = sorted((d["line"], d["code"]) for d in json.loads(check.stdout)["diagnostics"]
                   if d["file"].endswith("03-media.md") and d["code"] == "P127")
    assert found == [(3, "P127"), (4, "P127")], found
    script = ("import resource, subprocess, sys\n"
              f"done = subprocess.run([{str(PUBLISHER)!r}, 'build', {str(content)!r}, '--out', 'out'])\n"
              "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    code, peak_kb = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                                   timeout=300).stdout.split()[-2:]
    assert code == "0" and int(peak_kb) < 1024 * 1024, peak_kb  # never read into memory (3 GB each)
    with zipfile.ZipFile(next((tmp_path / "out").glob("*.apkg"))) as z:
        assert json.loads(z.read("media")) == {}


def test_a_table_of_a_thousand_columns_is_refused_before_the_work(tmp_path: Path) -> None:
    import time

    n = 1000
    table = ("|" + "|".join(f"h{i}" for i in range(n)) + "|\n|" + "---|" * n + "\n"
             + "".join("|" + "|".join(f"v{r}{i}" for i in range(n)) + "|\n" for r in range(5)))
    content = write(tmp_path / "content", {**BOOK, "03-table.md": "# Table\n\nThe table:\n\n" + table})
    started = time.monotonic()
    built = run("build", str(content), "--out", "out", cwd=tmp_path, timeout=120)
    assert built.returncode == 1 and time.monotonic() - started < 30
    assert "03-table.md:5: P019" in built.stdout and "1,000 columns" in built.stdout, built.stdout


def test_one_link_reference_used_a_hundred_thousand_times_is_refused_before_the_work(tmp_path: Path) -> None:
    import time

    uses = "\n".join(f"- item {i} " + " ".join(f"[w{j}][ref]" for j in range(50)) for i in range(2000))
    content = write(tmp_path / "content", {**BOOK, "03-refs.md": "# Refs\n\n[ref]: https://example.com/a/long/path/x\n\n" + uses + "\n"})
    started = time.monotonic()
    built = run("build", str(content), "--out", "out", cwd=tmp_path, timeout=120)
    assert built.returncode == 1 and time.monotonic() - started < 30
    assert "03-refs.md:5: P021" in built.stdout and "100,000 links" in built.stdout, built.stdout


def test_the_sheet_keeps_a_budget_of_links_and_leaves_out_a_chapter_too_long_for_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pypdf

    from publisher.check import validate
    from publisher.renderers import pdf, sheet

    monkeypatch.setattr(validate, "SHEET_LINKS", 3)
    monkeypatch.setattr(sheet, "SHEET_LINKS", 3)
    links = "".join(f"- see [site {i}](https://example.com/{i}) for ==part {i}==\n" for i in range(5))
    long = "".join(f"- **Long term {i}** - what it holds\n" for i in range(40))
    content = write(tmp_path / "content", {**BOOK, "03-links.md": "# Links\n\n" + links, "04-long.md": "# Long\n\n" + long})
    monkeypatch.setattr(validate, "SHEET_MAX_BOXES", 100)
    monkeypatch.setattr(pdf, "SHEET_MAX_BOXES", 100)
    result = b.build(content, ["pdf", "epub"], tmp_path / "out", jobs=1)
    assert result.ok
    found = {(Path(d.file).name, d.code) for d in result.diagnostics}
    assert {("03-links.md", "P020"), ("04-long.md", "P022")} <= found, found
    reader = pypdf.PdfReader(next((tmp_path / "out").glob("*.pdf")))
    uris = [a.get_object().get("/A", {}).get("/URI") for p in reader.pages for a in p.get("/Annots", [])]
    assert sorted(u for u in uris if u) == [f"https://example.com/{i}" for i in range(3)]
    text = "".join(p.extract_text() for p in reader.pages)
    assert "site 4" in text and "Long term 7" not in text  # the words of every link; not the long chapter
    with zipfile.ZipFile(next((tmp_path / "out").glob("*.epub"))) as z:
        assert any("Long term 7" in z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xhtml"))
