"""Check yourself: each chapter's cards as a numbered quiz, the answers after it."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from ...core import model as m
from ...core.text import (
    plain_text,
)
from ...markup import html
from .clean import (
    clean_blocks,
    clean_inlines,
    question_inlines,
    without_notes,
    xhtml_fragment,
)


@dataclass(frozen=True)
class Check:
    kind: str
    target: str
    question: Markup
    identity: str
    context: str = ""  # where in the chapter the card stands (sections, parent item), as Anki shows it
    number: int = 0  # its number in the chapter's quiz
    answer: Markup = Markup("")  # shown at the end of the chapter, linked both ways


def flat_blocks(blocks: tuple[m.Block, ...]) -> tuple[m.Block, ...]:
    """Sections as a bold line and their blocks: an answer holds no headings (or their ids)."""
    out: list[m.Block] = []
    for b in blocks:
        if isinstance(b, m.Section):
            out.append(m.Para((m.Strong(b.title, b.loc),), b.loc))
            out.extend(flat_blocks(b.blocks))
        else:
            out.append(b)
    return tuple(out)


def answer_of(card: m.Card, opts: html.Options) -> Markup:
    """A card's answer as the quiz shows it: a cloze's sentence with its hidden words marked (and its
    extra), a definition's body, a question's section."""
    blocks = card.front + card.back if card.kind == "cloze" else card.back
    blocks = flat_blocks(clean_blocks(without_notes(blocks)))
    return xhtml_fragment(html.render(blocks, opts)) if blocks else Markup("")


def question_of(card: m.Card, opts: html.Options) -> Markup:
    first = card.front[0] if card.front and isinstance(card.front[0], m.Para) else None
    inl = clean_inlines(first.children) if first else ()
    if card.kind == "definition":
        nodes = question_inlines(inl, blank=False)
        term = xhtml_fragment(html.render_inlines(nodes, opts))
        if plain_text(nodes).rstrip().endswith("?"):
            return term
        return term + Markup(" \u2013 \u2026")  # "Term – …": say what follows, as on the sheet
    return xhtml_fragment(html.render_inlines(question_inlines(inl, blank=card.kind == "cloze"), opts))
