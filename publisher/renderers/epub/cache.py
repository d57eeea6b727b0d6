"""The EPUB's chapters kept between builds: a chapter whose inputs are unchanged is not rendered again.

A chapter's part (its document before the glossary links it, its quiz, its glossary entries, its words lost)
is stored under a key that holds everything it reads: the chapter and its cards, its place in the book, the
files of every chapter (its links' targets), the anchors of the chapters it links to, its cards' element ids,
the book's language and date, the images it shows (their size and time), the templates and the code. What
it reads from the other chapters after that, the glossary's first uses, is done on every build, over the
parts (so a term's first use moving to another chapter changes those two documents, not their parts).
"""

from __future__ import annotations

import dataclasses
import hashlib
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup

from ...core import model as m
from ...core.fsutil import KeptFiles
from ...core.text import chapter_inlines
from .. import image_stats, salt as code_salt

VERSION = 1  # of the stored parts' shape


@dataclass
class Part:
    """What one chapter gives the book, as stored."""

    text: str  # the chapter's document (the chapter template rendered), before the glossary links it
    checks: list[Any]  # its quiz (quiz.Check)
    images: list[str]  # the image URLs it showed, in order (the package carries them in this order)
    gloss: dict[str, tuple[Markup, Markup, str]] = field(default_factory=dict)  # identity -> term, body, words
    gone: list[tuple[str, int]] = field(default_factory=list)  # its source's words its document lacks (P142)


def salt(content_dir: Path) -> str:
    """The code, the libraries and the EPUB's templates: a part made by others is never reused."""
    return code_salt(f"{VERSION}", "epub", content_dir)


def chapter_key(base: str, index: int, ch: m.Chapter, cards: list[m.Card], files: dict[str, str],
                anchors: dict[str, set[str]], ids: dict[str, str], lang: str, date: str, content_dir: Path) -> str:
    """Everything a chapter's part reads, hashed (``base``: the code and templates, from :func:`salt`)."""
    linked, shown = set(), set()
    for n in chapter_inlines(ch):
        if isinstance(n, m.Link) and n.target:
            linked.add(n.target.partition("#")[0])
        elif isinstance(n, m.Image):
            shown.add(n.url)
    images = image_stats(content_dir, shown)
    payload = (
        base, index,
        dataclasses.replace(ch, hints=None),  # (a set: its order is not the same in every process)
        tuple(cards),
        sorted(files.items()),
        sorted((s, sorted(anchors[s])) for s in linked if s in anchors),
        [ids[c.identity] for c in cards],
        lang, date, images,
    )
    return hashlib.sha256(pickle.dumps(payload, protocol=5)).hexdigest()


class Store:
    """Parts on disk, one file each, named by their key (:class:`KeptFiles`: a damaged one is a miss); those a
    build did not use are removed after it."""

    def __init__(self, folder: Path | None) -> None:
        self.files = KeptFiles(folder, "", ".part")
        self.hits = 0
        self.made = 0

    def get(self, key: str) -> Part | None:
        data = self.files.get(key)
        if data is None:
            return None
        try:
            part = pickle.loads(data)
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError):
            return None
        if not isinstance(part, Part):
            return None
        self.hits += 1
        return part

    def put(self, key: str, part: Part) -> None:
        self.made += 1
        self.files.put(key, pickle.dumps(part, protocol=5))

    def prune(self) -> None:
        self.files.prune()
