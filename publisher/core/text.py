"""Plain-text views of model nodes, slugs and tree walks shared by every stage."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import replace
from typing import Callable, Iterator, assert_never

from . import model as m


# Han, Kana and Hangul: scripts written without spaces between words
CJK_RANGES = ("\u1100-\u11ff\u2e80-\u2fdf\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
              "\uf900-\ufaff\U00020000-\U0003134f")
CJK_CHAR_RE = re.compile(f"[{CJK_RANGES}]")


# Obsidian's inline tags: "#" at the start or after a space or "(", then letters, digits, _ - / (not only digits)
TAG_RE = re.compile(r"(?<![^\s(])#(?P<tag>[^\W\d][\w/-]*|\d+[^\W\d][\w/-]*)(?![\w#])")


def nested_tag(name: str) -> str:
    """``nested/tag`` as Anki's hierarchy ``nested::tag``."""
    return "::".join(p for p in name.strip("/").split("/") if p)


def slugify(text: str, limit: int = 60) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return slug[:limit].rstrip("-")


def drops_letters(text: str) -> bool:
    """Whether :func:`slugify` drops letters of ``text`` (Hangul, Han, Cyrillic...; not accents: "é" is "e")."""
    return any(not c.isascii() and unicodedata.category(c).startswith("L") for c in unicodedata.normalize("NFKD", text))


def stable_slug(text: str, limit: int = 60) -> str:
    """:func:`slugify`, and where it drops letters a short hash of the whole text (NFC) after it: two names that
    differ only in those letters ("운영체제", "네트워크"; "코드 Segment", "스택 Segment") never share a slug, so none
    depends on which other names there are. ``""`` when the text has neither letter nor digit."""
    slug = slugify(text, limit)
    if not drops_letters(text):
        return slug
    mark = hashlib.sha1(unicodedata.normalize("NFC", text).encode("utf-8")).hexdigest()
    return f"{slug[:limit - 9].rstrip('-')}-{mark[:8]}" if slug else f"x{mark[:10]}"


def unique(base: str, used: set[str], sep: str = "-") -> str:
    """``base``, or ``base-2``, ``base-3`` ... whichever is not in ``used`` yet (and record it)."""
    candidate, n = base, 2
    while candidate in used:
        candidate, n = f"{base}{sep}{n}", n + 1
    used.add(candidate)
    return candidate


def plain_text(nodes: tuple[m.Inline, ...] | list[m.Inline]) -> str:
    """The words a reader sees, without markup."""
    out: list[str] = []
    for node in nodes:
        match node:
            case m.Text(text=t) | m.Code(text=t):
                out.append(t)
            case m.Math(tex=t):
                out.append(t)
            case m.Sound(label=t):
                out.append(t)
            case m.Emph(children=c) | m.Strong(children=c) | m.Strike(children=c) | m.Mark(children=c):
                out.append(plain_text(c))
            case m.Styled(children=c):
                out.append(plain_text(c))
            case m.Link(children=c):
                out.append(plain_text(c))
            case m.Image(alt=alt):
                out.append(alt)
            case m.SoftBreak() | m.LineBreak():
                out.append(" ")
            case m.FootnoteRef() | m.RawInline() | m.Pin() | m.CardOption() | m.Tag():
                pass
            case _:
                assert_never(node)
    return "".join(out)


BLANK = "[\u2026]"  # what a cloze deletion shows where its words are hidden


def blank_marks(nodes: tuple[m.Inline, ...]) -> tuple[m.Inline, ...]:
    """``nodes`` with each ``==mark==`` replaced by :data:`BLANK` (a cloze with its answer hidden)."""
    out: list[m.Inline] = []
    for node in nodes:
        match node:
            case m.Mark():
                out.append(m.Text(BLANK, node.loc))
            case m.Emph(children=c) | m.Strong(children=c) | m.Strike(children=c) | m.Link(children=c) | m.Styled(children=c):
                out.append(replace(node, children=blank_marks(c)))
            case _:
                out.append(node)
    return tuple(out)


def count(n: int, noun: str) -> str:
    """``1 card``, ``2 cards``, ``0 cards`` (the nouns of the summaries take an ``s``)."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def squash(text: str) -> str:
    """Collapse white space: the form in which texts are compared."""
    return " ".join(text.split())


def split_text(nodes: tuple[m.Inline, ...], pattern: re.Pattern[str], make: Callable[[re.Match[str], m.Text], m.Inline]
               ) -> tuple[m.Inline, ...]:
    """``nodes`` with each Text node cut where ``pattern`` matches, the match replaced by ``make(match, node)``."""
    out: list[m.Inline] = []
    for n in nodes:
        if not isinstance(n, m.Text):
            out.append(n)
            continue
        at = 0
        for found in pattern.finditer(n.text):
            if found.start() > at:
                out.append(replace(n, text=n.text[at:found.start()]))
            out.append(make(found, n))
            at = found.end()
        if at < len(n.text):
            out.append(n if at == 0 else replace(n, text=n.text[at:]))
    return tuple(out)


def lines_of(nodes: tuple[m.Inline, ...]) -> list[tuple[m.Inline, ...]]:
    """A paragraph's inlines cut into its source lines (at its soft and hard breaks)."""
    out: list[tuple[m.Inline, ...]] = []
    cur: list[m.Inline] = []
    for n in nodes:
        if isinstance(n, (m.SoftBreak, m.LineBreak)):
            out.append(tuple(cur))
            cur = []
        else:
            cur.append(n)
    out.append(tuple(cur))
    return out


def blocks_text(blocks: tuple[m.Block, ...]) -> str:
    """All the words of some blocks (a card's side)."""
    return " ".join(block_text(b) for b in blocks)


def block_text(block: m.Block) -> str:
    """All the words of a block and its descendants."""
    return squash(" ".join(_block_words(block)))


def _block_words(block: m.Block) -> Iterator[str]:
    match block:
        case m.Para(children=c):
            yield plain_text(c)
        case m.BulletList(items=items):
            for item in items:
                for b in item.blocks:
                    yield from _block_words(b)
        case m.DefList(items=items):
            for d in items:
                yield plain_text(d.term)
                for b in d.body:
                    yield from _block_words(b)
        case m.CodeBlock(code=code):
            yield code
        case m.Quote(blocks=bs) | m.Alert(blocks=bs):
            for b in bs:
                yield from _block_words(b)
        case m.Details(summary=s, blocks=bs, prompt=p):
            yield plain_text(s)
            for b in p + bs:
                yield from _block_words(b)
        case m.Flashcard(front=f, back=bk):
            for b in f + bk:
                yield from _block_words(b)
        case m.Superseded(original=o):
            yield plain_text(o)
        case m.Table(head=head, rows=rows):
            for row in (head, *rows):
                yield " ".join(plain_text(c.children) for c in row)
        case m.Section(title=t, blocks=bs):
            yield plain_text(t)
            for b in bs:
                yield from _block_words(b)
        case m.Rule() | m.RawBlock():
            pass
        case _:
            assert_never(block)


def walk_blocks(blocks: tuple[m.Block, ...] | list[m.Block]) -> Iterator[m.Block]:
    """Every block, depth first, in document order (containers before their children)."""
    for block in blocks:
        yield block
        match block:
            case m.BulletList(items=items):
                for item in items:
                    yield from walk_blocks(item.blocks)
            case m.DefList(items=items):
                for d in items:
                    yield from walk_blocks(d.body)
            case m.Details(blocks=bs, prompt=p):
                yield from walk_blocks(p + bs)
            case m.Flashcard(front=f, back=bk):
                yield from walk_blocks(f + bk)
            case m.Quote(blocks=bs) | m.Alert(blocks=bs) | m.Section(blocks=bs):
                yield from walk_blocks(bs)
            case m.Para() | m.CodeBlock() | m.Table() | m.Rule() | m.RawBlock() | m.Superseded():
                pass
            case _:
                assert_never(block)


def block_inlines(block: m.Block) -> Iterator[tuple[m.Inline, ...]]:
    """The inline runs directly owned by a block (not its child blocks)."""
    match block:
        case m.Para(children=c):
            yield c
        case m.DefList(items=items):
            for d in items:
                yield d.term
        case m.Table(head=head, rows=rows):
            for row in (head, *rows):
                for cell in row:
                    yield cell.children
        case m.Section(title=t):
            yield t
        case m.Details(summary=s):
            yield s
        case m.Superseded(original=o):
            yield o
        case m.BulletList() | m.CodeBlock() | m.Quote() | m.Alert() | m.Flashcard() | m.Rule() | m.RawBlock():
            pass
        case _:
            assert_never(block)


def walk_inlines(nodes: tuple[m.Inline, ...]) -> Iterator[m.Inline]:
    for node in nodes:
        yield node
        match node:
            case m.Emph(children=c) | m.Strong(children=c) | m.Strike(children=c) | m.Mark(children=c) | m.Link(children=c) | m.Styled(children=c):
                yield from walk_inlines(c)
            case _:
                pass


def all_inlines(book: m.Book) -> Iterator[m.Inline]:
    for chapter in book.chapters:
        yield from chapter_inlines(chapter)


def chapter_inlines(chapter: m.Chapter, title: bool = True) -> Iterator[m.Inline]:
    """Every inline node of a chapter: its title's (unless ``title`` is false), its blocks', its footnotes'."""
    if title:
        yield from walk_inlines(chapter.title)
    for block in walk_blocks(chapter.blocks + tuple(b for f in chapter.footnotes for b in f.blocks)):
        for run in block_inlines(block):
            yield from walk_inlines(run)


def facts(book: m.Book) -> Iterator[tuple[m.Loc, str]]:
    """Every fact of the book: each paragraph, definition, table row and code block.

    The renderers' tests check that each of these texts reaches their artifact.
    """
    for chapter in book.chapters:
        for block in walk_blocks(chapter.blocks + tuple(b for f in chapter.footnotes for b in f.blocks)):
            match block:
                case m.Para(children=c) | m.Details(summary=c):
                    text = squash(plain_text(c))
                    if text:
                        yield block.loc, text
                case m.DefList(items=items):
                    for d in items:
                        yield d.loc, squash(plain_text(d.term))
                case m.Table(head=head, rows=rows):
                    for row in (head, *rows):
                        for cell in row:
                            text = squash(plain_text(cell.children))
                            if text:
                                yield cell.loc, text
                case m.CodeBlock(code=code):
                    for line in code.splitlines():
                        if line.strip():
                            yield block.loc, squash(line)
                case _:
                    pass


def github_slug(text: str) -> str:
    """The anchor GitHub gives a heading: lowercase, punctuation dropped, spaces as '-' (letters of
    every script kept). Repeats get '-1', '-2' (see :func:`github_slugs`)."""
    text = text.strip().lower()
    text = "".join(ch for ch in text if ch.isalnum() or ch in " -_" or unicodedata.category(ch) in ("Mn", "Mc"))
    return text.replace(" ", "-")


def github_slugs(titles: list[str]) -> list[str]:
    """GitHub's anchors for headings in document order (a repeat gets '-1', '-2' ...)."""
    seen: dict[str, int] = {}
    out = []
    for title in titles:
        base = github_slug(title)
        n = seen.get(base, 0)
        out.append(base if n == 0 else f"{base}-{n}")
        seen[base] = n + 1
    return out


def card_options(*runs: tuple[m.Inline, ...]) -> set[str]:
    """The ``<!-- card: ... -->`` options written on a card's line (``no``, ``reverse``, ``together``)."""
    return {part.strip() for run in runs for n in walk_inlines(run) if isinstance(n, m.CardOption)
            for part in n.value.split(",") if part.strip()}


# --------------------------------------------------------------------------- mapping over the tree


def same_nodes(a: tuple[object, ...], b: tuple[object, ...]) -> bool:
    """The same nodes (by identity): nothing below was changed."""
    return len(a) == len(b) and all(x is y for x, y in zip(a, b))


def map_blocks(blocks: tuple[m.Block, ...], fn: Callable[[tuple[m.Block, ...]], tuple[m.Block, ...]]) -> tuple[m.Block, ...]:
    """Apply ``fn`` to every block sequence, innermost first. Unchanged nodes are kept as they are."""

    def item(i: m.ListItem) -> m.ListItem:
        new = map_blocks(i.blocks, fn)
        return i if same_nodes(new, i.blocks) else replace(i, blocks=new)

    def defn(d: m.Definition) -> m.Definition:
        new = map_blocks(d.body, fn)
        return d if same_nodes(new, d.body) else replace(d, body=new)

    def one(block: m.Block) -> m.Block:
        match block:
            case m.BulletList(items=items):
                new_items = tuple(item(i) for i in items)
                return block if same_nodes(new_items, items) else replace(block, items=new_items)
            case m.DefList(items=items):
                new_defs = tuple(defn(d) for d in items)
                return block if same_nodes(new_defs, items) else replace(block, items=new_defs)
            case m.Details(blocks=bs, prompt=p):
                new, new_p = map_blocks(bs, fn), map_blocks(p, fn)
                return block if same_nodes(new, bs) and same_nodes(new_p, p) else replace(block, blocks=new, prompt=new_p)
            case m.Flashcard(front=f, back=bk):
                new_f, new_b = map_blocks(f, fn), map_blocks(bk, fn)
                return block if same_nodes(new_f, f) and same_nodes(new_b, bk) else replace(block, front=new_f, back=new_b)
            case m.Quote(blocks=bs) | m.Alert(blocks=bs) | m.Section(blocks=bs):
                new = map_blocks(bs, fn)
                return block if same_nodes(new, bs) else replace(block, blocks=new)
            case m.Para() | m.CodeBlock() | m.Table() | m.Rule() | m.RawBlock() | m.Superseded():
                return block
            case _:
                assert_never(block)

    return fn(tuple(one(b) for b in blocks))


# "⬆ Back to Top", "↑ back to contents", "Go to top": a link that only moves the reader around the page
NAVIGATION_RE = re.compile(r"^[\W_]*(?:(?:back|go|return|jump|scroll)\s+(?:up\s+)?to\s+)?(?:the\s+)?"
                           r"(?:top|top of (?:the )?page|contents|table of contents|toc|index)[\W_]*$", re.I)


def is_navigation(block: m.Block) -> bool:
    """A paragraph that is only links to places in the same page, each worded as a way back up ("⬆ Back to
    Top"): a reading aid of a long page, no content (a card's back and a printed sheet leave it out)."""
    if not isinstance(block, m.Para):
        return False
    links = 0
    for node in walk_inlines(block.children):
        if isinstance(node, m.Link):
            if not node.url.startswith("#") or not NAVIGATION_RE.match(plain_text(node.children).strip()):
                return False
            links += 1
    return links > 0 and not plain_text(tuple(n for n in block.children if not _is_link(n))).strip(" |•·\n\t")


def _is_link(node: m.Inline) -> bool:
    """A link, or bold or emphasis holding only links."""
    if isinstance(node, m.Link):
        return True
    if isinstance(node, (m.Strong, m.Emph)):
        return all(_is_link(n) for n in node.children)
    return isinstance(node, (m.SoftBreak, m.LineBreak))


def without_navigation(blocks: tuple[m.Block, ...]) -> tuple[m.Block, ...]:
    """``blocks`` with the navigation paragraphs (see :func:`is_navigation`) left out, at every depth."""
    return map_blocks(blocks, lambda seq: tuple(b for b in seq if not is_navigation(b)))


def map_inlines(blocks: tuple[m.Block, ...], fn: Callable[[tuple[m.Inline, ...]], tuple[m.Inline, ...]]) -> tuple[m.Block, ...]:
    """Apply ``fn`` to every inline run (paragraphs, terms, cells, titles)."""

    def per_block(seq: tuple[m.Block, ...]) -> tuple[m.Block, ...]:
        out = []
        for block in seq:
            match block:
                case m.Para(children=c):
                    new = fn(c)
                    if not same_nodes(new, c):
                        block = replace(block, children=new)
                case m.DefList(items=items):
                    terms = [fn(d.term) for d in items]
                    if not all(same_nodes(t, d.term) for t, d in zip(terms, items)):
                        block = replace(block, items=tuple(d if same_nodes(t, d.term) else replace(d, term=t) for t, d in zip(terms, items)))
                case m.Table(head=head, rows=rows):
                    def cells(row: tuple[m.Cell, ...]) -> tuple[m.Cell, ...]:
                        new = tuple(c if same_nodes(k := fn(c.children), c.children) else replace(c, children=k) for c in row)
                        return row if same_nodes(new, row) else new

                    new_head, new_rows = cells(head), tuple(cells(r) for r in rows)
                    if new_head is not head or not same_nodes(new_rows, rows):
                        block = replace(block, head=new_head, rows=new_rows)
                case m.Section(title=t):
                    new = fn(t)
                    if not same_nodes(new, t):
                        block = replace(block, title=new)
                case m.Details(summary=t):
                    new = fn(t)
                    if not same_nodes(new, t):
                        block = replace(block, summary=new)
                case m.Superseded(original=t):
                    new = fn(t)
                    if not same_nodes(new, t):
                        block = replace(block, original=new)
                case _:
                    pass
            out.append(block)
        return tuple(out)

    return map_blocks(blocks, per_block)


def boxes(chapter: m.Chapter) -> int:
    """How much a layout engine has to place for a chapter: its blocks, list items and every inline node
    that is not plain text (each a box of its own: the sheet's layout time grows with them)."""
    n = 0
    for b in walk_blocks(chapter.blocks):
        n += 1 + (len(b.items) if isinstance(b, (m.BulletList, m.DefList)) else 0)
        for run in block_inlines(b):
            n += sum(1 for x in walk_inlines(run) if not isinstance(x, m.Text))
    return n
