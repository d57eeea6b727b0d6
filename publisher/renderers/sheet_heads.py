"""Running heads of the cheat sheet: which column tops continue a chapter, read from WeasyPrint's layout.

A column (or page) that starts inside a chapter gets a head in the margin above it, "S3 › Encryption
(cont.)": the chapter, then each section it is still inside. It is drawn in the page's top margin,
never in the flow, so adding it moves nothing: the layout is read once, the heads are laid out as a
small document of their own and stamped on the pages (``templates/cheatsheet/footers.html``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Iterator

SECTIONS = ("chapter", "level2", "level3")  # the classes of the sheet's <section>s (sheet.html, html.py)
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


@dataclass(frozen=True)
class Head:
    left: float  # CSS px from the left of the page's content area
    width: float  # the column's width, CSS px
    text: str  # "S3 › Encryption", without "(cont.)"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _local(tag: object) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _title(element: Any) -> str:
    """The text of a section's own heading (a continued chapter's band without its "(cont.)")."""
    for child in element:
        if _local(child.tag) in HEADINGS:
            parts = [child.text or ""]
            for sub in child:
                if "cont" not in (sub.get("class") or "").split():
                    parts.append("".join(sub.itertext()))
                parts.append(sub.tail or "")
            return " ".join("".join(parts).split())
    return ""


def _boxes(box: Any) -> list[Any]:
    return [c for c in getattr(box, "children", ()) if getattr(c, "element", None) is not None]


def _multicol(page_box: Any) -> Any:
    """The sheet's multi-column <main> box on one page (None if the page has none)."""
    stack = [page_box]
    while stack:
        box = stack.pop(0)
        el = getattr(box, "element", None)
        if el is not None and getattr(box, "element_tag", "") == "main" and "sheet" in (el.get("class") or "").split():
            return box
        stack[:0] = _boxes(box)
    return None


def _columns(page_box: Any) -> list[Any]:
    """The column boxes of the sheet's multi-column <main> on one page (the <main> itself if it has none)."""
    box = _multicol(page_box)
    if box is None:
        return []
    kids = _boxes(box)
    return kids if kids and all(k.element is box.element for k in kids) else [box]


def continued(column: Any) -> list[str]:
    """The titles of the chapter and sections a column starts inside of ([] when it starts a chapter)."""
    titles: list[str] = []
    box = column
    while True:
        kids = _boxes(box)
        if not kids:
            break
        first = kids[0]
        classes = (first.element.get("class") or "").split()
        if first.element_tag == "section" and any(c in classes for c in SECTIONS):
            inner = _boxes(first)
            if inner and inner[0].element_tag in HEADINGS:
                break  # it starts here with its heading (or a long chapter's next piece, with its band)
            title = _title(first.element)
            if title:
                titles.append(title)
        elif first.element_tag not in ("div", "main"):
            break  # a paragraph, a list, a part's heading: what is above it is known
        box = first
    return titles


def running_heads(document: Any) -> list[list[Head]]:
    """Per page of a rendered WeasyPrint document, the heads of the columns that continue a chapter."""
    out: list[list[Head]] = []
    for page in document.pages:
        page_box = page._page_box
        x0 = page_box.content_box_x()
        heads = []
        for column in _columns(page_box):
            titles = continued(column)
            if titles:
                heads.append(Head(round(column.position_x - x0, 2), round(column.width, 2), " \u203a ".join(titles)))
        out.append(heads)
    return out


def from_record(pages: list[list[dict[str, Any]]]) -> Iterator[list[Head]]:
    for heads in pages:
        yield [Head(**h) for h in heads]


# --------------------------------------------------------------------------- the shape of a laid-out piece


def _only_skips(column: Any) -> bool:
    """Whether a column holds nothing but the empty blocks that skip columns (``.column-skip``)."""
    stack = list(_boxes(column))
    while stack:
        box = stack.pop()
        if "column-skip" in (box.element.get("class") or "").split():
            continue
        if box.element_tag != "main":
            return False
        stack += _boxes(box)
    return True


def shape(document: Any) -> dict[str, Any]:
    """Where a piece of the sheet ends and starts (chunk.css lays the columns out in order, never balanced):

    - ``columns``: the columns the last page uses (a part-filled last one included);
    - ``fill``: how much of the last column's height is used (0 to 1);
    - ``skipped``: the columns at the top of the first page left empty (``.column-skip``, for the page the
      piece before ends on).

    ``columns`` is -1 when the last page's <main> is not plain columns (a block spanning them all).
    """
    out: dict[str, Any] = {"columns": 0, "fill": 1.0, "skipped": 0}
    if not document.pages:
        return out
    last = document.pages[-1]._page_box
    cols = _columns(last)
    out["columns"] = -1 if cols and cols[0] is _multicol(last) else len(cols)
    if out["columns"] > 0:
        column = cols[-1]
        top = column.position_y
        room = last.content_box_y() + last.height - top
        bottom = max((b.position_y + b.margin_height() for b in _boxes(column)), default=top)
        out["fill"] = round(max(0.0, min(1.0, (bottom - top) / room)) if room > 0 else 1.0, 4)
    first = document.pages[0]._page_box
    cols = _columns(first)
    skipped = 0
    while skipped < len(cols) and _only_skips(cols[skipped]):
        skipped += 1
    out["skipped"] = skipped
    return out
