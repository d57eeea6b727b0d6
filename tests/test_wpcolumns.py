"""Columns laid out once (renderers/wpcolumns.py, issue 24): the same PDF, less layout."""

from __future__ import annotations

from pathlib import Path

import pytest

weasyprint = pytest.importorskip("weasyprint")

from publisher.renderers import wpcolumns  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHEET_CSS = (ROOT / "templates" / "cheatsheet" / "sheet.css").read_text("utf-8")
CHUNK_CSS = (ROOT / "templates" / "cheatsheet" / "chunk.css").read_text("utf-8")
BASE = (ROOT / "templates" / "cheatsheet").as_uri() + "/"


def _html(sections: int, spanning: bool = False) -> str:
    body = []
    for s in range(sections):
        items = "".join(f"<li>Fact {s}.{i}: a line of text long enough to wrap once in a narrow column "
                        f"of the sheet, with <code>code_{i}</code> and <strong>a term</strong>.</li>" for i in range(12))
        body.append(f"<section><h2 id='s{s}'>Section {s}</h2><ul>{items}</ul>"
                    f"<dl class='defs'><dt>Term {s}</dt><dd>its definition, <a href='#s0'>see above</a></dd></dl></section>")
        if spanning and s == sections // 2:
            body.append("<p style='column-span: all'>A paragraph over every column.</p>")
    style = "@page { size: A4 landscape; } .sheet { columns: 3; }"  # (as sheet.html sets them)
    return f"<html lang='en'><head><style>{style}</style></head><body><main class='sheet'>{''.join(body)}</main></body></html>"


def _layout(source: str, css: list[str], counted: list[int]) -> tuple[bytes, int]:
    from weasyprint.layout import block

    real = block.block_container_layout

    def counting(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        counted[0] += 1
        return real(*args, **kwargs)

    block.block_container_layout = counting
    try:
        doc = weasyprint.HTML(string=source).render(stylesheets=[weasyprint.CSS(string=c, base_url=BASE) for c in css])
        return doc.write_pdf(pdf_identifier=b"x", uncompressed_pdf=True), len(doc.pages)
    finally:
        block.block_container_layout = real


@pytest.mark.parametrize(("css", "spanning", "once"), [
    ([SHEET_CSS, CHUNK_CSS], False, True),  # the sheet's chunks: columns in order, laid out once
    ([SHEET_CSS], False, False),  # balanced columns: WeasyPrint's own two passes
    ([SHEET_CSS, CHUNK_CSS], True, False),  # a block over the columns after them: WeasyPrint's own
])
def test_the_same_pdf_with_less_layout(css: list[str], spanning: bool, once: bool) -> None:
    if not weasyprint.__version__.startswith(wpcolumns.CHECKED):
        pytest.skip(f"WeasyPrint {weasyprint.__version__}: not wrapped (checked on {wpcolumns.CHECKED})")
    source = _html(24, spanning)
    wpcolumns.uninstall()
    own = [0]
    expected = _layout(source, css, own)
    try:
        assert wpcolumns.install()
        wrapped = [0]
        got = _layout(source, css, wrapped)
    finally:
        wpcolumns.uninstall()
    assert expected[1] >= 3  # (pages of columns)
    assert got == expected
    if once:
        assert wrapped[0] < own[0] * 0.8, (wrapped[0], own[0])
    else:
        assert wrapped[0] == own[0]


def test_another_weasyprint_is_left_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    from weasyprint.layout import column

    wpcolumns.uninstall()
    before = column.columns_layout
    monkeypatch.setattr(weasyprint, "__version__", "999.0")
    assert wpcolumns.install() is False
    assert column.columns_layout is before
