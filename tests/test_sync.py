"""``publisher sync`` on a real collection file, with the real ``anki`` engine (issue 23): a first sync, reviews,
then the notes and the collection both change and sync runs again."""

from __future__ import annotations

import anki.collection  # noqa: F401  (before the other anki modules)

import hashlib
import subprocess
import sys
import time
from pathlib import Path

import pytest
from anki.collection import Collection

from anki_helpers import review_everything, snapshot
from conftest import make_book, run_publisher

pytestmark = pytest.mark.slow

BOOK = 'title = "Sync Book"\nshort_name = "SB"\n[ids]\ndeck = 424242\n'
CELLS = ("# Cells\n\n## Parts\n\n- **Ribosome** - makes proteins\n- **Nucleus** - holds the DNA\n"
         "- The membrane is a ==lipid bilayer==. <!-- id: membrane -->\n- Cells divide by ==mitosis==.\n")


def _collection(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    col = Collection(str(folder / "collection.anki2"))
    conf = col.decks.get_config(1)
    conf["new"]["perDay"] = 9999
    col.decks.update_config(conf)
    col.close()
    return folder / "collection.anki2"


def _sync(tmp_path: Path, coll: Path, *more: str) -> subprocess.CompletedProcess[str]:
    return run_publisher("sync", "content", "--collection", str(coll), "--out", "out", *more, cwd=tmp_path)


def test_sync_imports_updates_retires_and_keeps_the_learners_edit_and_reviews(tmp_path: Path) -> None:
    content = make_book(tmp_path, {"book.toml": BOOK, "cells.md": CELLS})
    coll = _collection(tmp_path / "profile")
    first = _sync(tmp_path, coll)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "4 new notes" in first.stdout
    assert list((tmp_path / "profile" / "backups").glob("*.colpkg"))  # Anki's own backup, before the first write
    col = Collection(str(coll))
    try:
        assert review_everything(col) >= 5  # two basic cards, three deletions (learning steps: more answers)
        before = snapshot(col)
        learner = next(n for n in (col.get_note(i) for i in col.find_notes("")) if "Nucleus" in n.fields[0])
        learner.fields[1] += " (and the nucleolus)"  # the learner's own edit, in Anki
        col.update_note(learner)
    finally:
        col.close()
    time.sleep(1.1)  # the notes' next version is a later second than the first sync's
    (content / "cells.md").write_text(
        CELLS.replace("makes proteins", "makes proteins from mRNA")  # the author edits a definition
        .replace("holds the DNA", "holds the DNA and the nucleolus")  # ... and the note the learner edited
        .replace("- Cells divide by ==mitosis==.\n", "- Cells divide by ==mitosis==. <!-- card: no -->\n"),  # retired
        encoding="utf-8")
    second = _sync(tmp_path, coll)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "cells.md:6: note 'cells/nucleus' was edited in Anki" in second.stdout
    assert "1 conflict, 1 moved, 1 retired suspended" in second.stdout  # the retired card to the retired deck
    col = Collection(str(coll))
    try:
        after = snapshot(col)
        assert set(after) == set(before)  # nothing duplicated, nothing lost
        for guid, old in before.items():
            assert [c[1:] for c in after[guid].cards if c[3] != -1] in ([c[1:] for c in old.cards], [])  # reviews kept
        notes = [col.get_note(i) for i in col.find_notes("")]

        def note(word: str):  # noqa: ANN202
            return next(n for n in notes if word in n.fields[0])

        assert "makes proteins from mRNA" in note("Ribosome").fields[1]  # updated in place
        assert note("Nucleus").fields[1].endswith("(and the nucleolus)")  # the learner's edit kept
        assert "holds the DNA and the nucleolus" not in note("Nucleus").fields[1]
        retired = [n for n in notes if "mitosis" in n.fields[0]]
        assert retired and all(c.queue == -1 for c in retired[0].cards())  # suspended, its reviews kept
    finally:
        col.close()
    third = _sync(tmp_path, coll)  # nothing changed since: the learner's version is still theirs, still said
    assert third.returncode == 0 and "note 'cells/nucleus' was edited in Anki" in third.stdout
    col = Collection(str(coll))
    try:
        nucleus = next(col.get_note(i) for i in col.find_notes("") if "Nucleus" in col.get_note(i).fields[0])
        assert nucleus.fields[1].endswith("(and the nucleolus)")
    finally:
        col.close()


def test_dry_run_leaves_the_file_byte_identical(tmp_path: Path) -> None:
    make_book(tmp_path, {"book.toml": BOOK, "cells.md": CELLS})
    coll = _collection(tmp_path / "profile")
    digest = hashlib.sha256(coll.read_bytes()).hexdigest()
    proc = _sync(tmp_path, coll, "--dry-run")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "dry run: 4 new notes" in proc.stdout
    assert hashlib.sha256(coll.read_bytes()).hexdigest() == digest
    assert not (tmp_path / "profile" / "backups").exists()


def test_deleted_retired_notes_stay_deleted(tmp_path: Path) -> None:
    content = make_book(tmp_path, {"book.toml": BOOK, "cells.md": CELLS})
    coll = _collection(tmp_path / "profile")
    assert _sync(tmp_path, coll).returncode == 0
    (content / "cells.md").write_text(CELLS.replace("- Cells divide by ==mitosis==.\n", ""), encoding="utf-8")
    proc = _sync(tmp_path, coll, "--delete-retired")
    assert proc.returncode == 0 and "retired: 'cells/cloze-mitosis' deleted" in proc.stdout
    again = _sync(tmp_path, coll)
    assert again.returncode == 0 and "0 new notes" in again.stdout  # never brought back
    col = Collection(str(coll))
    try:
        assert not any("mitosis" in col.get_note(n).fields[0] for n in col.find_notes(""))
    finally:
        col.close()


def test_a_collection_anki_holds_open_is_refused_without_a_traceback(tmp_path: Path) -> None:
    make_book(tmp_path, {"book.toml": BOOK, "cells.md": CELLS})
    coll = _collection(tmp_path / "profile")
    holder = subprocess.Popen([sys.executable, "-c", "import anki.collection, sys, time\n"
                               "from anki.collection import Collection\n"
                               f"c = Collection({str(coll)!r})\nprint('open', flush=True)\ntime.sleep(60)\n"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        proc = _sync(tmp_path, coll)
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode == 2
    assert "close Anki or switch to another profile" in proc.stderr and "Traceback" not in proc.stderr
    missing = _sync(tmp_path, tmp_path / "nowhere" / "collection.anki2")
    assert missing.returncode == 2 and "sync never creates one" in missing.stderr
    assert not (tmp_path / "nowhere").exists()


def test_a_pinned_card_moved_to_another_file_moves_to_its_deck_unless_the_learner_moved_it(tmp_path: Path) -> None:
    content = make_book(tmp_path, {"book.toml": BOOK, "cells.md": CELLS, "membranes.md": "# Membranes\n\nThey bound cells.\n"})
    coll = _collection(tmp_path / "profile")
    assert _sync(tmp_path, coll).returncode == 0
    col = Collection(str(coll))
    try:  # the learner files the ribosome card in a deck of their own
        mine = col.decks.id("My hard cards", create=True)
        ribosome = next(i for i in col.find_notes("") if "Ribosome" in col.get_note(i).fields[0])
        col.set_deck(col.card_ids_of_note(ribosome), mine)
    finally:
        col.close()
    time.sleep(1.1)
    (content / "cells.md").write_text(CELLS.replace("- The membrane is a ==lipid bilayer==. <!-- id: membrane -->\n", ""),
                                      encoding="utf-8")
    (content / "membranes.md").write_text("# Membranes\n\nThey bound cells.\n\n- The membrane is a ==lipid bilayer==. "
                                          "<!-- id: membrane -->\n", encoding="utf-8")
    proc = _sync(tmp_path, coll)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "moved: 'membrane'" in proc.stdout
    col = Collection(str(coll))
    try:
        membrane = next(i for i in col.find_notes("") if "lipid" in col.get_note(i).fields[0])
        assert {col.decks.name(col.get_card(c).did) for c in col.card_ids_of_note(membrane)} == {"Sync Book::2 Membranes"}
        assert {col.get_card(c).did for c in col.card_ids_of_note(ribosome)} == {mine}  # never moved back
    finally:
        col.close()


def test_a_renamed_file_keeps_its_pinned_notes_and_does_not_guess_the_others(tmp_path: Path) -> None:
    content = make_book(tmp_path, {"book.toml": BOOK, "cells.md": CELLS})
    coll = _collection(tmp_path / "profile")
    assert _sync(tmp_path, coll).returncode == 0
    col = Collection(str(coll))
    try:
        before = snapshot(col)
    finally:
        col.close()
    time.sleep(1.1)
    (content / "cells.md").rename(content / "biology.md")
    proc = _sync(tmp_path, coll)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "P141" in proc.stdout  # the unpinned cards' new identities: said, never guessed
    col = Collection(str(coll))
    try:
        after = snapshot(col)
        pinned = [g for g, s in before.items() if "lipid" in s.fields[0]]
        assert pinned and pinned[0] in after  # the same note: its reviews stay with it
        assert len([s for s in after.values() if "lipid" in s.fields[0]]) == 1  # no duplicate of it
        membrane = after[pinned[0]]
        # the renamed file is a chapter of its own ("Cells" again, its first deck "1 Cells" being recorded for the old)
        assert {col.decks.name(col.get_card(c[1]).did) for c in membrane.cards} == {"Sync Book::Cells"}
        old = [g for g in before if g not in pinned]
        assert all(after[g].cards[0][3] == -1 for g in old)  # the old identities retired: suspended
    finally:
        col.close()


def test_the_backup_sync_makes_restores_the_collection_as_it_was(tmp_path: Path) -> None:
    """What File › Switch Profile › Open Backup does, done with the engine's own call."""
    from anki._backend import RustBackend

    make_book(tmp_path, {"book.toml": BOOK, "cells.md": CELLS})
    coll = _collection(tmp_path / "profile")
    col = Collection(str(coll))
    try:
        note = col.new_note(col.models.by_name("Basic"))
        note["Front"], note["Back"] = "my own card", "kept"
        col.add_note(note, 1)
    finally:
        col.close()
    assert _sync(tmp_path, coll).returncode == 0
    (backup,) = (tmp_path / "profile" / "backups").glob("*.colpkg")
    restored = tmp_path / "restored"
    restored.mkdir()
    RustBackend().import_collection_package(col_path=str(restored / "collection.anki2"), backup_path=str(backup),
                                            media_folder=str(restored / "media"), media_db=str(restored / "media.db"))
    col = Collection(str(restored / "collection.anki2"))
    try:  # as before the sync: the learner's own card, none of the book's
        assert [col.get_note(n).fields[0] for n in col.find_notes("")] == ["my own card"]
    finally:
        col.close()


def test_a_profile_name_finds_its_collection_where_anki_keeps_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from publisher.sync import profile_collection

    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert profile_collection("User 1") == tmp_path / "data" / "Anki2" / "User 1" / "collection.anki2"
    make_book(tmp_path, {"book.toml": BOOK, "cells.md": CELLS})
    _collection(tmp_path / "data" / "Anki2" / "User 1")
    proc = subprocess.run([sys.executable, "-m", "publisher.cli", "sync", "content", "--profile", "User 1", "--out", "out",
                           "--dry-run"], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "XDG_DATA_HOME": str(tmp_path / "data")})
    assert proc.returncode == 0 and "dry run: 4 new notes" in proc.stdout, proc.stdout + proc.stderr
