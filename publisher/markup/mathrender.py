"""TeX formulas for each output: MathML for the EPUB (latex2mathml), SVG for the sheet (ziamath), the
delimiters Anki's MathJax reads for the deck. Each result is cached by its formula.

Measured traps (see ``shared/feasibility.md``): ziamath does not shrink scripts at small sizes, so formulas
are drawn at 70 units to the em and scaled in CSS; latex2mathml passes ``\\text{...}`` through unescaped,
so its MathML is checked for well-formedness (``read.formula``) and sanitized with the rest of the fragment.
"""

from __future__ import annotations

import functools
import re
import warnings
from dataclasses import dataclass

from ..read.formula import convert, problem, standard

SVG_SIZE = 70.0  # ziamath's size: units to the em
SVG_BOX_RE = re.compile(r'viewBox="([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+)"')


@functools.lru_cache(maxsize=4096)
def mathml(tex: str, display: bool) -> str | None:
    """A ``<math>`` element with the TeX as its ``alttext`` (None: the formula does not parse)."""
    if problem(tex) is not None:
        return None
    out = convert(tex, display)
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

            markup = ziamath.Latex(standard(tex), size=SVG_SIZE, margin=0, inline=not display).svg()
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
