"""Front matter: YAML between ``---`` lines or TOML between ``+++`` lines at the top of a file.

It is metadata, never text: the reader blanks its lines (so line numbers stay
true) and keeps ``title``, ``tags``, ``aliases`` and ``cards``. Other keys are
ignored silently (Obsidian, Jekyll and Hugo write many).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from typing import Any

from ..core.diagnostics import Diagnostic, diag

YAML_RE = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
TOML_RE = re.compile(r"\A\+\+\+[ \t]*\n(.*?\n)?\+\+\+[ \t]*(?:\n|\Z)", re.S)
TAG_CLEAN_RE = re.compile(r"[^\w/:.-]+")


MAX_TITLE = 300  # characters: a title is a heading and a deck's name, never a paragraph

@dataclass(frozen=True)
class FrontMatter:
    title: str = ""
    tags: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    cards: bool = True
    lines: int = 0  # how many lines it took (0: none)


def split(text: str, file: str) -> tuple[FrontMatter, str, list[Diagnostic]]:
    """(metadata, the text with the front matter's lines blank, diagnostics)."""
    found = YAML_RE.match(text)
    kind = "yaml"
    if not found:
        found, kind = TOML_RE.match(text), "toml"
    if not found:
        return FrontMatter(), text, []
    body = found.group(1) or ""
    n_lines = found.group(0).count("\n") + (0 if found.group(0).endswith("\n") else 1)
    blanked = "\n" * found.group(0).count("\n") + text[found.end():]
    diags: list[Diagnostic] = []
    data: Any = {}
    try:
        if kind == "yaml":
            import yaml

            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when the wheel has it: 10x faster
            data = yaml.load(body, Loader=loader) if body.strip() else {}
        else:
            data = tomllib.loads(body)
    except Exception as exc:  # noqa: BLE001 - any parse failure is the author's, reported
        line = 1
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            line = mark.line + 2
        elif (lineno := getattr(exc, "lineno", None)) is not None:
            line = lineno + 1
        reason = str(getattr(exc, "problem", "") or exc).split("\n")[0]
        diags.append(diag("P011", file, line, f"front matter is not valid {kind.upper()} ({reason}); it is left out"))
        return FrontMatter(lines=n_lines), blanked, diags
    if not isinstance(data, dict):
        return FrontMatter(lines=n_lines), blanked, diags
    title = _text(data.get("title"))
    if len(title) > MAX_TITLE:
        diags.append(diag("P011", file, 1, f"the title is {len(title):,} characters long (at most {MAX_TITLE}): "
                                           "it is left out, and the heading or file name gives the title"))
        title = ""
    cards = data.get("cards", True)
    if isinstance(cards, str):
        cards = cards.strip().lower() not in ("false", "no", "off", "0")
    return FrontMatter(
        title=title,
        tags=tuple(dict.fromkeys(t for t in (anki_tag(x) for x in _strings(data.get("tags", data.get("tag")))) if t)),
        aliases=tuple(dict.fromkeys(a for a in _strings(data.get("aliases", data.get("alias"))) if a)),
        cards=bool(cards),
        lines=n_lines,
    ), blanked, diags


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if isinstance(value, (str, int, float)) else ""


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [p for p in re.split(r"[,\s]+", value) if p] if "," in value or " " in value.strip() else [value.strip()]
    if isinstance(value, (list, tuple)):
        return [_text(v) for v in value if _text(v)]
    return [_text(value)] if _text(value) else []


def anki_tag(tag: str) -> str:
    """A tag as Anki takes it: no spaces, ``#`` dropped, ``a/b`` nested as ``a::b``."""
    tag = tag.strip().lstrip("#")
    tag = TAG_CLEAN_RE.sub("_", tag).strip("_/")
    return "::".join(p for p in tag.split("/") if p)
