"""mistune's tokens as the reader meets them, and what reading one file needs: where each token stands
(:class:`Locator`), where diagnostics go and the HTML converter (:class:`Ctx`); the heading marker that
:func:`publisher.read.reader.section_tree` folds into sections."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from ..core import model as m
from ..core.diagnostics import Diagnostic
from . import htmlread

Token = dict[str, Any]


class Locator:
    """Source lines of the file being read. Tokens carry their own line (``_line``, from
    :mod:`publisher.read.mdparse`); a token without one is placed on the last line seen."""

    def __init__(self, file: str, src: str) -> None:
        self.file = file
        self.src = src
        self.lines = src.split("\n")
        self.last = 1

    def at(self, tok: Token, default: int | None = None) -> m.Loc:
        line = tok.get("_line") or default or self.last
        self.last = line
        return m.Loc(self.file, line)


@dataclass(frozen=True)
class HeadingMark:
    """Reader-internal: a heading before :func:`section_tree` folds it into a Section."""

    level: int
    children: tuple[m.Inline, ...]
    loc: m.Loc
    listed: bool = False  # written inside a list item (``1. ### Question``): no level jump is reported
    asks: bool = False  # one of a numbered run of such items: a question, its answer the text under it
    number: int = 0  # its item's number in that run (``4. ### Question``: 4)


@dataclass
class Ctx:
    """Reading one file: its lines, the diagnostics found so far, the HTML converter."""

    loc: Locator
    diags: list[Diagnostic]
    html: htmlread.Html = field(init=False)

    def __post_init__(self) -> None:
        self.html = htmlread.Html(self.loc.file, self.diags, HeadingMark)


def breaks(tok: Token) -> int:
    if tok.get("type") in ("softbreak", "linebreak"):
        return 1
    return sum(breaks(k) for k in tok.get("children") or [])


ENTITY_RE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def decode_entities(text: str) -> str:
    """Character references decoded once, as CommonMark says (mistune leaves them in text for its HTML
    renderer to pass through): ``a &gt; b`` is ``a > b``; an unknown name stays as written; code keeps them."""
    if "&" not in text:
        return text
    return ENTITY_RE.sub(lambda f: _one(f.group()), text)


def _one(ref: str) -> str:
    out = html.unescape(ref)
    if out == ref or (ref[1] == "#" and out == "\ufffd"):  # unknown, or a code point that is none (&#0;)
        return ref if out == ref else "\ufffd"
    return out


def plain_tokens(tokens: list[Token]) -> str:
    out = []
    for t in tokens:
        if t["type"] in ("text", "codespan", "math"):
            out.append(t["raw"] if t["type"] != "text" else decode_entities(t["raw"]))
        elif t["type"] in ("softbreak", "linebreak"):
            out.append("\n")
        elif t.get("children"):
            out.append(plain_tokens(t["children"]))
    return "".join(out)
