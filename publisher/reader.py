"""Read a content folder into the typed model.

This is the only module that sees mistune's dict tokens: they are converted
into :mod:`publisher.model` nodes exactly once, here. mistune does not report
source positions, so each block is located by finding its text in the source,
moving forward through the file as the blocks come.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mistune

from . import model as m
from .bookfile import read_meta
from .diagnostics import Diagnostic, diag
from .text import plain_text, slugify, unique

MAX_FILE_BYTES = 5 * 1024 * 1024
PLUGINS = ["table", "strikethrough", "footnotes", "def_list", "mark"]
PIN_RE = re.compile(r"^<!--\s*id:\s*(.*?)\s*-->$", re.S)
ALERT_RE = re.compile(r"^\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\][ \t]*", re.I)
EMPTY_ITEM_RE = re.compile(r"^[ \t>]*([-*+]|\d+[.)])[ \t]*$", re.M)
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SEARCH_WINDOW = 1 << 14  # characters
NOT_BLANK_RE = re.compile(r"[^ \t\n]")
FOOTNOTE_REF_RE = re.compile(r"\[\^([^\\\[\]\s]{1,500})\]")  # one mistune left as text: not defined

Token = dict[str, Any]


def markdown_parser() -> mistune.Markdown:
    return mistune.create_markdown(renderer=None, escape=False, plugins=PLUGINS)


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


# --------------------------------------------------------------------------- locating blocks


class Locator:
    """Maps blocks to source lines by finding their text, moving forward only."""

    def __init__(self, file: str, src: str) -> None:
        self.file = file
        self.src = src
        self.starts = [0] + [i + 1 for i, ch in enumerate(src) if ch == "\n"]
        self.offset = 0

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def here(self) -> m.Loc:
        """The cursor's line, or the next line with text on it (blocks never start on a blank line)."""
        text = NOT_BLANK_RE.search(self.src, self.offset)
        return m.Loc(self.file, self.line_of(text.start() if text else max(len(self.src) - 1, 0)))

    def find(self, probe: str, span: int = 1) -> m.Loc:
        """Locate ``probe`` at or after the cursor; advance past ``span`` lines."""
        # the earliest hit of any probe: markup in the source (``==x==``, ``**x**``) can hide
        # the full text on its own line while a later line repeats it verbatim
        end = self.offset + SEARCH_WINDOW  # a block is near the cursor; never rescan a whole file per block
        hits = [pos for pos in (self.src.find(c, self.offset, end) for c in _probes(probe)) if pos >= 0]
        if hits:
            pos = min(hits)
            line = self.line_of(pos)
            self.offset = self.starts[min(line - 1 + span, len(self.starts) - 1)] if span else pos
            if line - 1 + span >= len(self.starts):
                self.offset = len(self.src)
            return m.Loc(self.file, line)
        # not found (markup around a short first word): the block is on the next line with text
        where = self.here()
        if span:
            after = where.line - 1 + span
            self.offset = max(self.offset, self.starts[after] if after < len(self.starts) else len(self.src))
        return where


def _probes(text: str) -> list[str]:
    text = text.strip()
    if not text:
        return []
    first_line = text.split("\n", 1)[0].strip()
    out = [first_line[:40]]
    word = re.match(r"[\w'.:/-]{2,}", first_line)
    if word and word.group() != out[0]:
        out.append(word.group())
    return [p for p in out if p]


# --------------------------------------------------------------------------- tokens to model


@dataclass
class _Reader:
    loc: Locator
    diags: list[Diagnostic]

    # ---- inlines
    def inlines(self, tokens: list[Token], where: m.Loc) -> tuple[m.Inline, ...]:
        out: list[m.Inline] = []
        for tok in tokens:
            node = self.inline(tok, where)
            if node is not None:
                out.append(node)
            breaks = _breaks(tok)  # what follows a line break is on the next source line
            if breaks:
                where = m.Loc(where.file, where.line + breaks)
        return tuple(out)

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
                return m.RawInline(raw, where)
            case _:
                self.diags.append(diag("P118", where.file, where.line, f"unsupported inline {kind!r} kept as text"))
                return m.Text(str(tok.get("raw", "")), where)

    # ---- blocks
    def blocks(self, tokens: list[Token], top: bool = False) -> list[m.Block]:
        out: list[m.Block] = []
        for tok in tokens:
            node = self.block(tok)
            if isinstance(node, _HeadingMark) and not top:
                # a heading inside a list item, quote or footnote: only top-level ones make sections
                node = m.Para(node.children, node.loc)
            if node is not None:
                out.append(node)
        return out

    def para(self, tok: Token) -> m.Para:
        kids = tok.get("children") or []
        span = 1 + sum(_breaks(k) for k in kids)
        where = self.loc.find(plain_tokens(kids) or _raw_probe(kids), span)
        return m.Para(self.inlines(kids, where), where)

    def block(self, tok: Token) -> m.Block | None:
        kind = tok["type"]
        match kind:
            case "blank_line":
                return None
            case "paragraph" | "block_text":
                return self.para(tok)
            case "heading":
                # Sections are built by :meth:`section_tree`; keep the heading as a marker.
                kids = tok.get("children") or []
                where = self.loc.find(plain_tokens(kids) or "#", 1)
                return _HeadingMark(tok["attrs"]["level"], self.inlines(kids, where), where)
            case "list":
                attrs = tok.get("attrs", {})
                items = tuple(self.list_item(t) for t in tok.get("children") or [])
                where = items[0].loc if items else self.loc.here()
                return m.BulletList(items, bool(attrs.get("ordered")), int(attrs.get("start", 1) or 1), where)
            case "block_quote":
                return self.quote(tok)
            case "def_list":
                return self.def_list(tok)
            case "block_code":
                code = tok.get("raw", "")
                info = (tok.get("attrs", {}) or {}).get("info") or ""
                fenced = tok.get("style") == "fenced"
                lines = code.count("\n") + 2 if fenced else code.count("\n")
                probe = next((ln for ln in code.split("\n") if ln.strip()), "")
                # the opening fence may be ``` or ~~~, with or without a space before the info string
                where = self.loc.find((tok.get("marker") or "```") if fenced else probe, 0)
                after = where.line - 1 + lines  # the block's lines count from its first line
                self.loc.offset = max(self.loc.offset, self.loc.starts[after] if after < len(self.loc.starts) else len(self.loc.src))
                if fenced and not self._closed_fence(tok, where):
                    self.diags.append(diag("P118", where.file, where.line, "code fence is never closed"))
                return m.CodeBlock(code, info.split()[0] if info.strip() else "", where)
            case "block_html":
                raw = tok.get("raw", "")
                where = self.loc.find(raw.strip().split("\n", 1)[0], raw.count("\n") or 1)
                stripped = raw.strip()
                if stripped.startswith("<!--") and "-->" not in stripped[4:]:
                    self.diags.append(diag("P118", where.file, where.line, "HTML comment is never closed"))
                return m.RawBlock(raw, where)
            case "thematic_break":
                where = self.loc.here()
                self.loc.offset = self.loc.starts[where.line] if where.line < len(self.loc.starts) else len(self.loc.src)
                return m.Rule(where)
            case "table":
                return self.table(tok)
            case _:
                where = self.loc.here()
                self.diags.append(diag("P118", where.file, where.line, f"unsupported block {kind!r} kept as text"))
                return m.Para((m.Text(str(tok.get("raw", "")), where),), where)

    def _closed_fence(self, tok: Token, where: m.Loc) -> bool:
        """Is the line after the code a closing fence (in a quote or alert too: ``> ```"``)?"""
        marker = tok.get("marker") or "```"
        lines = self.loc.src.split("\n")
        closing = where.line + tok.get("raw", "").count("\n")  # 0-based index of the line after the code
        if closing >= len(lines):
            return False
        ln = lines[closing].lstrip(" \t>").strip()
        return ln.startswith(marker[0] * len(marker)) and not ln.strip(marker[0])

    def list_item(self, tok: Token) -> m.ListItem:
        blocks = tuple(self.blocks(tok.get("children") or []))
        if blocks:
            return m.ListItem(blocks, blocks[0].loc)
        # an empty item: find its bare marker line
        where = self.loc.here()
        bare = EMPTY_ITEM_RE.search(self.loc.src, self.loc.offset)
        if bare:
            where = m.Loc(self.loc.file, self.loc.line_of(bare.start()))
            self.loc.offset = bare.end()
        return m.ListItem((), where)

    def quote(self, tok: Token) -> m.Block:
        kids = list(tok.get("children") or [])
        first = kids[0] if kids else None
        if first and first["type"] == "paragraph":
            inl = first.get("children") or []
            if inl and inl[0]["type"] == "text":
                marker = ALERT_RE.match(inl[0]["raw"])
                if marker:
                    where = self.loc.find(marker.group(0).strip(), 1)
                    rest_text = inl[0]["raw"][marker.end():]
                    rest = ([{"type": "text", "raw": rest_text}] if rest_text.strip() else []) + inl[1:]
                    while rest and rest[0]["type"] in ("softbreak", "linebreak"):
                        rest = rest[1:]
                    body: list[m.Block] = []
                    if rest:
                        body.append(self.para({"type": "paragraph", "children": rest}))
                    body.extend(self.blocks(kids[1:]))
                    return m.Alert(marker.group(1).lower(), tuple(body), where)  # type: ignore[arg-type]
        blocks = tuple(self.blocks(kids))
        return m.Quote(blocks, blocks[0].loc if blocks else self.loc.here())

    def def_list(self, tok: Token) -> m.DefList:
        items: list[m.Definition] = []
        term: tuple[m.Inline, ...] | None = None
        term_loc = self.loc.here()
        body: list[m.Block] = []
        described = False  # has the current term had a `: definition` yet?
        for child in tok.get("children") or []:
            if child["type"] == "def_list_head":
                kids = child.get("children") or []
                here = self.loc.find(plain_tokens(kids), 1)
                if term is not None and not described:  # terms on consecutive lines share the definitions
                    term = (*term, m.LineBreak(here), *self.inlines(kids, here))
                    continue
                if term is not None:
                    items.append(m.Definition(term, tuple(body), term_loc))
                term_loc = here
                term, body, described = self.inlines(kids, term_loc), [], False
            else:
                described = True
                body.extend(self.blocks(child.get("children") or []))
        if term is not None:
            items.append(m.Definition(term, tuple(body), term_loc))
        return m.DefList(tuple(items), items[0].loc if items else self.loc.here())

    def table(self, tok: Token) -> m.Table:
        head: tuple[m.Cell, ...] = ()
        rows: list[tuple[m.Cell, ...]] = []
        where = self.loc.here()
        for part in tok.get("children") or []:
            if part["type"] == "table_head":
                first = plain_tokens((part.get("children") or [{}])[0].get("children") or [])
                where = self.loc.find(first or "|", 2)
                head = self.cells(part.get("children") or [], where)
            else:
                for row in part.get("children") or []:
                    cells = row.get("children") or []
                    first = plain_tokens(cells[0].get("children") or []) if cells else ""
                    row_loc = self.loc.find(first or "|", 1)
                    rows.append(self.cells(cells, row_loc))
        return m.Table(head, tuple(rows), where)

    def cells(self, toks: list[Token], where: m.Loc) -> tuple[m.Cell, ...]:
        return tuple(
            m.Cell(self.inlines(c.get("children") or [], where), (c.get("attrs", {}) or {}).get("align") or "", where)
            for c in toks
        )


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


def _raw_probe(kids: list[Token]) -> str:
    for k in kids:
        if k.get("raw"):
            return str(k["raw"])
        inner = _raw_probe(k.get("children") or [])
        if inner:
            return inner
    return ""


def plain_tokens(tokens: list[Token]) -> str:
    out = []
    for t in tokens:
        if t["type"] in ("text", "codespan"):
            out.append(t["raw"])
        elif t["type"] in ("softbreak", "linebreak"):
            out.append("\n")
        elif t.get("children"):
            out.append(plain_tokens(t["children"]))
    return "".join(out)


def section_tree(blocks: list[Any], file: str) -> tuple[tuple[m.Inline, ...] | None, m.Loc, list[m.Block], list[Diagnostic]]:
    """Fold headings into nested Sections. Returns (H1 title, its loc, body, diagnostics)."""
    diags: list[Diagnostic] = []
    title: tuple[m.Inline, ...] | None = None
    title_loc = m.Loc(file, 1)
    # stack of (level, title, loc, children)
    root: list[Any] = []
    stack: list[tuple[int, tuple[m.Inline, ...], m.Loc, list[Any]]] = []
    used: set[str] = set()

    def close_until(level: int) -> None:
        while stack and stack[-1][0] >= level:
            lvl, ttl, loc, kids = stack.pop()
            anchor = unique(slugify(plain(ttl)) or "section", used)
            sec = m.Section(lvl, ttl, anchor, tuple(kids), loc)
            (stack[-1][3] if stack else root).append(sec)

    for b in blocks:
        if isinstance(b, _HeadingMark):
            if b.level == 1 and title is None and not stack and not any(isinstance(x, m.Section) for x in root):
                title, title_loc = b.children, b.loc
                continue
            if b.level == 1 and title is None:  # the first H1, after a section: one diagnostic, here
                diags.append(diag("P101", file, b.loc.line, f"'{plain(b.children)}' comes after a section: put the '# Title' first"))
            elif b.level == 1:
                diags.append(diag("P102", file, b.loc.line, f"'{plain(b.children)}'"))
            close_until(b.level)
            stack.append((b.level, b.children, b.loc, []))
        else:
            (stack[-1][3] if stack else root).append(b)
    close_until(0)
    return title, title_loc, root, diags


def plain(inlines: tuple[m.Inline, ...]) -> str:
    return plain_text(inlines)


# --------------------------------------------------------------------------- files and folders


def _footnote_def(loc: Locator, key: str, move: bool = False) -> m.Loc:
    """Where ``[^key]:`` is defined (mistune upper-cases keys, so match without case)."""
    found = re.search(r"^[ \t]*\[\^" + re.escape(key) + r"\]:", loc.src, re.M | re.I)
    pos = found.start() if found else 0
    if move:
        loc.offset = pos
    return m.Loc(loc.file, loc.line_of(pos))


def read_chapter(raw: bytes, file: str, slug: str, parser: mistune.Markdown | None = None) -> tuple[m.Chapter, list[Diagnostic]]:
    """One Markdown file to a Chapter. Never raises on any input."""
    if len(raw) > MAX_FILE_BYTES:
        d = diag("P003", file, 1, f"{len(raw):,} bytes (limit {MAX_FILE_BYTES:,})")
        return m.Chapter(file, slug, (), (), (), m.Loc(file, 1)), [d]
    text, diags = decode(raw, file)
    if not text.strip():
        diags.append(diag("P122", file, 1))
        return m.Chapter(file, slug, (), (), (), m.Loc(file, 1)), diags
    parser = parser or markdown_parser()
    try:
        tokens, state = parser.parse(text)
    except RecursionError:
        diags.append(diag("P009", file, 1, "the parser gave up"))
        return m.Chapter(file, slug, (), (), (), m.Loc(file, 1)), diags
    reader = _Reader(Locator(file, text), diags)
    footnote_tokens = [t for t in tokens if t["type"] == "footnotes"]
    body_tokens = [t for t in tokens if t["type"] != "footnotes"]
    try:
        blocks = reader.blocks(body_tokens, top=True)
        notes: list[m.Footnote] = []
        for group in footnote_tokens:
            for item in group.get("children") or []:
                key = str((item.get("attrs") or {}).get("key", ""))
                where = _footnote_def(reader.loc, key, move=True)
                fblocks = tuple(reader.blocks(item.get("children") or []))
                notes.append(m.Footnote(key, fblocks, where))
    except RecursionError:
        diags.append(diag("P009", file, 1, "nesting is too deep to read"))
        return m.Chapter(file, slug, (), (), (), m.Loc(file, 1)), diags
    # mistune drops definitions nothing refers to: report them
    used = set((state.env.get("footnotes") or []))
    for key in (state.env.get("ref_footnotes") or {}):
        if key not in used:
            where = _footnote_def(reader.loc, str(key))
            diags.append(diag("P123", where.file, where.line, f"[^{key.lower()}]"))
    title, title_loc, body, more = section_tree(blocks, file)
    diags.extend(more)
    if title is None and not any(d.code == "P101" for d in more):
        diags.append(diag("P101", file, 1, "add a '# Title' line"))
    return m.Chapter(file, slug, title or (), tuple(body), tuple(notes), title_loc), diags


def chapter_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.md") if p.is_file() and not p.name.startswith("."))


def chapter_slug(path: Path) -> str:
    stem = re.sub(r"^\d+[-_ .]*", "", path.stem)
    return slugify(stem) or slugify(path.stem) or "chapter"


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_book(folder: Path | str) -> tuple[m.Book, list[Diagnostic]]:
    """Read a content folder: ``book.toml`` (optional) and ``*.md`` chapters in file-name order."""
    folder = Path(folder)
    meta, diags = read_meta(folder, display_path(folder))
    parser = markdown_parser()
    chapters: list[m.Chapter] = []
    used: set[str] = set()
    files = chapter_files(folder) if folder.is_dir() else []
    if not files:
        why = "no *.md files found" if folder.is_dir() else ("not a folder" if folder.exists() else "the folder does not exist")
        diags.append(diag("P005", display_path(folder), 0, why))
    for path in files:
        shown = display_path(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            diags.append(diag("P010", shown, 0, exc.strerror or str(exc)))
            continue
        chapter, more = read_chapter(raw, shown, unique(chapter_slug(path), used), parser)
        chapters.append(chapter)
        diags.extend(more)
    return m.Book(meta, tuple(chapters), display_path(folder)), diags
