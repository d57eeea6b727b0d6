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

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ...check import noloss
from ...check.validate import resolve_inside
from ...core import model as m
from ...core.diagnostics import Diagnostic, diag
from ...core.fsutil import atomic_path
from ...core.model import Loaded
from ...core.text import chapter_inlines, count, squash, walk_blocks
from ...markup import html, templates
from .. import Artifact, RenderOptions, cache_dir
from .cache import Part, Store, chapter_key, salt
from .chapters import Plan, chapter_text, make_plan
from .cover import cover_alt, cover_png, cover_svg
from .glossary import gloss_parts, glossary_entries, link_first_uses
from .navigation import toc_depth, toc_tree
from .package import language, ledger_time, modified_time, package_bytes
from .quiz import Check
from .xhtml import STYLESHEET, TEMPLATES, Doc, parse_xhtml, shown_text, tie_up, xml_file

# besides the renderer contract (NAME, TEMPLATES, output_path, render): what the tests read here
from .images import sniff_image  # noqa: F401
from .package import FALLBACK_MODIFIED, normalize_zip, published_time  # noqa: F401

NAME = "epub"  # TEMPLATES (its folder under templates/) comes from .xhtml

CODE_STYLE = "xcode"  # Pygments style whose colours all keep >= 5:1 on white
NIGHT_CODE_STYLE = "github-dark"  # the same on a reader's dark page
WCAG = "2.2"


def output_path(meta: m.Meta, out_dir: Path) -> Path:
    return Path(out_dir) / f"{meta.slug or 'book'}.epub"


def build(loaded: Loaded, content_dir: Path, cache: Path | None = None) -> tuple[bytes, str, list[Diagnostic]]:
    """The EPUB's bytes, its summary and the renderer's diagnostics (nothing is written but the chapters'
    parts kept in ``cache``, when given: an unchanged chapter is not rendered again)."""
    book = loaded.book
    meta = book.meta
    env = templates.environment(content_dir)
    lang = language(meta)
    modified = modified_time(meta, ledger_time(Path(content_dir)))
    plan = make_plan(loaded, Path(content_dir))

    store = Store(cache)
    base = salt(Path(content_dir))
    by_chapter: dict[str, list[m.Card]] = {}
    for c in loaded.cards:
        by_chapter.setdefault(c.chapter, []).append(c)
    docs: list[Doc] = []
    all_checks: dict[str, Check] = {}
    gloss: dict[str, tuple] = {}
    lost: list[Diagnostic] = []
    questions = 0
    for i, ch in enumerate(book.chapters, 1):
        cards = by_chapter.get(ch.slug, [])
        key = chapter_key(base, i, ch, cards, plan.files, plan.anchors, plan.ids, lang, meta.date, Path(content_dir))
        part = store.get(key)
        raw = noloss.unchanged_source(Path(content_dir), ch)
        if part is None:
            part = _part(plan, i, ch, cards, env, lang, raw)
            if raw is not None:  # (a file changed since it was read: its words were not compared, P017)
                store.put(key, part)
        else:
            for url in part.images:  # the package carries them, in the order a full render asks for them
                plan.images.src(url)
        docs.append(Doc(f"ch{i:02d}", plan.files[ch.slug], parse_xhtml(part.text)))
        questions += len(part.checks)
        for c in part.checks:
            all_checks.setdefault(c.identity, c)
        gloss.update(part.gloss)
        if raw is not None and part.gone:
            line, what = noloss.report(part.gone)
            lost.append(diag("P142", ch.file, line, what))
    store.prune()

    entries = link_first_uses(docs, glossary_entries(plan, loaded.cards, all_checks, gloss))
    if entries:
        text = env.get_template(f"{TEMPLATES}/glossary.xhtml").render(lang=lang, stylesheet=STYLESHEET, entries=entries)
        docs.append(Doc("glossary", "glossary.xhtml", parse_xhtml(text)))

    images = [plan.images.by_path[p] for p in plan.images.by_path]
    # an image whose alt text is empty anywhere makes "alternativeText" false
    empty_alt = {
        n.url for ch in book.chapters for n in chapter_inlines(ch, title=False) if isinstance(n, m.Image) and not n.alt.strip()
    }
    for url in empty_alt:
        target, _ = resolve_inside(Path(content_dir), url)
        if target in plan.images.by_path:
            plan.images.by_path[target].alt = False

    source_href = meta.source if urlsplit(meta.source).scheme in ("http", "https") else ""
    front = [
        Doc("cover", "cover.xhtml", parse_xhtml(env.get_template(f"{TEMPLATES}/cover.xhtml").render(
            lang=lang, stylesheet=STYLESHEET, image="cover.svg", alt=cover_alt(meta)))),
        Doc("titlepage", "title.xhtml", parse_xhtml(env.get_template(f"{TEMPLATES}/title.xhtml").render(
            lang=lang, stylesheet=STYLESHEET, meta=meta, source_href=source_href, chapters=len(book.chapters),
            questions=questions, glossary=len(entries)))),
    ]
    tree = toc_tree(plan, bool(entries), {c.chapter for c in loaded.cards})
    landmarks = [
        {"type": "cover", "href": "cover.xhtml", "label": "Cover"},
        {"type": "titlepage", "href": "title.xhtml", "label": "Title page"},
        {"type": "toc", "href": "nav.xhtml#toc", "label": "Contents"},
    ]
    if book.chapters:
        landmarks.append({"type": "bodymatter", "href": plan.files[book.chapters[0].slug], "label": "Start of the text"})
    if entries:
        landmarks.append({"type": "glossary", "href": "glossary.xhtml", "label": "Glossary"})
    nav = Doc("nav", "nav.xhtml", parse_xhtml(env.get_template(f"{TEMPLATES}/nav.xhtml").render(
        lang=lang, stylesheet=STYLESHEET, toc=tree, landmarks=landmarks)), ["nav"])
    ncx = xml_file(env.get_template(f"{TEMPLATES}/toc.ncx").render(
        lang=lang, uid=meta.ids.epub, depth=max(1, toc_depth(tree)), title=meta.title, author=meta.author, toc=tree))

    night = "\n".join(f"  {line}" for line in html.pygments_css(NIGHT_CODE_STYLE).splitlines())
    css = (templates.read_text(f"{TEMPLATES}/{STYLESHEET}", content_dir).rstrip("\n") + "\n\n"
           + html.pygments_css(CODE_STYLE) + "\n@media (prefers-color-scheme: dark) {\n" + night + "\n}\n").encode("utf-8")
    has_code = any(isinstance(b, m.CodeBlock) for ch in book.chapters for b in walk_blocks(ch.blocks))
    summary = squash(env.get_template(f"{TEMPLATES}/accessibility-summary.txt").render(
        wcag=WCAG, glossary=bool(entries), images=bool(images), code=has_code))
    all_docs = front + [nav] + docs
    tie_up(all_docs, {"cover.svg", "cover.png"} | {i.href for i in images})
    spine = [d.id for d in all_docs]
    data = package_bytes(meta, lang, modified, all_docs, spine, ncx, css, cover_svg(env, meta, cover_alt(meta)),
                    images, summary, cover_png(meta, Path(content_dir), cache))

    # missing, remote and outside images are validation's to report (P111, P126, P112); what only
    # the renderer sees is a file that is not an image it may carry
    diags = [_refused(book, url, why) for url, why in sorted(plan.images.refused.items()) if why.startswith("not a")]
    diags += lost
    return data, f"{count(len(book.chapters), 'chapter')}, {count(questions, 'question')}, {count(len(entries), 'glossary term')}", diags


def _refused(book: m.Book, url: str, why: str) -> Diagnostic:
    for ch in book.chapters:
        for node in chapter_inlines(ch, title=False):
            if isinstance(node, m.Image) and node.url == url:
                code = "P111" if why == "missing image" else "P112" if "leaves" in why or "absolute" in why else "P113"
                return diag(code, node.loc.file, node.loc.line, f"'{url}' left out of the EPUB: {why}")
    return diag("P113", book.root, 0, f"'{url}' left out of the EPUB: {why}")


def _part(plan: Plan, i: int, ch: m.Chapter, cards: list[m.Card], env: Any, lang: str, raw: str | None) -> Part:
    """A chapter rendered: its document's text, its quiz, the images it showed, its glossary entries, the
    words of its source it lacks."""
    plan.images.log = []
    try:
        text, checks = chapter_text(plan, i, ch, cards, env, lang)
        shown = plan.images.log
    finally:
        plan.images.log = None
    gloss = {c.identity: gloss_parts(plan, ch, c) for c in cards if c.kind == "definition"}
    gone = noloss.missing(raw, shown_text(parse_xhtml(text))) if raw is not None else []
    return Part(text, checks, shown, gloss, gone)


def render(loaded: Loaded, out_dir: Path, content_dir: Path, options: RenderOptions = RenderOptions()) -> Artifact:
    data, summary, diags = build(loaded, Path(content_dir), cache_dir(Path(out_dir), NAME))
    lost = [d for d in diags if d.code == "P142"]
    if lost and (options.strict or loaded.book.meta.strict):  # an error: the previous EPUB stays as it was
        raise ValueError(f"{lost[0].file}:{lost[0].line}: P142 {lost[0].message}"
                         + (f" (and {len(lost) - 1} more file{'s' if len(lost) > 2 else ''})" if len(lost) > 1 else ""))
    dest = output_path(loaded.book.meta, Path(out_dir))
    with atomic_path(dest) as tmp:
        tmp.write_bytes(data)
    return Artifact(dest, summary, tuple(diags))
