"""Inline tokens to model inlines: text, emphasis, code, math, links, images, notes, pins and card
options in comments, and inline HTML read together with the Markdown around it."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from ..core import model as m
from ..core.diagnostics import diag
from . import htmlread
from .tokens import Ctx, Token, breaks, decode_entities, plain_tokens

PIN_RE = re.compile(r"^<!--\s*id:\s*(.*?)\s*-->$", re.S)
HINT_RE = re.compile(r"^<!--\s*hint:\s*(.*?)\s*-->$", re.S | re.I)
CARD_OPTION_RE = re.compile(r"^<!--\s*cards?:\s*([\w ,-]*?)\s*-->$", re.S | re.I)
FOOTNOTE_REF_RE = re.compile(r"\[\^([^\\\[\]\s]{1,500})\]")  # one mistune left as text: not defined



def inlines(cx: Ctx, tokens: list[Token], where: m.Loc) -> tuple[m.Inline, ...]:
    if not any(t["type"] == "inline_html" and not t["raw"].lstrip().startswith("<!--") for t in tokens):
        return tuple(_plain_inlines(cx, tokens, where))
    # inline HTML tags (<b>, </b>, <br>) arrive one by one: build one tree of tags and Markdown
    tree = htmlread.Tree()
    for tok, here in _placed(tokens, where):
        if tok["type"] == "inline_html" and not tok["raw"].lstrip().startswith("<!--"):
            tree.html(tok["raw"], here.line)
        else:
            node = inline(cx, tok, here)
            if node is not None:
                tree.node(node)
    return tuple(htmlread.to_inlines(cx.html, tree.root.kids, where.line))


def _placed(tokens: list[Token], where: m.Loc) -> list[tuple[Token, m.Loc]]:
    out = []
    for tok in tokens:
        out.append((tok, where))
        lines = breaks(tok)  # what follows a line break is on the next source line
        if lines:
            where = m.Loc(where.file, where.line + lines)
    return out


def _plain_inlines(cx: Ctx, tokens: list[Token], where: m.Loc) -> list[m.Inline]:
    out: list[m.Inline] = []
    for tok, here in _placed(tokens, where):
        if tok["type"] == "inline_html" and (hint := HINT_RE.match(tok["raw"].strip())):
            # ==answer==<!-- hint: ... -->: the hint of the mark just before
            at = len(out) - 1
            while at >= 0 and isinstance(out[at], m.Text) and not out[at].text.strip():
                at -= 1
            if at >= 0 and isinstance(out[at], m.Mark):
                out[at] = replace(out[at], hint=hint.group(1).strip())
            continue
        node = inline(cx, tok, here)
        if node is not None:
            out.append(node)
    return _rules_of_equals(out) if any(isinstance(n, m.Mark) for n in out) else out


def _rules_of_equals(nodes: list[m.Inline]) -> list[m.Inline]:
    """A run of three '=' or more is no mark's delimiter: ``======其他语言代码======`` is a decorative line of
    text, not '====' around a highlight (and no '====' empty mark)."""
    out: list[m.Inline] = []
    for k, n in enumerate(nodes):
        after = nodes[k + 1] if k + 1 < len(nodes) else None
        if isinstance(n, m.Mark) and all(isinstance(c, m.Text) for c in n.children) and (
                (out and isinstance(out[-1], m.Text) and out[-1].text.endswith("="))
                or (isinstance(after, m.Text) and after.text.startswith("="))):
            n = m.Text("==" + "".join(c.text for c in n.children) + "==", n.loc)  # type: ignore[union-attr]
        if isinstance(n, m.Text) and out and isinstance(out[-1], m.Text) and not out[-1].text.endswith("#"):
            out[-1] = replace(out[-1], text=out[-1].text + n.text)  # (not over an escaped '#': it stays no tag)
        else:
            out.append(n)
    return out


def inline(cx: Ctx, tok: Token, where: m.Loc) -> m.Inline | None:
    kind = tok["type"]
    kids = tok.get("children") or []
    match kind:
        case "text":
            for ref in FOOTNOTE_REF_RE.finditer(tok["raw"]):
                cx.diags.append(diag("P124", where.file, where.line, ref.group()))
            return m.Text(unicodedata.normalize("NFC", decode_entities(tok["raw"])), where)
        case "escape_end":  # after an escaped '#': it ends that text ("\\#word" is no tag)
            return None
        case "emphasis":
            return m.Emph(inlines(cx, kids, where), where)
        case "strong":
            return m.Strong(inlines(cx, kids, where), where)
        case "strikethrough":
            return m.Strike(inlines(cx, kids, where), where)
        case "mark":
            return m.Mark(inlines(cx, kids, where), where)
        case "codespan":
            return m.Code(tok["raw"], where)
        case "math":
            return m.Math(tok["raw"], bool(tok.get("attrs", {}).get("display")), where)
        case "link":
            attrs = tok.get("attrs", {})
            return m.Link(attrs.get("url", ""), inlines(cx, kids, where), attrs.get("title") or "", where)
        case "image":
            attrs = tok.get("attrs", {})
            alt = plain_tokens(kids)
            if htmlread.DATA_PICTURE_RE.match(attrs.get("url", "")):  # a picture written in as data: its alt
                return (htmlread.data_picture(where.file, cx.diags, attrs["url"], alt, where) or [m.Text("", where)])[0]
            return m.Image(attrs.get("url", ""), alt, attrs.get("title") or "", where)
        case "footnote_ref":
            return m.FootnoteRef(str(tok["raw"]), where)
        case "linebreak":
            return m.LineBreak(where)
        case "softbreak":
            return m.SoftBreak(where)
        case "inline_html":
            raw = tok["raw"]
            pin = PIN_RE.match(raw.strip())
            if pin:
                return m.Pin(pin.group(1), where)
            option = CARD_OPTION_RE.match(raw.strip())
            if option:
                return m.CardOption(option.group(1).strip().lower(), where)
            if raw.lstrip().startswith("<!--"):
                return None  # an author's comment
            return m.RawInline(raw, where)
        case _:
            cx.diags.append(diag("P118", where.file, where.line, f"unsupported inline {kind!r} kept as text"))
            return m.Text(str(tok.get("raw", "")), where)
