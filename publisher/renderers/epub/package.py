"""The package: its metadata (dates never from the clock, the language, accessibility), ebooklib's zip
rewritten with fixed times and order so that the same sources give the same bytes."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lxml import etree

from ...core import model as m
from .images import PackedImage
from .xhtml import FOLDER, MATHML_NS, NCX_MEDIA, STYLESHEET, XHTML_MEDIA, Doc, serialize

# dcterms:modified when book.toml has no usable date: a fixed instant, never the clock
FALLBACK_MODIFIED = datetime(1980, 1, 1, tzinfo=timezone.utc)


LANG_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


def modified_time(meta: m.Meta, stamp: int = 0) -> datetime:
    """dcterms:modified, in UTC, never the clock: the card ledger's newest time (``stamp``: when the
    cards last changed), or else the sources' date (``book.toml`` ``date``)."""
    if stamp > 0:
        return max(datetime.fromtimestamp(stamp, timezone.utc), published_time(meta))
    return published_time(meta)


def ledger_time(content_dir: Path) -> int:
    """The card ledger's newest time (0: no ledger, or a damaged one): when the book's cards last changed.
    The build runs the EPUB after the deck, so it reads the ledger as this build leaves it."""
    from ...cards.ledger import LEDGER_NAME, read

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


def package_bytes(meta: m.Meta, lang: str, modified: datetime, docs: list[Doc], spine: list[str], ncx: bytes,
             css: bytes, cover: bytes, images: list[PackedImage], summary: str, cover_png: bytes) -> bytes:
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


def package_lang(opf: bytes, lang: str) -> bytes:
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
                payload = package_lang(payload, lang)
            if name == "mimetype":
                info.compress_type = zipfile.ZIP_STORED
                z.writestr(info, payload)
            else:
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, payload, compresslevel=9)
    return out.getvalue()
