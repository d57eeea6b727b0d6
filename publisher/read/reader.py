"""Read a content folder into the typed model.

Only the read stage sees mistune's dict tokens: they are converted into
:mod:`publisher.core.model` nodes exactly once, by :mod:`.blocks` and :mod:`.inlines` (each
token's source line comes from :mod:`.mdparse`); here a file's blocks are folded into sections
and a folder's files into a Book.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import sys
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

import mistune

from . import flashcards, frontmatter, mdparse, sources
from ..core import model as m
from .bookfile import read_meta
from ..core.diagnostics import Diagnostic, diag
from ..core.fsutil import inside, tracked_files, work_tree
from ..core.text import map_inlines, plain_text, slugify, unique
from .blocks import blocks as read_blocks
from .tokens import Ctx, HeadingMark, Locator

# a larger file is refused by its size, unread: a 2 MB file of dense notes builds in under a minute and 1 GB on
# two cores (the deck's and the EPUB's cards are the cost; the sheet leaves a chapter that long out, P022)
MAX_FILE_BYTES = 2 * 1024 * 1024
LEFT_OUT = frozenset(["left out"])  # the hints of a file not read (P003 says why): no other finding is about its text
MAX_LINE_CHARS = 200_000  # one line longer than this is no note (a pasted blob): the file is refused, saying where
PLUGINS = mdparse.PLUGINS
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# what a source must hold for a normalization pass to have anything to do in it (a cheap look at the text)
HINTS = {
    # (after a space, a line's start or '(', and any emphasis or HTML tag opening there: "**#tag**")
    "tags": re.compile(r"(?:^|[\s(])(?:[*_~=]|<[A-Za-z][^>\n]*>)*#(?:[^\W\d]|\d+[^\W\d])", re.M),
    "wiki": re.compile(r"\[\["),
    "sound": re.compile(r"\[sound:|\.(?:mp3|ogg|oga|wav|m4a|flac|opus|webm)\b", re.I),
    "remote": re.compile(r"!\[|<img\b", re.I),  # an image (a remote one may have a copy in the repository)
}


def markdown_parser() -> mistune.Markdown:
    return mdparse.parser()


# --------------------------------------------------------------------------- bytes to text


def decode(raw: bytes, file: str) -> tuple[str, list[Diagnostic]]:
    """Bytes to text with diagnostics for anything odd; never raises."""
    diags: list[Diagnostic] = []
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
        diags.append(diag("P007", file, 1, "UTF-8 byte-order mark removed"))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        diags.append(diag("P001", file, line, f"invalid byte 0x{raw[exc.start]:02x} (decoded as U+FFFD)"))
        text = raw.decode("utf-8", errors="replace")
    if "\r" in text:
        lone_cr = re.search(r"\r(?!\n)", text)
        text = text.replace("\r\n", "\n")
        if lone_cr:
            line = text.count("\n", 0, lone_cr.start()) + 1
            diags.append(diag("P007", file, line, "carriage-return line endings converted"))
            text = text.replace("\r", "\n")
    for match in CONTROL_RE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        diags.append(diag("P002", file, line, f"U+{ord(match.group()):04X} replaced"))
        if len(diags) > 20:
            break
    text = CONTROL_RE.sub("\ufffd", text)
    return text, diags


# --------------------------------------------------------------------------- source lines


FLATTENED_RE = re.compile(r"^\s*(?:[-*+>]|\d{1,9}[.)])\s")


def _too_deep(blocks: list[Any] | tuple[Any, ...], limit: int) -> m.Loc | None:
    """Where mistune, at ``limit`` containers (lists, quotes) deep, read a deeper one as text: a
    line of the innermost item that starts with a list or quote marker. None: nothing was."""
    stack = [(iter(blocks), 0)]
    while stack:
        it, depth = stack[-1]
        for b in it:
            kids: tuple[Any, ...] = ()
            if isinstance(b, m.BulletList):
                kids = tuple(x for item in b.items for x in item.blocks)
            elif isinstance(b, (m.Quote, m.Alert, m.Details)):
                kids = b.blocks
            if depth + 1 >= limit and kids:
                for para in kids:
                    runs = para.children if isinstance(para, m.Para) else ()
                    if runs and isinstance(runs[0], m.Text) and FLATTENED_RE.match(runs[0].text):
                        return para.loc  # "> > > text": quotes deeper than the limit, read as text
                    for n, node in enumerate(runs[:-1]):
                        nxt = runs[n + 1]
                        if isinstance(node, m.SoftBreak) and isinstance(nxt, m.Text) and FLATTENED_RE.match(nxt.text):
                            return para.loc
            elif kids:
                stack.append((iter(kids), depth + 1))
                break
        else:
            stack.pop()
    return None


@dataclass(frozen=True)
class Titled:
    """What the reader knows of a file's title before reading it (front matter, SUMMARY.md, its name)."""

    front: str = ""  # front matter ``title``
    summary: str = ""  # the link text in SUMMARY.md
    fallback: str = ""  # from the file name


def section_tree(blocks: list[Any], file: str, titled: Titled = Titled()) -> tuple[tuple[m.Inline, ...] | None, m.Loc, list[m.Block], list[Diagnostic]]:
    """Fold headings into nested Sections. Returns (title, its loc, body, diagnostics).

    The title is the first H1 (when no section comes before it); without one, a heading that
    stands above all the others (a file that starts at ``#### 5.1.1``) is the title. Sections nest
    by the levels present and get the level of their depth (2, 3, ...), so a jump from ``#`` to
    ``###`` is reported (P103, a warning) and read as the next level down.
    """
    diags: list[Diagnostic] = []
    heads = [b for b in blocks if isinstance(b, HeadingMark)]
    title: tuple[m.Inline, ...] | None = None
    title_loc = m.Loc(file, 1)
    base = 1  # the level the title stands at
    first = heads[0] if heads else None
    take: HeadingMark | None = None
    if first is not None and first.level == 1:
        take = first
    elif (first is not None and blocks and blocks[0] is first and all(h.level > first.level for h in heads[1:])
          and (not (titled.front or titled.summary) or _same_title(plain(first.children), titled.front or titled.summary))):
        take = first  # a file that opens with its one top heading, e.g. '#### 5.1.1 Topic'
    if take is not None:
        title, title_loc, base = take.children, take.loc, take.level
    elif heads:
        base = max(1, min(h.level for h in heads) - 1)  # the structure follows the levels present
    root: list[Any] = []
    stack: list[tuple[int, tuple[m.Inline, ...], m.Loc, list[Any], bool]] = []  # (source level, title, loc, children, asks)
    used: set[str] = set()

    def close_until(level: int) -> None:
        while stack and stack[-1][0] >= level:
            lvl, ttl, loc, kids, asks = stack.pop()
            anchor = unique(slugify(plain(ttl)) or "section", used)
            sec = m.Section(len(stack) + 2, ttl, anchor, tuple(kids), loc, asks)
            (stack[-1][3] if stack else root).append(sec)

    seen_h1_as_title = take is not None and take.level == 1
    jumps: list[Diagnostic] = []
    inside = _inside_items(heads)
    for b in blocks:
        if b is take:
            continue
        if isinstance(b, HeadingMark):
            b = inside.get(id(b), b)
            if b.level == 1 and title is None and not seen_h1_as_title:
                diags.append(diag("P101", file, b.loc.line, f"'{plain(b.children)}' comes after a section: put the '# Title' first"))
                seen_h1_as_title = True
            elif b.level == 1 and take is not None and take.level == 1:
                diags.append(diag("P102", file, b.loc.line, f"'{plain(b.children)}' is read as a section"))
            close_until(b.level)
            parent = stack[-1][0] if stack else base
            if b.level > parent + 1 and not b.listed:  # (a heading in a list item: its level is the list's)
                jumps.append(diag("P103", file, b.loc.line, f"H{parent} to H{b.level} ('{plain(b.children)}'): read as H{min(parent + 1, 6)}"))
            stack.append((b.level, b.children, b.loc, [], b.asks))
        else:
            (stack[-1][3] if stack else root).append(b)
    close_until(0)
    if jumps:  # one finding per file: the first jump, and how many there are
        first_jump = jumps[0]
        more = f" (and {len(jumps) - 1} more heading{'s' if len(jumps) > 2 else ''} in this file)" if len(jumps) > 1 else ""
        diags.append(replace(first_jump, message=first_jump.message + more))
    if title is None:
        text = titled.front or titled.summary
        if not text:
            text = titled.fallback or "Untitled"
            if not any(d.code == "P101" for d in diags):
                diags.append(diag("P101", file, 1, f"add a '# Title' line (the title is '{text}', from the file name)"))
        title = (m.Text(text, m.Loc(file, 1)),)
    return title, title_loc, root, diags


def _inside_items(heads: list[HeadingMark]) -> dict[int, HeadingMark]:
    """Headings an author meant inside a numbered question (``3. ### Question``, then ``  ## Key Points``
    indented short of the item's text, then ``4. ### Next question``: the numbering goes on, so the heading
    belongs to question 3): each read one level under the question, not as the parent of the questions
    after it. Keyed by ``id`` of the heading as written."""
    out: dict[int, HeadingMark] = {}
    asks = [i for i, h in enumerate(heads) if h.listed and h.asks]
    for a, b in zip(asks, asks[1:]):
        before, after = heads[a], heads[b]
        if after.number != before.number + 1 or after.level != before.level:
            continue
        for h in heads[a + 1:b]:
            if not h.listed and h.level <= before.level:
                out[id(h)] = replace(h, level=before.level + 1)
    return out


def _same_title(heading: str, given: str) -> bool:
    """A heading that says what the front matter or SUMMARY.md calls the page ('5.1.1 Sorting', 'Sorting')."""
    a = {w for w in slugify(heading).split("-") if w and not w.isdigit()}
    b = {w for w in slugify(given).split("-") if w and not w.isdigit()}
    return bool(a and b) and (a <= b or b <= a)


def plain(inlines: tuple[m.Inline, ...]) -> str:
    return plain_text(inlines)


# --------------------------------------------------------------------------- files and folders


LOOSE_MARK_RE = re.compile(r"(?<![=\w])==(?=[^\s=])[^=\n]*?\s==(?!=)")


def _loose_marks(blocks: list) -> list[m.Loc]:
    """Where a paragraph shows "==x ==" as written (a closing '==' after a space closes no mark)."""
    from ..core.text import block_inlines, walk_blocks, walk_inlines

    out = []
    for b in walk_blocks(tuple(x for x in blocks if isinstance(x, m.BLOCK_TYPES))):
        for run in block_inlines(b):
            text = "".join(n.text if isinstance(n, m.Text) else "\0" for n in walk_inlines(run))
            if "==" in text and LOOSE_MARK_RE.search(text):
                out.append(next((n.loc for n in run if n.loc != m.NOWHERE), b.loc))
    return out


def _footnote_defs(loc: Locator, key: str) -> list[m.Loc]:
    """Where ``[^key]:`` is defined, each time (mistune upper-cases keys, so match without case)."""
    return [m.Loc(loc.file, loc.src.count("\n", 0, f.start()) + 1)
            for f in re.finditer(r"^[ \t>]*\[\^" + re.escape(key) + r"\]:", loc.src, re.M | re.I)]


def _footnote_def(loc: Locator, key: str) -> m.Loc:
    """Where ``[^key]:`` is first defined."""
    return (_footnote_defs(loc, key) or [m.Loc(loc.file, 1)])[0]


def read_chapter(raw: bytes, file: str, slug: str, parser: mistune.Markdown | None = None, *,
                 path: str = "", part: str = "", intro: bool = False, summary_title: str = "",
                 fallback_title: str = "", size: int | None = None,
                 syntax: m.FlashcardSyntax = m.FlashcardSyntax()) -> tuple[m.Chapter, list[Diagnostic]]:
    """One Markdown file to a Chapter. Never raises on any input. ``size``: the file's size when it was too
    large to read (``raw`` is then empty)."""
    where = dict(path=path or Path(file).name, part=part, intro=intro, sha=hashlib.sha256(raw).hexdigest())
    fallback = fallback_title or sources.humanize(Path(path or file).stem)
    if len(raw) > MAX_FILE_BYTES or size is not None:
        size = len(raw) if size is None else size
        d = diag("P003", file, 1, f"{size:,} bytes, more than {MAX_FILE_BYTES // 1024 // 1024} MB: left out, not read "
                                  "(split it into chapters: one file per topic)")
        return m.Chapter(file, slug, (m.Text(fallback),), (), (), m.Loc(file, 1), hints=LEFT_OUT, **where), [d]
    text, diags = decode(raw, file)
    if len(text) > MAX_LINE_CHARS and (long := _longest_line(text))[1] > MAX_LINE_CHARS:
        line, chars = long
        diags.append(diag("P003", file, line, f"a line of {chars:,} characters (limit {MAX_LINE_CHARS:,}): the file "
                                              "is left out; break the line, or move what it holds into a file of its own"))
        return m.Chapter(file, slug, (m.Text(fallback),), (), (), m.Loc(file, 1), hints=LEFT_OUT, **where), diags
    where["hints"] = frozenset([name for name, found in HINTS.items() if found.search(text)]
                               + ([] if unicodedata.is_normalized("NFC", text) else ["nfc"]))
    front, text, more = frontmatter.split(text, file)
    diags.extend(more)
    if "%%" in text:
        text = strip_comments(text)
    block_ids: tuple[tuple[str, int], ...] = ()
    if "^" in text:
        text, block_ids = strip_block_ids(text)
    if "{{#" in text:
        text, more = mdbook_directives(text, file)
        diags.extend(more)
    text = blank_lines(text)
    text, foreign = flashcards.foreign_markers(text)
    diags.extend(flashcards.foreign_diags(foreign, file))
    written = flashcards.holds_cards(text, front.tags, syntax)  # for the Spaced Repetition plugin
    if not written and "<!--SR:" in text:  # the plugin's review history, and no tag that makes it read the file
        diags.extend(flashcards.untagged_history(text, file, syntax))
    meta = dict(tags=front.tags, aliases=front.aliases, cards=front.cards, block_ids=block_ids)
    card_lines: set[int] = set()
    if not text.strip():
        diags.append(diag("P122", file, 1, "nothing to read: left out"))
        return m.Chapter(file, slug, (m.Text(front.title or summary_title or fallback),), (), (), m.Loc(file, 1), **where, **meta), diags
    parser = parser or markdown_parser()
    cx = Ctx(Locator(file, text), diags)
    try:
        tokens, state = parser.parse(text)
        mdparse.locate(tokens, text)
        footnote_tokens = [t for t in tokens if t["type"] == "footnotes"]
        body_tokens = [t for t in tokens if t["type"] != "footnotes"]
        blocks = read_blocks(cx, body_tokens, top=True)
        if written:
            lines = text.split("\n")
            # "==x==[^1]" groups deletions in these files: no footnote is missing
            diags[:] = [d for d in diags if not (d.code == "P124" and flashcards.is_group_ref(d.message, lines, d.line))]
            blocks, card_lines = flashcards.gather(blocks, lines, syntax, file)
            diags.extend(flashcards.run_together(lines, syntax, file))
        notes: list[m.Footnote] = []
        for group in footnote_tokens:
            for item in group.get("children") or []:
                key = str((item.get("attrs") or {}).get("key", ""))
                at = _footnote_def(cx.loc, key)
                for sub in item.get("children") or []:
                    sub.setdefault("_line", at.line)
                fblocks = tuple(read_blocks(cx, item.get("children") or []))
                notes.append(m.Footnote(key, fblocks, at))
    except RecursionError:
        diags.append(diag("P009", file, 1, "nesting is too deep to read"))
        return m.Chapter(file, slug, (m.Text(fallback),), (), (), m.Loc(file, 1), **where, **meta), diags
    # mistune drops definitions nothing refers to: report them
    used = set((state.env.get("footnotes") or []))
    for key in (state.env.get("ref_footnotes") or {}):
        if key not in used:
            at = _footnote_def(cx.loc, str(key))
            diags.append(diag("P123", at.file, at.line, f"[^{key.lower()}]"))
    # a footnote defined twice: the first definition is the footnote, a later one is shown nowhere
    for key in (state.env.get("ref_footnotes") or {}):
        first, *again = _footnote_defs(cx.loc, str(key)) or [None]
        for at in again:
            diags.append(diag("P123", file, at.line, f"[^{str(key).lower()}] is defined again (first at line "
                                                     f"{first.line}): this definition is shown nowhere"))
    if "==" in text:  # "==x ==": no highlight (nor, in a file of flashcards, a deletion) and the marks shown
        for loc in _loose_marks(blocks):
            diags.append(diag("P118", file, loc.line, "'==' with a space before its closing '==' is no highlight "
                                                      "(nor a cloze deletion): the marks are shown as text"))
    deepest = _too_deep(blocks, mdparse.MAX_NESTING)
    if deepest is not None:  # mistune stops nesting there: what is deeper is read as plain text
        diags.append(diag("P009", file, deepest.line, f"lists and quotes nested more than {mdparse.MAX_NESTING} "
                                                      "levels deep: the deeper lines are shown as text"))
    title, title_loc, body, more = section_tree(blocks, file, Titled(front.title, summary_title, fallback))
    diags.extend(more)
    if written:
        body = list(map_inlines(tuple(body), lambda run: flashcards.plugin_clozes(run, syntax)))
    if "{{c" in text:
        body = list(map_inlines(tuple(body), flashcards.anki_clozes))
    if written:
        lines = text.split("\n")
        clozes, cloze_lines = flashcards.cloze_runs(body, lines, syntax, file)
        scopes = flashcards.deck_scopes(lines, front.tags, card_lines | cloze_lines, syntax)
        meta.update(flashcards=True, decks=scopes, clozes=clozes)
        diags.extend(diag("P144", file, line, f"{' '.join('#' + t.replace('::', '/') for t in tags)}: Anki gives a card "
                                              f"one deck; these cards go to the first, the others are their tags")
                     for line, tags in scopes if len(tags) > 1)
    return m.Chapter(file, slug, title, tuple(body), tuple(notes), title_loc, **where, **meta), diags


def _longest_line(text: str) -> tuple[int, int]:
    """(line number, length) of the longest line."""
    best, best_len, start, line = 1, 0, 0, 1
    while True:
        end = text.find("\n", start)
        stop = len(text) if end < 0 else end
        if stop - start > best_len:
            best, best_len = line, stop - start
        if end < 0:
            return best, best_len
        start, line = end + 1, line + 1


OBSIDIAN_COMMENT_RE = re.compile(r"%%.*?%%", re.S)
FENCE_LINE_RE = re.compile(r"^[ \t>]*(`{3,}|~{3,})", re.M)


CODE_SPAN_LINE_RE = re.compile(r"(?<!`)(`+)(?!`)(?:[^\n]|\n(?![ \t]*\n))+?(?<!`)\1(?!`)")  # (in its paragraph)


def _pieces(text: str) -> list[tuple[str, bool]]:
    """``text`` cut into its fenced code blocks and the rest: (piece, is_code), in order."""
    at, fence = 0, ""
    pieces: list[tuple[str, bool]] = []
    for found in FENCE_LINE_RE.finditer(text):
        marker = found.group(1)
        if not fence:
            pieces.append((text[at:found.start()], False))
            at, fence = found.start(), marker[0] * len(marker)
        elif marker.startswith(fence):
            end = text.find("\n", found.end())
            end = len(text) if end < 0 else end + 1
            pieces.append((text[at:end], True))
            at, fence = end, ""
    pieces.append((text[at:], bool(fence)))
    return pieces


def _spans(piece: str) -> list[tuple[int, int]]:
    return [(f.start(), f.end()) for f in CODE_SPAN_LINE_RE.finditer(piece)] if "`" in piece else []


def strip_comments(text: str) -> str:
    """Obsidian's ``%%comments%%`` blanked (their line breaks kept, so every line stays where it is),
    outside fenced code."""
    out = []
    for piece, code in _pieces(text):
        if code or "%%" not in piece:
            out.append(piece)
            continue
        spans = _spans(piece)
        # (not inside a code span: "`%%x%%`" shows its marks, as Obsidian shows them)
        out.append(OBSIDIAN_COMMENT_RE.sub(lambda c: c.group() if any(a < c.start() < b for a, b in spans)
                                           else "\n" * c.group().count("\n"), piece))
    return "".join(out)


SPACES_LINE_RE = re.compile(r"^[ \t]+$", re.M)


def blank_lines(text: str) -> str:
    """A line of spaces is a blank line (CommonMark, GitHub): emptied, outside fenced code. mistune took one of
    four spaces or more for a paragraph's next line: "a", "     ", "b" was one paragraph, and "b", "     ", "-"
    a heading "b"."""
    if not SPACES_LINE_RE.search(text):
        return text
    return "".join(piece if code else SPACES_LINE_RE.sub("", piece) for piece, code in _pieces(text))


# Obsidian's block id: "^id" at the end of a block's line, after a space, or alone on the line after a list or a
# table (letters, digits and dashes, a letter among them: "10 ^6" is a number)
BLOCK_ID_RE = re.compile(r"(?:[ \t]+|^(?P<lead>[ \t>]*))\^(?=[A-Za-z0-9-]*[A-Za-z])(?P<id>[A-Za-z0-9-]+)[ \t]*$", re.M)


def strip_block_ids(text: str) -> tuple[str, tuple[tuple[str, int], ...]]:
    """Obsidian's block ids taken out of the text (outside code: Obsidian shows none of them), and each with
    its line, for the links to it (``[[#^id]]``, ``[[note#^id]]``)."""
    out, found, line = [], [], 1
    for piece, code in _pieces(text):
        if code or "^" not in piece:
            out.append(piece)
            line += piece.count("\n")
            continue
        spans = _spans(piece)

        def one(f: re.Match[str], base: int = line, piece: str = piece, spans: list = spans) -> str:
            if any(a < f.start() < b for a, b in spans):
                return f.group()
            found.append((f.group("id"), base + piece.count("\n", 0, f.start())))
            lead = f.group("lead") or ""
            return lead if ">" in lead else ""  # (alone on a quote's line: the quote's marks stay)
        out.append(BLOCK_ID_RE.sub(one, piece))
        line += piece.count("\n")
    return "".join(out), tuple(found)


# mdBook's preprocessors: the tabs of mdbook-tabs ("{{#tabs }}", "{{#tab name="C" }}", "{{#endtab }}"), lines of
# syntax alone; and mdBook's own includes, which pull another file's text in
TAB_DIRECTIVE_RE = re.compile(r"^[ \t>]*\{\{#(?:tabs|tab|endtab|endtabs)\b[^{}\n]*\}\}[ \t]*$", re.M)
INCLUDE_DIRECTIVE_RE = re.compile(r"\{\{#(?:include|rustdoc_include|playground)\s+([^{}\n]+?)\s*\}\}")


def mdbook_directives(text: str, file: str) -> tuple[str, list[Diagnostic]]:
    """mdBook's directives outside code spans: the tab lines blanked (syntax, as mdBook shows none of
    them), and a P147 at each include (its file's text is not in the book: the directive stays, as written)."""
    out, diags, line = [], [], 1
    for piece, code in _pieces(text):
        if "{{#" in piece:
            spans = _spans(piece) if not code else []  # (in a fence, where mdBook's includes mostly are: no span)
            for f in INCLUDE_DIRECTIVE_RE.finditer(piece):
                if not any(a < f.start() < b for a, b in spans):
                    diags.append(diag("P147", file, line + piece.count("\n", 0, f.start()),
                                      f"'{f.group()}': the text of {f.group(1).split(':')[0]} is not in the book "
                                      "(mdBook pulls it in; paste it here, or build the book with mdBook)"))
            if not code:
                piece = TAB_DIRECTIVE_RE.sub(lambda f: "" if not any(a <= f.start() < b for a, b in spans) else f.group(), piece)
        out.append(piece)
        line += piece.count("\n")
    return "".join(out), diags


def chapter_slug(path: Path) -> str:
    return sources.name_slug(path.stem)


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(_resolved_cwd(os.getcwd())))
    except ValueError:
        return str(path)


@functools.lru_cache(maxsize=4)
def _resolved_cwd(cwd: str) -> Path:
    return Path(cwd).resolve()


def read_book(folder: Path | str) -> tuple[m.Book, list[Diagnostic]]:
    """Read a content folder: ``book.toml`` (optional) and its Markdown files, folders included."""
    folder = Path(folder)
    shown_root = display_path(folder)
    meta, diags = read_meta(folder, shown_root)
    chapters: list[m.Chapter] = []
    layout = (sources.discover(folder, meta.include, meta.exclude, shown_root, meta.language if meta.language_set else "")
              if folder.is_dir() else sources.Layout())
    diags.extend(layout.diagnostics)
    for rel, why in layout.left_out:
        diags.append(diag("P012", f"{shown_root}/{rel}", 0, why))
    if not layout.sources and not any(d.code == "P016" for d in layout.diagnostics):
        why = ("no Markdown files found" if folder.is_dir() else ("not a folder" if folder.exists() else "the folder does not exist"))
        diags.append(diag("P005", shown_root, 0, why))
    for chapter, more in _read_all(layout.sources, meta.flashcards):
        diags.extend(more)
        if chapter is None or any(d.code == "P122" for d in more):
            continue  # unreadable, or empty: nothing to show
        chapters.append(chapter)
    if not meta.language_set and chapters:  # the language of the notes' script, for readers' fonts and voices
        found = script_language(chapters)
        if found:
            meta = replace(meta, language=found)
            diags.append(diag("P006", f"{shown_root}/book.toml", 0, f"language '{found}' from the script of the "
                                                                     "notes (set language in book.toml to choose)"))
    assets = tuple(sorted(layout.assets))
    repo = repo_assets(folder, assets) if any(ch.hints is None or "remote" in ch.hints for ch in chapters) else ()
    return m.Book(meta, tuple(chapters), shown_root, _parts(chapters, folder), assets, repo), diags


# the letters of a script, and the language a book written in it most likely is
SCRIPTS = (
    ("ko", re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")),
    ("ja", re.compile(r"[\u3040-\u30ff]")),  # kana: Japanese (its kanji count with the Han letters below)
    ("zh", re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")),
    ("ru", re.compile(r"[\u0400-\u04ff]")),
    ("el", re.compile(r"[\u0370-\u03ff]")),
    ("ar", re.compile(r"[\u0600-\u06ff]")),
    ("he", re.compile(r"[\u0590-\u05ff]")),
    ("th", re.compile(r"[\u0e00-\u0e7f]")),
    ("hi", re.compile(r"[\u0900-\u097f]")),
)
LETTER_RE = re.compile(r"[^\W\d_]")


def script_language(chapters: list[m.Chapter]) -> str:
    """The language the notes' prose is most likely in, by its script, when most of its letters are of one
    script other than Latin; "" otherwise (Latin letters tell no language apart)."""
    from ..core.text import block_text, walk_blocks

    text = "".join(block_text(b)[:2000] for ch in chapters[:200] for b in walk_blocks(ch.blocks)
                   if not isinstance(b, (m.CodeBlock, m.Section)))
    letters = len(LETTER_RE.findall(text))
    if not letters:
        return ""
    counts = {lang: len(rx.findall(text)) for lang, rx in SCRIPTS}
    if counts["ja"] > letters * 0.05:  # kana among Han letters: Japanese
        counts["ja"] += counts.pop("zh")
    lang, n = max(counts.items(), key=lambda kv: kv[1])
    return lang if n >= letters * 0.3 else ""


def repo_assets(folder: Path, assets: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """The images and sounds of the repository around the content folder: (path in the repository, path from
    the content folder), for a remote URL's local copy. Those Git tracks in the working tree; outside one, the
    content folder's own."""
    top = work_tree(folder)
    if top is None:
        return tuple((a, a) for a in assets)
    root = folder.resolve()
    out = []
    for rel in tracked_files(str(top)):
        if rel.lower().endswith(sources.ASSET_SUFFIXES):
            out.append((rel, Path(os.path.relpath(top / rel, root)).as_posix()))
    return tuple(sorted(out))


PARALLEL_FROM = 40  # files: below this, worker processes cost more than they save

# `publisher watch`: each file's reading, kept in this process from one build to the next (None: not kept)
_KEPT: dict[tuple, tuple[m.Chapter, tuple[Diagnostic, ...]]] | None = None


def keep_readings() -> None:
    """Keep what each file read to (its Chapter and findings) by its bytes and how it is read, so that the
    next :func:`read_book` in this process reads again only the files that changed (``publisher watch``: a
    save of one file of many). Only the last build's readings are kept: memory stays that of one book."""
    global _KEPT
    if _KEPT is None:
        _KEPT = {}


def _reading_key(src: sources.Source, sha: str, syntax: m.FlashcardSyntax) -> tuple:
    return (sha, str(src.path), src.slug, src.rel, src.part, src.intro, src.title, syntax, display_path(src.path))


def _read_all(srcs: list[sources.Source], syntax: m.FlashcardSyntax = m.FlashcardSyntax()
              ) -> list[tuple[m.Chapter | None, list[Diagnostic]]]:
    """Every source read, in order (those :func:`keep_readings` kept, and still the same, not read again)."""
    global _KEPT
    if _KEPT is None:
        return _read_fresh(srcs, syntax)
    hits: dict[int, tuple[m.Chapter, tuple[Diagnostic, ...]]] = {}
    for i, src in enumerate(srcs):
        try:  # the same bytes, read as the build before read them (and still inside the folder)
            if src.path.stat().st_size > MAX_FILE_BYTES or (src.root is not None and not inside(src.root, src.path)):
                continue
            raw = src.path.read_bytes()
        except OSError:
            continue
        if (found := _KEPT.get(_reading_key(src, hashlib.sha256(raw).hexdigest(), syntax))) is not None:
            hits[i] = found
    fresh = iter(_read_fresh([src for i, src in enumerate(srcs) if i not in hits], syntax))
    out = [(hits[i][0], list(hits[i][1])) if i in hits else next(fresh) for i in range(len(srcs))]
    kept: dict[tuple, tuple[m.Chapter, tuple[Diagnostic, ...]]] = {}
    for src, (chapter, diags) in zip(srcs, out):
        if chapter is not None and chapter.sha:
            kept[_reading_key(src, chapter.sha, syntax)] = (chapter, tuple(diags))
    _KEPT = kept
    return out


def _read_fresh(srcs: list[sources.Source], syntax: m.FlashcardSyntax = m.FlashcardSyntax()
                ) -> list[tuple[m.Chapter | None, list[Diagnostic]]]:
    """Every source read, in order; many files are shared out to worker processes (one a core)."""
    workers = min(os.cpu_count() or 1, 8)
    if len(srcs) < PARALLEL_FROM or workers < 2 or not sys.platform.startswith("linux"):
        parser = markdown_parser()
        return [_read_source(src, parser, syntax) for src in srcs]
    import concurrent.futures as cf
    import multiprocessing

    from ..core.fsutil import signals_held, stop_workers, worker_init

    # this process reads a share too (one worker fewer, and its chapters need no pickling back)
    own = len(srcs) // workers
    chunk = max(1, (len(srcs) - own) // ((workers - 1) * 4))
    try:
        with cf.ProcessPoolExecutor(workers - 1, mp_context=multiprocessing.get_context("fork"),
                                    initializer=worker_init, initargs=(os.getpid(),)) as pool:
            try:
                with signals_held():  # a stop while the workers fork waits until they can take it
                    others = pool.map(functools.partial(_read_source, syntax=syntax), srcs[own:], chunksize=chunk)
                parser = markdown_parser()
                mine = [_read_source(src, parser, syntax) for src in srcs[:own]]
                return mine + list(others)
            except BaseException:  # Ctrl-C or SIGTERM: the workers stop now, not after their share
                stop_workers(pool)
                raise
    except (OSError, cf.process.BrokenProcessPool):  # no processes to be had: read them here
        parser = markdown_parser()
        return [_read_source(src, parser, syntax) for src in srcs]


_PARSER: list[mistune.Markdown] = []


def _read_source(src: sources.Source, parser: mistune.Markdown | None = None,
                 syntax: m.FlashcardSyntax = m.FlashcardSyntax()) -> tuple[m.Chapter | None, list[Diagnostic]]:
    if parser is None:  # in a worker process: one parser each
        if not _PARSER:
            _PARSER.append(markdown_parser())
        parser = _PARSER[0]
    shown = display_path(src.path)
    try:
        size = src.path.stat().st_size  # known before a byte is read
        if size > MAX_FILE_BYTES:
            return read_chapter(b"", shown, src.slug, parser, path=src.rel, part=src.part, intro=src.intro,
                                summary_title=src.title, size=size, syntax=syntax)
        if src.root is not None and not inside(src.root, src.path):  # a link swapped in since discovery
            return None, [diag("P112", shown, 0, "a link to a file outside the content folder: left out")]
        raw = src.path.read_bytes()
    except OSError as exc:
        return None, [diag("P010", shown, 0, exc.strerror or str(exc))]
    fallback = ""
    if src.intro:
        fallback = "Introduction" if not src.part else sources.humanize(PurePosixPath(src.part).name)
    return read_chapter(raw, shown, src.slug, parser, path=src.rel, part=src.part, intro=src.intro,
                        summary_title=src.title, fallback_title=fallback, syntax=syntax)


def _parts(chapters: list[m.Chapter], root: Path) -> tuple[m.Part, ...]:
    """A part for every folder that holds chapters (and its parent folders), in reading order; not for
    a folder of one chapter without an opening page."""
    intro_titles = {ch.part: ch for ch in chapters if ch.intro and ch.part}
    held: dict[str, int] = {}  # chapters in each folder, its subfolders included
    for ch in chapters:
        path = ch.part
        while path:
            held[path] = held.get(path, 0) + 1
            path = path.rpartition("/")[0]
    out: dict[str, m.Part] = {}
    for ch in chapters:
        path = ch.part
        chain = []
        while path:
            chain.append(path)
            path = path.rpartition("/")[0]
        for folder in reversed(chain):
            if folder in out or (held[folder] == 1 and folder not in intro_titles):
                continue  # a folder that holds one chapter (and no opening page) is no part: just that chapter
            pp = PurePosixPath(folder)
            intro = intro_titles.get(folder)
            title = intro.title if intro is not None else (m.Text(sources.humanize(pp.name), m.Loc(str(root / folder), 0)),)
            slug = "-".join(sources.name_slug(x) for x in pp.parts)
            out[folder] = m.Part(folder, title, slug, len(pp.parts), intro.loc if intro is not None else m.NOWHERE)
    return tuple(out.values())
