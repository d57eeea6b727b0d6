"""Every validation rule: it fires on a small inline fixture with the right file and line,
and stays quiet once the fixture is corrected.

The fixtures are written into ``tmp_path/content`` and read with the working directory at
``tmp_path``, so diagnostics name ``content/01-a.md`` exactly as ``publisher check`` would.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from publisher.core.diagnostics import CODES, Diagnostic
from publisher.pipeline import load
from publisher.check.validate import html_problems

from conftest import TINY_PNG, make_book

TOML = 'title = "Test Book"\n[ids]\ndeck = 1\nbasic_model = 2\ncloze_model = 3\nepub = "urn:uuid:x"\n'
LONG_ANSWER = " ".join(["word"] * 130)


@pytest.fixture
def check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """``check({"01-a.md": "..."})`` -> the diagnostics of ``publisher check`` on that book."""
    monkeypatch.chdir(tmp_path)

    def run(files: dict[str, str | bytes], toml: str | None = TOML) -> list[Diagnostic]:
        if toml is not None:
            files = {"book.toml": toml, **files}
        folder = make_book(tmp_path, files)
        return load(folder.relative_to(tmp_path)).diagnostics

    return run


def codes(diags: list[Diagnostic]) -> list[str]:
    return [d.code for d in diags]


def where(diags: list[Diagnostic], code: str) -> list[tuple[str, int]]:
    return [(d.file, d.line) for d in diags if d.code == code]


# (id, bad chapter, code, line, corrected chapter); the chapter is content/01-a.md
CASES = [
    ("P101-no-h1", "Some text\n\n## Sec\n\nmore text\n", "P101", 1, "# T\n\nSome text\n\n## Sec\n\nmore text\n"),
    ("P101-h1-after-section", "## Sec\n\ntext\n\n# Title\n\nmore\n", "P101", 5, "# Title\n\n## Sec\n\ntext\n\nmore\n"),
    ("P102-two-h1", "# A\n\ntext\n\n# B\n\nmore\n", "P102", 5, "# A\n\ntext\n\n## B\n\nmore\n"),
    ("P103-h1-to-h4", "# A\n\ntext\n\n#### Deep\n\ntext\n", "P103", 5, "# A\n\ntext\n\n## Deep\n\ntext\n"),
    ("P103-h2-to-h4", "# A\n\n## B\n\nx\n\n#### C\n\ny\n", "P103", 7, "# A\n\n## B\n\nx\n\n### C\n\ny\n"),
    # the same term under two headings (under one heading it is one front asking two things: P130)
    ("P104-same-term", "# A\n\n## X\n\n- **Term** - one\n\n## Y\n\n- **Term** - two\n", "P104", 9,
     "# A\n\n## X\n\n- **Term** - one\n\n## Y\n\n- **Term** - two <!-- id: term-two -->\n"),
    ("P104-same-marks", "# A\n\nThe ==cat== sat.\n\nA ==cat== ran.\n", "P104", 5, "# A\n\nThe ==cat== sat.\n\nA ==dog== ran.\n"),
    ("P119-same-pin", "# A\n\n- **One** - a <!-- id: same -->\n- **Two** - b <!-- id: same -->\n", "P119", 4,
     "# A\n\n- **One** - a <!-- id: one -->\n- **Two** - b <!-- id: two -->\n"),
    ("P105-empty-section", "# A\n\n## Empty\n\n## Full\n\ntext\n", "P105", 3, "# A\n\n## Empty\n\nnow full\n\n## Full\n\ntext\n"),
    ("P105-empty-last", "# A\n\ntext\n\n## Last\n", "P105", 5, "# A\n\ntext\n\n## Last\n\nbody\n"),
    ("P106-empty-item", "# A\n\n- one\n-\n- three\n", "P106", 4, "# A\n\n- one\n- two\n- three\n"),
    ("P106-empty-nested", "# A\n\n- one\n    - two\n    -\n", "P106", 5, "# A\n\n- one\n    - two\n    - three\n"),
    ("P107-empty-mark", "# A\n\ntext ==` `== here\n", "P107", 3, "# A\n\ntext ==here== now\n"),
    ("P107-mark-of-html", "# A\n\nsome\n\ntext ==<span></span>== here\n", "P107", 5, "# A\n\nsome\n\ntext ==<span>a</span>== here\n"),
    ("P107-four-equals", "# A\n\ntext ==== here\n", "P107", 3, "# A\n\ntext == here\n"),
    ("P107-spaced-equals", "# A\n\nsome\n\ntext == == here\n", "P107", 5, "# A\n\nsome\n\ntext ==x== here\n"),
    ("P108-no-body", "# A\n\n- ok item\n- **Term** -\n", "P108", 4, "# A\n\n- ok item\n- **Term** - its body\n"),
    ("P108-colon", "# A\n\n**Term**:\n", "P108", 3, "# A\n\n**Term**: body\n"),
    ("P109-duplicate-fact", "# A\n\nThis sentence is long enough to count.\n\nThis sentence is long enough to count.\n", "P109", 5,
     "# A\n\nThis sentence is long enough to count.\n\nThis other sentence is long enough too.\n"),
    ("P110-script-inline", "# A\n\ntext <script>alert(1)</script>\n", "P110", 3, "# A\n\ntext <kbd>Ctrl</kbd>\n"),
    ("P110-iframe-block", "# A\n\ntext\n\n<iframe src=x></iframe>\n", "P110", 5, "# A\n\ntext\n\n<!-- a note -->\n"),
    ("P110-object", "# A\n\n<object data=x></object>\n", "P110", 3, "# A\n\n<sub>2</sub>\n"),
    ("P110-style-tag", "# A\n\ntext\n\n<style>p { color: red }</style>\n", "P110", 5, "# A\n\ntext\n"),
    ("P110-event-handler", "# A\n\nsome\n\ntext <span onclick='x()'>a</span>\n", "P110", 5, "# A\n\nsome\n\ntext <span title='x'>a</span>\n"),
    ("P110-svg-data-picture", '# A\n\n<img src="data:image/svg+xml;base64,PHN2Zz4=">\n', "P110", 3, "# A\n\n<sub>2</sub>\n"),
    ("P128-unknown-tag", "# A\n\ntext <marquee>bold</marquee>\n", "P128", 3, "# A\n\ntext <b>bold</b>\n"),
    ("P110-after-comment", "# A\n\n<!-- note --><script>alert(1)</script>\n", "P110", 3, "# A\n\n<!-- note -->\n"),
    ("P110-second-line", "# A\n\nfirst line\nsecond <script>x</script>\n", "P110", 4, "# A\n\nfirst line\nsecond line\n"),
    ("P111-missing-image", "# A\n\n![alt](missing.png)\n", "P111", 3, "# A\n\n![alt](present.png)\n"),
    ("P112-parent-image", "# A\n\ntext\n\n![alt](../x.png)\n", "P112", 5, "# A\n\ntext\n\n![alt](present.png)\n"),
    ("P111-root-image", "# A\n\n![alt](/etc/passwd)\n", "P111", 3, "# A\n\n![alt](/present.png)\n"),
    ("P112-parent-link", "# A\n\n[secret](../secret.txt)\n", "P112", 3, "# A\n\n[present](present.png)\n"),
    ("P126-remote-image", "# A\n\n![alt](https://example.com/y.png)\n", "P126", 3, "# A\n\n![alt](present.png)\n"),
    ("P126-protocol-relative", "# A\n\n![alt](//cdn.example.com/y.png)\n", "P126", 3, "# A\n\n![alt](present.png)\n"),
    ("P113-javascript", "# A\n\n[click](javascript:alert(1))\n", "P113", 3, "# A\n\n[click](https://example.com/)\n"),
    ("P113-data", "# A\n\ntext\n\n[b](data:text/html,x)\n", "P113", 5, "# A\n\ntext\n\n[b](mailto:a@example.com)\n"),
    ("P113-file", "# A\n\n[c](file:///etc/passwd)\n", "P113", 3, "# A\n\n[c](http://example.com)\n"),
    ("P114-anchor", "# A\n\n## Real Section\n\n[x](#nope)\n", "P114", 5, "# A\n\n## Real Section\n\n[x](#real-section)\n"),
    ("P114-chapter", "# A\n\n[y](03-missing.md)\n", "P114", 3, "# A\n\n[y](02-b.md)\n"),
    ("P114-chapter-anchor", "# A\n\ntext\n\n[y](02-b.md#nope)\n", "P114", 5, "# A\n\ntext\n\n[y](02-b.md#other-section)\n"),
    ("P114-file", "# A\n\n[z](nofile.txt)\n", "P114", 3, "# A\n\n[z](present.png)\n"),
    ("P001-not-utf8", b"# A\n\ntext \xff here\n", "P001", 3, "# A\n\ntext \u00ff here\n"),
    ("P002-control", "# A\n\ntext \x07 here\n", "P002", 3, "# A\n\ntext here\n"),
    ("P007-carriage-returns", "# A\r\rtext\r", "P007", 1, "# A\n\ntext\n"),
    ("P115-long-answer", f"# A\n\n- **Term** - {LONG_ANSWER}\n", "P115", 3, "# A\n\n- **Term** - a short answer\n"),
    ("P116-misspelling", "# A\n\nThe quikc brown fox.\n", "P116", 3, "# A\n\nThe quick brown fox.\n"),
    ("P116-wrapped-paragraph", "# A\n\n- an item that\n  wraps ontoo the next line\n", "P116", 4,
     "# A\n\n- an item that\n  wraps onto the next line\n"),
    ("P118-fence", "# A\n\ntext\n\n```python\ncode = 1\n", "P118", 5, "# A\n\ntext\n\n```python\ncode = 1\n```\n"),
    ("P118-tilde-fence", "# A\n\n~~~\ncode\n", "P118", 3, "# A\n\n~~~\ncode\n~~~\n"),
    ("P118-loose-mark", '# A\n\n- Read top down: =="If Q holds, P holds." ==\n', "P118", 3,
     '# A\n\n- Read top down: =="If Q holds, P holds."==\n'),
    ("P127-data-picture", '# A\n\nBefore <img src="data:image/png;base64,iVBORw0KGgo=" alt="a diagram"> after.\n', "P127", 3,
     '# A\n\nBefore ![a diagram](present.png) after.\n'),
    ("P129-comment", "# A\n\ntext\n\n<!-- never closed\n\nmore\n", "P129", 5, "# A\n\ntext\n\n<!-- closed -->\n\nmore\n"),
    ("P119-bad-pin", "# A\n\n- **Term** - body <!-- id: Bad Id! -->\n", "P119", 3, "# A\n\n- **Term** - body <!-- id: good-id -->\n"),
    ("P122-empty-file", "", "P122", 1, "# A\n\ntext\n"),
    ("P122-blank-file", " \n\n\t\n", "P122", 1, "# A\n\ntext\n"),
    ("P123-unused-footnote", "# A\n\ntext\n\n[^note]: a note\n", "P123", 5, "# A\n\ntext[^note]\n\n[^note]: a note\n"),
    ("P123-footnote-defined-twice", "# A\n\ntext[^n]\n\n[^n]: a note\n[^n]: another\n", "P123", 6,
     "# A\n\ntext[^n]\n\n[^n]: a note\n"),
    ("P124-undefined-footnote", "# A\n\nsome\n\ntext[^x]\n", "P124", 5, "# A\n\nsome\n\ntext[^x]\n\n[^x]: defined\n"),
    ("P125-too-many-clozes", "# A\n\n" + " ".join(f"w{i} ==x{i}==" for i in range(25)) + "\n", "P125", 3, "# A\n\n==one== two\n"),
]
OTHER = {
    "02-b.md": "# B\n\n## Other Section\n\ntext\n",
    "present.png": TINY_PNG,
}


@pytest.mark.parametrize(("bad", "code", "line", "good"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule_fires_at_its_line(check, bad: str | bytes, code: str, line: int, good: str) -> None:
    if code not in CODES:
        pytest.skip(f"{code} is not defined")
    diags = check({"01-a.md": bad, **OTHER})
    assert ("content/01-a.md", line) in where(diags, code), [str(d) for d in diags]
    assert all(d.severity == CODES[code][0] for d in diags if d.code == code)


@pytest.mark.parametrize(("bad", "code", "line", "good"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule_is_quiet_when_corrected(check, bad: str | bytes, code: str, line: int, good: str) -> None:
    diags = check({"01-a.md": good, **OTHER})
    assert code not in codes(diags), [str(d) for d in diags]


def test_a_good_book_has_no_diagnostics(check) -> None:
    chapter = (
        "# Queues\n\n"
        "Queues hold ==messages== until a consumer reads them.\n\n"
        "## Basics\n\n"
        "- **Visibility timeout** - how long a received message stays hidden\n"
        "    - the default is thirty seconds\n"
        "- Dead letter queue - where failing messages go\n"
        "- a message can be read ==more than once==\n\n"
        "### What is long polling?\n\n"
        "Waiting for a message to arrive before answering.[^1]\n\n"
        "> [!NOTE]\n> The limit was raised later.\n\n"
        "| size | limit |\n|---|---|\n| message | 256 KB |\n\n"
        "```python\nprint(1)\n```\n\n"
        "See [the basics](#basics), [the other chapter](02-b.md#other-section) and ![a picture](present.png).\n\n"
        "Press <kbd>Enter</kbd> to copy. <!-- an author's note -->\n\n"
        "[^1]: As opposed to short polling.\n"
    )
    diags = check({"01-a.md": chapter, **OTHER})
    assert diags == [], [str(d) for d in diags]


def test_every_problem_is_reported_at_once(check) -> None:
    chapter = "# A\n\n#### Deep\n\n- one\n-\n\ntext <script>x</script> ![i](missing.png)\n"
    diags = check({"01-a.md": chapter})
    assert {("P103", 3), ("P106", 6), ("P110", 8), ("P111", 8)} <= {(d.code, d.line) for d in diags}


def test_diagnostics_point_into_the_right_file(check) -> None:
    diags = check({"01-a.md": "# A\n\ngood\n", "02-b.md": "# B\n\ntext\n\n# Again\n\nmore\n"})
    assert where(diags, "P102") == [("content/02-b.md", 5)]


def test_symlink_out_of_the_folder_is_refused(check, tmp_path: Path) -> None:
    (tmp_path / "outside.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / "content").mkdir()
    try:
        os.symlink(tmp_path / "outside.png", tmp_path / "content" / "inside.png")
    except OSError:
        pytest.skip("symlinks are not supported here")
    diags = check({"01-a.md": "# A\n\ntext\n\n![alt](inside.png)\n"})
    assert where(diags, "P112") == [("content/01-a.md", 5)]
    assert "P111" not in codes(diags)


def test_symlink_inside_the_folder_is_fine(check, tmp_path: Path) -> None:
    (tmp_path / "content" / "images").mkdir(parents=True)
    (tmp_path / "content" / "images" / "real.png").write_bytes(TINY_PNG)
    os.symlink(tmp_path / "content" / "images" / "real.png", tmp_path / "content" / "alias.png")
    diags = check({"01-a.md": "# A\n\n![alt](alias.png) ![b](images/real.png)\n"})
    assert not {"P111", "P112", "P113"} & set(codes(diags)), [str(d) for d in diags]


def test_wordlist_accepts_words(check) -> None:
    bad = {"01-a.md": "# A\n\nThe quikc brown fox and the zorblax recieved.\n"}
    # 'zorblax' is far from every English word: a term, not a typo
    assert sorted(d.message.split("'")[1] for d in check(bad) if d.code == "P116") == ["quikc", "recieved"]
    diags = check({**bad, "wordlist.txt": "# words\nquikc\nRecieved\n"})
    assert "P116" not in codes(diags), [str(d) for d in diags]


def test_misspelling_is_reported_once_with_a_hint(check) -> None:
    diags = check({"01-a.md": "# A\n\nThe quikc fox.\n\nAnother quikc fox.\n"})
    found = [d for d in diags if d.code == "P116"]
    assert len(found) == 1 and found[0].line == 3 and "did you mean 'quick'" in found[0].message
    assert found[0].severity == "warning"


def test_long_answer_limit_comes_from_book_toml(check) -> None:
    chapter = "# A\n\n- **Term** - " + " ".join(["word"] * 30) + "\n"
    assert "P115" not in codes(check({"01-a.md": chapter}))
    diags = check({"01-a.md": chapter}, toml=TOML.replace("[ids]", "max_answer_words = 20\n[ids]"))
    assert where(diags, "P115") == [("content/01-a.md", 3)]


def test_question_card_answer_is_measured(check) -> None:
    chapter = "# A\n\n## Why?\n\n" + " ".join(["word"] * 130) + "\n"
    assert where(check({"01-a.md": chapter}), "P115") == [("content/01-a.md", 3)]


# --------------------------------------------------------------------------- book.toml


def toml_diags(check, toml: str | bytes | None) -> list[Diagnostic]:
    return check({"01-a.md": "# A\n\ntext\n"}, toml=toml)


def test_no_book_toml_is_a_note(check) -> None:
    diags = toml_diags(check, None)
    assert [(d.file, d.line, d.code, d.severity) for d in diags] == [("content/book.toml", 0, "P006", "note")]


def test_book_toml_without_ids_is_a_note(check) -> None:
    diags = toml_diags(check, 'title = "X"\n')
    assert [(d.code, d.severity) for d in diags] == [("P006", "note")]


@pytest.mark.parametrize(
    ("toml", "line", "words"),
    [
        ('title = 3\n[ids]\ndeck = 1\n', 1, "'title' must be a string"),
        ('title = "x"\ncolumns = "three"\n[ids]\ndeck = 1\n', 2, "'columns' must be a whole number"),
        ('title = "x"\nsubdecks = 1\n[ids]\ndeck = 1\n', 2, "'subdecks' must be a true/false"),
        ('title = "x"\nmax_answer_words = true\n[ids]\ndeck = 1\n', 2, "'max_answer_words' must be a whole number"),
        ('title = "x"\nids = 3\n', 2, "'ids' must be a table"),
        ('title = "x"\n[ids]\ndeck = "a"\n', 3, "'ids.deck' must be a whole number"),
        ('title = "x"\n[ids]\ndeck = 1\nepub = 3\n', 4, "'ids.epub' must be a string"),
        ('title = "x"\n[ids]\ndeck = 0\n', 3, "positive 64-bit integer"),
        ('title = "x"\npaper = "b5"\n[ids]\ndeck = 1\n', 2, "'paper' must be 'a4' or 'letter'"),
        ('title = "x"\ncolumns = 9\n[ids]\ndeck = 1\n', 2, "'columns' must be between 1 and 6"),
        ('title = "x"\n"columns" = 9\n[ids]\ndeck = 1\n', 2, "'columns' must be between 1 and 6"),
        ('title = "x"\ncolumnsx = 1\n\'columns\' = 9\n[ids]\ndeck = 1\n', 3, "'columns' must be"),
        ('title = "x\n', 1, "invalid book.toml"),
        ('title = "x"\n\n[ids\n', 3, "invalid book.toml"),
    ],
)
def test_book_toml_wrong_types_are_errors(check, toml: str, line: int, words: str) -> None:
    diags = toml_diags(check, toml)
    found = [d for d in diags if d.code == "P004"]
    assert [(d.file, d.line, d.severity) for d in found] == [("content/book.toml", line, "error")], [str(d) for d in diags]
    assert words in found[0].message


@pytest.mark.parametrize(
    ("toml", "line", "key", "hint"),
    [
        ('titel = "x"\n[ids]\ndeck = 1\n', 1, "titel", "title"),
        ('title = "x"\nauthr = "me"\n[ids]\ndeck = 1\n', 2, "authr", "author"),
        ('title = "x"\n[ids]\ndekc = 5\n', 3, "ids.dekc", "deck"),
    ],
)
def test_book_toml_unknown_keys_warn_with_a_hint(check, toml: str, line: int, key: str, hint: str) -> None:
    found = [d for d in toml_diags(check, toml) if d.code == "P008"]
    assert [(d.file, d.line, d.severity) for d in found] == [("content/book.toml", line, "warning")]
    assert f"'{key}'" in found[0].message and f"did you mean '{hint}'" in found[0].message


def test_book_toml_unknown_key_without_a_close_match_has_no_hint(check) -> None:
    found = [d for d in toml_diags(check, 'title = "x"\nzzzzqqq = 1\n[ids]\ndeck = 1\n') if d.code == "P008"]
    assert len(found) == 1 and "did you mean" not in found[0].message


def test_book_toml_not_utf8(check) -> None:
    diags = toml_diags(check, b'title = "\xff"\n')
    assert where(diags, "P001") == [("content/book.toml", 1)]


def test_book_toml_values_reach_the_meta(tmp_path: Path) -> None:
    folder = make_book(tmp_path, {
        "01-a.md": "# A\n\ntext\n",
        "book.toml": TOML.replace("[ids]", 'short_name = "TB"\npaper = "letter"\ncolumns = 2\n[ids]'),
    })
    loaded = load(folder)
    meta = loaded.book.meta
    assert (meta.title, meta.short_name, meta.slug, meta.paper, meta.columns) == ("Test Book", "TB", "test-book", "letter", 2)
    assert (meta.ids.deck, meta.ids.basic_model, meta.ids.cloze_model, meta.ids.epub) == (1, 2, 3, "urn:uuid:x")
    assert loaded.diagnostics == []


def test_ids_are_derived_from_the_title_when_missing(tmp_path: Path) -> None:
    a = load(make_book(tmp_path / "a", {"01-a.md": "# A\n\nx\n", "book.toml": 'title = "Same"\n'})).book.meta.ids
    b = load(make_book(tmp_path / "b", {"01-a.md": "# A\n\nx\n", "book.toml": 'title = "Same"\n'})).book.meta.ids
    c = load(make_book(tmp_path / "c", {"01-a.md": "# A\n\nx\n", "book.toml": 'title = "Other"\n'})).book.meta.ids
    assert a == b and a.deck != c.deck
    assert len({a.deck, a.basic_model, a.cloze_model}) == 3 and a.epub.startswith("urn:uuid:")


# --------------------------------------------------------------------------- the folder


def test_no_chapters(check) -> None:
    diags = check({"notes.txt": "not markdown"})
    assert "P005" in codes(diags)


def test_html_allow_list() -> None:
    assert html_problems("<kbd>x</kbd>") == []
    assert html_problems("<span title='t'>x</span>") == []
    assert html_problems("</span>") == []
    assert html_problems("<!-- a note -->") == []
    assert any("never allowed" in p for p in html_problems("<SCRIPT>x</SCRIPT>"))
    assert any("event handler" in p for p in html_problems("<span onmouseover='x'>a</span>"))
    assert any("unsafe URL" in p for p in html_problems("<span title='javascript:x'>a</span>"))
    for tag in ("script", "iframe", "object", "embed", "style", "svg", "form"):
        assert any(f"<{tag}> is never allowed" == p for p in html_problems(f"<{tag}>")), tag


def test_the_content_format_lists_every_diagnostic_code() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "content-format.md").read_text("utf-8")
    for code, (severity, headline) in CODES.items():
        assert f"| {code} | {severity} | {headline} |" in doc, code


def test_spelling_skips_what_is_not_prose_and_the_authors_vocabulary(check) -> None:
    text = ("# A\n\nThe kubectl tool doesn\u2019t parse https://s3.amazonaws.com/bucket or config.yaml or x86_64 or "
            "CamelCase or NACLs.\n\nA subnett here, a subnett there, a subnett everywhere.\n\n"
            "We use multi-attach and `recieve` in code and a recieve typo.\n")
    found = {d.message.split("'")[1]: d for d in check({"01-a.md": text}) if d.code == "P116"}
    assert list(found) == ["recieve"]  # 'subnett' three times: the author's word, not a slip
    assert "(once; did you mean 'receive'?)" in found["recieve"].message and found["recieve"].line == 7


def test_spelling_counts_how_often_a_word_occurs(check) -> None:
    found = [d for d in check({"01-a.md": "# A\n\nThe recieve step.\n\nAnother recieve.\n"}) if d.code == "P116"]
    assert len(found) == 1 and "(2 times;" in found[0].message and found[0].line == 3


def test_image_only_items_are_not_empty_and_code_lines_are_no_repeated_facts(check) -> None:
    code = "```js\nconst answer = computeTheAnswerOnce(42);\n```\n"
    diags = check({"01-a.md": f"# A\n\n- ![](present.png)\n- text\n\n{code}", "02-b.md": f"# B\n\n{code}", "present.png": TINY_PNG})
    assert not [d for d in diags if d.code in ("P106", "P109")], [str(d) for d in diags]


def test_notes_in_another_language_are_not_spell_checked_word_by_word(check) -> None:
    italian = ("Le istanze sono macchine virtuali che girano nel cloud e possono essere avviate rapidamente. "
               "Ogni istanza ha un tipo che definisce la memoria, il processore e la rete disponibile. ") * 3
    italian += " ".join(f"parola{chr(97 + i % 26)}{chr(97 + i // 26)}" for i in range(60))
    diags = check({"01-a.md": f"# A\n\n{italian}\n"})
    assert [d.code for d in diags if d.code in ("P013", "P116")] == ["P013"]


def test_british_spellings_are_words(check) -> None:
    diags = check({"01-a.md": "# A\n\nWe organise the colour of the catalogue and recognise honour.\n"})
    assert not [d for d in diags if d.code == "P116"], [str(d) for d in diags]


def test_a_link_to_a_page_left_out_of_the_book_is_no_broken_link(check) -> None:
    diags = check({"01-a.md": "# A\n\nSee [how to help](CONTRIBUTING.md) and [gone](GONE.md).\n", "CONTRIBUTING.md": "# Help\n"})
    assert [(d.code, d.message.split(": ", 1)[1]) for d in diags if d.code == "P114"] == [("P114", "no file 'GONE.md'")]


def test_a_formula_that_does_not_parse_is_a_warning_at_its_line_and_math_is_not_spell_checked(tmp_path) -> None:
    content = make_book(tmp_path, {"01-a.md": "# A\n\nGood $\\lim_{x \\to 0} \\frac{\\sin x}{x}$ here.\n\nBad: $x^$ here.\n"})
    diags = load(content).diagnostics
    assert [(d.code, d.severity, d.line) for d in diags if d.code == "P139"] == [("P139", "warning", 5)]
    assert not [d for d in diags if d.code == "P116"]  # frac, lim, sin: TeX, not words
