"""``publisher sync``: the learner's Anki collection brought to the book, through the ``anki`` engine.

The deck is built as ``build`` builds it, then imported into the collection file with the collection's own
import presets (merge note types off: the notes keep the GUIDs a manual import gives them). Around that
import, what an import cannot do:

- **Anki must be closed.** Anki desktop holds its collection with an exclusive lock; sync says so (exit 2)
  and never waits or forces.
- **Conflicts.** After an import a note's ``mod`` is its ledger time; sync records it. A note whose ``mod``
  has changed since (or, never synced, is newer than the notes' version) was edited in Anki: it is reported
  and left out of the import, so the learner's edit stays.
- **Retired notes** (``<!-- card: no -->``, or taken out of the notes): their cards are suspended;
  ``--delete-retired`` deletes them (listed first) and later syncs never bring them back.
- **State** lives in the collection's config (``publisher:<deck id>``): it travels with AnkiWeb sync and
  forces no full sync. Sync never deletes a note type, a deck or a deck preset, and changes no note's type.
- ``--dry-run`` does all of it on a copy of the file and says what would change; the learner's file is
  never opened for writing. A real sync first makes Anki's own backup (``<profile>/backups``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .cards import ledger
from .core.text import count

STATE_PREFIX = "publisher:"


class SyncStop(Exception):
    """Sync cannot go on: what to tell the learner, and the exit status."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Report:
    new: int = 0
    updated: int = 0
    conflicts: list[tuple[str, str]] = field(default_factory=list)  # (where, identity)
    suspended: list[str] = field(default_factory=list)  # identities
    moved: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    backup: str = ""

    def lines(self, dry_run: bool) -> list[str]:
        would = "would be " if dry_run else ""
        out = [f"{where}: note '{ident}' was edited in Anki: kept as it is there; the notes' version is not "
               "imported (make the edit in the notes, or delete the note in Anki to take the notes' version)"
               for where, ident in self.conflicts]
        out += [f"retired: '{ident}' {would}deleted" for ident in self.deleted]
        out += [f"moved: '{ident}' {would}moved to the deck the book now gives it" for ident in dict.fromkeys(self.moved)]
        out.append(f"{'dry run: ' if dry_run else ''}{count(self.new, 'new note')}, {self.updated} updated, "
                   f"{count(len(self.conflicts), 'conflict')}, {len(dict.fromkeys(self.moved))} {would}moved, "
                   f"{len(self.suspended)} retired {would}suspended, "
                   f"{len(self.deleted)} {would}deleted" + (f"; backup {self.backup}" if self.backup else ""))
        return out


def profile_collection(name: str) -> Path:
    """The collection file of the Anki profile ``name`` (Anki's own places on each system)."""
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support" / "Anki2"
    elif sys.platform.startswith("win"):
        base = Path(os.environ.get("APPDATA", Path.home())) / "Anki2"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "Anki2"
    return base / name / "collection.anki2"


def check_closed(path: Path) -> None:
    """Stop unless ``path`` is a collection no one holds: Anki desktop keeps its collection locked from the
    moment a profile opens until it closes. Read only: nothing is written, nothing waits."""
    if not path.is_file():
        raise SyncStop(f"{path}: no such collection (sync never creates one: open that profile in Anki once, "
                       "or give the path of its collection.anki2)")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.2)
        try:
            conn.execute("select crt from col").fetchone()
        finally:
            conn.close()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc):
            raise SyncStop(f"{path}: Anki has this collection open: close Anki or switch to another profile, "
                           "then run sync again") from None
        raise SyncStop(f"{path}: not an Anki collection this Anki can read ({exc})") from None
    except sqlite3.DatabaseError as exc:
        raise SyncStop(f"{path}: not an Anki collection ({exc})") from None


def _open(path: Path):  # noqa: ANN202 - anki.collection.Collection, imported only here
    try:
        import anki.collection  # noqa: F401  (before the other anki modules)
        from anki.collection import Collection
        from anki.errors import DBError
    except ImportError:
        raise SyncStop("publisher sync needs the anki package: pip install 'publisher[sync]' "
                       "(the Anki engine, 31 MB, AGPL-3.0)") from None
    try:
        return Collection(str(path))
    except DBError as exc:
        if "already open" in str(exc).lower():
            raise SyncStop(f"{path}: Anki has this collection open: close Anki or switch to another profile, "
                           "then run sync again") from None
        raise SyncStop(f"{path}: Anki cannot open it: {exc}") from None


def _filtered(apkg: Path, leave_out: set[str], dest: Path) -> Path:
    """The package without the notes of ``leave_out`` (GUIDs): conflicts and notes the learner deleted."""
    if not leave_out:
        return apkg
    with zipfile.ZipFile(apkg) as z:
        names = z.namelist()
        z.extractall(dest)
    db = dest / "collection.anki2"
    conn = sqlite3.connect(db)
    try:
        marks = ",".join("?" * len(leave_out))
        ids = [r[0] for r in conn.execute(f"select id from notes where guid in ({marks})", sorted(leave_out))]
        if ids:
            held = ",".join("?" * len(ids))
            conn.execute(f"delete from cards where nid in ({held})", ids)
            conn.execute(f"delete from notes where id in ({held})", ids)
        conn.commit()
    finally:
        conn.close()
    out = dest / apkg.name
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in names:
            z.write(dest / name, name)
    return out


def _sum(fields: str, tags: str) -> str:
    """A note's text and tags as sync left them: an edit is seen even within the second of the sync."""
    return hashlib.sha256(f"{fields}\x1e{tags.strip()}".encode()).hexdigest()[:16]


def _package_decks(apkg: Path) -> dict[str, str]:
    """Each note's deck in the package, by name (an import matches decks by name): GUID -> deck name."""
    with tempfile.TemporaryDirectory(prefix="publisher-decks-") as tmp:
        with zipfile.ZipFile(apkg) as z:
            z.extract("collection.anki2", tmp)
        conn = sqlite3.connect(Path(tmp) / "collection.anki2")
        try:
            names = {int(k): v["name"] for k, v in json.loads(conn.execute("select decks from col").fetchone()[0]).items()}
            return {g: names.get(did, "") for g, did in conn.execute(
                "select n.guid, min(c.did) from notes n join cards c on c.nid = n.id group by n.guid")}
        finally:
            conn.close()


def sync(content_dir: Path, collection: Path, out_dir: Path, *, dry_run: bool = False,
         delete_retired: bool = False) -> Report:
    """Build the deck and bring ``collection`` to it (see the module's description)."""
    from .build import build
    from .renderers import anki as anki_renderer

    check_closed(collection)
    result = build(content_dir, ["anki"], out_dir)
    for d in result.diagnostics:
        print(d)
    outcome = next((o for o in result.outcomes if o.name == "anki"), None)
    if not result.ok or outcome is None or outcome.artifact is None:
        raise SyncStop("the deck was not built: nothing is synced", 1)
    apkg = outcome.artifact.path
    book = ledger.read(Path(content_dir) / ledger.LEDGER_NAME)
    from .read.bookfile import read_meta

    meta, _ = read_meta(Path(content_dir), str(content_dir))
    by_guid = {anki_renderer.guid(meta, ident): e for ident, e in book.notes.items()}
    report = Report()
    with tempfile.TemporaryDirectory(prefix="publisher-sync-") as tmp:
        work = collection
        if dry_run:  # a copy, made after the lock check: the learner's file is only read
            work = Path(tmp) / "collection.anki2"
            shutil.copyfile(collection, work)
        col = _open(work)
        try:
            key = f"{STATE_PREFIX}{meta.ids.deck}"
            state = col.get_config(key, default=None) or {}
            synced: dict[str, int] = dict(state.get("mods", {}))
            sums: dict[str, str] = dict(state.get("sums", {}))
            held: dict[str, str] = dict(state.get("held", {}))  # conflicts: the learner's version, kept
            deleted: set[str] = set(state.get("deleted", []))
            have = {g: (nid, mod, _sum(flds, tags)) for nid, g, mod, flds, tags in
                    col.db.all("select id, guid, mod, flds, tags from notes")}
            conflicts = set()
            for g, e in by_guid.items():
                if g in have and not e.removed and g not in deleted:
                    _nid, mod, now_sum = have[g]
                    # edited in Anki since the last sync: its time or its text (an edit within the second of
                    # the sync keeps the time) differs from what sync left; never synced, newer than the notes
                    edited = (mod != synced[g] or now_sum != sums.get(g, now_sum)) if g in synced else mod > e.time
                    if edited or held.get(g) == now_sum:  # a conflict stays one until the learner's note goes
                        conflicts.add(g)
                        report.conflicts.append((e.loc or e.chapter, e.id))
            report.conflicts.sort()
            if not dry_run:
                folder = collection.parent / "backups"
                folder.mkdir(exist_ok=True)
                col.create_backup(backup_folder=str(folder), force=True, wait_for_completion=True)
                report.backup = str(folder)
            package = _filtered(apkg, conflicts | deleted, Path(tmp) / "package")
            from anki.collection import ImportAnkiPackageRequest

            options = col._backend.get_import_anki_package_presets()
            options.merge_notetypes = False
            log = col.import_anki_package(ImportAnkiPackageRequest(package_path=str(package), options=options)).log
            report.new, report.updated = len(log.new), len(log.updated)
            col.models._clear_cache()
            after = {g: (nid, mod) for nid, g, mod in col.db.all("select id, guid, mod from notes")}
            # retired notes: suspended (or deleted when asked); never a note the learner keeps editing
            for g, e in sorted(by_guid.items(), key=lambda kv: kv[1].id):
                if not e.removed or g not in after or g in conflicts:
                    continue
                nid = after[g][0]
                cids = col.card_ids_of_note(nid)
                if delete_retired:
                    col.remove_notes([nid])
                    deleted.add(g)
                    report.deleted.append(e.id)
                    continue
                waiting = [c for c in cids if col.get_card(c).queue != -1]
                if waiting:
                    col.sched.suspend_cards(waiting)
                    report.suspended.append(e.id)
            # moves: a card goes where the package now puts its note, when sync put it where it is (never one the
            # learner moved, never one in a filtered deck)
            placed: dict[str, str] = dict(state.get("decks", {}))
            wanted = _package_decks(apkg)
            now: dict[str, str] = {}
            for g, (nid, _mod) in ((g, v) for g, v in after.items() if g in by_guid):
                deck_name = wanted.get(g)
                for cid in col.card_ids_of_note(nid):
                    card = col.get_card(cid)
                    here = col.decks.name(card.did)
                    if (deck_name and g in placed and deck_name != here and placed[g] == here and not card.odid
                            and g not in conflicts):
                        target = col.decks.id(deck_name, create=True)
                        col.set_deck([cid], target)
                        report.moved.append(by_guid[g].id)
                        here = deck_name
                    now[g] = here
            final = {g: (mod, _sum(flds, tags)) for g, mod, flds, tags in
                     col.db.all("select guid, mod, flds, tags from notes") if g in by_guid}
            col.set_config(key, {"mods": {g: final[g][0] for g in sorted(final)},
                                 "sums": {g: final[g][1] for g in sorted(final)}, "deleted": sorted(deleted),
                                 "held": {g: final[g][1] for g in sorted(conflicts) if g in final},
                                 "decks": {g: now[g] for g in sorted(now)}, "version": 1})
        finally:
            col.close()
    return report


def cmd_sync(args: argparse.Namespace) -> int:
    if not args.collection and not args.profile:
        print("publisher sync: say which collection: --collection PATH or --profile NAME", file=sys.stderr)
        return 2
    path = Path(args.collection) if args.collection else profile_collection(args.profile)
    try:
        report = sync(Path(args.path), path, Path(args.out), dry_run=args.dry_run, delete_retired=args.delete_retired)
    except SyncStop as stop:
        print(f"publisher sync: {stop}", file=sys.stderr)
        return stop.status
    for line in report.lines(args.dry_run):
        print(line)
    return 0


def add_sync_command(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    s = sub.add_parser("sync", help="bring an Anki collection (Anki closed) to the book: import, retire, report conflicts")
    s.add_argument("path", nargs="?", default="content", help="the content folder (default: content/)")
    where = s.add_mutually_exclusive_group()
    where.add_argument("--collection", help="the collection file (collection.anki2 in the Anki profile's folder)")
    where.add_argument("--profile", help="the Anki profile's name (its collection in Anki's usual place)")
    s.add_argument("--out", default="build", help="where the deck is built (default: build/)")
    s.add_argument("--dry-run", action="store_true", help="do it on a copy and say what would change")
    s.add_argument("--delete-retired", action="store_true", help="delete retired notes instead of suspending them")
    s.set_defaults(func=cmd_sync)


__all__ = ["sync", "cmd_sync", "add_sync_command", "SyncStop", "Report"]
