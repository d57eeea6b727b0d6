"""The typed intermediate model every stage and every renderer reads.

A closed set of frozen dataclasses. Every node carries the source location it
came from. Nothing downstream of :mod:`publisher.read.reader` sees mistune tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Union

from .diagnostics import Diagnostic, has_errors


@dataclass(frozen=True, order=True)
class Loc:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


NOWHERE = Loc("<generated>", 0)

# --------------------------------------------------------------------------- inlines

StyleKind = Literal["sub", "sup", "u", "kbd", "small"]
STYLE_KINDS: tuple[str, ...] = ("sub", "sup", "u", "kbd", "small")


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
    """``==marked==`` text: highlighted, and a cloze deletion on cards. ``==answer==<!-- hint: ... -->``
    gives the deletion a hint (Anki shows it in the blank); the other outputs show the answer only."""

    children: tuple[Inline, ...]
    loc: Loc = NOWHERE
    hint: str = ""
    group: int = 0  # deletions written with one number (``{{c1::x}}``, ``==x==[^1]``) are asked on one card; 0: its own


@dataclass(frozen=True)
class Code:
    text: str
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class Math:
    """A TeX formula: ``$...$`` / ``\\(...\\)`` inline, ``$$...$$`` / ``\\[...\\]`` / a ``math`` fence displayed
    (a paragraph of its own, centred)."""

    tex: str
    display: bool = False
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class Styled:
    """Inline HTML with a meaning of its own: ``<sub>``, ``<sup>``, ``<u>``, ``<kbd>``, ``<small>``."""

    style: StyleKind
    children: tuple[Inline, ...]
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class Link:
    """``url`` as written. ``target`` is set by normalization when the link points into the
    book: ``chapter-slug`` or ``chapter-slug#anchor`` (renderers link to it)."""

    url: str
    children: tuple[Inline, ...]
    title: str = ""
    loc: Loc = NOWHERE
    target: str = ""


@dataclass(frozen=True)
class Image:
    """``url``: for a local image, its path from the content folder (normalization resolves it
    from the chapter's own folder); remote URLs as written."""

    url: str
    alt: str
    title: str = ""
    loc: Loc = NOWHERE
    width: int = 0  # from <img width=...>, CSS pixels; 0: natural size
    height: int = 0
    remote: str = ""  # written as this remote URL; ``url`` is the repository's own copy of the file


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


@dataclass(frozen=True)
class CardOption:
    """``<!-- card: no -->``: how the line it stands on is studied (``no``: it makes no card)."""

    value: str
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class Tag:
    """An inline ``#tag`` (``#nested/tag``): an Anki tag (``nested::tag``) on the cards of the line that holds
    it; never printed."""

    name: str  # as Anki writes it: "nested::tag"
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class Sound:
    """An audio file of the book (``[sound:x.mp3]``, a link to a local ``.mp3``, ``![[x.mp3]]``): played on
    the card; named in the EPUB; left off the sheet. ``url`` is from the content folder, like an image's."""

    url: str
    label: str = ""  # the link's text, if it was a link
    loc: Loc = NOWHERE


Inline = Union[
    Text, Emph, Strong, Strike, Mark, Styled, Code, Math, Link, Image, FootnoteRef, LineBreak, SoftBreak, RawInline,
    Pin, CardOption, Tag, Sound,
]
INLINE_TYPES: tuple[type, ...] = (
    Text, Emph, Strong, Strike, Mark, Styled, Code, Math, Link, Image, FootnoteRef, LineBreak, SoftBreak, RawInline,
    Pin, CardOption, Tag, Sound,
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
    """A callout: GitHub's five alerts and Obsidian's callouts (``> [!tip]- Custom title``). ``kind`` is the
    family every output styles (note, tip, important, warning, caution); ``name`` the type as written
    ("question", "bug", "def"); ``title`` the custom title (empty: the family's own)."""

    kind: AlertKind
    blocks: tuple[Block, ...]
    loc: Loc = NOWHERE
    title: tuple[Inline, ...] = ()
    name: str = ""


@dataclass(frozen=True)
class Details:
    """``<details><summary>...</summary> ... </details>``: a disclosure (often a question and its answer)."""

    summary: tuple[Inline, ...]
    blocks: tuple[Block, ...]
    loc: Loc = NOWHERE
    prompt: tuple[Block, ...] = ()  # blocks inside the <summary> after its words (a list, code): part of the question


@dataclass(frozen=True)
class Flashcard:
    """A card written as one, in the format of Obsidian's Spaced Repetition plugin: ``front::back``
    (``:::`` both ways), or front lines, a ``?`` line (``??`` both ways) and back lines. Every output shows
    it as a question and its answer; ``schedule``: the plugin's reviews (``<!--SR:!2025-11-17,195,310-->``),
    one (due date, interval in days, ease in percent) for each of its cards."""

    front: tuple[Block, ...]
    back: tuple[Block, ...]
    loc: Loc = NOWHERE
    reverse: bool = False
    schedule: tuple[tuple[str, int, int], ...] = ()


@dataclass(frozen=True)
class Superseded:
    """What the block before it said before the facts changed. Written under the claim as
    ``> [!UPDATE] 2025-08 https://source`` followed by the claim as it stands today: the reader puts
    today's claim in the old one's place and keeps the old words here. Cards ask today's fact (the old
    claim on the back); the sheet marks the claim as updated; the book shows both, labelled."""

    original: tuple[Inline, ...]
    since: str = ""  # "2025", "2025-08" or "2025-08-15"
    source: str = ""  # the URL that says so
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
    asks: bool = False  # a question by how it is written (``1. ### What is a closure``), "?" or not


Block = Union[
    Para, BulletList, DefList, CodeBlock, Quote, Alert, Details, Flashcard, Superseded, Table, Rule, RawBlock, Section,
]
BLOCK_TYPES: tuple[type, ...] = (
    Para, BulletList, DefList, CodeBlock, Quote, Alert, Details, Flashcard, Superseded, Table, Rule, RawBlock, Section,
)

# --------------------------------------------------------------------------- document


@dataclass(frozen=True)
class Footnote:
    key: str
    blocks: tuple[Block, ...]
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class Chapter:
    file: str  # the file as shown in diagnostics (relative to the working folder)
    slug: str  # from the file's path in the content folder: starts every card identity
    title: tuple[Inline, ...]
    blocks: tuple[Block, ...]
    footnotes: tuple[Footnote, ...] = ()
    loc: Loc = NOWHERE
    path: str = ""  # the file's path inside the content folder (posix), e.g. "01-basics/02-vpc.md"
    part: str = ""  # the folder of the part it belongs to ("" : the book itself)
    intro: bool = False  # a folder's README.md / index.md: the part's opening page
    tags: tuple[str, ...] = ()  # front matter tags (Anki tags on every card of the file)
    aliases: tuple[str, ...] = ()  # front matter aliases
    cards: bool = True  # front matter ``cards: false``: no cards from this file
    sha: str = ""  # SHA-256 of the file's bytes as read: the build knows what its artifacts were made from
    block_ids: tuple[tuple[str, int], ...] = ()  # Obsidian's "^id" marks (no output shows them): each, and its line
    # which optional syntax the source may hold ("tags", "wiki", "sound"; "nfc": text not yet in Unicode's
    # composed form): passes skip the chapters that
    # cannot have it; None: not known (a chapter made in code), every pass looks
    hints: frozenset[str] | None = None
    # written for Obsidian's Spaced Repetition plugin (a flashcard tag, or book.toml says every file is): its
    # cards are the flashcards and clozes written as such, nothing derived; ``decks``: where each run of its
    # cards goes, as the plugin scopes its deck tags: (first line, deck tags) in order, line 0 the front matter
    flashcards: bool = False
    decks: tuple[tuple[int, tuple[str, ...]], ...] = ()
    # each cloze of such a file, as the plugin reads one: the lines it spans (every line that touches the
    # lines holding its deletions, up to a blank line: a list or a quote is one card) and its review history
    # (one review a deletion)
    clozes: tuple[tuple[int, int, tuple[tuple[str, int, int], ...]], ...] = ()


@dataclass(frozen=True)
class Part:
    """A folder of the content: a level of the contents, of the Anki decks and of the sheet's headings."""

    path: str  # the folder inside the content folder (posix), never ""
    title: tuple[Inline, ...]
    slug: str
    depth: int  # 1 for a top-level folder
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class Ids:
    deck: int
    basic_model: int
    cloze_model: int
    epub: str


@dataclass(frozen=True)
class FlashcardSyntax:
    """How Obsidian's Spaced Repetition plugin is set up (book.toml's ``[flashcards]``): its defaults."""

    tags: tuple[str, ...] = ("flashcards",)  # a file holding one (or a tag below it) is read for cards
    all_files: bool = False  # every file is
    inline: str = "::"
    inline_reversed: str = ":::"
    multiline: str = "?"
    multiline_reversed: str = "??"
    end_marker: str = ""  # a line that ends a multi-line card (then blank lines may stand in its back)
    bold_clozes: bool = False  # **bold** is a deletion
    curly_clozes: bool = False  # {{text}} is a deletion
    cloze_patterns: tuple[str, ...] = ()  # more, as the plugin's settings write them: "{@{[123;;]answer[;;hint]}@}"


@dataclass(frozen=True)
class Meta:
    title: str
    short_name: str
    slug: str
    author: str = ""
    subtitle: str = ""
    source: str = ""
    language: str = "en"
    language_set: bool = False  # written in book.toml: it also picks the translations of that language
    version: str = ""
    date: str = ""  # ISO date of the sources (never the clock)
    license: str = ""
    ids: Ids = field(default_factory=lambda: Ids(0, 0, 0, ""))
    subdecks: bool = True
    keep_removed: bool = True
    paper: str = "a4"
    columns: int = 3
    page_budget: int = 0
    emphasis: str = "tint"  # how the sheet shows ==marked== words: "bold", "tint" (a light background) or "highlight"
    max_answer_words: int = 120
    strict: bool = False
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    flashcards: FlashcardSyntax = field(default_factory=FlashcardSyntax)


@dataclass(frozen=True)
class Book:
    meta: Meta
    chapters: tuple[Chapter, ...]
    root: str = "content"  # the content folder, for resolving images
    parts: tuple[Part, ...] = ()  # every folder that holds chapters, in reading order
    # the images and sounds anywhere in the content folder (paths from it, sorted): what ![[name.png]] finds
    assets: tuple[str, ...] = ()
    # the images and sounds of the repository the notes are in (Git's tracked files; without Git, the content
    # folder's): (path in the repository, path from the content folder), sorted: a remote URL's local copy
    repo_assets: tuple[tuple[str, str], ...] = ()

    def parts_of(self, chapter: Chapter) -> tuple[Part, ...]:
        """The parts a chapter stands in, outermost first."""
        by_path = {p.path: p for p in self.parts}
        chain = []
        path = chapter.part
        while path:
            if path in by_path:
                chain.append(by_path[path])
            path = path.rpartition("/")[0]
        return tuple(reversed(chain))


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
    duplicate_of: str = ""  # the identity it shared with an earlier card (made unique by a suffix)
    deck: str = ""  # a flashcard tag ("flashcards::Logic"): the card goes to that tag's deck; "": its chapter's
    # the reviews the Spaced Repetition plugin wrote for it: (due date, interval in days, ease in percent) for
    # each of its Anki cards in order (a cloze's c1, c2 ...); () when it was never reviewed
    schedule: tuple[tuple[str, int, int], ...] = ()
    written: bool = False  # written as a card (Spaced Repetition's format), not found in the text: always made


# --------------------------------------------------------------------------- what the front half hands on


@dataclass(frozen=True)
class Loaded:
    book: Book
    cards: tuple[Card, ...]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    retired: frozenset[str] = frozenset()  # cards the author retired (`card: no`): removed without a warning

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)
