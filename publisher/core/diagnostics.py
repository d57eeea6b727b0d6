"""Structured diagnostics: every stage reports problems as data, never as exceptions."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Iterable, Literal

Severity = Literal["error", "warning", "note"]

# One line per code: the code is stable, the message explains it.
CODES: dict[str, tuple[Severity, str]] = {
    "P001": ("error", "file is not valid UTF-8"),
    "P002": ("warning", "control character in file"),
    "P003": ("error", "file too large"),
    "P004": ("error", "invalid book.toml"),
    "P005": ("error", "no chapters"),
    "P006": ("note", "book metadata derived"),
    "P007": ("warning", "byte-order mark or odd line endings normalized"),
    "P008": ("warning", "unknown key in book.toml"),
    "P009": ("error", "content too deeply nested"),
    "P010": ("error", "cannot read file"),
    "P011": ("warning", "invalid front matter"),
    "P012": ("note", "file left out"),
    "P013": ("note", "spelling not checked"),
    "P014": ("warning", "file name is not UTF-8"),
    "P015": ("warning", "no font draws these characters"),
    "P016": ("error", "too many files"),
    "P017": ("warning", "a file changed during the build"),
    "P018": ("warning", "update without a claim to update"),
    "P019": ("error", "table too wide"),
    "P020": ("warning", "more links than the sheet makes clickable"),
    "P021": ("error", "links expand too far"),
    "P022": ("warning", "chapter too long for the cheat sheet"),
    "P101": ("warning", "chapter has no H1 title"),
    "P102": ("warning", "chapter has more than one H1"),
    "P103": ("warning", "heading level jumps"),
    "P104": ("warning", "duplicate card identity"),
    "P105": ("warning", "empty section"),
    "P106": ("warning", "empty list item"),
    "P107": ("error", "empty mark"),
    "P108": ("warning", "definition without a body"),
    "P109": ("warning", "duplicate fact"),
    "P110": ("error", "unsafe HTML"),
    "P111": ("warning", "missing image or sound"),
    "P112": ("error", "path leaves the content folder"),
    "P113": ("error", "unsafe URL"),
    "P114": ("warning", "broken internal link"),
    "P115": ("warning", "card answer is long"),
    "P116": ("warning", "possible misspelling"),
    "P117": ("error", "card ledger is out of date"),
    "P118": ("warning", "unterminated construct"),
    "P119": ("error", "invalid pinned id"),
    "P120": ("warning", "card removed from the content"),
    "P121": ("warning", "cheat sheet exceeds its page budget"),
    "P122": ("warning", "empty file"),
    "P123": ("warning", "footnote defined but not used"),
    "P124": ("warning", "footnote used but not defined"),
    "P125": ("error", "too many cloze deletions in one card"),
    "P126": ("warning", "remote image not fetched"),
    "P127": ("warning", "image cannot be shown"),
    "P130": ("warning", "card: the same front asks two things"),
    "P131": ("warning", "card: everything is a blank"),
    "P132": ("warning", "card: a cut-off sentence"),
    "P133": ("warning", "card: a yes/no answer"),
    "P134": ("warning", "card: the answer is given away"),
    "P135": ("warning", "card: asks only for a count"),
    "P136": ("warning", "card: too little around the blank"),
    "P137": ("warning", "card: the context repeats the front"),
    "P138": ("warning", "card: no answer"),
    "P139": ("warning", "formula does not parse"),
    "P140": ("warning", "card lost a cloze deletion"),
    "P141": ("warning", "cards moved to another file"),
    "P142": ("warning", "text lost"),
    "P143": ("warning", "another tool's flashcard marker"),
    "P144": ("warning", "a card in several decks"),
    "P145": ("note", "remote image shown from the repository's copy"),
    "P146": ("warning", "two flashcards run together"),
    "P147": ("warning", "mdBook include not pulled in"),
    "P128": ("warning", "HTML tag not supported"),
    "P129": ("error", "HTML comment is never closed"),
}


@dataclass(frozen=True, order=True)
class Diagnostic:
    file: str
    line: int
    code: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.code} {self.message}"


def diag(code: str, file: str, line: int, detail: str = "") -> Diagnostic:
    """Make a diagnostic whose severity and headline come from :data:`CODES`."""
    severity, headline = CODES[code]
    message = f"{headline}: {detail}" if detail else headline
    return Diagnostic(file=file, line=max(line, 0), code=code, message=message, severity=severity)


def strict(diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    """``--strict``: warnings become errors."""
    return [
        Diagnostic(d.file, d.line, d.code, d.message, "error") if d.severity == "warning" else d for d in diags
    ]


def has_errors(diags: Iterable[Diagnostic]) -> bool:
    return any(d.severity == "error" for d in diags)


def ordered(diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    return sorted(set(diags), key=lambda d: (d.file, d.line, d.code, d.message))


def to_json(diags: Iterable[Diagnostic]) -> str:
    return json.dumps([asdict(d) for d in diags], indent=2, ensure_ascii=False)
