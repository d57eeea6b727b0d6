"""Callouts and updates: GitHub's alerts and Obsidian's callouts by the family every output styles, and
``> [!UPDATE]`` put in the place of the claim it updates."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from ..core import model as m
from ..core.diagnostics import Diagnostic, diag
from .tokens import HeadingMark

ALERT_RE = re.compile(r"^\[!([A-Za-z][\w-]*)\]([+-]?)[ \t]*")
# Obsidian's callout types (and their aliases) by the family every output styles; any other type is a note
CALLOUT_FAMILIES = {
    "note": "note", "abstract": "note", "summary": "note", "tldr": "note", "info": "note", "todo": "note",
    "example": "note", "quote": "note", "cite": "note",
    "tip": "tip", "hint": "tip", "success": "tip", "check": "tip", "done": "tip",
    "important": "important", "question": "important", "help": "important", "faq": "important",
    "warning": "warning", "attention": "warning",
    "caution": "caution", "failure": "caution", "fail": "caution", "missing": "caution", "danger": "caution",
    "error": "caution", "bug": "caution",
}
GITHUB_ALERTS = ("NOTE", "TIP", "IMPORTANT", "WARNING", "CAUTION")
UPDATE_RE = re.compile(r"^\[!UPDATE\][ \t]*(?P<since>\d{4}(?:-\d{2}){0,2})?[ \t]*(?:[·|,-][ \t]*)?(?P<source>\S+)?[ \t]*$", re.I | re.M)


@dataclass(frozen=True)
class Update:
    """Reader-internal: a ``> [!UPDATE]`` quote before :func:`place_updates` puts it in place."""

    since: str
    source: str
    blocks: tuple[m.Block, ...]
    loc: m.Loc


def place_updates(diags: list[Diagnostic], blocks: list[Any], lead: bool) -> list[Any]:
    """Put today's claim of each ``[!UPDATE]`` in the old claim's place: in a list item the item's
    own text (its first paragraph), elsewhere the paragraph just before it."""
    out: list[Any] = []
    for b in blocks:
        if not isinstance(b, Update):
            out.append(b)
            continue
        target = 0 if lead else len(out) - 1
        old = out[target] if 0 <= target < len(out) else None
        current = b.blocks[0] if b.blocks and isinstance(b.blocks[0], m.Para) else None
        if isinstance(old, HeadingMark) and current is not None:
            # a heading updated (a name that was wrong): today's name heads the section, the old one
            # is kept as the section's first block
            out[target] = HeadingMark(old.level, current.children, old.loc)
            out.insert(target + 1, m.Superseded(old.children, b.since, b.source, b.loc))
            continue
        if not isinstance(old, m.Para) or current is None:
            diags.append(diag("P018", b.loc.file, b.loc.line, "put it under the claim it updates, "
                                   "with the claim as it stands today on the line after the marker"))
            out.append(m.Alert("note", b.blocks, b.loc))
            continue
        out[target] = replace(current, loc=old.loc)  # today's claim stands where the old one stood
        out.insert(target + 1, m.Superseded(old.children, b.since, b.source, b.loc))
        if b.blocks[1:]:
            out.append(m.Alert("note", b.blocks[1:], b.loc))
    return out
