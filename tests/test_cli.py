"""``publisher check``: its output format, exit codes, JSON and --strict; never a traceback."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from publisher import cli

from conftest import make_book

TOML = 'title = "Test Book"\n[ids]\ndeck = 1\nbasic_model = 2\ncloze_model = 3\nepub = "urn:uuid:x"\n'
CLEAN = {"book.toml": TOML, "01-a.md": "# A\n\n## Basics\n\n- **Queue** - holds messages\n- a queue keeps a message for ==four days==\n"}
# style findings are warnings (the build goes on); an unsafe link is an error
ERRORS = {"book.toml": TOML, "01-a.md": "# A\n\ntext\n\n# B\n\n- one\n-\n\n![pic](missing.png)\n\n[x](javascript:alert(1))\n"}
WARNINGS = {"book.toml": TOML, "01-a.md": "# A\n\nThe quikc brown fox.\n"}
LINE_RE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<code>P\d{3}) (?P<message>.+)$")
SUMMARY_RE = re.compile(r"^\d+ chapters?, \d+ sections?, \d+ facts?; \d+ cards? \(\d+ definition, \d+ cloze, \d+ question\); "
                        r"(?P<errors>\d+) errors?, (?P<warnings>\d+) warnings?$")


def publisher_exe() -> list[str]:
    exe = Path(sys.executable).with_name("publisher")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "publisher.cli"]


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run(publisher_exe() + args, cwd=cwd, capture_output=True, text=True, timeout=120, env=env)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, proc.stderr
    return proc


@pytest.fixture
def book(tmp_path: Path):
    def write(files: dict[str, str | bytes]) -> Path:
        make_book(tmp_path, files)
        return tmp_path

    return write


def test_clean_book_exits_0(book) -> None:
    cwd = book(CLEAN)
    proc = run(["check", "content"], cwd)
    assert proc.returncode == 0, proc.stdout
    lines = proc.stdout.splitlines()
    assert len(lines) == 1
    summary = SUMMARY_RE.match(lines[0])
    assert summary and summary["errors"] == "0" and summary["warnings"] == "0"
    assert lines[0].startswith("1 chapter, 1 section, ") and "2 cards (1 definition, 1 cloze, 0 question)" in lines[0]


def test_errors_exit_1_with_file_line_code_message(book) -> None:
    cwd = book(ERRORS)
    proc = run(["check", "content"], cwd)
    assert proc.returncode == 1
    *diags, last = proc.stdout.splitlines()
    parsed = [LINE_RE.match(x) for x in diags]
    assert all(parsed), diags
    assert [(p["file"], int(p["line"]), p["code"]) for p in parsed] == [  # type: ignore[index]
        ("content/01-a.md", 5, "P102"), ("content/01-a.md", 8, "P106"), ("content/01-a.md", 10, "P111"),
        ("content/01-a.md", 12, "P113"),
    ]
    assert diags[0] == "content/01-a.md:5: P102 chapter has more than one H1: 'B' is read as a section"
    summary = SUMMARY_RE.match(last)
    assert summary and summary["errors"] == "1" and summary["warnings"] == "3"


def test_default_path_is_content(book) -> None:
    cwd = book(ERRORS)
    assert run(["check"], cwd).returncode == 1


def test_json_format(book) -> None:
    cwd = book(ERRORS)
    proc = run(["check", "content", "--format", "json"], cwd)
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert [(d["file"], d["line"], d["code"], d["severity"]) for d in data["diagnostics"]] == [
        ("content/01-a.md", 5, "P102", "warning"), ("content/01-a.md", 8, "P106", "warning"),
        ("content/01-a.md", 10, "P111", "warning"), ("content/01-a.md", 12, "P113", "error"),
    ]
    assert all(set(d) == {"file", "line", "code", "message", "severity"} for d in data["diagnostics"])
    assert data["summary"]["errors"] == 1 and data["summary"]["warnings"] == 3 and data["summary"]["chapters"] == 1
    clean = json.loads(run(["check", "content", "--format", "json"], book(CLEAN)).stdout)
    assert clean["diagnostics"] == [] and clean["summary"]["cards"] == {"definition": 1, "cloze": 1, "question": 0, "total": 2}


def test_strict_turns_warnings_into_errors(book) -> None:
    cwd = book(WARNINGS)
    relaxed = run(["check", "content"], cwd)
    assert relaxed.returncode == 0
    assert relaxed.stdout.splitlines()[0].startswith("content/01-a.md:3: P116 ")
    strict = run(["check", "content", "--strict", "--format", "json"], cwd)
    assert strict.returncode == 1
    data = json.loads(strict.stdout)
    assert [(d["code"], d["severity"]) for d in data["diagnostics"]] == [("P116", "error")]
    assert data["summary"]["errors"] == 1 and data["summary"]["warnings"] == 0


def test_notes_never_fail_the_check(book) -> None:
    cwd = book({"01-a.md": "# A\n\ntext\n"})  # no book.toml: a P006 note
    proc = run(["check", "content", "--strict"], cwd)
    assert proc.returncode == 0 and "P006" in proc.stdout


@pytest.mark.parametrize(
    "files",
    [
        {"01-a.md": b"\xff\xfe\x00garbage\x80"},
        {"01-a.md": "# A\n\n" + "> " * 2000 + "deep\n"},
        {"01-a.md": "# A\n\n" + "".join("    " * i + "- x\n" for i in range(300))},
        {"01-a.md": "# A\n\ntext\n", "book.toml": b"\x00\x01 not toml = = ["},
        {"01-a.md": "# A\n\ntext\n", "book.toml": "ids = [1, 2]\ncolumns = 99999999999999999999999\n"},
        {"01-a.md": "", "02-b.md": "\n\n"},
        {"notes.txt": "no chapters at all"},
    ],
    ids=["binary", "deep-quotes", "deep-lists", "binary-toml", "odd-toml", "empty-files", "no-chapters"],
)
def test_never_a_traceback(book, files: dict, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    cwd = book(files)
    proc = run(["check", "content"], cwd)
    assert proc.returncode in (0, 1) and "internal error" not in proc.stderr, proc.stderr
    monkeypatch.chdir(cwd)
    for args in (["check", "content", "--format", "json"], ["check", "content", "--strict"], ["stats", "content"]):
        assert cli.main(args) in (0, 1), args
        assert "internal error" not in capsys.readouterr().err


def test_odd_paths(tmp_path: Path) -> None:
    (tmp_path / "file.md").write_text("# A\n", "utf-8")
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "book.toml").mkdir()  # a folder where a file is expected
    (tmp_path / "content" / "01-a.md").write_text("# A\n\ntext\n", "utf-8")
    for target in ("does-not-exist", "file.md", "content"):
        proc = run(["check", target], tmp_path)
        assert proc.returncode in (0, 1) and "internal error" not in proc.stderr, (target, proc.stderr)
    assert "does-not-exist:0: P005 no chapters: the folder does not exist" in run(["check", "does-not-exist"], tmp_path).stdout
    (tmp_path / "file.md").write_text("# F\n", "utf-8")
    assert "file.md:0: P005 no chapters: not a folder" in run(["check", "file.md"], tmp_path).stdout
    (tmp_path / "empty").mkdir()
    assert "empty:0: P005 no chapters: no Markdown files found" in run(["check", "empty"], tmp_path).stdout


def test_usage_errors_exit_2_without_a_traceback(tmp_path: Path) -> None:
    for args in ([], ["check", "--bogus"], ["check", "--format", "xml"], ["nope"]):
        proc = run(args, tmp_path)
        assert proc.returncode == 2 and "usage:" in proc.stderr


def test_version(tmp_path: Path) -> None:
    proc = run(["--version"], tmp_path)
    assert proc.returncode == 0 and proc.stdout.startswith("publisher ")


def test_stats_json(book) -> None:
    cwd = book(CLEAN)
    data = json.loads(run(["stats", "content", "--format", "json"], cwd).stdout)
    assert [(r["chapter"], r["definition"], r["cloze"], r["question"]) for r in data["chapters"]] == [("a", 1, 1, 0)]


# --------------------------------------------------------------------------- in process


def test_main_in_process(book, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    cwd = book(ERRORS)
    monkeypatch.chdir(cwd)
    assert cli.main(["check", "content"]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "content/01-a.md:5: P102 chapter has more than one H1: 'B' is read as a section"
    assert cli.main(["check", "content", "--format", "json"]) == 1
    assert len(json.loads(capsys.readouterr().out)["diagnostics"]) == 4


def test_main_in_process_clean(book, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(book(CLEAN))
    assert cli.main(["check", "content", "--strict"]) == 0
    assert SUMMARY_RE.match(capsys.readouterr().out.strip())


def test_an_internal_error_is_a_message(book, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug anywhere below the command line gives one line on stderr and exit 2, never a traceback."""
    import publisher.pipeline

    def broken(folder: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.chdir(book(CLEAN))
    monkeypatch.setattr(publisher.pipeline, "load", broken)
    assert cli.main(["check", "content"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("publisher: internal error: RuntimeError: simulated bug") and "Traceback" not in err


def test_an_output_folder_that_cannot_be_made_is_a_message_not_an_internal_error(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "01-a.md").write_text("# A\n\n- **Term** - body\n", "utf-8")
    (tmp_path / "taken").write_text("a file, not a folder", "utf-8")
    proc = run(["build", "content", "--out", "taken", "-q"], tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "publisher: error: File exists: taken" in proc.stderr and "internal error" not in proc.stderr
    assert (tmp_path / "taken").read_text("utf-8") == "a file, not a folder"
