"""Whether a TeX formula is one the outputs can show: the parse that validation needs (latex2mathml), kept
apart from drawing it (``markup.mathrender``)."""

from __future__ import annotations

import functools
import re
from xml.etree import ElementTree

UNKNOWN_COMMAND_RE = re.compile(r"<mi>\\([A-Za-z]+)</mi>")
BRACE_RE = re.compile(r"(?<!\\)[{}]")  # braces that group (not \{ or \})


@functools.lru_cache(maxsize=4096)
def problem(tex: str) -> str | None:
    """Why ``tex`` is not a formula the outputs can show (None: it is)."""
    if not tex.strip():
        return "empty formula"
    depth = 0
    for brace in BRACE_RE.findall(tex):
        depth += 1 if brace == "{" else -1
        if depth < 0:
            return "a '}' without its '{'"
    if depth:
        return "a '{' that is never closed"
    try:
        out = convert(tex, False)
    except Exception as exc:  # noqa: BLE001 - latex2mathml raises many kinds; each is the author's TeX
        return _reason(exc)
    unknown = UNKNOWN_COMMAND_RE.search(out)
    if unknown:
        return f"unknown command \\{unknown.group(1)}"
    try:
        ElementTree.fromstring(out)
    except ElementTree.ParseError:
        return "text that is not plain text (<, > or &) inside \\text{}"
    return None


def _reason(exc: Exception) -> str:
    name = re.sub(r"(?<!^)(?=[A-Z])", " ", type(exc).__name__).lower().removesuffix(" error")
    detail = str(exc).strip()
    return f"{name}: {detail}" if detail else name


# LaTeX's operator names that latex2mathml does not know, written as the operators they are
OPERATORS_RE = re.compile(r"\\(arg)(?![A-Za-z])")


TT_RE = re.compile(r"\\tt(?![A-Za-z])\s*")


def standard(tex: str) -> str:
    """``tex`` with LaTeX's operator names the converters lack spelled out (``\\arg`` is
    ``\\operatorname{arg}``), and TeX's ``\\tt`` switch (monospace to the end of its group, which the
    converters apply to one letter) as ``\\mathtt{...}``."""
    if "\\" not in tex:
        return tex
    tex = OPERATORS_RE.sub(r"\\operatorname{\1}", tex)
    if "\\tt" not in tex:
        return tex
    out, at = [], 0
    while (found := TT_RE.search(tex, at)) is not None:
        end, depth = found.end(), 0
        while end < len(tex):  # the end of the group the switch stands in
            c = tex[end]
            if c == "\\":
                end += 2
                continue
            if c == "{":
                depth += 1
            elif c == "}":
                if depth == 0:
                    break
                depth -= 1
            end += 1
        out.append(tex[at:found.start()] + "\\mathtt{" + tex[found.end():end] + "}")
        at = end
    return "".join(out) + tex[at:]


def convert(tex: str, display: bool) -> str:
    import latex2mathml.converter

    return latex2mathml.converter.convert(standard(tex), display="block" if display else "inline")
