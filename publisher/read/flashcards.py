"""Flashcards written for Obsidian's Spaced Repetition plugin, Anki's own cloze syntax, other tools' markers.

The plugin (st3v3nmw/obsidian-spaced-repetition) reads a file that carries one of its flashcard tags
(``#flashcards`` or a tag below it, in the text or the front matter) line by line:

- ``front::back`` on one line is a card, ``front:::back`` two (each side asks the other);
- front lines, a line holding only ``?`` (``??``: both ways) and back lines, touching: a card that ends at
  the first blank line (or at a line holding the end marker, when one is set);
- a paragraph with ``==deletions==`` is a cloze (``==x==^[hint]`` gives a hint, ``==x==[^1]`` a group);
- ``<!--SR:!2025-11-17,195,310-->`` after a card is its review history; a card inside ``<!-- -->`` is
  left out (comments never reach the model);
- the deck of a card is the tag that opens its first line, else the last line of tags above it, else the
  front matter's (see ``Chapter.decks``).

:func:`gather` turns the paragraphs that hold such cards into :class:`~publisher.core.model.Flashcard`
nodes, after the reader has made the model's blocks (so code spans, math and links keep their ``::``);
the source's lines say where a multi-line card ends. The separators are syntax: no output shows them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Callable, Iterator

from ..core import model as m
from ..core.diagnostics import Diagnostic, diag
from ..core.text import TAG_RE, lines_of, nested_tag, split_text, walk_inlines

SR_RE = re.compile(r"<!--SR:((?:!\d{4}-\d{2}-\d{2},\d+,\d+)+)-->")
CODE_SPAN_RE = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)")
FENCE_RE = re.compile(r"^[ \t>]*(`{3,}|~{3,})")


def roots(syntax: m.FlashcardSyntax) -> tuple[str, ...]:
    """The flashcard tags in Anki's spelling: ``#flashcards/x`` is ``flashcards::x``."""
    return tuple("::".join(p for p in t.strip().lstrip("#").split("/") if p) for t in syntax.tags)


def is_deck_tag(name: str, syntax: m.FlashcardSyntax) -> bool:
    """Is the tag ``name`` (Anki's spelling, ``flashcards::Logic``) one of the flashcard tags or below one?
    Case counts, as in the plugin (``#SL`` is one, ``#sl`` is not)."""
    return any(r and (name == r or name.startswith(r + "::")) for r in roots(syntax))


def schedule(text: str) -> tuple[tuple[str, int, int], ...]:
    """The plugin's review history in ``text``: (due date, interval in days, ease in percent) per card."""
    found = SR_RE.search(text)
    if not found:
        return ()
    out = []
    for group in found.group(1).split("!")[1:]:
        day, ivl, ease = group.split(",")
        out.append((day, int(ivl), int(ease)))
    return tuple(out)


def _unfenced(lines: list[str], first: int = 1, last: int | None = None) -> Iterator[tuple[int, str]]:
    """(line number, line) of the lines ``first`` to ``last`` outside fenced code (their fences left out)."""
    fence = ""
    for n in range(first, (len(lines) if last is None else min(last, len(lines))) + 1):
        line = lines[n - 1]
        found = FENCE_RE.match(line)
        if fence:
            if found and found.group(1)[0] == fence[0] and len(found.group(1)) >= len(fence):
                fence = ""
            continue
        if found:
            fence = found.group(1)
            continue
        yield n, line


def _prose_lines(lines: list[str]) -> list[tuple[int, str]]:
    """(line number, text without code spans) of every line outside fenced code."""
    return [(n, CODE_SPAN_RE.sub(" ", line) if "`" in line else line) for n, line in _unfenced(lines)]


def untagged_history(text: str, file: str, syntax: m.FlashcardSyntax) -> list[Diagnostic]:
    """A file holding the plugin's review history (``<!--SR:...-->``) but no flashcard tag: the plugin no
    longer reads its cards (a tag mistyped, "unk#flashcards"), and neither does this tool: said (P143)."""
    found = next((f for f in SR_RE.finditer(text) if not text[f.end():].split("\n", 1)[0].strip()), None)
    if found is None:  # (one in a sentence, "the tag <!--SR:...--> stores", tells of the plugin: no card's)
        return []
    line = text.count("\n", 0, found.start()) + 1
    tag = "#" + roots(syntax)[0] if roots(syntax) else "#flashcards"
    glued = re.search(r"\S+" + re.escape(tag) + r"\b", text)
    hint = f" ('{text[glued.start():glued.end()]}' is no tag: a tag follows a space)" if glued else ""
    return [diag("P143", file, line, f"the Spaced Repetition plugin's review history, but no {tag} tag{hint}: "
                                     "its cards are read as notes, not as the plugin's flashcards")]


def holds_cards(text: str, front_tags: tuple[str, ...], syntax: m.FlashcardSyntax) -> bool:
    """Does the plugin read this file for cards: a flashcard tag in its front matter or its text (outside
    code), or book.toml's ``all_files``?"""
    if syntax.all_files or any(is_deck_tag(t, syntax) for t in front_tags):
        return True
    if "#" not in text:
        return False
    return any(is_deck_tag(nested_tag(t.group("tag")), syntax)
               for _, line in _prose_lines(text.split("\n")) if "#" in line for t in TAG_RE.finditer(line))


def deck_scopes(lines: list[str], front_tags: tuple[str, ...], card_lines: set[int],
                syntax: m.FlashcardSyntax) -> tuple[tuple[int, tuple[str, ...]], ...]:
    """Where each run of cards goes: the front matter's flashcard tags (line 0), then each line outside the
    cards that holds flashcard tags (the plugin's note-level tags), with the tags it holds."""
    out: list[tuple[int, tuple[str, ...]]] = []
    own = tuple(t for t in front_tags if is_deck_tag(t, syntax))
    if own:
        out.append((0, own))
    for n, line in _prose_lines(lines):
        if "#" not in line or n in card_lines:
            continue
        tags = tuple(dict.fromkeys(name for t in TAG_RE.finditer(line) if is_deck_tag(name := nested_tag(t.group("tag")), syntax)))
        if tags:
            out.append((n, tags))
    return tuple(out)


# --------------------------------------------------------------------------- cards in the blocks


ITEM_RE = re.compile(r"^(\d{1,9})[.)][ \t]+")


def _answer(back: tuple[m.Inline, ...]) -> list[m.Block]:
    """A multi-line card's answer lines. The plugin renders them on their own, so "2. Read" lines are a
    numbered list there (in the file, a list that starts above 1 cannot break a paragraph: one paragraph)."""
    if not back:
        return []
    lines = lines_of(back)
    firsts = [line[0] if line else None for line in lines]
    found = [ITEM_RE.match(f.text) if isinstance(f, m.Text) else None for f in firsts]
    if len(lines) < 2 or not all(found):
        return [m.Para(back, back[0].loc)]
    items = []
    for line, hit in zip(lines, found):
        assert hit is not None and isinstance(line[0], m.Text)
        head = line[0].text[hit.end():]
        rest = ((replace(line[0], text=head),) if head else ()) + line[1:]
        items.append(m.ListItem((m.Para(rest, line[0].loc),), line[0].loc))
    return [m.BulletList(tuple(items), True, int(found[0].group(1)), lines[0][0].loc)]  # type: ignore[union-attr]


def _joined(lines: list[tuple[m.Inline, ...]], loc: m.Loc) -> tuple[m.Inline, ...]:
    out: list[m.Inline] = []
    for k, line in enumerate(lines):
        if k:
            out.append(m.SoftBreak(loc))
        out.extend(line)
    return tuple(out)


def _strip(nodes: tuple[m.Inline, ...]) -> tuple[m.Inline, ...]:
    """Without the spaces at either end (the separator's own)."""
    out = list(nodes)
    if out and isinstance(out[0], m.Text):
        out[0] = replace(out[0], text=out[0].text.lstrip())
        if not out[0].text:
            out.pop(0)
    if out and isinstance(out[-1], m.Text):
        out[-1] = replace(out[-1], text=out[-1].text.rstrip())
        if not out[-1].text:
            out.pop()
    return tuple(out)


WORD_CHAR_RE = re.compile(r"\w")


def _inside_word(text: str, at: int, sep: str) -> bool:
    """Is the separator at ``at`` part of a name, not a card's hinge: letters on both sides, and its word
    (what stands between spaces) a path of three names or more, ``AWS::CloudFormation::Stack``? Two names
    are a card, as in the plugin (``Ribosome::Where proteins are made``, ``Capital of France::Paris``)."""
    before, after = text[at - 1:at], text[at + len(sep):at + len(sep) + 1]
    if not (before and after and WORD_CHAR_RE.match(before) and WORD_CHAR_RE.match(after)):
        return False
    start = max(text.rfind(" ", 0, at), text.rfind("\t", 0, at)) + 1
    ends = [i for i in (text.find(" ", at), text.find("\t", at)) if i >= 0]
    word = text[start:min(ends) if ends else len(text)]
    return len(word.split(sep)) > 2


def _split_at(line: tuple[m.Inline, ...], sep: str) -> tuple[tuple[m.Inline, ...], tuple[m.Inline, ...]] | None:
    """The line cut at its first ``sep`` written in its text (never in code, math, a link or a name)."""
    for k, node in enumerate(line):
        if not isinstance(node, m.Text) or sep not in node.text:
            continue
        at = node.text.find(sep)
        # Anki's own {{c1::answer::hint}} holds "::" of its own (a deletion, never a card's hinge)
        clozes = [(c.start(), c.end()) for c in ANKI_CLOZE_RE.finditer(node.text)] if "{{c" in node.text else []
        while at >= 0:
            longer = node.text[at + len(sep):at + len(sep) + 1] == ":" or node.text[at - 1:at] == ":"
            if not longer and not _inside_word(node.text, at, sep) and not any(a < at < b for a, b in clozes):
                head, tail = node.text[:at], node.text[at + len(sep):]
                before = line[:k] + ((replace(node, text=head),) if head else ())
                after = ((replace(node, text=tail),) if tail else ()) + line[k + 1:]
                return before, after
            at = node.text.find(sep, at + len(sep) + 1)
    return None


def _content(line: tuple[m.Inline, ...]) -> bool:
    return any(not isinstance(n, m.Text) or n.text.strip() for n in line)


def _full(lines: list[tuple[m.Inline, ...]]) -> list[tuple[m.Inline, ...]]:
    return [line for line in lines if _content(line)]


def _only(line: tuple[m.Inline, ...]) -> str:
    """The line's text when it is text alone (a separator line), else ""."""
    if all(isinstance(n, m.Text) for n in line):
        return "".join(n.text for n in line).strip()  # type: ignore[union-attr]
    return ""


@dataclass
class _Gather:
    lines: list[str]
    syntax: m.FlashcardSyntax
    file: str
    card_lines: set[int] = field(default_factory=set)
    ends: dict[int, int] = field(default_factory=dict)  # id of a multi-line Flashcard -> its last line

    def line(self, n: int) -> str:
        return self.lines[n - 1] if 1 <= n <= len(self.lines) else ""

    def card_end(self, sep_line: int) -> int:
        """The last line of a multi-line card whose separator stands on ``sep_line``: the line before the
        first blank one (or before the end marker), fenced code kept whole."""
        n, fence = sep_line, ""
        while n < len(self.lines):
            text = self.line(n + 1)
            found = FENCE_RE.match(text)
            if fence:
                if found and found.group(1)[0] == fence[0] and len(found.group(1)) >= len(fence):
                    fence = ""
            elif found:
                fence = found.group(1)
            elif self.syntax.end_marker and text.strip() == self.syntax.end_marker:
                return n
            elif not self.syntax.end_marker and not text.strip():
                return n
            n += 1
        return n

    def sched(self, first: int, last: int) -> tuple[tuple[str, int, int], ...]:
        for n in range(first, last + 2):
            text = self.line(n)
            if n == last + 1 and not text.startswith("<!--SR:"):
                break
            if "<!--SR:" in text:
                return schedule(text)
        return ()

    def blocks(self, seq: tuple[m.Block, ...] | list) -> list:
        out: list = []
        k = 0
        seq = list(seq)
        while k < len(seq):
            b = seq[k]
            k += 1
            if isinstance(b, m.RawBlock) and SR_RE.fullmatch(b.html.strip()):
                continue  # a review history: the card's, read from the lines
            if isinstance(b, m.Para):
                pieces, pending = self.para(b, out)
                out.extend(pieces)
                if pending is not None:
                    front, back, sep_line, reverse, first = pending
                    end = self.card_end(sep_line)
                    more: list[m.Block] = []
                    while k < len(seq) and isinstance(seq[k], m.BLOCK_TYPES) and seq[k].loc.line <= end:
                        if not (isinstance(seq[k], m.RawBlock) and SR_RE.fullmatch(seq[k].html.strip())):
                            more.append(seq[k])
                        k += 1
                    if self.syntax.end_marker:  # the marker line is syntax: left out
                        if k < len(seq) and isinstance(seq[k], m.Para) and _only(seq[k].children) == self.syntax.end_marker:
                            k += 1
                    back_blocks = tuple(_answer(back) + self.blocks(more))
                    self.card_lines.update(range(first, end + 1))
                    card = m.Flashcard(tuple(front), back_blocks, m.Loc(self.file, first), reverse, self.sched(first, end))
                    self.ends[id(card)] = end
                    out.append(card)
                continue
            out.append(self.inside(b))
            # a card that ends a list item ("- Q?" then "?"): its answer runs on over the lines below it to
            # the blank line, as the plugin reads lines, whatever blocks Markdown makes of them
            tail = _tail(out[-1])
            end = self.ends.get(id(tail), 0) if tail is not None else 0
            taken: list[m.Block] = []
            while end and k < len(seq) and isinstance(seq[k], m.BLOCK_TYPES) and seq[k].loc.line <= end:
                taken.append(seq[k])
                k += 1
            if taken:
                out[-1] = _with_tail(out[-1], lambda card: self._more(card, tuple(self.blocks(taken))))
        return out

    def _more(self, card: m.Flashcard, more: tuple[m.Block, ...]) -> m.Flashcard:
        new = replace(card, back=card.back + more)
        self.ends[id(new)] = self.ends.get(id(card), 0)
        return new

    def touching(self, line: int) -> tuple[int, int]:
        """The lines around ``line`` up to a blank line on either side (a fenced block kept whole): the
        text the plugin reads as one cloze."""
        first = line
        while first > 1 and self.line(first - 1).strip():
            first -= 1
        return first, self.card_end(line - 1) if line > 1 else self.card_end(0)

    def cloze_runs(self, seq: list | tuple, found: dict[int, tuple[int, int, tuple[tuple[str, int, int], ...]]]) -> None:
        for b in seq:
            if isinstance(b, m.Para) and any(isinstance(n, m.Mark) for n in walk_inlines(b.children)):
                if not any(a <= b.loc.line <= z for a, z, _ in found.values()):
                    first, last = self.touching(b.loc.line)
                    found[first] = (first, last, self.sched(first, last))
            elif isinstance(b, m.BulletList):
                for item in b.items:
                    self.cloze_runs(item.blocks, found)
            elif isinstance(b, (m.Quote, m.Alert, m.Details, m.Section)):
                self.cloze_runs(b.blocks, found)
            elif isinstance(b, m.DefList):
                for d in b.items:
                    self.cloze_runs(d.body, found)

    def inside(self, b: object) -> object:
        match b:
            case m.BulletList(items=items):
                out: list[m.ListItem] = []
                k = 0
                while k < len(items):
                    item = replace(items[k], blocks=tuple(self.blocks(items[k].blocks)))
                    k += 1
                    tail = _tail(item.blocks[-1]) if item.blocks else None
                    end = self.ends.get(id(tail), 0) if tail is not None else 0
                    taken = []
                    while end and k < len(items) and items[k].loc.line <= end:  # the answer's items, below it
                        taken.append(items[k])
                        k += 1
                    if taken:
                        more = replace(b, items=tuple(taken), start=1, loc=taken[0].loc)
                        item = replace(item, blocks=item.blocks[:-1] + (
                            _with_tail(item.blocks[-1], lambda card: self._more(card, (more,))),))
                    out.append(item)
                return replace(b, items=tuple(out))
            case m.Quote(blocks=bs) | m.Alert(blocks=bs):
                return replace(b, blocks=tuple(self.blocks(bs)))
            case m.Details(blocks=bs):
                return replace(b, blocks=tuple(self.blocks(bs)))
            case m.DefList(items=items):
                return replace(b, items=tuple(replace(d, body=tuple(self.blocks(d.body))) for d in items))
        return b

    def para(self, p: m.Para, out: list) -> tuple[list[m.Block], tuple | None]:
        """A paragraph's one-line cards and plain lines; a multi-line card's front and the back lines this
        paragraph holds (the caller adds the blocks that touch them)."""
        syn = self.syntax
        seps = sorted(((syn.inline_reversed, True), (syn.inline, False)), key=lambda s: -len(s[0]))
        lines = lines_of(p.children)
        pieces: list[m.Block] = []
        plain: list[tuple[m.Inline, ...]] = []  # lines since the last card: a multi-line card's front
        plain_from = p.loc.line

        def flush() -> None:
            if plain:
                pieces.append(m.Para(_joined(plain, p.loc), m.Loc(p.loc.file, plain_from)))

        for k, line in enumerate(lines):
            here = p.loc.line + k
            if not _content(line):
                continue  # a line the reader emptied (an <!--SR:...--> comment): nothing to keep
            if any(isinstance(n, m.Mark) for n in walk_inlines(line)) and not any(sep for sep, _ in seps if _split_at(line, sep)):
                self.card_lines.add(here)  # a cloze's line: its tags are its own
            alone = _only(line)
            # a line holding only "::" between a question and its answer: the plugin would make an empty
            # card of that line alone; the author meant the lines around it (a multi-line card)
            if alone and alone in (syn.inline, syn.inline_reversed):
                alone = syn.multiline if alone == syn.inline else syn.multiline_reversed
            if alone in (syn.multiline, syn.multiline_reversed) and alone:
                front = list(plain)
                first = plain_from
                if not front and not pieces and out and isinstance(out[-1], m.BLOCK_TYPES) \
                        and here > 1 and self.line(here - 1).strip():
                    prev = out.pop()  # the front is the block just above, touching the separator
                    return [], ((prev,), _joined(_full(lines[k + 1:]), p.loc), here, alone == syn.multiline_reversed,
                                prev.loc.line)
                if not front:
                    plain.append(line)
                    continue
                plain.clear()
                flush()
                rest = _full(lines[k + 1:])
                front_para = m.Para(_joined(front, p.loc), m.Loc(p.loc.file, first))
                return pieces, ((front_para,), _joined(rest, p.loc), here, alone == syn.multiline_reversed, first)
            for sep, reverse in seps:
                if not sep:
                    continue
                cut = _split_at(line, sep)
                if cut is None:
                    continue
                flush()
                plain.clear()
                front, back = _strip(cut[0]), _strip(cut[1])
                at = m.Loc(p.loc.file, here)
                self.card_lines.add(here)
                pieces.append(m.Flashcard((m.Para(front, at),) if front else (), (m.Para(back, at),) if back else (),
                                          at, reverse, self.sched(here, here)))
                plain_from = here + 1
                break
            else:
                if not plain:
                    plain_from = here
                plain.append(line)
        flush()
        return pieces, None


def _tail(b: object) -> m.Flashcard | None:
    """The card a block ends with: itself, or the last block of its last list item."""
    if isinstance(b, m.Flashcard):
        return b
    if isinstance(b, m.BulletList) and b.items and b.items[-1].blocks:
        return _tail(b.items[-1].blocks[-1])
    return None


def _with_tail(b: object, fn: Callable[[m.Flashcard], m.Flashcard]) -> object:
    """``b`` with the card it ends with (see :func:`_tail`) replaced by ``fn(card)``."""
    if isinstance(b, m.Flashcard):
        return fn(b)
    assert isinstance(b, m.BulletList)
    last = b.items[-1]
    return replace(b, items=b.items[:-1] + (replace(last, blocks=last.blocks[:-1] + (_with_tail(last.blocks[-1], fn),)),))


def run_together(lines: list[str], syntax: m.FlashcardSyntax, file: str) -> list[Diagnostic]:
    """P146 where a multi-line card's back holds another separator line: the plugin reads one card there (its
    back the second question and its answer), though two were written ("Range", "?", "- max minus min",
    "Interquartile range", "?", "- Q3 minus Q1", no blank line between them)."""
    seps = {x for x in (syntax.multiline, syntax.multiline_reversed) if x}
    g = _Gather(lines, syntax, file)
    out: list[Diagnostic] = []
    done = 0  # (the last line of the card said so: its back is not looked at again)
    for n, text in _unfenced(lines):
        if n <= done or text.strip() not in seps or n == 1 or not lines[n - 2].strip():
            continue
        end = g.card_end(n)
        second = next((k for k, line in _unfenced(lines, n + 1, end) if line.strip() in seps), None)  # (not in code)
        if second is not None:
            out.append(diag("P146", file, second, f"a second '{g.line(second).strip()}' in the card of line {n - 1}: "
                                                  "the plugin reads one card, its back holding this question and its "
                                                  "answer; put a blank line before the question above it"))
            done = end
    return out


def gather(blocks: list, lines: list[str], syntax: m.FlashcardSyntax, file: str) -> tuple[list, set[int]]:
    """The blocks with their written cards as Flashcard nodes, and the lines the cards stand on."""
    g = _Gather(lines, syntax, file)
    return g.blocks(blocks), g.card_lines


def cloze_runs(blocks: list | tuple, lines: list[str], syntax: m.FlashcardSyntax, file: str
               ) -> tuple[tuple[tuple[int, int, tuple[tuple[str, int, int], ...]], ...], set[int]]:
    """Each cloze as the plugin reads one (see ``Chapter.clozes``), once every deletion syntax is read, and
    the lines they stand on."""
    g = _Gather(lines, syntax, file)
    found: dict[int, tuple[int, int, tuple[tuple[str, int, int], ...]]] = {}
    g.cloze_runs(blocks, found)
    taken = {n for first, last, _ in found.values() for n in range(first, last + 1)}
    return tuple(sorted(found.values())), taken


# --------------------------------------------------------------------------- deletions written otherwise

ANKI_CLOZE_RE = re.compile(r"\{\{c(\d{1,3})::(.*?)(?:::([^{}]*?))?\}\}", re.S)
PATTERN_RE = re.compile(r"^(?P<open>.+?)(?:\[123;;\])?answer(?:\[;;hint\])?(?P<close>.+)$")
ANKI_NUMBER_RE = re.compile(r"^c\d{1,3}::")


def pattern_delimiters(pattern: str) -> tuple[str, str] | None:
    """A cloze pattern of the plugin's settings (``{@{[123;;]answer[;;hint]}@}``) as its opening and closing
    text; None: not one this reads (delimiters with brackets, or Markdown's own ``==`` and ``**``)."""
    found = PATTERN_RE.match(pattern.strip())
    if not found or "[" in found.group("open") + found.group("close"):
        return None
    return found.group("open"), found.group("close")


def delimiters(syntax: m.FlashcardSyntax) -> list[tuple[str, str]]:
    out = [("{{", "}}")] if syntax.curly_clozes else []
    for pattern in syntax.cloze_patterns:
        pair = pattern_delimiters(pattern)
        if pair is not None and pair not in (("==", "=="), ("**", "**")) and pair not in out:
            out.append(pair)
    return out


def _delimited(nodes: tuple[m.Inline, ...], opening: str, closing: str) -> tuple[m.Inline, ...]:
    """Text between ``opening`` and ``closing`` as a deletion (a Mark); what stands between may be any inline
    (a link, a formula, code) as long as both delimiters are written in text of this run."""
    todo = list(nodes)
    out: list[m.Inline] = []
    k = 0
    while k < len(todo):
        n = todo[k]
        k += 1
        at = n.text.find(opening) if isinstance(n, m.Text) else -1
        if at < 0:
            out.append(n)
            continue
        assert isinstance(n, m.Text)
        head, rest = n.text[:at], n.text[at + len(opening):]
        inner: list[m.Inline] = []
        end = rest.find(closing)
        j = k
        if end >= 0:
            inner, tail = [m.Text(rest[:end], n.loc)], rest[end + len(closing):]
        else:
            inner = [m.Text(rest, n.loc)] if rest else []
            while j < len(todo) and not (isinstance(todo[j], m.Text) and closing in todo[j].text):  # type: ignore[union-attr]
                inner.append(todo[j])
                j += 1
            if j == len(todo):  # never closed: text as written
                out.append(n)
                continue
            last = todo[j]
            assert isinstance(last, m.Text)
            cut = last.text.find(closing)
            if cut:
                inner.append(m.Text(last.text[:cut], last.loc))
            tail = last.text[cut + len(closing):]
            j += 1
        words = "".join(x.text for x in inner if isinstance(x, m.Text))
        if opening == "{{" and ANKI_NUMBER_RE.match(words):  # Anki's own {{c1::x}}: read by anki_clozes
            out.append(n)
            continue
        if head:
            out.append(replace(n, text=head))
        out.append(_numbered(m.Mark(tuple(x for x in inner if not (isinstance(x, m.Text) and not x.text)), n.loc)))
        if tail:
            todo.insert(j, m.Text(tail, n.loc))
        k = j
    return tuple(out)
HINT_RE = re.compile(r"^\^\[([^\]\n]*)\]")
GROUP_RE = re.compile(r"^\[\^(\d{1,3})\]")


def is_group_ref(message: str, lines: list[str], line: int) -> bool:
    """Does a "footnote not defined" message name a deletion group written on its line (``==x==[^1]``)?"""
    found = re.search(r"\[\^(\d{1,3})\]$", message)
    text = lines[line - 1] if 1 <= line <= len(lines) else ""
    return bool(found) and re.search(r"==(?:\^\[[^\]\n]*\])?" + re.escape(found.group()), text) is not None


def anki_clozes(nodes: tuple[m.Inline, ...]) -> tuple[m.Inline, ...]:
    """Anki's own cloze syntax written in a note, ``{{c1::answer::hint}}``, as a deletion of group 1 (a
    Mark): the deletions that share a number are asked together. In code it stays as written."""
    if not any(isinstance(n, m.Text) and "{{c" in n.text for n in nodes):
        return nodes
    return split_text(nodes, ANKI_CLOZE_RE, lambda found, n: m.Mark(
        (m.Text(found.group(2), n.loc),), n.loc, (found.group(3) or "").strip(), int(found.group(1))))


NUMBER_RE = re.compile(r"^(\d{1,3});;")


def _numbered(mark: m.Mark) -> m.Mark:
    """``==1;;answer;;hint==``, the plugin's own pattern: group 1, with a hint."""
    kids = list(mark.children)
    group, hint = mark.group, mark.hint
    if kids and isinstance(kids[0], m.Text) and (found := NUMBER_RE.match(kids[0].text)):
        group = int(found.group(1))
        kids[0] = replace(kids[0], text=kids[0].text[found.end():])
    if kids and isinstance(kids[-1], m.Text) and ";;" in kids[-1].text:
        text, _, hint = kids[-1].text.rpartition(";;")
        kids[-1] = replace(kids[-1], text=text)
        hint = hint.strip()
    kids = [k for k in kids if not (isinstance(k, m.Text) and not k.text)]
    if group == mark.group and hint == mark.hint:
        return mark
    return replace(mark, children=tuple(kids), group=group, hint=hint)


def plugin_clozes(nodes: tuple[m.Inline, ...], syntax: m.FlashcardSyntax) -> tuple[m.Inline, ...]:
    """The plugin's deletions in a flashcard file: ``==1;;x;;hint==`` (its own pattern: a group and a hint),
    ``==x==^[hint]`` and ``==x==[^1]`` (its footnote pattern; never a footnote here), ``**x**`` and ``{{x}}``
    when book.toml turns them on, and the patterns of its settings written with text delimiters."""
    for opening, closing in delimiters(syntax):
        if any(isinstance(n, m.Text) and opening in n.text for n in nodes):
            nodes = _delimited(nodes, opening, closing)
    out: list[m.Inline] = []
    for n in nodes:
        if isinstance(n, m.Strong) and syntax.bold_clozes:
            n = m.Mark(n.children, n.loc)
        if isinstance(n, m.Mark):
            n = _numbered(n)
        if isinstance(n, m.Text) and out and isinstance(out[-1], m.Mark):
            text = n.text
            mark = out[-1]
            if (h := HINT_RE.match(text)) is not None:
                mark = replace(mark, hint=h.group(1).strip())
                text = text[h.end():]
            if (g := GROUP_RE.match(text)) is not None:
                mark = replace(mark, group=int(g.group(1)))
                text = text[g.end():]
            out[-1] = mark
            if not text:
                continue
            n = replace(n, text=text)
        if isinstance(n, m.FootnoteRef) and out and isinstance(out[-1], m.Mark) and n.key.isdigit():
            out[-1] = replace(out[-1], group=int(n.key))
            continue
        out.append(n)
    return tuple(out)


# --------------------------------------------------------------------------- other tools' markers

O2A_PAIRS = (("START", "END"), ("STARTI", "ENDI"))
O2A_HEADS = ("TARGET DECK", "FILE TAGS")


def foreign_markers(text: str) -> tuple[str, list[tuple[str, int, str]]]:
    """Other flashcard tools' marker lines, blanked (their line breaks kept), and what was found: (tool,
    first line, what). Obsidian_to_Anki: ``START``/``END`` (the note type on the line after ``START``),
    ``STARTI``/``ENDI``, ``TARGET DECK`` and ``FILE TAGS`` (with the line after), ``DELETE``; inka: a
    ``---`` line opening a card section (``Deck:`` on the next line) and the ``---`` that closes it. The
    text between the markers stays. A lone ``START`` or ``END`` (no partner) is text."""
    if not any(k in text for k in ("START", "TARGET DECK", "FILE TAGS", "Deck:", "DELETE")):
        return text, []
    lines = text.split("\n")
    prose = dict(_prose_lines(lines))
    blank: set[int] = set()
    found: list[tuple[str, int, str]] = []
    strip = {n: t.strip() for n, t in prose.items()}
    n_lines = len(lines)
    for start, end in O2A_PAIRS:
        open_at = 0
        for n in range(1, n_lines + 1):
            t = strip.get(n)
            if t == start and not open_at:
                open_at = n
            elif t == end and open_at:
                blank.update((open_at, n))
                if start == "START" and strip.get(open_at + 1, "") and len(strip[open_at + 1].split()) <= 3:
                    blank.add(open_at + 1)  # the note type ("Basic")
                found.append(("Obsidian_to_Anki", open_at, f"{start}/{end}"))
                open_at = 0
    for n in range(1, n_lines + 1):
        t = strip.get(n)
        if t in O2A_HEADS and strip.get(n + 1):
            blank.update((n, n + 1))
            found.append(("Obsidian_to_Anki", n, t))
        elif t == "DELETE" and any(tool == "Obsidian_to_Anki" for tool, _, _ in found):
            blank.add(n)
            found.append(("Obsidian_to_Anki", n, "DELETE"))
        elif t == "---" and (strip.get(n + 1) or "").startswith("Deck:"):
            close = next((k for k in range(n + 2, n_lines + 1) if strip.get(k) == "---"), 0)
            if close:
                blank.update((n, n + 1, close))
                found.append(("inka", n, "--- card section"))
    if not blank:
        return text, []
    return "\n".join("" if n in blank else line for n, line in enumerate(lines, 1)), sorted(found, key=lambda f: f[1])


def foreign_diags(found: list[tuple[str, int, str]], file: str) -> list[Diagnostic]:
    """P143 once a tool a file: its markers are not read (the text between them is kept as text)."""
    out: list[Diagnostic] = []
    for tool in dict.fromkeys(t for t, _, _ in found):
        mine = [(n, what) for t, n, what in found if t == tool]
        kinds = ", ".join(dict.fromkeys(w for _, w in mine))
        out.append(diag("P143", file, mine[0][0], f"{tool}'s flashcard markers ({kinds}; {len(mine)} in this file) are "
                                                   "not read: their lines are left out, the text between them is kept "
                                                   "as text (write cards as publisher or the Spaced Repetition plugin reads them)"))
    return out
