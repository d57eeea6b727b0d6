"""Superseded claims in the real book: cards ask today's fact, the sheet prints no superseded claim."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

from publisher.markup import html
from publisher.core import model as m
from publisher.pipeline import load
from publisher.renderers import pdf
from publisher.core.text import plain_text, squash, walk_blocks

from conftest import make_book

ROOT = Path(__file__).resolve().parents[1]


def superseded(book: m.Book) -> list[m.Superseded]:
    return [b for ch in book.chapters for b in walk_blocks(ch.blocks) if isinstance(b, m.Superseded)]


def test_every_corrected_claim_is_asked_in_its_current_form() -> None:
    loaded = load(ROOT / "content")
    olds = superseded(loaded.book)
    assert len(olds) >= 12
    asked = 0
    for card in loaded.cards:
        for old in (b for b in card.back if isinstance(b, m.Superseded)):
            front = squash(" ".join(plain_text(b.children) for b in card.front if isinstance(b, m.Para)))
            assert front != squash(plain_text(old.original)), card.identity
            assert old.source.startswith("https://"), card.identity  # every correction names its source
            asked += 1
    assert asked >= 10


def test_the_sheet_prints_no_superseded_claim() -> None:
    loaded = load(ROOT / "content")
    sheet = pdf.document_html(loaded.book, ROOT / "content", "a4", 3)
    text = squash(unescape(re.sub(r"<[^>]+>", " ", sheet)))
    for old in superseded(loaded.book):
        claim = squash(plain_text(old.original))
        assert claim not in text, claim
    assert text.count("updated 20") >= 8 and "corrected" in text


def test_a_correction_keeps_the_cards_identity(tmp_path: Path) -> None:
    before = load(make_book(tmp_path / "a", {"01-a.md": "# A\n\n- Max ==100 buckets== per account\n"})).cards
    after = load(make_book(tmp_path / "b", {"01-a.md": "# A\n\n- Max ==100 buckets== per account\n"
                                            "    > [!UPDATE] 2024-11 https://example.com/news\n"
                                            "    > Max ==10,000 buckets== per account\n"})).cards
    assert [c.identity for c in before] == [c.identity for c in after]
    assert "10,000 buckets" in html.render(after[0].front, html.Options(cloze=True))
