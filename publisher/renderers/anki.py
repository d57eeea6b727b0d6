"""The Anki deck: ``build/<book-slug>.apkg``, written with genanki.

Two note types owned by the book (ids from ``book.toml``): *Basic* (Front,
Back, Context, Source) and *Cloze* (Text, Extra, Context, Source); their
templates and CSS are files under ``templates/anki/``. One deck named after
the book, one subdeck per chapter. Every field is an HTML fragment from
:mod:`publisher.markup.html` (sanitized); images are packed as media under
content-hash names.

Updates reach a user's collection because every note's GUID comes from the
card's identity (never its answer) and its modification time comes from the
card ledger (:mod:`publisher.cards.ledger`): the time the note last changed, not
the build time. Everything else that genanki would take from the clock (the
package timestamp behind note and card ids, zip entry dates) is derived from
the ledger too, so unchanged sources give a byte-identical package.
"""

from __future__ import annotations

import datetime
import hashlib
import itertools
import shutil
import json
import sqlite3
import tempfile
import time
import zipfile
from dataclasses import dataclass, field, replace
from html import escape
from pathlib import Path
from urllib.parse import urlsplit

import genanki
from genanki.apkg_col import APKG_COL
from genanki.apkg_schema import APKG_SCHEMA

from ..markup import html
from ..cards import ledger
from ..core import model as m
from ..core.diagnostics import Diagnostic
from ..core.fsutil import atomic_path
from ..check.imagecheck import prepared, problem as image_problem, sound_problem
from ..read.flashcards import roots
from ..read.sources import SOUND_SUFFIXES
from ..core.model import Loaded
from ..markup.templates import read_text
from ..core.text import block_inlines, card_options, count, plain_text, slugify, walk_blocks, walk_inlines
from ..check.validate import resolve_inside
from . import Artifact, RenderOptions

NAME = "anki"
TEMPLATES = "anki"
INPUTS = ("cards.lock",)  # the ledger: read and written by this renderer alone

# The shape of the note types. Changing a field list makes Anki treat the note
# type as a different one (a copy, and no more updates): never change these.
BASIC_FIELDS = ("Front", "Back", "Context", "Source")
CLOZE_FIELDS = ("Text", "Extra", "Context", "Source")
TEMPLATE_FILES = {
    "basic": ("Card 1", "anki/basic-front.html", "anki/basic-back.html"),
    "cloze": ("Cloze", "anki/cloze-front.html", "anki/cloze-back.html"),
}
CSS_FILE = "anki/style.css"
NIGHT_PYGMENTS_STYLE = "github-dark"
NIGHT_SELECTORS = (".nightMode", ".night_mode")
ZIP_EPOCH = 315532800  # 1980-01-01, the earliest date a zip entry can carry


def output_path(meta: m.Meta, out_dir: Path) -> Path:
    """``<slug>.apkg``; never ``collection.apkg`` or ``backup-*.apkg``: Anki desktop takes a file of either
    name for a whole collection and offers to replace the learner's with it."""
    name = meta.slug or "deck"
    if name == "collection" or name.startswith("backup-") or name == "backup":
        name = f"deck-{name}"
    return Path(out_dir) / f"{name}.apkg"


# --------------------------------------------------------------------------- the plan: what the deck holds


@dataclass(frozen=True)
class NoteTypeSpec:
    kind: str  # "basic" | "cloze"
    model_id: int
    name: str
    fields: tuple[str, ...]
    template_name: str
    qfmt: str
    afmt: str
    css: str

    @property
    def model_type(self) -> int:
        return genanki.Model.CLOZE if self.kind == "cloze" else genanki.Model.FRONT_BACK

    def entry(self) -> ledger.TypeEntry:
        shape = {
            "name": self.name, "type": self.kind, "fields": list(self.fields),
            "templates": [{"name": self.template_name, "qfmt": self.qfmt, "afmt": self.afmt}], "css": self.css,
        }
        return ledger.TypeEntry(self.kind, self.name, ledger.digest(shape), 0, self.model_id,
                                self.fields + ("|", self.template_name))


@dataclass
class Plan:
    """Everything the package holds except the times (those come from the ledger)."""

    meta: m.Meta
    notetypes: tuple[ledger.TypeEntry, ...]
    specs: dict[str, NoteTypeSpec]
    notes: list[ledger.NoteEntry]  # live notes in document order, identities unique, time 0
    cards: list[m.Card]  # the card of each note
    media: dict[str, Path] = field(default_factory=dict)  # packed name -> file
    decks: dict[str, tuple[int, str]] = field(default_factory=dict)  # chapter slug -> (deck id, name)
    removed_tag: str = "book::removed"


def deck_name_part(text: str) -> str:
    """A deck name component: no '::' (that would nest), no surrounding space."""
    return " ".join(text.replace("::", ":").split())


def subdeck_id(deck_id: int, chapter_slug: str) -> int:
    """A stable deck id for a chapter, from the book's deck id and the chapter slug."""
    return 1 << 40 | int.from_bytes(hashlib.sha256(f"publisher:{deck_id}:{chapter_slug}".encode()).digest()[:5], "big")


def deck_key(meta: m.Meta, card: m.Card) -> str:
    """Which deck a card goes to: its chapter's (the chapter slug), or the deck of the flashcard tag it
    was written under (``#`` and the tag: ``#flashcards::Logic``); the bare first flashcard tag
    (``#flashcards``) names no deck of its own."""
    if not card.deck or card.deck in roots(meta.flashcards)[:1]:
        return card.chapter
    return "#" + card.deck


def _tag_deck_names(meta: m.Meta, keys: list[str], old: ledger.Ledger, used: set[str]) -> dict[str, tuple[int, str]]:
    """The decks of flashcard tags, below the book's deck: ``#flashcards/Logic/Week-1`` is ``Book::Logic::
    Week-1`` (other flashcard tags keep their first name: ``#vocab/verbs`` is ``Book::vocab::verbs``). Like a
    chapter's, a tag deck's name is recorded (under its tag) and never changes."""
    top = deck_name_part(meta.title) or meta.slug
    first = roots(meta.flashcards)[:1]
    out: dict[str, tuple[int, str]] = {}
    for key in dict.fromkeys(k for k in keys if k.startswith("#")):
        if key in old.decks:
            out[key] = (subdeck_id(meta.ids.deck, key), old.decks[key])
            continue
        parts = key[1:].split("::")
        if parts[0] in first:
            parts = parts[1:]
        name = "::".join([top] + [deck_name_part(x) or "_" for x in parts])
        if name in used:
            name = f"{name} ({key})"
        used.add(name)
        out[key] = (subdeck_id(meta.ids.deck, key), name)
    return out


def deck_names(book: m.Book, old: ledger.Ledger, keys: list[str] = []) -> dict[str, tuple[int, str]]:
    """Each chapter's deck (id, name). A name once recorded in the ledger is kept for good (retitling
    a chapter or reordering the book never renames a deck users have imported: Anki would make a new
    deck and leave the cards in the old one). A book's first build numbers its chapters' decks
    ("03 VPC") so that Anki, which sorts decks by name, lists them in book order; a book built before
    (a ledger with notes but no deck names) keeps the names it had."""
    meta = book.meta
    top = deck_name_part(meta.title) or meta.slug
    if not meta.subdecks:
        return {ch.slug: (meta.ids.deck, top) for ch in book.chapters} | _tag_deck_names(meta, keys, old, {top})
    numbered = not old.notes and not old.decks
    width = len(str(len(book.chapters)))
    used_names = {top} | set(old.decks.values())
    decks: dict[str, tuple[int, str]] = {}
    counters: dict[str, int] = {}
    for ch in book.chapters:
        if ch.slug in old.decks:
            decks[ch.slug] = (subdeck_id(meta.ids.deck, ch.slug), old.decks[ch.slug])
            continue
        # a folder is a level of decks; a folder's opening page (README) is the folder's own deck
        chain = book.parts_of(ch)
        parts = []
        for depth, p in enumerate(chain):
            label = deck_name_part(plain_text(p.title)) or p.slug
            if numbered:
                key = "/".join(x.path for x in chain[:depth])
                n = counters.setdefault(f"{key}>{p.path}", len([k for k in counters if k.startswith(key + ">")]) + 1)
                label = f"{n:0{width}d} {label}"
            parts.append(label)
        own: list[str] = []
        if not (ch.intro and parts):
            label = deck_name_part(plain_text(ch.title)) or ch.slug
            if numbered:
                key = "/".join(x.path for x in chain)
                n = len([k for k in counters if k.startswith(key + ">")]) + 1
                counters[f"{key}>{ch.slug}"] = n
                label = f"{n:0{width}d} {label}"
            own = [label]
        part = "::".join(parts + own)
        name = f"{top}::{part}"
        if name in used_names:
            name = f"{top}::{part} ({ch.slug})"
        used_names.add(name)
        decks[ch.slug] = (subdeck_id(meta.ids.deck, ch.slug), name)
    return decks | _tag_deck_names(meta, keys, old, used_names | {n for _, n in decks.values()})


def removed_tag_for(meta: m.Meta) -> str:
    return f"{slugify(meta.short_name) or 'book'}::removed"


def note_types(meta: m.Meta, content_dir: Path | None) -> dict[str, NoteTypeSpec]:
    css = stylesheet(content_dir)
    specs = {}
    for kind, model_id, fields in (("basic", meta.ids.basic_model, BASIC_FIELDS), ("cloze", meta.ids.cloze_model, CLOZE_FIELDS)):
        tname, front, back = TEMPLATE_FILES[kind]
        specs[kind] = NoteTypeSpec(
            kind, model_id, f"{meta.short_name} {kind.title()}", fields, tname,
            read_text(front, content_dir).strip() + "\n", read_text(back, content_dir).strip() + "\n", css,
        )
    return specs


def stylesheet(content_dir: Path | None) -> str:
    """templates/anki/style.css + the Pygments classes, light and (under night mode) dark."""
    night = []
    for line in html.pygments_css(NIGHT_PYGMENTS_STYLE).splitlines():
        if line.startswith(".highlight"):
            selector, brace, rest = line.partition("{")
            sel = selector.strip()
            night.append(", ".join(f"{n} {sel}" for n in NIGHT_SELECTORS) + " " + brace + rest)
    return (
        read_text(CSS_FILE, content_dir).rstrip() + "\n\n/* code highlighting (Pygments) */\n"
        + html.pygments_css().rstrip() + "\n" + "\n".join(night) + "\n"
    )


class _Media:
    """Images to media: each file inside the content folder gets a collision-proof name."""

    SUFFIX_OK = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.")

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, Path] = {}
        self._by_url: dict[str, str | None] = {}

    def __call__(self, url: str) -> str | None:
        if url not in self._by_url:
            self._by_url[url] = self._resolve(url)
        return self._by_url[url]

    def _resolve(self, url: str) -> str | None:
        text = url.strip()
        if urlsplit(text).scheme or text.startswith("//"):
            return None  # remote or unsafe: refused (validation reports it)
        target, _why = resolve_inside(self.root, text)
        if target is None or not target.is_file():
            return None
        if target.suffix.lower() not in SOUND_SUFFIXES and image_problem(target) is not None:
            return None  # not an image every output can show (P127): the alt text, as in the others
        if target.suffix.lower() in SOUND_SUFFIXES and sound_problem(target) is not None:
            return None  # too large to pack (P127): its label, unplayed
        # a sound as it is; an image at most 1600 px on its longest side (resampled, the original untouched)
        data = target.read_bytes() if target.suffix.lower() in SOUND_SUFFIXES else prepared(target)
        suffix = "".join(ch for ch in target.suffix.lower() if ch in self.SUFFIX_OK)
        name = hashlib.sha256(data).hexdigest()[:24] + suffix
        self.files[name] = target
        return name


def _link_href(url: str) -> str | None:
    """Only absolute web and mail links work inside a card; the rest is shown as text."""
    return url if urlsplit(url.strip()).scheme.lower() in ("http", "https", "mailto") else None


def _footnote_keys(blocks: tuple[m.Block, ...]) -> list[str]:
    keys: list[str] = []
    for b in walk_blocks(blocks):
        for run in block_inlines(b):
            for node in walk_inlines(run):
                if isinstance(node, m.FootnoteRef) and node.key not in keys:
                    keys.append(node.key)
    return keys


def _relative(file: str, root: Path, cache: dict[str, str]) -> str:
    """A chapter file as shown on cards and in the ledger: relative to the content folder."""
    if file not in cache:
        try:
            cache[file] = Path(file).resolve().relative_to(root.resolve()).as_posix()
        except (ValueError, OSError):
            cache[file] = Path(file).name
    return cache[file]


def plan(loaded: Loaded, content_dir: Path | str) -> Plan:
    """Render every card's fields (no clock, no files written)."""
    book, cards = loaded.book, loaded.cards
    content_dir = Path(content_dir)
    meta = book.meta
    specs = note_types(meta, content_dir)
    media = _Media(content_dir)
    chapters = {ch.slug: ch for ch in book.chapters}
    rel_cache: dict[str, str] = {}
    label = html.original_label(meta.date)
    plain = html.Options(image_src=media, link_href=_link_href, original_label=label, sound="anki")
    cloze = html.Options(image_src=media, link_href=_link_href, cloze=True, original_label=label, sound="anki")
    notes: list[ledger.NoteEntry] = []
    kept: list[m.Card] = []
    seen: set[str] = set()
    for card in cards:
        if card.identity in seen:
            continue  # a duplicate identity is an error (P104); the first card wins
        seen.add(card.identity)
        front_opts, back_opts = (cloze, plain) if card.kind == "cloze" else (plain, plain)
        if card.kind == "cloze" and "together" in card_options(*(b.children for b in card.front if isinstance(b, m.Para))):
            front_opts = replace(cloze, cloze_together=True)  # all marks of the line on one card
        notes_html = ""
        keys = _footnote_keys(card.front + card.back)
        chapter = chapters.get(card.chapter)
        if keys and chapter is not None:
            defined = {f.key: f for f in chapter.footnotes}
            used = tuple(defined[k] for k in keys if k in defined)
            numbers = {f.key: i for i, f in enumerate(used, 1)}
            front_opts = replace(front_opts, footnote_numbers=numbers)
            back_opts = replace(plain, footnote_numbers=numbers)
            if used:
                notes_html = html.sanitize(html.footnotes(m.Chapter(chapter.file, chapter.slug, chapter.title, (), used), back_opts))
        first = html.render(card.front, front_opts)
        second = html.render(card.back, back_opts)
        if notes_html:
            second = f"{second}\n{notes_html}" if second else notes_html
        context = " \u203a ".join(escape(part, quote=False) for part in card.context if part)
        rel = _relative(card.loc.file, content_dir, rel_cache)
        # the file, not the line: lines shift when other cards are added, and that is no edit of this note
        source = escape(rel, quote=False)
        kind = "cloze" if card.kind == "cloze" else "basic"
        tags = tuple("_".join(t.split()) for t in card.tags if t.strip())
        fields = (first, second, context, source)
        notes.append(ledger.NoteEntry(card.identity, kind, ledger.note_hash(kind, fields, tags), 0,
                                      f"{rel}:{card.loc.line}", card.chapter, tags, fields))
        kept.append(card)
    decks = deck_names(book, ledger.read(content_dir / ledger.LEDGER_NAME), [deck_key(meta, c) for c in kept])
    return Plan(meta, tuple(s.entry() for s in specs.values()), specs, notes, kept, dict(sorted(media.files.items())),
                decks, removed_tag_for(meta))


# --------------------------------------------------------------------------- genanki, with times from the ledger


class _Model(genanki.Model):
    """A note type whose modification time is its ledger time (genanki would use the package time)."""

    def __init__(self, spec: NoteTypeSpec, mtime: int) -> None:
        super().__init__(
            spec.model_id, spec.name, fields=[{"name": f} for f in spec.fields],
            templates=[{"name": spec.template_name, "qfmt": spec.qfmt, "afmt": spec.afmt}],
            css=spec.css, model_type=spec.model_type, sort_field_index=0,
        )
        self.mtime = mtime

    def to_json(self, timestamp: float, deck_id: int) -> dict:
        return super().to_json(self.mtime, deck_id)


# the package's own collection was created on this day (genanki's col.crt): a review card's due day counts
# from it, and Anki moves it onto the learner's calendar when it imports the card's scheduling
PACKAGE_CREATED = datetime.datetime.fromtimestamp(int(APKG_COL.split("VALUES(")[1].split(",")[1]), datetime.UTC).date()


class _ReviewCard(genanki.Card):
    """A card the learner has reviewed before (the Spaced Repetition plugin's history): a review card due
    on its day, with its interval and ease. genanki writes only new cards."""

    def __init__(self, ord: int, review: tuple[str, int, int]) -> None:
        super().__init__(ord)
        self.review = review

    def write_to_db(self, cursor: sqlite3.Cursor, timestamp: float, deck_id: int, note_id: int, id_gen: object,
                    due: int = 0) -> None:
        day, ivl, ease = self.review
        due_day = (datetime.date.fromisoformat(day) - PACKAGE_CREATED).days
        cursor.execute("INSERT INTO cards VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?);", (
            next(id_gen), note_id, deck_id, self.ord, int(timestamp), -1,  # type: ignore[call-overload]
            2, 2, due_day, max(1, ivl), ease * 10, 0, 0, 0, 0, 0, 0, "",  # type, queue: review; ivl, factor
        ))


class _Note(genanki.Note):
    """A note whose ``mod`` (and its cards' ``mod``) is its ledger time, and whose cards carry the reviews
    written in the notes (``schedule``: one a card, in order).

    genanki's ``Note.write_to_db(cursor, timestamp, deck_id, id_gen)`` uses
    ``timestamp`` for nothing but the ``mod`` columns of the note and its cards
    (ids come from ``id_gen``), so passing the ledger time there sets it.
    """

    def __init__(self, mtime: int, schedule: tuple[tuple[str, int, int], ...] = (), **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.mtime = mtime
        self.schedule = schedule

    def write_to_db(self, cursor: sqlite3.Cursor, timestamp: float, deck_id: int, id_gen: object) -> None:
        if self.schedule:
            own = sorted(self.cards, key=lambda c: c.ord)
            self.cards = [_ReviewCard(c.ord, self.schedule[i]) if i < len(self.schedule) else c for i, c in enumerate(own)]
        super().write_to_db(cursor, self.mtime, deck_id, id_gen)


class _Package(genanki.Package):
    """genanki's collection with every deck and note type written once (genanki's per-deck
    ``Deck.write_to_db`` re-adds the models under int keys, giving duplicate JSON keys)."""

    def __init__(self, decks: list[genanki.Deck], models: list[_Model], media: dict[str, Path]) -> None:
        super().__init__(decks, [])
        self.models = models
        self.media = media

    def write_to_db(self, cursor: sqlite3.Cursor, timestamp: float, id_gen: object) -> None:
        cursor.executescript(APKG_SCHEMA)
        cursor.executescript(APKG_COL)
        (decks_json,) = cursor.execute("SELECT decks FROM col").fetchone()
        decks = json.loads(decks_json)
        for deck in self.decks:
            decks[str(deck.deck_id)] = deck.to_json()
        top = self.decks[0].deck_id
        models = {str(model.model_id): model.to_json(timestamp, top) for model in self.models}
        cursor.execute("UPDATE col SET decks = ?, models = ?", (json.dumps(decks), json.dumps(models)))
        for deck in self.decks:
            for note in deck.notes:
                note.write_to_db(cursor, timestamp, deck.deck_id, id_gen)

    def write_apkg(self, dest: Path, timestamp: int) -> None:
        """Like genanki's ``write_to_file``, but deterministic: fixed zip dates, order and attributes."""
        with tempfile.TemporaryDirectory(prefix="publisher-anki-") as tmp:
            db = Path(tmp) / "collection.anki2"
            conn = sqlite3.connect(db)
            try:
                cursor = conn.cursor()
                self.write_to_db(cursor, timestamp, itertools.count(int(timestamp) * 1000))
                conn.commit()
            finally:
                conn.close()
            collection = db.read_bytes()
        names = list(self.media)
        entries = [("collection.anki2", collection), ("media", json.dumps({str(i): n for i, n in enumerate(names)}).encode())]
        entries += [(str(i), _media_bytes(self.media[n])) for i, n in enumerate(names)]
        when = time.gmtime(max(int(timestamp), ZIP_EPOCH))[:6]
        with zipfile.ZipFile(dest, "w") as z:
            for name, data in entries:
                info = zipfile.ZipInfo(name, date_time=when)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3
                info.external_attr = 0o100644 << 16
                z.writestr(info, data, compresslevel=6)


# --------------------------------------------------------------------------- render


def render(loaded: Loaded, out_dir: Path, content_dir: Path, options: RenderOptions) -> Artifact:
    book = loaded.book
    meta = book.meta
    content_dir = Path(content_dir)
    p = plan(loaded, content_dir)
    lock = content_dir / ledger.LEDGER_NAME
    old = ledger.read(lock)
    backup = Path(out_dir) / BACKUP_NAME
    if not lock.exists() and _same_book(backup, p.notetypes):
        # a ledger that went missing is not a new book: starting afresh would forget every time and removed card
        raise ValueError(f"{lock} is missing, but the last deck built into {out_dir} kept one: restore it "
                         f"(cp {backup} {lock}) and build again, or delete {backup} to start a new ledger")
    if old.problems:
        # never a silent reset: every timestamp and every removed card would be forgotten
        line, what = old.problems[0]
        hint = f"; the previous one is {backup}" if backup.is_file() else ""
        raise ValueError(f"{lock}:{line}: the card ledger is damaged ({what}): fix that line or restore it{hint}")
    for t in p.notetypes:
        if ledger.shape_change(old.notetypes.get(t.kind), t):
            raise ValueError(ledger.shape_change(old.notetypes.get(t.kind), t))
    new = ledger.update(old, p.notetypes, p.notes, p.removed_tag, decks={slug: name for slug, (_, name) in p.decks.items()})

    models = {kind: _Model(spec, new.notetypes[kind].time) for kind, spec in p.specs.items()}
    top = genanki.Deck(meta.ids.deck, deck_name_part(meta.title) or meta.slug, _description(meta))
    decks: dict[int, genanki.Deck] = {top.deck_id: top}
    for did, name in p.decks.values():
        decks.setdefault(did, genanki.Deck(did, name))
    live = [new.notes[e.id] for e in p.notes]
    removed = sorted((e for e in new.notes.values() if e.removed), key=lambda e: e.id)
    if removed and meta.keep_removed:
        # cards taken out of the book go to a deck of their own, outside the book's: a new learner's study
        # never meets them; one who has them keeps them where they are (an import never moves a card)
        name = new.decks.setdefault(RETIRED, f"{top.name} (retired)")  # recorded, and never renamed
        decks[subdeck_id(meta.ids.deck, RETIRED)] = genanki.Deck(
            subdeck_id(meta.ids.deck, RETIRED), name,
            f"Cards taken out of {escape(meta.title)}: kept so that no review is lost; nothing here is to study.")
    due = itertools.count(1)
    goes = {e.id: deck_key(meta, card) for e, card in zip(p.notes, p.cards)}
    history = {e.id: card.schedule for e, card in zip(p.notes, p.cards) if card.schedule}
    for e in live + (removed if meta.keep_removed else []):
        did = (subdeck_id(meta.ids.deck, RETIRED) if e.removed else
               p.decks.get(goes.get(e.id, e.chapter), p.decks.get(e.chapter, (top.deck_id, "")))[0])
        decks[did].add_note(_Note(
            e.time, history.get(e.id, ()), model=models[e.type], fields=list(e.fields),
            tags=list(ledger.package_tags(e, p.removed_tag)), guid=guid(meta, e.id), due=next(due),
        ))

    dest = output_path(meta, out_dir)
    package = _Package(list(decks.values()), list(models.values()), p.media)
    with atomic_path(dest) as tmp:
        package.write_apkg(tmp, new.newest)
        ledger.write(lock, new)  # part of the build: only once the package is complete
        with atomic_path(Path(out_dir) / BACKUP_NAME) as bak:  # a copy to restore if the file is damaged
            shutil.copyfile(lock, bak)

    diags: list[Diagnostic] = []
    for e, card in zip(p.notes, p.cards):  # deletions an edit took away: empty cards in learners' decks
        if lost := ledger.lost_deletions(old.notes.get(e.id), e):
            diags.append(ledger.lost_diag(e, lost, card.loc.file, card.loc.line))
    diags.extend(ledger.moved_diags(old, list(zip(p.notes, p.cards)), loaded.retired))
    for e in removed:
        if e.id in loaded.retired:
            continue  # retired by the author (`card: no`): tagged removed, nothing to warn about
        file, line = ledger.split_loc(e.loc, book.root)
        diags.append(ledger.removed_diag(e, file, line, p.removed_tag, meta.keep_removed))
    summary = count(len(live), "note") + (f" + {len(removed)} removed" if removed and meta.keep_removed else "")
    if reviewed := sum(len(x) for x in history.values()):
        # Anki keeps a package's scheduling only when the learner asks it to, before the first import
        summary += (f"; {count(reviewed, 'card')} with review history: import with File › Import › "
                    "'Import any learning progress' switched on (Anki 23.10+), or they arrive as new cards")
    return Artifact(dest, summary, tuple(diags))


def _same_book(backup: Path, notetypes: tuple[ledger.TypeEntry, ...]) -> bool:
    """Is ``backup`` the ledger of this book (its note types' ids), with cards in it?"""
    if not backup.is_file():
        return False
    kept = ledger.read(backup)
    ids = {t.id for t in notetypes}
    return bool(kept.notes) and any(t.id in ids for t in kept.notetypes.values())


def _media_bytes(path: Path) -> bytes:
    return path.read_bytes() if path.suffix.lower() in SOUND_SUFFIXES else prepared(path)


RETIRED = "#retired"  # the ledger's key for the deck of the cards taken out of the book
BACKUP_NAME = ".cards.lock.bak"  # in the output folder: the ledger as the last build wrote it


def guid(meta: m.Meta, identity: str) -> str:
    """The note's GUID: the book's deck id and the card identity, never the answer."""
    return genanki.guid_for("publisher", meta.ids.deck, identity)


def _description(meta: m.Meta) -> str:
    parts = [escape(x) for x in (meta.subtitle, meta.author and f"by {meta.author}", meta.version and f"version {meta.version}") if x]
    if meta.source and _link_href(meta.source):
        parts.append(f'<a href="{escape(meta.source)}">source</a>')
    return " \u00b7 ".join(parts)
