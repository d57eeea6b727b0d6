"""``book.toml``: the book's metadata and fixed ids. Optional; checked strictly when present."""

from __future__ import annotations

import difflib
import hashlib
import re
import tomllib
from pathlib import Path
from typing import Any

from ..core.diagnostics import Diagnostic, diag
from ..core.fsutil import inside
from ..core.model import FlashcardSyntax, Ids, Meta
from .flashcards import pattern_delimiters
from ..core.text import slugify

# key -> expected type(s)
TOP_KEYS: dict[str, type | tuple[type, ...]] = {
    "title": str,
    "subtitle": str,
    "short_name": str,
    "author": str,
    "source": str,
    "language": str,
    "version": str,
    "date": str,
    "license": str,
    "subdecks": bool,
    "keep_removed": bool,
    "paper": str,
    "columns": int,
    "page_budget": int,
    "emphasis": str,
    "max_answer_words": int,
    "strict": bool,
    "include": list,
    "exclude": list,
    "ids": dict,
    "flashcards": dict,
}
# the longest each text may be: a title is a line on a cover and a running footer, never a megabyte
MAX_CHARS = {"title": 200, "subtitle": 300, "short_name": 40, "author": 200, "source": 500, "language": 35,
             "version": 40, "date": 40, "license": 200, "paper": 10, "emphasis": 20}
MAX_GLOBS = 200
MAX_BOOK_TOML = 64 * 1024
ID_KEYS: dict[str, type] = {"deck": int, "basic_model": int, "cloze_model": int, "epub": str}
# [flashcards]: the Spaced Repetition plugin's settings, named as its settings page names them
FLASHCARD_KEYS: dict[str, type] = {
    "tags": list, "all_files": bool, "separator": str, "reversed_separator": str, "multiline_separator": str,
    "multiline_reversed_separator": str, "end_marker": str, "bold_clozes": bool, "curly_clozes": bool,
    "cloze_patterns": list,
}
_FLASHCARD_FIELDS = {"separator": "inline", "reversed_separator": "inline_reversed", "multiline_separator": "multiline",
                     "multiline_reversed_separator": "multiline_reversed"}


def derived_id(seed: str, what: str) -> int:
    """A stable 41-bit id (Anki's ids are millisecond-like ints) from the book title."""
    digest = hashlib.sha256(f"publisher:{seed}:{what}".encode()).digest()
    return 1 << 40 | int.from_bytes(digest[:5], "big")


def derived_uuid(seed: str) -> str:
    digest = hashlib.sha256(f"publisher:{seed}:epub".encode()).hexdigest()
    return f"urn:uuid:{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-8{digest[17:20]}-{digest[20:32]}"


def _hint(key: str, known: dict[str, Any]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


MDBOOK_TABLES = ("book", "build", "output", "preprocessor", "rust")  # mdBook's own book.toml (its tables)


def _from_mdbook(data: dict[str, Any]) -> dict[str, Any]:
    """An mdBook's ``book.toml`` read for what it says of the book (``[book]``: title, authors, language,
    description); its other tables (the HTML output's, the preprocessors') are mdBook's, not ours."""
    book = data.get("book")
    if not isinstance(book, dict) or "title" in data:
        return data
    out = {k: v for k, v in data.items() if k not in MDBOOK_TABLES}
    if isinstance(book.get("title"), str):
        out["title"] = book["title"]
    if isinstance(book.get("authors"), list) and all(isinstance(a, str) for a in book["authors"]) and book["authors"]:
        out["author"] = ", ".join(book["authors"])
    if isinstance(book.get("language"), str):
        out["language"] = book["language"]
    if isinstance(book.get("description"), str) and "subtitle" not in out:
        out["subtitle"] = book["description"]
    return out


def mdbook_src(folder: Path) -> str | None:
    """The folder of an mdBook's pages (``[book] src``, ``src`` when it says none), None when the folder's
    ``book.toml`` is not an mdBook's."""
    try:
        data = tomllib.loads((folder / "book.toml").read_bytes()[:MAX_BOOK_TOML].decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    book = data.get("book")
    if not isinstance(book, dict) or "title" in data:
        return None
    src = book.get("src", "src")
    return src.strip("/") if isinstance(src, str) and src.strip("/") and ".." not in src else None


def read_meta(folder: Path, shown: str) -> tuple[Meta, list[Diagnostic]]:
    path = folder / "book.toml"
    file = f"{shown}/book.toml"
    fallback_title = folder.resolve().name.replace("-", " ").replace("_", " ").strip().title() or "Notes"
    diags: list[Diagnostic] = []
    data: dict[str, Any] = {}
    if path.is_file() and not inside(folder, path):
        diags.append(diag("P112", file, 0, "a link to a file outside the content folder: not read"))
    elif not path.is_file():
        diags.append(diag("P006", file, 0, f"no book.toml: title '{fallback_title}' from the folder name, ids from the title"))
    else:
        try:
            size = path.stat().st_size
            if size > MAX_BOOK_TOML:  # known before reading it
                diags.append(diag("P004", file, 1, f"{size:,} bytes: a book.toml holds a few settings "
                                                   f"(at most {MAX_BOOK_TOML:,} bytes)"))
            else:
                data = tomllib.loads(path.read_bytes().decode("utf-8"))
        except UnicodeDecodeError:
            diags.append(diag("P001", file, 1))
        except OSError as exc:
            diags.append(diag("P010", file, 0, exc.strerror or str(exc)))
        except tomllib.TOMLDecodeError as exc:
            line = getattr(exc, "lineno", None) or _line_from_message(str(exc))
            diags.append(diag("P004", file, line, str(exc)))
    data = _from_mdbook(data)
    clean: dict[str, Any] = {}
    for key, value in data.items():
        if key not in TOP_KEYS:
            diags.append(diag("P008", file, _line_of(path, key), f"'{key}'{_hint(key, TOP_KEYS)}"))
        elif not isinstance(value, TOP_KEYS[key]) or (TOP_KEYS[key] is int and isinstance(value, bool)):
            want = TOP_KEYS[key].__name__ if isinstance(TOP_KEYS[key], type) else "value"
            diags.append(diag("P004", file, _line_of(path, key), f"'{key}' must be a {_tname(want)}"))
        elif isinstance(value, str) and len(value) > MAX_CHARS.get(key, 1000):
            diags.append(diag("P004", file, _line_of(path, key), f"'{key}' is {len(value):,} characters long "
                                                                 f"(at most {MAX_CHARS.get(key, 1000):,})"))
        elif isinstance(value, list) and len(value) > MAX_GLOBS:
            diags.append(diag("P004", file, _line_of(path, key), f"'{key}' lists {len(value):,} patterns (at most {MAX_GLOBS})"))
        else:
            clean[key] = value
    title = str(clean.get("title") or fallback_title)
    seed = title
    ids_in = clean.get("ids", {})
    ids: dict[str, Any] = {}
    for key, value in ids_in.items():
        if key not in ID_KEYS:
            diags.append(diag("P008", file, _line_of(path, key), f"'ids.{key}'{_hint(key, ID_KEYS)}"))
        elif not isinstance(value, ID_KEYS[key]) or isinstance(value, bool):
            diags.append(diag("P004", file, _line_of(path, key), f"'ids.{key}' must be a {_tname(ID_KEYS[key].__name__)}"))
        elif ID_KEYS[key] is int and not (1 <= value < 2**63):
            diags.append(diag("P004", file, _line_of(path, key), f"'ids.{key}' must be a positive 64-bit integer"))
        else:
            ids[key] = value
    if path.is_file() and data and "ids" not in data:
        diags.append(diag("P006", file, 1, "no [ids] table in book.toml: ids derived from the title"))
    for key in ("paper",):
        if key in clean and clean[key] not in ("a4", "letter"):
            diags.append(diag("P004", file, _line_of(path, key), "'paper' must be 'a4' or 'letter'"))
            clean.pop(key)
    for key in ("include", "exclude"):
        if key in clean and not all(isinstance(x, str) for x in clean[key]):
            diags.append(diag("P004", file, _line_of(path, key), f"'{key}' must be a list of glob strings"))
            clean.pop(key)
    if "emphasis" in clean and clean["emphasis"] not in ("bold", "tint", "highlight"):
        diags.append(diag("P004", file, _line_of(path, "emphasis"), "'emphasis' must be 'bold', 'tint' or 'highlight'"))
        clean.pop("emphasis")
    if "columns" in clean and not 1 <= clean["columns"] <= 6:
        diags.append(diag("P004", file, _line_of(path, "columns"), "'columns' must be between 1 and 6"))
        clean.pop("columns")
    cards_in = clean.get("flashcards", {})
    cards: dict[str, Any] = {}
    for key, value in cards_in.items():
        want = FLASHCARD_KEYS.get(key)
        if want is None:
            diags.append(diag("P008", file, _line_of(path, key), f"'flashcards.{key}'{_hint(key, FLASHCARD_KEYS)}"))
        elif not isinstance(value, want) or (want is list and not all(isinstance(t, str) and t.strip("#/ ") for t in value)):
            diags.append(diag("P004", file, _line_of(path, key), f"'flashcards.{key}' must be a {_tname(want.__name__)}"
                                                                 + ({"tags": " of tag names", "cloze_patterns": " of patterns"}.get(key, ""))))
        elif key == "cloze_patterns" and (bad := [p for p in value if pattern_delimiters(p) is None]):
            diags.append(diag("P004", file, _line_of(path, key), f"'flashcards.cloze_patterns': {bad[0]!r} is no pattern "
                                                                 "this reads (text around answer, as '{@{[123;;]answer[;;hint]}@}')"))
        elif want is str and (len(value) > 20 or "\n" in value or (key != "end_marker" and not value.strip())):
            diags.append(diag("P004", file, _line_of(path, key), f"'flashcards.{key}' must be a short marker on one line"))
        else:
            cards[_FLASHCARD_FIELDS.get(key, key)] = tuple(value) if want is list else value
    short = str(clean.get("short_name") or "".join(w[:1].upper() + w[1:] for w in slugify(title).split("-")[:3]) or "Notes")
    meta = Meta(
        title=title,
        short_name=short,
        slug=slugify(title) or "book",
        author=str(clean.get("author", "")),
        subtitle=str(clean.get("subtitle", "")),
        source=str(clean.get("source", "")),
        language=str(clean.get("language", "en")),
        language_set="language" in clean,
        version=str(clean.get("version", "")),
        date=str(clean.get("date", "")),
        license=str(clean.get("license", "")),
        ids=Ids(
            deck=int(ids.get("deck") or derived_id(seed, "deck")),
            basic_model=int(ids.get("basic_model") or derived_id(seed, "basic")),
            cloze_model=int(ids.get("cloze_model") or derived_id(seed, "cloze")),
            epub=str(ids.get("epub") or derived_uuid(seed)),
        ),
        subdecks=bool(clean.get("subdecks", True)),
        keep_removed=bool(clean.get("keep_removed", True)),
        paper=str(clean.get("paper", "a4")),
        columns=int(clean.get("columns", 3)),
        page_budget=int(clean.get("page_budget", 0)),
        emphasis=str(clean.get("emphasis", "tint")),
        max_answer_words=int(clean.get("max_answer_words", 120)),
        strict=bool(clean.get("strict", False)),
        include=tuple(clean.get("include", ())),
        exclude=tuple(clean.get("exclude", ())),
        flashcards=FlashcardSyntax(**cards),
    )
    return meta, diags


def _tname(name: str) -> str:
    return {"str": "string", "int": "whole number", "bool": "true/false", "dict": "table", "list": "list"}.get(name, name)


def _line_from_message(message: str) -> int:
    import re

    found = re.search(r"line (\d+)", message)
    return int(found.group(1)) if found else 1


def _line_of(path: Path, key: str) -> int:
    try:
        for n, line in enumerate(path.read_text("utf-8", errors="replace").splitlines(), 1):
            if re.match(r"""\s*(?:{0}|"{0}"|'{0}')\s*=""".format(re.escape(key)), line):  # bare or quoted key
                return n
    except OSError:
        pass
    return 1
