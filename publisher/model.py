"""The typed intermediate model every stage and every renderer reads.

A closed set of frozen dataclasses. Every node carries the source location it
came from. Nothing downstream of :mod:`publisher.reader` sees mistune tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Union


@dataclass(frozen=True, order=True)
class Loc:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


NOWHERE = Loc("<generated>", 0)

# --------------------------------------------------------------------------- inlines


@dataclass(frozen=True)
class Text:
    text: str
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class Emph:
    children: tuple[Inline, ...]
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class Strong:
    children: tuple[Inline, ...]
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class Strike:
    children: tuple[Inline, ...]
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class Mark:
    """``==marked==`` text: highlighted, and a cloze deletion on cards."""

    children: tuple[Inline, ...]
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class Code:
    text: str
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class Link:
    url: str
    children: tuple[Inline, ...]
    title: str = ""
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class Image:
    url: str
    alt: str
    title: str = ""
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class FootnoteRef:
    key: str
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class LineBreak:
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class SoftBreak:
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class RawInline:
    """Inline HTML from the source. Validated by rules, sanitized by renderers."""

    html: str
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class Pin:
    """``<!-- id: some-id -->``: pins the identity of the card on its line."""

    id: str
    loc: Loc = NOWHERE


Inline = Union[
    Text, Emph, Strong, Strike, Mark, Code, Link, Image, FootnoteRef, LineBreak, SoftBreak, RawInline, Pin
]
INLINE_TYPES: tuple[type, ...] = (
    Text, Emph, Strong, Strike, Mark, Code, Link, Image, FootnoteRef, LineBreak, SoftBreak, RawInline, Pin,
)

# --------------------------------------------------------------------------- blocks

AlertKind = Literal["note", "tip", "important", "warning", "caution"]
ALERT_KINDS: tuple[str, ...] = ("note", "tip", "important", "warning", "caution")


@dataclass(frozen=True)
class Para:
    children: tuple[Inline, ...]
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class ListItem:
    blocks: tuple[Block, ...]
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class BulletList:
    items: tuple[ListItem, ...]
    ordered: bool = False
    start: int = 1
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class Definition:
    term: tuple[Inline, ...]
    body: tuple[Block, ...]
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class DefList:
    items: tuple[Definition, ...]
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class CodeBlock:
    code: str
    lang: str = ""
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class Quote:
    blocks: tuple[Block, ...]
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class Alert:
    kind: AlertKind
    blocks: tuple[Block, ...]
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class Cell:
    children: tuple[Inline, ...]
    align: Literal["left", "center", "right", ""] = ""
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class Table:
    head: tuple[Cell, ...]
    rows: tuple[tuple[Cell, ...], ...]
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class Rule:
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class RawBlock:
    html: str
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class Section:
    """A heading and everything under it, down to the next heading of its level or above."""

    level: int
    title: tuple[Inline, ...]
    anchor: str
    blocks: tuple[Block, ...]
    loc: Loc = NOWHERE


Block = Union[Para, BulletList, DefList, CodeBlock, Quote, Alert, Table, Rule, RawBlock, Section]
BLOCK_TYPES: tuple[type, ...] = (Para, BulletList, DefList, CodeBlock, Quote, Alert, Table, Rule, RawBlock, Section)

# --------------------------------------------------------------------------- document


@dataclass(frozen=True)
class Footnote:
    key: str
    blocks: tuple[Block, ...]
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class Chapter:
    file: str  # path relative to the content folder's parent, as shown in diagnostics
    slug: str
    title: tuple[Inline, ...]
    blocks: tuple[Block, ...]
    footnotes: tuple[Footnote, ...] = ()
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class Ids:
    deck: int
    basic_model: int
    cloze_model: int
    epub: str


@dataclass(frozen=True)
class Meta:
    title: str
    short_name: str
    slug: str
    author: str = ""
    subtitle: str = ""
    source: str = ""
    language: str = "en"
    version: str = ""
    date: str = ""  # ISO date of the sources (never the clock)
    license: str = ""
    ids: Ids = field(default_factory=lambda: Ids(0, 0, 0, ""))
    subdecks: bool = True
    keep_removed: bool = True
    paper: str = "a4"
    columns: int = 3
    page_budget: int = 0
    max_answer_words: int = 120


@dataclass(frozen=True)
class Book:
    meta: Meta
    chapters: tuple[Chapter, ...]
    root: str = "content"  # the content folder, for resolving images


# --------------------------------------------------------------------------- cards

CardKind = Literal["definition", "cloze", "question"]
CARD_KINDS: tuple[str, ...] = ("definition", "cloze", "question")


@dataclass(frozen=True)
class Card:
    kind: CardKind
    identity: str  # stable: survives answer edits and reordering
    front: tuple[Block, ...]  # for cloze: the text with Mark nodes (deletions c1, c2 ... in order)
    back: tuple[Block, ...]  # for cloze: extra (may be empty)
    context: tuple[str, ...]  # chapter title, section titles (plain text)
    chapter: str  # chapter slug
    tags: tuple[str, ...]
    loc: Loc
    pinned: bool = False
