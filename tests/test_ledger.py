"""The card ledger (content/cards.lock): times move exactly when a note changes."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from anki_helpers import build
from conftest import make_book
from publisher.cards import ledger
from publisher.cli import main as cli_main
from publisher.cards.ledger import Ledger, NoteEntry, TypeEntry
from publisher.pipeline import check_ledger, load

TAG = "book::removed"


def note(ident: str, answer: str = "a", kind: str = "basic") -> NoteEntry:
    fields = (f"<p>{ident}</p>", f"<p>{answer}</p>", "Ch", "01-ch.md:3")
    return NoteEntry(ident, kind, ledger.note_hash(kind, fields, ("book::ch",)), 0, "01-ch.md:3", "ch", ("book::ch",), fields)


def types(css: str = "x") -> list[TypeEntry]:
    return [TypeEntry("basic", "B", ledger.digest(["basic", css]), 0), TypeEntry("cloze", "C", ledger.digest(["cloze", css]), 0)]


def test_unchanged_content_gives_an_identical_file(tmp_path: Path) -> None:
    path = tmp_path / "cards.lock"
    first = ledger.update(Ledger(), types(), [note("ch/a"), note("ch/b")], TAG, now=1000)
    assert ledger.write(path, first)
    text = path.read_bytes()
    again = ledger.update(ledger.read(path), types(), [note("ch/b"), note("ch/a")], TAG, now=5000)
    assert again == first
    assert not ledger.write(path, again)  # not even rewritten
    assert path.read_bytes() == text
    # stable, sorted, one entry per line
    lines = text.decode().splitlines()
    assert lines[0].startswith("#") and lines[2].startswith('{"notetype":"basic"')
    assert [line.split('"id":"')[1].split('"')[0] for line in lines[4:-1]] == ["ch/a", "ch/b"]
    assert lines[-1].startswith("# end: 4 entries, sha256 ")  # written last: a file cut short has none


def test_a_change_gets_a_strictly_later_time() -> None:
    v1 = ledger.update(Ledger(), types(), [note("ch/a"), note("ch/b")], TAG, now=1000)
    # edited within the same second: still strictly later
    same = ledger.update(v1, types(), [note("ch/a", "edited"), note("ch/b")], TAG, now=1000)
    assert same.notes["ch/a"].time == 1001 and same.notes["ch/b"].time == 1000
    # edited again, still within that second (the clock has not caught up)
    again = ledger.update(same, types(), [note("ch/a", "edited twice"), note("ch/b")], TAG, now=1000)
    assert again.notes["ch/a"].time == 1002
    # later: the clock's time; a clock that went backwards cannot go back before the last change
    later = ledger.update(again, types(), [note("ch/a", "3"), note("ch/b")], TAG, now=2000)
    assert later.notes["ch/a"].time == 2000
    back = ledger.update(later, types(), [note("ch/a", "4"), note("ch/b")], TAG, now=10)
    assert back.notes["ch/a"].time == 2001
    # a new card gets the clock's time
    new = ledger.update(back, types(), [note("ch/a", "4"), note("ch/b"), note("ch/c")], TAG, now=3000)
    assert new.notes["ch/c"].time == 3000 and new.notes["ch/a"].time == 2001


def test_note_types_advance_when_their_look_changes() -> None:
    v1 = ledger.update(Ledger(), types("x"), [note("ch/a")], TAG, now=1000)
    v2 = ledger.update(v1, types("y"), [note("ch/a")], TAG, now=1000)
    assert [v2.notetypes[k].time for k in ("basic", "cloze")] == [1001, 1001]
    assert v2.notes == v1.notes
    assert v2.newest == 1001


def test_removed_cards_are_kept_with_their_fields_and_can_come_back() -> None:
    v1 = ledger.update(Ledger(), types(), [note("ch/a"), note("ch/b", "bee")], TAG, now=1000)
    v2 = ledger.update(v1, types(), [note("ch/a")], TAG, now=1000)
    gone = v2.notes["ch/b"]
    assert gone.removed and gone.fields == v1.notes["ch/b"].fields and gone.tags == ("book::ch",)
    assert gone.time == 1001  # the package's copy gains the removed tag: Anki must take it
    assert gone.hash == ledger.note_hash("basic", gone.fields, ("book::ch", TAG))
    v3 = ledger.update(v2, types(), [note("ch/a")], TAG, now=1500)
    assert v3 == v2  # still removed: nothing moves
    back = ledger.update(v3, types(), [note("ch/a"), note("ch/b", "bee")], TAG, now=1000)
    assert not back.notes["ch/b"].removed and back.notes["ch/b"].time == 1002
    assert back.notes["ch/b"].hash == v1.notes["ch/b"].hash


def test_reading_survives_merge_conflicts(tmp_path: Path) -> None:
    ours = ledger.update(Ledger(), types(), [note("ch/a", "ours")], TAG, now=1000)
    theirs = ledger.update(Ledger(), types(), [note("ch/a", "theirs")], TAG, now=1200)
    ours_lines, theirs_lines = ledger.dumps(ours).splitlines(), ledger.dumps(theirs).splitlines()
    conflicted = "\n".join(ours_lines[:2] + ["<<<<<<< HEAD"] + ours_lines[2:] + ["======="] + theirs_lines[2:] + [">>>>>>> x"]) + "\n"
    read = ledger.loads(conflicted)
    assert read.notes["ch/a"].time == 1200 and "theirs" in read.notes["ch/a"].fields[1]  # the newer wins
    # the markers, theirs listed twice, and (the end line of the file is a marker) the file's end
    assert {line for line, _ in read.problems} == {3, 8, 9, 10, 11, 13, 14}
    assert "cut short" in dict(read.problems)[14]
    assert 14 not in dict(ledger.loads(conflicted + "# end: edited\n").problems)  # the author says it was edited
    # rebuilding after the conflict moves past both sides
    merged = ledger.update(read, types(), [note("ch/a", "merged")], TAG, now=1100)
    assert merged.notes["ch/a"].time == 1201 and not merged.problems
    assert ledger.read(tmp_path / "missing.lock") == Ledger()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from("abcde"), st.sampled_from(["x", "y", "z"])), min_size=1, max_size=8),
       st.lists(st.integers(0, 3), min_size=8, max_size=8))
def test_times_never_go_back_and_move_exactly_on_change(builds: list[dict[str, str]], ticks: list[int]) -> None:
    current, now = Ledger(), 1000
    for version, tick in zip(builds, ticks):
        now += tick
        nxt = ledger.update(current, types(), [note(f"ch/{k}", v) for k, v in sorted(version.items())], TAG, now=now)
        for ident, entry in nxt.notes.items():
            prev = current.notes.get(ident)
            if prev is None:
                assert entry.time == now
            elif prev.hash == entry.hash:
                assert entry.time == prev.time
            else:
                assert entry.time > prev.time and entry.time >= now
        assert set(current.notes) <= set(nxt.notes)  # nothing is forgotten
        assert ledger.loads(ledger.dumps(nxt)) == nxt  # the file holds everything
        current = nxt


# --------------------------------------------------------------------------- check_ledger on a book

BOOK = {
    "book.toml": 'title = "Check Book"\nshort_name = "Chk"\n',
    "01-one.md": "# One\n\n## Part\n\nApple\n: A red fruit.\n\n- Pears are ==green==\n- Plums are ==purple==\n",
}


def _codes(diags) -> list[tuple[str, str, int]]:
    return [(d.code, Path(d.file).name, d.line) for d in diags]


def test_a_card_retired_with_card_no_is_tagged_removed_without_a_warning(tmp_path: Path) -> None:
    content = make_book(tmp_path, BOOK)
    build(content, tmp_path / "build")
    (content / "01-one.md").write_text(BOOK["01-one.md"].replace("==purple==", "==purple== <!-- card: no -->"), "utf-8")
    assert load(content).retired == frozenset({"one/cloze-purple"})
    _, art = build(content, tmp_path / "build")
    assert ledger.read(content / "cards.lock").notes["one/cloze-purple"].removed  # still in the deck, tagged
    assert not [d for d in art.diagnostics if d.code == "P120"]
    assert check_ledger(load(content), content) == []
    # a card that merely went away is still a warning
    (content / "01-one.md").write_text(BOOK["01-one.md"].replace("- Pears are ==green==\n", ""), "utf-8")
    build(content, tmp_path / "build")
    diags = check_ledger(load(content), content)
    assert [d.code for d in diags] == ["P120"] and "'one/cloze-green'" in diags[0].message


def test_check_ledger_flags_what_is_out_of_date(tmp_path: Path, capsys) -> None:
    content = make_book(tmp_path, BOOK)
    # no ledger yet: nothing to report, the first build writes it
    assert check_ledger(load(content), content) == []
    build(content, tmp_path / "build")
    assert (content / "cards.lock").is_file()
    assert check_ledger(load(content), content) == []

    # an answer changed, a card removed, a card added
    (content / "01-one.md").write_text(
        "# One\n\n## Part\n\nApple\n: A green fruit.\n\n- Pears are ==green==\n- Figs are ==sweet==\n", "utf-8")
    diags = check_ledger(load(content), content)
    assert sorted(_codes(diags)) == [("P117", "01-one.md", 5), ("P117", "01-one.md", 9), ("P117", "01-one.md", 9)]
    messages = " ".join(d.message for d in diags)
    assert "'one/apple' changed" in messages and "'one/cloze-sweet' is not in" in messages
    assert "'one/cloze-purple' was removed" in messages
    assert all(d.severity == "error" for d in diags)

    # `publisher check` reports it and fails
    assert cli_main(["check", str(content)]) == 1
    assert "P117" in capsys.readouterr().out

    # the build brings the ledger up to date; the removed card stays listed, as removed, and is a warning
    build(content, tmp_path / "build")
    diags = check_ledger(load(content), content)
    assert [(d.code, d.severity, Path(d.file).name, d.line) for d in diags] == [("P120", "warning", "01-one.md", 9)]
    assert "'one/cloze-purple'" in diags[0].message and "chk::removed" in diags[0].message
    assert ledger.read(content / "cards.lock").notes["one/cloze-purple"].removed
    assert cli_main(["check", str(content)]) == 0 and cli_main(["check", "--strict", str(content)]) == 1

    # ... and a card that comes back is out of date again
    (content / "01-one.md").write_text(BOOK["01-one.md"], "utf-8")
    assert "is back" in " ".join(d.message for d in check_ledger(load(content), content))
    build(content, tmp_path / "build")

    # a changed card template is out of date too
    (content / "templates/anki").mkdir(parents=True)
    (content / "templates/anki/basic-back.html").write_text("{{FrontSide}}<hr id=answer>{{Back}}", "utf-8")
    diags = [d for d in check_ledger(load(content), content) if d.code != "P120"]  # (Figs went away)
    assert _codes(diags) == [("P117", "cards.lock", 1)] and "Chk Basic" in diags[0].message

    # and a damaged file is reported line by line
    lock = content / "cards.lock"
    lock.write_text(lock.read_text("utf-8") + "<<<<<<< HEAD\n", "utf-8")
    assert ("P117", "cards.lock", len(lock.read_text("utf-8").splitlines())) in _codes(check_ledger(load(content), content))


def test_a_cloze_that_loses_a_deletion_is_a_warning_before_and_at_the_build(tmp_path: Path) -> None:
    # Anki's import never deletes a card: c2 would stay in learners' decks as an empty card
    book = {**BOOK, "01-one.md": BOOK["01-one.md"] + "- Cherries are ==red== and ==small==\n"}
    content = make_book(tmp_path, book)
    build(content, tmp_path / "build")
    # (an edit that drops a mark changes the identity, unless the author pins it to keep the note)
    (content / "01-one.md").write_text(book["01-one.md"].replace("==small==", "small <!-- id: one/cloze-red-small -->"), "utf-8")
    before = [d for d in check_ledger(load(content), content) if d.code == "P140"]
    assert [(d.severity, d.line) for d in before] == [("warning", 10)] and "deletion c2" in before[0].message
    _, art = build(content, tmp_path / "build")
    assert [d.code for d in art.diagnostics if d.code == "P140"] == ["P140"]


def test_a_renamed_file_says_its_cards_moved_and_how_to_keep_them(tmp_path: Path) -> None:
    content = make_book(tmp_path, BOOK)
    build(content, tmp_path / "build")
    (content / "01-one.md").rename(content / "01-fruit.md")
    diags = check_ledger(load(content), content)
    moved = [d for d in diags if d.code == "P141"]
    assert [(Path(d.file).name, d.severity) for d in moved] == [("01-fruit.md", "warning")]
    assert "3 cards of '01-one.md'" in moved[0].message and "<!-- id: one/" in moved[0].message
    _, art = build(content, tmp_path / "build")
    assert [d.code for d in art.diagnostics if d.code == "P141"] == ["P141"]
