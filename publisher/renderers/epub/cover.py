"""The cover: a PNG (the package's one cover-image) drawn as ``cover.svg`` draws it, and the SVG itself."""

from __future__ import annotations

import hashlib
import io
import json
import textwrap
from pathlib import Path
from typing import Any

from lxml import etree

from ...core import model as m
from ...core.fsutil import KeptFiles
from ...markup import templates
from .xhtml import TEMPLATES


def cover_layout(meta: m.Meta) -> dict[str, Any]:
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


def cover_svg(env: Any, meta: m.Meta, alt: str) -> bytes:
    text = env.get_template(f"{TEMPLATES}/cover.svg").render(alt=alt, **cover_layout(meta))
    root = etree.fromstring(text.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8") + b"\n"


COVER_COLOURS = {"page": "#16324f", "frame": "#f2c14e", "text": "#ffffff", "subtitle": "#f2c14e"}  # as cover.svg


def cover_png(meta: m.Meta, content_dir: Path, cache: Path | None = None) -> bytes:
    """The cover as a PNG (the package's one ``cover-image``: every reading system and store shows a
    raster cover), drawn as cover.svg draws it, with the bundled Noto Sans. Kept in ``cache`` by what it
    is drawn from (its lines, the fonts' bytes, Pillow's version): an optimized PNG takes 0.07 s to encode."""
    import PIL

    layout = cover_layout(meta)
    bold = templates.find("fonts/NotoSans-Bold.ttf", content_dir)
    regular = templates.find("fonts/NotoSans-Regular.ttf", content_dir)
    h = hashlib.sha256(json.dumps([layout, COVER_COLOURS, PIL.__version__], sort_keys=True).encode())
    for font in (bold, regular):
        try:
            h.update(font.read_bytes())
        except OSError:  # (drawing says what is wrong with it)
            h.update(b"\0")
    h.update(Path(__file__).read_bytes())
    kept = KeptFiles(cache, "cover-", ".png")
    key = h.hexdigest()
    png = kept.get(key)
    if png is None:
        png = _draw(layout, str(bold), str(regular))
        kept.put(key, png)
    kept.prune()
    return png


def _draw(layout: dict[str, Any], bold: str, regular: str) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

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


def cover_alt(meta: m.Meta) -> str:
    return f"Cover: {meta.title}" + (f", by {meta.author}" if meta.author else "")
