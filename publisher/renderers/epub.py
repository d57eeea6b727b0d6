"""The EPUB 3 renderer: one XHTML document per chapter, made from :mod:`publisher.markup.html` fragments.

The book has a cover (a PNG drawn as ``templates/epub/cover.svg`` draws it, the package's
``cover-image``; the cover page shows the SVG), a title page, a nav document (nested table of
contents with each chapter's quiz, and landmarks), an NCX for older readers, the chapters (each
ending with "Check yourself": a numbered quiz of its cards, the answers after it, linked both
ways) and a glossary of every defined term, linked from each term's first use and back.
ebooklib writes the package; the zip is then rewritten with fixed
timestamps and a fixed order, so unchanged sources give a byte-identical file.
"""

from __future__ import annotations

import io
import re
import textwrap
import zipfile
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import unquote, urlsplit

from lxml import etree
from markupsafe import Markup

from ..markup import html
from ..core import model as m
from ..markup import templates
from ..core.diagnostics import Diagnostic, diag
from ..core.fsutil import atomic_path
from ..check.imagecheck import prepared, problem as image_problem
from ..core.text import map_blocks, map_inlines
from ..core.model import Loaded
from ..core.text import BLANK, count, plain_text, slugify, squash, unique, walk_blocks
from ..check.validate import ALLOWED_TAGS, resolve_inside
from . import Artifact, RenderOptions

NAME = "epub"
TEMPLATES = "epub"

FOLDER = "EPUB"  # the package's folder inside the zip
STYLESHEET = "style.css"
CODE_STYLE = "xcode"  # Pygments style whose colours all keep >= 5:1 on white
NIGHT_CODE_STYLE = "github-dark"  # the same on a reader's dark page
WCAG = "2.2"
# dcterms:modified when book.toml has no usable date: a fixed instant, never the clock
FALLBACK_MODIFIED = datetime(1980, 1, 1, tzinfo=timezone.utc)

XHTML_NS = "http://www.w3.org/1999/xhtml"
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"
XHTML_MEDIA = "application/xhtml+xml"
NCX_MEDIA = "application/x-dtbncx+xml"
IMAGE_EXT = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp", "image/svg+xml": ".svg"}
LANG_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
RAW_ID_RE = re.compile(r"""[\s/]+id\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+)""", re.I)
NOTE_ID_RE = re.compile(r"^(fnref|fn)-(\d+)$")
RAW_TAG_RE = re.compile(r"^</?\s*([A-Za-z][A-Za-z0-9]*)")
SVG_NS = "http://www.w3.org/2000/svg"
SVG_FORBIDDEN = {"script", "foreignObject", "iframe", "object", "embed", "handler", "listener"}


def output_path(meta: m.Meta, out_dir: Path) -> Path:
    return Path(out_dir) / f"{meta.slug or 'book'}.epub"


# --------------------------------------------------------------------------- small helpers


def modified_time(meta: m.Meta, stamp: int = 0) -> datetime:
    """dcterms:modified, in UTC, never the clock: the card ledger's newest time (``stamp``: when the
    cards last changed), or else the sources' date (``book.toml`` ``date``)."""
    if stamp > 0:
        return max(datetime.fromtimestamp(stamp, timezone.utc), published_time(meta))
    return published_time(meta)


def ledger_time(content_dir: Path) -> int:
    """The card ledger's newest time (0: no ledger, or a damaged one): when the book's cards last changed.
    The build runs the EPUB after the deck, so it reads the ledger as this build leaves it."""
    from ..cards.ledger import LEDGER_NAME, read

    found = read(content_dir / LEDGER_NAME)
    return 0 if found.problems else found.newest


def published_time(meta: m.Meta) -> datetime:
    """The book's date (``book.toml`` ``date``), in UTC; a fixed instant when it has none."""
    text = meta.date.strip()
    if not text:
        return FALLBACK_MODIFIED
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        found = re.fullmatch(r"(\d{4})(?:-(\d{2}))?", text)
        if not found:
            return FALLBACK_MODIFIED
        when = datetime(int(found.group(1)), int(found.group(2) or 1), 1)
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    when = when.astimezone(timezone.utc).replace(microsecond=0)
    return max(when, FALLBACK_MODIFIED)


def language(meta: m.Meta) -> str:
    lang = (meta.language or "en").strip()
    return lang if LANG_RE.match(lang) else "en"


def chapter_href(index: int, chapter: m.Chapter) -> str:
    """A chapter's document: ``01-dynamodb.xhtml`` (the digits keep it apart from the fixed names)."""
    return f"{index:02d}-{chapter.slug}.xhtml"


def card_ids(cards: tuple[m.Card, ...]) -> dict[str, str]:
    """Card identity -> the id its source element gets. ``_`` never occurs in heading slugs."""
    used: set[str] = set()
    return {c.identity: unique("card_" + (slugify(c.identity, limit=80) or "x"), used, sep="_") for c in cards}


def _question_inlines(nodes: tuple[m.Inline, ...], blank: bool) -> tuple[m.Inline, ...]:
    """Inlines fit to stand inside a link: no links, notes, pins or raw HTML; marks as blanks."""
    out: list[m.Inline] = []
    for node in nodes:
        match node:
            case m.Mark(children=c):
                out.append(m.Text(BLANK, node.loc) if blank else replace(node, children=_question_inlines(c, blank)))
            case m.Emph(children=c) | m.Strong(children=c) | m.Strike(children=c):
                out.append(replace(node, children=_question_inlines(c, blank)))
            case m.Link(children=c):
                out.extend(_question_inlines(c, blank))
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


def _without_notes(blocks: tuple[m.Block, ...]) -> tuple[m.Block, ...]:
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


def _clean_inlines(nodes: tuple[m.Inline, ...]) -> tuple[m.Inline, ...]:
    """Raw inline HTML without ``id`` attributes: only the renderer names elements."""
    out: list[m.Inline] = []
    for node in nodes:
        if isinstance(node, m.RawInline):
            node = replace(node, html=RAW_ID_RE.sub("", node.html))
        elif isinstance(node, (m.Emph, m.Strong, m.Strike, m.Mark, m.Link)):
            node = replace(node, children=_clean_inlines(node.children))
        out.append(node)
    return tuple(out)


def _clean_blocks(blocks: tuple[m.Block, ...]) -> tuple[m.Block, ...]:
    """Blocks whose raw HTML has no ``id``s, so none can clash with a heading, note or card anchor."""

    def raw(seq: tuple[m.Block, ...]) -> tuple[m.Block, ...]:
        return tuple(replace(b, html=RAW_ID_RE.sub("", b.html)) if isinstance(b, m.RawBlock) else b for b in seq)

    return map_inlines(map_blocks(blocks, raw), _clean_inlines)


def _clean_chapter(chapter: m.Chapter) -> m.Chapter:
    return replace(
        chapter,
        title=_clean_inlines(chapter.title),
        blocks=_clean_blocks(chapter.blocks),
        footnotes=tuple(replace(f, blocks=_clean_blocks(f.blocks)) for f in chapter.footnotes),
    )


def _fragment(fragment: str) -> Markup:
    """A sanitized HTML fragment as XHTML, ready for a template."""
    return Markup(html.to_xhtml(fragment))


def _safe_svg(data: bytes) -> bool:
    """An SVG image a reading system may show: well-formed, no script, no event handlers, no external refs."""
    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False))
    except etree.XMLSyntaxError:
        return False
    if root.tag != f"{{{SVG_NS}}}svg":
        return False
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        if etree.QName(el).localname in SVG_FORBIDDEN:
            return False
        for name, value in el.attrib.items():
            local = etree.QName(name).localname.lower()
            if local.startswith("on"):
                return False
            if local == "href" and not value.strip().startswith("#"):
                return False
            if "url(" in value and not re.search(r"url\(\s*['\"]?#", value):
                return False
    return True


def sniff_image(data: bytes) -> str | None:
    """The media type of an image from its bytes (not its name); None when EPUB cannot carry it."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if b"<svg" in data[:4096] and _safe_svg(data):
        return "image/svg+xml"
    return None


# --------------------------------------------------------------------------- resources and links


@dataclass
class _Image:
    href: str
    media_type: str
    data: bytes
    alt: bool  # every use has a non-empty alt text


class _Images:
    """Content images copied into the package; only files that resolve inside the content folder."""

    def __init__(self, content_dir: Path) -> None:
        self.root = Path(content_dir)
        self.by_path: dict[Path, _Image] = {}
        self.refused: dict[str, str] = {}

    def src(self, url: str) -> str | None:
        if urlsplit(url.strip()).scheme or url.strip().startswith("//"):
            self.refused.setdefault(url, "remote image")
            return None
        target, why = resolve_inside(self.root, url)
        if target is None:
            self.refused.setdefault(url, why)
            return None
        if target in self.by_path:
            return self.by_path[target].href
        if image_problem(target) is not None:
            self.refused.setdefault(url, "cannot be shown (P127)")  # validation reported it
            return None
        try:
            data = prepared(target)  # at most 1600 px on its longest side, the original untouched
        except OSError:
            self.refused.setdefault(url, "missing image")
            return None
        media = sniff_image(data)
        if media is None:
            self.refused.setdefault(url, "not a PNG, JPEG, GIF, WebP or safe SVG image")
            return None
        href = f"images/img{len(self.by_path) + 1:03d}-{slugify(target.stem, limit=40) or 'image'}{IMAGE_EXT[media]}"
        self.by_path[target] = _Image(href, media, data, True)
        return href


class _Anchors:
    """The ``html.Options.anchor_for`` hook: each card's id goes on the first element written from its line."""

    def __init__(self, pending: dict[m.Loc, list[str]]) -> None:
        self.pending = {loc: list(ids) for loc, ids in pending.items()}

    def __call__(self, loc: m.Loc) -> str | None:
        waiting = self.pending.get(loc)
        return waiting.pop(0) if waiting else None


@dataclass
class _Plan:
    """What every document needs to know about the others."""

    book: m.Book
    files: dict[str, str]  # chapter slug -> document href
    anchors: dict[str, set[str]]  # chapter slug -> ids a link may target
    images: _Images
    ids: dict[str, str]  # card identity -> element id

    def link_href(self, url: str) -> str | None:
        """Web and mail links stay links; other local files are not in the book (shown as text)."""
        parts = urlsplit(url.strip())
        return url.strip() if parts.scheme.lower() in ("http", "https", "mailto") else None

    def target_href(self, target: str) -> str | None:
        """A link into the book (``slug`` or ``slug#anchor``, resolved by normalization)."""
        slug, _, anchor = target.partition("#")
        if slug not in self.files:
            return None
        return f"{self.files[slug]}#{anchor}" if anchor and anchor in self.anchors[slug] else self.files[slug]

    def options(self, chapter: m.Chapter, anchors: _Anchors | None = None, notes: bool = True) -> html.Options:
        return html.Options(
            math="mathml",
            typography=True,
            original_label=html.original_label(self.book.meta.date),
            image_src=self.images.src,
            link_href=self.link_href,
            target_href=self.target_href,
            footnote_numbers=html.footnote_numbers(chapter) if notes else {},
            anchor_for=anchors,
        )


def _sections(blocks: tuple[m.Block, ...]) -> Iterator[m.Section]:
    for b in walk_blocks(blocks):
        if isinstance(b, m.Section):
            yield b


def _plan(loaded: Loaded, content_dir: Path) -> _Plan:
    book = loaded.book
    files = {ch.slug: chapter_href(i, ch) for i, ch in enumerate(book.chapters, 1)}
    anchors = {ch.slug: {s.anchor for s in _sections(ch.blocks)} | {ch.slug} for ch in book.chapters}
    return _Plan(book, files, anchors, _Images(content_dir), card_ids(loaded.cards))


def _enclosing_sections(chapter: m.Chapter) -> dict[m.Loc, str]:
    """The anchor of the innermost section around each source line (a fallback link target)."""
    out: dict[m.Loc, str] = {}

    def visit(blocks: tuple[m.Block, ...], anchor: str | None) -> None:
        for b in blocks:
            if isinstance(b, m.Section):
                out[b.loc] = b.anchor
                visit(b.blocks, b.anchor)
                continue
            for inner in walk_blocks((b,)):
                if anchor is not None:
                    out.setdefault(inner.loc, anchor)
                if isinstance(inner, m.BulletList):
                    for item in inner.items:
                        if anchor is not None:
                            out.setdefault(item.loc, anchor)
                elif isinstance(inner, m.DefList):
                    for d in inner.items:
                        if anchor is not None:
                            out.setdefault(d.loc, anchor)

    visit(chapter.blocks, None)
    return out


# --------------------------------------------------------------------------- documents


@dataclass
class _Doc:
    id: str
    href: str
    root: Any  # the parsed XHTML (lxml), serialized once every document is known
    properties: list[str] = field(default_factory=list)


MATHML_NS = "http://www.w3.org/1998/Math/MathML"


def parse_xhtml(text: str) -> Any:
    """Parse a rendered document (it must be well-formed), add EPUB semantics, make ids unique."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True, remove_pis=True)
    root = etree.fromstring(text.encode("utf-8"), parser)
    for el in root.iter(f"{{{XHTML_NS}}}*"):
        role = el.get("role")
        if role in ("doc-noteref", "doc-endnote", "doc-backlink"):
            # html.py's fn-N / fnref-N could equal a heading's slug ("## Fn 1"): "_" never occurs in one
            for attr in ("id", "href"):
                value = el.get(attr)
                if value is not None:
                    hash_ = "#" if value.startswith("#") else ""
                    found = NOTE_ID_RE.match(value.lstrip("#"))
                    if found:
                        el.set(attr, f"{hash_}{'noteref' if found.group(1) == 'fnref' else 'note'}_{found.group(2)}")
        if role == "doc-noteref":
            el.set(EPUB_TYPE, "noteref")
        elif role == "doc-endnotes":
            el.set(EPUB_TYPE, "endnotes")
        elif role == "doc-endnote":
            # DPUB-ARIA 1.1 deprecates the doc-endnote role: the list item in doc-endnotes says it
            del el.attrib["role"]
            el.set(EPUB_TYPE, "endnote")
    seen: set[str] = set()
    for el in root.iter():
        ident = el.get("id") if isinstance(el.tag, str) else None
        if ident is None:
            continue
        if ident in seen:  # e.g. a footnote cited twice: the back-link keeps the first
            el.set("id", unique(ident, seen, sep="_"))
        else:
            seen.add(ident)
    return root


def _ids_of(root: Any) -> set[str]:
    return {el.get("id") for el in root.iter() if isinstance(el.tag, str) and el.get("id")}


def _tie_up(docs: list[_Doc], resources: set[str]) -> None:
    """Every internal link resolves and every image is in the package, whatever raw HTML got through.

    A link to a file that is not in the book loses its href; one to a missing id keeps only its file;
    an image that is not a packaged resource is replaced by its alt text.
    """
    ids = {d.href: _ids_of(d.root) for d in docs}
    for d in docs:
        for a in list(d.root.iter(f"{{{XHTML_NS}}}a")):
            href = a.get("href")
            if href is None:
                continue
            parts = urlsplit(href)
            if parts.scheme or parts.netloc:
                continue
            path = unquote(parts.path) or d.href
            frag = unquote(parts.fragment)
            if path not in ids:
                del a.attrib["href"]
            elif frag and frag not in ids[path]:
                a.set("href", path)
        for img in list(d.root.iter(f"{{{XHTML_NS}}}img")):
            if img.get("src") in resources and img.get("alt") is not None:
                continue
            span = etree.Element(f"{{{XHTML_NS}}}span", {"class": "image-missing"})
            span.text = f"[{img.get('alt') or 'image'}]"
            span.tail = img.tail
            img.getparent().replace(img, span)


def serialize(root: Any) -> bytes:
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8") + b"\n"


def _ids_in(fragment: str) -> set[str]:
    if not fragment.strip():
        return set()
    root = etree.fromstring(f"<div>{fragment}</div>".encode("utf-8"), etree.XMLParser(resolve_entities=False))
    return {el.get("id") for el in root.iter() if isinstance(el.tag, str) and el.get("id")}


@dataclass(frozen=True)
class Check:
    kind: str
    target: str
    question: Markup
    identity: str
    context: str = ""  # where in the chapter the card stands (sections, parent item), as Anki shows it
    number: int = 0  # its number in the chapter's quiz
    answer: Markup = Markup("")  # shown at the end of the chapter, linked both ways


def _flat(blocks: tuple[m.Block, ...]) -> tuple[m.Block, ...]:
    """Sections as a bold line and their blocks: an answer holds no headings (or their ids)."""
    out: list[m.Block] = []
    for b in blocks:
        if isinstance(b, m.Section):
            out.append(m.Para((m.Strong(b.title, b.loc),), b.loc))
            out.extend(_flat(b.blocks))
        else:
            out.append(b)
    return tuple(out)


def _answer(card: m.Card, opts: html.Options) -> Markup:
    """A card's answer as the quiz shows it: a cloze's sentence with its hidden words marked (and its
    extra), a definition's body, a question's section."""
    blocks = card.front + card.back if card.kind == "cloze" else card.back
    blocks = _flat(_clean_blocks(_without_notes(blocks)))
    return _fragment(html.render(blocks, opts)) if blocks else Markup("")


def _question(card: m.Card, opts: html.Options) -> Markup:
    first = card.front[0] if card.front and isinstance(card.front[0], m.Para) else None
    inl = _clean_inlines(first.children) if first else ()
    if card.kind == "definition":
        nodes = _question_inlines(inl, blank=False)
        term = _fragment(html.render_inlines(nodes, opts))
        if plain_text(nodes).rstrip().endswith("?"):
            return term
        return term + Markup(" \u2013 \u2026")  # "Term – …": say what follows, as on the sheet
    return _fragment(html.render_inlines(_question_inlines(inl, blank=card.kind == "cloze"), opts))


def _chapter(plan: _Plan, index: int, chapter: m.Chapter, cards: list[m.Card], env: Any, lang: str) -> tuple[_Doc, list[Check]]:
    chapter = _clean_chapter(chapter)
    pending: dict[m.Loc, list[str]] = {}
    for card in cards:
        if card.kind != "question":
            pending.setdefault(card.loc, []).append(plan.ids[card.identity])
    opts = plan.options(chapter, _Anchors(pending))
    plain_opts = plan.options(chapter)
    body = html.to_xhtml(html.render(chapter.blocks, opts))
    notes = html.to_xhtml(html.sanitize(html.footnotes(chapter, plain_opts)))
    title = squash(plain_text(chapter.title)) or chapter.slug
    heading = _fragment(html.render_inlines(_question_inlines(chapter.title, blank=False), plain_opts)) or title
    placed = _ids_in(body)
    sections = {s.loc: s.anchor for s in _sections(chapter.blocks)}
    around = _enclosing_sections(chapter)
    anchor = chapter.slug if chapter.slug not in sections.values() else None
    top = anchor or "chapter_title"
    checks = []
    for number, card in enumerate(cards, 1):
        if card.kind == "question":
            target = sections.get(card.loc) or around.get(card.loc) or top
        else:
            own = plan.ids[card.identity]
            target = own if own in placed else (around.get(card.loc) or top)
        checks.append(Check(card.kind, target, _question(card, plain_opts), card.identity,
                            " \u203a ".join(card.context[1:]).rstrip(":"), number, _answer(card, plain_opts)))
    text = env.get_template(f"{TEMPLATES}/chapter.xhtml").render(
        lang=lang, title=title, heading=heading, anchor=anchor, stylesheet=STYLESHEET,
        body=Markup(body), footnotes=Markup(notes), checks=checks,
    )
    return _Doc(f"ch{index:02d}", plan.files[chapter.slug], parse_xhtml(text)), checks


@dataclass(frozen=True)
class GlossaryEntry:
    id: str
    term: Markup
    href: str
    body: Markup
    chapter: str
    sort_key: tuple[str, int, int]
    words: str = ""  # the term as plain text
    first_use: str = ""  # where the book first uses it, linked to this entry (``file#id``)


def _glossary_entries(plan: _Plan, cards: tuple[m.Card, ...], checks: dict[str, Check]) -> list[GlossaryEntry]:
    order = {ch.slug: i for i, ch in enumerate(plan.book.chapters)}
    chapters = {ch.slug: ch for ch in plan.book.chapters}
    used: set[str] = set()
    out = []
    for n, card in enumerate(cards):
        if card.kind != "definition" or card.chapter not in chapters:
            continue
        chapter = chapters[card.chapter]
        opts = plan.options(chapter, notes=False)
        first = card.front[0] if card.front and isinstance(card.front[0], m.Para) else None
        term_nodes = _question_inlines(_clean_inlines(first.children) if first else (), blank=False)
        words = squash(plain_text(term_nodes)) or card.identity
        check = checks.get(card.identity)
        target = check.target if check else ""
        href = plan.files[card.chapter] + (f"#{target}" if target else "")
        body = html.to_xhtml(html.render(_clean_blocks(_without_notes(card.back)), opts)) if card.back else ""
        out.append(GlossaryEntry(
            id=unique("gloss_" + (slugify(words, limit=60) or "term"), used, sep="_"),
            term=_fragment(html.render_inlines(term_nodes, opts)) or Markup.escape(words),
            href=href,
            body=Markup(body),
            chapter=squash(plain_text(chapter.title)) or chapter.slug,
            sort_key=(words.casefold(), order[card.chapter], n),
            words=words,
        ))
    return sorted(out, key=lambda e: e.sort_key)


# where a term is not linked to the glossary: links, code, headings, formulas, note numbers, the quiz
_NO_GLOSS_LINK = {f"{{{XHTML_NS}}}{t}" for t in ("a", "code", "pre", "kbd", "h1", "h2", "h3", "h4", "h5", "h6",
                                                   "sup", "sub", "script", "style", "nav")} | {f"{{{MATHML_NS}}}math"}


def _link_first_uses(docs: list[_Doc], entries: list[GlossaryEntry]) -> list[GlossaryEntry]:
    """Link the first use of each glossary term in the chapters (in reading order) to its entry; the
    entries, each with where that first use is (for the link back)."""
    terms: dict[str, GlossaryEntry] = {}
    for e in entries:
        key = e.words.casefold()
        if 2 <= len(key) <= 60 and not key.endswith("?") and key not in terms:
            terms[key] = e
    if not terms:
        return entries
    words = sorted(terms, key=lambda k: (-len(k), k))  # the longest term wins where two overlap
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)", re.IGNORECASE)
    found: dict[str, str] = {}

    def skip(el: Any) -> bool:
        while el is not None:
            if el.tag in _NO_GLOSS_LINK or el.get("id") == "check_yourself":
                return True
            el = el.getparent()
        return False

    def link(text: str, doc: _Doc) -> tuple[str, list[Any]]:
        """``text`` up to its first new term, and the elements (each a link with its tail) after it."""
        out: list[Any] = []
        head, at = None, 0
        for mt in pattern.finditer(text):
            key = mt.group(0).casefold()
            if key in found or key not in terms:
                continue
            a = etree.Element(f"{{{XHTML_NS}}}a", {"href": f"glossary.xhtml#{terms[key].id}",
                                                   "id": f"{terms[key].id}_use", "class": "glossref", "role": "doc-glossref",
                                                   EPUB_TYPE: "glossref"})
            a.text = mt.group(0)
            found[key] = f"{doc.href}#{terms[key].id}_use"
            if out:
                out[-1].tail = text[at:mt.start()]
            else:
                head = text[:mt.start()]
            out.append(a)
            at = mt.end()
        if out:
            out[-1].tail = text[at:]
        return (text if head is None else head), out

    for doc in docs:
        for el in list(doc.root.iter(f"{{{XHTML_NS}}}*")):
            if len(found) == len(terms):
                break
            if skip(el):
                continue
            if el.text:
                el.text, made = link(el.text, doc)
                for n, a in enumerate(made):
                    el.insert(n, a)
            for child in list(el):
                if child.tail and child.get("class") != "glossref":
                    child.tail, made = link(child.tail, doc)
                    at = el.index(child)
                    for n, a in enumerate(made, 1):
                        el.insert(at + n, a)
    return [replace(e, first_use=found.get(e.words.casefold(), "")) if terms.get(e.words.casefold()) is e else e
            for e in entries]


def _toc_tree(plan: _Plan, glossary: bool, quizzes: set[str] = frozenset()) -> list[dict[str, Any]]:
    """The contents: parts, chapters, their sections and (``quizzes``: chapter slugs) their quiz."""
    def sections(blocks: tuple[m.Block, ...], href: str) -> list[dict[str, Any]]:
        out = []
        for b in blocks:
            if isinstance(b, m.Section):
                label = squash(plain_text(b.title)) or b.anchor
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
            entry = {"href": href, "label": squash(plain_text(part.title)) or part.slug, "children": []}
            (open_parts[-1][1]["children"] if open_parts else tree).append(entry)
            open_parts.append((part, entry))
            made = entry
        quiz = [{"href": f"{href}#check_yourself", "label": "Check yourself", "children": []}] if ch.slug in quizzes else []
        if ch.intro and made is not None and chain and chain[-1].path == ch.part:
            made["children"].extend(sections(ch.blocks, href) + quiz)
            continue
        entry = {"href": href, "label": squash(plain_text(ch.title)) or ch.slug,
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


def _depth(tree: list[dict[str, Any]]) -> int:
    return max((1 + _depth(e["children"]) for e in tree), default=0)


def _cover_layout(meta: m.Meta) -> dict[str, Any]:
    """Where the cover's lines go (a 1200 x 1800 page): the SVG template and the PNG share it."""
    # about 0.6 em a character: a line of 15 at 96 units fits the 1040-unit frame
    title_lines = textwrap.wrap(meta.title, width=15) or [meta.title or " "]
    size = 96
    if len(title_lines) > 4:
        title_lines = textwrap.wrap(meta.title, width=22)[:7]
        size = 72
    step = int(size * 1.2)
    top = 700 - (len(title_lines) - 1) * step // 2
    return dict(title_lines=title_lines, title_size=size, title_step=step, title_top=top,
                subtitle_lines=textwrap.wrap(meta.subtitle, width=30)[:3],
                subtitle_top=top + len(title_lines) * step + 60,
                author_lines=textwrap.wrap(meta.author, width=30)[:2])


def _cover_svg(env: Any, meta: m.Meta, alt: str) -> bytes:
    text = env.get_template(f"{TEMPLATES}/cover.svg").render(alt=alt, **_cover_layout(meta))
    root = etree.fromstring(text.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8") + b"\n"


COVER_COLOURS = {"page": "#16324f", "frame": "#f2c14e", "text": "#ffffff", "subtitle": "#f2c14e"}  # as cover.svg


def _cover_png(meta: m.Meta, content_dir: Path) -> bytes:
    """The cover as a PNG (the package's one ``cover-image``: every reading system and store shows a
    raster cover), drawn as cover.svg draws it, with the bundled Noto Sans."""
    from PIL import Image, ImageDraw, ImageFont

    layout = _cover_layout(meta)
    bold = str(templates.find("fonts/NotoSans-Bold.ttf", content_dir))
    regular = str(templates.find("fonts/NotoSans-Regular.ttf", content_dir))
    im = Image.new("RGB", (1200, 1800), COVER_COLOURS["page"])
    draw = ImageDraw.Draw(im)
    draw.rectangle((77, 77, 1122, 1722), outline=COVER_COLOURS["frame"], width=6)
    font = ImageFont.truetype(bold, layout["title_size"])
    for n, line in enumerate(layout["title_lines"]):
        draw.text((600, layout["title_top"] + n * layout["title_step"]), line, font=font,
                  fill=COVER_COLOURS["text"], anchor="ms")
    font = ImageFont.truetype(regular, 56)
    for n, line in enumerate(layout["subtitle_lines"]):
        draw.text((600, layout["subtitle_top"] + n * 70), line, font=font, fill=COVER_COLOURS["subtitle"], anchor="ms")
    font = ImageFont.truetype(regular, 60)
    for n, line in enumerate(layout["author_lines"]):
        draw.text((600, 1560 + n * 70), line, font=font, fill=COVER_COLOURS["text"], anchor="ms")
    out = io.BytesIO()
    im.save(out, "PNG", optimize=True)
    return out.getvalue()


def _xml(text: str) -> bytes:
    """A rendered XML file (the NCX), checked well-formed."""
    root = etree.fromstring(text.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8") + b"\n"


# --------------------------------------------------------------------------- the package


def _package(meta: m.Meta, lang: str, modified: datetime, docs: list[_Doc], spine: list[str], ncx: bytes,
             css: bytes, cover: bytes, images: list[_Image], summary: str, cover_png: bytes) -> bytes:
    from ebooklib import epub

    book = epub.EpubBook()
    book.FOLDER_NAME = FOLDER
    # ebooklib's generator meta names its version: leave it out so the bytes do not depend on it
    book.metadata.get(epub.NAMESPACES["OPF"], {}).pop("generator", None)
    book.set_identifier(meta.ids.epub)
    book.set_title(meta.title)
    book.set_language(lang)
    if meta.author:
        book.add_author(meta.author)
    if meta.subtitle:
        book.add_metadata("DC", "description", meta.subtitle)
    if meta.source:
        book.add_metadata("DC", "source", meta.source)
    if meta.license:
        book.add_metadata("DC", "rights", meta.license)
    published = published_time(meta)
    if meta.date and published != FALLBACK_MODIFIED:
        book.add_metadata("DC", "date", published.date().isoformat())

    def prop(name: str, value: str) -> None:
        book.add_metadata(None, "meta", value, {"property": name})

    alt_everywhere = all(i.alt for i in images)
    prop("schema:accessMode", "textual")
    if images:
        prop("schema:accessMode", "visual")
    if alt_everywhere:
        prop("schema:accessModeSufficient", "textual")
    if images:
        prop("schema:accessModeSufficient", "textual,visual")
    for feature in ("tableOfContents", "readingOrder", "structuralNavigation"):
        prop("schema:accessibilityFeature", feature)
    if images and alt_everywhere:
        prop("schema:accessibilityFeature", "alternativeText")
    prop("schema:accessibilityHazard", "none")
    prop("schema:accessibilitySummary", summary)
    # no conformance claim and no certification: automated checks (EPUBCheck, Ace) cannot establish either;
    # the summary says which checks it passes
    book.add_metadata(None, "meta", "", {"name": "cover", "content": "cover-image"})  # EPUB 2 readers

    def item(uid: str, href: str, media: str, data: bytes, properties: list[str] | None = None) -> Any:
        it = epub.EpubItem(uid=uid, file_name=href, media_type=media, content=data)
        if properties:
            it.properties = list(properties)
        book.add_item(it)
        return it

    item("style", STYLESHEET, "text/css", css)
    # the one cover-image: a PNG (EPUBCheck allows one); the cover page shows the SVG
    item("cover-image", "cover.png", "image/png", cover_png, ["cover-image"])
    item("cover-svg", "cover.svg", "image/svg+xml", cover)
    for n, img in enumerate(images, 1):
        item(f"image{n:03d}", img.href, img.media_type, img.data)
    for d in docs:  # EPUB 3 wants each document that holds MathML to say so (EPUBCheck: OPF-014)
        if "mathml" not in d.properties and next(d.root.iter(f"{{{MATHML_NS}}}math"), None) is not None:
            d.properties.append("mathml")
    by_id = {d.id: item(d.id, d.href, XHTML_MEDIA, serialize(d.root), d.properties) for d in docs}
    item("ncx", "toc.ncx", NCX_MEDIA, ncx)
    book.spine = [by_id[i] for i in spine]

    raw = io.BytesIO()
    options = {"epub2_guide": False, "epub3_landmark": False, "epub3_pages": False, "mtime": modified,
               "raise_exceptions": True, "compresslevel": 9}
    if epub.write_epub(raw, book, options) is False:
        raise OSError("ebooklib could not write the EPUB")
    return normalize_zip(raw.getvalue(), modified, lang)


def _package_lang(opf: bytes, lang: str) -> bytes:
    """ebooklib leaves ``xml:lang`` off ``<package>``; Ace wants the package's language there."""
    root = etree.fromstring(opf, etree.XMLParser(resolve_entities=False, no_network=True))
    root.set("{http://www.w3.org/XML/1998/namespace}lang", lang)
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8") + b"\n"


def normalize_zip(data: bytes, when: datetime, lang: str | None = None) -> bytes:
    """The same files with fixed timestamps and order: ``mimetype`` first and stored."""
    stamp = max(when, FALLBACK_MODIFIED).timetuple()[:6]
    stamp = stamp[:5] + (stamp[5] - stamp[5] % 2,)  # a zip entry's time counts seconds in twos
    src = zipfile.ZipFile(io.BytesIO(data))
    names = src.namelist()
    first = ["mimetype", "META-INF/container.xml", f"{FOLDER}/content.opf"]
    order = [n for n in first if n in names] + [n for n in names if n not in first]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name in order:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            payload = src.read(name)
            if lang and name == f"{FOLDER}/content.opf":
                payload = _package_lang(payload, lang)
            if name == "mimetype":
                info.compress_type = zipfile.ZIP_STORED
                z.writestr(info, payload)
            else:
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, payload, compresslevel=9)
    return out.getvalue()


# --------------------------------------------------------------------------- render


def build(loaded: Loaded, content_dir: Path) -> tuple[bytes, str, list[Diagnostic]]:
    """The EPUB's bytes, its summary and the renderer's diagnostics (nothing is written)."""
    book = loaded.book
    meta = book.meta
    env = templates.environment(content_dir)
    lang = language(meta)
    modified = modified_time(meta, ledger_time(Path(content_dir)))
    plan = _plan(loaded, Path(content_dir))

    docs: list[_Doc] = []
    all_checks: dict[str, Check] = {}
    questions = 0
    for i, ch in enumerate(book.chapters, 1):
        doc, checks = _chapter(plan, i, ch, [c for c in loaded.cards if c.chapter == ch.slug], env, lang)
        docs.append(doc)
        questions += len(checks)
        for c in checks:
            all_checks.setdefault(c.identity, c)

    entries = _link_first_uses(docs, _glossary_entries(plan, loaded.cards, all_checks))
    if entries:
        text = env.get_template(f"{TEMPLATES}/glossary.xhtml").render(lang=lang, stylesheet=STYLESHEET, entries=entries)
        docs.append(_Doc("glossary", "glossary.xhtml", parse_xhtml(text)))

    images = [plan.images.by_path[p] for p in plan.images.by_path]
    # an image whose alt text is empty anywhere makes "alternativeText" false
    empty_alt = {
        n.url for ch in book.chapters for n in _all_inlines(ch) if isinstance(n, m.Image) and not n.alt.strip()
    }
    for url in empty_alt:
        target, _ = resolve_inside(Path(content_dir), url)
        if target in plan.images.by_path:
            plan.images.by_path[target].alt = False

    source_href = meta.source if urlsplit(meta.source).scheme in ("http", "https") else ""
    front = [
        _Doc("cover", "cover.xhtml", parse_xhtml(env.get_template(f"{TEMPLATES}/cover.xhtml").render(
            lang=lang, stylesheet=STYLESHEET, image="cover.svg", alt=_cover_alt(meta)))),
        _Doc("titlepage", "title.xhtml", parse_xhtml(env.get_template(f"{TEMPLATES}/title.xhtml").render(
            lang=lang, stylesheet=STYLESHEET, meta=meta, source_href=source_href, chapters=len(book.chapters),
            questions=questions, glossary=len(entries)))),
    ]
    tree = _toc_tree(plan, bool(entries), {c.chapter for c in loaded.cards})
    landmarks = [
        {"type": "cover", "href": "cover.xhtml", "label": "Cover"},
        {"type": "titlepage", "href": "title.xhtml", "label": "Title page"},
        {"type": "toc", "href": "nav.xhtml#toc", "label": "Contents"},
    ]
    if book.chapters:
        landmarks.append({"type": "bodymatter", "href": plan.files[book.chapters[0].slug], "label": "Start of the text"})
    if entries:
        landmarks.append({"type": "glossary", "href": "glossary.xhtml", "label": "Glossary"})
    nav = _Doc("nav", "nav.xhtml", parse_xhtml(env.get_template(f"{TEMPLATES}/nav.xhtml").render(
        lang=lang, stylesheet=STYLESHEET, toc=tree, landmarks=landmarks)), ["nav"])
    ncx = _xml(env.get_template(f"{TEMPLATES}/toc.ncx").render(
        lang=lang, uid=meta.ids.epub, depth=max(1, _depth(tree)), title=meta.title, author=meta.author, toc=tree))

    night = "\n".join(f"  {line}" for line in html.pygments_css(NIGHT_CODE_STYLE).splitlines())
    css = (templates.read_text(f"{TEMPLATES}/{STYLESHEET}", content_dir).rstrip("\n") + "\n\n"
           + html.pygments_css(CODE_STYLE) + "\n@media (prefers-color-scheme: dark) {\n" + night + "\n}\n").encode("utf-8")
    has_code = any(isinstance(b, m.CodeBlock) for ch in book.chapters for b in walk_blocks(ch.blocks))
    summary = squash(env.get_template(f"{TEMPLATES}/accessibility-summary.txt").render(
        wcag=WCAG, glossary=bool(entries), images=bool(images), code=has_code))
    all_docs = front + [nav] + docs
    _tie_up(all_docs, {"cover.svg", "cover.png"} | {i.href for i in images})
    spine = [d.id for d in all_docs]
    data = _package(meta, lang, modified, all_docs, spine, ncx, css, _cover_svg(env, meta, _cover_alt(meta)),
                    images, summary, _cover_png(meta, Path(content_dir)))

    # missing, remote and outside images are validation's to report (P111, P126, P112); what only
    # the renderer sees is a file that is not an image it may carry
    diags = [_refused(book, url, why) for url, why in sorted(plan.images.refused.items()) if why.startswith("not a")]
    return data, f"{count(len(book.chapters), 'chapter')}, {count(questions, 'question')}, {count(len(entries), 'glossary term')}", diags


def _cover_alt(meta: m.Meta) -> str:
    return f"Cover: {meta.title}" + (f", by {meta.author}" if meta.author else "")


def _all_inlines(chapter: m.Chapter) -> Iterator[m.Inline]:
    from ..core.text import block_inlines, walk_inlines

    for block in walk_blocks(chapter.blocks + tuple(b for f in chapter.footnotes for b in f.blocks)):
        for run in block_inlines(block):
            yield from walk_inlines(run)


def _refused(book: m.Book, url: str, why: str) -> Diagnostic:
    for ch in book.chapters:
        for node in _all_inlines(ch):
            if isinstance(node, m.Image) and node.url == url:
                code = "P111" if why == "missing image" else "P112" if "leaves" in why or "absolute" in why else "P113"
                return diag(code, node.loc.file, node.loc.line, f"'{url}' left out of the EPUB: {why}")
    return diag("P113", book.root, 0, f"'{url}' left out of the EPUB: {why}")


def render(loaded: Loaded, out_dir: Path, content_dir: Path, options: RenderOptions = RenderOptions()) -> Artifact:
    data, summary, diags = build(loaded, Path(content_dir))
    dest = output_path(loaded.book.meta, Path(out_dir))
    with atomic_path(dest) as tmp:
        tmp.write_bytes(data)
    return Artifact(dest, summary, tuple(diags))
