"""`publisher watch --serve`: a live page of the book and its cards while writing (issue 30).

A small HTTP server on the loopback address only (the standard library's ``ThreadingHTTPServer``): an index
of the chapters with their counts of cards and warnings, and a page per chapter with the chapter as the EPUB
shows it (each block carrying its source line, ``id="L12"``), each diagnostic at the block it names, and each
card as Anki shows it, front (with its context line) then back, drawn from the deck's own templates
(``templates/anki/``) with clozes done as Anki does them and formulas as MathML. The page follows the files
through server-sent events (``/events``): on a save the watch loop reads the notes again and the open page
fetches itself and swaps its content in, without a reload. Nothing is requested from outside the machine:
the page's styles and script are served from ``templates/preview/`` (a user's folder shadows them).
"""

from __future__ import annotations

import html as htmllib
import mimetypes
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from markupsafe import Markup

from .check.noloss import model_losses
from .check.validate import resolve_inside
from .core import model as m
from .core.diagnostics import Diagnostic
from .core.text import plain_text, squash
from .markup import html, mathrender, templates
from .pipeline import load

FOLDER = "preview"  # under templates/
ASSETS = {"preview.css": "text/css; charset=utf-8", "live.js": "text/javascript; charset=utf-8"}
HOST = "127.0.0.1"


# --------------------------------------------------------------------------- cards as Anki shows them

CLOZE_RE = re.compile(r"\{\{c(\d+)::(.*?)(?:::(.*?))?\}\}", re.S)
SECTION_RE = re.compile(r"\{\{([#^])([^}]+)\}\}(.*?)\{\{/\2\}\}", re.S)
FIELD_RE = re.compile(r"\{\{([^#^/}][^}]*)\}\}")
MATH_RE = re.compile(r"\\\((.+?)\\\)|\\\[(.+?)\\\]", re.S)


def cloze_numbers(text: str) -> list[int]:
    return sorted({int(n) for n, _, _ in CLOZE_RE.findall(text)})


def cloze(text: str, ordinal: int, back: bool) -> str:
    """Anki's ``{{cloze:Field}}`` for card ``ordinal``: its deletions blanked (``[...]`` or the hint) on the
    front, shown on the back; the other deletions as their answers."""
    def one(found: re.Match[str]) -> str:
        n, answer, hint = int(found.group(1)), found.group(2), found.group(3)
        if n != ordinal:
            return f'<span class="cloze-inactive" data-ordinal="{n}">{answer}</span>'
        if back:
            return f'<span class="cloze" data-ordinal="{n}">{answer}</span>'
        return f'<span class="cloze" data-ordinal="{n}">[{hint or "..."}]</span>'
    return CLOZE_RE.sub(one, text)


def fill(template: str, fields: dict[str, str], ordinal: int, back: bool, front_side: str = "") -> str:
    """A card template with the note's fields, as Anki fills it: sections ``{{#F}}…{{/F}}`` (and
    ``{{^F}}``) kept when the field is (not) empty, ``{{cloze:F}}``, ``{{FrontSide}}``, ``{{F}}``."""
    def section(found: re.Match[str]) -> str:
        kind, name, body = found.group(1), found.group(2).strip(), found.group(3)
        filled = bool(fields.get(name, "").strip())
        return body if filled == (kind == "#") else ""

    text = template
    while SECTION_RE.search(text):
        text = SECTION_RE.sub(section, text)

    def field_(found: re.Match[str]) -> str:
        name = found.group(1).strip()
        if name == "FrontSide":
            return front_side
        if name.startswith("cloze:"):
            return cloze(fields.get(name[6:], ""), ordinal, back)
        return fields.get(name.rpartition(":")[2], "")
    return FIELD_RE.sub(field_, text)


def as_mathml(fragment: str) -> str:
    """The deck's MathJax delimiters as MathML (Anki's MathJax draws them; the page has no script for it)."""
    def one(found: re.Match[str]) -> str:
        tex, display = (found.group(1), False) if found.group(1) is not None else (found.group(2), True)
        tex = htmllib.unescape(tex)
        return mathrender.mathml(tex, display) or htmllib.escape(found.group())
    return MATH_RE.sub(one, fragment) if "\\(" in fragment or "\\[" in fragment else fragment


@dataclass
class CardView:
    identity: str
    kind: str
    line: int
    ordinal: int  # the cloze number (1 for a basic card)
    front: Markup
    back: Markup
    href: str = ""  # where its line is on the chapter's page


def card_views(plan: Any) -> dict[str, list[CardView]]:
    """Each chapter's cards as Anki draws them from the deck's note types (chapter slug -> cards)."""
    out: dict[str, list[CardView]] = {}
    for entry, card in zip(plan.notes, plan.cards):
        spec = plan.specs[entry.type]
        fields = dict(zip(spec.fields, entry.fields))
        ordinals = cloze_numbers(entry.fields[0]) if entry.type == "cloze" else [1]
        for n in ordinals or [1]:
            front = fill(spec.qfmt, fields, n, back=False)
            back = fill(spec.afmt, fields, n, back=True, front_side=front)
            out.setdefault(entry.chapter, []).append(CardView(
                entry.id, entry.type, card.loc.line, n, Markup(as_mathml(front)), Markup(as_mathml(back))))
    return out


# --------------------------------------------------------------------------- the pages


@dataclass
class Chapter:
    slug: str
    title: str
    file: str
    cards: list[CardView]
    diagnostics: list[Diagnostic]
    model: m.Chapter
    date: str = ""  # the book's (how a superseded claim is labelled)
    body: Markup | None = None  # made when the page is first asked for (a save reads the notes, not every page)
    unplaced: list[Diagnostic] = field(default_factory=list)  # before the first block (or of the whole file)

    @property
    def warnings(self) -> int:
        return sum(d.severity in ("warning", "error") for d in self.diagnostics)


def _lines() -> Any:
    """``anchor_for``: the first element written from each source line gets ``id="L<line>"``."""
    seen: set[int] = set()

    def anchor(loc: m.Loc) -> str | None:
        if loc.line in seen or loc.line <= 0:
            return None
        seen.add(loc.line)
        return f"L{loc.line}"
    return anchor


def chapter_body(ch: m.Chapter, diags: list[Diagnostic], opts: html.Options, env: Any) -> tuple[Markup, list[Diagnostic]]:
    """The chapter's blocks, each top-level one in a box carrying its source line with the diagnostics that
    name a line from it up to the next block's; the diagnostics before the first block, apart."""
    boxes: list[tuple[int, str, str]] = []  # (line, kind, html) in reading order

    def visit(blocks: tuple[m.Block, ...]) -> None:
        for b in blocks:
            if isinstance(b, m.Section):
                level = min(6, max(2, b.level))
                title = html.render_inlines(b.title, opts)
                boxes.append((b.loc.line, "heading", f'<h{level} id="{b.anchor}">{title}</h{level}>'))
                visit(b.blocks)
            else:
                boxes.append((b.loc.line, "block", html.render((b,), opts)))
    visit(ch.blocks)
    starts = [line for line, _, _ in boxes]
    placed: dict[int, list[Diagnostic]] = {}
    before: list[Diagnostic] = []
    for d in diags:
        k = max((i for i, s in enumerate(starts) if s <= d.line), default=None) if d.line > 0 else None
        (placed.setdefault(k, []) if k is not None else before).append(d)
    parts = []
    box = env.get_template(f"{FOLDER}/block.html")
    for i, (line, kind, fragment) in enumerate(boxes):
        parts.append(box.render(line=line, kind=kind, html=Markup(fragment), diagnostics=placed.get(i, [])))
    return Markup("".join(parts)), before


class Site:
    """The pages of the book as last read; ``version`` counts the readings (the page's events say it)."""

    def __init__(self, content_dir: Path) -> None:
        self.content_dir = Path(content_dir)
        self.version = 0
        self.changed = threading.Condition()
        self.chapters: dict[str, Chapter] = {}
        self.order: list[str] = []
        self.title = ""
        self.media: dict[str, Path] = {}
        self.card_css = ""
        self.error = ""
        self.first_fields: dict[str, str] = {}
        self._making = threading.Lock()

    def update(self) -> None:
        """Read the notes again and remake every page (a fault is shown on the page, never raised)."""
        try:
            self._update()
            self.error = ""
        except Exception as exc:  # noqa: BLE001 - the preview reports, the watch goes on
            self.error = f"{type(exc).__name__}: {exc}"
        with self.changed:
            self.version += 1
            self.changed.notify_all()

    def _update(self) -> None:
        from .renderers import anki  # the deck's own fields and templates

        loaded = load(self.content_dir)
        diags = list(loaded.diagnostics) + model_losses(loaded.book, self.content_dir)
        plan = anki.plan(loaded, self.content_dir)
        views = card_views(plan)
        chapters: dict[str, Chapter] = {}
        for ch in loaded.book.chapters:
            chapters[ch.slug] = Chapter(ch.slug, squash(plain_text(ch.title)) or ch.slug, ch.file,
                                        views.get(ch.slug, []), [d for d in diags if d.file == ch.file], ch,
                                        loaded.book.meta.date)
        self.chapters, self.order = chapters, [ch.slug for ch in loaded.book.chapters]
        self.title = loaded.book.meta.title
        self.media = dict(plan.media)
        self.first_fields = {e.id: e.fields[0] for e in plan.notes}  # each card's note, by its first field
        self.card_css = anki.stylesheet(self.content_dir)

    def _image(self, url: str) -> str | None:
        target, _ = resolve_inside(self.content_dir, url)
        if target is None:
            return None
        return "/files/" + quote(target.relative_to(self.content_dir.resolve()).as_posix())

    # the pages

    def index(self) -> str:
        env = templates.environment(self.content_dir)
        return env.get_template(f"{FOLDER}/index.html").render(
            title=self.title, chapters=[self.chapters[s] for s in self.order if s in self.chapters],
            version=self.version, error=self.error)

    def _made(self, ch: Chapter, env: Any) -> None:
        """The chapter's blocks, its diagnostics placed, its cards' links to their lines."""
        opts = html.Options(math="mathml", typography=True, image_src=self._image, link_href=html.web_link,
                            target_href=_page_href, original_label=html.original_label(ch.date),
                            footnote_numbers=html.footnote_numbers(ch.model), anchor_for=_lines())
        body, before = chapter_body(ch.model, ch.diagnostics, opts, env)
        starts = sorted(int(n) for n in re.findall(r'data-line="(\d+)"', body))
        for view in ch.cards:  # the element written from its line, else the block holding it
            at = max((n for n in starts if n <= view.line), default=starts[0] if starts else 0)
            view.href = f"#L{view.line}" if f'id="L{view.line}"' in body else f"#B{at}"
        ch.unplaced = before
        ch.body = Markup(body + html.sanitize(html.footnotes(ch.model, opts)))

    def chapter(self, slug: str) -> str | None:
        ch = self.chapters.get(slug)
        if ch is None:
            return None
        env = templates.environment(self.content_dir)
        with self._making:
            if ch.body is None:
                self._made(ch, env)
        at = self.order.index(slug)
        nav = {"prev": self.order[at - 1] if at > 0 else "", "next": self.order[at + 1] if at + 1 < len(self.order) else ""}
        return env.get_template(f"{FOLDER}/chapter.html").render(
            title=self.title, chapter=ch, version=self.version, error=self.error, card_css=Markup(self.card_css),
            nav=nav, chapters={s: self.chapters[s].title for s in self.order})

    def asset(self, name: str) -> bytes | None:
        if name not in ASSETS:
            return None
        return templates.read_text(f"{FOLDER}/{name}", self.content_dir).encode("utf-8")

    def file(self, rel: str) -> Path | None:
        """A file of the content folder a page shows (an image), never one outside it."""
        target, _ = resolve_inside(self.content_dir, rel)
        return target if target is not None and target.is_file() else None


def _page_href(target: str) -> str:
    slug, _, anchor = target.partition("#")
    return f"/c/{quote(slug)}" + (f"#{anchor}" if anchor else "")


# --------------------------------------------------------------------------- serving


class _Handler(BaseHTTPRequestHandler):
    site: Site  # set on the class made for each server
    server_version = "publisher-preview"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # quiet: the watch prints the builds

    def _send(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        # nothing from elsewhere: the page's own styles, script and images, and MathML
        self.send_header("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - the base class's name
        path = unquote(urlsplit(self.path).path)
        site = self.site
        if path == "/events":
            return self._events()
        if path == "/":
            return self._send(200, site.index().encode("utf-8"), "text/html; charset=utf-8")
        if path.startswith("/assets/"):
            data = site.asset(path[8:])
            if data is not None:
                return self._send(200, data, ASSETS[path[8:]])
        if path.startswith("/c/"):
            page = site.chapter(path[3:])
            if page is not None:
                return self._send(200, page.encode("utf-8"), "text/html; charset=utf-8")
            media = site.media.get(path[3:])  # an image a card shows, by its name in the deck
            if media is not None and media.is_file():
                return self._send(200, media.read_bytes(), _image_type(media))
        if path.startswith("/files/"):
            found = site.file(path[7:])
            if found is not None:
                return self._send(200, found.read_bytes(), _image_type(found))
        self._send(404, b"not found", "text/plain; charset=utf-8")

    def _events(self) -> None:
        """Server-sent events: the version of the pages, now and on every change (a comment keeps the line)."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        site, sent = self.site, -1
        try:
            while True:
                with site.changed:
                    if site.version == sent:
                        site.changed.wait(timeout=15)
                    version = site.version
                if version != sent:
                    self.wfile.write(f"retry: 500\ndata: {version}\n\n".encode())
                    sent = version
                else:
                    self.wfile.write(b": still here\n\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            return


def _image_type(path: Path) -> str:
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def serve(site: Site, port: int) -> ThreadingHTTPServer:
    """Start serving ``site`` on the loopback address (in a thread of its own); the server, to stop it."""
    handler = type("Handler", (_Handler,), {"site": site})
    server = ThreadingHTTPServer((HOST, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="preview", daemon=True).start()
    return server


def url(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}/"


__all__ = ["Site", "serve", "url", "card_views", "fill", "cloze"]
