"""The chapter documents: what every document needs to know of the others (files, anchors, card ids), and
each chapter rendered with its notes and its quiz."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from markupsafe import Markup

from ...core import model as m
from ...markup.typography import typeset
from ...core.model import Loaded
from ...core.text import (
    plain_text,
    slugify,
    squash,
    unique,
    walk_blocks,
)
from ...markup import html
from .clean import clean_chapter, question_inlines, xhtml_fragment
from .images import Images
from .quiz import Check, answer_of, question_of
from .xhtml import STYLESHEET, TEMPLATES, ids_in


def chapter_href(index: int, chapter: m.Chapter) -> str:
    """A chapter's document: ``01-dynamodb.xhtml`` (the digits keep it apart from the fixed names)."""
    return f"{index:02d}-{chapter.slug}.xhtml"


def card_ids(cards: tuple[m.Card, ...]) -> dict[str, str]:
    """Card identity -> the id its source element gets. ``_`` never occurs in heading slugs."""
    used: set[str] = set()
    return {c.identity: unique("card_" + (slugify(c.identity, limit=80) or "x"), used, sep="_") for c in cards}


class Anchors:
    """The ``html.Options.anchor_for`` hook: each card's id goes on the first element written from its line."""

    def __init__(self, pending: dict[m.Loc, list[str]]) -> None:
        self.pending = {loc: list(ids) for loc, ids in pending.items()}

    def __call__(self, loc: m.Loc) -> str | None:
        waiting = self.pending.get(loc)
        return waiting.pop(0) if waiting else None


@dataclass
class Plan:
    """What every document needs to know about the others."""

    book: m.Book
    files: dict[str, str]  # chapter slug -> document href
    anchors: dict[str, set[str]]  # chapter slug -> ids a link may target
    images: Images
    ids: dict[str, str]  # card identity -> element id

    def link_href(self, url: str) -> str | None:
        """Web and mail links stay links; other local files are not in the book (shown as text)."""
        return html.web_link(url)

    def target_href(self, target: str) -> str | None:
        """A link into the book (``slug`` or ``slug#anchor``, resolved by normalization)."""
        slug, _, anchor = target.partition("#")
        if slug not in self.files:
            return None
        return f"{self.files[slug]}#{anchor}" if anchor and anchor in self.anchors[slug] else self.files[slug]

    def options(self, chapter: m.Chapter, anchors: Anchors | None = None, notes: bool = True) -> html.Options:
        return html.Options(
            math="mathml",
            typography=True,
            original_label=html.original_label(self.book.meta.date),
            image_src=self.images.src,
            link_href=self.link_href,
            target_href=self.target_href,
            footnote_numbers=html.footnote_numbers(chapter) if notes else {},
            anchor_for=anchors,
        )


def sections_of(blocks: tuple[m.Block, ...]) -> Iterator[m.Section]:
    for b in walk_blocks(blocks):
        if isinstance(b, m.Section):
            yield b


def make_plan(loaded: Loaded, content_dir: Path) -> Plan:
    book = loaded.book
    files = {ch.slug: chapter_href(i, ch) for i, ch in enumerate(book.chapters, 1)}
    anchors = {ch.slug: {s.anchor for s in sections_of(ch.blocks)} | {ch.slug} for ch in book.chapters}
    return Plan(book, files, anchors, Images(content_dir), card_ids(loaded.cards))


def enclosing_sections(chapter: m.Chapter) -> dict[m.Loc, str]:
    """The anchor of the innermost section around each source line (a fallback link target)."""
    out: dict[m.Loc, str] = {}

    def visit(blocks: tuple[m.Block, ...], anchor: str | None) -> None:
        for b in blocks:
            if isinstance(b, m.Section):
                out[b.loc] = b.anchor
                visit(b.blocks, b.anchor)
                continue
            for inner in walk_blocks((b,)):
                if anchor is not None:
                    out.setdefault(inner.loc, anchor)
                if isinstance(inner, m.BulletList):
                    for item in inner.items:
                        if anchor is not None:
                            out.setdefault(item.loc, anchor)
                elif isinstance(inner, m.DefList):
                    for d in inner.items:
                        if anchor is not None:
                            out.setdefault(d.loc, anchor)

    visit(chapter.blocks, None)
    return out


def chapter_text(plan: Plan, index: int, chapter: m.Chapter, cards: list[m.Card], env: Any, lang: str) -> tuple[str, list[Check]]:
    """A chapter's document as text (the chapter template rendered) and its quiz."""
    chapter = clean_chapter(chapter)
    pending: dict[m.Loc, list[str]] = {}
    for card in cards:
        if card.kind != "question":
            pending.setdefault(card.loc, []).append(plan.ids[card.identity])
    opts = plan.options(chapter, Anchors(pending))
    plain_opts = plan.options(chapter)
    body = html.to_xhtml(html.render(chapter.blocks, opts))
    notes = html.to_xhtml(html.sanitize(html.footnotes(chapter, plain_opts)))
    title = typeset(squash(plain_text(chapter.title))) or chapter.slug  # as its heading: dashes, quotes
    heading = xhtml_fragment(html.render_inlines(question_inlines(chapter.title, blank=False), plain_opts)) or title
    placed = ids_in(body)
    sections = {s.loc: s.anchor for s in sections_of(chapter.blocks)}
    around = enclosing_sections(chapter)
    anchor = chapter.slug if chapter.slug not in sections.values() else None
    top = anchor or "chapter_title"
    checks = []
    for number, card in enumerate(cards, 1):
        if card.kind == "question":
            target = sections.get(card.loc) or around.get(card.loc) or top
        else:
            own = plan.ids[card.identity]
            target = own if own in placed else (around.get(card.loc) or top)
        checks.append(Check(card.kind, target, question_of(card, plain_opts), card.identity,
                            " \u203a ".join(card.context[1:]).rstrip(":"), number, answer_of(card, plain_opts)))
    text = env.get_template(f"{TEMPLATES}/chapter.xhtml").render(
        lang=lang, title=title, heading=heading, anchor=anchor, stylesheet=STYLESHEET,
        body=Markup(body), footnotes=Markup(notes), checks=checks,
    )
    return text, checks
