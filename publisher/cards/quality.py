"""The card-quality check: would a learner be able to answer this card, and should they?

Each rule looks at a card as a learner meets it (its front with the chapter ›
section context, then its back) and reports what ``card-rubric.md`` calls junk
or weak. Junk makes no card in any artifact (its line stays text in the sheet
and the book); weak is a warning. Both are diagnostics at the card's line.

| code | verdict | the card ... |
| P130 | junk | has the same front and context as another card that asks something else |
| P131 | junk | hides everything: no words are left around its blanks |
| P132 | junk | is a fragment: its text ends on a dangling word |
| P133 | weak | answers yes or no, or next to nothing |
| P134 | weak | gives its answer away in the front or the headings above it |
| P135 | weak | asks only for a count ("[...] ways") |
| P136 | weak | leaves almost nothing around its blank |
| P137 | weak | repeats its front in the context line above it |
| P138 | junk | has no answer (a question nobody answered yet, only "TODO", "TBD", or a link: "Read [here](url)") |
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from ..core import model as m
from ..core.diagnostics import Diagnostic, diag
from ..core.text import BLANK, blank_marks, block_inlines, blocks_text, plain_text, squash, walk_blocks, walk_inlines

JUNK = frozenset({"P130", "P131", "P132", "P138"})
CODES = frozenset({"P130", "P131", "P132", "P133", "P134", "P135", "P136", "P137", "P138"})
WORD_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
DANGLING = frozenset({
    "and", "or", "of", "to", "the", "a", "an", "with", "for", "in", "on", "by", "from", "that", "which", "is",
    "are", "as", "at", "into", "than", "but", "if", "when", "your", "its", "their", "our", "&",
})
YES_NO = frozenset({"yes", "no", "true", "false", "y", "n", "yep", "nope"})
YES_NO_FOLLOW = frozenset({"it", "they", "you", "we", "that", "this", "is", "are", "but", "if", "and", "not", "only"})
COUNT_WORDS = frozenset({
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
})
NUMBER_RE = re.compile(r"^\d{1,3}$")


@dataclass(frozen=True)
class Finding:
    card: m.Card
    code: str
    detail: str

    @property
    def junk(self) -> bool:
        """Left out of the deck. A card the author wrote as a card (Spaced Repetition's ``Q::A``) is theirs:
        it is always made, and the finding says it is weak."""
        return self.code in JUNK and not self.card.written

    def diagnostic(self) -> Diagnostic:
        what = "no card is made" if self.junk else "a weak card"
        return diag(self.code, self.card.loc.file, self.card.loc.line, f"{self.detail} ({what}; <!-- card: no --> silences it)")


# a back that says its answer is still to be written ("TODO", "TBD", "Coming soon")
PLACEHOLDER_RE = re.compile(r"^\W*(?:todo|to-?do|tbd|tba|wip|work in progress|coming soon|fill (?:me|this) in|"
                            r"to be (?:done|added|written|completed|answered))\W*$", re.I)


def _front_paras(card: m.Card) -> list[tuple[m.Inline, ...]]:
    """The front's lines of text, those of its lists and quotes too (a cloze written as a list is one card)."""
    return [run for b in walk_blocks(card.front) for run in block_inlines(b)]


def front_text(card: m.Card) -> str:
    """The front as the learner reads it, blanks shown as [...]."""
    return squash(" ".join(plain_text(blank_marks(run)) for run in _front_paras(card)))


def answers(card: m.Card) -> list[str]:
    """What the card asks for: the marked words of a cloze, the back of the others."""
    if card.kind == "cloze":
        return [squash(plain_text(n.children)) for run in _front_paras(card) for n in walk_inlines(run) if isinstance(n, m.Mark)]
    return [squash(blocks_text(card.back))]


def _words(text: str) -> list[str]:
    return WORD_RE.findall(text)


def judge(cards: tuple[m.Card, ...]) -> list[Finding]:
    """Every finding on every card, in card order (a card may have several)."""
    out: list[Finding] = []
    by_front: dict[tuple[str, ...], list[m.Card]] = defaultdict(list)
    for card in cards:
        front = front_text(card)
        by_front[(card.kind, *card.context, front.lower())].append(card)
        out.extend(_one(card, front))
    for group in by_front.values():
        if len(group) > 1 and len({"|".join(answers(c)).lower() for c in group}) > 1:
            first = group[0]
            for card in group:
                # (another file's card named with its file: a copy of a note under another name)
                others = ", ".join(str(c.loc.line) if c.loc.file == card.loc.file else f"{c.loc.file}:{c.loc.line}"
                                   for c in group if c is not card)
                out.append(Finding(card, "P130", f"'{front_text(first)[:60]}' is also the front of line {others}, with another answer"))
    order = {id(c): i for i, c in enumerate(cards)}
    return sorted(out, key=lambda f: (order[id(f.card)], f.code))


def _one(card: m.Card, front: str) -> list[Finding]:
    out = []
    asked = answers(card)
    if card.kind == "cloze":
        outside = [w for w in _words(front.replace(BLANK, " ")) if w]
        if not outside:
            out.append(Finding(card, "P131", "every word is a blank: nothing is left to answer from"))
            return out
        if len(outside) <= 2:
            out.append(Finding(card, "P136", f"only '{front[:60]}' around the blank: many answers fit"))
        full = squash(" ".join(plain_text(run) for run in _front_paras(card)))
        last = (_words(full) or [""])[-1].lower()
        introduces = full.rstrip().endswith(":") and card.back  # "2 types of indexes:" and its nested list
        if not introduces and (last in DANGLING or full.rstrip().endswith((" -", ":", ",", "(", " –"))):
            out.append(Finding(card, "P132", f"'{full[-40:]}' ends on a dangling word: the sentence is cut off"))
        elif introduces and front.rstrip().endswith(BLANK + ":"):
            # "What you see in ==SNS message body==:" over a list: the blank is the list's subject, and the
            # list (the facts) is not on the front: nothing to answer from
            out.append(Finding(card, "P132", f"'{front[-40:]}' hides what the list below it is about, and the "
                                             "list is not on the front"))
        if asked and all(a.lower() in YES_NO for a in asked):
            out.append(Finding(card, "P133", f"the answer is '{asked[0]}': ask for the fact itself"))
        context = " ".join(card.context).lower()
        unmarked = front.lower()
        for answer in asked:
            low = answer.lower()
            # (a pattern per answer: compiled only where the answer stands at all, a few cards in a thousand)
            if len(low) >= 4 and any(low in where and re.search(rf"\b{re.escape(low)}\b", where)
                                     for where in (unmarked, context)):
                out.append(Finding(card, "P134", f"the answer '{answer}' stands in the front or a heading above it"))
                break
        for run in _front_paras(card):
            nodes = list(run)
            for i, node in enumerate(nodes):
                if isinstance(node, m.Mark):
                    mark = plain_text(node.children).strip().lower()
                    after = plain_text(tuple(nodes[i + 1:i + 2])).strip().lower() if i + 1 < len(nodes) else ""
                    nxt = (_words(after) or [""])[0]
                    if (NUMBER_RE.match(mark) or mark in COUNT_WORDS) and nxt.endswith("s") and len(nxt) > 3:
                        out.append(Finding(card, "P135", f"'[...] {nxt}' asks only for a count ('{mark}')"))
    else:
        back = asked[0] if asked else ""
        words = _words(back)
        if not words and not any(isinstance(b, (m.CodeBlock, m.Table)) or _has_image(b) for b in card.back):
            out.append(Finding(card, "P138", "nothing answers it"))
        elif PLACEHOLDER_RE.match(back):
            out.append(Finding(card, "P138", f"its answer is a placeholder, '{back[:30]}': nothing answers it yet"))
        elif _only_points(card):
            out.append(Finding(card, "P138", f"its answer only points elsewhere, '{back[:30]}': write the answer here"))
        elif not words or (words[0].lower() in YES_NO and (len(words) == 1 or words[1].lower() in YES_NO_FOLLOW)):
            out.append(Finding(card, "P133", f"the answer is '{back[:40]}': ask for the fact itself"))
    if card.context and squash(card.context[-1]).lower().rstrip("?:. ") == front.lower().rstrip("?:. "):
        out.append(Finding(card, "P137", f"the context line repeats the front '{front[:60]}'"))
    return out


# what an answer that only points elsewhere says around its link: "Read [here](url)", "Take a look [here](url)"
POINTER_WORDS_RE = re.compile(r"^\W*(?:(?:read|see|look|take|a|check|explained|answered|details|more|it|this|that|here|"
                              r"there|at|in|on|the|link|docs?|documentation|below|out|answer|found)\W*)*$", re.I)


URL_RE = re.compile(r"https?://\S+")


def _only_points(card: m.Card) -> bool:
    """An answer that is a link and a few words that send the learner to it ("Read here"): no answer on the
    card (a DevOps repo's "What is a harvester?" → "Read here")."""
    if len(card.back) != 1 or not isinstance(card.back[0], m.Para):
        return False
    runs = card.back[0].children
    links = [n for n in runs if isinstance(n, m.Link)]
    rest = "".join(n.text for n in runs if isinstance(n, m.Text))
    urls = URL_RE.findall(rest)  # (a bare address is a link too, to a reader)
    others = [n for n in runs if not isinstance(n, (m.Link, m.Text, m.SoftBreak, m.LineBreak))]
    words = URL_RE.sub(" ", rest) + " " + " ".join(plain_text(link.children) for link in links if not URL_RE.fullmatch(plain_text(link.children)))
    return bool(links or urls) and not others and bool(POINTER_WORDS_RE.match(words))


def _has_image(block: m.Block) -> bool:
    from ..core.text import block_inlines, walk_blocks

    return any(isinstance(n, m.Image) for b in walk_blocks((block,)) for run in block_inlines(b) for n in walk_inlines(run))


def gate(cards: tuple[m.Card, ...]) -> tuple[tuple[m.Card, ...], list[Diagnostic]]:
    """The cards worth making (junk left out) and every finding as a diagnostic."""
    findings = judge(cards)
    junk = {id(f.card) for f in findings if f.junk}
    return tuple(c for c in cards if id(c) not in junk), [f.diagnostic() for f in findings]
