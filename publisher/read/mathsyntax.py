"""TeX math in Markdown, as a mistune plugin (after mistune's own ``plugins/math.py``).

Delimiters, following pandoc's ``tex_math_dollars`` and ``tex_math_single_backslash``:

- ``$x$`` inline: the opening ``$`` has a non-space right after it, the closing one a non-space
  right before it and no digit after it, so ``$5 and $10`` stays prices; ``\\$`` is a dollar sign.
- ``$$x$$`` displayed, inline or as lines of their own.
- ``\\(x\\)`` inline and ``\\[x\\]`` displayed.

A ```` ```math ```` fence is a displayed formula too (the reader turns that code block into one).
The tokens are ``math`` with ``raw`` (the TeX) and ``attrs.display``.
"""

from __future__ import annotations

from typing import Any, Match

BLOCK_MATH = (
    r"^ {0,3}(?P<tex_open>\$\$|\\\[)[ \t]*(?P<tex_body>(?:(?!\$\$|\\\])[\s\S])*?)[ \t]*"
    r"(?P<tex_close>\$\$|\\\])[ \t]*(?=\n|$)"
)
# before mistune's escape rule (which would read "\(" as "(")
BACKSLASH_MATH = r"\\\((?P<paren_tex>[\s\S]+?)\\\)|\\\[(?P<bracket_tex>[\s\S]+?)\\\]"
# after it (so "\$" stays a dollar sign)
DOLLAR_MATH = (
    r"\$\$(?P<display_tex>(?:[^$\\]|\\[\s\S])+?)\$\$|"
    r"\$(?![\s$])(?P<dollar_tex>(?:[^$\\\n]|\\[\s\S]|\n(?![ \t]*\n))+?)(?<![\s\\])\$(?!\d)"
)
PAIRS = {"$$": "$$", "\\[": "\\]"}


def parse_block_math(block: Any, m: Match[str], state: Any) -> int | None:
    if PAIRS[m.group("tex_open")] != m.group("tex_close") or not m.group("tex_body").strip():
        return None  # "$$ ... \]": not one formula; let the paragraph rule have it
    state.append_token({"type": "math", "raw": m.group("tex_body").strip(), "attrs": {"display": True}})
    return min(m.end() + 1, len(m.string))


def parse_backslash_math(inline: Any, m: Match[str], state: Any) -> int:
    paren = m.group("paren_tex")
    tex = paren if paren is not None else m.group("bracket_tex")
    state.append_token({"type": "math", "raw": tex.strip(), "attrs": {"display": paren is None}})
    return m.end()


def parse_dollar_math(inline: Any, m: Match[str], state: Any) -> int:
    display = m.group("display_tex")
    tex = display if display is not None else m.group("dollar_tex")
    state.append_token({"type": "math", "raw": tex.strip(), "attrs": {"display": display is not None}})
    return m.end()


def math(md: Any) -> None:
    """Register the block and inline rules (in lists and quotes too)."""
    md.block.register("block_math", BLOCK_MATH, parse_block_math, before="list")
    for rules in (md.block.list_rules, md.block.block_quote_rules):
        md.block.insert_rule(rules, "block_math", before="list")
    md.inline.register("backslash_math", BACKSLASH_MATH, parse_backslash_math, before="escape")
    md.inline.register("dollar_math", DOLLAR_MATH, parse_dollar_math, before="codespan")
