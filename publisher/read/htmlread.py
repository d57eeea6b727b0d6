"""HTML in the notes, read into the typed model (the reader's helper; nothing else uses it).

GitHub renders a safe subset of HTML, and notes use it: ``<details>`` answers,
``<b>``, ``<br>``, ``<img width=...>``, ``<center>``, tables. mistune hands
HTML over as raw pieces (a block's worth, or one tag at a time inline), with
Markdown between them. The reader turns each piece into events (start tag, end
tag, text) and the Markdown between them into model nodes; :class:`Tree` builds
one element tree of both, and :func:`to_blocks` / :func:`to_inlines` convert it.

What is dangerous (scripts, frames, event handlers, ``javascript:`` URLs) is kept
as :class:`~publisher.core.model.RawBlock` / :class:`~publisher.core.model.RawInline` for
the validation rules to refuse (P110, an error). A harmless tag the model has no
node for keeps its text, with a warning (P128).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, Callable, Union
from urllib.parse import unquote, urlsplit

from ..core import model as m
from ..core.diagnostics import Diagnostic, diag

DANGEROUS = frozenset({
    "script", "iframe", "object", "embed", "style", "link", "meta", "base", "form", "svg", "math", "frame",
    "frameset", "applet", "input", "button", "textarea", "select", "option", "template", "noscript", "portal",
})
VOID = frozenset({"br", "hr", "img", "wbr", "input", "meta", "link", "source", "col", "area", "base", "embed",
                  "param", "track", "keygen"})
# containers whose content is read as if the tag were not there (no node of their own, no warning)
TRANSPARENT = frozenset({
    "div", "center", "span", "section", "article", "header", "footer", "main", "figure", "figcaption", "abbr",
    "cite", "q", "time", "big", "nobr", "font", "picture", "a", "thead", "tbody", "tfoot", "html", "body",
    "aside", "nav", "dfn", "var", "samp", "tt", "bdi", "bdo", "ruby", "rt", "rp", "data", "label",
})
BLOCK_TAGS = frozenset({
    "p", "div", "center", "section", "article", "header", "footer", "main", "figure", "details", "summary", "ul",
    "ol", "li", "dl", "dt", "dd", "table", "tr", "th", "td", "thead", "tbody", "tfoot", "pre", "blockquote", "hr",
    "h1", "h2", "h3", "h4", "h5", "h6", "aside", "nav", "figcaption", "html", "body",
})
INLINE_STYLE = {"sub": "sub", "sup": "sup", "u": "u", "ins": "u", "kbd": "kbd", "small": "small"}
UNSAFE_SCHEMES = ("javascript", "vbscript", "data", "file")
MAX_DEPTH = 40  # elements open at once: deeper start tags are read as if they were not there


@dataclass
class El:
    tag: str
    attrs: dict[str, str]
    line: int
    source: str = ""  # the start tag as written
    kids: list[Any] = field(default_factory=list)  # str | El | model node | HeadingMark


Node = Union[str, El, Any]


def unsafe_url(url: str) -> bool:
    scheme = urlsplit(unquote(url).strip().replace("\t", "").replace("\n", "")).scheme.lower()
    return scheme in UNSAFE_SCHEMES


# a picture written into the page as data (raster only: an SVG may hold a script)
DATA_PICTURE_RE = re.compile(r"^\s*data:image/(png|jpe?g|gif|webp|avif|bmp);base64,", re.I)


def data_picture(file: str, diags: list[Diagnostic], url: str, alt: str, where: m.Loc) -> list[m.Inline]:
    """``<img src="data:image/png;base64,...">`` (or ``![](data:...)``): harmless, but no output shows a
    picture that is not a file of the book: its alt text stands in its place, and P127 says so."""
    kind = DATA_PICTURE_RE.match(url).group(1).lower()  # type: ignore[union-attr]
    size = len(url) * 3 // 4 // 1024
    diags.append(diag("P127", file, where.line, f"a {kind} picture written into the page as data ({size} KB): "
                                                "every output shows its alt text; save it as a file beside the notes"))
    return [m.Text(alt, where)] if alt.strip() else []


def bad_attrs(attrs: dict[str, str]) -> bool:
    return any(k.startswith("on") or (v and unsafe_url(v)) for k, v in attrs.items())


class _Events(HTMLParser):
    """One raw HTML piece to (kind, value, line offset) events."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[tuple[str, Any, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.append(("start", (tag, {k: v or "" for k, v in attrs}, self.get_starttag_text() or ""), self.getpos()[0] - 1))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.append(("void", (tag, {k: v or "" for k, v in attrs}, self.get_starttag_text() or ""), self.getpos()[0] - 1))

    def handle_endtag(self, tag: str) -> None:
        self.out.append(("end", tag, self.getpos()[0] - 1))

    def handle_data(self, data: str) -> None:
        self.out.append(("text", data, self.getpos()[0] - 1))

    def handle_comment(self, data: str) -> None:
        self.out.append(("comment", data, self.getpos()[0] - 1))


EMPTY_COMMENT_RE = re.compile(r"<!---?>")  # a whole comment, as a browser reads it


def events(raw: str) -> list[tuple[str, Any, int]]:
    parser = _Events()
    try:
        parser.feed(EMPTY_COMMENT_RE.sub("<!---->", raw))  # (html.parser reads on to a later "-->")
        parser.close()
    except Exception:  # noqa: BLE001 - html.parser is lenient; never let odd markup stop a read
        return [("text", raw, 0)]
    return parser.out


class Tree:
    """Builds one element tree from HTML events and model nodes, in document order."""

    def __init__(self) -> None:
        self.root = El("#root", {}, 0)
        self.stack = [self.root]

    def html(self, raw: str, line: int) -> None:
        for kind, value, offset in events(raw):
            where = line + offset
            top = self.stack[-1]
            if kind == "text":
                top.kids.append((value, where))
            elif kind == "start" or kind == "void":
                tag, attrs, source = value
                el = El(tag, attrs, where, source)
                top.kids.append(el)
                if kind == "start" and tag not in VOID and len(self.stack) < MAX_DEPTH:
                    self.stack.append(el)
            elif kind == "end":
                for depth in range(len(self.stack) - 1, 0, -1):
                    if self.stack[depth].tag == value:
                        del self.stack[depth:]
                        break
            # comments are authors' notes: dropped

    def node(self, node: Any) -> None:
        self.stack[-1].kids.append(node)

    @property
    def has_html(self) -> bool:
        return any(isinstance(k, (El, tuple)) for k in self.root.kids)


@dataclass(frozen=True)
class Html:
    """What converting an element tree needs: the file, where diagnostics go, and the reader's heading
    marker (``heading(level, inlines, loc)``)."""

    file: str
    diags: list[Diagnostic]
    heading: Callable[[int, tuple[m.Inline, ...], m.Loc], Any]

    def loc(self, line: int) -> m.Loc:
        return m.Loc(self.file, max(line, 1))


# --------------------------------------------------------------------------- inlines


def to_inlines(cx: Html, kids: list[Any], line: int) -> list[m.Inline]:
    """An element tree's children as inline nodes (tags the model has no node for keep their words)."""
    out: list[m.Inline] = []
    for kid in kids:
        out.extend(_inline(cx, kid, line))
    return out


def _inline(cx: Html, kid: Any, line: int) -> list[m.Inline]:
    if isinstance(kid, tuple):
        text, where = kid
        return [m.Text(_space(text), cx.loc(where))] if text else []
    if not isinstance(kid, El):
        if isinstance(kid, m.INLINE_TYPES):
            return [kid]
        return []  # a block inside inline HTML: cannot stand here (the reader never makes this)
    el, where = kid, cx.loc(kid.line)
    tag = el.tag
    if tag in DANGEROUS:
        return [m.RawInline(_closed(el), where)]  # refused by validation (P110); its content with it
    if tag == "img" and DATA_PICTURE_RE.match(el.attrs.get("src", "")) and not bad_attrs(
            {k: v for k, v in el.attrs.items() if k != "src"}):
        return data_picture(cx.file, cx.diags, el.attrs["src"], el.attrs.get("alt", ""), where)
    inner = tuple(to_inlines(cx, el.kids, el.line))
    if bad_attrs(el.attrs):  # refused by validation (P110); the words inside stay
        return [m.RawInline(_closed(el), where), *inner]
    match tag:
        case "b" | "strong":
            return [m.Strong(inner, where)]
        case "i" | "em" | "cite" | "dfn" | "var":
            return [m.Emph(inner, where)]
        case "s" | "del" | "strike":
            return [m.Strike(inner, where)]
        case "mark":
            return [m.Mark(inner, where)]
        case "code" | "tt" | "samp":
            return [m.Code(_plain(inner), where)]
        case "br":
            return [m.LineBreak(where)]
        case "img":
            return [_image(cx, el)]
        case "a" if el.attrs.get("href"):
            return [m.Link(el.attrs["href"], inner, el.attrs.get("title", ""), where)]
        case _ if tag in INLINE_STYLE:
            return [m.Styled(INLINE_STYLE[tag], inner, where)]  # type: ignore[arg-type]
        case "wbr":
            return []
        case "hr":
            return [m.LineBreak(where)]
        case _ if tag in TRANSPARENT or tag in BLOCK_TAGS:
            if tag in ("p", "div", "li", "tr", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6") and inner:
                return [*inner, m.LineBreak(where)]
            return list(inner)
        case _:
            cx.diags.append(diag("P128", cx.file, el.line, f"<{el.tag}> is shown as its text"))
            return list(inner)


def _image(cx: Html, el: El) -> m.Image:
    return m.Image(el.attrs.get("src", ""), el.attrs.get("alt", ""), el.attrs.get("title", ""), cx.loc(el.line),
                   _px(el.attrs.get("width")), _px(el.attrs.get("height")))


# --------------------------------------------------------------------------- blocks


def to_blocks(cx: Html, kids: list[Any], line: int) -> list[Any]:
    """An element tree's children as blocks: runs of inline content become paragraphs, block elements
    their nodes, and model blocks (Markdown between HTML pieces) stay as they are."""
    out: list[Any] = []
    run: list[Any] = []

    def flush() -> None:
        if run:
            nodes = _trim(to_inlines(cx, run, line))
            if nodes:
                out.append(m.Para(tuple(nodes), nodes[0].loc))
            run.clear()

    for kid in kids:
        if isinstance(kid, El) and kid.tag in BLOCK_TAGS and not (kid.tag in DANGEROUS or bad_attrs(kid.attrs)):
            flush()
            out.extend(_block(cx, kid))
        elif isinstance(kid, El) and kid.tag in DANGEROUS:
            flush()
            out.append(m.RawBlock(_closed(kid), cx.loc(kid.line)))  # refused by validation (P110)
        elif isinstance(kid, El) and kid.tag in BLOCK_TAGS and bad_attrs(kid.attrs):
            flush()
            out.append(m.RawBlock(_closed(kid), cx.loc(kid.line)))  # refused (P110); its words stay
            out.extend(to_blocks(cx, kid.kids, kid.line))
        elif isinstance(kid, El) and _holds_blocks(kid):
            lead, rest = _inline_lead(kid)  # (its words before its first block go on with the text before it)
            if lead is not None:
                run.append(lead)
            flush()  # <b> around paragraphs (<b>, blank line, Markdown, </b>): read what it holds
            out.extend(to_blocks(cx, rest, kid.line))
        elif isinstance(kid, (tuple, El)) or isinstance(kid, m.INLINE_TYPES):
            run.append(kid)
        else:
            flush()
            out.append(kid)  # a model block (Markdown between HTML pieces) or a heading marker
    flush()
    return out


def _block(cx: Html, el: El) -> list[Any]:
    """One block element as model blocks."""
    where = cx.loc(el.line)
    match el.tag:
        case "details":
            return _details(cx, el)
        case "summary":  # a summary outside its <details>: a bold line, then the blocks it holds
            nodes, held = _summary(cx, el)
            return ([m.Para((m.Strong(nodes, where),), where)] if nodes else []) + list(held)
        case "h1" | "h2" | "h3" | "h4" | "h5" | "h6":
            return [cx.heading(int(el.tag[1]), tuple(_trim(to_inlines(cx, el.kids, el.line))), where)]
        case "ul" | "ol":
            return _list(cx, el)
        case "dl":
            return _definitions(cx, el)
        case "table":
            return _table(cx, el)
        case "pre":
            return [_pre(el, where)]
        case "blockquote":
            return [m.Quote(_inner_blocks(cx, el.kids, el.line), where)]
        case "hr":
            return [m.Rule(where)]
        case _:  # p, figure, li, dd, dt, table parts outside a table, div, center, section...: their content
            return to_blocks(cx, el.kids, el.line)


def _inner_blocks(cx: Html, kids: list[Any], line: int) -> tuple[m.Block, ...]:
    """Blocks inside a disclosure, list item, definition or quote: a heading there is a bold line."""
    return tuple(_no_heading(b) for b in to_blocks(cx, kids, line))


def _details(cx: Html, el: El) -> list[m.Block]:
    """``<details>``: its first ``<summary>`` and the rest as its body. What the summary holds after its
    words (a list, a code block, paragraphs: Markdown between its tags) is the prompt, part of the question."""
    summary: tuple[m.Inline, ...] = ()
    prompt: tuple[m.Block, ...] = ()
    rest = []
    taken = False
    for kid in el.kids:
        if isinstance(kid, El) and kid.tag == "summary" and not taken:
            taken = True
            summary, prompt = _summary(cx, kid)
            if not summary and prompt and isinstance(prompt[0], m.Para):  # words in a paragraph of their own
                summary, prompt = prompt[0].children, prompt[1:]
        else:
            rest.append(kid)
    return [m.Details(summary, _inner_blocks(cx, rest, el.line), cx.loc(el.line), prompt)]


def _summary(cx: Html, el: El) -> tuple[tuple[m.Inline, ...], tuple[m.Block, ...]]:
    """A ``<summary>``'s words, and the blocks it holds after them (a list, code: Markdown between its tags)."""
    cut = next((n for n, k in enumerate(el.kids) if _is_block(k)), len(el.kids))
    words, rest = el.kids[:cut], el.kids[cut:]
    if rest and isinstance(rest[0], El) and rest[0].tag not in BLOCK_TAGS:  # "v<b>x<ul>...": 'x' is a word
        lead, inner = _inline_lead(rest[0])
        words, rest = (words + [lead] if lead is not None else words), inner + rest[1:]
    return tuple(_trim(to_inlines(cx, words, el.line))), _inner_blocks(cx, rest, el.line)


def _inline_lead(el: El) -> tuple[El | None, list[Any]]:
    """An inline element that holds blocks: its words before the first of them (as a browser shows them, on
    the line before: an element of their own, or None when there are none) and the rest of what it holds."""
    cut = next((n for n, k in enumerate(el.kids) if _is_block(k)), len(el.kids))
    lead = el.kids[:cut]
    if not any(isinstance(k, El) or (isinstance(k, tuple) and k[0].strip()) or isinstance(k, m.INLINE_TYPES) for k in lead):
        return None, el.kids[cut:]
    lead = list(lead)
    if isinstance(lead[-1], tuple):  # (the line break before the block ends the words, not a space in them)
        lead[-1] = (lead[-1][0].rstrip(), lead[-1][1])
    return El(el.tag, el.attrs, el.line, el.source, lead), el.kids[cut:]


def _is_block(kid: Any) -> bool:
    """A block among an element's children: a model block (Markdown between HTML pieces) or a block element."""
    if isinstance(kid, El):
        return kid.tag in BLOCK_TAGS or _holds_blocks(kid)
    return not isinstance(kid, tuple) and not isinstance(kid, m.INLINE_TYPES)


def _list(cx: Html, el: El) -> list[m.Block]:
    """``<ul>``/``<ol>``: each ``<li>`` an item (stray content between items an item of its own)."""
    items = []
    for kid in el.kids:
        if isinstance(kid, El) and kid.tag == "li":
            items.append(m.ListItem(_inner_blocks(cx, kid.kids, kid.line), cx.loc(kid.line)))
        elif isinstance(kid, El) or (isinstance(kid, tuple) and kid[0].strip()):
            items.append(m.ListItem(tuple(to_blocks(cx, [kid], el.line)), cx.loc(el.line)))
    start = _px(el.attrs.get("start")) or 1
    return [m.BulletList(tuple(items), el.tag == "ol", start, cx.loc(el.line))] if items else []


def _definitions(cx: Html, el: El) -> list[m.Block]:
    """``<dl>``: each ``<dt>`` a term, the ``<dd>`` after it its body."""
    defs: list[m.Definition] = []
    for kid in el.kids:
        if isinstance(kid, El) and kid.tag == "dt":
            defs.append(m.Definition(tuple(_trim(to_inlines(cx, kid.kids, kid.line))), (), cx.loc(kid.line)))
        elif isinstance(kid, El) and kid.tag == "dd" and defs:
            d = defs[-1]
            defs[-1] = m.Definition(d.term, d.body + _inner_blocks(cx, kid.kids, kid.line), d.loc)
    return [m.DefList(tuple(defs), cx.loc(el.line))] if defs else []


def _pre(el: El, where: m.Loc) -> m.CodeBlock:
    """``<pre>``: its text as code, the language from a ``<code class="language-x">`` inside."""
    lang = ""
    for kid in el.kids:
        if isinstance(kid, El) and kid.tag == "code":
            found = re.search(r"(?:lang(?:uage)?-)([\w+#-]+)", kid.attrs.get("class", ""))
            lang = found.group(1) if found else ""
    return m.CodeBlock(_text_of(el).strip("\n"), lang, where)


def _rows(el: El) -> list[tuple[bool, El]]:
    """A table's rows in order, each with whether it is a header row."""
    rows: list[tuple[bool, El]] = []
    for kid in el.kids:
        if isinstance(kid, El):
            if kid.tag == "tr":
                header = el.tag == "thead" or all(
                    k.tag == "th" for k in kid.kids if isinstance(k, El) and k.tag in ("th", "td"))
                rows.append((header, kid))
            elif kid.tag in ("thead", "tbody", "tfoot"):
                rows.extend(_rows(kid))
    return rows


def _cells(cx: Html, tr: El) -> tuple[m.Cell, ...]:
    out = []
    for cell in tr.kids:
        if isinstance(cell, El) and cell.tag in ("th", "td"):
            align = cell.attrs.get("align", "").lower()
            out.append(m.Cell(tuple(_trim(to_inlines(cx, cell.kids, cell.line))),
                              align if align in ("left", "center", "right") else "", cx.loc(cell.line)))  # type: ignore[arg-type]
    return tuple(out)


def _table(cx: Html, el: El) -> list[m.Block]:
    """``<table>``: a header row (the first, when all its cells are ``<th>``) and the body, padded square."""
    rows = _rows(el)
    if not rows:
        return to_blocks(cx, el.kids, el.line)
    head: tuple[m.Cell, ...] = ()
    body = rows
    if rows[0][0]:
        head, body = _cells(cx, rows[0][1]), rows[1:]
    body_cells = [_cells(cx, tr) for _, tr in body]
    width = max([len(head)] + [len(r) for r in body_cells])
    if not head:
        head = tuple(m.Cell((), "", cx.loc(el.line)) for _ in range(width))
    pad = lambda r: r + tuple(m.Cell((), "", cx.loc(el.line)) for _ in range(width - len(r)))  # noqa: E731
    return [m.Table(pad(head), tuple(pad(r) for r in body_cells), cx.loc(el.line))]


def _holds_blocks(el: El) -> bool:
    """Does an inline element hold blocks (Markdown paragraphs, lists, block HTML) between its tags?"""
    return any((isinstance(k, El) and (k.tag in BLOCK_TAGS or _holds_blocks(k))) or
               (not isinstance(k, (El, tuple)) and not isinstance(k, m.INLINE_TYPES)) for k in el.kids)


def _closed(el: El) -> str:
    """The element's start tag as written, closed: what validation judges (never an open element)."""
    source = el.source or f"<{el.tag}>"
    return source if el.tag in VOID else f"{source}</{el.tag}>"


def _no_heading(block: Any) -> Any:
    """A heading inside a disclosure, list item or quote: only top-level ones make sections."""
    if isinstance(block, m.BLOCK_TYPES):
        return block
    children = getattr(block, "children", ())
    loc = getattr(block, "loc", m.NOWHERE)
    return m.Para((m.Strong(tuple(children), loc),), loc) if children else m.Para((), loc)


def _space(text: str) -> str:
    """HTML's white space: runs of it (newlines too) are one space."""
    return re.sub(r"[ \t\r\n\f]+", " ", text)


def _trim(nodes: list[m.Inline]) -> list[m.Inline]:
    """Drop white space at both ends of an inline run (and line breaks there)."""
    nodes = list(nodes)
    while nodes and (isinstance(nodes[0], (m.LineBreak, m.SoftBreak)) or (isinstance(nodes[0], m.Text) and not nodes[0].text.strip())):
        nodes.pop(0)
    while nodes and (isinstance(nodes[-1], (m.LineBreak, m.SoftBreak)) or (isinstance(nodes[-1], m.Text) and not nodes[-1].text.strip())):
        nodes.pop()
    if nodes and isinstance(nodes[0], m.Text):
        nodes[0] = m.Text(nodes[0].text.lstrip(), nodes[0].loc)
    if nodes and isinstance(nodes[-1], m.Text):
        nodes[-1] = m.Text(nodes[-1].text.rstrip(), nodes[-1].loc)
    return nodes


def _plain(nodes: tuple[m.Inline, ...]) -> str:
    from ..core.text import plain_text

    return plain_text(nodes)


def _text_of(el: El) -> str:
    out = []
    for kid in el.kids:
        if isinstance(kid, tuple):
            out.append(kid[0])
        elif isinstance(kid, El):
            out.append("\n" if kid.tag == "br" else _text_of(kid))
    return "".join(out)


def _px(value: str | None) -> int:
    found = re.match(r"\s*(\d{1,5})\s*(?:px)?\s*$", value or "")
    return int(found.group(1)) if found else 0
