"""mistune, told to remember where each block starts.

mistune 3 gives tokens without source positions. Its block parser dispatches
every construct through ``parse_method`` with the cursor at the construct's
start, and makes a child state for each list item and block quote. A parser
subclass records that start offset on the tokens a call adds (``_start``) and
the child states it makes (``_kids``); :func:`locate` then turns offsets into
source lines (``_line``), walking into list items and quotes, whose text keeps
the source's lines one for one. The reader reads ``_line`` and never searches.
"""

from __future__ import annotations

import re

from typing import Any

import mistune
from mistune.block_parser import BlockParser
from mistune.inline_parser import InlineParser
from mistune.core import BlockState
from mistune.plugins import footnotes

from . import admonitions, gfmtable, mathsyntax

Token = dict[str, Any]
PLUGINS = ["strikethrough", "footnotes", "def_list", "mark"]  # with gfmtable (GitHub's tables), mathsyntax and admonitions


QUOTE_BREAKS = ["blank_line", "thematic_break", "fenced_code", "list", "block_html"]  # (mistune's, in extract_block_quote)
_DOCUMENT_ENV: list[dict[str, Any]] = []  # the document's env while a definition's body is parsed


class _State(BlockState):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.kids: list[_State] = []
        if parent is None and _DOCUMENT_ENV:  # a definition's body: mistune's plugin parses it in a state of
            self.env = _DOCUMENT_ENV[-1]  # its own; its footnotes and references are the document's

    def child_state(self, src: str, lazy_line_starts: Any = None) -> "_State":
        child = super().child_state(src, lazy_line_starts)
        self.kids.append(child)  # type: ignore[arg-type]
        return child  # type: ignore[return-value]

    def add_paragraph(self, text: str) -> None:
        last = self.last_token()
        if last and last["type"] == "paragraph":
            last["text"] += text
        else:
            self.tokens.append({"type": "paragraph", "text": text, "_start": self.cursor})


class _Parser(BlockParser):
    state_cls = _State  # type: ignore[assignment]

    def parse_method(self, m: Any, state: Any) -> int | None:
        n_tokens, n_kids = len(state.tokens), len(getattr(state, "kids", ()))
        # a definition list replaces the paragraph before it (its terms): it starts there
        para_start = next((t.get("_start") for t in reversed(state.tokens[-2:]) if t["type"] == "paragraph"), None)
        _DOCUMENT_ENV.append(state.env)
        try:
            end = super().parse_method(m, state)
        finally:
            _DOCUMENT_ENV.pop()
        # the child states this call made (a nested call that broke a list item claimed its own)
        kids = [k for k in getattr(state, "kids", ())[n_kids:] if not getattr(k, "claimed", False)]
        for tok in state.tokens[max(0, n_tokens - 2):]:
            if "_start" not in tok:
                tok["_start"] = para_start if tok["type"] == "def_list" and para_start is not None else m.start()
                if tok["type"] in ("list", "block_quote", "admonition") and kids:
                    tok["_kids"] = kids
                    for k in kids:
                        k.claimed = True
        return end


    def parse_block_quote(self, m: Any, state: Any) -> int:
        # a quote that breaks a paragraph, then a list marker that breaks no paragraph (an empty item, a number
        # from 2): mistune added that line to the paragraph above the quote and put the quote before that
        # paragraph (the text out of order); with the paragraph out of reach the marker opens a list after the
        # quote, as after any quote
        last = state.last_token()
        if last is None or last["type"] != "paragraph":
            return super().parse_block_quote(m, state)
        guard: Token = {"type": "blank_line"}
        state.tokens.append(guard)
        try:
            return super().parse_block_quote(m, state)
        finally:
            state.tokens[:] = [t for t in state.tokens if t is not guard]

    def compile_sc(self, rules: Any = None) -> Any:
        if rules == QUOTE_BREAKS:  # a block quote's lazy lines: a heading ends the quote (CommonMark), where
            rules = [*rules, "atx_heading"]  # mistune took "## Next" after "> a quote" for the quote's text
        return super().compile_sc(rules)

    def parse_raw_html(self, m: Any, state: Any) -> int | None:
        # a tag's name ends at a space, a tab, the line's end, '>' or '/>' (CommonMark): "<details*>" or
        # "<summary&#0" opens no HTML block (mistune takes any name's prefix), it is a paragraph's text
        if m.group(0).strip() == "<!--" and state.src.startswith((">", "->"), m.end()):
            # "<!-->" and "<!--->" are whole comments (HTML's rule): the block ends with its line (CommonMark),
            # where mistune looked for a "-->" after them and hid the rest of the file
            end_pos = state.find_line_end()
            state.append_token({"type": "block_html", "raw": state.get_text(end_pos)})
            return end_pos
        if m.group(0).strip()[1:2] not in ("!", "?"):
            follows = state.src[m.end():m.end() + 2]
            if follows and follows[0] not in " \t\n>" and follows != "/>":
                return None
        return super().parse_raw_html(m, state)

    def _parse_indent_code_fast(self, state: Any) -> int | None:  # mistune's fast path skips parse_method
        start, n_tokens = state.cursor, len(state.tokens)
        end = super()._parse_indent_code_fast(state)  # type: ignore[misc]
        for tok in state.tokens[n_tokens:]:
            tok.setdefault("_start", start)
        return end


def _ref_footnote(block: Any, m: Any, state: Any) -> int:
    """A footnote's definition; one on a paragraph's next line ends that paragraph (mistune went on with
    the paragraph after it, joining the lines around the definition)."""
    after_paragraph = bool(state.tokens) and state.tokens[-1]["type"] == "paragraph"
    end = footnotes.parse_ref_footnote(block, m, state)
    if after_paragraph:
        state.tokens.append({"type": "blank_line", "_start": m.start()})
    return end


FOOTNOTE_AFTER_BANG_RE = re.compile(r"!\[\^([^\]\s]+)\](?![(\[])")


class _Inline(InlineParser):
    def parse_link(self, m: Any, state: Any) -> int | None:
        # "amazing![^1]": a '!' then a footnote's mark (GitHub's reading), not an image that fails to be one
        found = FOOTNOTE_AFTER_BANG_RE.match(state.src, m.start())
        if found and footnotes.unikey(found.group(1)) in (state.env.get("ref_footnotes") or {}):
            self.process_text("!", state)
            return m.start() + 1
        return super().parse_link(m, state)

    def parse_escape(self, m: Any, state: Any) -> int:
        end = super().parse_escape(m, state)
        if m.group(0) == "\\#":  # "\#word" is no tag: a token no text merges over ends the escaped '#'
            state.append_token({"type": "escape_end", "raw": ""})
        return end


MAX_NESTING = 20  # lists and quotes inside each other: mistune reads deeper ones as text (reported, P009)


def parser() -> mistune.Markdown:
    plugins = ([mistune.plugins.import_plugin(p) for p in PLUGINS]
               + [gfmtable.gfm_table, mathsyntax.math, admonitions.admonitions])
    md = mistune.Markdown(renderer=None, block=_Parser(max_nested_level=MAX_NESTING), inline=_Inline(),
                          plugins=plugins)
    # a footnote's definition needs no space after its colon ("[^1]:text", as GitHub reads it): mistune's
    # pattern wants one, and without it took the line for a link's definition, its text shown nowhere
    md.block.register("ref_footnote", footnotes.REF_FOOTNOTE.replace(r"]:[ \t\n]", r"]:"), _ref_footnote,
                      before="ref_link")
    # and inside list items and quotes too, as GitHub reads them (mistune's plugin adds it at the top only,
    # and there the line was a link's definition: the note's text was shown nowhere)
    for rules in (md.block.list_rules, md.block.block_quote_rules):
        if "ref_footnote" not in rules:
            md.block.insert_rule(rules, "ref_footnote", before="ref_link")
    return md


def locate(tokens: list[Token], src: str, first_line: int = 1) -> None:
    """Give every located token ``_line`` (1-based), recursively into list items and quotes."""
    at, line_at = 0, first_line  # tokens come in order: count the newlines between one and the next
    for tok in tokens:
        start = tok.get("_start")
        if start is None:
            continue
        if start >= at:
            line_at += src.count("\n", at, start)
        else:  # out of order (a token mistune put back): count from the top
            line_at = first_line + src.count("\n", 0, start)
        at = start
        tok["_line"] = line = line_at
        kids = tok.get("_kids") or []
        if tok["type"] == "list":
            items = tok.get("children") or []
            rows: list[str] | None = None
            # item k starts where item k-1's text ended, after the blank lines between them (a loose
            # list): mistune keeps an item's own lines, not the blank ones that follow it
            for n, (item, kid) in enumerate(zip(items, kids)):
                if n:
                    if rows is None:
                        rows = src.split("\n")
                    while 0 <= line - first_line < len(rows) and not rows[line - first_line].strip():
                        line += 1
                item["_line"] = line
                locate(item.get("children") or [], kid.src, line)
                line += max(1, kid.src.count("\n"))
        elif tok["type"] == "block_quote" and kids:
            locate(tok.get("children") or [], kids[0].src, line)
        elif tok["type"] == "admonition" and kids:  # its body starts on the line after the marker
            locate(tok.get("children") or [], kids[0].src, line + 1)
