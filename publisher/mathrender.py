"""TeX formulas for each output: MathML for the EPUB (latex2mathml), SVG for the sheet (ziamath), the
delimiters Anki's MathJax reads for the deck. Each result is cached by its formula.

Measured traps (see ``shared/feasibility.md``): ziamath does not shrink scripts at small sizes, so formulas
are drawn at 70 units to the em and scaled in CSS; latex2mathml passes ``\\text{...}`` through unescaped,
so its MathML is checked for well-formedness here and sanitized with the rest of the fragment.
"""

from __future__ import annotations

import functools
import re
import warnings
from dataclasses import dataclass
from xml.etree import ElementTree

SVG_SIZE = 70.0  # ziamath's size: units to the em
UNKNOWN_COMMAND_RE = re.compile(r"<mi>\\([A-Za-z]+)</mi>")
BRACE_RE = re.compile(r"(?<!\\)[{}]")  # braces that group (not \{ or \})
SVG_BOX_RE = re.compile(r'viewBox="([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+)"')


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
        out = _convert(tex, False)
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


def _convert(tex: str, display: bool) -> str:
    import latex2mathml.converter

    return latex2mathml.converter.convert(tex, display="block" if display else "inline")


@functools.lru_cache(maxsize=4096)
def mathml(tex: str, display: bool) -> str | None:
    """A ``<math>`` element with the TeX as its ``alttext`` (None: the formula does not parse)."""
    if problem(tex) is not None:
        return None
    out = _convert(tex, display)
    alt = tex.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    return out.replace("<math ", f'<math alttext="{alt}" ', 1)


@dataclass(frozen=True)
class Svg:
    markup: str  # the SVG document
    height: float  # in em of the text around it
    depth: float  # below the baseline, in em


@functools.lru_cache(maxsize=4096)
def svg(tex: str, display: bool) -> Svg | None:
    """The formula drawn as vector paths (None: it does not parse, or ziamath cannot draw it)."""
    if problem(tex) is not None:
        return None
    try:
        with warnings.catch_warnings():
            # ziamath warns about glyphs its font lacks (drawn blank) and, on import, about pkg_resources
            warnings.simplefilter("ignore")
            import ziamath

            markup = ziamath.Latex(tex, size=SVG_SIZE, margin=0, inline=not display).svg()
    except Exception:  # noqa: BLE001 - ziamath is stricter than latex2mathml on some input
        return None
    box = SVG_BOX_RE.search(markup)
    if box is None:
        return None
    _, top, _, height = (float(v) for v in box.groups())
    return Svg(markup, height / SVG_SIZE, max(0.0, height + top) / SVG_SIZE)


def anki(tex: str, display: bool) -> str:
    """The formula as Anki's MathJax reads it: ``\\(...\\)`` or ``\\[...\\]``. Braces and colons are
    spaced apart so that a formula inside a cloze never ends the deletion early (Anki's ``}}`` rule)."""
    body = tex
    while "}}" in body or "::" in body:
        body = body.replace("}}", "} }").replace("::", ": :")
    return ("\\[" + body + "\\]") if display else ("\\(" + body + "\\)")
