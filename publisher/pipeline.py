"""Read, normalize, derive cards, validate: the part every command shares; and what `check` says of the card
ledger (it compares the ledger with what the Anki renderer would record)."""

from __future__ import annotations

from pathlib import Path

from .cards.derive import derive_cards, retired_identities
from .cards import ledger
from .core.diagnostics import Diagnostic, diag, ordered
from .core import model as m
from .core.model import Loaded
from .cards.normalize import normalize
from .cards.quality import gate
from .core.fsutil import Aside
from .read.reader import PARALLEL_FROM, read_book
from .check.validate import BOOK_RULES, CARD_RULES, validate


def load(folder: Path | str) -> Loaded:
    """The whole front half of the pipeline. Never raises on bad content."""
    return finish(folder, *read_normalized(folder))


def read_normalized(folder: Path | str) -> tuple[m.Book, list[Diagnostic]]:
    """The book as every output reads it (the sheet needs no more), and the findings of reading it."""
    book, diags = read_book(Path(folder))
    return normalize(book), diags


def finish(folder: Path | str, book: m.Book, diags: list[Diagnostic]) -> Loaded:
    """The cards of a book read by :func:`read_normalized`, and every check of both."""
    folder = Path(folder)
    # a large book: the rules that need no cards run in a second process while the cards are derived
    with Aside(validate, book, (), folder, BOOK_RULES, when=len(book.chapters) >= PARALLEL_FROM) as by_book:
        cards, findings = gate(derive_cards(book))  # junk cards are left out of every artifact
        diags = diags + findings + validate(book, cards, folder, CARD_RULES) + by_book.result()
    return Loaded(book, cards, ordered(diags), retired_identities(book))


def check_ledger(loaded: Loaded, folder: Path | str) -> list[Diagnostic]:
    """P117 for every way ``cards.lock`` is out of date with the content (and the templates),
    and P120 (a warning) for each card it remembers as removed.

    Nothing when the folder has no ``cards.lock`` yet: the first build creates it.
    """
    folder = Path(folder)
    path = folder / ledger.LEDGER_NAME
    if not path.is_file():
        return []
    from .renderers import anki  # the ledger records what the Anki renderer makes (imported when needed)

    shown = f"{loaded.book.root}/{ledger.LEDGER_NAME}"
    old = ledger.read(path)
    plan = anki.plan(loaded, folder)
    out = [diag("P117", shown, line, what) for line, what in old.problems]
    for t in plan.notetypes:
        prev = old.notetypes.get(t.kind)
        if ledger.shape_change(prev, t):
            out.append(diag("P117", shown, 1, ledger.shape_change(prev, t)))
        elif prev is None:
            out.append(diag("P117", shown, 1, f"note type '{t.name}' is not recorded; rebuild the Anki deck"))
        elif prev.hash != t.hash:
            out.append(diag("P117", shown, 1, f"note type '{t.name}' (templates or CSS) changed; rebuild the Anki deck"))
    current = set()
    for e, card in zip(plan.notes, plan.cards):
        if e.id in current:
            continue
        current.add(e.id)
        prev = old.notes.get(e.id)
        file, line = card.loc.file, card.loc.line
        if prev is None:
            out.append(diag("P117", file, line, f"card '{e.id}' is not in {ledger.LEDGER_NAME}; rebuild the Anki deck"))
        elif prev.removed:
            out.append(diag("P117", file, line, f"card '{e.id}' is back but {ledger.LEDGER_NAME} lists it as removed; rebuild the Anki deck"))
        elif prev.hash != ledger.entry_hash(e, plan.removed_tag):
            out.append(diag("P117", file, line, f"card '{e.id}' changed since {ledger.LEDGER_NAME} was written; rebuild the Anki deck"))
            if lost := ledger.lost_deletions(prev, e):
                out.append(ledger.lost_diag(e, lost, file, line))
    for ident, prev in sorted(old.notes.items()):
        if ident in current:
            continue
        file, line = ledger.split_loc(prev.loc, loaded.book.root)
        if prev.removed:
            if ident not in loaded.retired:  # retired by the author (`card: no`): nothing to warn about
                out.append(ledger.removed_diag(prev, file, line, plan.removed_tag, loaded.book.meta.keep_removed))
        else:
            out.append(diag("P117", file, line, f"card '{ident}' was removed but {ledger.LEDGER_NAME} still lists it; rebuild the Anki deck"))
    out.extend(ledger.moved_diags(old, list(zip(plan.notes, plan.cards)), loaded.retired))
    return out
