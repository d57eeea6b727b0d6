"""GitHub's tables (GFM), as a mistune plugin: mistune's own ``table`` plugin ends a table at a row without
its closing pipe, reads ``| a | b`` as three cells (the first empty), and drops a table whose rows do not all
have the header's number of cells; GitHub does none of these.

A table is a header row and a delimiter row with the same number of cells, then rows until a blank line or
the start of another block. Leading and trailing pipes are optional on every line; ``\\|`` is a pipe inside a
cell (in code spans too); a row with fewer cells is padded; one with more keeps the extra cells in its last cell (GitHub drops
them: nothing written is lost here).
The tokens are mistune's own (``table``, ``table_head``, ``table_body``, ``table_row``, ``table_cell``).
"""

from __future__ import annotations

import re
from typing import Any, Match

GFM_TABLE = (
    r"^ {0,3}(?P<gfm_table_head>[^\n]*\|[^\n]*)\n"
    r" {0,3}(?P<gfm_table_align>\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?)[ \t]*(?:\n|$)"
)
# a line that starts another block ends the table (GFM): a quote, heading, fence, list item, HTML, rule
ENDS_TABLE_RE = re.compile(r"^ {0,3}(?:>|#{1,6}(?:[ \t]|$)|`{3,}|~{3,}|[-*+][ \t]|\d{1,9}[.)][ \t]|<|(?:[-*_][ \t]*){3,}$)")


def split_row(line: str) -> list[str]:
    """A row's cells: split at unescaped pipes, the outer pipes optional, ``\\|`` made a pipe."""
    text = line.strip()
    if text.startswith("|"):
        text = text[1:]
    if text.endswith("|") and not escaped(text, len(text) - 1):
        text = text[:-1]
    cells, start = [], 0
    for pos, ch in enumerate(text):
        if ch == "|" and not escaped(text, pos):
            cells.append(text[start:pos])
            start = pos + 1
    cells.append(text[start:])
    return [c.strip().replace("\\|", "|") for c in cells]


def escaped(text: str, pos: int) -> bool:
    n = 0
    while pos - n - 1 >= 0 and text[pos - n - 1] == "\\":
        n += 1
    return n % 2 == 1


def _align(cell: str) -> str | None:
    left, right = cell.startswith(":"), cell.endswith(":")
    return "center" if left and right else "left" if left else "right" if right else None


def parse_gfm_table(block: Any, m: Match[str], state: Any) -> int | None:
    head = split_row(m.group("gfm_table_head"))
    aligns = [_align(c) for c in split_row(m.group("gfm_table_align"))]
    if len(head) != len(aligns):
        return None  # not a table: the lines are a paragraph
    width = len(head)
    src, at = m.string, m.end()
    rows = []
    while at < len(src):
        end = src.find("\n", at)
        end = len(src) if end < 0 else end
        line = src[at:end]
        if not line.strip() or ENDS_TABLE_RE.match(line):
            break
        cells = split_row(line)
        if len(cells) > width:  # GitHub drops the cells past the header's width: kept, in the last cell
            cells[width - 1:] = [" | ".join(c for c in cells[width - 1:] if c)]
        cells = (cells + [""] * width)[:width]
        rows.append({"type": "table_row", "children": [
            {"type": "table_cell", "text": text, "attrs": {"align": aligns[i], "head": False}}
            for i, text in enumerate(cells)]})
        at = end + 1
    thead = {"type": "table_head", "children": [
        {"type": "table_cell", "text": text, "attrs": {"align": aligns[i], "head": True}} for i, text in enumerate(head)]}
    state.append_token({"type": "table", "children": [thead, {"type": "table_body", "children": rows}]})
    return min(at, len(src))


def gfm_table(md: Any) -> None:
    md.block.register("table", GFM_TABLE, parse_gfm_table, before="paragraph")
    # in list items and quotes too, as GitHub shows them (an interview README's table under "19. ### Question"
    # showed its pipes and dashes as text)
    for rules in (md.block.list_rules, md.block.block_quote_rules):
        md.block.insert_rule(rules, "table", before="paragraph")
