"""Nothing written is lost: the words of a chapter's source against the words an artifact shows (P142).

The source is read as text (:mod:`.sourcetext`: what of a Markdown file is meant to be read). Words are
runs of letters and digits (``_`` and punctuation split them), in Unicode's composed form, case kept. Only
missing words count: what an output adds (a quiz, a glossary, numbers) is never a loss; words split or
joined otherwise (markup between letters) are no loss either.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from pathlib import Path

from ..core import model as m
from ..core.diagnostics import Diagnostic, diag
from ..core.text import block_inlines, plain_text, walk_blocks, walk_inlines
from .sourcetext import FENCE_INFO_ANY_RE, INLINE_TAG_RE, LEGACY_ENTITY_RE, TAG_SHAPED_RE, WORD_RE, source_text

__all__ = ["INLINE_TAG_RE", "missing", "model_losses", "model_text", "report", "source_text", "unchanged_source",
           "words"]


def words(text: str) -> list[str]:
    return WORD_RE.findall(unicodedata.normalize("NFC", text).translate(JOINING))


JOINING = str.maketrans("", "", "~")  # a tilde joins the letters around it: as a strike mark it splits a word in
# one reading that the other reads whole ('~~~[l]()~~s~~b': GitHub shows no strike, mistune strikes 'l')


COMBINING_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def _bare(word: str) -> str:
    """A word without its combining marks ('ś' is 's')."""
    return unicodedata.normalize("NFC", COMBINING_RE.sub("", unicodedata.normalize("NFD", word)))


def missing(source: str, shown: str) -> list[tuple[str, int]]:
    """The words of the Markdown ``source`` that the text ``shown`` lacks (as many times as the source has
    them more), with their lines, in source order; [] at once when nothing is missing (the usual case)."""
    have = Counter(words(shown))
    plain = unicodedata.normalize("NFC", source_text(source)).translate(JOINING)
    want = Counter(WORD_RE.findall(plain))
    short = {w: n - have[w] for w, n in want.items() if n > have[w]}
    if not short:
        return []
    if "&" in source:  # &para: its letters are no loss when an HTML block shows it as ¶
        for name in LEGACY_ENTITY_RE.findall(source):
            if short.get(name):
                short[name] -= 1
        short = {w: n for w, n in short.items() if n > 0}
    if "<" in source:  # a tag's name and attributes: HTML's in an HTML block, text in a paragraph when malformed
        for tag in TAG_WORDS_RE.findall(source):
            for name in WORD_RE.findall(tag):
                if short.get(name):
                    short[name] -= 1
        short = {w: n for w, n in short.items() if n > 0}
    if "``" in source or "~~" in source:  # a fence's language, wherever a reader took the line for a fence
        for info in FENCE_INFO_ANY_RE.findall(source):
            for name in WORD_RE.findall(info):
                if short.get(name):
                    short[name] -= 1
        short = {w: n for w, n in short.items() if n > 0}
    if short and COMBINING_RE.search(source):  # '~~s~~\u0301': a mark after markup joins the letter before it
        have_bare = Counter(_bare(w) for w in have.elements())
        want_bare = Counter(_bare(w) for w in want.elements())
        short = {w: n for w, n in short.items() if want_bare[_bare(w)] > have_bare[_bare(w)]}
    _rejoined(short, {w: n - want[w] for w, n in have.items() if n > want[w]}, want)
    if not short:
        return []
    found: list[tuple[str, int, int]] = []  # (word, line, its index among the source's words)
    line, at = 1, 0
    for k, hit in enumerate(WORD_RE.finditer(plain)):
        if hit.group() in short:
            line += plain.count("\n", at, hit.start())
            at = hit.start()
            found.append((hit.group(), line, k))
    # which occurrences are the lost ones: those the shown text does not have in order (the source's words
    # aligned with the shown words), then, if more are short, the later ones
    aligned = _aligned(WORD_RE.findall(plain), words(shown), {k for _, _, k in found})
    out: list[tuple[str, int, int]] = []
    taken: set[int] = set()  # (a set: a file of 60,000 lost words took a minute with the list)
    for w, n, k in found:
        if k not in aligned and short.get(w, 0) > 0:
            short[w] -= 1
            out.append((w, n, k))
            taken.add(k)
    for w, n, k in reversed(found):
        if short.get(w, 0) > 0 and k not in taken:
            short[w] -= 1
            out.append((w, n, k))
            taken.add(k)
    return [(w, n) for w, n, _ in sorted(out, key=lambda x: x[2])]


# a tag's own words (sourcetext.TAG_SHAPED_RE) are no loss, nor a "#tag" right after a tag: whether it opens a
# text of its own (a tag) or goes on one turns on the same reading
TAG_WORDS_RE = re.compile(TAG_SHAPED_RE.pattern + r"|(?<=>)#[\w/-]+")
REJOIN_MAX = 5_000  # words the output has more of than the source: over that, no rejoining (a quiz, a glossary)


def _rejoined(short: dict[str, int], extra: dict[str, int], known: Counter) -> None:
    """Words split or joined differently, not lost: markup between letters splits a word in the source that
    the output shows whole (``~~s~~~~s~~`` reads 's' 's', the output 'ss'; ``ÄÄ==x==`` 'ÄÄ' 'x' and 'ÄÄx'),
    and markup the reader leaves as text splits a word the source reading joined. A shown word made of
    missing words, and a missing word made of extra shown words, take those words off ``short`` (in place)."""
    if len(extra) > REJOIN_MAX:
        return

    def split(word: str, parts: dict[str, int], free: Counter | None = None) -> list[str] | None:
        """``word`` as two or more words of ``parts`` (counts respected) and ``free`` (any number), or None."""
        failed: set[tuple] = set()  # (position, pieces used) no split goes on from

        def go(at: int, used: Counter) -> list[str] | None:
            if at == len(word):
                return []
            state = (at, tuple(sorted(used.items())))
            if state in failed:
                return None
            # the missing words first, longest first; then the source's own, shortest first (so that a missing
            # word after it can still be taken: "isÝ" is 'i' and the missing 'sÝ', not 'is' and 'Ý')
            for own in (True, False):
                for end in (range(len(word), at, -1) if own else range(at + 1, len(word) + 1)):
                    piece = word[at:end]
                    if (parts.get(piece, 0) > used[piece] if own else free is not None and piece in free) \
                            and (at, end) != (0, len(word)):
                        used[piece] += 1
                        rest = go(end, used)
                        if rest is not None:
                            return [piece, *rest]
                        used[piece] -= 1
            failed.add(state)
            return None
        if len(word) <= 64:
            return go(0, Counter())
        # a longer word: the missing words, longest first at each place, then the source's own (no search:
        # linear; "&para" then 61 digits: the entity's letters are the source's own, shown joined to the digits)
        longest = max((len(p) for p, n in parts.items() if n), default=0)
        own_longest = min(64, max((len(p) for p in free), default=0)) if free is not None else 0
        at, used, out = 0, Counter(), []
        while at < len(word):
            piece = next((word[at:end] for end in range(min(len(word), at + longest), at, -1)
                          if parts.get(word[at:end], 0) > used[word[at:end]] and (at, end) != (0, len(word))), None)
            if piece is None and free is not None:
                piece = next((word[at:end] for end in range(min(len(word), at + own_longest), at, -1)
                              if word[at:end] in free and (at, end) != (0, len(word))), None)
            if piece is None:
                return None
            used[piece] += 1
            out.append(piece)
            at += len(piece)
        return out

    spare = Counter(extra)
    for word, n in sorted(extra.items()):  # a shown word joined from the source's pieces
        for _ in range(n):
            # made of missing words only, else of missing words and the source's own
            pieces = split(word, short) or split(word, short, known)
            if not pieces:
                break
            for p in pieces:
                if short.get(p):
                    short[p] -= 1
                    if not short[p]:
                        del short[p]
                else:  # this source word is shown inside the joined one: a copy of it shown apart is spare
                    spare[p] += 1
    for word in sorted(short):  # a source word the output shows in pieces
        while short.get(word) and (pieces := split(word, spare)):
            for p in pieces:
                spare[p] -= 1
            short[word] -= 1
            if not short[word]:
                del short[word]


ALIGN_MAX = 20_000  # words: longer texts are not aligned (the later occurrences are taken to be the lost ones)


def _aligned(source: list[str], shown: list[str], asked: set[int]) -> set[int]:
    """The indexes in ``asked`` of source words that the shown words hold in the same order."""
    if not asked or len(source) > ALIGN_MAX or len(shown) > 2 * ALIGN_MAX:
        return set(asked)  # every one "aligned": the fallback picks the later ones
    import difflib

    matcher = difflib.SequenceMatcher(None, source, shown)
    have = set()
    for a, _b, size in matcher.get_matching_blocks():
        have.update(k for k in range(a, a + size) if k in asked)
    return have


def report(missing_words: list[tuple[str, int]], where: str = "the EPUB", limit: int = 8) -> tuple[int, str]:
    """(line of the first missing word, what to say): the first few missing words, from the first line that
    lost one."""
    line = missing_words[0][1]
    first = [w for w, n in missing_words if n == line][:limit]
    more = len(missing_words) - len(first)
    tail = f" (and {more:,} more word{'s' if more != 1 else ''} in this file)" if more else ""
    return line, f"{' '.join(first)!r} is not in {where}{tail}"


def model_losses(book: "m.Book", content_dir: Path) -> list[Diagnostic]:
    """P142 against the model itself, for a build without an EPUB: the words of each chapter's source that
    no node of its chapter holds (its title, blocks, footnotes, image alt texts, formulas)."""
    out = []
    for ch in book.chapters:
        raw = unchanged_source(content_dir, ch)
        if raw is None:
            continue
        gone = missing(raw, model_text(ch))
        if gone:
            line, what = report(gone, "the book")
            out.append(diag("P142", ch.file, line, what))
    return out


def model_text(ch: "m.Chapter") -> str:
    """All the words a chapter's model holds: its title, blocks, footnotes, titles, image alt texts."""
    parts = [plain_text(ch.title)]
    for b in walk_blocks(ch.blocks + tuple(x for f in ch.footnotes for x in f.blocks)):
        # each block's own text once (its children are walked in turn): linear in the size of the chapter
        if isinstance(b, m.CodeBlock):
            parts.append(b.code)
        elif isinstance(b, m.Alert):
            parts.append(plain_text(b.title))
        for run in block_inlines(b):
            parts.append(_spaced(run))
            parts.extend(n.alt for n in walk_inlines(run) if isinstance(n, m.Image))
    return " ".join(parts)


def _spaced(run: tuple["m.Inline", ...]) -> str:
    """A run's words as the source splits them: a code span or a formula is a word apart (its backticks or
    dollars stand between it and the text around it: `int`s is 'int' and 's', not 'ints')."""
    if not any(isinstance(n, (m.Code, m.Math)) for n in walk_inlines(run)):
        return plain_text(run)
    out = []
    for n in run:
        if isinstance(n, (m.Code, m.Math)):
            out.append(f" {plain_text((n,))} ")
        elif isinstance(n, (m.Emph, m.Strong, m.Strike, m.Mark, m.Styled, m.Link)):
            out.append(_spaced(n.children))
        else:
            out.append(plain_text((n,)))
    return "".join(out)


def unchanged_source(content_dir: Path, ch: "m.Chapter") -> str | None:
    """A chapter's source as it was read (None: gone, or changed since: P017's to say; or not read: P003's)."""
    if ch.hints and "left out" in ch.hints:
        return None
    try:
        raw = (Path(content_dir) / ch.path).read_bytes()
    except OSError:
        return None
    return raw.decode("utf-8", "replace") if hashlib.sha256(raw).hexdigest() == ch.sha else None
