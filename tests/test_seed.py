"""The real book against its seed: nothing of the original notes is lost, and it checks clean.

The seed is the text of the original gist (``../shared/seed/*.txt`` next to the repository).
Every bullet and every paragraph of it, apart from the page chrome, must be found in the
model's text, in order. The only differences allowed are the spelling fixes listed in
docs/seed-spelling-fixes.tsv (original, fixed) and the Markdown idioms themselves (the
`Term - text` separator, list numbers).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Iterator

import pytest

from publisher.core import model as m
from publisher.cli import main
from publisher.core.model import Loaded
from publisher.pipeline import load
from publisher.core.text import plain_text

REPO = Path(__file__).resolve().parents[1]
SEED = REPO.parent / "shared" / "seed" / "000_a26750db217c5461.txt"
FIXES = REPO / "docs" / "seed-spelling-fixes.tsv"
CONTENT = REPO / "content"

# The gist page around the notes: not content.
CHROME_TOP = [
    re.compile(p)
    for p in (r"^Skip to content$", r"^Instantly share code, notes, and snippets\.$", r"^@\w+$", r"^Created \w+ \d+, \d{4}",
              r"^Show Gist options$", r"^(• )?Save \S+ to your computer and use it in GitHub Desktop\.$")
]
CHROME_BOTTOM = re.compile(r"^(Sign up for free|Already have an account|Sign in to comment)")
SEPARATOR_RE = re.compile(r"\s+[-\u2013\u2014](?:\s+|$)|:\s+")

pytestmark = pytest.mark.skipif(not SEED.is_file(), reason=f"the seed file {SEED} is not here (it lives next to the repository)")


def squash(text: str) -> str:
    return " ".join(text.split())


def seed_lines() -> tuple[str, list[str], int]:
    """(the gist title, the body lines, how many bullet lines the whole file has)"""
    lines = [ln.strip() for ln in SEED.read_text("utf-8").splitlines()]
    bullets = sum(1 for ln in lines if ln.startswith("•"))
    lines = [ln for ln in lines if ln]
    while lines and any(p.search(lines[0]) for p in CHROME_TOP):
        lines.pop(0)
    title = lines.pop(0)
    while lines and CHROME_BOTTOM.search(lines[-1]):
        lines.pop()
    return title, lines, bullets


def spelling_fixes() -> list[tuple[str, str]]:
    out = []
    for n, line in enumerate(FIXES.read_text("utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        assert len(parts) == 2 and all(parts), f"{FIXES.name}:{n}: two tab-separated columns expected: {line!r}"
        out.append((parts[0], parts[1]))
    return out


def texts(blocks: tuple[m.Block, ...]) -> Iterator[str]:
    """The text of every block in document order (a term before its body)."""
    for b in blocks:
        match b:
            case m.Para(children=c):
                yield plain_text(c)
            case m.BulletList(items=items):
                for item in items:
                    yield from texts(item.blocks)
            case m.DefList(items=items):
                for d in items:
                    yield plain_text(d.term)
                    yield from texts(d.body)
            case m.Section(title=t, blocks=bs):
                yield plain_text(t)
                yield from texts(bs)
            case m.Quote(blocks=bs) | m.Alert(blocks=bs) | m.Details(blocks=bs):
                yield from texts(bs)
            case m.Superseded(original=o):  # the author's words, kept under the claim as it stands today
                yield plain_text(o)
            case m.CodeBlock(code=code):
                yield code
            case m.Table(head=head, rows=rows):
                for row in (head, *rows):
                    for cell in row:
                        yield plain_text(cell.children)
            case m.Rule() | m.RawBlock():
                pass


@pytest.fixture(scope="module")
def loaded() -> Loaded:
    return load(CONTENT)


@pytest.fixture(scope="module")
def stream(loaded: Loaded) -> str:
    parts: list[str] = []
    for ch in loaded.book.chapters:
        parts.append(plain_text(ch.title))
        parts.extend(texts(ch.blocks))
    return " " + " ".join(squash(p) for p in parts if squash(p)) + " "


def _find(stream: str, needle: str, start: int) -> int:
    """The first whole-word occurrence of ``needle`` at or after ``start`` (-1: none)."""
    pos = stream.find(needle, start)
    while pos >= 0:
        before, after = stream[pos - 1], stream[pos + len(needle): pos + len(needle) + 1]
        if not before.isalnum() and not (after.isalnum() and needle[-1:].isalnum()):
            return pos
        pos = stream.find(needle, pos + 1)
    return -1


def test_seed_shape() -> None:
    title, body, bullets = seed_lines()
    assert bullets == 289
    assert sum(1 for ln in body if ln.startswith("•")) == 288  # the 289th is the gist's "Save" button
    assert title == "AWS Certified Developer Notes (June 2018 Release)"
    assert body[0] == "Dynamo DB" and not CHROME_BOTTOM.search(body[-1])


def test_every_spelling_fix_applies_to_the_seed() -> None:
    seed = SEED.read_text("utf-8")
    stale = [orig for orig, _ in spelling_fixes() if orig not in seed]
    assert not stale, f"fixes for text the seed does not have: {stale}"


def test_the_book_title_is_the_gists(loaded: Loaded) -> None:
    title, _, _ = seed_lines()
    meta = loaded.book.meta
    assert title == f"{meta.title} ({meta.subtitle})"


def test_every_seed_line_is_in_the_book_in_order(stream: str) -> None:
    _, body, _ = seed_lines()
    fixes = spelling_fixes()
    used: Counter[str] = Counter()
    cursor, missing = 0, []
    for line in body:
        text = re.sub(r"^•\s*", "", line)
        text = re.sub(r"^\d+\.\s+", "", text)  # a numbered step: the number is the list's
        for orig, fixed in fixes:
            if orig in text:
                used[orig] += 1
                text = text.replace(orig, fixed)
        text = squash(text)
        candidates = [text]
        sep = SEPARATOR_RE.search(text)
        if sep:  # "Term - text" is a term and a body in the model
            candidates.append(squash(text[: sep.start()] + " " + text[sep.end():]))
        hits = [(pos, c) for c in candidates if (pos := _find(stream, c, cursor)) >= 0]
        if not hits:
            anywhere = any(_find(stream, c, 0) >= 0 for c in candidates)
            missing.append(f"{line!r}" + (" (found, but out of order)" if anywhere else ""))
            continue
        pos, found = min(hits)
        cursor = pos + len(found)
    assert not missing, f"{len(missing)} of {len(body)} seed lines are not in the book:\n" + "\n".join(missing[:40])


def test_the_book_checks_clean(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    code = main(["check", "content"])
    out = capsys.readouterr().out
    errors = [ln for ln in out.splitlines() if re.match(r"^\S+:\d+: P\d{3} ", ln)]
    summary = out.splitlines()[-1]
    assert re.search(r"; 0 errors, \d+ warnings$", summary), "\n".join(errors[:40])
    assert code == 0


def test_every_chapter_yields_cards(loaded: Loaded) -> None:
    per_chapter = Counter(c.chapter for c in loaded.cards)
    assert len(loaded.book.chapters) == 21
    assert [ch.slug for ch in loaded.book.chapters if not per_chapter[ch.slug]] == []
    assert len(loaded.cards) >= 200
    assert {c.kind for c in loaded.cards} >= {"definition", "cloze"}
    assert len({c.identity for c in loaded.cards}) == len(loaded.cards)
