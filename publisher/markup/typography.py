"""Typographic quotes and dashes for what a reader sees (the sheet, the EPUB), via smartypants.

Applied by the renderers to text as it is written out, never to the model: card identities, slugs and the
deck keep the author's characters. "straight" quotes become curly, ``...`` an ellipsis, and a hyphen with a
space on each side (the notes' usual separator) an en dash. ``--`` stays: in notes it is mostly a command's
option (``--buildspec-override``), not a dash.
"""

from __future__ import annotations

import functools
import re

SPACED_HYPHEN_RE = re.compile(r"(?<=\s)-(?=\s)")


@functools.lru_cache(maxsize=65536)
def typeset(text: str) -> str:
    # smartypants only where it changes something: quotes, "..." and backslashes (it reads escapes); its
    # dozens of patterns cost a tenth of the EPUB's time when run on every piece of text
    if '"' in text or "'" in text or "..." in text or ". . ." in text or "\\" in text:
        import smartypants

        text = smartypants.smartypants(text, smartypants.Attr.q | smartypants.Attr.e | smartypants.Attr.u)
    return SPACED_HYPHEN_RE.sub("\u2013", text) if "-" in text else text
