"""What a document may hold of the model: raw HTML without ids (only the renderer names elements), no
footnote references outside their chapter, questions fit to stand inside a link."""

from __future__ import annotations

import re
from dataclasses import replace

from markupsafe import Markup

from ...check.validate import ALLOWED_TAGS
from ...core import model as m
from ...core.text import (
    BLANK,
    map_blocks,
    map_inlines,
)
from ...markup import html

RAW_ID_RE = re.compile(r"""[\s/]+id\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+)""", re.I)


RAW_TAG_RE = re.compile(r"^</?\s*([A-Za-z][A-Za-z0-9]*)")


def question_inlines(nodes: tuple[m.Inline, ...], blank: bool) -> tuple[m.Inline, ...]:
    """Inlines fit to stand inside a link: no links, notes, pins or raw HTML; marks as blanks."""
    out: list[m.Inline] = []
    for node in nodes:
        match node:
            case m.Mark(children=c):
                out.append(m.Text(BLANK, node.loc) if blank else replace(node, children=question_inlines(c, blank)))
            case m.Emph(children=c) | m.Strong(children=c) | m.Strike(children=c):
                out.append(replace(node, children=question_inlines(c, blank)))
            case m.Link(children=c):
                out.extend(question_inlines(c, blank))
            case m.Image(alt=alt):
                if alt:
                    out.append(m.Text(alt, node.loc))
            case m.LineBreak() | m.SoftBreak():
                out.append(m.Text(" ", node.loc))
            case m.RawInline(html=raw):
                tag = RAW_TAG_RE.match(raw.strip())
                if tag and tag.group(1).lower() in ALLOWED_TAGS:  # <sub>, <kbd> ...: never <a>
                    out.append(node)
            case m.FootnoteRef() | m.Pin() | m.Tag():
                pass
            case _:
                out.append(node)
    # a pin or a note at the end leaves a space behind
    while out and isinstance(out[-1], m.Text) and not out[-1].text.strip():
        out.pop()
    if out and isinstance(out[-1], m.Text):
        out[-1] = replace(out[-1], text=out[-1].text.rstrip())
    return tuple(out)


def without_notes(blocks: tuple[m.Block, ...]) -> tuple[m.Block, ...]:
    """Blocks shown outside their chapter (the glossary): footnote references dropped."""

    def strip(nodes: tuple[m.Inline, ...]) -> tuple[m.Inline, ...]:
        out: list[m.Inline] = []
        for node in nodes:
            if isinstance(node, m.FootnoteRef):
                continue
            if isinstance(node, (m.Emph, m.Strong, m.Strike, m.Mark, m.Link)):
                node = replace(node, children=strip(node.children))
            out.append(node)
        return tuple(out)

    return map_inlines(blocks, strip)


def clean_inlines(nodes: tuple[m.Inline, ...]) -> tuple[m.Inline, ...]:
    """Raw inline HTML without ``id`` attributes: only the renderer names elements."""
    out: list[m.Inline] = []
    for node in nodes:
        if isinstance(node, m.RawInline):
            node = replace(node, html=RAW_ID_RE.sub("", node.html))
        elif isinstance(node, (m.Emph, m.Strong, m.Strike, m.Mark, m.Link)):
            node = replace(node, children=clean_inlines(node.children))
        out.append(node)
    return tuple(out)


def clean_blocks(blocks: tuple[m.Block, ...]) -> tuple[m.Block, ...]:
    """Blocks whose raw HTML has no ``id``s, so none can clash with a heading, note or card anchor."""

    def raw(seq: tuple[m.Block, ...]) -> tuple[m.Block, ...]:
        return tuple(replace(b, html=RAW_ID_RE.sub("", b.html)) if isinstance(b, m.RawBlock) else b for b in seq)

    return map_inlines(map_blocks(blocks, raw), clean_inlines)


def clean_chapter(chapter: m.Chapter) -> m.Chapter:
    return replace(
        chapter,
        title=clean_inlines(chapter.title),
        blocks=clean_blocks(chapter.blocks),
        footnotes=tuple(replace(f, blocks=clean_blocks(f.blocks)) for f in chapter.footnotes),
    )


def xhtml_fragment(fragment: str) -> Markup:
    """A sanitized HTML fragment as XHTML, ready for a template."""
    return Markup(html.to_xhtml(fragment))
