"""Validation rules: each is a function of the book and its cards that yields diagnostics.

All rules run; every problem is reported at once, before anything is written.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import unquote, urlsplit

from ..core import model as m
from ..core.diagnostics import Diagnostic, diag
from ..read.htmlread import DANGEROUS, unsafe_url
from ..cards.links import Index
from ..core.text import block_inlines, block_text, boxes, facts, plain_text, walk_blocks, walk_inlines

# Raw HTML that may stand in the content (anything else is reported).
ALLOWED_TAGS = frozenset({"br", "sub", "sup", "kbd", "abbr", "small", "u", "ins", "del", "s", "mark", "span", "wbr"})
ALLOWED_ATTRS = frozenset({"title"})
DANGEROUS_TAGS = DANGEROUS
SAFE_SCHEMES = ("http", "https", "mailto")
EMPTY_MARK_RE = re.compile(r"(?<!=)==\s*==(?!=)")
PIN_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._/-]{0,79}$")


@dataclass(frozen=True)
class Context:
    book: m.Book
    cards: tuple[m.Card, ...]
    root: Path  # the content folder
    wordlist: frozenset[str] = frozenset()
    _walked: dict = field(default_factory=dict, compare=False, repr=False)

    def blocks(self, ch: m.Chapter) -> list[m.Block]:
        """Every block of a chapter (footnotes included), walked once for all the rules."""
        key = ("blocks", id(ch))
        if key not in self._walked:
            self._walked[key] = list(_all_blocks(ch))
        return self._walked[key]

    def inlines(self, ch: m.Chapter) -> list[m.Inline]:
        """Every inline node of a chapter (its title, its blocks' runs), walked once for all the rules."""
        key = ("inlines", id(ch))
        if key not in self._walked:
            self._walked[key] = [node for run in _all_runs(ch) for node in walk_inlines(run)]
        return self._walked[key]


Rule = Callable[[Context], Iterable[Diagnostic]]


def _all_blocks(ch: m.Chapter) -> Iterator[m.Block]:
    yield from walk_blocks(ch.blocks + tuple(b for f in ch.footnotes for b in f.blocks))


def _all_runs(ch: m.Chapter) -> Iterator[tuple[m.Inline, ...]]:
    yield ch.title
    for block in _all_blocks(ch):
        yield from block_inlines(block)


# --------------------------------------------------------------------------- structure


def headings(ctx: Context) -> Iterator[Diagnostic]:
    for ch in ctx.book.chapters:
        def visit(blocks: tuple[m.Block, ...], parent: int) -> Iterator[Diagnostic]:
            for b in blocks:
                if isinstance(b, m.Section):
                    if not b.blocks:
                        yield diag("P105", b.loc.file, b.loc.line, f"'{plain_text(b.title)}' has no content")
                    yield from visit(b.blocks, b.level)
        yield from visit(ch.blocks, 1)


MAX_TABLE_COLUMNS = 64  # wider is no table a page or a screen can show (and laying it out takes minutes)


def tables(ctx: Context) -> Iterator[Diagnostic]:
    """P019 for a table of more columns than any output can lay out; wide ones under it wrap or scroll."""
    for ch in ctx.book.chapters:
        for block in ctx.blocks(ch):
            if isinstance(block, m.Table):
                width = max([len(block.head), *(len(r) for r in block.rows)])
                if width > MAX_TABLE_COLUMNS:
                    yield diag("P019", block.loc.file, block.loc.line,
                               f"{width:,} columns (at most {MAX_TABLE_COLUMNS}): split it, or turn it around")


SHEET_LINKS = 2000  # a chapter's links the sheet makes clickable; the rest print as their words (each costs layout)
MAX_LINK_CHARS = 2_000_000  # all a chapter's link URLs together: one long reference used 100,000 times is a bomb


SHEET_MAX_BOXES = 15_000  # a chapter the sheet lays out: about a minute on two cores (a 0.5 MB file of terms)


def sheet_length(ctx: Context) -> Iterator[Diagnostic]:
    """P022 for a chapter too long for a cheat sheet: the sheet leaves it out (it would take minutes and
    gigabytes to lay out, and fill a hundred pages); the EPUB and the deck keep it whole."""
    for ch in ctx.book.chapters:
        if (n := boxes(ch)) > SHEET_MAX_BOXES:
            yield diag("P022", ch.loc.file, ch.loc.line,
                       f"{n:,} blocks and formatted words (at most {SHEET_MAX_BOXES:,}): the sheet leaves this "
                       "chapter out; the EPUB and the deck have it (split the file to print it)")


def links(ctx: Context) -> Iterator[Diagnostic]:
    """P021 when a chapter's links, expanded (a reference definition is copied into each use), hold more
    than :data:`MAX_LINK_CHARS`; P020 when the sheet prints some of them as plain words."""
    for ch in ctx.book.chapters:
        found = [n for n in ctx.inlines(ch) if isinstance(n, m.Link) and not n.target]
        chars = sum(len(n.url) for n in found)
        if chars > MAX_LINK_CHARS:
            yield diag("P021", ch.loc.file, found[0].loc.line,
                       f"{len(found):,} links hold {chars:,} characters of addresses (at most {MAX_LINK_CHARS:,}): "
                       "a long address used this often is no note; link it once")
        elif len(found) > SHEET_LINKS:
            yield diag("P020", ch.loc.file, found[SHEET_LINKS].loc.line,
                       f"{len(found):,} links: the sheet makes the first {SHEET_LINKS:,} clickable and prints the "
                       "rest as their words (the EPUB and the deck keep them all)")


def empty_things(ctx: Context) -> Iterator[Diagnostic]:
    for ch in ctx.book.chapters:
        for block in ctx.blocks(ch):
            match block:
                case m.BulletList(items=items):
                    for item in items:
                        if not _has_text(item.blocks) and not _shows_something(item.blocks):
                            yield diag("P106", item.loc.file, item.loc.line)
                case m.DefList(items=items):
                    for d in items:
                        if not _has_text(d.body):
                            yield diag("P108", d.loc.file, d.loc.line, f"'{plain_text(d.term)}'")
                case _:
                    pass
        for node in ctx.inlines(ch):
            if isinstance(node, m.Mark) and not plain_text(node.children).strip():
                yield diag("P107", node.loc.file, node.loc.line)
            elif isinstance(node, m.Text) and EMPTY_MARK_RE.search(node.text):
                yield diag("P107", node.loc.file, node.loc.line, "'==' then '==' with nothing between")


def _has_text(blocks: tuple[m.Block, ...]) -> bool:
    """Is there any word in ``blocks`` (stops at the first: most items have one in their first run)?"""
    for b in walk_blocks(blocks):
        if isinstance(b, m.CodeBlock) and b.code.strip() or isinstance(b, m.RawBlock) and b.html.strip():
            return True
        for run in block_inlines(b):
            if plain_text(run).strip():
                return True
    return False


def _shows_something(blocks: tuple[m.Block, ...]) -> bool:
    """An image (even without alt text), a rule or a code block: not empty."""
    for b in walk_blocks(blocks):
        if isinstance(b, (m.Rule, m.CodeBlock, m.Table)):
            return True
        if any(isinstance(n, m.Image) for run in block_inlines(b) for n in walk_inlines(run)):
            return True
    return False


def footnotes(ctx: Context) -> Iterator[Diagnostic]:
    for ch in ctx.book.chapters:
        used: dict[str, m.Loc] = {}
        for node in ctx.inlines(ch):
            if isinstance(node, m.FootnoteRef):
                used.setdefault(node.key, node.loc)
        defined = {f.key: f.loc for f in ch.footnotes}
        for key, loc in used.items():
            if key not in defined:
                yield diag("P124", loc.file, loc.line, f"[^{key}]")
        for key, loc in defined.items():
            if key not in used:
                yield diag("P123", loc.file, loc.line, f"[^{key}]")


# --------------------------------------------------------------------------- cards and facts


def card_identities(ctx: Context) -> Iterator[Diagnostic]:
    first: dict[str, m.Card] = {}
    for card in ctx.cards:
        if card.pinned and not PIN_ID_RE.match(card.identity):
            yield diag("P119", card.loc.file, card.loc.line, f"'{card.identity}' (use lowercase letters, digits, '-', '.', '/')")
        if card.duplicate_of:
            other = first.get(card.duplicate_of)
            also = f"also at {other.loc}; " if other else ""
            yield diag("P104", card.loc.file, card.loc.line,
                       f"'{card.duplicate_of}' ({also}this card is '{card.identity}'; pin it with <!-- id: ... --> to keep it through edits)")
        elif card.identity in first:  # only pins can be alike
            other = first[card.identity]
            yield diag("P119", card.loc.file, card.loc.line, f"'{card.identity}' is pinned twice (also at {other.loc})")
        else:
            first[card.identity] = card


def duplicate_facts(ctx: Context) -> Iterator[Diagnostic]:
    """The same sentence twice: prose only (the same code line in two examples is no repeated fact)."""
    code_lines = {b.loc for ch in ctx.book.chapters for b in ctx.blocks(ch) if isinstance(b, m.CodeBlock)}
    seen: dict[str, m.Loc] = {}
    for loc, text in facts(ctx.book):
        if loc in code_lines:
            continue
        key = text.lower()
        if len(key) < 25:
            continue
        if key in seen:
            yield diag("P109", loc.file, loc.line, f"'{text[:60]}' (also at {seen[key]})")
        else:
            seen[key] = loc


MAX_CLOZES = 20


def cloze_limits(ctx: Context) -> Iterator[Diagnostic]:
    from ..cards.derive import cloze_count

    for card in ctx.cards:
        # (a cloze the author wrote as a card, in the Spaced Repetition plugin's format, asks as many as they wrote)
        if card.kind == "cloze" and not card.written and (n := cloze_count(card)) > MAX_CLOZES:
            yield diag("P125", card.loc.file, card.loc.line, f"{n} marks (at most {MAX_CLOZES}); split the text")


def long_answers(ctx: Context) -> Iterator[Diagnostic]:
    limit = ctx.book.meta.max_answer_words
    for card in ctx.cards:
        words = sum(len(block_text(b).split()) for b in card.back)
        if words > limit:
            yield diag("P115", card.loc.file, card.loc.line, f"{words} words (limit {limit}) for '{card.identity}'")


# --------------------------------------------------------------------------- HTML and resources


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))

    handle_startendtag = handle_starttag


def html_problems(html: str) -> list[str]:
    """What is unsafe in a piece of raw HTML, as short phrases (empty: nothing). The reader turned
    every harmless tag into model nodes; what is left raw is a comment or what is refused here."""
    # comments are authors' notes, never rendered; what follows one is judged like the rest
    html = re.sub(r"<!--.*?(?:-->|$)", "", html, flags=re.S)
    stripped = html.strip()
    if not stripped:
        return []
    parser = _Tags()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001 - html.parser is lenient; be safe anyway
        return ["unparseable HTML"]
    problems: list[str] = []
    for tag, attrs in parser.found:
        if tag in DANGEROUS_TAGS:
            problems.append(f"<{tag}> is never allowed")
        for name, value in attrs:
            if name.startswith("on"):
                problems.append(f"event handler '{name}' is never allowed")
            if value and unsafe_url(value):
                problems.append(f"unsafe URL in '{name}'")
    return problems


def raw_html(ctx: Context) -> Iterator[Diagnostic]:
    for ch in ctx.book.chapters:
        for block in ctx.blocks(ch):
            if isinstance(block, m.RawBlock):
                for p in html_problems(block.html):
                    yield diag("P110", block.loc.file, block.loc.line, p)
        for node in ctx.inlines(ch):
            if isinstance(node, m.RawInline):
                for p in html_problems(node.html):
                    yield diag("P110", node.loc.file, node.loc.line, p)


def formulas(ctx: Context) -> Iterator[Diagnostic]:
    """A formula that does not parse is shown as its TeX: say why, at its line."""
    from ..read.formula import problem

    for ch in ctx.book.chapters:
        for node in ctx.inlines(ch):
            if isinstance(node, m.Math):
                why = problem(node.tex)
                if why is not None:
                    shown = node.tex if len(node.tex) <= 40 else node.tex[:37] + "..."
                    yield diag("P139", node.loc.file, node.loc.line, f"'{shown}': {why}; shown as TeX")


def glyphs(ctx: Context) -> Iterator[Diagnostic]:
    """Characters no font on this machine can draw: the sheet would show them blank. Once per file and
    font package, at the first line, naming the package that draws them."""
    from .fontcover import drawable, package_for

    for ch in ctx.book.chapters:
        missing: dict[str, tuple[m.Loc, list[str]]] = {}
        for node in ctx.inlines(ch):
            text = node.text if isinstance(node, (m.Text, m.Code)) else ""
            if not text or text.isascii():
                continue
            for c in text:
                if c.isascii() or drawable(c):
                    continue
                loc, chars = missing.setdefault(package_for(c), (node.loc, []))
                if c not in chars:
                    chars.append(c)
        for package, (loc, chars) in missing.items():
            shown = " ".join(chars[:8]) + (" ..." if len(chars) > 8 else "")
            points = ", ".join(f"U+{ord(c):04X}" for c in chars[:3])
            yield diag("P015", loc.file, loc.line, f"{shown} ({points}) on this machine: the sheet would show "
                       f"{'it' if len(chars) == 1 else 'them'} blank; install {package}")


def resolve_inside(root: Path, url: str) -> tuple[Path | None, str]:
    """Where a local resource URL points, if it stays inside ``root``; else (None, reason)."""
    path = unquote(urlsplit(url).path)
    if not path:
        return None, "empty path"
    if path.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", path):
        return None, f"absolute path '{path}'"
    target = (root / path)
    try:
        real = target.resolve()
    except (OSError, RuntimeError):
        return None, f"'{path}' leaves the content folder"
    if not real.is_relative_to(root.resolve()):
        why = outside_refusal(root, real)
        if not why:  # a file of the repository the notes are in (its top-level images/), or missing there (P111)
            return real, ""
        return None, f"'{path}' leaves the content folder {why}"
    return real, ""


from .imagecheck import problem as image_problem, sound_problem, unsafe as unsafe_image  # noqa: E402
from ..core.fsutil import outside_refusal  # noqa: E402


def as_written(why: str, url: str, ch: m.Chapter) -> str:
    """A message about ``url`` (a path from the content folder) with the path as the note wrote it."""
    path = unquote(urlsplit(url).path)
    if not path or path.startswith("/") or "/" not in ch.path:
        return why
    return why.replace(f"'{path}'", f"'{posixpath.relpath(path, posixpath.dirname(ch.path))}'", 1)


def resources(ctx: Context) -> Iterator[Diagnostic]:
    root = ctx.root
    for ch in ctx.book.chapters:
        for node in ctx.inlines(ch):
            match node:
                case m.Image(url=url, loc=loc):
                    if node.remote:  # a remote URL with a copy in the repository: shown from it, never fetched
                        yield diag("P145", loc.file, loc.line, f"'{node.remote[:80]}' is shown from the local copy "
                                                               f"{posixpath.normpath(posixpath.join(ctx.book.root, url))}")
                    scheme = urlsplit(url.strip()).scheme.lower()
                    if scheme in ("http", "https") or url.strip().startswith("//"):
                        yield diag("P126", loc.file, loc.line, f"'{url[:80]}': shown as its alt text (download it into the content folder to show it)")
                        continue
                    if scheme:
                        yield diag("P113", loc.file, loc.line, f"image '{url[:80]}' (images must be files in the content folder)")
                        continue
                    target, why = resolve_inside(root, url)
                    if target is None:
                        yield diag("P112", loc.file, loc.line, as_written(why, url, ch))
                    elif not target.is_file():
                        yield diag("P111", loc.file, loc.line, f"'{url}': shown as its alt text")
                    elif why := unsafe_image(target):
                        yield diag("P110", loc.file, loc.line, f"image '{url}' {why}")
                    elif why := image_problem(target):
                        yield diag("P127", loc.file, loc.line, f"'{url}' {why}: every output shows its alt text")
                case m.Sound(url=url, loc=loc):
                    target, why = resolve_inside(root, url) if url and not urlsplit(url).scheme else (None, f"'{url}'")
                    if target is None:
                        yield diag("P112", loc.file, loc.line, as_written(why, url, ch))
                    elif not target.is_file():
                        yield diag("P111", loc.file, loc.line, f"sound '{url}': not played on the card")
                    elif why := sound_problem(target):
                        yield diag("P127", loc.file, loc.line, f"sound '{url}' {why}: not played on the card")
                case m.Link(url=url, loc=loc):
                    if unsafe_url(url):
                        yield diag("P113", loc.file, loc.line, f"link '{url[:80]}'")
                case _:
                    pass


def internal_links(ctx: Context) -> Iterator[Diagnostic]:
    index = Index(ctx.book)
    for ch in ctx.book.chapters:
        for node in ctx.inlines(ch):
            if not isinstance(node, m.Link):
                continue
            if node.url.startswith("wiki:"):  # [[Page]]
                if not node.target:
                    yield diag("P114", node.loc.file, node.loc.line, f"no page '{node.url[5:]}' (by file name or alias)")
                continue
            found = index.resolve(ch, node.url)
            if found.problem:
                code = "P112" if "leaves the content folder" in found.problem else "P114"
                yield diag(code, node.loc.file, node.loc.line, found.problem)
            elif found.path and not found.target:
                target, why = resolve_inside(ctx.root, found.path)
                if target is None:
                    yield diag("P112", node.loc.file, node.loc.line, why)
                elif not target.exists():
                    yield diag("P114", node.loc.file, node.loc.line, f"no file '{unquote(urlsplit(node.url).path)}'")


# --------------------------------------------------------------------------- spelling

# a word: letters, with inner apostrophes (doesn't); not touching digits or '_' (x86, snake_case), nor the
# first part of a compound (multi-attach)
WORD_RE = re.compile(r"(?<![\w'\u2019./@-])([A-Za-z]+(?:['\u2019][A-Za-z]+)*)(?![\w./@]\w|\w|-[A-Za-z])")
# what is not prose: URLs, e-mail addresses, paths and file names, dotted identifiers
NOT_PROSE_RE = re.compile(r"(?:https?://|www\.|ftp://)\S+|\S+@\S+\.\w+|\S*[/\\]\S+|\b[\w-]+(?:\.[\w-]+)+\b")
VOCABULARY_USES = 3  # a word used this often is the author's vocabulary, not a typo
FOREIGN_SHARE = 0.35  # more unknown words than this: the text is in another language than the dictionary
VARIANTS = (("our", "or"), ("ise", "ize"), ("ised", "ized"), ("ising", "izing"), ("isation", "ization"),
            ("yse", "yze"), ("tre", "ter"), ("ogue", "og"), ("ence", "ense"), ("lled", "led"), ("lling", "ling"),
            ("ours", "ors"), ("ises", "izes"))


def variant_known(word: str, words: Any) -> bool:
    """Is ``word`` the British spelling of a word the (American) dictionary knows?"""
    for gb, us in VARIANTS:
        if word.endswith(gb) and words.known(word[: -len(gb)] + us):
            return True
    if "our" in word and words.known(word.replace("our", "or", 1)):
        return True
    return False
BUILTIN_WORDS = Path(__file__).resolve().parent / "data" / "words.txt"


@functools.lru_cache(maxsize=1)
def builtin_words() -> frozenset[str]:
    """Technical words every notes writer uses (shipped with publisher)."""
    try:
        lines = BUILTIN_WORDS.read_text("utf-8").split()
    except OSError:
        return frozenset()
    return frozenset(w.lower() for w in lines if not w.startswith("#"))


def spelling(ctx: Context) -> Iterator[Diagnostic]:
    """Possible misspellings, each word once with how often it occurs. Skipped: code, URLs, file
    names, words touching digits or with capitals (names, acronyms, CamelCase), the author's
    vocabulary (a word used three times or more), wordlist.txt and the built-in technical words.
    Only a word one edit away from a dictionary word is reported (with that word as the hint):
    jargon rarely is, typos mostly are."""
    from .spelling import dictionary

    uses: Counter[str] = Counter()
    first: dict[str, tuple[m.Loc, str]] = {}
    for ch in ctx.book.chapters:
        for node in ctx.inlines(ch):
            if not isinstance(node, m.Text):
                continue
            text = node.text
            if "/" in text or "." in text or "@" in text or "\\" in text:
                text = NOT_PROSE_RE.sub(" ", text)
            words = WORD_RE.findall(text)
            if not words:
                continue
            lows = [w.lower().replace("\u2019", "'") for w in words]
            uses.update(lows)
            for word, low in zip(words, lows):
                if low not in first:
                    first[low] = (node.loc, word)
    known = {w.lower() for w in ctx.wordlist} | builtin_words()
    candidates = [w for w, (_, word) in first.items()
                  if uses[w] < VOCABULARY_USES and len(w) >= 3 and word.islower() and w not in known]
    if not candidates:
        return
    lang = (ctx.book.meta.language or "en")[:2]
    words = dictionary(lang)
    common = [w for w in first if len(w) >= 3 and first[w][1].islower()]
    strange = len(words.unknown(common)) / max(1, len(common))
    if len(common) >= 50 and strange > FOREIGN_SHARE:
        # most words unknown: the notes are not in the dictionary's language
        where = ctx.book.chapters[0].file if ctx.book.chapters else ctx.book.root
        yield diag("P013", where, 0, f"{strange:.0%} of the words are unknown to the '{lang}' dictionary: "
                   "set language in book.toml (en, de, es, fr, it, nl, pt, ru ...) to check them")
        return
    for low in sorted(words.unknown(candidates), key=lambda w: (first[w][0], w)):
        if variant_known(low, words):
            continue  # British spelling of a known word (colour, organise, travelled)
        if "'" in low:
            head = low.split("'", 1)[0]
            if head in known or words.known(head) or low.endswith(("n't", "'s", "'re", "'ve", "'ll", "'d", "'m")):
                continue
        hint = words.hint(low)
        if hint is None:
            continue  # nothing close: a term of the trade, not a slip of the keyboard
        loc, word = first[low]
        n = uses[low]
        times = "once" if n == 1 else f"{n} times"
        yield diag("P116", loc.file, loc.line, f"'{word}' ({times}; did you mean '{hint}'?); add it to wordlist.txt if it is right")


# The rules that read only the book (not the cards): ``pipeline.load`` runs them beside the card
# derivation on a large book.
RULES: tuple[Rule, ...] = (
    headings, empty_things, footnotes, card_identities, cloze_limits, duplicate_facts, long_answers,
    raw_html, formulas, glyphs, resources, internal_links, spelling, tables, links, sheet_length,
)
CARD_RULES: tuple[Rule, ...] = (card_identities, cloze_limits, long_answers)
BOOK_RULES: tuple[Rule, ...] = tuple(r for r in RULES if r not in CARD_RULES)


def read_wordlist(root: Path) -> frozenset[str]:
    path = root / "wordlist.txt"
    try:
        lines = path.read_text("utf-8", errors="replace").splitlines()
    except OSError:
        return frozenset()
    return frozenset(w.strip() for w in lines if w.strip() and not w.startswith("#"))


def validate(book: m.Book, cards: tuple[m.Card, ...], root: Path, rules: tuple[Rule, ...] = RULES) -> list[Diagnostic]:
    ctx = Context(book, cards, root, read_wordlist(root))
    out: list[Diagnostic] = []
    for rule in rules:
        out.extend(rule(ctx))
    return out


def count_kinds(cards: Iterable[m.Card]) -> Counter[str]:
    return Counter(c.kind for c in cards)

