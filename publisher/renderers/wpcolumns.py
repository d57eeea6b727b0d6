"""Columns that fill in order, laid out once (issue 24: the sheet's layout time).

WeasyPrint lays out a multi-column box twice per page: a first pass measures the height its columns
need (to balance them), then the columns are laid out for real at that height. Columns that fill in
order (``column-fill: auto``, as the sheet's chunks use) with nothing after them that spans the columns
never balance: their height is the page's, whatever the first pass finds. That pass is a third of the
sheet's layout time, and thrown away.

:func:`install` wraps WeasyPrint's ``columns_layout``: for such a box, the first pass's first column is
answered "nothing laid out", which WeasyPrint reads as "the columns take the page's height" (what the
pass would have found), and the columns are laid out once, for real. Every other box (balanced columns,
a block spanning the columns after them, footnotes in the page) goes through WeasyPrint unchanged.

The PDF is byte-identical with and without it (``tests/test_wpcolumns.py`` lays out a sheet both ways).
It is installed only on the WeasyPrint versions that test was run on (:data:`CHECKED`): on another one
the layout is WeasyPrint's own, only slower.
"""

from __future__ import annotations

import functools

CHECKED = ("70.",)  # WeasyPrint versions whose columns_layout this was checked against (its first pass)

_original = None  # WeasyPrint's own columns_layout, once wrapped


def install() -> bool:
    """Wrap WeasyPrint's ``columns_layout`` (once); whether it is wrapped."""
    global _original
    if _original is not None:
        return True
    import weasyprint
    from weasyprint.layout import block, column

    if not weasyprint.__version__.startswith(CHECKED):
        return False
    original = column.columns_layout

    @functools.wraps(original)
    def columns_layout(context, box, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202 - WeasyPrint's own
        if not _fills_in_order(context, box):
            return original(context, box, *args, **kwargs)
        real = block.block_box_layout
        skipped = False

        def block_box_layout(context, box, *a, **kw):  # noqa: ANN001, ANN002, ANN003, ANN202
            nonlocal skipped
            if not skipped and getattr(box, "is_column", False):
                # the measuring pass's first column: "nothing laid out" ends the pass at the page's height
                skipped = True
                return None, None, {"break": "any", "page": None}, [], False, None
            return real(context, box, *a, **kw)

        block.block_box_layout = block_box_layout  # (columns_layout imports it when called)
        try:
            return original(context, box, *args, **kwargs)
        finally:
            block.block_box_layout = real

    column.columns_layout = columns_layout
    block.columns_layout = columns_layout  # (block.py imported the name)
    _original = original
    return True


def uninstall() -> None:
    """WeasyPrint's own columns_layout again (the tests compare both layouts)."""
    global _original
    if _original is not None:
        from weasyprint.layout import block, column

        column.columns_layout = block.columns_layout = _original
        _original = None


def _fills_in_order(context, box) -> bool:  # noqa: ANN001 - WeasyPrint's layout context and box
    """Columns whose height is the page's: they fill in order, no block spans the columns after them, and
    the page has no footnote area (its height would change the columns')."""
    if box.style["column_fill"] != "auto" or box.style["height"] != "auto":
        return False
    if any(child.style["column_span"] == "all" for child in box.children):
        return False
    return context.current_footnote_area.height == "auto" and not context.current_page_footnotes
