"""What the artifacts look like: sheet page 1, one EPUB chapter and one card, day and night, as PNGs.

`make preview` (or ``python tests/look.py [content] [out]``) builds the book and writes
``build/preview/``:

- ``sheet-page1.png``: page 1 of the cheat sheet at 110 dpi (poppler's ``pdftoppm``);
- ``epub-day.png``, ``epub-night.png``: a chapter of the EPUB in headless Chromium, under a reader's
  day theme and its night theme (a reader sets the page's colours and reports
  ``prefers-color-scheme: dark``; the book's stylesheet must follow both);
- ``live-page.png``: the live page of ``publisher watch --serve`` on a chapter, in headless Chromium;
- ``card-front-day.png`` ... ``card-back-night.png``: a cloze card as the real Anki renders it (the
  ``anki`` package: the deck imported into a new collection), in Anki's night mode or not, at a
  phone's width.

``test_look.py`` asserts what a picture can show: the text stands out from its background (WCAG
contrast), and no ink falls between the sheet's columns.
"""

from __future__ import annotations

import collections
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CHROMIUM = HERE / "chromium-wrapper.sh"

# what a reading system's day and night themes set (the book sets neither colour)
READER_THEMES = {
    "day": "html, body { background: #ffffff; color: #1a1a1a; }",
    "night": "html, body { background: #121212; color: #e3e3e3; }",
}
PHONE = (412, 420)  # CSS px: a phone held upright (the top of its screen)
PAGE = (720, 1000)  # an e-reader's page


def screenshot(url: str, png: Path, size: tuple[int, int], dark: bool) -> Path:
    """``url`` in headless Chromium, ``prefers-color-scheme: dark`` when ``dark``."""
    args = [str(CHROMIUM), "--hide-scrollbars", f"--window-size={size[0]},{size[1]}", f"--screenshot={png}"]
    if dark:
        args.append("--force-dark-mode")
    env = dict(os.environ, HOME=os.environ.get("HOME") or tempfile.gettempdir())
    subprocess.run(args + [url], check=True, capture_output=True, timeout=120, env=env)
    if not png.is_file():
        raise RuntimeError(f"Chromium wrote no {png.name}")
    return png


def sheet_page(pdf: Path, png: Path, page: int = 1, dpi: int = 110) -> Path:
    stem = png.with_suffix("")
    subprocess.run(["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile", "-png",
                    str(pdf), str(stem)], check=True, capture_output=True, timeout=120)
    return png


def epub_chapter(epub: Path, href: str, png: Path, theme: str, work: Path) -> Path:
    """One chapter of ``epub`` under a reader's ``theme`` ("day" or "night")."""
    folder = work / "epub"
    if not folder.is_dir():
        with zipfile.ZipFile(epub) as z:
            z.extractall(folder)
    (page,) = [p for p in folder.rglob(href)]
    shown = page.with_name(f"look-{theme}-{page.name}")
    text = page.read_text("utf-8")
    shown.write_text(text.replace("</head>", f"<style>{READER_THEMES[theme]}</style></head>", 1), "utf-8")
    return screenshot(shown.as_uri(), png, PAGE, dark=theme == "night")


def card_pages(apkg: Path, work: Path, kind: str = "cloze") -> dict[str, str]:
    """A card of ``kind`` as the real Anki renders it: its front and back as HTML pages (with the
    note type's CSS), by day and in night mode."""
    import anki.collection  # noqa: F401  (before the other anki modules)
    from anki.collection import Collection, ImportAnkiPackageRequest

    (work / "anki").mkdir(parents=True, exist_ok=True)
    col = Collection(str(work / "anki" / "collection.anki2"))
    try:
        options = col._backend.get_import_anki_package_presets()
        col.import_anki_package(ImportAnkiPackageRequest(package_path=str(apkg), options=options))
        card = None
        for cid in col.find_cards(""):
            c = col.get_card(cid)
            is_cloze = "cloze" in c.note_type()["name"].lower()
            if (kind == "cloze") == is_cloze and "pub-context" in c.question() and len(c.question()) > 400:
                card = c
                break
        assert card is not None, f"no {kind} card in {apkg}"
        pages = {}
        for side, html in (("front", card.question()), ("back", card.answer())):
            for theme in ("day", "night"):
                night = " nightMode night_mode" if theme == "night" else ""
                pages[f"{side}-{theme}"] = (
                    f'<!DOCTYPE html><html><head><meta charset="utf-8">'
                    f'<meta name="viewport" content="width=device-width"></head>'
                    f'<body class="card card{card.ord + 1}{night}" style="margin:0">{html}</body></html>')
        return pages
    finally:
        col.close()


def render_previews(content: Path, out: Path) -> dict[str, Path]:
    """Build ``content`` and write the previews to ``out``; name -> PNG."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        built = work / "build"
        subprocess.run([sys.executable, "-m", "publisher.cli", "build", str(content), "--out", str(built)],
                       check=True, capture_output=True, timeout=600, cwd=ROOT)
        (pdf,) = built.glob("*-cheatsheet.pdf")
        (epub,) = built.glob("*.epub")
        (apkg,) = built.glob("*.apkg")
        shots = {"sheet-page1": sheet_page(pdf, out / "sheet-page1.png")}
        with zipfile.ZipFile(epub) as z:
            chapters = sorted(n.rpartition("/")[2] for n in z.namelist() if n.endswith(".xhtml") and n.rpartition("/")[2][:2].isdigit())
        href = chapters[1] if len(chapters) > 1 else chapters[0]
        for theme in ("day", "night"):
            shots[f"epub-{theme}"] = epub_chapter(epub, href, out / f"epub-{theme}.png", theme, work)
        for name, page in card_pages(apkg, work).items():
            html = work / f"card-{name}.html"
            html.write_text(page, "utf-8")
            shots[f"card-{name}"] = screenshot(html.as_uri(), out / f"card-{name}.png", PHONE,
                                               dark=name.endswith("night"))
    shots["live-page"] = live_page(content, out / "live-page.png")
    return shots


LIVE = (1280, 860)  # a laptop's browser window


def live_page(content: Path, png: Path, chapter: int = 1) -> Path:
    """The live page of ``publisher watch --serve`` (issue 30) on a chapter of ``content``, as Chromium shows it."""
    import base64

    from cdp import Browser
    from publisher import preview

    site = preview.Site(content)
    site.update()
    server = preview.serve(site, 0)
    browser = Browser("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", f"--window-size={LIVE[0]},{LIVE[1]}")
    try:
        slug = site.order[min(chapter, len(site.order) - 1)]
        browser.open(preview.url(server) + f"c/{slug}")
        browser.send("Emulation.setDeviceMetricsOverride", {"width": LIVE[0], "height": LIVE[1], "deviceScaleFactor": 1,
                                                            "mobile": False})
        shot = browser.send("Page.captureScreenshot", {"format": "png"})
        png.write_bytes(base64.b64decode(shot["data"]))
    finally:
        browser.close()
        server.shutdown()
    return png


# --------------------------------------------------------------------------- what a picture shows


def luminance(rgb: tuple[int, ...]) -> float:
    def lin(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (lin(x) for x in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def text_contrast(png: Path, box: tuple[int, int, int, int] | None = None) -> tuple[float, tuple, tuple]:
    """(WCAG contrast, background, text colour) of a picture of text: the background is its most
    common colour, the text the most common colour that stands apart from it (anti-aliased edges
    are many shades, each rare; a glyph's solid strokes are one)."""
    from PIL import Image

    with Image.open(png) as im:
        rgb = im.convert("RGB")
        if box:
            rgb = rgb.crop(box)
        counts = collections.Counter(rgb.get_flattened_data() if hasattr(rgb, "get_flattened_data") else rgb.getdata())
    background = counts.most_common(1)[0][0]
    ink = [(n, c) for c, n in counts.items() if contrast(c, background) >= 2.0]
    assert ink, f"{png.name}: no text"
    text = max(ink)[1]
    return contrast(text, background), background, text


if __name__ == "__main__":
    content = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "content"
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "build" / "preview"
    for name, path in render_previews(content.resolve(), out.resolve()).items():
        ratio, bg, fg = text_contrast(path)
        print(f"{path}  text {fg} on {bg}: contrast {ratio:.1f}")
