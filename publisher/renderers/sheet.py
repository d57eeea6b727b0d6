"""The cheat sheet as a document: its HTML (``templates/cheatsheet/sheet.html`` filled with the
fragments :mod:`publisher.markup.html` writes), the fetcher WeasyPrint reads through, and one layout to PDF.

Both the renderer (:mod:`publisher.renderers.pdf`) and the chunked layout
(:mod:`publisher.renderers.pdf_chunks`) build on this module; it imports neither.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence, Union
from urllib.parse import quote, unquote, urlsplit

from markupsafe import Markup

from ..markup import html, templates
from ..core import model as m
from ..markup.fetcher import SafeFetcher, mount_url
from ..core.fsutil import atomic_path, tracked_outside, work_tree
from ..check.imagecheck import PRINT_SIDE, prepared, problem as image_problem
from ..cards.links import is_remote
from ..check.validate import SHEET_LINKS
from ..core.text import block_inlines, block_text, plain_text, walk_blocks, walk_inlines
from . import sheet_heads, wpcolumns

NAME = "pdf"  # the renderer's name: its cache folder
FOLDER = "cheatsheet"  # templates/cheatsheet/: sheet.html, sheet.css

# CSS page size name and (width, height) in pt, landscape.
PAPERS: dict[str, tuple[str, tuple[int, int]]] = {
    "a4": ("A4", (842, 595)),
    "letter": ("letter", (792, 612)),
}

# A section whose estimated height is at most this many lines is kept whole in
# one column; longer ones may break (keeping them whole would leave big gaps).
KEEP_LINES = 16
# An image is up to 80 mm tall on the sheet (sheet.css): about this many lines. Counted by its size, a section
# with big pictures is never "short": kept whole, one taller than a column left the whole first page blank.
IMAGE_LINES = 27
IMAGE_POINTS = 226.8  # 80 mm
LINE_POINTS = 8.4  # a 7 pt line
# Characters per line of one column on A4 landscape with 3 columns (7pt Noto Sans).
CHARS_PER_LINE_3COL = 68



# What a document lays out: whole chapters (their indexes) and, of a chapter too long for one chunk,
# pieces ``(chapter index, first block, end block)`` of its top-level blocks (pdf_chunks.plan).
Entry = Union[int, tuple[int, int, int]]


# --------------------------------------------------------------------------- HTML


@dataclass(frozen=True)
class _Block:
    html: Markup
    keep: bool


@dataclass(frozen=True)
class _Chapter:
    id: str
    title: Markup
    blocks: tuple[_Block, ...]
    footnotes: Markup
    parts: tuple[tuple[int, Markup], ...] = ()  # (depth, title) of the folders that begin here
    show_title: bool = True  # a folder's README: the folder's heading is its title
    in_part: int = 0  # how many folders it stands in (its headings' outline levels move down)
    continued: bool = False  # the rest of a long chapter, laid out in a chunk of its own


def _image_resolver(content_dir: Path):
    root = content_dir.resolve()

    def resolve(url: str) -> str | None:
        """Images must be files inside the content folder (validate reports the rest)."""
        if is_remote(url):
            return None
        path = unquote(urlsplit(url).path)
        if not path or path.startswith("/") or "\\" in path:
            return None
        try:
            real = (root / path).resolve()
        except (OSError, RuntimeError):
            return None
        outside = not real.is_relative_to(root)
        if outside and not tracked_outside(root, real):
            return None
        if not real.is_file():
            return None  # missing: validation reports it (P111); the alt text is shown
        if image_problem(real) is not None:
            return None  # not an image every output can show: validation reports it (P127)
        if outside:  # a file of the repository around the notes, served from its own mount
            top = work_tree(root)
            assert top is not None
            # from the document's base (file:///content/): a relative URL, as the sanitizer keeps only those
            return "../repo/" + quote(real.relative_to(top).as_posix())
        return url.strip()

    return resolve


def _link_budget(chapter: m.Chapter, lo: int) -> Callable[[str], str | None]:
    """The sheet's ``link_href`` for a chapter's piece that starts at block ``lo``: the chapter's first
    :data:`SHEET_LINKS` web links stay links, later ones print as their words (P020 says so); each link is
    an annotation and a tagged element that costs layout time, and paper has no use for them."""
    used = sum(1 for b in walk_blocks(chapter.blocks[:lo]) for run in block_inlines(b) for n in walk_inlines(run)
               if isinstance(n, m.Link) and not n.target and html.web_link(n.url) is not None) if lo else 0
    left = [SHEET_LINKS - used]

    def href(url: str) -> str | None:
        out = html.web_link(url)
        if out is None or left[0] <= 0:
            return None
        left[0] -= 1
        return out

    return href


def _target_href(target: str) -> str:
    """A link into the book (``slug`` or ``slug#anchor``): ids in the sheet are ``slug--anchor``."""
    slug, _, anchor = target.partition("#")
    return f"#{slug}--{anchor}" if anchor else f"#{slug}"


_BLOCK_TAGS = "aside|ul|ol|li|dl|dt|dd|p|pre|table|thead|tbody|tr|blockquote|div|section|h[1-6]|hr"
_SPACE_AFTER_BLOCK = re.compile(rf"(</(?:{_BLOCK_TAGS})>|<hr/?>)\s+")
_SPACE_BEFORE_BLOCK = re.compile(rf"\s+(</?(?:{_BLOCK_TAGS})[\s/>])")


def tighten(fragment: str) -> str:
    """Drop the white space next to block tags.

    It never shows, except inside the run-in definitions (``dd`` is inline), where a
    newline after a nested list or alert would make an empty line.
    """
    return _SPACE_BEFORE_BLOCK.sub(r"\1", _SPACE_AFTER_BLOCK.sub(r"\1", fragment))


def picture_lines(content_dir: Path, columns: int) -> Callable[[m.Image], int]:
    """How many lines of a column an image takes on the sheet: its size (read from the file's header, or its
    width and height attributes) scaled into the column, at most 80 mm (sheet.css); a file that cannot be read
    counts as the tallest."""
    root = content_dir.resolve()
    column = (842 - 45) / max(1, columns)  # points: an A4 landscape page less its margins, shared out

    @functools.lru_cache(maxsize=None)
    def size_of(url: str) -> tuple[int, int] | None:
        from PIL import Image as Pil

        try:
            real = (root / unquote(urlsplit(url).path)).resolve()
            if not (real.is_relative_to(root) or tracked_outside(root, real)):
                return None
            with Pil.open(real) as im:
                return im.size
        except Exception:  # noqa: BLE001 - any file that is no readable image: the tallest guess
            return None

    def lines(img: m.Image) -> int:
        size = (img.width, img.height) if img.width and img.height else size_of(img.url)
        if not size or not size[0]:
            return IMAGE_LINES
        wide = min(size[0] * 0.75, column)  # CSS pixels to points, never wider than the column
        tall = min(size[1] * wide / size[0], IMAGE_POINTS)
        return 1 + int(tall // LINE_POINTS)

    return lines


def estimated_lines(block: m.Block, columns: int, pictures: Callable[[m.Image], int] = lambda _i: IMAGE_LINES) -> int:
    """A rough height of a block in lines of one column (for keeping short sections whole)."""
    cpl = max(20, CHARS_PER_LINE_3COL * 3 // max(1, columns))
    lines = 0
    for b in walk_blocks((block,)):
        match b:
            case m.Section():
                lines += 2  # the heading and the space around it
            case m.Para():  # also each list item and definition body
                lines += 1 + len(plain_text(b.children)) // cpl
                lines += sum(pictures(n) for n in walk_inlines(b.children) if isinstance(n, m.Image))
            case m.DefList(items=items):  # terms run in: they lengthen the body's first line
                lines += sum(len(plain_text(d.term)) + 3 for d in items) // cpl
            case m.Alert():
                lines += 1  # borders and padding
            case m.CodeBlock(code=code):
                lines += sum(1 + len(line) // cpl for line in code.splitlines())
            case m.Table(rows=rows):
                lines += 1 + len(rows) + len(block_text(b)) // (cpl * 2)
            case _:
                pass
    return lines


def _pieces(book: m.Book, part: Sequence[Entry] | None) -> list[tuple[int, int, int]]:
    """(chapter index, first block, end block) of each chapter or piece of one a document shows."""
    entries = range(len(book.chapters)) if part is None else part
    return [(e, 0, len(book.chapters[e].blocks)) if isinstance(e, int) else e for e in entries]


def chapters_html(book: m.Book, content_dir: Path, columns: int,
                  part: Sequence[Entry] | None = None) -> list[_Chapter]:
    image_src = _image_resolver(content_dir)
    pictures = picture_lines(Path(content_dir), columns)
    out = []
    for i, lo, hi in _pieces(book, part):
        ch = book.chapters[i]
        chain = book.parts_of(ch)
        before = book.parts_of(book.chapters[i - 1]) if i > 0 else ()
        opens = tuple(p for n, p in enumerate(chain) if n >= len(before) or before[n] is not p) if lo == 0 else ()
        opts = html.Options(
            math="svg",  # WeasyPrint has no MathML: formulas are drawn as vector paths
            sound="omit",
            typography=True,
            history="mark",  # the sheet prints today's claim only, marked as updated
            image_src=image_src,
            link_href=_link_budget(ch, lo),
            target_href=_target_href,
            id_prefix=f"{ch.slug}--",
            footnote_numbers=html.footnote_numbers(ch),
        )
        blocks = tuple(
            _Block(
                Markup(tighten(html.render((b,), opts))),
                isinstance(b, m.Section) and estimated_lines(b, columns, pictures) <= KEEP_LINES,
            )
            for b in ch.blocks[lo:hi]
        )
        last = hi >= len(ch.blocks)
        out.append(_Chapter(
            id=ch.slug,
            title=Markup(html.render_inlines(ch.title, opts)),
            blocks=blocks,
            footnotes=Markup(tighten(html.sanitize(html.footnotes(ch, opts)))) if last else Markup(""),
            parts=tuple((p.depth, Markup(html.render_inlines(p.title, opts))) for p in opens),
            show_title=lo > 0 or not (ch.intro and opens and opens[-1].path == ch.part),
            in_part=len(chain),
            continued=lo > 0,
        ))
    return out


def _code_langs(book: m.Book) -> bool:
    return any(isinstance(b, m.CodeBlock) and b.lang for ch in book.chapters for b in walk_blocks(ch.blocks))


def _byline(meta: m.Meta) -> list[tuple[str, str]]:
    edition = " · ".join(x for x in (f"version {meta.version}" if meta.version else "", meta.date) if x)
    return [(cls, text) for cls, text in (
        ("subtitle", meta.subtitle), ("author", meta.author), ("edition", edition)) if text]


def book_keywords(book: m.Book) -> str:
    return ", ".join(dict.fromkeys(plain_text(ch.title).strip() for ch in book.chapters))


def document_html(book: m.Book, content_dir: Path, paper: str, columns: int,
                  part: Sequence[Entry] | None = None, *, head: bool = True, anchors: Sequence[str] = (),
                  skip: int = 0) -> str:
    """The sheet's HTML: the whole book, or (``part``: chapter indexes) one chunk of it (``skip``: the columns
    its first page leaves empty, for the end of the chunk before it).

    A chunk's document names no other chunk (keywords are set on the merged PDF), so
    its bytes, and its cache entry, change only with its own chapters."""
    meta = book.meta
    pieces = _pieces(book, part)
    sub = book if part is None else dataclasses.replace(
        book, chapters=tuple(dataclasses.replace(book.chapters[i], blocks=book.chapters[i].blocks[lo:hi])
                             for i, lo, hi in pieces))
    env = templates.environment(content_dir)
    shown = chapters_html(book, content_dir, columns, part)
    return env.get_template(f"{FOLDER}/sheet.html").render(
        meta=meta,
        paper=PAPERS[paper][0],
        paper_name=paper,
        columns=columns,
        date=meta.date,
        description=f"Cheat sheet: {meta.title}" + (f" ({meta.subtitle})" if meta.subtitle else ""),
        keywords=book_keywords(book) if part is None else "",
        byline=_byline(meta),
        pygments_css=Markup(html.pygments_css()) if _code_langs(sub) else "",
        chapters=shown,
        head=head,
        anchors=anchors,
        skip=skip,
    )


# --------------------------------------------------------------------------- layout


CONTENT_URL = mount_url("content")  # the document's base URL: the book's folder
TEMPLATES_URL = mount_url("templates")  # content/templates/, then the built-in templates/
CSS_URL = f"{TEMPLATES_URL}{FOLDER}/sheet.css"  # the stylesheet's base URL


def make_fetcher(content_dir: Path) -> SafeFetcher:
    """The fetcher of a cheat sheet: the book's files and the (shadowable) templates, nothing else."""
    mounts: dict[str, list[Path]] = {
        "content": [content_dir],
        "templates": [Path(content_dir) / "templates", templates.BUILTIN],
    }
    top = work_tree(content_dir)
    if top is not None:  # the repository's tracked files, for images kept beside the notes' folder
        mounts["repo"] = [top]
    fetcher = SafeFetcher(mounts, generated={mount_url("content") + html.MATH_URL_PREFIX: html.formula_svg},
                          only={"repo": lambda real: tracked_outside(content_dir, real)})
    fetcher.transform = _print_size
    return fetcher


def _print_size(path: Path) -> bytes:
    """A content image resampled to about 200 dpi at the size it prints (fonts and CSS as they are)."""
    if path.suffix.lower() in (".png", ".jpg", ".jpeg", ".gif", ".webp"):
        return prepared(path, PRINT_SIDE)
    return path.read_bytes()


def write_pdf(source: str, css: str, dest: Path, fetcher: SafeFetcher,
              extra_css: Sequence[str] = (), tags: bool = True,
              heads: list[list[sheet_heads.Head]] | None = None, shape: dict | None = None) -> int:
    """Lay out ``source`` (HTML, base ``file:///content/``) with ``css`` and then
    ``extra_css`` (base ``file:///templates/<folder>/``) and write the PDF to
    ``dest``; the page count. ``heads``: a list to receive each page's running heads; ``shape``: a dict to
    receive where the layout ends and starts (:func:`sheet_heads.shape`).

    Everything is read through ``fetcher``; once the layout is done it is sealed,
    so the only fetches left (attachments) are refused and nothing is embedded.
    """
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    wpcolumns.install()
    font_config = FontConfiguration()
    try:
        with _quiet_weasyprint():
            stylesheets = [CSS(string=text, base_url=CSS_URL, url_fetcher=fetcher, font_config=font_config)
                           for text in (css, *extra_css)]
            document = HTML(string=source, base_url=CONTENT_URL, url_fetcher=fetcher).render(
                font_config=font_config, stylesheets=stylesheets, pdf_tags=tags)
            fetcher.sealed = True
            if heads is not None:
                heads.extend(sheet_heads.running_heads(document))
            if shape is not None:
                shape.update(sheet_heads.shape(document))
            with atomic_path(dest) as tmp:
                document.write_pdf(tmp, pdf_tags=tags)
    finally:
        # the fonts WeasyPrint copied into a temp folder: removed now (a forked layout worker ends with
        # os._exit, so the font configuration's own clean-up would never run)
        folder = getattr(font_config, "_folder", None)
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
    return len(document.pages)



class _quiet_weasyprint:
    """WeasyPrint logs each refused fetch; the build reports them as diagnostics instead.

    Only propagation to the root logger is stopped: a handler on the "weasyprint"
    logger itself (as the tests add) still sees every record.
    """

    def __enter__(self) -> None:
        self.logger = logging.getLogger("weasyprint")
        self.propagate = self.logger.propagate
        self.logger.propagate = False

    def __exit__(self, *exc: object) -> None:
        self.logger.propagate = self.propagate
