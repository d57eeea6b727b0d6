"""Read a content folder into the typed model.

This is the only module that sees mistune's dict tokens: they are converted
into :mod:`publisher.core.model` nodes exactly once, here. mistune does not report
source positions, so each block is located by finding its text in the source,
moving forward through the file as the blocks come.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import sys
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

import mistune

from . import frontmatter, htmlread, mdparse, sources
from ..core import model as m
from .bookfile import read_meta
from ..core.diagnostics import Diagnostic, diag
from ..core.text import plain_text, slugify, unique

MAX_FILE_BYTES = 5 * 1024 * 1024
PLUGINS = mdparse.PLUGINS
PIN_RE = re.compile(r"^<!--\s*id:\s*(.*?)\s*-->$", re.S)
HINT_RE = re.compile(r"^<!--\s*hint:\s*(.*?)\s*-->$", re.S | re.I)
CARD_OPTION_RE = re.compile(r"^<!--\s*cards?:\s*([\w ,-]*?)\s*-->$", re.S | re.I)
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
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
FOOTNOTE_REF_RE = re.compile(r"\[\^([^\\\[\]\s]{1,500})\]")  # one mistune left as text: not defined

Token = dict[str, Any]
# what a source must hold for a normalization pass to have anything to do in it (a cheap look at the text)
HINTS = {
    "tags": re.compile(r"(?:^|[\s(])#[^\W\d]|(?:^|[\s(])#\d+[^\W\d]", re.M),
    "wiki": re.compile(r"\[\["),
    "sound": re.compile(r"\[sound:|\.(?:mp3|ogg|oga|wav|m4a|flac|opus|webm)\b", re.I),
}


def markdown_parser() -> mistune.Markdown:
    return mdparse.parser()


# --------------------------------------------------------------------------- bytes to text


def decode(raw: bytes, file: str) -> tuple[str, list[Diagnostic]]:
    """Bytes to text with diagnostics for anything odd; never raises."""
    diags: list[Diagnostic] = []
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
        diags.append(diag("P007", file, 1, "UTF-8 byte-order mark removed"))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        diags.append(diag("P001", file, line, f"invalid byte 0x{raw[exc.start]:02x} (decoded as U+FFFD)"))
        text = raw.decode("utf-8", errors="replace")
    if "\r" in text:
        lone_cr = re.search(r"\r(?!\n)", text)
        text = text.replace("\r\n", "\n")
        if lone_cr:
            line = text.count("\n", 0, lone_cr.start()) + 1
            diags.append(diag("P007", file, line, "carriage-return line endings converted"))
            text = text.replace("\r", "\n")
    for match in CONTROL_RE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        diags.append(diag("P002", file, line, f"U+{ord(match.group()):04X} replaced"))
        if len(diags) > 20:
            break
    text = CONTROL_RE.sub("\ufffd", text)
    return text, diags


# --------------------------------------------------------------------------- source lines


class Locator:
    """Source lines of the file being read. Tokens carry their own line (``_line``, from
    :mod:`publisher.mdparse`); a token without one is placed on the last line seen."""

    def __init__(self, file: str, src: str) -> None:
        self.file = file
        self.src = src
        self.lines = src.split("\n")
        self.last = 1

    def at(self, tok: Token, default: int | None = None) -> m.Loc:
        line = tok.get("_line") or default or self.last
        self.last = line
        return m.Loc(self.file, line)


# --------------------------------------------------------------------------- tokens to model


@dataclass
class _Reader:
    loc: Locator
    diags: list[Diagnostic]

    def __post_init__(self) -> None:
        self.html = htmlread.Html(self.loc.file, self.diags, _HeadingMark)

    # ---- inlines
    def inlines(self, tokens: list[Token], where: m.Loc) -> tuple[m.Inline, ...]:
        if not any(t["type"] == "inline_html" and not t["raw"].lstrip().startswith("<!--") for t in tokens):
            return tuple(self._plain_inlines(tokens, where))
        # inline HTML tags (<b>, </b>, <br>) arrive one by one: build one tree of tags and Markdown
        tree = htmlread.Tree()
        for tok, here in self._placed(tokens, where):
            if tok["type"] == "inline_html" and not tok["raw"].lstrip().startswith("<!--"):
                tree.html(tok["raw"], here.line)
            else:
                node = self.inline(tok, here)
                if node is not None:
                    tree.node(node)
        return tuple(htmlread.to_inlines(self.html, tree.root.kids, where.line))

    def _placed(self, tokens: list[Token], where: m.Loc) -> list[tuple[Token, m.Loc]]:
        out = []
        for tok in tokens:
            out.append((tok, where))
            breaks = _breaks(tok)  # what follows a line break is on the next source line
            if breaks:
                where = m.Loc(where.file, where.line + breaks)
        return out

    def _plain_inlines(self, tokens: list[Token], where: m.Loc) -> list[m.Inline]:
        out: list[m.Inline] = []
        for tok, here in self._placed(tokens, where):
            if tok["type"] == "inline_html" and (hint := HINT_RE.match(tok["raw"].strip())):
                # ==answer==<!-- hint: ... -->: the hint of the mark just before
                at = len(out) - 1
                while at >= 0 and isinstance(out[at], m.Text) and not out[at].text.strip():
                    at -= 1
                if at >= 0 and isinstance(out[at], m.Mark):
                    out[at] = replace(out[at], hint=hint.group(1).strip())
                continue
            node = self.inline(tok, here)
            if node is not None:
                out.append(node)
        return out

    def inline(self, tok: Token, where: m.Loc) -> m.Inline | None:
        kind = tok["type"]
        kids = tok.get("children") or []
        match kind:
            case "text":
                for ref in FOOTNOTE_REF_RE.finditer(tok["raw"]):
                    self.diags.append(diag("P124", where.file, where.line, ref.group()))
                return m.Text(unicodedata.normalize("NFC", tok["raw"]), where)
            case "emphasis":
                return m.Emph(self.inlines(kids, where), where)
            case "strong":
                return m.Strong(self.inlines(kids, where), where)
            case "strikethrough":
                return m.Strike(self.inlines(kids, where), where)
            case "mark":
                return m.Mark(self.inlines(kids, where), where)
            case "codespan":
                return m.Code(tok["raw"], where)
            case "math":
                return m.Math(tok["raw"], bool(tok.get("attrs", {}).get("display")), where)
            case "link":
                attrs = tok.get("attrs", {})
                return m.Link(attrs.get("url", ""), self.inlines(kids, where), attrs.get("title") or "", where)
            case "image":
                attrs = tok.get("attrs", {})
                alt = plain_tokens(kids)
                return m.Image(attrs.get("url", ""), alt, attrs.get("title") or "", where)
            case "footnote_ref":
                return m.FootnoteRef(str(tok["raw"]), where)
            case "linebreak":
                return m.LineBreak(where)
            case "softbreak":
                return m.SoftBreak(where)
            case "inline_html":
                raw = tok["raw"]
                pin = PIN_RE.match(raw.strip())
                if pin:
                    return m.Pin(pin.group(1), where)
                option = CARD_OPTION_RE.match(raw.strip())
                if option:
                    return m.CardOption(option.group(1).strip().lower(), where)
                if raw.lstrip().startswith("<!--"):
                    return None  # an author's comment
                return m.RawInline(raw, where)
            case _:
                self.diags.append(diag("P118", where.file, where.line, f"unsupported inline {kind!r} kept as text"))
                return m.Text(str(tok.get("raw", "")), where)

    # ---- blocks
    def blocks(self, tokens: list[Token], top: bool = False, lead: bool = False) -> list[m.Block]:
        if any(t["type"] == "block_html" and not _is_comment(t.get("raw", "")) for t in tokens):
            return self.updates(self._html_blocks(tokens, top), lead)
        out: list[m.Block] = []
        for tok in tokens:
            node = self.block(tok)
            if node is not None:
                out.append(node)
        return self.updates([self._top(b, top) for b in out], lead)

    def _top(self, node: Any, top: bool) -> Any:
        if isinstance(node, _HeadingMark) and not top:
            # a heading inside a list item, quote or footnote: only top-level ones make sections
            return m.Para(node.children, node.loc)
        return node

    def _html_blocks(self, tokens: list[Token], top: bool) -> list[m.Block]:
        """HTML blocks with Markdown between them (``<details>``, blank line, Markdown, ``</details>``)."""
        tree = htmlread.Tree()
        for tok in tokens:
            if tok["type"] == "block_html" and not _is_comment(tok.get("raw", "")):
                where = self.loc.at(tok)
                tree.html(tok.get("raw", ""), where.line)
                continue
            closers = _trailing_closers(tok)  # "answer text\n</b></details>": the tags close the HTML around
            node = self.block(tok)
            if node is not None:
                tree.node(node)
            for raw in closers:
                tree.html(raw, self.loc.last)
        return [self._top(b, top) for b in htmlread.to_blocks(self.html, tree.root.kids, self.loc.last)]

    def para(self, tok: Token) -> m.Para:
        kids = tok.get("children") or []
        where = self.loc.at(tok)
        return m.Para(self.inlines(kids, where), where)

    def block(self, tok: Token) -> Any:
        kind = tok["type"]
        match kind:
            case "blank_line":
                return None
            case "paragraph" | "block_text":
                return self.para(tok)
            case "heading":
                # Sections are built by :func:`section_tree`; keep the heading as a marker.
                kids = tok.get("children") or []
                where = self.loc.at(tok)
                return _HeadingMark(tok["attrs"]["level"], self.inlines(kids, where), where)
            case "list":
                attrs = tok.get("attrs", {})
                where = self.loc.at(tok)
                items = tuple(self.list_item(t, where) for t in tok.get("children") or [])
                return m.BulletList(items, bool(attrs.get("ordered")), int(attrs.get("start", 1) or 1), where)
            case "block_quote":
                return self.quote(tok)
            case "admonition":  # MkDocs' !!! note "Title": the same callout as Obsidian's
                where = self.loc.at(tok)
                name = str(tok["attrs"]["name"]).lower()
                given = tok["attrs"]["title"]
                if given is None:  # no title written: the type's name, as MkDocs shows it
                    given = name.replace("-", " ").capitalize() if name not in CALLOUT_FAMILIES else ""
                title = (m.Text(given, where),) if given else ()
                kind = CALLOUT_FAMILIES.get(name, "note")
                return m.Alert(kind, tuple(self.blocks(tok.get("children") or [])), where, title, name)  # type: ignore[arg-type]
            case "def_list":
                return self.def_list(tok)
            case "block_code":
                code = tok.get("raw", "")
                info = (tok.get("attrs", {}) or {}).get("info") or ""
                fenced = tok.get("style") == "fenced"
                where = self.loc.at(tok)
                if fenced and not self._closed_fence(tok, where):
                    self.diags.append(diag("P118", where.file, where.line, "code fence is never closed"))
                lang = info.split()[0] if info.strip() else ""
                if lang.lower() == "math" and fenced and code.strip():  # GitHub's ```math fence: a displayed formula
                    return m.Para((m.Math(code.strip(), True, where),), where)
                return m.CodeBlock(code, lang, where)
            case "math":
                where = self.loc.at(tok)
                return m.Para((m.Math(tok["raw"], True, where),), where)
            case "block_html":
                raw = tok.get("raw", "")
                where = self.loc.at(tok)
                stripped = raw.strip()
                if stripped.startswith("<!--") and "-->" not in stripped[4:]:
                    self.diags.append(diag("P129", where.file, where.line, "the rest of the file is hidden"))
                return m.RawBlock(raw, where)
            case "thematic_break":
                return m.Rule(self.loc.at(tok))
            case "table":
                return self.table(tok)
            case _:
                where = self.loc.at(tok)
                self.diags.append(diag("P118", where.file, where.line, f"unsupported block {kind!r} kept as text"))
                return m.Para((m.Text(str(tok.get("raw", "")), where),), where)

    def _closed_fence(self, tok: Token, where: m.Loc) -> bool:
        """Is the line after the code a closing fence (in a quote or list item too: ``> ```"``)?"""
        marker = tok.get("marker") or "```"
        lines = self.loc.lines
        closing = where.line + tok.get("raw", "").count("\n")  # 0-based index of the line after the code
        if closing >= len(lines):
            return False
        ln = lines[closing].lstrip(" \t>").strip()
        return ln.startswith(marker[0] * len(marker)) and not ln.strip(marker[0])

    def list_item(self, tok: Token, list_loc: m.Loc) -> m.ListItem:
        where = self.loc.at(tok, list_loc.line)
        blocks = tuple(self.blocks(tok.get("children") or [], lead=True))
        return m.ListItem(blocks, where)

    def updates(self, blocks: list[Any], lead: bool) -> list[Any]:
        """Put today's claim of each ``[!UPDATE]`` in the old claim's place: in a list item the item's
        own text (its first paragraph), elsewhere the paragraph just before it."""
        out: list[Any] = []
        for b in blocks:
            if not isinstance(b, _Update):
                out.append(b)
                continue
            target = 0 if lead else len(out) - 1
            old = out[target] if 0 <= target < len(out) else None
            current = b.blocks[0] if b.blocks and isinstance(b.blocks[0], m.Para) else None
            if isinstance(old, _HeadingMark) and current is not None:
                # a heading updated (a name that was wrong): today's name heads the section, the old one
                # is kept as the section's first block
                out[target] = _HeadingMark(old.level, current.children, old.loc)
                out.insert(target + 1, m.Superseded(old.children, b.since, b.source, b.loc))
                continue
            if not isinstance(old, m.Para) or current is None:
                self.diags.append(diag("P018", b.loc.file, b.loc.line, "put it under the claim it updates, "
                                       "with the claim as it stands today on the line after the marker"))
                out.append(m.Alert("note", b.blocks, b.loc))
                continue
            out[target] = replace(current, loc=old.loc)  # today's claim stands where the old one stood
            out.insert(target + 1, m.Superseded(old.children, b.since, b.source, b.loc))
            if b.blocks[1:]:
                out.append(m.Alert("note", b.blocks[1:], b.loc))
        return out

    def quote(self, tok: Token) -> Any:
        where = self.loc.at(tok)
        kids = list(tok.get("children") or [])
        first = kids[0] if kids else None
        if first and first["type"] == "paragraph":
            inl = first.get("children") or []
            if inl and inl[0]["type"] == "text" and (update := UPDATE_RE.match(inl[0]["raw"])):
                # "> [!UPDATE] 2025-08 https://..." then the claim as it stands today
                rest = inl[1:]
                line = where.line
                while rest and rest[0]["type"] in ("softbreak", "linebreak"):
                    rest = rest[1:]
                    line += 1
                body: list[m.Block] = []
                if rest:
                    body.append(self.para({"type": "paragraph", "children": rest, "_line": line}))
                body.extend(self.blocks(kids[1:]))
                return _Update(update.group("since") or "", update.group("source") or "", tuple(body), where)
            if inl and inl[0]["type"] == "text":
                marker = ALERT_RE.match(inl[0]["raw"])
                if marker:
                    name = marker.group(1)
                    rest_text = inl[0]["raw"][marker.end():]
                    # the rest of the marker's line: GitHub's alerts (in capitals) have none, so text there is
                    # the body; an Obsidian callout's is its title ("> [!tip]- Remember this")
                    head: list[Token] = []
                    rest = ([{"type": "text", "raw": rest_text}] if rest_text.strip() else []) + inl[1:]
                    if name not in GITHUB_ALERTS or marker.group(2):
                        while rest and rest[0]["type"] not in ("softbreak", "linebreak"):
                            head.append(rest.pop(0))
                    body: list[m.Block] = []
                    line = where.line
                    while rest and rest[0]["type"] in ("softbreak", "linebreak"):
                        rest = rest[1:]
                        line += 1
                    if rest:
                        body.append(self.para({"type": "paragraph", "children": rest, "_line": line}))
                    body.extend(self.blocks(kids[1:]))
                    kind = CALLOUT_FAMILIES.get(name.lower(), "note")
                    title = self.inlines(head, where) if head else ()
                    if not title and name.lower() not in CALLOUT_FAMILIES:
                        title = (m.Text(name.replace("-", " ").capitalize(), where),)  # [!def]: "Def"
                    return m.Alert(kind, tuple(body), where, tuple(title), name.lower())  # type: ignore[arg-type]
        blocks = tuple(self.blocks(kids))
        return m.Quote(blocks, where)

    def def_list(self, tok: Token) -> m.DefList:
        where = self.loc.at(tok)
        items: list[m.Definition] = []
        term: tuple[m.Inline, ...] | None = None
        term_loc = where
        body: list[m.Block] = []
        described = False  # has the current term had a `: definition` yet?
        line = where.line  # heads are one a line; each definition starts at the next ':' line
        for child in tok.get("children") or []:
            if child["type"] == "def_list_head":
                if described:
                    line = self._next_line(line, lambda t: bool(t.strip()) and not t.lstrip().startswith(":"))
                here = m.Loc(self.loc.file, line)
                kids = child.get("children") or []
                line += 1
                if term is not None and not described:  # terms on consecutive lines share the definitions
                    term = (*term, m.LineBreak(here), *self.inlines(kids, here))
                    continue
                if term is not None:
                    items.append(m.Definition(term, tuple(body), term_loc))
                term_loc = here
                term, body, described = self.inlines(kids, term_loc), [], False
            else:
                described = True
                line = self._next_line(line, lambda t: t.lstrip().startswith(":"))
                for sub in child.get("children") or []:
                    sub.setdefault("_line", line)
                body.extend(self.blocks(child.get("children") or []))
                line += 1
        if term is not None:
            items.append(m.Definition(term, tuple(body), term_loc))
        return m.DefList(tuple(items), where)

    def _next_line(self, line: int, ok: Any) -> int:
        """The first line at or after ``line`` (1-based) whose text passes ``ok``."""
        for n in range(line, min(line + 200, len(self.loc.lines) + 1)):
            if ok(self.loc.lines[n - 1]):
                return n
        return line

    def table(self, tok: Token) -> m.Table:
        where = self.loc.at(tok)
        head: tuple[m.Cell, ...] = ()
        rows: list[tuple[m.Cell, ...]] = []
        for part in tok.get("children") or []:
            if part["type"] == "table_head":
                head = self.cells(part.get("children") or [], where)
            else:
                for n, row in enumerate(part.get("children") or []):
                    rows.append(self.cells(row.get("children") or [], m.Loc(where.file, where.line + 2 + n)))
        return m.Table(head, tuple(rows), where)

    def cells(self, toks: list[Token], where: m.Loc) -> tuple[m.Cell, ...]:
        return tuple(
            m.Cell(self.inlines(c.get("children") or [], where), (c.get("attrs", {}) or {}).get("align") or "", where)
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


def _is_comment(raw: str) -> bool:
    return raw.strip().startswith("<!--")


@dataclass(frozen=True)
class _Update:
    """Reader-internal: a ``> [!UPDATE]`` quote before :meth:`_Reader.updates` puts it in place."""

    since: str
    source: str
    blocks: tuple[m.Block, ...]
    loc: m.Loc


@dataclass(frozen=True)
class _HeadingMark:
    """Reader-internal: a heading before :func:`section_tree` folds it into a Section."""

    level: int
    children: tuple[m.Inline, ...]
    loc: m.Loc


def _breaks(tok: Token) -> int:
    if tok.get("type") in ("softbreak", "linebreak"):
        return 1
    return sum(_breaks(k) for k in tok.get("children") or [])


FLATTENED_RE = re.compile(r"^\s*(?:[-*+>]|\d{1,9}[.)])\s")


def _too_deep(blocks: list[Any] | tuple[Any, ...], limit: int) -> m.Loc | None:
    """Where mistune, at ``limit`` containers (lists, quotes) deep, read a deeper one as text: a
    line of the innermost item that starts with a list or quote marker. None: nothing was."""
    stack = [(iter(blocks), 0)]
    while stack:
        it, depth = stack[-1]
        for b in it:
            kids: tuple[Any, ...] = ()
            if isinstance(b, m.BulletList):
                kids = tuple(x for item in b.items for x in item.blocks)
            elif isinstance(b, (m.Quote, m.Alert, m.Details)):
                kids = b.blocks
            if depth + 1 >= limit and kids:
                for para in kids:
                    runs = para.children if isinstance(para, m.Para) else ()
                    for n, node in enumerate(runs[:-1]):
                        nxt = runs[n + 1]
                        if isinstance(node, m.SoftBreak) and isinstance(nxt, m.Text) and FLATTENED_RE.match(nxt.text):
                            return para.loc
            elif kids:
                stack.append((iter(kids), depth + 1))
                break
        else:
            stack.pop()
    return None


def plain_tokens(tokens: list[Token]) -> str:
    out = []
    for t in tokens:
        if t["type"] in ("text", "codespan", "math"):
            out.append(t["raw"])
        elif t["type"] in ("softbreak", "linebreak"):
            out.append("\n")
        elif t.get("children"):
            out.append(plain_tokens(t["children"]))
    return "".join(out)


@dataclass(frozen=True)
class Titled:
    """What the reader knows of a file's title before reading it (front matter, SUMMARY.md, its name)."""

    front: str = ""  # front matter ``title``
    summary: str = ""  # the link text in SUMMARY.md
    fallback: str = ""  # from the file name


def section_tree(blocks: list[Any], file: str, titled: Titled = Titled()) -> tuple[tuple[m.Inline, ...] | None, m.Loc, list[m.Block], list[Diagnostic]]:
    """Fold headings into nested Sections. Returns (title, its loc, body, diagnostics).

    The title is the first H1 (when no section comes before it); without one, a heading that
    stands above all the others (a file that starts at ``#### 5.1.1``) is the title. Sections nest
    by the levels present and get the level of their depth (2, 3, ...), so a jump from ``#`` to
    ``###`` is reported (P103, a warning) and read as the next level down.
    """
    diags: list[Diagnostic] = []
    heads = [b for b in blocks if isinstance(b, _HeadingMark)]
    title: tuple[m.Inline, ...] | None = None
    title_loc = m.Loc(file, 1)
    base = 1  # the level the title stands at
    first = heads[0] if heads else None
    take: _HeadingMark | None = None
    if first is not None and first.level == 1:
        take = first
    elif (first is not None and blocks and blocks[0] is first and all(h.level > first.level for h in heads[1:])
          and (not (titled.front or titled.summary) or _same_title(plain(first.children), titled.front or titled.summary))):
        take = first  # a file that opens with its one top heading, e.g. '#### 5.1.1 Topic'
    if take is not None:
        title, title_loc, base = take.children, take.loc, take.level
    elif heads:
        base = max(1, min(h.level for h in heads) - 1)  # the structure follows the levels present
    root: list[Any] = []
    stack: list[tuple[int, tuple[m.Inline, ...], m.Loc, list[Any]]] = []  # (source level, title, loc, children)
    used: set[str] = set()

    def close_until(level: int) -> None:
        while stack and stack[-1][0] >= level:
            lvl, ttl, loc, kids = stack.pop()
            anchor = unique(slugify(plain(ttl)) or "section", used)
            sec = m.Section(len(stack) + 2, ttl, anchor, tuple(kids), loc)
            (stack[-1][3] if stack else root).append(sec)

    seen_h1_as_title = take is not None and take.level == 1
    jumps: list[Diagnostic] = []
    for b in blocks:
        if b is take:
            continue
        if isinstance(b, _HeadingMark):
            if b.level == 1 and title is None and not seen_h1_as_title:
                diags.append(diag("P101", file, b.loc.line, f"'{plain(b.children)}' comes after a section: put the '# Title' first"))
                seen_h1_as_title = True
            elif b.level == 1 and take is not None and take.level == 1:
                diags.append(diag("P102", file, b.loc.line, f"'{plain(b.children)}' is read as a section"))
            close_until(b.level)
            parent = stack[-1][0] if stack else base
            if b.level > parent + 1:
                jumps.append(diag("P103", file, b.loc.line, f"H{parent} to H{b.level} ('{plain(b.children)}'): read as H{min(parent + 1, 6)}"))
            stack.append((b.level, b.children, b.loc, []))
        else:
            (stack[-1][3] if stack else root).append(b)
    close_until(0)
    if jumps:  # one finding per file: the first jump, and how many there are
        first_jump = jumps[0]
        more = f" (and {len(jumps) - 1} more heading{'s' if len(jumps) > 2 else ''} in this file)" if len(jumps) > 1 else ""
        diags.append(replace(first_jump, message=first_jump.message + more))
    if title is None:
        text = titled.front or titled.summary
        if not text:
            text = titled.fallback or "Untitled"
            if not any(d.code == "P101" for d in diags):
                diags.append(diag("P101", file, 1, f"add a '# Title' line (the title is '{text}', from the file name)"))
        title = (m.Text(text, m.Loc(file, 1)),)
    return title, title_loc, root, diags


def _same_title(heading: str, given: str) -> bool:
    """A heading that says what the front matter or SUMMARY.md calls the page ('5.1.1 Sorting', 'Sorting')."""
    a = {w for w in slugify(heading).split("-") if w and not w.isdigit()}
    b = {w for w in slugify(given).split("-") if w and not w.isdigit()}
    return bool(a and b) and (a <= b or b <= a)


def plain(inlines: tuple[m.Inline, ...]) -> str:
    return plain_text(inlines)


# --------------------------------------------------------------------------- files and folders


def _footnote_def(loc: Locator, key: str) -> m.Loc:
    """Where ``[^key]:`` is defined (mistune upper-cases keys, so match without case)."""
    found = re.search(r"^[ \t>]*\[\^" + re.escape(key) + r"\]:", loc.src, re.M | re.I)
    pos = found.start() if found else 0
    return m.Loc(loc.file, loc.src.count("\n", 0, pos) + 1)


def read_chapter(raw: bytes, file: str, slug: str, parser: mistune.Markdown | None = None, *,
                 path: str = "", part: str = "", intro: bool = False, summary_title: str = "",
                 fallback_title: str = "") -> tuple[m.Chapter, list[Diagnostic]]:
    """One Markdown file to a Chapter. Never raises on any input."""
    where = dict(path=path or Path(file).name, part=part, intro=intro, sha=hashlib.sha256(raw).hexdigest())
    fallback = fallback_title or sources.humanize(Path(path or file).stem)
    if len(raw) > MAX_FILE_BYTES:
        d = diag("P003", file, 1, f"{len(raw):,} bytes (limit {MAX_FILE_BYTES:,})")
        return m.Chapter(file, slug, (m.Text(fallback),), (), (), m.Loc(file, 1), **where), [d]
    text, diags = decode(raw, file)
    where["hints"] = frozenset([name for name, found in HINTS.items() if found.search(text)]
                               + ([] if unicodedata.is_normalized("NFC", text) else ["nfc"]))
    front, text, more = frontmatter.split(text, file)
    diags.extend(more)
    if "%%" in text:
        text = strip_comments(text)
    meta = dict(tags=front.tags, aliases=front.aliases, cards=front.cards)
    if not text.strip():
        diags.append(diag("P122", file, 1, "nothing to read: left out"))
        return m.Chapter(file, slug, (m.Text(front.title or summary_title or fallback),), (), (), m.Loc(file, 1), **where, **meta), diags
    parser = parser or markdown_parser()
    reader = _Reader(Locator(file, text), diags)
    try:
        tokens, state = parser.parse(text)
        mdparse.locate(tokens, text)
        footnote_tokens = [t for t in tokens if t["type"] == "footnotes"]
        body_tokens = [t for t in tokens if t["type"] != "footnotes"]
        blocks = reader.blocks(body_tokens, top=True)
        notes: list[m.Footnote] = []
        for group in footnote_tokens:
            for item in group.get("children") or []:
                key = str((item.get("attrs") or {}).get("key", ""))
                at = _footnote_def(reader.loc, key)
                for sub in item.get("children") or []:
                    sub.setdefault("_line", at.line)
                fblocks = tuple(reader.blocks(item.get("children") or []))
                notes.append(m.Footnote(key, fblocks, at))
    except RecursionError:
        diags.append(diag("P009", file, 1, "nesting is too deep to read"))
        return m.Chapter(file, slug, (m.Text(fallback),), (), (), m.Loc(file, 1), **where, **meta), diags
    # mistune drops definitions nothing refers to: report them
    used = set((state.env.get("footnotes") or []))
    for key in (state.env.get("ref_footnotes") or {}):
        if key not in used:
            at = _footnote_def(reader.loc, str(key))
            diags.append(diag("P123", at.file, at.line, f"[^{key.lower()}]"))
    deepest = _too_deep(blocks, mdparse.MAX_NESTING)
    if deepest is not None:  # mistune stops nesting there: what is deeper is read as plain text
        diags.append(diag("P009", file, deepest.line, f"lists and quotes nested more than {mdparse.MAX_NESTING} "
                                                      "levels deep: the deeper lines are shown as text"))
    title, title_loc, body, more = section_tree(blocks, file, Titled(front.title, summary_title, fallback))
    diags.extend(more)
    return m.Chapter(file, slug, title, tuple(body), tuple(notes), title_loc, **where, **meta), diags


OBSIDIAN_COMMENT_RE = re.compile(r"%%.*?%%", re.S)
FENCE_LINE_RE = re.compile(r"^[ \t>]*(`{3,}|~{3,})", re.M)


def strip_comments(text: str) -> str:
    """Obsidian's ``%%comments%%`` blanked (their line breaks kept, so every line stays where it is),
    outside fenced code."""
    out, at, fence = [], 0, ""
    pieces: list[tuple[str, bool]] = []  # (text, is_code)
    for found in FENCE_LINE_RE.finditer(text):
        marker = found.group(1)
        if not fence:
            pieces.append((text[at:found.start()], False))
            at, fence = found.start(), marker[0] * len(marker)
        elif marker.startswith(fence):
            end = text.find("\n", found.end())
            end = len(text) if end < 0 else end + 1
            pieces.append((text[at:end], True))
            at, fence = end, ""
    pieces.append((text[at:], bool(fence)))
    for piece, code in pieces:
        out.append(piece if code else OBSIDIAN_COMMENT_RE.sub(lambda c: "\n" * c.group().count("\n"), piece))
    return "".join(out)


def chapter_slug(path: Path) -> str:
    return sources.name_slug(path.stem)


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(_resolved_cwd(os.getcwd())))
    except ValueError:
        return str(path)


@functools.lru_cache(maxsize=4)
def _resolved_cwd(cwd: str) -> Path:
    return Path(cwd).resolve()


def read_book(folder: Path | str) -> tuple[m.Book, list[Diagnostic]]:
    """Read a content folder: ``book.toml`` (optional) and its Markdown files, folders included."""
    folder = Path(folder)
    shown_root = display_path(folder)
    meta, diags = read_meta(folder, shown_root)
    chapters: list[m.Chapter] = []
    layout = sources.discover(folder, meta.include, meta.exclude, shown_root) if folder.is_dir() else sources.Layout()
    diags.extend(layout.diagnostics)
    for rel, why in layout.left_out:
        diags.append(diag("P012", f"{shown_root}/{rel}", 0, why))
    if not layout.sources and not any(d.code == "P016" for d in layout.diagnostics):
        why = ("no Markdown files found" if folder.is_dir() else ("not a folder" if folder.exists() else "the folder does not exist"))
        diags.append(diag("P005", shown_root, 0, why))
    for chapter, more in _read_all(layout.sources):
        diags.extend(more)
        if chapter is None or any(d.code == "P122" for d in more):
            continue  # unreadable, or empty: nothing to show
        chapters.append(chapter)
    assets = tuple(sorted(layout.assets))
    return m.Book(meta, tuple(chapters), shown_root, _parts(chapters, folder), assets), diags


PARALLEL_FROM = 40  # files: below this, worker processes cost more than they save


def _read_all(srcs: list[sources.Source]) -> list[tuple[m.Chapter | None, list[Diagnostic]]]:
    """Every source read, in order; many files are shared out to worker processes (one a core)."""
    workers = min(os.cpu_count() or 1, 8)
    if len(srcs) < PARALLEL_FROM or workers < 2 or not sys.platform.startswith("linux"):
        parser = markdown_parser()
        return [_read_source(src, parser) for src in srcs]
    import concurrent.futures as cf
    import multiprocessing

    from ..core.fsutil import stop_workers, worker_init

    # this process reads a share too (one worker fewer, and its chapters need no pickling back)
    own = len(srcs) // workers
    chunk = max(1, (len(srcs) - own) // ((workers - 1) * 4))
    try:
        with cf.ProcessPoolExecutor(workers - 1, mp_context=multiprocessing.get_context("fork"),
                                    initializer=worker_init, initargs=(os.getpid(),)) as pool:
            try:
                others = pool.map(_read_source, srcs[own:], chunksize=chunk)
                parser = markdown_parser()
                mine = [_read_source(src, parser) for src in srcs[:own]]
                return mine + list(others)
            except BaseException:  # Ctrl-C or SIGTERM: the workers stop now, not after their share
                stop_workers(pool)
                raise
    except (OSError, cf.process.BrokenProcessPool):  # no processes to be had: read them here
        parser = markdown_parser()
        return [_read_source(src, parser) for src in srcs]


_PARSER: list[mistune.Markdown] = []


def _read_source(src: sources.Source, parser: mistune.Markdown | None = None) -> tuple[m.Chapter | None, list[Diagnostic]]:
    if parser is None:  # in a worker process: one parser each
        if not _PARSER:
            _PARSER.append(markdown_parser())
        parser = _PARSER[0]
    shown = display_path(src.path)
    try:
        raw = src.path.read_bytes()
    except OSError as exc:
        return None, [diag("P010", shown, 0, exc.strerror or str(exc))]
    fallback = ""
    if src.intro:
        fallback = "Introduction" if not src.part else sources.humanize(PurePosixPath(src.part).name)
    return read_chapter(raw, shown, src.slug, parser, path=src.rel, part=src.part, intro=src.intro,
                        summary_title=src.title, fallback_title=fallback)


def _parts(chapters: list[m.Chapter], root: Path) -> tuple[m.Part, ...]:
    """A part for every folder that holds chapters (and its parent folders), in reading order; not for
    a folder of one chapter without an opening page."""
    intro_titles = {ch.part: ch for ch in chapters if ch.intro and ch.part}
    held: dict[str, int] = {}  # chapters in each folder, its subfolders included
    for ch in chapters:
        path = ch.part
        while path:
            held[path] = held.get(path, 0) + 1
            path = path.rpartition("/")[0]
    out: dict[str, m.Part] = {}
    for ch in chapters:
        path = ch.part
        chain = []
        while path:
            chain.append(path)
            path = path.rpartition("/")[0]
        for folder in reversed(chain):
            if folder in out or (held[folder] == 1 and folder not in intro_titles):
                continue  # a folder that holds one chapter (and no opening page) is no part: just that chapter
            pp = PurePosixPath(folder)
            intro = intro_titles.get(folder)
            title = intro.title if intro is not None else (m.Text(sources.humanize(pp.name), m.Loc(str(root / folder), 0)),)
            slug = "-".join(sources.name_slug(x) for x in pp.parts)
            out[folder] = m.Part(folder, title, slug, len(pp.parts), intro.loc if intro is not None else m.NOWHERE)
    return tuple(out.values())
