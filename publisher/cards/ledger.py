"""The card ledger, ``content/cards.lock``: when each Anki note (and note type) last changed.

Anki's importer updates a note that is already in the user's collection only
when the package's copy is *newer* (its ``mod`` time is later). So a note's
time must move forward exactly when what the package carries for it changes,
and never otherwise: then an edited card reaches the user's collection (same
note, reviews kept) and an unchanged rebuild is byte-identical. This file
keeps those times between builds, next to the content, under version control.

Format (one JSON object per line, UTF-8, ``\\n``; small diffs, no timestamps
that change on their own)::

    # comment lines (the header)
    {"notetype":"basic","id":1538702280002,"name":"AWSDev Basic","time":1700000000,"hash":"…","shape":[…]}
    {"deck":"dynamodb","name":"AWS Certified Developer Notes::Dynamo DB"}
    {"id":"dynamodb/partition-key","type":"basic","time":1700000000,"hash":"…","loc":"01-dynamodb.md:12","chapter":"dynamodb","tags":[…],"fields":[…]}

Note types come first (by kind), then each chapter's deck name (by chapter slug: a deck keeps the name
it was first imported under, since renaming it in the package would split a user's deck in two), then
notes sorted by card identity. ``hash``
is the SHA-256 of what the package holds for the entry (fields, tags and
note-type kind for a note; name, fields, templates and CSS for a note type);
``time`` (unix seconds) is when that hash last changed. A card no longer in the
content keeps its line with ``"removed":true`` and its last rendered fields, so
the deck can still carry it, tagged ``<book>::removed``. Deleting such a line by
hand forgets the card. ``loc`` is relative to the content folder.

Rules (see :func:`advance`): an unchanged hash keeps its time; a changed one
gets ``max(now, previous + 1)``, so an edit rebuilt within the same second still
gets a strictly later time. Only the Anki renderer writes the file, atomically,
as part of a successful build. A content folder without ``cards.lock`` has no
ledger yet: ``pipeline.check_ledger`` reports nothing and the first build creates it.

The end line (v2): ``# end: N entries, sha256 H`` counts and hashes every entry but removed notes, and is
written last. A file that does not end with it was cut short (a full disk, a killed editor, a bad merge) and
an empty file is damage too: the build refuses to reset either (it would forget every time and every removed
card), and says where the backup is (``.cards.lock.bak`` in the output folder). v1 files have no end line
and are read as they are.

Merge conflicts: lines that do not parse are ignored when reading (and
reported by ``pipeline.check_ledger``); when an identity appears twice the newer
time wins. Resolve a conflict by keeping both sides' lines, make the last line
``# end: edited``, and rebuild.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable

from ..core.diagnostics import Diagnostic, diag
from ..core.fsutil import atomic_write

LEDGER_NAME = "cards.lock"
FORMAT = 2  # v2: the file ends with its end line (v1 files, without one, are read as they are)
HEADER = (
    f"# publisher card ledger v{FORMAT}: when each Anki note last changed. Written by the Anki build; commit it.\n"
    "# One JSON object per line, then the end line. Delete a \"removed\" line to forget that card; after any other "
    "edit, make the last line '# end: edited'.\n"
)
VERSION_RE = re.compile(r"^# publisher card ledger v(\d+)\b")
END_RE = re.compile(r"^# end: (?:(?P<count>\d+) entries, sha256 (?P<sha>[0-9a-f]{64})|(?P<edited>edited))\s*$")


@dataclass(frozen=True)
class NoteEntry:
    """One note of the deck: what the package holds for it, and since when."""

    id: str  # the card identity
    type: str  # "basic" | "cloze"
    hash: str
    time: int
    loc: str = ""  # "file.md:line", relative to the content folder
    chapter: str = ""  # chapter slug
    tags: tuple[str, ...] = ()  # the card's own tags (without the removed tag)
    fields: tuple[str, ...] = ()
    removed: bool = False


@dataclass(frozen=True)
class TypeEntry:
    """One note type (model): its look and shape, and since when."""

    kind: str  # "basic" | "cloze"
    name: str
    hash: str
    time: int
    id: int = 0  # the model id
    shape: tuple[str, ...] = ()  # field names, then "|" and template names: what Anki matches on


def shape_change(old: TypeEntry | None, new: TypeEntry) -> str:
    """Why ``new`` cannot update ``old`` in a user's collection ("" when it can).

    Anki updates a note type only when its fields and card templates keep their
    names; otherwise it imports a copy and stops updating the notes. So a change
    of shape under the same id is refused, never made silently.
    """
    if old is None or not old.shape or old.id != new.id or old.shape == new.shape:
        return ""
    return (f"note type '{new.name}' (id {new.id}) changed shape from {list(old.shape)} to {list(new.shape)}: "
            "Anki would import it as a copy and stop updating the notes; keep the fields, or give the note "
            "type a new id in book.toml")


@dataclass(frozen=True)
class Ledger:
    notetypes: dict[str, TypeEntry] = field(default_factory=dict)
    notes: dict[str, NoteEntry] = field(default_factory=dict)
    problems: tuple[tuple[int, str], ...] = ()  # (line, what) for lines that were skipped
    decks: dict[str, str] = field(default_factory=dict)  # chapter slug -> its Anki deck's full name

    @property
    def newest(self) -> int:
        """The latest time in the ledger (0 when empty)."""
        times = [e.time for e in self.notetypes.values()] + [e.time for e in self.notes.values()]
        return max(times, default=0)


# --------------------------------------------------------------------------- hashing


def digest(obj: object) -> str:
    """SHA-256 of a canonical JSON form of ``obj``."""
    data = json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def note_hash(kind: str, fields: Iterable[str], tags: Iterable[str]) -> str:
    """What the package holds for a note: its note-type kind, fields and tags (as written)."""
    return digest({"type": kind, "fields": list(fields), "tags": list(tags)})


def package_tags(entry: NoteEntry, removed_tag: str) -> tuple[str, ...]:
    """The tags a note carries in the package: removed cards gain ``removed_tag``."""
    return entry.tags + ((removed_tag,) if entry.removed and removed_tag not in entry.tags else ())


def entry_hash(entry: NoteEntry, removed_tag: str) -> str:
    return note_hash(entry.type, entry.fields, package_tags(entry, removed_tag))


# --------------------------------------------------------------------------- reading and writing


def read(path: Path | str) -> Ledger:
    """The ledger at ``path`` (empty when there is none). Never raises on bad content."""
    try:
        text = Path(path).read_text("utf-8")
    except FileNotFoundError:
        return Ledger()
    except (OSError, UnicodeDecodeError) as exc:
        return Ledger(problems=((1, f"cannot read: {exc}"),))
    return loads(text)


def loads(text: str) -> Ledger:
    """The ledger in ``text``. Lines that do not parse are skipped and listed in ``problems``; so is a file
    that is empty or, from v2 on, does not end with an end line that matches what it holds (a file cut short
    at a line end reads as a smaller ledger: never a fresh start)."""
    notetypes: dict[str, TypeEntry] = {}
    notes: dict[str, NoteEntry] = {}
    decks: dict[str, str] = {}
    problems: list[tuple[int, str]] = []
    kept: list[str] = []  # the lines the end line counts: every entry but removed notes (which may be deleted)
    lines = text.splitlines()
    if not text.strip():
        return Ledger(problems=((1, "the file is empty (a book that has no ledger yet has no cards.lock)"),))
    version = next((int(v.group(1)) for v in map(VERSION_RE.match, lines[:5]) if v), 1)
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.startswith("#"):
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError("not an object")
            if not obj.get("removed"):
                kept.append(line)
            if "deck" in obj:
                decks[str(obj["deck"])] = str(obj["name"])
                continue
            if "notetype" in obj:
                t = TypeEntry(str(obj["notetype"]), str(obj.get("name", "")), str(obj["hash"]), _int(obj["time"]),
                              _id(obj.get("id", 0)), tuple(str(x) for x in obj.get("shape", ())))
                if t.kind in notetypes:
                    problems.append((n, f"note type '{t.kind}' listed twice"))
                    if notetypes[t.kind].time >= t.time:
                        continue
                notetypes[t.kind] = t
            else:
                e = NoteEntry(
                    id=str(obj["id"]), type=str(obj["type"]), hash=str(obj["hash"]), time=_int(obj["time"]),
                    loc=str(obj.get("loc", "")), chapter=str(obj.get("chapter", "")),
                    tags=tuple(str(t) for t in obj.get("tags", ())), fields=tuple(str(f) for f in obj.get("fields", ())),
                    removed=bool(obj.get("removed", False)),
                )
                if not e.id:
                    raise ValueError("empty id")
                if e.id in notes:
                    problems.append((n, f"card '{e.id}' listed twice"))
                    if notes[e.id].time >= e.time:
                        continue
                notes[e.id] = e
        except (ValueError, KeyError, TypeError) as exc:
            problems.append((n, f"unreadable line ({exc.__class__.__name__}: {str(exc)[:60]})"))
    if version >= 2:
        problems.extend(_end_problems(lines, kept))
    return Ledger(notetypes, notes, tuple(problems), decks)


def _end_line(kept: list[str]) -> str:
    return f"# end: {len(kept)} entries, sha256 {hashlib.sha256(chr(10).join(kept).encode('utf-8')).hexdigest()}"


def _end_problems(lines: list[str], kept: list[str]) -> list[tuple[int, str]]:
    """Is the file whole? Its last line must be the end line, and the entries must be the ones it counts."""
    last = len(lines)
    while last > 0 and not lines[last - 1].strip():
        last -= 1
    found = END_RE.match(lines[last - 1]) if last else None
    if found is None:
        return [(last + 1, "cut short: the file does not end with its '# end' line")]
    if found.group("edited") or lines[last - 1].strip() == _end_line(kept):
        return []
    return [(last, f"its entries do not match its end line ({found.group('count')} entries written, {len(kept)} "
                   "here): damaged, or edited beyond deleting a removed card's line (if you edited it, make this "
                   "line '# end: edited')")]


def _id(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise ValueError(f"bad id {value!r}")
    return value


LATEST_TIME = 4_102_444_800  # 2100-01-01: later is no clock's time (and no zip file can date it)


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < LATEST_TIME:
        raise ValueError(f"time out of range {value!r}")
    return value


def _line(obj: dict[str, object]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def dumps(ledger: Ledger) -> str:
    """The file text: stable (sorted, fixed key order), one entry per line, then the end line (written last,
    so a file cut short has none)."""
    lines: list[str] = []
    kept: list[str] = []

    def add(obj: dict[str, object], counted: bool = True) -> None:
        lines.append(_line(obj))
        if counted:
            kept.append(lines[-1])

    for kind in sorted(ledger.notetypes):
        t = ledger.notetypes[kind]
        add({"notetype": t.kind, "id": t.id, "name": t.name, "time": t.time, "hash": t.hash, "shape": list(t.shape)})
    for slug in sorted(ledger.decks):
        add({"deck": slug, "name": ledger.decks[slug]})
    for ident in sorted(ledger.notes):
        e = ledger.notes[ident]
        obj: dict[str, object] = {"id": e.id, "type": e.type, "time": e.time, "hash": e.hash}
        if e.removed:
            obj["removed"] = True
        obj.update({"loc": e.loc, "chapter": e.chapter, "tags": list(e.tags), "fields": list(e.fields)})
        add(obj, counted=not e.removed)  # a removed card's line may be deleted by hand
    return HEADER + "".join(line + "\n" for line in lines) + _end_line(kept) + "\n"


def write(path: Path | str, ledger: Ledger) -> bool:
    """Write atomically, only when the text changes. True when the file was (re)written."""
    path = Path(path)
    text = dumps(ledger)
    try:
        if path.read_text("utf-8") == text:
            return False
    except (OSError, UnicodeDecodeError):
        pass
    atomic_write(path, text)
    return True


# --------------------------------------------------------------------------- updating


def now_seconds() -> int:
    """The clock, in whole seconds: the only place a build reads it (tests may replace it)."""
    return int(time.time())


def advance(previous: int | None, now: int) -> int:
    """The time of an entry whose hash changed: ``now``, but strictly after ``previous``."""
    return now if previous is None else max(now, previous + 1)


def update(
    old: Ledger,
    notetypes: Iterable[TypeEntry],
    notes: Iterable[NoteEntry],
    removed_tag: str,
    now: int | None = None,
    decks: dict[str, str] | None = None,
) -> Ledger:
    """The ledger after a build of ``notes`` (current cards, hashed; their ``time`` is ignored).

    Unchanged entries keep their time; changed and new ones get :func:`advance`;
    entries of cards no longer in the content become (or stay) ``removed``, with
    their last fields. ``now`` defaults to the clock (whole seconds).
    """
    clock = now_seconds() if now is None else int(now)
    types: dict[str, TypeEntry] = {}
    for t in notetypes:
        prev = old.notetypes.get(t.kind)
        stamp = prev.time if prev is not None and prev.hash == t.hash else advance(prev.time if prev else None, clock)
        types[t.kind] = replace(t, time=stamp)
    for kind, prev in old.notetypes.items():  # a note type no longer used keeps its record
        types.setdefault(kind, prev)
    out: dict[str, NoteEntry] = {}
    for e in notes:
        if e.id in out:  # duplicate identities are reported by validation; the first wins
            continue
        if e.removed or not e.hash:
            e = replace(e, removed=False)
            e = replace(e, hash=entry_hash(e, removed_tag))
        prev = old.notes.get(e.id)
        stamp = prev.time if prev is not None and prev.hash == e.hash else advance(prev.time if prev else None, clock)
        out[e.id] = replace(e, time=stamp)
    for ident, prev in old.notes.items():
        if ident in out:
            continue
        gone = replace(prev, removed=True)
        gone = replace(gone, hash=entry_hash(gone, removed_tag))
        stamp = prev.time if gone.hash == prev.hash else advance(prev.time, clock)
        out[ident] = replace(gone, time=stamp)
    return Ledger(types, out, (), {**old.decks, **(decks or {})})


# --------------------------------------------------------------------------- what check reports


def moved_diags(old: Ledger, now: list[tuple[NoteEntry, "object"]], retired: frozenset[str]) -> list[Diagnostic]:
    """P141 where cards that are new to the ledger ask exactly what gone cards asked (a renamed or moved
    file: identities start with the file's slug): one warning per old file, saying how to keep the notes."""
    gone = {}
    current = {n.id for n, _ in now}
    for ident, e in old.notes.items():
        if ident not in retired and e.fields[:2] and ident not in current:
            gone.setdefault(tuple(e.fields[:2]), e)
    moves: dict[tuple[str, str], list[tuple[NoteEntry, NoteEntry, object]]] = {}
    for e, card in now:
        if e.id in old.notes or not e.fields[:2]:
            continue
        was = gone.get(tuple(e.fields[:2]))
        if was is not None:
            moves.setdefault((was.loc.rpartition(":")[0], card.loc.file), []).append((was, e, card))  # type: ignore[attr-defined]
    out = []
    for (before, file), pairs in moves.items():
        was, e, card = pairs[0]
        n = len(pairs)
        # (the same file: its slug changed under it; names in Hangul or Han were "chapter", "chapter-2" by path
        # order before they kept a hash of themselves)
        why = ("its chapter's slug is made another way now: a name in Hangul, Han..."
               if file == before or file.endswith("/" + before)
               else "a renamed file?")
        out.append(diag("P141", file, card.loc.line,  # type: ignore[attr-defined]
                        f"{n} card{'s' if n != 1 else ''} of '{before}' {'are' if n != 1 else 'is'} here under new "
                        f"identities ({why}): learners' reviews stay with the old notes, which the deck "
                        f"tags removed; to keep them, pin each old identity on its line, e.g. <!-- id: {was.id} --> "
                        f"here for '{e.id}'"))
    return out


CLOZE_NUMBER_RE = re.compile(r"\{\{c(\d+)::")


def lost_deletions(old: NoteEntry | None, new: NoteEntry) -> list[int]:
    """The cloze numbers a note had and no longer has. Anki keeps the card of each (its import never
    deletes cards), and shows it as an error page until the learner runs Tools > Empty Cards."""
    if old is None or old.removed or old.type != "cloze" or new.type != "cloze" or not old.fields or not new.fields:
        return []
    had = {int(n) for n in CLOZE_NUMBER_RE.findall(old.fields[0])}
    has = {int(n) for n in CLOZE_NUMBER_RE.findall(new.fields[0])}
    return sorted(had - has)


def lost_diag(entry: NoteEntry, lost: list[int], file: str, line: int) -> Diagnostic:
    names = ", ".join(f"c{n}" for n in lost)
    return diag("P140", file, line, f"card '{entry.id}' no longer has deletion {names}: learners who imported the deck "
                                    "keep an empty card for it (Anki: Tools > Empty Cards); keep the mark, or retire "
                                    "the line with <!-- card: no --> and ask the fact on a line of its own")


def removed_diag(entry: NoteEntry, file: str, line: int, removed_tag: str, kept: bool) -> Diagnostic:
    """P120 for a card the ledger remembers but the content no longer has."""
    fate = f"kept in the deck, tagged {removed_tag}" if kept else "left out of the deck"
    return diag("P120", file, line, f"'{entry.id}' ({fate}; delete its line in {LEDGER_NAME} to forget it)")


def split_loc(loc: str, root: str) -> tuple[str, int]:
    """A ledger ``loc`` ("file.md:12") as a diagnostic's (file, line), the file shown under ``root``."""
    file, _, line = loc.rpartition(":")
    if not file:
        return f"{root}/{LEDGER_NAME}", 0
    return f"{root}/{file}", int(line) if line.isdigit() else 0
