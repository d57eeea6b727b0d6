"""Derive flash cards from the normalized model.

Cards come only from the text: definitions, paragraphs with ``==marks==``
(cloze) and headings that end with ``?`` (question). A card's identity is made
from what the card asks (the term, the question, the marked text) and its
chapter, never from its answer or its position, so answers can be edited and
cards inserted, removed or reordered without changing it. A ``<!-- id: x -->``
on the card's line pins it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Iterator, assert_never

from . import model as m
from .normalize import split_term
from .text import blank_marks, plain_text, slugify, squash, walk_inlines


def key_slug(text: str) -> str:
    """A readable slug of ``text``; long ones end in a short hash so they stay unique."""
    full = slugify(squash(text).lower(), limit=400)
    if not full:
        full = "x" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]
    if len(full) <= 48:
        return full
    return full[:39].rstrip("-") + "-" + hashlib.sha1(full.encode()).hexdigest()[:8]


def pins(nodes: tuple[m.Inline, ...]) -> list[m.Pin]:
    return [n for n in walk_inlines(nodes) if isinstance(n, m.Pin)]


def marks(nodes: tuple[m.Inline, ...]) -> list[m.Mark]:
    return [n for n in walk_inlines(nodes) if isinstance(n, m.Mark)]


@dataclass(frozen=True)
class _Ctx:
    book: m.Meta
    chapter: m.Chapter
    path: tuple[tuple[str, str], ...]  # (title, anchor) of the enclosing sections
    lead: str = ""  # the list item or term a nested card stands under

    @property
    def titles(self) -> tuple[str, ...]:
        head = (plain_text(self.chapter.title) or self.chapter.slug,) + tuple(t for t, _ in self.path)
        return head + ((self.lead,) if self.lead else ())

    def under(self, lead: tuple[m.Inline, ...]) -> "_Ctx":
        """The context of the cards nested under ``lead``: its marked words hidden (they are
        the parent card's answer), cut at a word near 90 characters."""
        text = squash(plain_text(blank_marks(lead)))
        if len(text) > 90:
            text = (text[:89].rsplit(" ", 1)[0] if " " in text[:89] else text[:89]).rstrip(" ,;:-") + "\u2026"
        return _Ctx(self.book, self.chapter, self.path, text)

    @property
    def tags(self) -> tuple[str, ...]:
        parts = [slugify(self.book.short_name) or "book", self.chapter.slug] + [a for _, a in self.path]
        return ("::".join(parts),) + self.chapter.tags


def _card(kind: m.CardKind, basis: str, front: tuple[m.Block, ...], back: tuple[m.Block, ...],
          ctx: _Ctx, loc: m.Loc, pinned: list[m.Pin]) -> m.Card:
    if pinned:
        identity, is_pinned = pinned[0].id, True
    else:
        prefix = {"definition": "", "cloze": "cloze-", "question": "q-"}[kind]
        identity, is_pinned = f"{ctx.chapter.slug}/{prefix}{key_slug(basis)}", False
    return m.Card(kind, identity, front, back, ctx.titles, ctx.chapter.slug, ctx.tags, loc, is_pinned)


def _from_blocks(blocks: tuple[m.Block, ...], ctx: _Ctx) -> Iterator[m.Card]:
    for block in blocks:
        match block:
            case m.Para(children=c):
                found = marks(c)
                if found:
                    basis = " | ".join(plain_text(k.children) for k in found)
                    yield _card("cloze", basis, (block,), (), ctx, block.loc, pins(c))
            case m.DefList(items=items):
                for d in items:
                    term = plain_text(d.term)
                    if not d.body:  # nothing to answer with (P108): the term stays text
                        continue
                    head_pins = pins(d.term) + (pins(d.body[0].children) if d.body and isinstance(d.body[0], m.Para) else [])
                    yield _card("definition", term, (m.Para(d.term, d.loc),), d.body, ctx, d.loc, head_pins)
                    yield from _from_blocks(d.body, ctx.under(d.term))
            case m.BulletList(items=items, ordered=ordered):
                for item in items:
                    # numbered steps keep their list; a "Term - text" step still makes a card
                    split = split_term(item.blocks[0].children) if ordered and item.blocks and isinstance(item.blocks[0], m.Para) else None
                    if split is not None:
                        term, rest = split
                        back = ((m.Para(rest, item.loc),) if rest else ()) + item.blocks[1:]
                        yield _card("definition", plain_text(term), (m.Para(term, item.loc),), back, ctx, item.loc, pins(item.blocks[0].children))
                    lead = item.blocks[0] if item.blocks and isinstance(item.blocks[0], m.Para) else None
                    if lead is not None and marks(lead.children):
                        # a cloze item: its nested bullets and alerts are the card's Extra
                        basis = " | ".join(plain_text(k.children) for k in marks(lead.children))
                        yield _card("cloze", basis, (lead,), item.blocks[1:], ctx, lead.loc, pins(lead.children))
                    else:
                        yield from _from_blocks(item.blocks[:1], ctx)
                    yield from _from_blocks(item.blocks[1:], ctx.under(lead.children) if lead else ctx)
            case m.Quote(blocks=bs) | m.Alert(blocks=bs) | m.Details(blocks=bs):
                yield from _from_blocks(bs, ctx)
            case m.Section(title=t, anchor=a, blocks=bs):
                inner = _Ctx(ctx.book, ctx.chapter, ctx.path + ((plain_text(t), a),))  # leads end at a heading
                title = plain_text(t).strip()
                if title.endswith("?"):
                    yield _card("question", title, (m.Para(t, block.loc),), bs, ctx, block.loc, pins(t))
                yield from _from_blocks(bs, inner)
            case m.CodeBlock() | m.Table() | m.Rule() | m.RawBlock():
                pass
            case _:
                assert_never(block)


def derive_cards(book: m.Book) -> tuple[m.Card, ...]:
    """All cards of the book in document order, each identity unique (see :func:`unique_identities`)."""
    out: list[m.Card] = []
    for chapter in book.chapters:
        if chapter.cards:
            out.extend(_from_blocks(chapter.blocks, _Ctx(book.meta, chapter, ())))
    return unique_identities(out)


def unique_identities(cards: list[m.Card]) -> tuple[m.Card, ...]:
    """Cards that happen to share an identity (the same marked word twice in a chapter) are told
    apart by a suffix in document order: the first keeps it, the next get ``.2``, ``.3`` ... (a
    slug never holds a '.', so no other card can have it). Inserting an unrelated card changes
    none of them. Pinned ids claim theirs first; two pins alike stay alike (an error, P119)."""
    taken = {c.identity for c in cards if c.pinned}
    seen: set[str] = set()
    out = []
    for card in cards:
        if card.pinned:
            out.append(card)
            continue
        if card.identity not in taken and card.identity not in seen:
            seen.add(card.identity)
            out.append(card)
            continue
        n = 2
        while f"{card.identity}.{n}" in seen or f"{card.identity}.{n}" in taken:
            n += 1
        new = f"{card.identity}.{n}"
        seen.add(new)
        out.append(replace(card, identity=new, duplicate_of=card.identity))
    return tuple(out)


def cloze_count(card: m.Card) -> int:
    """How many deletions (c1, c2 ...) a cloze card has."""
    return sum(len(marks(b.children)) for b in card.front if isinstance(b, m.Para))
