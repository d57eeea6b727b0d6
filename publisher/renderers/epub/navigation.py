"""The contents: parts, chapters, their sections and quizzes, numbered for the NCX."""

from __future__ import annotations

from typing import Any

from ...core import model as m
from ...markup.typography import typeset
from ...core.text import (
    plain_text,
    squash,
)
from .chapters import Plan


def toc_tree(plan: Plan, glossary: bool, quizzes: set[str] = frozenset()) -> list[dict[str, Any]]:
    """The contents: parts, chapters, their sections and (``quizzes``: chapter slugs) their quiz."""
    def sections(blocks: tuple[m.Block, ...], href: str) -> list[dict[str, Any]]:
        out = []
        for b in blocks:
            if isinstance(b, m.Section):
                label = typeset(squash(plain_text(b.title))) or b.anchor
                out.append({"href": f"{href}#{b.anchor}", "label": label, "children": sections(b.blocks, href)})
        return out

    tree: list[dict[str, Any]] = []
    # folders are parts: an entry that holds its chapters (a folder's README is the part's own page)
    open_parts: list[tuple[m.Part, dict[str, Any]]] = []
    for ch in plan.book.chapters:
        href = plan.files[ch.slug]
        chain = plan.book.parts_of(ch)
        while open_parts and (len(open_parts) > len(chain) or open_parts[-1][0] is not chain[len(open_parts) - 1]):
            open_parts.pop()
        made = None
        for part in chain[len(open_parts):]:
            entry = {"href": href, "label": typeset(squash(plain_text(part.title))) or part.slug, "children": []}
            (open_parts[-1][1]["children"] if open_parts else tree).append(entry)
            open_parts.append((part, entry))
            made = entry
        quiz = [{"href": f"{href}#check_yourself", "label": "Check yourself", "children": []}] if ch.slug in quizzes else []
        if ch.intro and made is not None and chain and chain[-1].path == ch.part:
            made["children"].extend(sections(ch.blocks, href) + quiz)
            continue
        entry = {"href": href, "label": typeset(squash(plain_text(ch.title))) or ch.slug,
                 "children": sections(ch.blocks, href) + quiz}
        (open_parts[-1][1]["children"] if open_parts else tree).append(entry)
    if glossary:
        tree.append({"href": "glossary.xhtml", "label": "Glossary", "children": []})
    order = 0
    plays: dict[str, int] = {}  # the NCX gives entries that point at the same place the same playOrder

    def number(entries: list[dict[str, Any]]) -> None:
        nonlocal order
        for e in entries:
            order += 1
            e["order"] = plays.setdefault(e["href"], len(plays) + 1)
            e["ncx_id"] = f"navpoint-{order}"
            number(e["children"])

    number(tree)
    return tree


def toc_depth(tree: list[dict[str, Any]]) -> int:
    return max((1 + toc_depth(e["children"]) for e in tree), default=0)
