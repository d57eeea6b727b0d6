"""The one HTML fragment renderer: model nodes to HTML.

The Anki fields, the cheat sheet and the EPUB chapters are all made from what
this module writes; each output adds only its wrapper (a card template, a page
template, an XHTML document). Raw HTML from the content passes only through
:func:`sanitize` (nh3), and :func:`to_xhtml` makes any fragment well-formed XML.
"""

from __future__ import annotations

import functools

import base64
import re
from dataclasses import dataclass, field, replace
from html import escape
from typing import Callable, assert_never
from urllib.parse import urlsplit

import nh3
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from . import mathrender
from ..core import model as m
from ..core.text import plain_text, walk_blocks
from .typography import typeset

ALERT_TITLES = {"note": "Note", "tip": "Tip", "important": "Important", "warning": "Warning", "caution": "Caution"}

# What may survive sanitizing: the tags this module writes plus the content allow-list.
TAGS = {
    "p", "ul", "ol", "li", "dl", "dt", "dd", "pre", "code", "span", "blockquote", "aside", "table", "thead",
    "tbody", "tr", "th", "td", "hr", "section", "h1", "h2", "h3", "h4", "h5", "h6", "em", "strong", "del", "s",
    "mark", "a", "img", "sup", "sub", "br", "kbd", "abbr", "small", "u", "ins", "wbr", "div", "details", "summary",
}
# MathML that latex2mathml writes for a formula (raw <math> in the content is refused by validation, P110)
MATH_TAGS = {
    "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msub", "msup", "msubsup", "mfrac", "msqrt",
    "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd", "mstyle", "mpadded", "mphantom",
    "menclose", "mfenced", "semantics", "annotation", "merror", "mmultiscripts", "mprescripts", "none",
}
MATH_ATTRS = {
    "xmlns", "display", "alttext", "mathvariant", "stretchy", "fence", "separator", "lspace", "rspace", "accent",
    "accentunder", "columnalign", "rowspacing", "columnspacing", "linethickness", "displaystyle", "scriptlevel",
    "width", "height", "depth", "notation", "open", "close", "separators", "minsize", "maxsize", "movablelimits",
    "symmetric", "largeop", "form", "encoding", "rowalign", "columnlines", "rowlines", "frame", "voffset",
}
# the size and baseline of a formula drawn as an image on the sheet: nothing else passes in a style
MATH_STYLE_RE = re.compile(r"^height:\d+(\.\d+)?em;vertical-align:-?\d+(\.\d+)?em$")
ATTRS = {
    "*": {"class", "id", "title", "lang"},
    "a": {"href", "role"},
    "img": {"src", "alt", "title", "width", "height"},
    "aside": {"role", "aria-label"},
    "ol": {"start"},
    "section": {"aria-labelledby", "role"},
    "li": {"role"},
    "th": {"scope"},
}
URL_SCHEMES = {"http", "https", "mailto"}

Resolver = Callable[[str], "str | None"]
WIDE_TABLE = 6  # columns: a table with more is 'wide' (the outputs let it wrap or scroll, never overflow)



def _keep(url: str) -> str | None:
    return url


@dataclass(frozen=True)
class Options:
    """How a fragment is written for one output.

    ``image_src`` maps a content image URL to the output's (None: refused, the
    alt text is shown); ``link_href`` maps a link URL (None: shown as text);
    ``target_href`` maps a resolved internal link (``Link.target``);
    ``cloze`` writes ``==marks==`` as Anki deletions ``{{c1::...}}``;
    ``id_prefix`` keeps ids unique when chapters share one document.
    """

    image_src: Resolver = _keep
    link_href: Resolver = _keep
    # an internal link's target ("chapter-slug" or "chapter-slug#anchor") to the output's href;
    # None: internal links are shown as their text
    target_href: Resolver | None = None
    cloze: bool = False
    # how a formula is written: "tex" (MathJax delimiters, which Anki renders), "mathml" (the EPUB) or
    # "svg" (an image of vector paths: the sheet, whose renderer has no MathML)
    math: str = "tex"
    # how a sound is written: "anki" (``[sound:name]``, the file packed through ``image_src``), "name" (a note
    # of its file name: the EPUB) or "omit" (the sheet)
    sound: str = "name"
    typography: bool = False  # curly quotes and real dashes in text (the sheet and the EPUB; never the model)
    cloze_together: bool = False  # every deletion is c1: one card hides them all (<!-- card: together -->)
    # how a superseded claim is shown: "full" (today's claim is above it; the old one labelled, dated,
    # with its source: the book, the back of a card) or "mark" (only a small "updated" mark: the sheet)
    history: str = "full"
    original_label: str = "Originally"  # e.g. "2018 notes"
    id_prefix: str = ""
    heading_offset: int = 0
    footnote_numbers: dict[str, int] = field(default_factory=dict)
    # Gives the element written for a source line an id (the EPUB's "Check yourself"
    # links target the paragraph, list item or term a card comes from). None: no ids.
    anchor_for: Callable[[m.Loc], "str | None"] | None = None


def web_link(url: str) -> str | None:
    """A ``link_href`` for outputs that carry no local files: web and mail links stay links, anything else
    (a local file, another scheme) is shown as its words."""
    return url.strip() if urlsplit(url.strip()).scheme.lower() in ("http", "https", "mailto") else None


def original_label(date: str) -> str:
    """How a superseded claim is labelled: with the year of the notes ("2018 notes"), when known."""
    return f"{date[:4]} notes" if len(date) >= 4 and date[:4].isdigit() else "Originally"


def _anchor(opts: Options, loc: m.Loc) -> str:
    """` id="..."` for the element written from ``loc``, if ``opts.anchor_for`` gives one."""
    ident = opts.anchor_for(loc) if opts.anchor_for is not None else None
    return f' id="{escape(opts.id_prefix + ident)}"' if ident else ""


class _Counter:
    def __init__(self) -> None:
        self.n = 0

    def next(self) -> int:
        self.n += 1
        return self.n


def inlines(nodes: tuple[m.Inline, ...], opts: Options = Options(), _cloze: _Counter | None = None) -> str:
    cloze = _cloze or _Counter()
    out = []
    for k, n in enumerate(nodes):
        if (opts.typography and k and isinstance(n, m.Text) and n.text[:1] in "'\""
                and isinstance(nodes[k - 1], (m.Code, m.Link, m.Emph, m.Strong, m.Strike, m.Mark, m.Math, m.Styled))):
            # "`v`'s", "**x**'": a quote right after a word in markup closes (an apostrophe), as after a letter
            out.append(escape(typeset("x" + n.text)[1:], quote=False))
            continue
        out.append(_inline(n, opts, cloze))
    return "".join(out)


def _inline(node: m.Inline, opts: Options, cloze: _Counter) -> str:
    match node:
        case m.Text(text=t):
            return escape(typeset(t) if opts.typography else t, quote=False)
        case m.Emph(children=c):
            return f"<em>{inlines(c, opts, cloze)}</em>"
        case m.Strong(children=c):
            return f"<strong>{inlines(c, opts, cloze)}</strong>"
        case m.Strike(children=c):
            return f"<del>{inlines(c, opts, cloze)}</del>"
        case m.Mark(children=c, hint=hint):
            inner = inlines(c, opts, cloze)
            if opts.cloze:
                # "}}" or "::" inside a deletion would end it early: written as character references, which Anki's
                # cloze parser reads past and every renderer (and Anki's search) reads as the characters
                # (placeholders here: the sanitizer would decode the references; render() writes them after it)
                inner = inner.replace("}}", CLOSE_HELD * 2).replace("::", COLON_HELD * 2)
                tip = escape(hint, quote=False).replace("}}", CLOSE_HELD * 2).replace("::", COLON_HELD * 2) if hint else ""
                # deletions written with a number share it: one card asks them together
                number = node.group or (1 if opts.cloze_together else cloze.next())
                return f"{{{{c{number}::{inner}" + (f"::{tip}" if tip else "") + "}}"
            return f"<mark>{inner}</mark>"
        case m.Styled(style=style, children=c):
            return f"<{style}>{inlines(c, opts, cloze)}</{style}>"
        case m.Code(text=t):
            return f"<code>{escape(t, quote=False)}</code>"
        case m.Math(tex=tex, display=display):
            return _math(tex, display, opts.math)
        case m.Link(url=url, children=c, title=title, target=target):
            if target:
                href = opts.target_href(target) if opts.target_href is not None else None
            else:
                href = opts.link_href(url) if _safe_url(url) else None
            body = inlines(c, opts, cloze)
            if href is None:
                return f'<span class="link">{body}</span>'
            tip = f' title="{escape(title)}"' if title else ""
            return f'<a href="{escape(href)}"{tip}>{body}</a>'
        case m.Image(url=url, alt=alt, title=title, width=width, height=height):
            src = opts.image_src(url)
            if src is None:
                return f'<span class="image-missing">[{escape(alt or "image")}]</span>'
            tip = f' title="{escape(title)}"' if title else ""
            size = (f' width="{width}"' if width else "") + (f' height="{height}"' if height else "")
            return f'<img src="{escape(src)}" alt="{escape(alt)}"{tip}{size}/>'
        case m.FootnoteRef(key=key):
            n = opts.footnote_numbers.get(key)
            if n is None:
                return f"<sup>[{escape(key)}]</sup>"
            p = opts.id_prefix
            return f'<sup><a class="fnref" id="{p}fnref-{n}" href="#{p}fn-{n}" role="doc-noteref">{n}</a></sup>'
        case m.LineBreak():
            return "<br/>"
        case m.SoftBreak():
            return "\n"
        case m.RawInline(html=h):
            return h  # made safe by sanitize() on the whole fragment
        case m.Sound(url=url, label=label):
            return _sound(url, label, opts)
        case m.Pin() | m.CardOption() | m.Tag():
            return ""
        case _:
            assert_never(node)


def _sound(url: str, label: str, opts: Options) -> str:
    name = url.rsplit("/", 1)[-1]
    if opts.sound == "omit":
        return escape(label, quote=False)
    if opts.sound == "anki":
        packed = opts.image_src(url)
        if packed is not None and "]" not in packed:
            return (escape(label, quote=False) + " " if label else "") + f"[sound:{escape(packed, quote=False)}]"
    text = f"{label} (audio: {name})" if label else f"(audio: {name})"
    return f'<span class="sound">{escape(text, quote=False)}</span>'


def _math(tex: str, display: bool, mode: str) -> str:
    """A formula in the output's form; one that does not parse is shown as its TeX, in code style."""
    kind = "math-display" if display else "math"
    shown = f"$${tex}$$" if display else f"${tex}$"
    fallback = f'<code class="{kind} math-error">{escape(shown, quote=False)}</code>'
    if mathrender.problem(tex) is not None:
        return fallback
    if mode == "mathml":
        return mathrender.mathml(tex, display) or fallback
    if mode == "svg":
        drawn = mathrender.svg(tex, display)
        if drawn is None:
            return fallback
        key = base64.urlsafe_b64encode(f"{int(display)}{tex}".encode()).decode().rstrip("=")
        style = f"height:{drawn.height:.3f}em;vertical-align:-{drawn.depth:.3f}em"
        return f'<img class="{kind}" src="{MATH_URL_PREFIX}{key}.svg" alt="{escape(tex)}" style="{style}"/>'
    return f'<span class="{kind}">{escape(mathrender.anki(tex, display), quote=False)}</span>'


MATH_URL_PREFIX = ".publisher-math/"  # the sheet's formulas: its fetcher draws them (see formula_svg)


def formula_svg(key: str) -> bytes | None:
    """The SVG of a formula image on the sheet, from the rest of its URL after :data:`MATH_URL_PREFIX`
    (None: not such an image)."""
    if not key.endswith(".svg"):
        return None
    key = key[:-len(".svg")]
    try:
        text = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)).decode()
    except ValueError:
        return None
    drawn = mathrender.svg(text[1:], text[:1] == "1") if text[:1] in ("0", "1") else None
    return drawn.markup.encode() if drawn is not None else None


def _safe_url(url: str) -> bool:
    scheme = urlsplit(url.strip()).scheme.lower()
    return scheme in ("", *URL_SCHEMES)


@functools.lru_cache(maxsize=4096)
def highlight_code(code: str, lang: str) -> str:
    """Pygments with CSS classes (no inline styles, no script); plain when the language is unknown.

    Kept per code and language: the sheet writes a chunk's code again for each place it may start at."""
    lexer = _lexer(lang)
    if lexer is None:
        return f'<pre class="code"><code>{escape(code, quote=False)}</code></pre>'
    body = highlight(code, lexer, _formatter())
    return f'<pre class="code highlight"><code>{body}</code></pre>'


@functools.lru_cache(maxsize=256)
def _lexer(lang: str):  # noqa: ANN202 - a Pygments lexer, or None for a language it does not know
    try:
        return get_lexer_by_name(lang) if lang else None
    except ClassNotFound:
        return None


def prepare(book: m.Book) -> None:
    """Make here what the first highlighted block of each language makes: Pygments compiles a lexer's rules
    as it is first made (0.07 s for Python). A renderer forked from this process later starts with them
    (``publisher watch`` prepares its process after each build, off the path of the next save)."""
    for lang in sorted({b.lang for ch in book.chapters for b in walk_blocks(ch.blocks) if isinstance(b, m.CodeBlock)}):
        _lexer(lang)
    _formatter()


@functools.lru_cache(maxsize=1)
def _formatter() -> HtmlFormatter:
    """One formatter for every block: building one makes its whole style table (1 ms a code block)."""
    return HtmlFormatter(nowrap=True, classprefix="hl-")


@functools.lru_cache(maxsize=4)
def pygments_css(style: str = "default") -> str:
    """The CSS for highlighted code, for the outputs' stylesheets."""
    return HtmlFormatter(style=style, classprefix="hl-").get_style_defs(".highlight")


def blocks(seq: tuple[m.Block, ...], opts: Options = Options(), _cloze: _Counter | None = None) -> str:
    cloze = _cloze or _Counter()
    return "\n".join(block(b, opts, cloze) for b in seq)


def block(node: m.Block, opts: Options = Options(), cloze: _Counter | None = None) -> str:
    cloze = cloze or _Counter()
    match node:
        case m.Para(children=c):
            return f"<p{_anchor(opts, node.loc)}>{inlines(c, opts, cloze)}</p>"
        case m.BulletList(items=items, ordered=ordered, start=start):
            lis = "\n".join(f"<li{_anchor(opts, i.loc)}>{_item(i.blocks, opts, cloze)}</li>" for i in items)
            if ordered:
                begin = f' start="{start}"' if start != 1 else ""
                return f"<ol{begin}>\n{lis}\n</ol>"
            return f"<ul>\n{lis}\n</ul>"
        case m.DefList(items=items):
            parts = []
            for d in items:
                parts.append(f"<dt{_anchor(opts, d.loc)}>{inlines(d.term, opts, cloze)}</dt>")
                lead = _anchor(opts, d.body[0].loc) if d.body and isinstance(d.body[0], m.Para) else ""
                parts.append(f"<dd{lead}>{_item(d.body, opts, cloze)}</dd>")
            return '<dl class="defs">\n' + "\n".join(parts) + "\n</dl>"
        case m.CodeBlock(code=code, lang=lang):
            return highlight_code(code, lang)
        case m.Quote(blocks=bs):
            return f"<blockquote>\n{blocks(bs, opts, cloze)}\n</blockquote>"
        case m.Details(summary=summary, blocks=bs, prompt=prompt):
            # what the <summary> held besides its words (a list, code) is part of the question: it comes first
            asked = f'<div class="details-prompt">\n{blocks(prompt, opts, cloze)}\n</div>\n' if prompt else ""
            return (
                f'<details class="details"{_anchor(opts, node.loc)}><summary>{inlines(summary, opts, cloze)}</summary>\n'
                f"{asked}{blocks(bs, opts, cloze)}\n</details>"
            )
        case m.Flashcard(front=front, back=back):
            # a card written as one: its question, then its answer (the separators are syntax, never shown)
            return (
                f'<div class="flashcard"{_anchor(opts, node.loc)}>\n<div class="flashcard-front">\n{blocks(front, opts, cloze)}\n</div>\n'
                f'<div class="flashcard-back">\n{blocks(back, opts, cloze)}\n</div>\n</div>'
            )
        case m.Superseded(original=original, since=since, source=source):
            when = escape(since)
            what = f"updated {when}" if since else "corrected"  # a date: the facts changed; none: the notes erred
            if opts.history == "mark":
                short = f"updated {escape(since[:4])}" if since else "corrected"
                return f'<span class="updated" title="{what}">{short}</span>'
            link = f' <a class="correction-source" href="{escape(source)}">source</a>' if source and _safe_url(source) else ""
            return (
                f'<aside class="correction" role="note" aria-label="Correction">'
                f'<p class="correction-title">{what[:1].upper() + what[1:]}{link}</p>\n'
                f'<p class="correction-original"><span class="correction-label">{escape(opts.original_label)}:</span> '
                f"<del>{inlines(original, replace(opts, cloze=False), cloze)}</del></p>\n</aside>"
            )
        case m.Alert(kind=kind, blocks=bs, title=custom, name=name):
            # no title written: the type's name, as Obsidian shows it ("> [!info]" is "Info"), else the family's
            own = escape(name.replace("-", " ").capitalize()) if name and name.lower() != kind else ALERT_TITLES[kind]
            title = inlines(custom, opts, cloze) if custom else own
            label = escape(plain_text(custom)) if custom else own
            named = f" callout-{escape(name)}" if name and name != kind else ""
            return (
                f'<aside class="alert alert-{kind}{named}" role="note" aria-label="{label}">'
                f'<p class="alert-title">{title}</p>\n{blocks(bs, opts, cloze)}\n</aside>'
            )
        case m.Table(head=head, rows=rows):
            def row(cells: tuple[m.Cell, ...], tag: str) -> str:
                out = []
                for c in cells:
                    cls = f' class="align-{c.align}"' if c.align else ""
                    scope = ' scope="col"' if tag == "th" else ""
                    out.append(f"<{tag}{cls}{scope}>{inlines(c.children, opts, cloze)}</{tag}>")
                return "<tr>" + "".join(out) + "</tr>"

            body = "\n".join(row(r, "td") for r in rows)
            wide = ' class="wide"' if max([len(head), *(len(r) for r in rows)]) > WIDE_TABLE else ""
            return f"<table{wide}>\n<thead>{row(head, 'th')}</thead>\n<tbody>\n{body}\n</tbody>\n</table>"
        case m.Rule():
            return "<hr/>"
        case m.RawBlock(html=h):
            return h
        case m.Section(level=level, title=t, anchor=anchor, blocks=bs):
            h = min(6, level + opts.heading_offset)
            ident = f"{opts.id_prefix}{anchor}"
            return (
                f'<section id="{ident}" class="level{level}">\n<h{h}>{inlines(t, opts, cloze)}</h{h}>\n'
                f"{blocks(bs, opts, cloze)}\n</section>"
            )
        case _:
            assert_never(node)


def _item(seq: tuple[m.Block, ...], opts: Options, cloze: _Counter) -> str:
    """List items and definitions: a lone first paragraph is written without <p> (tight)."""
    if seq and isinstance(seq[0], m.Para):
        first = inlines(seq[0].children, opts, cloze)
        rest = blocks(seq[1:], opts, cloze)
        return first + ("\n" + rest if rest else "")
    return blocks(seq, opts, cloze)


def footnote_numbers(chapter: m.Chapter) -> dict[str, int]:
    return {f.key: i for i, f in enumerate(chapter.footnotes, 1)}


def footnotes(chapter: m.Chapter, opts: Options) -> str:
    """The chapter's footnotes as a list with back-links."""
    if not chapter.footnotes:
        return ""
    p = opts.id_prefix
    items = []
    for n, f in enumerate(chapter.footnotes, 1):
        back = f' <a class="fnback" href="#{p}fnref-{n}" role="doc-backlink" title="Back to the text">\u21a9</a>'
        items.append(f'<li id="{p}fn-{n}" role="doc-endnote">{_item(f.blocks, opts, _Counter())}{back}</li>')
    return '<section class="footnotes" role="doc-endnotes">\n<ol>\n' + "\n".join(items) + "\n</ol>\n</section>"


def sanitize(fragment: str) -> str:
    """Keep only the allow-listed tags and attributes, and only safe URL schemes."""
    if not hasattr(nh3, "Cleaner"):  # an nh3 older than its Cleaner: the same rules, built on each call
        return nh3.clean(fragment, **_RULES)
    return _cleaner().clean(fragment)


_ATTRS = {**ATTRS, "img": ATTRS["img"] | {"style"}, **{tag: MATH_ATTRS for tag in MATH_TAGS}}


@functools.cache
def _cleaner() -> "nh3.Cleaner":
    """The sanitizer, its rules built once (each nh3.clean call built them again: 14 times slower)."""
    return nh3.Cleaner(**_RULES)


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    """A style passes only as a formula image's size and baseline."""
    if attr == "style":
        return value if tag == "img" and MATH_STYLE_RE.match(value) else None
    return value


_RULES = dict(tags=TAGS | MATH_TAGS, attributes=_ATTRS, url_schemes=URL_SCHEMES, link_rel=None, strip_comments=True,
              attribute_filter=_attribute_filter)


def to_xhtml(fragment: str) -> str:
    """A sanitized HTML fragment as well-formed XHTML (void elements closed, entities numeric)."""
    from lxml import etree, html as lhtml

    wrapper = lhtml.fragment_fromstring(fragment or "", create_parent="div")
    out = etree.tostring(wrapper, method="xml", encoding="unicode")
    # drop the wrapper <div> that lxml added (an empty one is written "<div/>")
    if out == "<div/>":
        return ""
    return out[len("<div>"): -len("</div>")] if out.startswith("<div>") else out


# ':' and '}' of a "::" or "}}" inside a cloze deletion, held in private-use characters through the sanitizer
COLON_HELD, CLOSE_HELD = "\ue0f1", "\ue0f2"


def _references(fragment: str) -> str:
    if COLON_HELD in fragment or CLOSE_HELD in fragment:
        return fragment.replace(COLON_HELD, "&#58;").replace(CLOSE_HELD, "&#125;")
    return fragment


def render(seq: tuple[m.Block, ...], opts: Options = Options()) -> str:
    """Blocks to a sanitized HTML fragment: what every output embeds."""
    return _references(sanitize(blocks(seq, opts)))


def render_inlines(nodes: tuple[m.Inline, ...], opts: Options = Options()) -> str:
    return _references(sanitize(inlines(nodes, opts)))


def title_text(nodes: tuple[m.Inline, ...]) -> str:
    return plain_text(nodes)
