"""The Anki deck, checked with the real Anki: import, review, edit, rebuild, import again."""

from __future__ import annotations

import json
import re
import sqlite3
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from anki_helpers import (  # noqa: I001
    ERROR_MARKERS,
    build, card_problems, copy_content, import_apkg, new_collection, review_everything, revlog, snapshot,
)
from conftest import TINY_PNG, make_book
from publisher.cards import ledger
from publisher.pipeline import check_ledger, load
from publisher.renderers import RenderOptions
from publisher.renderers import anki as anki_renderer

REPO = Path(__file__).resolve().parents[1]

BOOK_TOML = """title = "Tiny Book"
short_name = "Tiny"
date = "2024-01-02"

[ids]
deck = 1700000000001
basic_model = 1700000000002
cloze_model = 1700000000003
epub = "urn:uuid:00000000-0000-4000-8000-000000000001"
"""

ALPHA = """# Alpha

## Basics

Term One
: First answer.

- **Term Two** - second answer with `code`
- The sky is ==blue== today
- Water boils at ==100== degrees
- Cats ==purr==
- Dogs ==bark==

## What is a question?

The answer to the question.

> [!TIP]
> A tip inside.
"""

# an answer changed, words around a cloze changed, a card inserted before the
# others, one deleted (Cats), two reordered (Water and Dogs)
ALPHA_V2 = """# Alpha

## Basics

Term One
: First answer, revised.

- **Term Two** - second answer with `code`
- Birds ==sing==
- On clear days the sky is ==blue==
- Dogs ==bark==
- Water boils at ==100== degrees

## What is a question?

The answer to the question.

> [!TIP]
> A tip inside.
"""

BETA = """# Beta

## Code and tables

Highlighter
: Shows code like this:

  ```python
  def f(x):
      return x + 1
  ```

| Service | Use |
|---|---|
| S3 | objects |

## Nested

- Layers of ==nesting== and ==depth== matter[^n]
    - inner one
        - inner two

[^n]: A footnote about nesting.

## Pictures

Dot picture
: ![a dot](img/dot.png) is small

Same dot
: ![again](img/../img/dot.png) twice

Raw danger
: Click <a href="javascript:alert(1)" onclick="alert(2)">here</a> <script>alert(3)</script> ok
"""

PNG = TINY_PNG  # a whole PNG: the image policy refuses a damaged one (P127)


def tiny_book(tmp_path: Path, name: str = "content", **extra: str | bytes) -> Path:
    files: dict[str, str | bytes] = {"book.toml": BOOK_TOML, "01-alpha.md": ALPHA, "02-beta.md": BETA, "img/dot.png": PNG}
    files.update(extra)
    return make_book(tmp_path, files, name)


def read_apkg(path: Path, tmp: Path) -> dict:
    """The package's collection as plain data: notes, decks, note types, media."""
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
        (tmp / "collection.anki2").write_bytes(z.read("collection.anki2"))
        media = json.loads(z.read("media"))
        files = {name: z.read(idx) for idx, name in media.items()}
    con = sqlite3.connect(tmp / "collection.anki2")
    try:
        notes = {
            guid: {"id": nid, "mod": mod, "mid": mid, "fields": flds.split("\x1f"), "tags": tags.split()}
            for nid, guid, mid, mod, flds, tags in con.execute("select id, guid, mid, mod, flds, tags from notes")
        }
        cards = con.execute("select nid, did, ord, mod from cards").fetchall()
        models_json, decks_json = con.execute("select models, decks from col").fetchone()
    finally:
        con.close()
    return {"infos": infos, "notes": notes, "cards": cards, "models": json.loads(models_json),
            "decks": json.loads(decks_json), "media": files}


# --------------------------------------------------------------------------- the package itself


def test_package_structure(tmp_path: Path) -> None:
    content = tiny_book(tmp_path)
    loaded, art = build(content, tmp_path / "build")
    assert art.path == tmp_path / "build" / "tiny-book.apkg"
    pkg = read_apkg(art.path, tmp_path)
    meta = loaded.book.meta

    # both note types, owned by the book, with their fixed ids, names and fields
    models = pkg["models"]
    assert set(models) == {str(meta.ids.basic_model), str(meta.ids.cloze_model)}
    basic, cloze = models[str(meta.ids.basic_model)], models[str(meta.ids.cloze_model)]
    assert (basic["name"], basic["type"]) == ("Tiny Basic", 0)
    assert (cloze["name"], cloze["type"]) == ("Tiny Cloze", 1)
    assert [f["name"] for f in basic["flds"]] == ["Front", "Back", "Context", "Source"]
    assert [f["name"] for f in cloze["flds"]] == ["Text", "Extra", "Context", "Source"]
    for model in (basic, cloze):
        assert ".nightMode" in model["css"] and ".night_mode" in model["css"]
        assert ".highlight .hl-k" in model["css"]  # Pygments classes for offline highlighting
        for text in [model["css"], *(t[k] for t in model["tmpls"] for k in ("qfmt", "afmt"))]:
            assert "<script" not in text.lower()
    # one deck named after the book, a subdeck per chapter, ids derived from the deck id
    decks = {d["name"]: int(i) for i, d in pkg["decks"].items()}
    assert decks["Tiny Book"] == meta.ids.deck
    # a book's first build numbers its decks: Anki sorts decks by name, so they list in book order
    assert decks["Tiny Book::1 Alpha"] == anki_renderer.subdeck_id(meta.ids.deck, "alpha")
    assert decks["Tiny Book::2 Beta"] == anki_renderer.subdeck_id(meta.ids.deck, "beta")
    assert len({decks["Tiny Book::1 Alpha"], decks["Tiny Book::2 Beta"], meta.ids.deck}) == 3
    # one note per card, GUID from the identity, fields from html.py, hierarchical tags
    assert len(pkg["notes"]) == len(loaded.cards)
    by_id = {c.identity: c for c in loaded.cards}
    for card in loaded.cards:
        note = pkg["notes"][anki_renderer.guid(meta, card.identity)]
        assert note["tags"] == list(card.tags) and all("::" in t for t in note["tags"])
        assert note["mid"] == (meta.ids.cloze_model if card.kind == "cloze" else meta.ids.basic_model)
    blue = pkg["notes"][anki_renderer.guid(meta, "alpha/cloze-blue")]["fields"]
    assert blue == ["<p>The sky is {{c1::blue}} today</p>", "", "Alpha \u203a Basics", "01-alpha.md"]
    nesting = pkg["notes"][anki_renderer.guid(meta, "beta/cloze-nesting-depth")]["fields"]
    assert "{{c1::nesting}}" in nesting[0] and "{{c2::depth}}" in nesting[0]
    assert "A footnote about nesting." in nesting[1]  # the card's footnote travels with it
    question = pkg["notes"][anki_renderer.guid(meta, "alpha/q-what-is-a-question")]["fields"]
    assert 'class="alert alert-tip"' in question[1]
    code = pkg["notes"][anki_renderer.guid(meta, "beta/highlighter")]["fields"][1]
    assert '<span class="hl-k">def</span>' in code
    # every card of a note sits in its chapter's subdeck
    numbered = {"Alpha": "1 Alpha", "Beta": "2 Beta"}
    chapter_deck = {c.identity: decks[f"Tiny Book::{numbered[c.context[0]]}"] for c in loaded.cards}
    nid_to_identity = {n["id"]: next(i for i in by_id if anki_renderer.guid(meta, i) == g) for g, n in pkg["notes"].items()}
    for nid, did, _ord, _mod in pkg["cards"]:
        assert did == chapter_deck[nid_to_identity[nid]]
    # nothing executable in any field
    blob = json.dumps([n["fields"] for n in pkg["notes"].values()]).lower()
    for bad in ("<script", "javascript:", "onclick", "alert("):
        assert bad not in blob


def test_images_are_packed_under_content_names_and_outside_ones_refused(tmp_path: Path) -> None:
    (tmp_path / "secret.png").write_bytes(b"not for the deck")
    content = tiny_book(tmp_path, **{"03-gamma.md": "# Gamma\n\nLeak\n: ![secret](../secret.png) stays home\n\n"
                                                  "Far\n: ![far](/etc/hostname) too\n"})
    loaded, art = build(content, tmp_path / "build")
    pkg = read_apkg(art.path, tmp_path)
    # one file, named by its content hash, however the Markdown spelled its path
    assert list(pkg["media"].values()) == [PNG]
    (name,) = pkg["media"]
    assert re.fullmatch(r"[0-9a-f]{24}\.png", name)
    meta = loaded.book.meta
    dot = pkg["notes"][anki_renderer.guid(meta, "beta/dot-picture")]["fields"][1]
    again = pkg["notes"][anki_renderer.guid(meta, "beta/same-dot")]["fields"][1]
    assert f'<img src="{name}" alt="a dot">' in dot and f'src="{name}"' in again
    leak = pkg["notes"][anki_renderer.guid(meta, "gamma/leak")]["fields"][1]
    far = pkg["notes"][anki_renderer.guid(meta, "gamma/far")]["fields"][1]
    assert "<img" not in leak and "[secret]" in leak
    assert "<img" not in far and "[far]" in far
    assert b"not for the deck" not in art.path.read_bytes()


def test_unchanged_rebuild_is_byte_identical(tmp_path: Path) -> None:
    content = tiny_book(tmp_path)
    _, art = build(content, tmp_path / "a")
    lock = (content / "cards.lock").read_bytes()
    first = art.path.read_bytes()
    time.sleep(1.1)  # a later clock must not change anything
    _, art2 = build(content, tmp_path / "b")
    assert art2.path.read_bytes() == first
    assert (content / "cards.lock").read_bytes() == lock
    # fixed zip dates and order, no clock
    with zipfile.ZipFile(art.path) as z:
        infos = z.infolist()
    assert [i.filename for i in infos] == ["collection.anki2", "media", "0"]
    newest = ledger.read(content / "cards.lock").newest
    stamp = time.gmtime(newest)
    assert {i.date_time for i in infos} == {(*stamp[:5], stamp[5] // 2 * 2)}  # zip times count in 2 s steps


def test_note_times_come_from_the_ledger_not_the_clock(tmp_path: Path) -> None:
    content = tiny_book(tmp_path)
    build(content, tmp_path / "build")
    lock = content / "cards.lock"
    # pretend every entry was last changed long ago: an unchanged rebuild must carry those times
    old = ledger.read(lock)
    aged = ledger.Ledger(
        {k: replace(t, time=1_500_000_000) for k, t in old.notetypes.items()},
        {k: replace(e, time=1_500_000_000 + i) for i, (k, e) in enumerate(sorted(old.notes.items()))},
        decks=old.decks,
    )
    ledger.write(lock, aged)
    loaded, art = build(content, tmp_path / "build")
    pkg = read_apkg(art.path, tmp_path)
    meta = loaded.book.meta
    for ident, entry in aged.notes.items():
        assert pkg["notes"][anki_renderer.guid(meta, ident)]["mod"] == entry.time
    assert {m["mod"] for m in pkg["models"].values()} == {1_500_000_000}
    assert {mod for *_, mod in pkg["cards"]} <= {e.time for e in aged.notes.values()}
    assert ledger.read(lock) == ledger.loads(ledger.dumps(aged))  # nothing changed, nothing advanced


def test_guid_does_not_depend_on_the_answer(tmp_path: Path) -> None:
    content = tiny_book(tmp_path)
    loaded, art = build(content, tmp_path / "v1")
    before = read_apkg(art.path, tmp_path)["notes"]
    (content / "01-alpha.md").write_text(ALPHA.replace("First answer.", "Another answer entirely."), "utf-8")
    _, art2 = build(content, tmp_path / "v2")
    after = read_apkg(art2.path, tmp_path)["notes"]
    guid = anki_renderer.guid(loaded.book.meta, "alpha/term-one")
    assert set(before) == set(after)
    assert before[guid]["fields"][1] != after[guid]["fields"][1]
    assert after[guid]["mod"] > before[guid]["mod"]


def test_subdecks_off_and_removed_cards_left_out(tmp_path: Path) -> None:
    toml = BOOK_TOML.replace('date = "2024-01-02"', 'date = "2024-01-02"\nsubdecks = false\nkeep_removed = false')
    content = tiny_book(tmp_path, **{"book.toml": toml})
    loaded, art = build(content, tmp_path / "v1")
    pkg = read_apkg(art.path, tmp_path)
    assert {d["name"] for d in pkg["decks"].values()} == {"Default", "Tiny Book"}
    assert {did for _, did, _, _ in pkg["cards"]} == {loaded.book.meta.ids.deck}
    (content / "01-alpha.md").write_text(ALPHA.replace("- Cats ==purr==\n", ""), "utf-8")
    loaded2, art2 = build(content, tmp_path / "v2")
    assert len(read_apkg(art2.path, tmp_path)["notes"]) == len(loaded2.cards) == len(loaded.cards) - 1
    (p120,) = art2.diagnostics
    assert (p120.code, p120.severity, p120.line) == ("P120", "warning", 11)
    assert p120.file.endswith("01-alpha.md") and "alpha/cloze-purr" in p120.message
    assert ledger.read(content / "cards.lock").notes["alpha/cloze-purr"].removed


def test_fixture_deck_imports_into_anki(tmp_path: Path) -> None:
    content = tiny_book(tmp_path)
    loaded, art = build(content, tmp_path / "build")
    col = new_collection(tmp_path / "anki")
    try:
        log = import_apkg(col, art.path)
        assert len(log.new) == len(loaded.cards) and not log.updated and not log.conflicting
        assert col.note_count() == len(loaded.cards)
        assert {m.name for m in col.models.all_names_and_ids()} >= {"Tiny Basic", "Tiny Cloze"}
        assert {d.name for d in col.decks.all_names_and_ids()} >= {"Tiny Book", "Tiny Book::1 Alpha", "Tiny Book::2 Beta"}
        assert card_problems(col) == []
        # the two deletions of the nesting card make two cards
        (nid,) = col.find_notes('"deck:Tiny Book::2 Beta" nesting')
        assert len(col.get_note(nid).cards()) == 2
        # the image is in the collection's media folder under its packed name
        media = Path(col.media.dir())
        assert any(p.read_bytes() == PNG for p in media.iterdir())
        # front: context above the question; back: the answer and the source
        (cid,) = col.find_cards('"Front:*Term One*"')
        card = col.get_card(cid)
        q, a = card.question(), card.answer()
        assert q.index("Alpha \u203a Basics") < q.index("Term One")
        assert "First answer." in a and "01-alpha.md" in a and "First answer." not in q
    finally:
        col.close()


@pytest.mark.slow
def test_real_deck_imports_into_anki(tmp_path: Path) -> None:
    content = copy_content(REPO / "content", tmp_path / "content")
    loaded, art = build(content, tmp_path / "build")
    removed = [e for e in ledger.read(content / "cards.lock").notes.values() if e.removed]
    col = new_collection(tmp_path / "anki")
    try:
        import_apkg(col, art.path)
        kept = len(removed) if loaded.book.meta.keep_removed else 0
        assert col.note_count() == len(loaded.cards) + kept
        names = {d.name for d in col.decks.all_names_and_ids()}
        title = loaded.book.meta.title
        assert title in names
        # each chapter's deck under the name the ledger recorded (a retitled chapter keeps its deck:
        # "EC2 - Elastic Cloud Computing", whose title the book has since corrected)
        recorded = ledger.read(content / "cards.lock").decks
        assert {recorded[c.chapter] for c in loaded.cards} <= names
        assert f"{title}::EC2 - Elastic Cloud Computing" in names
        models = {m.name for m in col.models.all_names_and_ids()}
        assert {f"{loaded.book.meta.short_name} Basic", f"{loaded.book.meta.short_name} Cloze"} <= models
        assert card_problems(col) == []
        # issue 29: the retired notes (32 in the AWS book) are in a deck of their own, outside the book's: a fresh
        # import with the default presets puts none of them in the book's study queue
        tag = anki_renderer.removed_tag_for(loaded.book.meta)
        assert removed and not col.find_cards(f'"deck:{title}" tag:{tag}')
        assert len(col.find_notes(f'"deck:{title} (retired)" tag:{tag}')) == len(removed)
        assert recorded[anki_renderer.RETIRED] == f"{title} (retired)"
        col.decks.select(col.decks.id_for_name(title))
        studied = set(col.find_cards(f'"deck:{title}" is:new'))  # what the book's deck offers today: all its own
        assert col.sched.counts()[0] == len(studied) and not studied & set(col.find_cards(f"tag:{tag}"))
    finally:
        col.close()


# --------------------------------------------------------------------------- the update story


def _update_story(tmp_path: Path, content: Path, edit) -> None:
    """v1 -> import -> review all -> edit -> v2 -> import: edits land, reviews stay, nothing doubles."""
    loaded1, art1 = build(content, tmp_path / "v1")
    col = new_collection(tmp_path / "anki")
    try:
        import_apkg(col, art1.path)
        before_review = snapshot(col)
        assert len(before_review) == col.note_count()
        answered = review_everything(col)
        assert answered >= col.card_count()
        v1 = snapshot(col)
        assert all(card[2] == 2 and card[5] >= 1 for s in v1.values() for card in s.cards), "every card reviewed"
        reviews = revlog(col)
        assert len(reviews) == answered

        old_ledger = ledger.read(content / "cards.lock")
        expect = edit(content, loaded1)
        loaded2, art2 = build(content, tmp_path / "v2")
        new_ledger = ledger.read(content / "cards.lock")
        meta = loaded2.book.meta
        # the ledger in the content folder moved on exactly where the content did
        for ident in expect.get("moved", []):
            before, after = old_ledger.notes[ident], new_ledger.notes[ident]
            assert (after.hash, after.time, after.fields) == (before.hash, before.time, before.fields)
        for ident in expect["changed"]:
            assert new_ledger.notes[ident].time > old_ledger.notes[ident].time
            assert new_ledger.notes[ident].hash != old_ledger.notes[ident].hash
        assert new_ledger.notes[expect["removed"]].removed
        assert new_ledger.notes[expect["removed"]].time > old_ledger.notes[expect["removed"]].time
        assert expect["added"] in new_ledger.notes and expect["added"] not in old_ledger.notes
        assert any(d.code == "P120" and expect["removed"] in d.message for d in art2.diagnostics)

        log = import_apkg(col, art2.path)
        assert len(log.new) == 1 and not log.conflicting
        v2 = snapshot(col)
        assert set(v2) == set(v1) | {anki_renderer.guid(meta, expect["added"])}, "one note added, nothing doubled"
        for guid, old in v1.items():
            new = v2[guid]
            assert new.id == old.id  # updated in place
            assert new.cards == old.cards  # scheduling untouched
        assert revlog(col) == reviews  # every review survives
        for ident, text in expect["text"].items():
            state = v2[anki_renderer.guid(meta, ident)]
            assert any(text in f for f in state.fields), (ident, text)
            assert state.mod == new_ledger.notes[ident].time > v1[anki_renderer.guid(meta, ident)].mod
        gone = v2[anki_renderer.guid(meta, expect["removed"])]
        assert anki_renderer.removed_tag_for(meta) in gone.tags
        unchanged = [i for i, e in new_ledger.notes.items() if old_ledger.notes.get(i) == e]
        assert unchanged, "some notes did not change"
        for ident in unchanged:
            assert v2[anki_renderer.guid(meta, ident)] == v1[anki_renderer.guid(meta, ident)]
        assert card_problems(col) == []

        # importing the same package again changes nothing
        again = import_apkg(col, art2.path)
        assert not again.new and not again.updated
        assert snapshot(col) == v2 and revlog(col) == reviews
    finally:
        col.close()

    # rebuilding without edits gives the same bytes
    lock = (content / "cards.lock").read_bytes()
    _, art3 = build(content, tmp_path / "v3")
    assert art3.path.read_bytes() == art2.path.read_bytes()
    assert (content / "cards.lock").read_bytes() == lock


def _edit_fixture(content: Path, loaded) -> dict:
    (content / "01-alpha.md").write_text(ALPHA_V2, "utf-8")
    return {
        # Water and Dogs only moved: moving is no edit, so their notes stay as they were
        "changed": ["alpha/term-one", "alpha/cloze-blue"],
        "moved": ["alpha/cloze-100", "alpha/cloze-bark"],
        "text": {"alpha/term-one": "First answer, revised.", "alpha/cloze-blue": "On clear days the sky is"},
        "removed": "alpha/cloze-purr",
        "added": "alpha/cloze-sing",
    }


def test_update_story_fixture(tmp_path: Path) -> None:
    _update_story(tmp_path, tiny_book(tmp_path), _edit_fixture)


BULLET = re.compile(r"^(\s*)- (?!\*\*)(.*==.+==.*)$")
TERM_BULLET = re.compile(r"^(\s*)- \*\*[^*]+\*\* - \S.*$")


def _edit_real(content: Path, loaded) -> dict:
    """The same five edits on a copy of the real book, wherever its text allows them."""
    by_line = {(c.loc.file, c.loc.line): c for c in loaded.cards}
    files = {ch.file: content / Path(ch.file).name for ch in loaded.book.chapters}
    lines = {f: p.read_text("utf-8").split("\n") for f, p in files.items()}

    def indent(f: str, n: int) -> int:
        text = lines[f][n - 1] if 0 < n <= len(lines[f]) else ""
        return len(text) - len(text.lstrip()) if text.strip() else -1

    def lone(f: str, n: int, pattern: re.Pattern[str], kind: str) -> bool:
        """A one-line list item of its own card, with no children."""
        card = by_line.get((f, n))
        return (card is not None and card.kind == kind and bool(pattern.match(lines[f][n - 1]))
                and indent(f, n + 1) <= indent(f, n))

    clozes = [(f, n) for f in lines for n in range(1, len(lines[f]) + 1) if lone(f, n, BULLET, "cloze")]
    terms = [(f, n) for f in lines for n in range(1, len(lines[f]) + 1) if lone(f, n, TERM_BULLET, "definition")]
    used_files: set[str] = set()

    def pick(cands, cond=lambda f, n: True):
        for f, n in cands:
            if f not in used_files and cond(f, n):
                used_files.add(f)
                return f, n
        raise AssertionError("the real content has no place for this edit")

    swap = pick(clozes, lambda f, n: (f, n + 1) in clozes and indent(f, n) == indent(f, n + 1))
    deleted = pick(clozes)
    reworded = pick(clozes)
    inserted = pick(clozes)
    answered = pick(terms)
    ops: dict[str, dict[int, list[str]]] = {f: {} for f in lines}
    f, n = swap
    ops[f][n], ops[f][n + 1] = [lines[f][n]], [lines[f][n - 1]]
    f, n = deleted
    ops[f][n] = []
    f, n = reworded
    head = " " * indent(f, n) + "- "
    ops[f][n] = [head + "Indeed, " + lines[f][n - 1][len(head):]]
    f, n = inserted
    ops[f][n] = [" " * indent(f, n) + "- A brand new ==inserted fact== for the test", lines[f][n - 1]]
    f, n = answered
    ops[f][n] = [lines[f][n - 1] + " (revised answer)"]
    for f, changes in ops.items():
        if changes:
            out = [x for i, line in enumerate(lines[f], 1) for x in changes.get(i, [line])]
            files[f].write_text("\n".join(out), "utf-8")
    card = lambda where: by_line[where].identity  # noqa: E731
    chapter = by_line[inserted].chapter
    return {
        "changed": [card(reworded), card(answered)],
        "moved": [card(swap), card((swap[0], swap[1] + 1))],
        "text": {card(reworded): "Indeed, ", card(answered): "(revised answer)"},
        "removed": card(deleted),
        "added": f"{chapter}/cloze-inserted-fact",
    }


@pytest.mark.slow
def test_update_story_real_content(tmp_path: Path) -> None:
    _update_story(tmp_path, copy_content(REPO / "content", tmp_path / "content"), _edit_real)


def test_same_second_edit_still_updates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ledger, "now_seconds", lambda: 1_700_000_000)  # a clock that does not move
    content = tiny_book(tmp_path)
    loaded, art1 = build(content, tmp_path / "v1")
    (content / "01-alpha.md").write_text(ALPHA.replace("First answer.", "Second answer."), "utf-8")
    _, art2 = build(content, tmp_path / "v2")
    notes = ledger.read(content / "cards.lock").notes
    assert notes["alpha/term-one"].time == 1_700_000_001  # strictly after, though the clock stood still
    assert notes["alpha/term-two"].time == 1_700_000_000
    col = new_collection(tmp_path / "anki")
    try:
        import_apkg(col, art1.path)
        log = import_apkg(col, art2.path)
        assert [n.fields[1] for n in log.updated] == ["Second answer."]  # the log shows text
        (nid,) = col.find_notes('"Front:*Term One*"')
        assert col.get_note(nid)["Back"] == "<p>Second answer.</p>"
    finally:
        col.close()


def test_template_change_reaches_anki(tmp_path: Path) -> None:
    content = tiny_book(tmp_path)
    loaded, art1 = build(content, tmp_path / "v1")
    t1 = ledger.read(content / "cards.lock")
    # the book shadows the card CSS: the note types' time advances, the notes' does not
    shadow = (REPO / "templates/anki/style.css").read_text("utf-8") + "\n.pub-context { color: rebeccapurple; }\n"
    (content / "templates/anki").mkdir(parents=True)
    (content / "templates/anki/style.css").write_text(shadow, "utf-8")
    _, art2 = build(content, tmp_path / "v2")
    t2 = ledger.read(content / "cards.lock")
    assert all(t2.notetypes[k].time > t1.notetypes[k].time for k in ("basic", "cloze"))
    assert t2.notes == t1.notes
    col = new_collection(tmp_path / "anki")
    try:
        import_apkg(col, art1.path)
        assert "rebeccapurple" not in col.models.by_name("Tiny Basic")["css"]
        import_apkg(col, art2.path)
        for name in ("Tiny Basic", "Tiny Cloze"):
            assert "rebeccapurple" in col.models.by_name(name)["css"]
        assert card_problems(col) == []
        assert len(col.models.all_names_and_ids()) == len({m.name for m in col.models.all_names_and_ids()})
    finally:
        col.close()


def test_a_ten_thousand_fact_deck_has_every_card(tmp_path: Path) -> None:
    """A large book's deck holds a note per card (its speed is measured by `make bench`, not here)."""
    files: dict[str, str | bytes] = {"book.toml": BOOK_TOML}
    for c in range(80):
        body = [f"# Chapter {c}\n"]
        for s in range(10):
            body.append(f"\n## Section {c} {s}\n")
            for i in range(10):
                body.append(f"- Fact {c} {s} {i} is ==answer {c} {s} {i}== in *words*")
            body.append(f"\nTerm {c} {s}\n: Means `thing {s}` and more\n")
            body.append("```python\nx = [i * 2 for i in range(10)]\n```\n")
        files[f"{c:02d}-ch.md"] = "\n".join(body) + "\n"
    content = make_book(tmp_path, files)
    loaded = load(content)
    from publisher.core.text import facts

    assert sum(1 for _ in facts(loaded.book)) >= 10_000
    art = anki_renderer.render(loaded, tmp_path / "build", content, RenderOptions())
    assert art.summary == f"{len(loaded.cards)} notes" and len(loaded.cards) >= 8_000
    data = read_apkg(art.path, tmp_path)
    assert sorted(data["notes"]) == sorted(anki_renderer.guid(loaded.book.meta, c.identity) for c in loaded.cards)


def test_note_type_shape_never_changes_silently(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    content = tiny_book(tmp_path)
    build(content, tmp_path / "v1")
    before = (content / "cards.lock").read_bytes()
    monkeypatch.setattr(anki_renderer, "BASIC_FIELDS", ("Front", "Back", "Context", "Origin"))
    with pytest.raises(ValueError, match="changed shape"):
        build(content, tmp_path / "v2")
    assert (content / "cards.lock").read_bytes() == before
    assert not (tmp_path / "v2" / "tiny-book.apkg").exists()
    diags = check_ledger(load(content), content)
    assert [d.code for d in diags] == ["P117"] and "changed shape" in diags[0].message


def test_deck_names_are_recorded_and_never_change(tmp_path: Path) -> None:
    """Anki matches decks by name: a renamed deck would be a new, empty deck beside the old one."""
    content = make_book(tmp_path, {"book.toml": 'title = "Deck Book"\n[ids]\ndeck = 7\n',
                                   "01-alpha.md": "# Alpha\n\n- **Queue** - holds messages\n",
                                   "02-beta.md": "# Beta\n\n- **Topic** - fans messages out\n"})
    build(content, tmp_path / "b1")
    first = ledger.read(content / "cards.lock").decks
    assert first == {"alpha": "Deck Book::1 Alpha", "beta": "Deck Book::2 Beta"}
    # retitle a chapter and add one before it: the recorded names stay, the new chapter gets its own
    (content / "02-beta.md").write_text("# Beta, retitled\n\n- **Topic** - fans messages out\n", "utf-8")
    (content / "00-zero.md").write_text("# Zero\n\n- **Stream** - an ordered log\n", "utf-8")
    build(content, tmp_path / "b2")
    second = ledger.read(content / "cards.lock").decks
    assert {k: second[k] for k in first} == first and second["zero"].startswith("Deck Book::")
    assert len(set(second.values())) == 3


def test_a_book_built_before_keeps_its_unnumbered_deck_names(tmp_path: Path) -> None:
    content = make_book(tmp_path, {"book.toml": 'title = "Old Book"\n[ids]\ndeck = 8\n',
                                   "01-alpha.md": "# Alpha\n\n- **Queue** - holds messages\n"})
    build(content, tmp_path / "b1")
    lock = content / "cards.lock"
    old = ledger.read(lock)
    ledger.write(lock, ledger.Ledger(old.notetypes, old.notes))  # a ledger written before decks were recorded
    build(content, tmp_path / "b2")
    assert ledger.read(lock).decks == {"alpha": "Old Book::Alpha"}


# The book as learners imported it before the editing pass of the AWS book (issue 13): its content
# and ledger at this commit. The edit must update their notes in place and keep every review.
BEFORE_EDITING = "6ee8396"


def _content_at(commit: str, dest: Path) -> Path:
    import subprocess

    try:
        files = subprocess.run(["git", "-C", str(REPO), "ls-tree", "-r", "--name-only", commit, "content"],
                               capture_output=True, text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip(f"no git history with commit {commit} (a shallow or exported copy)")
    for name in files:
        data = subprocess.run(["git", "-C", str(REPO), "show", f"{commit}:{name}"], capture_output=True, check=True).stdout
        target = dest / Path(name).relative_to("content")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return dest


def test_the_edited_aws_book_updates_the_deck_learners_have(tmp_path: Path) -> None:
    """The previous deck imported and studied, then today's: every edited card updates its note in place,
    every review stays, nothing doubles, and no card the learner studied is dropped unannounced."""
    old = _content_at(BEFORE_EDITING, tmp_path / "before")
    _, art1 = build(old, tmp_path / "v1")
    now = copy_content(REPO / "content", tmp_path / "now")
    # today's ledger continues the one the previous deck was built from (the build above advanced it)
    (now / "cards.lock").write_bytes((old / "cards.lock").read_bytes())
    loaded2, art2 = build(now, tmp_path / "v2")
    assert not [d for d in check_ledger(loaded2, now) if d.code == "P120"]  # nothing removed unannounced
    assert not [d for d in art2.diagnostics if d.code == "P120"]
    meta = loaded2.book.meta
    col = new_collection(tmp_path / "anki")
    try:
        import_apkg(col, art1.path)
        review_everything(col)
        v1, reviews = snapshot(col), revlog(col)
        log = import_apkg(col, art2.path)
        assert not log.conflicting and len(log.updated) >= 40  # the edited cards, in place
        v2 = snapshot(col)
        assert set(v1) <= set(v2)  # no note lost ...
        new = set(v2) - set(v1)
        # ... and the few new ones are new cards, not copies (lines split in two by issue 13's and issue 26's
        # editing passes: 11 since the deck learners had)
        assert len(new) == len(log.new) and len(new) <= 12
        for guid, state in v1.items():
            assert v2[guid].id == state.id and v2[guid].cards == state.cards  # scheduling untouched
        assert revlog(col) == reviews
        removed = anki_renderer.removed_tag_for(meta)
        retired = {anki_renderer.guid(meta, i) for i in load(now).retired}
        gone = {g for g, s in v2.items() if removed in s.tags}
        assert gone <= retired | {g for g in v1 if removed in v1[g].tags}  # only cards retired on purpose
        assert card_problems(col) == []
    finally:
        col.close()


@pytest.mark.parametrize(("title", "name"), [("Collection", "deck-collection.apkg"),
                                             ("Backup and restore notes", "deck-backup-and-restore-notes.apkg"),
                                             ("Backups in S3", "backups-in-s3.apkg")])
def test_the_package_is_never_named_as_anki_names_a_whole_collection(tmp_path: Path, title: str, name: str) -> None:
    """Issue 27: Anki desktop imports collection.apkg and backup-*.apkg as a whole collection, replacing the
    learner's; the deck of a book with such a title is named otherwise."""
    from publisher.read.bookfile import read_meta

    (tmp_path / "book.toml").write_text(f'title = "{title}"\n', "utf-8")
    meta, _ = read_meta(tmp_path, "book")
    assert anki_renderer.output_path(meta, tmp_path / "out").name == name


@pytest.mark.slow
def test_a_deletion_holding_colons_and_braces_reads_as_written(tmp_path: Path) -> None:
    """Issue 26: '::' and '}}' inside a deletion are character references, never a zero-width space: the card
    shows AWS::CloudFormation::Stack, copy-paste gets those characters, and Anki's search finds it."""
    content = make_book(tmp_path, {"book.toml": BOOK_TOML, "a.md": "# A\n\n## Types\n\n"
                                   "The resource type ==AWS::CloudFormation::Stack== nests a template; a set is ==`{{x}}`==.\n"})
    _, art = build(content, tmp_path / "build")
    col = new_collection(tmp_path / "anki")
    try:
        import_apkg(col, art.path)
        # (card_problems would flag the '{{x}}' the author wrote: the Anki error pages are what matter here)
        sides = [side for c in col.find_cards("") for side in (col.get_card(c).question(), col.get_card(c).answer())]
        assert not [m for side in sides for m in ERROR_MARKERS if m in side.lower()]
        fronts = [col.get_card(c).question() for c in col.find_cards("")]
        assert all(re.search(r'class="cloze"[^>]*>\[', q) for q in fronts)  # each deletion hidden on its card
        from html import unescape

        backs = [unescape(col.get_card(c).answer()) for c in col.find_cards("")]  # as the card shows them
        assert len(backs) == 2 and all("AWS::CloudFormation::Stack" in b and "{{x}}" in b for b in backs)
        assert all("\u200b" not in b and "&#8203;" not in b for b in backs)
        assert len(col.find_notes(r"AWS\:\:CloudFormation\:\:Stack")) == 1
    finally:
        col.close()
