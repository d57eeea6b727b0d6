"""publisher build: one parse, renderers in parallel, incremental, atomic."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

from publisher import build as b
from publisher.core import fsutil
from publisher import renderers
from publisher.cli import main

pytestmark = pytest.mark.slow

BOOK = {
    "book.toml": 'title = "Tiny Book"\nshort_name = "Tiny"\ndate = "2024-01-02"\nversion = "1"\n'
    '[ids]\ndeck = 1111\nbasic_model = 2222\ncloze_model = 3333\nepub = "urn:uuid:11111111-2222-4333-8444-555555555555"\n',
    "01-alpha.md": "# Alpha\n\n## Basics\n\n- **Queue** - holds messages until read\n- Messages live ==14 days== at most\n",
    "02-beta.md": "# Beta\n\n## Why?\n\nBecause it scales.\n\n## More\n\n- **Topic** - fans a message out\n",
}


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def snapshot(out: Path) -> dict[str, bytes]:
    # the artifacts: not the manifest, the lock or the ledger backup (bookkeeping, all dot files)
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file() and not p.name.startswith(".")}


@pytest.fixture()
def book(tmp_path: Path) -> Path:
    return write(tmp_path / "content", BOOK)


def statuses(result: b.BuildResult) -> dict[str, str]:
    return {o.name: o.status for o in result.outcomes}


def test_build_writes_every_artifact_then_a_second_build_renders_nothing(book: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    first = b.build(book, out_dir=out)
    assert first.ok, first.diagnostics
    assert statuses(first) == {name: "built" for name in renderers.REGISTRY}
    for o in first.outcomes:
        assert o.artifact is not None and o.artifact.path.is_file() and o.artifact.path.stat().st_size > 0
    before = snapshot(out)
    second = b.build(book, out_dir=out)
    assert statuses(second) == {name: "skipped" for name in renderers.REGISTRY}
    assert snapshot(out) == before


def test_touching_a_template_rerenders_only_its_renderer(book: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    assert b.build(book, out_dir=out).ok
    # shadow one EPUB template from the book's own templates/ folder: only the EPUB depends on it
    name = renderers.REGISTRY["epub"].templates[0]
    builtin = sorted((b.PACKAGE_DIR.parent / "templates" / name).glob("*.css"))[0]
    shadow = book / "templates" / name / builtin.name
    shadow.parent.mkdir(parents=True)
    shadow.write_text(builtin.read_text("utf-8") + "\n/* restyled */\n", encoding="utf-8")
    again = b.build(book, out_dir=out)
    assert statuses(again) == {"anki": "skipped", "pdf": "skipped", "epub": "built"}


def test_editing_content_rerenders_and_changes_the_artifacts(book: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    assert b.build(book, out_dir=out).ok
    before = snapshot(out)
    (book / "02-beta.md").write_text(BOOK["02-beta.md"] + "- **Subscription** - an endpoint of a topic\n", "utf-8")
    again = b.build(book, out_dir=out)
    assert statuses(again) == {name: "built" for name in renderers.REGISTRY}
    after = snapshot(out)
    assert set(after) == set(before)
    assert all(after[k] != before[k] for k in after)


def test_errors_stop_the_build_before_anything_is_written(book: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    assert b.build(book, out_dir=out).ok
    before = snapshot(out)
    ledger_before = (book / "cards.lock").read_bytes() if (book / "cards.lock").exists() else None
    (book / "03-bad.md").write_text("no title here\n\n<script>alert(1)</script>\n", "utf-8")
    result = b.build(book, out_dir=out)
    assert not result.ok
    assert {d.code for d in result.diagnostics} >= {"P101", "P110"}
    assert result.outcomes == []
    assert snapshot(out) == before
    if ledger_before is not None:
        assert (book / "cards.lock").read_bytes() == ledger_before


def test_a_renderer_failing_mid_write_leaves_the_previous_artifacts_intact(book: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "build"
    assert b.build(book, out_dir=out).ok
    before = snapshot(out)
    ledger_before = (book / "cards.lock").read_bytes()
    (book / "01-alpha.md").write_text(BOOK["01-alpha.md"] + "- **Dead-letter queue** - keeps failed messages\n", "utf-8")

    real = fsutil.atomic_path

    def failing(dest):  # writes half a file into the temp path, then the process "dies"
        cm = real(dest)
        tmp = cm.__enter__()
        tmp.write_bytes(b"half an artifact")
        try:
            raise OSError("disk full (injected)")
        except OSError as exc:
            cm.__exit__(type(exc), exc, exc.__traceback__)
            raise

    for name in renderers.REGISTRY:
        monkeypatch.setattr(renderers.get(name), "atomic_path", failing)
    result = b.build(book, out_dir=out, jobs=1)
    assert not result.ok
    assert all(o.status == "failed" for o in result.outcomes)
    assert snapshot(out) == before
    assert (book / "cards.lock").read_bytes() == ledger_before
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    assert not [p for p in book.iterdir() if p.name.endswith(".tmp")]
    monkeypatch.undo()
    # the next build, with nothing broken, renders what failed
    assert statuses(b.build(book, out_dir=out)) == {name: "built" for name in renderers.REGISTRY}


def test_parallel_and_serial_builds_are_byte_identical(book: Path, tmp_path: Path) -> None:
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    assert b.build(book, out_dir=serial, jobs=1).ok
    assert b.build(book, out_dir=parallel, jobs=3).ok
    assert snapshot(serial) == snapshot(parallel)
    # and a fresh copy of the same sources gives the same bytes again
    copy = shutil.copytree(book, tmp_path / "copy")
    again = tmp_path / "again"
    assert b.build(copy, out_dir=again, force=True).ok
    assert snapshot(again) == snapshot(serial)


def test_cli_build_prints_a_summary_and_fails_cleanly(book: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "build"
    assert main(["build", str(book), "--out", str(out), "--format", "anki"]) == 0
    text = capsys.readouterr().out
    assert "built" in text and ".apkg" in text and "0 errors" in text
    assert main(["build", str(book), "--out", str(out), "--format", "anki"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert main(["build", str(tmp_path / "missing"), "--out", str(out)]) == 1
    assert "P005" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["build", str(book), "--format", "docx"])


def test_atomic_write_replaces_and_cleans_up(tmp_path: Path) -> None:
    dest = tmp_path / "a.bin"
    fsutil.atomic_write(dest, b"one")
    fsutil.atomic_write(dest, b"two")
    assert dest.read_bytes() == b"two"
    with pytest.raises(RuntimeError):
        with fsutil.atomic_path(dest) as tmp:
            tmp.write_bytes(b"three")
            raise RuntimeError("boom")
    assert dest.read_bytes() == b"two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin"]


def test_a_renderer_over_its_time_limit_is_stopped_with_a_clear_message(book: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    assert b.build(book, out_dir=out, formats=["pdf"]).ok
    before = snapshot(out)
    (book / "01-alpha.md").write_text(BOOK["01-alpha.md"] + "- **Visibility timeout** - hides a message\n", "utf-8")
    result = b.build(book, out_dir=out, formats=["pdf"], timeout=0.01)
    (outcome,) = result.outcomes
    assert outcome.status == "failed" and "longer than" in outcome.error
    assert snapshot(out) == before
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_the_registry_names_what_each_renderer_reads() -> None:
    for name, spec in renderers.REGISTRY.items():
        module = renderers.get(name)
        own = module.TEMPLATES if isinstance(module.TEMPLATES, tuple) else (module.TEMPLATES,)
        assert module.NAME == name
        assert set(own) <= set(spec.templates), name
        assert all((b.PACKAGE_DIR.parent / "templates" / t).is_dir() for t in spec.templates)


def test_a_noop_rebuild_reads_nothing_and_a_removed_artifact_is_rebuilt(book: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "build"
    assert b.build(book, out_dir=out).ok

    def no_load(folder):  # pragma: no cover - failing is the point
        raise AssertionError("a no-op rebuild must not read the content")

    monkeypatch.setattr(b, "read_normalized", no_load)
    assert statuses(b.build(book, out_dir=out)) == {name: "skipped" for name in renderers.REGISTRY}
    monkeypatch.undo()
    next(p for p in out.iterdir() if p.suffix == ".epub").unlink()
    assert statuses(b.build(book, out_dir=out)) == {"anki": "skipped", "pdf": "skipped", "epub": "built"}


def test_a_renderer_stopped_mid_write_leaves_no_temp_file(book: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "build"
    assert b.build(book, out_dir=out, formats=["anki"]).ok
    before = snapshot(out)
    started = tmp_path / "started"

    def hangs(loaded, out_dir, content_dir, options):  # inherited by the forked worker
        with fsutil.atomic_path(Path(out_dir) / "deck.apkg") as tmp:
            tmp.write_bytes(b"half a deck")
            started.touch()
            time.sleep(60)

    monkeypatch.setattr(renderers.get("anki"), "render", hangs)
    result = b.build(book, out_dir=out, formats=["anki"], force=True, timeout=3)
    assert started.exists(), "the renderer never got as far as its temp file"
    (outcome,) = result.outcomes
    assert outcome.status == "failed" and "longer than" in outcome.error
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    assert snapshot(out) == before


class _Watch:
    """``publisher watch`` as an author runs it, its output read line by line as it comes."""

    def __init__(self, *args: str) -> None:
        import os
        import queue
        import subprocess
        import sys
        import threading

        exe = Path(sys.executable).with_name("publisher")
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "CI": "true"}
        self.proc = subprocess.Popen([str(exe), "watch", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, env=env)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [self.lines.put(x) for x in self.proc.stdout], daemon=True).start()  # type: ignore[union-attr]
        self.seen: list[str] = []

    def wait_for(self, pattern: str, seconds: float = 120) -> list[str]:
        """The lines up to the first that ``pattern`` finds (a regular expression), since the last call."""
        import queue

        start = len(self.seen)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self.seen.append(self.lines.get(timeout=0.2))
            except queue.Empty:
                continue
            if re.search(pattern, self.seen[-1]):
                return self.seen[start:]
        raise AssertionError(f"no {pattern!r} in:\n" + "".join(self.seen))

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def test_watch_rebuilds_on_save_and_prints_diagnostics_as_they_happen(book: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    watch = _Watch(str(book), "--out", str(out), "--format", "anki")
    try:
        watch.wait_for("watching")
        deck = next(out.glob("*.apkg"))
        first = deck.read_bytes()
        chapter = book / "01-alpha.md"
        chapter.write_text(chapter.read_text("utf-8") + "- **Dead letter queue** - where failed messages go\n", "utf-8")
        watch.wait_for("built")
        assert deck.read_bytes() != first
        chapter.write_text(chapter.read_text("utf-8") + "\ntext <script>alert(1)</script>\n", "utf-8")
        seen = watch.wait_for("P110")
        assert any("01-alpha.md:" in line and "P110" in line for line in seen)
        assert watch.proc.poll() is None, "an error in the content must not end the watch"
    finally:
        watch.stop()


def test_a_save_while_the_sheet_is_laid_out_stops_it_and_the_newest_notes_are_built(tmp_path: Path) -> None:
    """Issue 24: in ``watch``, a save while a build still renders (the sheet's layout takes seconds) stops
    what is left of that build and builds the newest notes at once; the sheet of the last save follows."""
    import sys

    import pypdf

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import synth

    book = tmp_path / "book"
    synth.write_book(book, 600)  # a sheet of some pages: seconds of layout
    chapter = sorted(book.glob("*.md"))[1]
    out = tmp_path / "build"
    watch = _Watch(str(book), "--out", str(out))
    try:
        watch.wait_for("watching")
        chapter.write_text(chapter.read_text("utf-8") + "\n- The first edit names Quokka\n", "utf-8")
        watch.wait_for(r"^pdf: rendering")  # the first save's sheet is being laid out (seconds of work)
        started = time.monotonic()
        chapter.write_text(chapter.read_text("utf-8") + "\n- The second edit names Zanzibar\n", "utf-8")
        watch.wait_for(r"^pdf: stopped: a newer save")
        assert time.monotonic() - started < 5
        watch.wait_for(r"^built .*cheatsheet\.pdf")
        sheet = next(out.glob("*cheatsheet.pdf"))
        text = "".join(page.extract_text() or "" for page in pypdf.PdfReader(sheet).pages)
        assert "Zanzibar" in text and "Quokka" in text
        assert watch.proc.poll() is None
    finally:
        watch.stop()
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]  # the stopped layout left nothing behind


def _run_build(book: Path, out: Path, *flags: str, tty: bool = False) -> tuple[str, str]:
    """``publisher build`` as a user runs it: (stdout, stderr); stderr on a terminal when ``tty``."""
    import os
    import pty
    import subprocess
    import sys

    exe = Path(sys.executable).with_name("publisher")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    args = [str(exe), "build", str(book), "--out", str(out), *flags]
    if not tty:
        proc = subprocess.run(args, capture_output=True, text=True, env={**env, "CI": "true"}, timeout=300)
        return proc.stdout, proc.stderr
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=slave, text=True, env={**env, "TERM": "xterm"})
    os.close(slave)
    stdout, _ = proc.communicate(timeout=300)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the terminal is closed once the build has ended
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return stdout, b"".join(chunks).decode("utf-8", "replace")


def test_progress_plain_when_piped_live_on_a_terminal_and_quiet_with_q(book: Path, tmp_path: Path) -> None:
    stdout, stderr = _run_build(book, tmp_path / "plain", "--format", "anki,epub")
    assert stderr.splitlines()[:2] == ["check: reading and validating", "check: 0 errors, 0 warnings"]
    assert any(line.startswith("anki: ") and line.endswith(" s") for line in stderr.splitlines()), stderr
    assert "built" in stdout and "0 errors" in stdout

    stdout, stderr = _run_build(book, tmp_path / "live", "--format", "anki,epub", tty=True)
    assert "\x1b[" in stderr, stderr  # drawn and redrawn by rich
    assert re.search(r"anki: .*\.apkg.*\d+:\d\d:\d\d", stderr), stderr  # each renderer with its elapsed time
    assert re.search(r"check: 0 errors, 0 warnings.*\d+:\d\d:\d\d", stderr), stderr  # the check step ends too
    assert "built" in stdout and "0 errors" in stdout

    stdout, stderr = _run_build(book, tmp_path / "quiet", "--format", "anki,epub", "-q", tty=True)
    assert stdout == "" and stderr == ""


def test_the_epub_is_dated_by_the_ledger_the_deck_writes_in_the_same_build(book: Path, tmp_path: Path) -> None:
    import zipfile

    from publisher.cards import ledger

    out = tmp_path / "build"

    def modified() -> str:
        with zipfile.ZipFile(next(out.glob("*.epub"))) as z:
            opf = next(n for n in z.namelist() if n.endswith(".opf"))
            return re.search(r'property="dcterms:modified">([^<]+)<', z.read(opf).decode()).group(1)

    def newest() -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ledger.read(book / "cards.lock").newest))

    assert b.build(book, out_dir=out).ok
    assert modified() == newest()  # the EPUB ran after the deck wrote the ledger
    time.sleep(1.1)
    (book / "01-alpha.md").write_text(BOOK["01-alpha.md"] + "- Messages are kept ==in order== in FIFO queues\n", "utf-8")
    assert b.build(book, out_dir=out).ok
    assert modified() == newest()
    assert statuses(b.build(book, out_dir=out)) == {name: "skipped" for name in renderers.REGISTRY}  # no work left


def test_templates_are_compiled_once_and_a_shadow_added_later_is_used(tmp_path: Path) -> None:
    """`publisher watch` compiles the templates once, in the process every build's renderers are forked from
    (issue 24); a template the author shadows, edits or removes while it runs is used at the next build."""
    from publisher.markup import templates

    book = tmp_path / "book"
    (book / "templates" / "cheatsheet").mkdir(parents=True)
    templates.compile_all(["cheatsheet"], book)
    env = templates.environment(book)
    assert templates.environment(book) is env  # one environment: its templates compiled once
    builtin = env.get_template("cheatsheet/footers.html")
    shadow = book / "templates" / "cheatsheet" / "footers.html"
    shadow.write_text("mine", "utf-8")
    assert templates.environment(book).get_template("cheatsheet/footers.html").render() == "mine"
    time.sleep(0.01)
    shadow.write_text("mine, edited", "utf-8")
    assert templates.environment(book).get_template("cheatsheet/footers.html").render() == "mine, edited"
    shadow.unlink()
    assert templates.environment(book).get_template("cheatsheet/footers.html").filename == builtin.filename


def test_a_watched_build_leaves_its_code_lexers_made_for_the_next_one(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """`publisher watch` forks each build's renderers from its own process: after a build it makes there the
    lexers of the book's code (Pygments compiles a lexer's rules as it is first made, 0.07 s for Python), so
    the next save's renderers start with them (issue 24). A plain build leaves nothing made."""
    from publisher.markup import html

    src = write(tmp_path / "src", {"book.toml": 'title = "Code"\n',
                                   "a.md": "# A\n\n```rust\nfn main() {}\n```\n\n- **Term** - text here\n"})
    html._lexer.cache_clear()
    b.build(src, ["anki"], tmp_path / "out", jobs=2)
    assert html._lexer.cache_info().currsize == 0  # (the deck was made in a worker; this process made nothing)
    monkeypatch.setattr(b, "_WARM", False)
    b.keep_warm()
    (src / "a.md").write_text((src / "a.md").read_text() + "- One more line.\n")
    b.build(src, ["anki"], tmp_path / "out", jobs=2)
    made = html._lexer.cache_info()
    assert made.currsize == 1
    html._lexer("rust")
    assert html._lexer.cache_info().hits == made.hits + 1  # the same lexer, made once


def test_the_sheet_started_before_the_checks_writes_nothing_when_they_fail(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The sheet needs no cards: it starts as soon as the book is read, while the cards are derived and checked
    (issue 24). Its writes wait for the checks: checks that fail (slow ones here, so the sheet is laid out before
    they end) leave every file of the output folder as it was, the sheet's cache too, and no worker behind."""
    import multiprocessing

    from publisher.renderers import pdf_chunks

    from test_pdf import chunked_book, topic_chapter

    monkeypatch.setattr(pdf_chunks, "CHUNK_FACTS", 12)
    folder = chunked_book(tmp_path / "book")
    out = tmp_path / "out"
    assert b.build(folder, ["pdf"], out).ok

    def files() -> dict[Path, bytes]:
        return {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != ".publisher.lock"}

    before = files()
    assert any("-drawn" in str(p) for p in before) or len(before) > 4
    slow = b.finish
    monkeypatch.setattr(b, "finish", lambda *a: time.sleep(8) or slow(*a))
    # a chapter that grows (its chunk and the next move: a layout, new cache entries, old ones pruned) and an error
    (folder / "05-topic.md").write_text(topic_chapter(5, items=40) + "\n<script>alert(1)</script>\n", "utf-8")
    steps: list[tuple[str, str]] = []
    result = b.build(folder, ["pdf"], out, report=lambda step, msg: steps.append((step, msg)))
    assert not result.ok and result.outcomes == []
    assert steps.index(("pdf", "rendering")) < steps.index(("check", "1 error: nothing was written"))
    assert files() == before
    assert multiprocessing.active_children() == []
    monkeypatch.setattr(b, "finish", slow)
    (folder / "05-topic.md").write_text(topic_chapter(5, items=40), "utf-8")
    assert b.build(folder, ["pdf"], out).ok and files() != before


def test_renderer_workers_find_the_book_without_it_being_pickled(book: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Each renderer's worker is forked as it is started and finds the book in its copy of the build's memory
    (issue 24: pickled to it and back, the book cost each renderer 0.07 s at 3,000 facts, more in a large repo)."""
    from publisher.core import model

    def refuse(self: object) -> object:
        raise AssertionError("the book was pickled")

    monkeypatch.setattr(model.Loaded, "__reduce__", refuse, raising=False)
    result = b.build(book, out_dir=tmp_path / "build")
    assert result.ok, [o.error for o in result.outcomes]
    assert statuses(result) == {"anki": "built", "pdf": "built", "epub": "built"}
