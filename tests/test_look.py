"""The look test (issue 16): sheet page 1, an EPUB chapter and a card, day and night, rendered to PNG
by the real tools (poppler, headless Chromium, the anki package) and judged as a reader sees them."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest

import look

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return look.render_previews(ROOT / "content", tmp_path_factory.mktemp("preview"))


@pytest.mark.slow
def test_every_preview_is_written(shots: dict[str, Path]) -> None:
    assert set(shots) == {"sheet-page1", "epub-day", "epub-night", "card-front-day", "card-front-night",
                          "card-back-day", "card-back-night", "live-page"}
    assert all(p.is_file() and p.stat().st_size > 5000 for p in shots.values())


@pytest.mark.slow
def test_text_stands_out_from_its_background_day_and_night(shots: dict[str, Path]) -> None:
    for name, png in shots.items():
        ratio, background, text = look.text_contrast(png)
        assert ratio >= 4.5, (name, background, text, ratio)  # WCAG AA for body text


@pytest.mark.slow
def test_the_ebook_follows_the_readers_theme_and_the_card_anki_night_mode(shots: dict[str, Path]) -> None:
    """The book sets no page colour: the reader's day and night backgrounds show, and the text is the
    reader's; Anki's night mode turns the card dark."""
    _, day_bg, day_text = look.text_contrast(shots["epub-day"])
    _, night_bg, night_text = look.text_contrast(shots["epub-night"])
    assert (day_bg, night_bg) == ((255, 255, 255), (18, 18, 18))
    assert (day_text, night_text) == ((26, 26, 26), (227, 227, 227))  # READER_THEMES' own colours
    for side in ("front", "back"):
        assert look.luminance(look.text_contrast(shots[f"card-{side}-day"])[1]) > 0.9
        assert look.luminance(look.text_contrast(shots[f"card-{side}-night"])[1]) < 0.05


@pytest.mark.slow
def test_no_ink_between_the_sheets_columns_and_no_running_head_missing(shots: dict[str, Path]) -> None:
    """Between two columns there is only the column rule: no glyph spills over from either side. And a
    column that does not open with a chapter's band has its running head in the margin above it."""
    from PIL import Image

    with Image.open(shots["sheet-page1"]) as im:
        rgb = im.convert("RGB")
    width, height = rgb.size
    top, bottom = int(height * 0.08), int(height * 0.95)  # below the title block, above the footer
    px = rgb.load()
    # the column rule (sheet.css: 0.4pt, light grey): a line of one pale colour down most of the page
    def rule_at(x: int) -> bool:
        column = collections.Counter(px[x, y] for y in range(top, bottom, 4))
        colour, n = column.most_common(1)[0]
        return colour != (255, 255, 255) and look.luminance(colour) > 0.6 and n > (bottom - top) / 4 * 0.6

    rules = [x for x in range(width) if rule_at(x)]
    centres = [x for i, x in enumerate(rules) if i == 0 or x - rules[i - 1] > 3]
    assert len(centres) == 2, rules  # three columns
    gap = round(4.5 / 25.4 * 110 / 2) - 1  # half of sheet.css's 4.5 mm column gap at 110 dpi, less a pixel
    spilled = [(x, y) for c in centres for x in (*range(c - gap, c - 1), *range(c + 2, c + gap))
               for y in range(top, bottom) if look.luminance(px[x, y]) < 0.35]
    assert spilled == []

    # no running head missing: a column whose top is not a chapter's band has its head in the margin above
    margin = round(7 / 25.4 * 110)  # sheet.css: the top margin, 7 mm
    band = (0x1D, 0x4F, 0x7C)  # a chapter's band, and the title block's rule
    title_rule = next(y for y in range(margin, height // 4)
                      if sum(px[x, y] == band for x in range(0, width, 4)) > width / 4 * 0.8)
    spans = [(gap, centres[0] - gap), (centres[0] + gap, centres[1] - gap), (centres[1] + gap, width - gap)]
    missing = []
    for n, (x0, x1) in enumerate(spans, 1):
        first = next(y for y in range(title_rule + 2, height) if any(look.luminance(px[x, y]) < 0.35 for x in range(x0, x1)))
        opens_chapter = sum(px[x, first + 2] == band for x in range(x0, x1)) > (x1 - x0) * 0.8
        head = any(look.luminance(px[x, y]) < 0.35 for x in range(x0, x1) for y in range(2, margin))
        if not opens_chapter and not head:
            missing.append(n)
    assert missing == [], f"columns without their running head on page 1: {missing}"
