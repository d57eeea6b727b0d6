"""Property tests: no input, however broken, makes the front half of the pipeline raise.

Every content file and every book.toml, as any text or any bytes, must come back
as diagnostics; Markdown built from the pieces of the notes' format must too.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from publisher.core import model as m
from publisher.core.diagnostics import CODES, Diagnostic
from publisher.core.model import Loaded
from publisher.pipeline import load
from publisher.read.reader import read_chapter

from conftest import make_book

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _load_files(files: dict[str, str | bytes]) -> Loaded:
    tmp = Path(tempfile.mkdtemp(prefix="publisher-prop-"))
    try:
        return load(make_book(tmp, files))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _check_loaded(loaded: Loaded) -> None:
    assert isinstance(loaded.book, m.Book)
    assert all(isinstance(c, m.Card) for c in loaded.cards)
    assert all(isinstance(d, Diagnostic) for d in loaded.diagnostics)
    for d in loaded.diagnostics:
        assert d.code in CODES
        assert d.severity in ("error", "warning", "note")
        assert isinstance(d.line, int) and d.line >= 0
        assert str(d).startswith(f"{d.file}:{d.line}: {d.code} ")


def _check_chapter(chapter: m.Chapter, diags: list) -> None:
    assert isinstance(chapter, m.Chapter)
    assert all(isinstance(d, Diagnostic) for d in diags)
    assert all(isinstance(b, m.BLOCK_TYPES) for b in chapter.blocks)


# --------------------------------------------------------------------------- any text, any bytes


@SETTINGS
@given(st.text(max_size=400))
def test_any_text_as_a_chapter(text: str) -> None:
    chapter, diags = read_chapter(text.encode("utf-8", "surrogatepass"), "content/01-a.md", "a")
    _check_chapter(chapter, diags)
    _check_loaded(_load_files({"01-a.md": text.encode("utf-8", "surrogatepass")}))


@SETTINGS
@given(st.binary(max_size=400))
def test_any_bytes_as_a_chapter(raw: bytes) -> None:
    chapter, diags = read_chapter(raw, "content/01-a.md", "a")
    _check_chapter(chapter, diags)
    _check_loaded(_load_files({"01-a.md": raw}))


@SETTINGS
@given(st.one_of(st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")), st.binary(max_size=300)))
def test_any_book_toml(raw: bytes) -> None:
    _check_loaded(_load_files({"01-a.md": "# A\n\n- **Term** - text\n", "book.toml": raw}))


TOML_KEYS = ["title", "subtitle", "short_name", "author", "language", "version", "date", "license", "subdecks",
             "keep_removed", "paper", "columns", "page_budget", "max_answer_words", "ids", "titel", "x"]
TOML_VALUES = st.sampled_from(['"x"', '""', "0", "-1", "7", "99999999999999999999", "true", "1.5", "[]", "{}",
                               '"a4"', '"letter"', "{deck = 1}", '{epub = 3, deck = "x", dekc = 1}', "2018-10-05"])


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(TOML_KEYS), TOML_VALUES), max_size=8),
       st.lists(st.tuples(st.sampled_from(["deck", "basic_model", "cloze_model", "epub", "dekc"]), TOML_VALUES), max_size=5))
def test_book_toml_from_its_keys(top: list[tuple[str, str]], ids: list[tuple[str, str]]) -> None:
    lines = [f"{k} = {v}" for k, v in top]
    if ids:
        lines.append("[ids]")
        lines += [f"{k} = {v}" for k, v in ids]
    _check_loaded(_load_files({"01-a.md": "# A\n\ntext\n", "book.toml": "\n".join(lines) + "\n"}))


# --------------------------------------------------------------------------- the format's own pieces

WORDS = st.sampled_from(["alpha", "beta", "DynamoDB", "S3", "the", "queue", "x", "Lambda", "is", "fast", "-", ":",
                         "==", "**", "`", "[^1]", "<br>", "*", "_", "\\", "?", "!", "|", "#", ">", "1."])
PHRASE = st.lists(WORDS, min_size=1, max_size=6).map(" ".join)
INLINE = st.one_of(
    PHRASE,
    PHRASE.map(lambda p: f"=={p}=="),
    PHRASE.map(lambda p: f"**{p}**"),
    PHRASE.map(lambda p: f"`{p}`"),
    PHRASE.map(lambda p: f"[{p}](#{p.replace(' ', '-')})"),
    PHRASE.map(lambda p: f"![{p}](img.png)"),
    st.sampled_from(["<kbd>Ctrl</kbd>", "<script>x</script>", "<span onclick='x'>y</span>", "<!-- id: pin-1 -->",
                     "<!-- id: Bad Pin -->", "[x](javascript:alert(1))", "[^1]", "[^nope]", "====", "== ==", "<!--"]),
)
LINE = st.lists(INLINE, min_size=1, max_size=4).map(" ".join)
BLOCK = st.one_of(
    st.integers(1, 6).flatmap(lambda n: LINE.map(lambda t: "#" * n + " " + t)),
    LINE.map(lambda t: t + "?").map(lambda t: "## " + t),
    st.lists(LINE, min_size=1, max_size=4).map(lambda ls: "\n".join("- " + x for x in ls)),
    st.lists(st.tuples(LINE, st.lists(LINE, max_size=3)), min_size=1, max_size=3).map(
        lambda items: "\n".join("- " + a + "".join("\n    - " + b for b in kids) for a, kids in items)),
    st.tuples(PHRASE, LINE).map(lambda t: f"- **{t[0]}** - {t[1]}"),
    st.tuples(PHRASE, LINE).map(lambda t: f"- {t[0]} - {t[1]}"),
    st.tuples(PHRASE, LINE).map(lambda t: f"**{t[0]}**: {t[1]}"),
    st.lists(LINE, min_size=1, max_size=3).map(lambda ls: "\n".join(f"{i}. {x}" for i, x in enumerate(ls, 1))),
    st.tuples(st.sampled_from(["NOTE", "TIP", "IMPORTANT", "WARNING", "CAUTION", "note", "BOGUS"]), LINE).map(
        lambda t: f"> [!{t[0]}]\n> {t[1]}"),
    LINE.map(lambda t: "> " + t),
    st.tuples(st.sampled_from(["", "python", "json", "nosuchlang"]), LINE, st.booleans()).map(
        lambda t: f"```{t[0]}\n{t[1]}\n" + ("```" if t[2] else "")),
    st.tuples(PHRASE, PHRASE, LINE, LINE).map(lambda t: f"| {t[0]} | {t[1]} |\n|---|:-:|\n| {t[2]} | {t[3]} |"),
    st.sampled_from(["<div>raw</div>", "<script>alert(1)</script>", "<iframe src='x'></iframe>", "<!-- comment -->",
                     "<!-- never closed", "---", "[^1]: a footnote", "[^z]: unused", "-", "- ", "1.", "<style>p{}</style>"]),
    LINE,
)
DOC = st.tuples(st.booleans(), st.lists(BLOCK, max_size=10), st.sampled_from(["\n\n", "\n", "\r\n\r\n"])).map(
    lambda t: ("# Title\n\n" if t[0] else "") + t[2].join(t[1]) + "\n")


@SETTINGS
@given(DOC, DOC)
def test_markdown_from_the_formats_pieces(first: str, second: str) -> None:
    chapter, diags = read_chapter(first.encode("utf-8"), "content/01-a.md", "a")
    _check_chapter(chapter, diags)
    loaded = _load_files({"01-a.md": first, "02-b.md": second, "img.png": b"\x89PNG\r\n"})
    _check_loaded(loaded)
    for d in loaded.diagnostics:
        if d.code not in ("P005", "P006"):
            assert d.file.endswith(("01-a.md", "02-b.md")), d
