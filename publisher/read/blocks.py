"""Block tokens to model blocks: paragraphs, headings (as markers), lists, quotes and callouts, code,
math, tables, definition lists, and block HTML read together with the Markdown between its pieces."""

from __future__ import annotations

import re
from typing import Any

from ..core import model as m
from ..core.diagnostics import diag
from . import htmlread
from .callouts import ALERT_RE, CALLOUT_FAMILIES, GITHUB_ALERTS, UPDATE_RE, Update, place_updates
from .inlines import inlines
from .tokens import Ctx, HeadingMark, Locator, Token

def blocks(cx: Ctx, tokens: list[Token], top: bool = False, lead: bool = False) -> list[m.Block]:
    if any(t["type"] == "block_html" and not _is_comment(t.get("raw", "")) for t in tokens):
        return place_updates(cx.diags, _html_blocks(cx, tokens, top), lead)
    out: list[m.Block] = []
    for tok in tokens:
        if top and _heading_items(tok):
            out.extend(_lifted(cx, tok))
            continue
        node = block(cx, tok)
        if node is not None:
            out.append(node)
    return place_updates(cx.diags, [_top(b, top) for b in out], lead)


def _heading_items(tok: Token) -> bool:
    """A list some of whose items open with a heading (``1. ### What is a closure``, the answer indented
    under it): the usual form of long interview READMEs, where GitHub shows headings."""
    items = (tok.get("children") or []) if tok.get("type") == "list" else []
    return any(_opens_with_heading(item) for item in items)


def _opens_with_heading(item: Token) -> bool:
    return (item.get("children") or [{}])[0].get("type") == "heading"


def _lifted(cx: Ctx, tok: Token) -> list[Any]:
    """Such a list as the headings and text it holds: each heading a section (an anchor, a place in the
    contents and in cards' context lines); in a numbered list, each a question whose answer is under it.
    The items between them (a contents list before the questions) stay a list."""
    asks = bool((tok.get("attrs") or {}).get("ordered"))
    out: list[Any] = []
    list_loc = cx.loc.at(tok)
    plain: list[Token] = []
    number = int((tok.get("attrs") or {}).get("start", 1))

    def flush() -> None:
        if plain:
            node = block(cx, dict(tok, children=list(plain), _line=plain[0].get("_line", tok.get("_line"))))
            if node is not None:
                out.append(node)
            plain.clear()

    for item in tok.get("children") or []:
        number += 1
        if not _opens_with_heading(item):
            plain.append(item)
            continue
        flush()
        head, *rest = item.get("children") or []
        where = cx.loc.at(head, cx.loc.at(item, list_loc.line).line)
        level = max(2, head["attrs"]["level"])  # a heading in a list item is never the chapter's title
        out.append(HeadingMark(level, inlines(cx, head.get("children") or [], where), where, listed=True, asks=asks,
                               number=number - 1 if asks else 0))
        out.extend(_top(b, False) for b in blocks(cx, rest))
    flush()
    return out


def _top(node: Any, top: bool) -> Any:
    if isinstance(node, HeadingMark) and not top:
        # a heading inside a list item, quote or footnote: only top-level ones make sections
        return m.Para(node.children, node.loc)
    return node


def _html_blocks(cx: Ctx, tokens: list[Token], top: bool) -> list[m.Block]:
    """HTML blocks with Markdown between them (``<details>``, blank line, Markdown, ``</details>``)."""
    tree = htmlread.Tree()
    pending = list(tokens)
    while pending:
        tok = pending.pop(0)
        if tok["type"] == "block_html" and not _is_comment(tok.get("raw", "")):
            where = cx.loc.at(tok)
            tree.html(tok.get("raw", ""), where.line)
            continue
        if len(tree.stack) > 1 and (pieces := _cut_at_closer(tok, {el.tag for el in tree.stack[1:]})):
            pending[:0] = pieces  # "* IP address</summary><br><b>": the list ends there, the HTML goes on
            continue
        closers = _trailing_closers(tok)  # "answer text\n</b></details>": the tags close the HTML around
        if top and len(tree.stack) == 1 and _heading_items(tok):  # outside any HTML: headings, as GitHub shows
            for node in _lifted(cx, tok):
                tree.node(node)
            for raw in closers:
                tree.html(raw, cx.loc.last)
            continue
        node = block(cx, tok)
        if node is not None:
            tree.node(node)
        for raw in closers:
            tree.html(raw, cx.loc.last)
    return [_top(b, top) for b in htmlread.to_blocks(cx.html, tree.root.kids, cx.loc.last)]


CLOSER_RE = re.compile(r"^\s*</([A-Za-z][\w-]*)\s*>\s*$")
OPENING_CLOSER_RE = re.compile(r"^\s*</([A-Za-z][\w-]*)\s*>")


def _cut_at_closer(tok: Token, open_tags: set[str]) -> list[Token] | None:
    """A paragraph or list whose inline HTML closes an element opened around it (``<summary>``, then a list
    whose item ends ``IP address</summary><br><b>``), cut there as a browser reads it: the part before, the
    HTML (as a ``block_html`` token), then what follows (the rest of the paragraph, the list's next items).
    None: nothing in it closes anything outside it."""
    if tok.get("type") in ("paragraph", "block_text"):
        kids = tok.get("children") or []
        for j, inl in enumerate(kids):
            found = CLOSER_RE.match(inl["raw"]) if inl["type"] == "inline_html" else None
            if found and found.group(1).lower() in open_tags:
                end, html = j, []
                while end < len(kids) and (kids[end]["type"] in ("inline_html", "softbreak", "linebreak")
                                           or (kids[end]["type"] == "text" and not kids[end]["raw"].strip())):
                    if kids[end]["type"] == "inline_html":
                        html.append(kids[end]["raw"])
                    end += 1
                before = kids[:j]
                while before and (before[-1]["type"] in ("softbreak", "linebreak")
                                  or (before[-1]["type"] == "text" and not before[-1]["raw"].strip())):
                    before = before[:-1]  # the line break before "</b></details>" ends the text, not a line
                out: list[Token] = [dict(tok, children=before)] if before else []
                out.append({"type": "block_html", "raw": "".join(html), "_line": tok.get("_line")})
                if kids[end:]:
                    out.append({"type": "paragraph", "children": kids[end:], "_line": tok.get("_line")})
                return out
        return None
    if tok.get("type") == "block_html":  # "</summary><br><b>" on a line of its own, inside a list item
        first = OPENING_CLOSER_RE.match(tok.get("raw", ""))
        return [tok] if first and first.group(1).lower() in open_tags else None
    if tok.get("type") != "list":
        return None
    items = tok.get("children") or []
    for k, item in enumerate(items):
        blocks_of = item.get("children") or []
        for p, child in enumerate(blocks_of):
            cut = _cut_at_closer(child, open_tags)
            if cut is None:
                continue
            html_at = next(n for n, c in enumerate(cut) if c["type"] == "block_html")
            head = dict(item, children=blocks_of[:p] + cut[:html_at])
            attrs = dict(tok.get("attrs") or {})
            out = [dict(tok, children=items[:k] + [head])]
            out += cut[html_at:] + blocks_of[p + 1:]
            if items[k + 1:]:
                if attrs.get("ordered"):
                    attrs["start"] = int(attrs.get("start", 1) or 1) + k + 1
                out.append(dict(tok, children=items[k + 1:], attrs=attrs, _line=items[k + 1].get("_line", tok.get("_line"))))
            return out
    return None


def para(cx: Ctx, tok: Token) -> m.Para:
    kids = tok.get("children") or []
    where = cx.loc.at(tok)
    return m.Para(inlines(cx, kids, where), where)


def block(cx: Ctx, tok: Token) -> Any:
    kind = tok["type"]
    match kind:
        case "blank_line":
            return None
        case "paragraph" | "block_text":
            return para(cx, tok)
        case "heading":
            # Sections are built by :func:`section_tree`; keep the heading as a marker.
            kids = tok.get("children") or []
            where = cx.loc.at(tok)
            return HeadingMark(tok["attrs"]["level"], inlines(cx, kids, where), where)
        case "list":
            attrs = tok.get("attrs", {})
            where = cx.loc.at(tok)
            kept = [t for t in tok.get("children") or [] if not _only_footnote(cx, t, where)]
            if not kept and tok.get("children"):
                return None  # ("- [^1]: note": the note is the document's; no list is left)
            items = tuple(list_item(cx, t, where) for t in kept)
            return m.BulletList(items, bool(attrs.get("ordered")), int(attrs.get("start", 1) or 1), where)
        case "block_quote":
            return quote(cx, tok)
        case "admonition":
            return _admonition(cx, tok)
        case "def_list":
            return def_list(cx, tok)
        case "block_code":
            return _code(cx, tok)
        case "math":
            where = cx.loc.at(tok)
            return m.Para((m.Math(tok["raw"], True, where),), where)
        case "block_html":
            return _raw_html(cx, tok)
        case "thematic_break":
            return m.Rule(cx.loc.at(tok))
        case "table":
            return table(cx, tok)
        case _:
            where = cx.loc.at(tok)
            cx.diags.append(diag("P118", where.file, where.line, f"unsupported block {kind!r} kept as text"))
            return m.Para((m.Text(str(tok.get("raw", "")), where),), where)


def _admonition(cx: Ctx, tok: Token) -> m.Alert:
    """MkDocs' ``!!! note "Title"``: the same callout as Obsidian's."""
    where = cx.loc.at(tok)
    name = str(tok["attrs"]["name"]).lower()
    given = tok["attrs"]["title"]
    if given is None:  # no title written: the type's name, as MkDocs shows it
        given = name.replace("-", " ").capitalize() if name not in CALLOUT_FAMILIES else ""
    title = (m.Text(given, where),) if given else ()
    kind = CALLOUT_FAMILIES.get(name, "note")
    return m.Alert(kind, tuple(blocks(cx, tok.get("children") or [])), where, title, name)  # type: ignore[arg-type]


def _code(cx: Ctx, tok: Token) -> m.Block:
    """A code block; GitHub's ```` ```math ```` fence is a displayed formula. P118 for a fence never closed."""
    code = tok.get("raw", "")
    info = (tok.get("attrs", {}) or {}).get("info") or ""
    fenced = tok.get("style") == "fenced"
    where = cx.loc.at(tok)
    if fenced and not _closed_fence(cx.loc, tok, where):
        cx.diags.append(diag("P118", where.file, where.line, "code fence is never closed"))
    lang = info.split()[0] if info.strip() else ""
    if lang.lower() == "math" and fenced and code.strip():  # GitHub's ```math fence: a displayed formula
        return m.Para((m.Math(code.strip(), True, where),), where)
    return m.CodeBlock(code, lang, where)


def _raw_html(cx: Ctx, tok: Token) -> m.RawBlock:
    """Block HTML alone (no Markdown between its pieces); a comment never closed hides the rest (P129)."""
    raw = tok.get("raw", "")
    where = cx.loc.at(tok)
    stripped = raw.strip()
    if stripped.startswith("<!--") and not COMMENT_RE.match(stripped):
        cx.diags.append(diag("P129", where.file, where.line, "the rest of the file is hidden"))
    return m.RawBlock(raw, where)


def _closed_fence(loc: Locator, tok: Token, where: m.Loc) -> bool:
    """Is the line after the code a closing fence (in a quote or list item too: ``> ```"``)?"""
    marker = tok.get("marker") or "```"
    lines = loc.lines
    closing = where.line + tok.get("raw", "").count("\n")  # 0-based index of the line after the code
    if closing >= len(lines):
        return False
    ln = lines[closing].lstrip(" \t>").strip()
    return ln.startswith(marker[0] * len(marker)) and not ln.strip(marker[0])


FOOTNOTE_ITEM_RE = re.compile(r"[ \t>]*(?:[-*+]|\d{1,9}[.)])[ \t]+\[\^[^\]\s]+\]:")


def _only_footnote(cx: Ctx, tok: Token, list_loc: m.Loc) -> bool:
    """A list item that held only a footnote's definition (read into the document's footnotes): no item."""
    if tok.get("children"):
        return False
    line = cx.loc.at(tok, list_loc.line).line
    return 0 < line <= len(cx.loc.lines) and bool(FOOTNOTE_ITEM_RE.match(cx.loc.lines[line - 1]))


def list_item(cx: Ctx, tok: Token, list_loc: m.Loc) -> m.ListItem:
    where = cx.loc.at(tok, list_loc.line)
    return m.ListItem(tuple(blocks(cx, tok.get("children") or [], lead=True)), where)


def quote(cx: Ctx, tok: Token) -> Any:
    """A block quote: an update (``> [!UPDATE]``), a callout (``> [!tip]``, ``> [!NOTE]``) or a quote."""
    where = cx.loc.at(tok)
    kids = list(tok.get("children") or [])
    first = kids[0] if kids else None
    inl = (first.get("children") or []) if first and first["type"] == "paragraph" else []
    if inl and inl[0]["type"] == "text":
        if update := UPDATE_RE.match(inl[0]["raw"]):
            return _update(cx, where, inl[1:], kids[1:], update)
        if marker := ALERT_RE.match(inl[0]["raw"]):
            return _callout(cx, where, inl, kids[1:], marker)
    return m.Quote(tuple(blocks(cx, kids)), where)


def _body(cx: Ctx, where: m.Loc, rest: list[Token], more: list[Token]) -> list[m.Block]:
    """A callout's or update's body: the rest of its first paragraph (from the line after the marker's),
    then its other blocks."""
    line = where.line
    while rest and rest[0]["type"] in ("softbreak", "linebreak"):
        rest = rest[1:]
        line += 1
    body: list[m.Block] = []
    if rest:
        body.append(para(cx, {"type": "paragraph", "children": rest, "_line": line}))
    body.extend(blocks(cx, more))
    return body


def _update(cx: Ctx, where: m.Loc, rest: list[Token], more: list[Token], found: re.Match[str]) -> Update:
    """`> [!UPDATE] 2025-08 https://...` then the claim as it stands today (put in place by the caller)."""
    body = _body(cx, where, rest, more)
    return Update(found.group("since") or "", found.group("source") or "", tuple(body), where)


def _callout(cx: Ctx, where: m.Loc, inl: list[Token], more: list[Token], marker: re.Match[str]) -> m.Alert:
    """``> [!name]`` with the rest of the marker's line: GitHub's alerts (in capitals) have none, so text there
    is the body; an Obsidian callout's is its title ("> [!tip]- Remember this")."""
    name = marker.group(1)
    rest_text = inl[0]["raw"][marker.end():]
    head: list[Token] = []
    rest = ([{"type": "text", "raw": rest_text}] if rest_text.strip() else []) + inl[1:]
    if name not in GITHUB_ALERTS or marker.group(2):
        while rest and rest[0]["type"] not in ("softbreak", "linebreak"):
            head.append(rest.pop(0))
    body = _body(cx, where, rest, more)
    kind = CALLOUT_FAMILIES.get(name.lower(), "note")
    title = inlines(cx, head, where) if head else ()
    if not title and name.lower() not in CALLOUT_FAMILIES:
        title = (m.Text(name.replace("-", " ").capitalize(), where),)  # [!def]: "Def"
    return m.Alert(kind, tuple(body), where, tuple(title), name.lower())  # type: ignore[arg-type]


def def_list(cx: Ctx, tok: Token) -> m.DefList:
    where = cx.loc.at(tok)
    items: list[m.Definition] = []
    term: tuple[m.Inline, ...] | None = None
    term_loc = where
    body: list[m.Block] = []
    described = False  # has the current term had a `: definition` yet?
    line = where.line  # heads are one a line; each definition starts at the next ':' line
    for child in tok.get("children") or []:
        if child["type"] == "def_list_head":
            if described:
                line = _next_line(cx.loc, line, lambda t: bool(t.strip()) and not t.lstrip().startswith(":"))
            here = m.Loc(cx.loc.file, line)
            kids = child.get("children") or []
            line += 1
            if term is not None and not described:  # terms on consecutive lines share the definitions
                term = (*term, m.LineBreak(here), *inlines(cx, kids, here))
                continue
            if term is not None:
                items.append(m.Definition(term, tuple(body), term_loc))
            term_loc = here
            term, body, described = inlines(cx, kids, term_loc), [], False
        else:
            described = True
            line = _next_line(cx.loc, line, lambda t: t.lstrip().startswith(":"))
            for sub in child.get("children") or []:
                sub.setdefault("_line", line)
            body.extend(blocks(cx, child.get("children") or []))
            line += 1
    if term is not None:
        items.append(m.Definition(term, tuple(body), term_loc))
    return m.DefList(tuple(items), where)


def _next_line(loc: Locator, line: int, ok: Any) -> int:
    """The first line at or after ``line`` (1-based) whose text passes ``ok``."""
    for n in range(line, min(line + 200, len(loc.lines) + 1)):
        if ok(loc.lines[n - 1]):
            return n
    return line


def table(cx: Ctx, tok: Token) -> m.Table:
    where = cx.loc.at(tok)
    head: tuple[m.Cell, ...] = ()
    rows: list[tuple[m.Cell, ...]] = []
    for part in tok.get("children") or []:
        if part["type"] == "table_head":
            head = cells(cx, part.get("children") or [], where)
        else:
            for n, row in enumerate(part.get("children") or []):
                rows.append(cells(cx, row.get("children") or [], m.Loc(where.file, where.line + 2 + n)))
    return m.Table(head, tuple(rows), where)


def cells(cx: Ctx, toks: list[Token], where: m.Loc) -> tuple[m.Cell, ...]:
    return tuple(
        m.Cell(inlines(cx, c.get("children") or [], where), (c.get("attrs", {}) or {}).get("align") or "", where)
        for c in toks
    )


CLOSING_TAG_RE = re.compile(r"^\s*</[A-Za-z][\w-]*\s*>\s*$")


def _trailing_closers(tok: Token) -> list[str]:
    """Closing tags at the end of a paragraph (taken out of it): in ``text\n</b></details>`` the
    tags are no inline HTML of the paragraph but the end of the block HTML that opened before it."""
    if tok.get("type") == "list":  # "  * last item\n</b></details>": the tags end the last item's text
        items = tok.get("children") or []
        last = (items[-1].get("children") or []) if items else []
        return _trailing_closers(last[-1]) if last else []
    if tok.get("type") not in ("paragraph", "block_text"):
        return []
    kids = tok.get("children") or []
    cut = len(kids)
    while cut > 0 and (
        (kids[cut - 1]["type"] == "inline_html" and CLOSING_TAG_RE.match(kids[cut - 1]["raw"]))
        or kids[cut - 1]["type"] in ("softbreak", "linebreak")
        or (kids[cut - 1]["type"] == "text" and not kids[cut - 1]["raw"].strip())
    ):
        cut -= 1
    closers = [k["raw"] for k in kids[cut:] if k["type"] == "inline_html"]
    if closers:
        tok["children"] = kids[:cut]
    return closers


COMMENT_RE = re.compile(r"<!--(?:-?>|.*?-->)", re.S)  # ("<!-->" and "<!--->" are whole ones, as a browser reads them)


def _is_comment(raw: str) -> bool:
    """Nothing but comments (an author's note, a card marker); one never closed hides the rest (P129).
    HTML after a comment on its line (``<!-- x --><details>``) is HTML, not part of the comment."""
    text = raw.strip()
    return text.startswith("<!--") and ("-->" not in text or not COMMENT_RE.sub("", text).strip())
