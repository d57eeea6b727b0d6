"""TeX math in Markdown, as a mistune plugin (after mistune's own ``plugins/math.py``).

Delimiters, following pandoc's ``tex_math_dollars`` and ``tex_math_single_backslash``:

- ``$x$`` inline: the opening ``$`` has a non-space right after it, the closing one a non-space
  right before it and no digit after it, so ``$5 and $10`` stays prices; ``\\$`` is a dollar sign.
- ``$$x$$`` displayed, as lines of their own or alone on its line; in a line of words (``a proportion $$p$$
  of``, ``is $$Ax = b$$.``), inline, as GitBook and kramdown read it.
- ``\\(x\\)`` inline and ``\\[x\\]`` displayed; around words with no TeX sign (``\\(i.e. a note\\)``)
  or a number (``\\[1\\]``) they are Markdown's escaped brackets.

A ```` ```math ```` fence is a displayed formula too (the reader turns that code block into one).
The tokens are ``math`` with ``raw`` (the TeX) and ``attrs.display``.
"""

from __future__ import annotations

import re
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
    if m.group("tex_open") == "\\[" and _escaped_brackets(m.group("tex_body")):
        return None  # "\[1\]" alone on its line: Markdown's escaped brackets (a reference's number), as inline
    state.append_token({"type": "math", "raw": m.group("tex_body").strip(), "attrs": {"display": True}})
    return min(m.end() + 1, len(m.string))


# TeX's marks: a command, a script, a group, a relation
TEX_SIGN_RE = re.compile(r"\\[A-Za-z]|[\^_{}=]")
PROSE_WORD_RE = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}")


def _escaped_brackets(tex: str) -> bool:
    """``\\(i.e. a 40% chance\\)`` and ``\\[1\\]``: Markdown's escaped brackets around words or a number
    (as GitBook notes write them), not a formula: no TeX sign, and three words or more, Markdown or a number."""
    if "$" in tex or "](" in tex or "**" in tex:  # a formula, a link or bold inside brackets: Markdown
        return True
    if TEX_SIGN_RE.search(tex):
        return False
    # a word of three letters or more ("\\(dead ReLUs\\)", "\\(SVD\\)"): a formula's letters are one each
    return (any(len(w) >= 3 for w in PROSE_WORD_RE.findall(tex)) or "](" in tex or "**" in tex
            or re.fullmatch(r"\s*\d[\d.,]*\s*", tex) is not None)


def parse_backslash_math(inline: Any, m: Match[str], state: Any) -> int:
    paren = m.group("paren_tex")
    tex = paren if paren is not None else m.group("bracket_tex")
    if _escaped_brackets(tex):  # the escape rule's reading: "(" and what follows, as text
        state.append_token({"type": "text", "raw": m.group()[1]})
        return m.start() + 2
    state.append_token({"type": "math", "raw": tex.strip(), "attrs": {"display": paren is None}})
    return m.end()


# an HTML tag: no formula holds one ("your $PATH <code>PATH="$PATH"</code>": two dollars of a shell, not TeX)
HTML_TAG_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")


def parse_dollar_math(inline: Any, m: Match[str], state: Any) -> int | None:
    display = m.group("display_tex")
    tex = display if display is not None else m.group("dollar_tex")
    if "<" in tex and HTML_TAG_RE.search(tex):
        return None  # the dollar is text
    if display is not None:
        # "a proportion $$p$$ of the trials", "is $$Ax = b$$.", "$$k$$-fold": in a line of words, inline math
        # (as GitBook and kramdown read it); displayed when nothing but punctuation stands beside it
        src = state.src
        before = src[src.rfind("\n", 0, m.start()) + 1:m.start()]
        after_end = src.find("\n", m.end())
        after = src[m.end():after_end if after_end >= 0 else len(src)]
        if re.search(r"\w", before) or re.search(r"\w", after):
            display = None
    state.append_token({"type": "math", "raw": tex.strip(), "attrs": {"display": display is not None}})
    return m.end()


def math(md: Any) -> None:
    """Register the block and inline rules (in lists and quotes too)."""
    md.block.register("block_math", BLOCK_MATH, parse_block_math, before="list")
    for rules in (md.block.list_rules, md.block.block_quote_rules):
        md.block.insert_rule(rules, "block_math", before="list")
    # (the characters each starts with: mistune then reads the text between them at once; without them it
    # searched every rule from each character, quadratic on a long run of spaces after a backtick)
    md.inline.register("backslash_math", BACKSLASH_MATH, parse_backslash_math, before="escape", start_chars="\\")
    md.inline.register("dollar_math", DOLLAR_MATH, parse_dollar_math, before="codespan", start_chars="$")
