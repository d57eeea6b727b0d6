"""Read, normalize, derive cards, validate: the part every command shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import model as m
from .cards import derive_cards, retired_identities
from .diagnostics import Diagnostic, has_errors, ordered
from .normalize import normalize
from .quality import gate
from .fsutil import Aside
from .reader import PARALLEL_FROM, read_book
from .validate import BOOK_RULES, CARD_RULES, validate


@dataclass(frozen=True)
class Loaded:
    book: m.Book
    cards: tuple[m.Card, ...]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    retired: frozenset[str] = frozenset()  # cards the author retired (`card: no`): removed without a warning

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


def load(folder: Path | str) -> Loaded:
    """The whole front half of the pipeline. Never raises on bad content."""
    folder = Path(folder)
    book, diags = read_book(folder)
    book = normalize(book)
    # a large book: the rules that need no cards run in a second process while the cards are derived
    with Aside(validate, book, (), folder, BOOK_RULES, when=len(book.chapters) >= PARALLEL_FROM) as by_book:
        cards, findings = gate(derive_cards(book))  # junk cards are left out of every artifact
        diags = diags + findings + validate(book, cards, folder, CARD_RULES) + by_book.result()
    return Loaded(book, cards, ordered(diags), retired_identities(book))
