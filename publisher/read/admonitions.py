"""MkDocs (Python-Markdown) admonitions, as a mistune plugin::

    !!! note "Optional title"
        Indented body: any Markdown, four spaces in.

    ??? tip            (collapsible; ???+ opens expanded)

The token is ``admonition`` with ``attrs`` name and title (None: no title given, "" : none wanted) and
the body's blocks as children; the reader makes it the same Alert node as a callout.
"""

from __future__ import annotations

import re
from typing import Any, Match

ADMONITION = (
    r"^(?P<adm_mark>!!!|\?\?\?\+?)[ \t]+(?P<adm_type>[A-Za-z][\w-]*)"
    r"(?:[ \t]+\"(?P<adm_title>[^\"\n]*)\")?[ \t]*(?:\n|$)"
)
BODY_LINE_RE = re.compile(r"(?: {4}|\t)[^\n]*(?:\n|$)|[ \t]*\n(?=(?: {4}|\t)[^\n]*\S)")


def parse_admonition(block: Any, m: Match[str], state: Any) -> int:
    src, at = m.string, m.end()
    lines: list[str] = []
    while at < len(src):
        line = BODY_LINE_RE.match(src, at)
        if line is None:
            break
        text = line.group(0)
        lines.append(text[4:] if text.startswith("    ") else text[1:] if text.startswith("\t") else "\n")
        at = line.end()
    child = state.child_state("".join(lines))
    if state.depth() < block.max_nested_level - 1:
        block.parse(child, block.block_quote_rules)
    title = m.group("adm_title")
    state.append_token({
        "type": "admonition",
        "attrs": {"name": m.group("adm_type"), "title": title},
        "children": child.tokens,
    })
    return at


def admonitions(md: Any) -> None:
    md.block.register("admonition", ADMONITION, parse_admonition, before="list")
    for rules in (md.block.list_rules, md.block.block_quote_rules):
        md.block.insert_rule(rules, "admonition", before="list")
