"""The XHTML documents of the book: their namespaces, parsing with EPUB semantics and unique ids, the
links and images tied up across documents, serializing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from lxml import etree

from ...core.text import (
    unique,
)

TEMPLATES = "epub"


FOLDER = "EPUB"  # the package's folder inside the zip


STYLESHEET = "style.css"


XHTML_NS = "http://www.w3.org/1999/xhtml"


EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"


XHTML_MEDIA = "application/xhtml+xml"


NCX_MEDIA = "application/x-dtbncx+xml"


NOTE_ID_RE = re.compile(r"^(fnref|fn)-(\d+)$")


MATHML_NS = "http://www.w3.org/1998/Math/MathML"


@dataclass
class Doc:
    id: str
    href: str
    root: Any  # the parsed XHTML (lxml), serialized once every document is known
    properties: list[str] = field(default_factory=list)


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


def ids_of(root: Any) -> set[str]:
    return {el.get("id") for el in root.iter() if isinstance(el.tag, str) and el.get("id")}


def tie_up(docs: list[Doc], resources: set[str]) -> None:
    """Every internal link resolves and every image is in the package, whatever raw HTML got through.

    A link to a file that is not in the book loses its href; one to a missing id keeps only its file;
    an image that is not a packaged resource is replaced by its alt text.
    """
    ids = {d.href: ids_of(d.root) for d in docs}
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


# elements whose text stands apart from what is around it (a word never runs on across them)
BLOCK_TAGS = frozenset({"p", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "div", "section",
                        "aside", "table", "tr", "td", "th", "pre", "blockquote", "details", "summary", "br", "hr",
                        "figure", "figcaption", "nav", "header", "footer", "math"})


def shown_text(root: Any, skip: frozenset[str] = frozenset({"check_yourself"})) -> str:
    """The text a reader sees in a document (image alt texts and formulas' TeX included), blocks apart;
    the elements whose id is in ``skip`` (the quiz, which repeats the chapter) left out."""
    parts: list[str] = []

    def visit(el: Any) -> None:
        if not isinstance(el.tag, str):
            if el.tail:
                parts.append(el.tail)
            return
        if el.get("id") in skip or el.get("role") == "doc-noteref":  # (a note's number: no word of the text)
            parts.append(" " + (el.tail or ""))
            return
        block = etree.QName(el).localname in BLOCK_TAGS
        for attr in ("alt", "alttext"):
            if el.get(attr):
                parts.append(" " + el.get(attr) + " ")
        parts.append(" " if block else "")
        if el.text:
            parts.append(el.text)
        for child in el:
            visit(child)
        parts.append(" " if block else "")
        if el.tail:
            parts.append(el.tail)

    body = next(root.iter(f"{{{XHTML_NS}}}body"), root)
    visit(body)
    return "".join(parts)


def serialize(root: Any) -> bytes:
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8") + b"\n"


def ids_in(fragment: str) -> set[str]:
    if not fragment.strip():
        return set()
    root = etree.fromstring(f"<div>{fragment}</div>".encode("utf-8"), etree.XMLParser(resolve_entities=False))
    return {el.get("id") for el in root.iter() if isinstance(el.tag, str) and el.get("id")}


def xml_file(text: str) -> bytes:
    """A rendered XML file (the NCX), checked well-formed."""
    root = etree.fromstring(text.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8") + b"\n"
