"""Driving the real Anki (the ``anki`` package from PyPI) the way a user does.

Import goes through the backend's package importer with the presets Anki
desktop's File > Import dialog starts from; reviews take cards from the
scheduler's queue, one deck at a time, and answer Good.
"""

from __future__ import annotations

import re

import anki.collection  # noqa: F401  (must be imported before the other anki modules)

import shutil
from dataclasses import dataclass
from pathlib import Path

from anki.collection import Collection, ImportAnkiPackageRequest
from anki.scheduler.v3 import CardAnswer

from publisher.core.model import Loaded
from publisher.pipeline import load
from publisher.renderers import Artifact, RenderOptions
from publisher.renderers import anki as anki_renderer

# Anki shows a blank front, a missing cloze number or a broken template as an
# error page inside the card (never an exception); every such page links here.
ERROR_MARKERS = (
    "docs.ankiweb.net/templates/errors",
    "front of this card is blank",
    "found on card",
    "has a problem",
)


def build(content: Path, out: Path) -> tuple[Loaded, Artifact]:
    loaded = load(content)
    return loaded, anki_renderer.render(loaded, out, content, RenderOptions())


def new_collection(folder: Path) -> Collection:
    folder.mkdir(parents=True, exist_ok=True)
    col = Collection(str(folder / "collection.anki2"))
    # let every new card be studied today (Anki's default is 20 new cards a day)
    conf = col.decks.get_config(1)
    assert conf is not None
    conf["new"]["perDay"] = 9999  # the most Anki accepts
    conf["rev"]["perDay"] = 9999
    col.decks.update_config(conf)
    assert col.decks.get_config(1)["new"]["perDay"] == 9999  # type: ignore[index]
    # the day starts twelve hours from now: a learning step of ten minutes never crosses into tomorrow (run
    # minutes before Anki's default 4 a.m. cutoff, every card became an interday learning card)
    import time

    col.set_config("rollover", (time.localtime().tm_hour + 12) % 24)
    return col


def import_apkg(col: Collection, apkg: Path):  # -> ImportResponse.Log
    """File > Import with the options the desktop dialog starts from (the backend's presets)."""
    options = col._backend.get_import_anki_package_presets()
    log = col.import_anki_package(ImportAnkiPackageRequest(package_path=str(apkg), options=options)).log
    col.models._clear_cache()  # as the desktop does after an operation that changed note types
    return log


def review_everything(col: Collection) -> int:
    """Select each deck in turn and answer Good to the card at the top of the queue until it is empty."""
    answers = 0
    limit = 20 * max(1, col.card_count())
    for entry in sorted(col.decks.all_names_and_ids(), key=lambda d: d.name):
        col.decks.select(entry.id)
        while True:
            queued = col.sched.get_queued_cards(fetch_limit=1)
            if not queued.cards:
                break
            top = queued.cards[0]
            card = col.get_card(top.card.id)
            card.start_timer()
            col.sched.answer_card(col.sched.build_answer(card=card, states=top.states, rating=CardAnswer.GOOD))
            answers += 1
            assert answers < limit, "the queue never empties"
    return answers


@dataclass(frozen=True)
class NoteState:
    id: int
    mod: int
    notetype: str
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    cards: tuple[tuple[int, int, int, int, int, int, int, int], ...]  # (ord, id, type, queue, due, ivl, reps, lapses)


def snapshot(col: Collection) -> dict[str, NoteState]:
    """Every note by GUID, with its cards' scheduling state."""
    out: dict[str, NoteState] = {}
    for nid in col.find_notes(""):
        note = col.get_note(nid)
        nt = note.note_type()
        assert nt is not None
        cards = tuple(sorted(
            (c.ord, c.id, c.type, c.queue, c.due, c.ivl, c.reps, c.lapses) for c in note.cards()
        ))
        assert note.guid not in out, f"duplicate GUID {note.guid}"
        out[note.guid] = NoteState(note.id, note.mod, nt["name"], tuple(note.fields), tuple(sorted(note.tags)), cards)
    return out


def revlog(col: Collection) -> list[tuple]:
    return col.db.all("select id, cid, ease, ivl, lastIvl, factor, type from revlog order by id")


def card_problems(col: Collection) -> list[str]:
    """What is wrong with any card as Anki renders it (empty list: nothing)."""
    problems = []
    for nid in col.find_notes(""):
        note = col.get_note(nid)
        if not note.cards():
            problems.append(f"note {note.guid} has no card (blank front?)")
    for cid in col.find_cards(""):
        card = col.get_card(cid)
        q, a = card.question(), card.answer()
        body_q, body_a = _body(q), _body(a)
        where = f"card {cid} ({card.note().fields[0][:60]!r})"
        if not body_q.strip() or not body_a.strip():
            problems.append(f"{where}: empty side")
        if body_q == body_a:
            problems.append(f"{where}: the answer is the question")
        for text in (q, a):
            low = text.lower()
            if "{{" in text:
                problems.append(f"{where}: '{{{{' left in the card")
            if "<script" in low:
                problems.append(f"{where}: script in the card")
            for marker in ERROR_MARKERS:
                if marker in low:
                    problems.append(f"{where}: Anki error page ({marker})")
        if card.note_type()["type"] == 1:  # cloze: the deletion is hidden on the front, shown on the back
            # "[...]", or the author's hint in its place ("[which two user actions?]")
            if not re.search(r'class="cloze"[^>]*>\[', q):
                problems.append(f"{where}: no cloze deletion on the front")
            if 'class="cloze"' not in a:
                problems.append(f"{where}: no cloze deletion on the back")
    return problems


def _body(side: str) -> str:
    """A rendered side without Anki's <style> prefix."""
    return side.split("</style>", 1)[1] if "</style>" in side else side


def copy_content(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".*"))
    return dest
