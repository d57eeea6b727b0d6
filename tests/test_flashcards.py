"""Flashcards people already wrote (publisher.read.flashcards): Obsidian's Spaced Repetition plugin format,
its decks from tags, Anki's own cloze syntax, other tools' markers.

tests/fixtures/srvault is a small vault written for the plugin (its quirks: a tag line above the title, list
items that are cards, review comments on the next line, a card commented out, `::` in code and in names, a
question-specific deck tag, two deck tags on one line, deletion hints and groups). Its deck is imported into
Anki and every card is compared with the cards the plugin makes from the same files."""

from __future__ import annotations

import anki.collection  # noqa: F401  (before the other anki modules)

import re
import subprocess
import zipfile
from pathlib import Path

import lxml.html
import pytest

from anki_helpers import card_problems, import_apkg, new_collection
from conftest import build_and_check, make_book, run_publisher
from publisher import pipeline
from publisher.core import model as m
from publisher.core.text import block_text, plain_text
from publisher.read import flashcards
from publisher.read.reader import read_chapter

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "srvault"

# every card the plugin makes from the fixture (front, back, deck below the book's), and no other
PLUGIN_CARDS = {
    ("What is the powerhouse of the cell?", "The mitochondrion", "Biology::Cells"),
    ("Ribosome", "Where proteins are made", "Biology::Cells"),
    ("Where proteins are made", "Ribosome", "Biology::Cells"),
    ("What does the Golgi apparatus do?", "It modifies, sorts and packages proteins for secretion or for use in the cell.",
     "Biology::Cells"),
    ("Lysosome", "Digests waste with its enzymes", "Biology::Cells"),
    ("Peroxisome", "Breaks down fatty acids", "Biology::Cells"),
    ("The nucleus holds the cell's [...].", "The nucleus holds the cell's DNA.", "Biology::Cells"),
    ("Osmosis moves [...] across a membrane from low to high solute concentration.",
     "Osmosis moves water across a membrane from low to high solute concentration.", "Biology::Cells"),
    ("Osmosis moves water across a membrane from [...] to high solute concentration.",
     "Osmosis moves water across a membrane from low to high solute concentration.", "Biology::Cells"),
    ("Which way does diffusion go?", "From high to low concentration", "Biology::Transport"),
    ("Active transport needs [an energy carrier] and a carrier protein.",
     "Active transport needs ATP and a carrier protein.", "Biology::Cells"),
    ("Active transport needs ATP and a [...].", "Active transport needs ATP and a carrier protein.", "Biology::Cells"),
    ("to be (permanent)", "ser", "Spanish"),
    ("to be (temporary)", "estar", "Spanish"),
    ("Conjugate tener in the present tense", "tengo, tienes, tiene, tenemos, tenéis, tienen", "Spanish"),
    ("tengo, tienes, tiene, tenemos, tenéis, tienen", "Conjugate tener in the present tense", "Spanish"),
    ('The verb [...] means to go; [...] is its first person. Vamos is "we go".',
     'The verb ir means to go; voy is its first person. Vamos is "we go".', "Spanish"),
    ('The verb ir means to go; voy is its first person. [...] is "we go".',
     'The verb ir means to go; voy is its first person. Vamos is "we go".', "Spanish"),
}


def _part(html: str, cls: str) -> str:
    """The words of the card's element of class ``cls`` (its question or its answer)."""
    found = lxml.html.fromstring(html).xpath(f'//div[@class="{cls}"]')
    return " ".join(found[-1].text_content().split()) if found else ""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return build_and_check(FIXTURE, "srvault", tmp_path_factory.mktemp("srvault"))


@pytest.mark.slow
def test_the_deck_holds_every_card_the_plugin_makes_and_no_other(built: dict, tmp_path: Path) -> None:
    assert built["build"].returncode == 0, built["build"].stdout + built["build"].stderr
    col = new_collection(tmp_path / "col")
    try:
        import_apkg(col, built["out"] / "srvault.apkg")
        assert card_problems(col) == []
        got = set()
        for cid in col.find_cards(""):
            card = col.get_card(cid)
            deck = col.decks.name(card.did).split("::", 1)[1]
            basic = card.note_type()["type"] == 0
            got.add((_part(card.question(), "pub-question"),
                     _part(card.answer(), "pub-answer" if basic else "pub-question"), deck))
        assert len(col.find_cards("")) == len(PLUGIN_CARDS)
        assert got == PLUGIN_CARDS
        # the second deck tag on Spanish's line is the cards' Anki tag; the deck tags are no tags of their own
        spanish = col.find_notes('"deck:Srvault::Spanish"')
        assert spanish and all("flashcards::Vocabulary" in col.get_note(n).tags for n in spanish)
        assert not any(t.lower().startswith("flashcards::biology") for t in col.tags.all())
    finally:
        col.close()


@pytest.mark.slow
def test_the_sheet_and_the_epub_show_questions_and_answers_without_separators(built: dict) -> None:
    out = built["out"]
    sheet = subprocess.run(["pdftotext", "-layout", str(out / "srvault-cheatsheet.pdf"), "-"],
                           capture_output=True, text=True, check=True).stdout
    with zipfile.ZipFile(out / "srvault.epub") as z:
        chapters = {n: z.read(n).decode() for n in z.namelist() if n.endswith(".xhtml") and "cell" in n.lower()}
    (xhtml,) = chapters.values()
    body = re.sub(r"<[^>]+>", " ", xhtml.split("check_yourself")[0])
    for text in (sheet, body):
        assert "Where proteins are made" in text and "The mitochondrion" in text
        for written in ("cell?::", "Ribosome:::", "Lysosome::", "Peroxisome::", "permanent)::", "go?::"):
            assert written not in text
        assert "AWS::CloudFormation::Stack" in text
        assert not re.search(r"^\s*\?\??\s*$", text, re.M)  # no separator line
        assert "#flashcards" not in text and "SR:" not in text
        assert "Endocytosis" not in text  # commented out
    assert "status:: to read" in " ".join(sheet.split())  # an untagged file's Dataview field is text
    assert '<div class="flashcard-front">' in xhtml
    quiz = xhtml.split("quiz-questions")[1]
    assert "What is the powerhouse of the cell?" in quiz and "Which way does diffusion go?" in quiz
    assert "What does the Golgi apparatus do?" in sheet
    assert built["check"]["summary"]["errors"] == 0
    assert {d["code"] for d in built["check"]["diagnostics"]} <= {"P006", "P144"}


def _cards(tmp_path: Path, files: dict[str, str], toml: str = "") -> list[m.Card]:
    if toml:
        files = {**files, "book.toml": toml}
    return list(pipeline.load(make_book(tmp_path, files)).cards)


def _sides(card: m.Card) -> tuple[str, str]:
    return " ".join(block_text(b) for b in card.front), " ".join(block_text(b) for b in card.back)


def test_a_file_without_a_flashcard_tag_keeps_dataview_fields_as_text(tmp_path: Path) -> None:
    cards = _cards(tmp_path, {"books.md": "# Books\n\nstatus:: reading\nrating:: 4\n\n- Dune::Frank Herbert\n"})
    assert cards == []
    chapter, _ = read_chapter(b"# Books\n\nstatus:: reading\n", "books.md", "books")
    assert not chapter.flashcards
    assert "status:: reading" in block_text(chapter.blocks[0])


def test_names_and_code_in_a_tagged_file_are_not_cards(tmp_path: Path) -> None:
    cards = _cards(tmp_path, {"aws.md": "#flashcards\n\n# AWS\n\nThe type AWS::CloudFormation::Stack names a stack.\n\n"
                                        "In code, `Aws::S3` is a class and $a::b$ math.\n\nA stack::a set of resources\n"})
    assert [_sides(c) for c in cards] == [("A stack", "a set of resources")]


def test_the_front_matter_tag_makes_a_file_of_cards_and_names_its_deck(tmp_path: Path) -> None:
    cards = _cards(tmp_path, {"logic.md": "---\ntags: [flashcards/Logic]\n---\n# Logic\n\nModus ponens:::From P and P → Q, infer Q\n"
                                          "\nA **term** - with a dash is no card here.\n"})
    assert [(_sides(c), c.deck) for c in cards] == [
        (("Modus ponens", "From P and P → Q, infer Q"), "flashcards::Logic"),
        (("From P and P → Q, infer Q", "Modus ponens"), "flashcards::Logic"),
    ]
    assert cards[1].identity == cards[0].identity + "/reverse"


def test_tags_below_the_cards_still_name_their_deck_and_a_bare_tag_leaves_the_chapter_deck(tmp_path: Path) -> None:
    cards = _cards(tmp_path, {"a.md": "# A\n\nQ1::A1\n\n#flashcards/Later\n\nQ2::A2\n", "b.md": "# B\n\n#flashcards\n\nQ3::A3\n"})
    assert [(c.deck, c.chapter) for c in cards] == [("flashcards::Later", "a"), ("flashcards::Later", "a"), ("flashcards", "b")]


def test_a_multi_line_card_ends_at_the_blank_line_and_keeps_its_list_and_code(tmp_path: Path) -> None:
    cards = _cards(tmp_path, {"c.md": "#flashcards\n\n# C\n\nName the steps\n?\n- plan\n- do\n```\nrun()\n```\n\nAfter the card.\n"})
    (card,) = cards
    assert _sides(card)[0] == "Name the steps"
    assert [type(b).__name__ for b in card.back] == ["BulletList", "CodeBlock"]
    book = pipeline.load(tmp_path / "content").book
    assert "After the card." in block_text(book.chapters[0].blocks[-1])


def test_obsidian_block_ids_are_no_text_and_links_to_them_reach_their_section(tmp_path: Path) -> None:
    """A new user's vault: 14 cards written with a block id on the separator line (``? ^abs-rule``) made no
    card, and every ``^id`` showed as text in the EPUB. Obsidian shows none of them: the separator is a
    separator, the ids are no words anywhere (no P142 either), and ``[[note#^id]]`` reaches the section that
    holds the block; an id in code stays code."""
    files = {"roots.md": "#flashcards\n\n# Roots\n\nSquare root of a square\n? ^abs-rule\n- the absolute value\n\n"
                         "Even roots are never negative ^even-root\n",
             "other.md": "# Other\n\n## Powers\n\nA power of ten ^p10\n\n- a list\n\n^list-id\n\n`x ^code-id`\n\n"
                         "See [[roots#^even-root|that rule]] and [[#^p10]].\n"}
    folder = make_book(tmp_path, files)
    loaded = pipeline.load(folder)
    (card,) = [c for c in loaded.cards if c.kind == "question"]
    assert _sides(card) == ("Square root of a square", "the absolute value")
    text = " ".join(block_text(b) for ch in loaded.book.chapters for b in ch.blocks)
    assert "^" not in text.replace("x ^code-id", "") and "x ^code-id" in text
    links = {n.url: n.target for ch in loaded.book.chapters for b in ch.blocks for n in _links(b)}
    assert links == {"wiki:roots#^even-root": "roots", "wiki:#^p10": "other#powers"}
    assert not [d for d in loaded.diagnostics if d.code in ("P114", "P142")]


def test_the_end_marker_lets_a_back_hold_blank_lines_and_separators_can_be_set(tmp_path: Path) -> None:
    toml = '[flashcards]\ntags = ["anki"]\nend_marker = "+++"\nseparator = ";;"\nmultiline_separator = ";?"\n'
    cards = _cards(tmp_path, {"d.md": "#anki\n\n# D\n\nA table\n;?\n\n| a | b |\n|---|---|\n| 1 | 2 |\n+++\n\nterm;;meaning\n\nx::y\n"}, toml)
    assert [(_sides(c)[0], [type(b).__name__ for b in c.back]) for c in cards] == [("A table", ["Table"]), ("term", ["Para"])]


def test_the_review_history_is_kept_with_each_card(tmp_path: Path) -> None:
    cards = _cards(tmp_path, {"e.md": "#flashcards\n\n# E\n\nQ::A\n<!--SR:!2025-11-17,195,310-->\n\n"
                                      "Both ways:::yes <!--SR:!2025-01-01,3,250!2025-02-02,9,270-->\n"})
    assert [c.schedule for c in cards] == [(("2025-11-17", 195, 310),), (("2025-01-01", 3, 250),), (("2025-02-02", 9, 270),)]
    assert "yes" == _sides(cards[1])[1]


def test_deletion_hints_and_groups_in_a_tagged_file(tmp_path: Path) -> None:
    (card,) = _cards(tmp_path, {"f.md": "#flashcards\n\n# F\n\nA ==cloze==^[a hint][^1] and ==too==[^2] and ==with it==[^1].\n"})
    marks = [n for b in card.front for n in b.children if isinstance(n, m.Mark)]  # type: ignore[attr-defined]
    assert [(k.hint, k.group) for k in marks] == [("a hint", 1), ("", 2), ("", 1)]
    from publisher.cards.derive import cloze_count
    assert cloze_count(card) == 2


def test_anki_cloze_syntax_is_read_in_any_file_but_not_in_code(tmp_path: Path) -> None:
    (card,) = _cards(tmp_path, {"g.md": "# G\n\nThe capital of France is {{c1::Paris::city}}, of Spain {{c1::Madrid}}, "
                                        "of Italy {{c2::Rome}}; `{{c1::code}}` stays.\n"})
    marks = [n for b in card.front for n in b.children if isinstance(n, m.Mark)]  # type: ignore[attr-defined]
    assert [(plain_text(k.children), k.hint, k.group) for k in marks] == [
        ("Paris", "city", 1), ("Madrid", "", 1), ("Rome", "", 2)]
    assert card.identity == "g/cloze-paris-madrid-rome"
    assert "{{c1::code}}" in _sides(card)[0]


@pytest.mark.slow
def test_grouped_deletions_are_one_card_in_anki(tmp_path: Path) -> None:
    make_book(tmp_path, {"g.md": "# G\n\nThe capital of France is {{c1::Paris}}, of Spain {{c1::Madrid}}, of Italy {{c2::Rome}}.\n"})
    proc = run_publisher("build", "content", "--out", "out", "--format", "anki", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    col = new_collection(tmp_path / "col")
    try:
        import_apkg(col, next((tmp_path / "out").glob("*.apkg")))
        assert card_problems(col) == []
        assert sorted(col.get_card(c).ord for c in col.find_cards("")) == [0, 1]  # c1 and c2
    finally:
        col.close()


def test_other_tools_markers_are_said_and_left_out_with_their_text_kept(tmp_path: Path) -> None:
    text = ("# Notes\n\nTARGET DECK\nBiology\n\nSTART\nBasic\nWhat is ATP?\nBack: the energy currency\nEND\n\n"
            "A line that says START alone is text.\n")
    chapter, diags = read_chapter(text.encode(), "n.md", "n")
    said = [d for d in diags if d.code == "P143"]
    assert len(said) == 1 and "Obsidian_to_Anki" in said[0].message and said[0].line == 3
    shown = " ".join(block_text(b) for b in chapter.blocks)
    assert "What is ATP?" in shown and "Back: the energy currency" in shown
    assert "TARGET DECK" not in shown and "Biology" not in shown and "Basic" not in shown and "END" not in shown
    assert "says START alone" in shown
    inka = "# Inka\n\n---\nDeck: Chem\n\n1. What is H2O?\n\n> Water\n---\n"
    chapter, diags = read_chapter(inka.encode(), "i.md", "i")
    assert [d.code for d in diags] == ["P143"] and "inka" in diags[0].message
    assert "Water" in " ".join(block_text(b) for b in chapter.blocks)
    assert flashcards.foreign_markers("START\nno partner\n")[1] == []


def test_two_deck_tags_on_a_line_are_a_warning(tmp_path: Path) -> None:
    book = make_book(tmp_path, {"s.md": "#flashcards/Spanish #flashcards/Vocab\n\n# S\n\nser::to be\n"})
    loaded = pipeline.load(book)
    assert [d.code for d in loaded.diagnostics if d.code == "P144"] == ["P144"]
    assert loaded.cards[0].deck == "flashcards::Spanish" and "flashcards::Vocab" in loaded.cards[0].tags


def test_book_toml_checks_the_flashcards_table(tmp_path: Path) -> None:
    book = make_book(tmp_path, {"a.md": "# A\n\ntext\n", "book.toml": 'title = "T"\n[flashcards]\ntags = "x"\nseperator = ";"\n'})
    codes = sorted(d.code for d in pipeline.load(book).diagnostics if d.code in ("P004", "P008"))
    assert codes == ["P004", "P008"]


@pytest.mark.slow
def test_the_epub_with_written_cards_passes_epubcheck(built: dict, tmp_path: Path) -> None:
    from test_epub import _epubcheck_all

    (data,) = _epubcheck_all([built["out"] / "srvault.epub"], tmp_path).values()
    checker = data["checker"]
    problems = [f"{x['severity']} {x['ID']}: {x['message']}" for x in data["messages"]]
    assert (checker["nFatal"], checker["nError"], checker["nWarning"]) == (0, 0, 0), problems


def test_a_line_of_only_the_separator_joins_the_lines_around_it_and_tags_keep_their_case(tmp_path: Path) -> None:
    cards = _cards(tmp_path, {"h.md": "#flashcards\n\n# H\n\nWhat does a cgroup limit?\n::\nHow much of a resource a process uses\n",
                              "i.md": "#Flashcards\n\n# I\n\nnot::a card here\n"})
    assert [_sides(c) for c in cards] == [("What does a cgroup limit?", "How much of a resource a process uses")]


# --------------------------------------------------------------------------- review history (issue 28)

HISTORY = ("#flashcards\n\n# Cells\n\nWhat is the powerhouse of the cell?::The mitochondrion\n<!--SR:!{due},45,270-->\n\n"
           "Ribosome:::Where proteins are made <!--SR:!{due},3,250!{due2},9,230-->\n\n"
           "Osmosis moves ==water== from ==low== to high concentration.\n<!--SR:!{due},12,250!{due2},30,290-->\n\n"
           "Never reviewed::yet\n")


def _import(col, apkg: Path, scheduling: bool) -> None:
    from anki.collection import ImportAnkiPackageRequest

    options = col._backend.get_import_anki_package_presets()
    options.with_scheduling = scheduling
    col.import_anki_package(ImportAnkiPackageRequest(package_path=str(apkg), options=options))


def _history_book(tmp_path: Path, due: str, due2: str, ivl: int = 45) -> Path:
    text = HISTORY.format(due=due, due2=due2).replace(",45,270", f",{ivl},270")
    return make_book(tmp_path, {"cells.md": text})


@pytest.mark.slow
def test_review_history_becomes_review_cards_when_the_learner_imports_their_progress(tmp_path: Path) -> None:
    import datetime

    today = datetime.date.today()
    due, due2 = (today + datetime.timedelta(days=10)).isoformat(), (today + datetime.timedelta(days=3)).isoformat()
    _history_book(tmp_path, due, due2)
    proc = run_publisher("build", "content", "--out", "out", "--format", "anki", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "5 cards with review history" in proc.stdout and "Import any learning progress" in proc.stdout
    apkg = next((tmp_path / "out").glob("*.apkg"))
    col = new_collection(tmp_path / "with")
    try:
        _import(col, apkg, scheduling=True)
        by_ivl = {}
        for cid in col.find_cards(""):
            c = col.get_card(cid)
            by_ivl[(c.note().fields[0][:20], c.ord)] = (c.type, c.queue, c.ivl, c.factor, c.due - col.sched.today)
        reviews = sorted(v for v in by_ivl.values() if v[0] == 2)
        assert len(reviews) == 5 and len(by_ivl) == 6  # "Never reviewed" stays new
        # the interval and ease as written; due on its day (a learner far from UTC may see it a day off)
        for ivl, factor, days in ((45, 2700, 10), (3, 2500, 10), (9, 2300, 3), (12, 2500, 10), (30, 2900, 3)):
            assert any(v[2:4] == (ivl, factor) and abs(v[4] - days) <= 1 for v in reviews), (ivl, reviews)
        assert all(v[1] == 2 for v in reviews)
    finally:
        col.close()
    col = new_collection(tmp_path / "default")
    try:  # the import dialog's default: the cards arrive as new
        _import(col, apkg, scheduling=False)
        assert {col.get_card(c).type for c in col.find_cards("")} == {0}
    finally:
        col.close()


@pytest.mark.slow
def test_a_rebuilt_package_leaves_imported_scheduling_alone(tmp_path: Path) -> None:
    import datetime

    today = datetime.date.today()
    due = (today + datetime.timedelta(days=10)).isoformat()
    _history_book(tmp_path, due, due)
    assert run_publisher("build", "content", "--out", "out", "--format", "anki", cwd=tmp_path).returncode == 0
    apkg = next((tmp_path / "out").glob("*.apkg"))
    col = new_collection(tmp_path / "col")
    try:
        _import(col, apkg, scheduling=True)
        before = {c: (col.get_card(c).ivl, col.get_card(c).due, col.get_card(c).factor) for c in col.find_cards("")}
        # the notes go on being reviewed in Obsidian; the deck is rebuilt and imported again
        later = (today + datetime.timedelta(days=40)).isoformat()
        text = HISTORY.format(due=later, due2=later).replace(",45,270", ",90,270")
        (tmp_path / "content" / "cells.md").write_text(text, encoding="utf-8")
        assert run_publisher("build", "content", "--out", "out", "--format", "anki", cwd=tmp_path).returncode == 0
        _import(col, apkg, scheduling=True)
        after = {c: (col.get_card(c).ivl, col.get_card(c).due, col.get_card(c).factor) for c in col.find_cards("")}
        assert after == before
    finally:
        col.close()


def test_the_settings_cloze_patterns_and_curly_clozes(tmp_path: Path) -> None:
    toml = '[flashcards]\ntags = ["flashcard/active"]\ncurly_clozes = true\ncloze_patterns = ["{@{[123;;]answer[;;hint]}@}"]\n'
    cards = _cards(tmp_path, {"p.md": "#flashcard/active\n\n# P\n\nA {@{1;;[vertex cut](cut.md);;a set}@} splits a graph; "
                                      "{@{2;;$k$}@} of them.\n\nCurly {{braces}} too, and Anki's {{c1::own}}.\n\n"
                                      "Not {@{closed here.\n"}, toml)
    assert len(cards) == 2
    marks = [n for b in cards[0].front for n in b.children if isinstance(n, m.Mark)]  # type: ignore[attr-defined]
    assert [(plain_text(k.children), k.group, k.hint) for k in marks] == [("vertex cut", 1, "a set"), ("k", 2, "")]
    assert isinstance(marks[0].children[0], m.Link)
    marks = [n for b in cards[1].front for n in b.children if isinstance(n, m.Mark)]  # type: ignore[attr-defined]
    assert [(plain_text(k.children), k.group) for k in marks] == [("braces", 0), ("own", 1)]
    book = make_book(tmp_path / "bad", {"a.md": "# A\n", "book.toml": '[flashcards]\ncloze_patterns = ["==answer==[^\\\\[hint\\\\]]"]\n'})
    assert [d.code for d in pipeline.load(book).diagnostics if d.code == "P004"] == ["P004"]


def test_a_cloze_is_every_line_that_touches_its_deletions_and_is_never_dropped(tmp_path: Path) -> None:
    toml = '[flashcards]\ncloze_patterns = ["{@{[123;;]answer[;;hint]}@}"]\n'
    cards = _cards(tmp_path, {"q.md": "#flashcards\n\n# Q\n\n> Q1. Who founded AI?\n>\n> 1. Alan Turing\n> 2. John McCarthy\n>\n"
                                      "> - solution: {@{2}@}\n> - explanation: {@{He named the field.}@}\n\n"
                                      "Loose:\n\n- first ==a==\n\n- second ==b==\n\nIn Scala this mapping is written as\n"
                                      "{@{`xs.map(f)`}@}\n"}, toml)
    from publisher.cards.derive import cloze_count
    assert [(type(c.front[0]).__name__, cloze_count(c)) for c in cards] == [
        ("Quote", 2), ("Para", 1), ("Para", 1), ("Para", 1)]
    assert all(c.written for c in cards)
    loaded = pipeline.load(tmp_path / "content")
    # the author wrote them: none is left out as junk
    assert len(loaded.cards) == 4


def test_a_tag_deck_name_is_recorded_under_its_tag_and_kept(tmp_path: Path) -> None:
    import json

    make_book(tmp_path, {"book.toml": 'title = "Biology"\n', "c.md": "#flashcards/Cells\n\n# C\n\nQ::A\n"})
    assert run_publisher("build", "content", "--out", "out", "--format", "anki", cwd=tmp_path).returncode == 0
    lock = [json.loads(x) for x in (tmp_path / "content" / "cards.lock").read_text("utf-8").splitlines() if x.startswith("{")]
    assert {"deck": "#flashcards::Cells", "name": "Biology::Cells"} in lock
    (tmp_path / "content" / "book.toml").write_text('title = "Cell Biology"\n', encoding="utf-8")
    assert run_publisher("build", "content", "--out", "out", "--format", "anki", cwd=tmp_path).returncode == 0
    lock = [json.loads(x) for x in (tmp_path / "content" / "cards.lock").read_text("utf-8").splitlines() if x.startswith("{")]
    assert {"deck": "#flashcards::Cells", "name": "Biology::Cells"} in lock  # never renamed under learners


def test_cards_written_in_a_vault_come_through_whole(tmp_path: Path) -> None:
    """Shapes of a real vault (issue 21: every card written comes through): a cloze inside bold; a question
    line over a list of deletions; a question written as a list item, its answer the items, the lines and the
    code below it, to the blank line; an answer of numbered lines that starts above 1 (one paragraph to
    Markdown, a list to the plugin, which renders the answer on its own)."""
    src = ("#flashcards\n\n# V\n\n**Two is ==even== and three is ==odd==.**\n\n"
           "How can a matrix show properties of relations?\n- **Reflexivity**: ==ones on the diagonal==.\n"
           "- **Symmetry**: ==equal to its transpose==.\n\n"
           "- **What are the two kinds of study?**\n?\n- **Pilot**: small tests.\n- **Deployment**: full scale.\n\n"
           "- **What are the levels?**\n?\nThe levels include:\n- Concurrent: during the task.\n\n"
           "- **How do you make images fluid?**\n?\nSet a relative width:\n```css\nimg { max-width: 100%; }\n```\n\n"
           "What are the steps?\n?\n2. Read tokens.\n3. Push operands.\n\nAfter the cards.\n")
    cards = _cards(tmp_path, {"v.md": src})
    sides = [_sides(c) for c in cards]
    assert [c.kind for c in cards] == ["cloze", "cloze", "question", "question", "question", "question"]
    assert "even" in sides[0][0] and "odd" in sides[0][0]
    assert sides[1][0].startswith("How can a matrix show properties of relations?") and "transpose" in sides[1][0]
    assert cards[1].loc.line == 7  # the card starts at its question line
    assert sides[2] == ("What are the two kinds of study?", "Pilot: small tests. Deployment: full scale.")
    assert sides[3][1] == "The levels include: Concurrent: during the task."
    assert "max-width" in sides[4][1] and [type(b).__name__ for b in cards[4].back] == ["Para", "CodeBlock"]
    (steps,) = cards[5].back
    assert isinstance(steps, m.BulletList) and steps.ordered and steps.start == 2 and len(steps.items) == 2
    assert all("After the cards" not in back for _, back in sides)


def test_review_history_in_a_file_without_the_tag_is_said(tmp_path: Path) -> None:
    """A mistyped tag ("unk#flashcards") leaves the plugin's cards unread, in the plugin and here: the review
    history still in the file says so (P143), at its line."""
    chapter, diags = read_chapter("# A\n\nunk#flashcards/Week\n\nQ::A\n<!--SR:!2025-01-01,3,250-->\n".encode(), "a.md", "a")
    assert [(d.code, d.line) for d in diags if d.code == "P143"] == [("P143", 6)]
    assert "'unk#flashcards' is no tag" in next(d.message for d in diags if d.code == "P143")
    _, fine = read_chapter("# A\n\n#flashcards\n\nQ::A\n<!--SR:!2025-01-01,3,250-->\n".encode(), "a.md", "a")
    assert "P143" not in [d.code for d in fine]
    _, told = read_chapter("# A\n\nThe tag <!--SR:!2025-02-01,3,259--> stores the review date.\n".encode(), "r.md", "r")
    assert "P143" not in [d.code for d in told]  # a README telling of the plugin: no card's history


def test_a_cloze_card_keeps_the_lines_of_a_deletion_that_is_none(tmp_path: Path) -> None:
    """'==x ==' (a space before the closing marks) is no deletion, here as in Markdown; its line still
    touches the card's other lines, so it stays on the card, the question above too; P118 says so."""
    src = ('#flashcards\n\n# R\n\nHow can inference rules be read?\n- **Top-down**: =="If Q holds, P holds." ==\n'
           '- **Bottom-up**: =="To prove P, prove Q."==\n')
    (card,) = _cards(tmp_path, {"r.md": src})
    front = " ".join(block_text(b) for b in card.front)
    assert front.startswith("How can inference rules be read?") and "If Q holds" in front and "To prove P" in front
    assert card.loc.line == 5
    diags = pipeline.load(tmp_path / "content").diagnostics
    assert [(d.code, d.line) for d in diags if d.code == "P118"] == [("P118", 6)]


def _links(block: m.Block) -> list[m.Link]:
    from publisher.core.text import block_inlines, walk_blocks, walk_inlines

    return [n for b in walk_blocks((block,)) for run in block_inlines(b) for n in walk_inlines(run) if isinstance(n, m.Link)]


def test_two_cards_written_without_a_blank_line_between_them_are_said(tmp_path: Path) -> None:
    """A new user's vault: "Range", "?", its answer, then "Interquartile range", "?", its answer, with no
    blank line between: the plugin reads one card (the second question in the first's back), and so does
    the deck; P146 says so at the second '?', and not for a '?' in code or after a blank line."""
    files = {"s.md": "#flashcards\n\n# Stats\n\nRange\n?\n- max minus min\nInterquartile range\n?\n- Q3 minus Q1\n\n"
                     "Mean\n?\n```\n?\n```\n\nMedian\n?\nthe middle value\n"}
    folder = make_book(tmp_path, files)
    loaded = pipeline.load(folder)
    assert [_sides(c)[0] for c in loaded.cards] == ["Range", "Mean", "Median"]
    assert [(d.code, d.line) for d in loaded.diagnostics if d.code == "P146"] == [("P146", 9)]
