"""The glossary: every defined term, linked from its first use in the text and back."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from lxml import etree
from markupsafe import Markup

from ...core import model as m
from ...core.text import (
    plain_text,
    slugify,
    squash,
    unique,
)
from ...markup import html
from .chapters import Plan
from .clean import (
    clean_blocks,
    clean_inlines,
    question_inlines,
    without_notes,
    xhtml_fragment,
)
from .quiz import Check
from .xhtml import EPUB_TYPE, MATHML_NS, XHTML_NS, Doc


@dataclass(frozen=True)
class GlossaryEntry:
    id: str
    term: Markup
    href: str
    body: Markup
    chapter: str
    sort_key: tuple[str, int, int]
    words: str = ""  # the term as plain text
    first_use: str = ""  # where the book first uses it, linked to this entry (``file#id``)


def gloss_parts(plan: Plan, chapter: m.Chapter, card: m.Card) -> tuple[Markup, Markup, str]:
    """A definition card's glossary entry as it reads: its term, its body, its words (plain text)."""
    opts = plan.options(chapter, notes=False)
    first = card.front[0] if card.front and isinstance(card.front[0], m.Para) else None
    term_nodes = question_inlines(clean_inlines(first.children) if first else (), blank=False)
    words = squash(plain_text(term_nodes)) or card.identity
    body = html.to_xhtml(html.render(clean_blocks(without_notes(card.back)), opts)) if card.back else ""
    return xhtml_fragment(html.render_inlines(term_nodes, opts)) or Markup.escape(words), Markup(body), words


def glossary_entries(plan: Plan, cards: tuple[m.Card, ...], checks: dict[str, Check],
                     parts: dict[str, tuple[Markup, Markup, str]] | None = None) -> list[GlossaryEntry]:
    """Every definition card's entry, sorted by term (``parts``: each card's :func:`gloss_parts`, when known)."""
    order = {ch.slug: i for i, ch in enumerate(plan.book.chapters)}
    chapters = {ch.slug: ch for ch in plan.book.chapters}
    used: set[str] = set()
    out = []
    for n, card in enumerate(cards):
        if card.kind != "definition" or card.chapter not in chapters:
            continue
        chapter = chapters[card.chapter]
        term, body, words = (parts or {}).get(card.identity) or gloss_parts(plan, chapter, card)
        check = checks.get(card.identity)
        target = check.target if check else ""
        href = plan.files[card.chapter] + (f"#{target}" if target else "")
        out.append(GlossaryEntry(
            id=unique("gloss_" + (slugify(words, limit=60) or "term"), used, sep="_"),
            term=term,
            href=href,
            body=body,
            chapter=squash(plain_text(chapter.title)) or chapter.slug,
            sort_key=(words.casefold(), order[card.chapter], n),
            words=words,
        ))
    return sorted(out, key=lambda e: e.sort_key)


# where a term is not linked to the glossary: links, code, headings, formulas, note numbers, the quiz
NO_GLOSS_LINK = {f"{{{XHTML_NS}}}{t}" for t in ("a", "code", "pre", "kbd", "h1", "h2", "h3", "h4", "h5", "h6",
                                                   "sup", "sub", "script", "style", "nav")} | {f"{{{MATHML_NS}}}math"}


def link_first_uses(docs: list[Doc], entries: list[GlossaryEntry]) -> list[GlossaryEntry]:
    """Link the first use of each glossary term in the chapters (in reading order) to its entry; the
    entries, each with where that first use is (for the link back)."""
    terms: dict[str, GlossaryEntry] = {}
    for e in entries:
        key = e.words.casefold()
        if 2 <= len(key) <= 60 and not key.endswith("?") and key not in terms:
            terms[key] = e
    if not terms:
        return entries
    words = sorted(terms, key=lambda k: (-len(k), k))  # the longest term wins where two overlap
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)", re.IGNORECASE)
    found: dict[str, str] = {}

    def skip(el: Any) -> bool:
        while el is not None:
            if el.tag in NO_GLOSS_LINK or el.get("id") == "check_yourself":
                return True
            el = el.getparent()
        return False

    def link(text: str, doc: Doc) -> tuple[str, list[Any]]:
        """``text`` up to its first new term, and the elements (each a link with its tail) after it."""
        out: list[Any] = []
        head, at = None, 0
        for mt in pattern.finditer(text):
            key = mt.group(0).casefold()
            if key in found or key not in terms:
                continue
            a = etree.Element(f"{{{XHTML_NS}}}a", {"href": f"glossary.xhtml#{terms[key].id}",
                                                   "id": f"{terms[key].id}_use", "class": "glossref", "role": "doc-glossref",
                                                   EPUB_TYPE: "glossref"})
            a.text = mt.group(0)
            found[key] = f"{doc.href}#{terms[key].id}_use"
            if out:
                out[-1].tail = text[at:mt.start()]
            else:
                head = text[:mt.start()]
            out.append(a)
            at = mt.end()
        if out:
            out[-1].tail = text[at:]
        return (text if head is None else head), out

    for doc in docs:
        for el in list(doc.root.iter(f"{{{XHTML_NS}}}*")):
            if len(found) == len(terms):
                break
            if skip(el):
                continue
            if el.text:
                el.text, made = link(el.text, doc)
                for n, a in enumerate(made):
                    el.insert(n, a)
            for child in list(el):
                if child.tail and child.get("class") != "glossref":
                    child.tail, made = link(child.tail, doc)
                    at = el.index(child)
                    for n, a in enumerate(made, 1):
                        el.insert(at + n, a)
    return [replace(e, first_use=found.get(e.words.casefold(), "")) if terms.get(e.words.casefold()) is e else e
            for e in entries]
