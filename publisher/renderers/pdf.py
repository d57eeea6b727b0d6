"""The cheat sheet: a dense, landscape, multi-column PDF (WeasyPrint + Jinja2).

The page is ``templates/cheatsheet/sheet.html`` filled with the fragments
:mod:`publisher.markup.html` writes, styled by ``templates/cheatsheet/sheet.css``
(both shadowable from ``content/templates/cheatsheet/``); :mod:`publisher.renderers.sheet`
makes that document and lays it out. WeasyPrint reads nothing but what
:class:`publisher.fetcher.SafeFetcher` serves: files under the content folder and the
templates. Output is byte-identical for unchanged sources: the PDF dates come from
``meta.date``, there is no /ID, and fonts, outline and tags are written in document order.
A column that continues a chapter gets a running head in the margin above it
(:mod:`publisher.renderers.sheet_heads`).

A book of more than ``pdf_chunks.CHUNK_FACTS`` facts is laid out in chunks of
chapters, in parallel worker processes, each chunk cached under
``<out>/.cache/pdf/``, then merged into one tagged PDF with its outline and
"page N of M" footers (:mod:`publisher.renderers.pdf_chunks`).
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from urllib.parse import urljoin

from ..core import model as m
from ..markup import templates
from ..core.diagnostics import Diagnostic, diag
from ..core.fsutil import atomic_path, temp_beside
from ..check.validate import SHEET_MAX_BOXES
from ..core.text import block_inlines, boxes, count, same_nodes, walk_blocks, walk_inlines, without_navigation
from . import Artifact, RenderOptions, pdf_chunks, sheet_heads
from .sheet import CHARS_PER_LINE_3COL, CONTENT_URL, CSS_URL, FOLDER, KEEP_LINES, NAME, PAPERS, TEMPLATES_URL, _byline, _image_resolver, book_keywords, chapters_html, document_html, estimated_lines, make_fetcher, tighten, write_pdf

TEMPLATES = (FOLDER, "fonts")  # every template file the sheet reads (the build's change tracking)


def output_path(meta: m.Meta, out_dir: Path) -> Path:
    return Path(out_dir) / f"{meta.slug}-cheatsheet.pdf"


def settings(meta: m.Meta, options: RenderOptions) -> tuple[str, int]:
    """(paper, columns): the command line wins over book.toml."""
    paper = (options.paper or meta.paper or "a4").lower()
    if paper not in PAPERS:
        paper = "a4"
    columns = options.columns or meta.columns or 3
    return paper, max(1, min(6, int(columns)))


# --------------------------------------------------------------------------- diagnostics


_URL_ATTR = re.compile(r"""(?:src|href|data|poster|srcset)\s*=\s*["']?([^"'\s>]+)""", re.I)
_CSS_URL = re.compile(r"""url\(\s*["']?([^"')]+)|@import\s+["']([^"']+)""", re.I)


def _origins(book: m.Book, base_url: str, image_src) -> dict[str, m.Loc]:
    """Absolute URL -> where in the content it was written (images and raw HTML).

    Only images ``image_src`` lets through become <img>: the others (reported by
    validate) cannot be what the fetcher refused."""
    found: dict[str, m.Loc] = {}

    def add(url: str, loc: m.Loc) -> None:
        for key in (url.strip(), urljoin(base_url, url.strip())):
            found.setdefault(key, loc)

    for ch in book.chapters:
        for b in walk_blocks(ch.blocks + tuple(b for f in ch.footnotes for b in f.blocks)):
            if isinstance(b, m.RawBlock):
                for u in _URL_ATTR.findall(b.html):
                    add(u, b.loc)
            for run in block_inlines(b):
                for node in walk_inlines(run):
                    if isinstance(node, m.Image) and image_src(node.url) is not None:
                        add(node.url, node.loc)
                    elif isinstance(node, m.RawInline):
                        for u in _URL_ATTR.findall(node.html):
                            add(u, node.loc)
    return found


def _css_origins(css: str, base_url: str, shown: str) -> dict[str, m.Loc]:
    """Absolute URL -> the stylesheet line that asks for it."""
    found: dict[str, m.Loc] = {}
    for n, line in enumerate(css.splitlines(), 1):
        for groups in _CSS_URL.findall(line):
            url = (groups[0] or groups[1]).strip()
            found.setdefault(urljoin(base_url, url), m.Loc(shown, n))
            found.setdefault(url, m.Loc(shown, n))
    return found


def _book_line(content_dir: Path, key: str) -> int:
    try:
        for n, line in enumerate((content_dir / "book.toml").read_text("utf-8").splitlines(), 1):
            if line.split("=", 1)[0].strip() == key:
                return n
    except (OSError, UnicodeDecodeError):
        pass
    return 0


# --------------------------------------------------------------------------- render


def printable(book: m.Book) -> m.Book:
    """The book as the sheet prints it: a chapter too long for a cheat sheet (P022) is left out, and so are
    the links that only lead back up the page ("⬆ Back to Top": paper has no top to go back to)."""
    kept = tuple(ch for ch in book.chapters if boxes(ch) <= SHEET_MAX_BOXES)
    kept = tuple(_without_navigation(ch) for ch in kept)
    return book if same_nodes(kept, book.chapters) else dataclasses.replace(book, chapters=kept)


def _without_navigation(ch: m.Chapter) -> m.Chapter:
    blocks = without_navigation(ch.blocks)
    return ch if same_nodes(blocks, ch.blocks) else dataclasses.replace(ch, blocks=blocks)


def render(loaded, out_dir: Path, content_dir: Path, options: RenderOptions = RenderOptions()) -> Artifact:
    book: m.Book = printable(loaded.book)
    content_dir = Path(content_dir)
    paper, columns = settings(book.meta, options)
    dest = output_path(book.meta, Path(out_dir))

    css = templates.read_text(f"{FOLDER}/sheet.css", content_dir)
    chunks = pdf_chunks.plan(book)
    if len(chunks) == 1:  # one document, as laid out by WeasyPrint
        source = document_html(book, content_dir, paper, columns)
        fetcher = make_fetcher(content_dir)
        heads: list[list[sheet_heads.Head]] = []
        # laid out beside the sheet, then put in its place in one rename: a build stopped on the way
        # leaves the previous sheet as it was (and the next build removes the temp file)
        with temp_beside(dest, "layout") as laid:
            pages = write_pdf(source, css, laid, fetcher, heads=heads)
            refused = fetcher.refused
            with atomic_path(dest) as tmp:
                if any(heads):  # columns that continue a chapter: their heads, stamped in the top margin
                    refused += pdf_chunks.stamp_furniture(book, content_dir, laid, tmp, paper, columns, css, heads,
                                                          footers=False)
                else:
                    os.replace(laid, tmp)
    else:  # a long book: chunks laid out in parallel (and cached), then merged
        pages, refused = pdf_chunks.render_chunked(book, chunks, content_dir, Path(out_dir), dest,
                                                   paper, columns, css)

    diags: list[Diagnostic] = []
    css_file = templates.find(f"{FOLDER}/sheet.css", content_dir)
    shown_css = (f"{book.root}/templates/{FOLDER}/sheet.css" if css_file.resolve().is_relative_to(content_dir.resolve())
                 else f"templates/{FOLDER}/sheet.css")
    origins = _css_origins(css, CSS_URL, shown_css) | _origins(book, CONTENT_URL, _image_resolver(content_dir))
    for r in refused:
        loc = origins.get(r.url) or m.Loc(f"templates/{FOLDER}/sheet.html", 0)
        diags.append(diag(r.code, loc.file, loc.line, r.reason))
    budget = book.meta.page_budget
    if budget and pages > budget:
        diags.append(diag("P121", f"{book.root}/book.toml", _book_line(content_dir, "page_budget"),
                          f"{pages} pages, budget {budget}"))
    summary = count(pages, "page")
    return Artifact(dest, summary, tuple(sorted(set(diags))))


