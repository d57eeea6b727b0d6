"""Derive flash cards from the normalized model.

Cards come only from the text: definitions, paragraphs with ``==marks==``
(cloze) and headings that end with ``?`` (question). A card's identity is made
from what the card asks (the term, the question, the marked text) and its
chapter, never from its answer or its position, so answers can be edited and
cards inserted, removed or reordered without changing it. A ``<!-- id: x -->``
on the card's line pins it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from typing import Iterator, assert_never

from ..core import model as m
from .normalize import split_term
from ..read.flashcards import is_deck_tag
from ..core.text import BLANK, blank_marks, blocks_text, drops_letters, all_inlines, block_inlines, card_options, plain_text, slugify, squash, walk_blocks, walk_inlines, without_navigation


def key_slug(text: str) -> str:
    """A readable slug of ``text``; long ones end in a short hash so they stay unique."""
    full = slugify(squash(text).lower(), limit=400)
    if not full:
        full = "x" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]
    elif drops_letters(text):  # "PCB가 왜 필요한가요?", "PCB는 어떻게 관리되나요?": not both "pcb" (then "pcb.2", by order)
        full = f"{full[:39].rstrip('-')}-{hashlib.sha1(text.encode('utf-8')).hexdigest()[:8]}"
    if len(full) <= 48:
        return full
    return full[:39].rstrip("-") + "-" + hashlib.sha1(full.encode()).hexdigest()[:8]


def pins(nodes: tuple[m.Inline, ...]) -> list[m.Pin]:
    return [n for n in walk_inlines(nodes) if isinstance(n, m.Pin)]


def marks(nodes: tuple[m.Inline, ...]) -> list[m.Mark]:
    return [n for n in walk_inlines(nodes) if isinstance(n, m.Mark)]


@dataclass(frozen=True)
class _Ctx:
    book: m.Meta
    chapter: m.Chapter
    path: tuple[tuple[str, str], ...]  # (title, anchor) of the enclosing sections
    lead: str = ""  # the list item or term a nested card stands under
    honour_no: bool = True  # False: what the lines marked `card: no` would make (see retired_identities)

    def studied(self, *runs: tuple[m.Inline, ...]) -> bool:
        return not self.honour_no or studied(*runs)

    @property
    def titles(self) -> tuple[str, ...]:
        head = (plain_text(self.chapter.title) or self.chapter.slug,) + tuple(t for t, _ in self.path)
        return head + ((self.lead,) if self.lead else ())

    def under(self, lead: tuple[m.Inline, ...]) -> "_Ctx":
        """The context of the cards nested under ``lead``: its words as written, cut at a word near 90
        characters, its marked words hidden as [...] (they are the parent card's answer: shown, every card
        under it gave that answer away). When hiding them leaves too little to name a subject ("[…] enabled"),
        the nested cards stand under their section alone."""
        text = squash(plain_text(blank_marks(lead)))
        if len(WORD_RE.findall(text.replace(BLANK, " "))) < 3 and BLANK in text:
            return replace(self, lead="")
        if len(text) > 90:
            text = text[:89].rsplit(" ", 1)[0] if " " in text[:89] else text[:89]
            if text.count("(") > text.count(")"):  # never "envelope key (a…": cut before the open parenthesis
                text = text[:text.rindex("(")]
            text = text.rstrip(" ,;:-([{") + "\u2026"
        return replace(self, lead=text)

    def deck_of(self, front: tuple[m.Block, ...], loc: m.Loc) -> tuple[str, tuple[str, ...]]:
        """A written card's deck tag and the further deck tags that stay Anki tags, as the Spaced Repetition
        plugin scopes them: the tags that open the card's first line, else the last tag line above it,
        else the front matter's, else (tags written only below) the file's first."""
        first = next((b for b in walk_blocks(front) if isinstance(b, m.Para)), None)
        own: list[str] = []
        for n in first.children if first is not None else ():
            if isinstance(n, m.Tag) and is_deck_tag(n.name, self.book.flashcards):
                own.append(n.name)
            elif not (isinstance(n, m.Text) and not n.text.strip()):
                break
        if not own:
            scopes = self.chapter.decks
            above = [tags for line, tags in scopes if line < loc.line]
            own = list(above[-1] if above else (scopes[0][1] if scopes else ()))
        return (own[0], tuple(own[1:])) if own else ("", ())

    def written_tags(self, tags: tuple[str, ...], more: tuple[str, ...]) -> tuple[str, ...]:
        """A written card's Anki tags: its own and its file's, without the deck tags (they name its deck),
        but with those of its deck tags Anki has no room for (a card has one deck)."""
        return tuple(dict.fromkeys([t for t in tags if not is_deck_tag(t, self.book.flashcards)] + list(more)))

    @property
    def tags(self) -> tuple[str, ...]:
        parts = [slugify(self.book.short_name) or "book", self.chapter.slug] + [a for _, a in self.path]
        return ("::".join(parts),) + self.chapter.tags


def _card(kind: m.CardKind, basis: str, front: tuple[m.Block, ...], back: tuple[m.Block, ...],
          ctx: _Ctx, loc: m.Loc, pinned: list[m.Pin], as_written: bool = False) -> m.Card:
    """``as_written``: a card the notes write as one (its sides stay as written)."""
    if kind == "question" and not as_written:
        front, back = _asks_with(front, back)
    if pinned:
        identity, is_pinned = pinned[0].id, True
    else:
        prefix = {"definition": "", "cloze": "cloze-", "question": "q-"}[kind]
        identity, is_pinned = f"{ctx.chapter.slug}/{prefix}{key_slug(basis)}", False
    tags = ctx.tags + tuple(dict.fromkeys(  # the #tags written on the card's lines
        n.name for b in walk_blocks(front + back) for run in block_inlines(b) for n in walk_inlines(run)
        if isinstance(n, m.Tag) and n.name not in ctx.tags))
    back = without_navigation(back)  # "⬆ Back to Top" goes nowhere on a card
    return m.Card(kind, identity, front, back, ctx.titles, ctx.chapter.slug, tags, loc, is_pinned)


# a question about what comes after it: "What is the output of the following code", "下面的代码输出什么"
FOLLOWING_RE = re.compile(r"\b(?:following|below)\b|\bthis (?:code|snippet|program|function|query|command|script|"
                          r"play|playbook|loop|expression|statement|table)\b|以下|下面|下列|如下", re.I)


def _asks_with(front: tuple[m.Block, ...], back: tuple[m.Block, ...]) -> tuple[tuple[m.Block, ...], tuple[m.Block, ...]]:
    """A question that asks about "the following code", its answer opening with that code (or table): the
    code asks with it, on the front (a learner's read of an interview README: "What is the output of the
    following for loops" showed no loops). Not when nothing would be left to answer with, nor when the front
    shows code already (what follows is then the answer: "Which of the following queries?", the two queries
    asked with it, the one to use answering)."""
    if any(isinstance(b, (m.CodeBlock, m.Table)) for b in walk_blocks(front)):
        return front, back
    lead = 0
    while lead < len(back) and isinstance(back[lead], (m.CodeBlock, m.Table)):
        lead += 1
    if not lead or lead == len(back) or not FOLLOWING_RE.search(blocks_text(front)):
        return front, back
    return front + back[:lead], back[lead:]


def studied(*runs: tuple[m.Inline, ...]) -> bool:
    return "no" not in card_options(*runs)


# a <details> summary that only says "open me": the question is the heading above (or the text before)
WORD_RE = re.compile(r"\w+")
GENERIC_SUMMARY_RE = re.compile(
    r"^\W*(?:(?:click|tap|press|clique|cliquez|clic|haz\s+clic|klicken\s+sie)\s+(?:here\s+|aqui\s+|ici\s+|hier\s+)?"
    r"(?:to|para|pour|zum|um)?\s*)?"  # "Click to expand", "Clique para Expandir/Retrair"
    r"(show|see|view|reveal|click|toggle|expand|open|collapse|hide|ver|voir|mostrar|exibir|expandir|anzeigen)?"
    r"(?:\s*/\s*(?:collapse|hide|retrair|recolher|ocultar|close))?\s*(the\s+|a\s+|la\s+|o\s+|die\s+)?"
    r"(answer|answers|solution|solutions|hint|explanation|result|output|spoiler|details|more|code|resposta|respuesta|"
    r"solução|solucao|solución|réponse|lösung|antwort|答案|参考答案|解答|答え|回答|정답|답변|답|해설|펼치기|点击展开|展开|查看答案)?"
    r"\s*(here|below)?\W*$", re.I)
# ... and of those, the ones that only say to unfold ("Click to expand", "Clique para Expandir/Retrair"): no answer
# to the heading above them (the code listing under "Reading the terminal in C" answers nothing)
UNFOLD_RE = re.compile(r"click|tap|clique|cliquez|clic|klicken|expand|expandir|展开|펼치기", re.I)
# a summary that names an example ("Example of a closure", "Exemplo de ponteiro"): no question, its body no answer
EXAMPLE_SUMMARY_RE = re.compile(r"^\W*(?:examples?|exemplos?|ejemplos?|exemples?|beispiele?|例子|示例|例|예시|예제)(?:\W|$)", re.I)
QA_RE = re.compile(r"^\s*(?:q|question)\s*[:.)]\s*", re.I)
A_RE = re.compile(r"^\s*(?:a|answer|ans)\s*[:.)]\s*", re.I)


def _cloze_basis(nodes: tuple[m.Inline, ...], old: m.Superseded | None) -> str:
    """What a cloze asks, for its identity: the marks of the claim as first written, when it was
    updated since (so the note is updated in place and keeps its reviews), else its own marks."""
    found = marks(old.original) if old is not None else []
    found = found or marks(nodes)
    return " | ".join(plain_text(k.children) for k in found)


QUESTION_ENDS = ("?", "？")  # (the full-width mark of Chinese and Japanese notes)


def _is_question(nodes: tuple[m.Inline, ...]) -> bool:
    return plain_text(nodes).strip().endswith(QUESTION_ENDS)


def _bold_question(block: m.Block) -> bool:
    """A paragraph that is a question on its own: all bold and ending in '?', or 'Q: ...'."""
    if not isinstance(block, m.Para) or not block.children:
        return False
    kids = [n for n in block.children if not isinstance(n, (m.Pin, m.CardOption, m.Tag))]
    text = plain_text(block.children).strip()
    if QA_RE.match(text) and not any(isinstance(n, (m.SoftBreak, m.LineBreak)) for n in kids):
        return True
    return len(kids) == 1 and isinstance(kids[0], m.Strong) and text.endswith(QUESTION_ENDS)


def _strip_prefix(block: m.Block, pattern: re.Pattern[str]) -> m.Block:
    """'Q: text' / 'A: text' without the label (the card shows its own)."""
    if isinstance(block, m.Para) and block.children and isinstance(block.children[0], m.Text):
        first = block.children[0]
        found = pattern.match(first.text)
        if found:
            rest = first.text[found.end():]
            return replace(block, children=((replace(first, text=rest),) if rest else ()) + block.children[1:])
    return block


def _qa_in_one(block: m.Para) -> tuple[m.Para, m.Para] | None:
    """'Q: question' and 'A: answer' on consecutive lines of one paragraph."""
    kids = block.children
    for i, node in enumerate(kids):
        if isinstance(node, (m.SoftBreak, m.LineBreak)):
            q, a = kids[:i], kids[i + 1:]
            if QA_RE.match(plain_text(q)) and A_RE.match(plain_text(a)):
                return (_strip_prefix(m.Para(q, block.loc), QA_RE),  # type: ignore[return-value]
                        _strip_prefix(m.Para(a, a[0].loc if a else block.loc), A_RE))
            return None
    return None


def _answer_details(blocks: tuple[m.Block, ...]) -> int | None:
    """The index of the first <details> whose summary only says "answer" (its heading is the question)."""
    for i, b in enumerate(blocks):
        found = GENERIC_SUMMARY_RE.match(plain_text(b.summary).strip() or "answer") if isinstance(b, m.Details) else None
        if found and (found.group(3) not in (None, "") or not UNFOLD_RE.search(found.group())):
            return i
    return None


def _from_blocks(blocks: tuple[m.Block, ...], ctx: _Ctx) -> Iterator[m.Card]:
    skip: set[int] = set()
    for index, block in enumerate(blocks):
        if index in skip:
            continue
        nxt = blocks[index + 1] if index + 1 < len(blocks) else None
        match block:
            case m.Para(children=c):
                qa = _qa_in_one(block)
                if qa is not None:
                    q, a = qa
                    if ctx.studied(c):
                        yield _card("question", plain_text(q.children), (q,), (a,), ctx, block.loc, pins(c))
                    continue
                if _bold_question(block) and nxt is not None and not isinstance(nxt, (m.Section, m.Rule)):
                    # a question standing alone, its answer the block after it
                    skip.add(index + 1)
                    if ctx.studied(c):
                        q = _strip_prefix(block, QA_RE)
                        yield _card("question", plain_text(q.children), (q,), (_strip_prefix(nxt, A_RE),), ctx, block.loc, pins(c))
                    continue
                found = marks(c)
                if found and ctx.studied(c):
                    old = nxt if isinstance(nxt, m.Superseded) else None
                    basis = _cloze_basis(c, old)
                    yield _card("cloze", basis, (block,), (old,) if old else (), ctx, block.loc, pins(c))
            case m.DefList(items=items):
                for d in items:
                    term = plain_text(d.term)
                    lead = d.body[0].children if d.body and isinstance(d.body[0], m.Para) else ()
                    if not d.body or not ctx.studied(d.term, lead):  # nothing to answer with (P108), or not to study
                        continue
                    old = next((b for b in d.body[:2] if isinstance(b, m.Superseded)), None)
                    was = split_term(old.original) if old is not None else None
                    basis = plain_text(was[0]) if was is not None else term  # an updated claim keeps its card
                    back = d.body[:1] + _own_cards_out(d.body[1:], ctx.under(d.term))
                    card = _card("definition", basis, (m.Para(d.term, d.loc),), back, ctx, d.loc, pins(d.term) + pins(lead))
                    yield card
                    if "reverse" in card_options(d.term, lead):
                        # the other way round: a note of its own (the definition asks for the term), so
                        # neither note type nor the forward note changes
                        yield replace(card, identity=f"{card.identity}/reverse", front=d.body, back=(m.Para(d.term, d.loc),))
                    yield from _from_blocks(d.body, ctx.under(d.term))
            case m.BulletList(items=items, ordered=ordered):
                for item in items:
                    lead = item.blocks[0] if item.blocks and isinstance(item.blocks[0], m.Para) else None
                    if lead is not None and _is_question(lead.children) and len(item.blocks) > 1 and not marks(lead.children):
                        # "1. What is X?" with its answer nested under it
                        if ctx.studied(lead.children):
                            q = _strip_prefix(lead, QA_RE)
                            yield _card("question", plain_text(q.children), (q,), item.blocks[1:], ctx, lead.loc, pins(lead.children))
                        continue
                    # numbered steps keep their list; a "Term - text" step still makes a card
                    split = split_term(lead.children) if ordered and lead is not None else None
                    if split is not None and ctx.studied(lead.children):  # type: ignore[union-attr]
                        term, rest = split
                        back = ((m.Para(rest, item.loc),) if rest else ()) + item.blocks[1:]
                        yield _card("definition", plain_text(term), (m.Para(term, item.loc),), back, ctx, item.loc, pins(lead.children))  # type: ignore[union-attr]
                    if lead is not None and marks(lead.children):
                        # a cloze item: its nested bullets and alerts are the card's Extra
                        if ctx.studied(lead.children):
                            old = item.blocks[1] if len(item.blocks) > 1 and isinstance(item.blocks[1], m.Superseded) else None
                            basis = _cloze_basis(lead.children, old)
                            extra = _own_cards_out(item.blocks[1:], ctx.under(lead.children))
                            yield _card("cloze", basis, (lead,), extra, ctx, lead.loc, pins(lead.children))
                    else:
                        yield from _from_blocks(item.blocks[:1], ctx)
                    yield from _from_blocks(item.blocks[1:], ctx.under(lead.children) if lead else ctx)
            case m.Details(summary=summary, blocks=bs, prompt=prompt):
                generic = GENERIC_SUMMARY_RE.match(plain_text(summary).strip() or "answer")
                if EXAMPLE_SUMMARY_RE.match(plain_text(summary)):
                    yield from _from_blocks(bs, ctx)
                    continue
                if not generic:  # the summary is the prompt ("What is X?", "Explain Y"), the body its answer
                    # (what the summary holds besides its words, a list or code, asks with it); a <details>
                    # inside the body is a card of its own, left off this one's back
                    own = tuple(b for b in bs if not isinstance(b, m.Details))
                    if ctx.studied(summary):
                        front = (m.Para(summary, block.loc),) + prompt
                        yield _card("question", plain_text(summary), front, own, ctx, block.loc, pins(summary))
                    yield from _from_blocks(tuple(b for b in bs if isinstance(b, m.Details)), ctx)
                    continue
                if GENERIC_SUMMARY_RE.match(plain_text(summary).strip() or "answer") and index > 0 \
                        and isinstance(blocks[index - 1], m.Para) and _is_question(blocks[index - 1].children):  # type: ignore[union-attr]
                    prev = blocks[index - 1]
                    assert isinstance(prev, m.Para)
                    if ctx.studied(prev.children):
                        yield _card("question", plain_text(prev.children), (prev,), bs, ctx, prev.loc, pins(prev.children))
                    continue
                yield from _from_blocks(bs, ctx)
            case m.Alert(title=t, blocks=bs) if bs and plain_text(t).strip().endswith(QUESTION_ENDS):
                # "> [!question] Why do cells divide?" (or "??? question "Why?""): the title asks, the body answers
                if ctx.studied(t):
                    yield _card("question", plain_text(t), (m.Para(t, block.loc),), bs, ctx, block.loc, pins(t))
            case m.Quote(blocks=bs) | m.Alert(blocks=bs):
                yield from _from_blocks(bs, ctx)
            case m.Section(title=t, anchor=a, blocks=bs):
                inner = replace(ctx, path=ctx.path + ((plain_text(t), a),), lead="")  # leads end at a heading
                title = plain_text(t).strip()
                answer = _answer_details(bs)
                rest = bs
                if answer is not None and not any(isinstance(b, m.Section) for b in bs[:answer]):
                    # a task under its heading, its answer behind <details>: the heading and the task
                    # statement are the front, the details the back
                    details = bs[answer]
                    assert isinstance(details, m.Details)
                    if ctx.studied(t):
                        front = (m.Para(t, block.loc),) + bs[:answer]
                        yield _card("question", title, front, details.blocks, ctx, block.loc, pins(t))
                    rest = bs[:answer] + bs[answer + 1:]
                elif (title.endswith(QUESTION_ENDS) or block.asks) and ctx.studied(t):
                    # its answer is what stands under it, not the questions below it (cards of their own)
                    back = tuple(b for b in bs if not (isinstance(b, m.Section) and plain_text(b.title).strip().endswith(QUESTION_ENDS)))
                    if back:
                        yield _card("question", title, (m.Para(t, block.loc),), back, ctx, block.loc, pins(t))
                yield from _from_blocks(rest, inner)
            case m.Flashcard():
                yield from _flashcard(block, ctx)
            case m.CodeBlock() | m.Table() | m.Rule() | m.RawBlock() | m.Superseded():
                pass
            case _:
                assert_never(block)


def _flashcard(card: m.Flashcard, ctx: _Ctx) -> Iterator[m.Card]:
    """A card written as one: its front asks, its back answers; written both ways, a second card asks
    the back (an identity of its own, so the forward one never changes)."""
    runs = [r for b in card.front for r in block_inlines(b)]
    if not ctx.studied(*runs):
        return
    deck, more = ctx.deck_of(card.front, card.loc)
    first = _card("question", blocks_text(card.front), card.front, card.back, ctx, card.loc, [p for r in runs for p in pins(r)],
                  as_written=True)
    first = replace(first, deck=deck, tags=ctx.written_tags(first.tags, more), schedule=card.schedule[:1], written=True)
    yield first
    if card.reverse:
        yield replace(first, identity=f"{first.identity}/reverse", front=card.back, back=card.front, schedule=card.schedule[1:2])


def _marked(b: m.Block) -> bool:
    """Does the block hold a deletion (outside the cards written in it)?"""
    if isinstance(b, m.Flashcard):
        return False
    if isinstance(b, m.Para):
        return bool(marks(b.children))
    return any(_marked(x) for x in _children(b))


def _children(b: m.Block) -> tuple[m.Block, ...]:
    match b:
        case m.BulletList(items=items):
            return tuple(x for i in items for x in i.blocks)
        case m.DefList(items=items):
            return tuple(x for d in items for x in d.body)
        case m.Quote(blocks=bs) | m.Alert(blocks=bs) | m.Section(blocks=bs):
            return bs
        case m.Details(blocks=bs, prompt=p):
            return p + bs
    return ()


def _span(b: m.Block) -> tuple[int, int]:
    """The first and last source lines its blocks start on (a block never holds a blank line unless it is made
    of blocks, each of which starts on a line of its own: a loose list's items stand in runs of their own)."""
    lines = [x.loc.line for x in walk_blocks((b,))]
    return min(lines), max(lines)


def _split_by_runs(blocks: tuple[m.Block, ...], runs: tuple[tuple[int, int, tuple], ...]) -> tuple[m.Block, ...]:
    """A list whose items stand in several clozes (the plugin reads lines: a blank line between items ends a
    cloze, not the list) cut into lists of the items of each cloze, so that each is one card."""
    out: list[m.Block] = []
    for b in blocks:
        if not isinstance(b, m.BulletList) or not runs or not _marked(b) \
                or any(r[0] <= _span(b)[0] and _span(b)[1] <= r[1] for r in runs):
            out.append(b)
            continue

        def run_of(item: m.ListItem) -> int | None:
            """The cloze the item's lines stand in (an item with no deletion of its own, "==x ==" that is
            none, still touches the others: the plugin's card holds it)."""
            if not item.blocks:
                return None
            first, last = min(_span(x)[0] for x in item.blocks), max(_span(x)[1] for x in item.blocks)
            return next((i for i, r in enumerate(runs) if r[0] <= first and last <= r[1]), None)

        groups: list[tuple[int | None, list[m.ListItem]]] = []
        for item in b.items:
            key = run_of(item)
            if groups and groups[-1][0] == key:
                groups[-1][1].append(item)
            else:
                groups.append((key, [item]))
        first_run = groups[0][0]
        if all(len(items) == 1 for _, items in groups) and (first_run is None or runs[first_run][0] >= _span(b)[0]):
            out.append(b)  # each item a cloze of its own, none with lines above the list: read item by item
            continue
        at = 0
        for _, items in groups:
            out.append(replace(b, items=tuple(items), start=b.start + at, loc=items[0].loc))
            at += len(items)
    return tuple(out)


def _written_cards(blocks: tuple[m.Block, ...], ctx: _Ctx) -> Iterator[m.Card]:
    """The cards of a file written for the Spaced Repetition plugin: its flashcards and its clozes, and
    nothing else, as the plugin reads it. A cloze is every block that touches the lines of its deletions (up
    to a blank line): a list, a quote or a paragraph with a list under it is one card, its deletions asked in
    turn, the rest of it around them."""
    runs = ctx.chapter.clozes
    blocks = _split_by_runs(blocks, runs)
    k = 0
    while k < len(blocks):
        block = blocks[k]
        k += 1
        if isinstance(block, m.Flashcard):
            yield from _flashcard(block, ctx)
            continue
        if _marked(block):
            first, last = _span(block)
            run = next((r for r in runs if r[0] <= first and last <= r[1]), None)
            if run is not None:
                # the lines above it in the run (a question over a list of deletions) ask with it
                j = k - 1
                while j > 0 and not isinstance(blocks[j - 1], (m.Flashcard, m.Section)) and not _marked(blocks[j - 1]) \
                        and run[0] <= _span(blocks[j - 1])[0]:
                    j -= 1
                group = list(blocks[j:k])
                while k < len(blocks) and not isinstance(blocks[k], (m.Flashcard, m.Section)) \
                        and run[0] <= _span(blocks[k])[0] and _span(blocks[k])[1] <= run[1]:
                    group.append(blocks[k])
                    k += 1
                front = tuple(group)
                found = [mk for b in walk_blocks(front) for r in block_inlines(b) for mk in marks(r)]
                runs_text = [r for b in walk_blocks(front) for r in block_inlines(b)]
                if ctx.studied(*runs_text):
                    deck, more = ctx.deck_of(front, front[0].loc)
                    basis = " | ".join(plain_text(mk.children) for mk in found)
                    card = _card("cloze", basis, front, (), ctx, front[0].loc, [p for r in runs_text for p in pins(r)])
                    yield replace(card, deck=deck, tags=ctx.written_tags(card.tags, more), schedule=run[2], written=True)
                continue
        match block:
            case m.Section(title=t, anchor=a, blocks=bs):
                yield from _written_cards(bs, replace(ctx, path=ctx.path + ((plain_text(t), a),)))
            case m.BulletList(items=items):
                for item in items:
                    yield from _written_cards(item.blocks, ctx)
            case m.DefList(items=items):
                for d in items:
                    yield from _written_cards(d.body, ctx)
            case m.Quote(blocks=bs) | m.Alert(blocks=bs):
                yield from _written_cards(bs, ctx)
            case m.Details(blocks=bs, prompt=p):
                yield from _written_cards(p + bs, ctx)
            case m.Para() | m.CodeBlock() | m.Table() | m.Rule() | m.RawBlock() | m.Superseded() | m.Flashcard():
                pass
            case _:
                assert_never(block)


def _own_cards_out(blocks: tuple[m.Block, ...], ctx: _Ctx) -> tuple[m.Block, ...]:
    """A card's back without the nested items that are cards of their own: each is asked on its own
    card, and copied onto the parent's back it made a long back of several facts (the rubric's weak)."""
    out: list[m.Block] = []
    for b in blocks:
        if isinstance(b, m.BulletList) and not b.ordered:
            items = tuple(i for i in b.items if not any(_from_blocks((replace(b, items=(i,)),), ctx)))
            if items:
                out.append(replace(b, items=items))
        elif isinstance(b, m.DefList):
            items = tuple(d for d in b.items if not any(_from_blocks((replace(b, items=(d,)),), ctx)))
            if items:
                out.append(replace(b, items=items))
        else:
            out.append(b)
    return tuple(out)


def derive_cards(book: m.Book, honour_no: bool = True) -> tuple[m.Card, ...]:
    """All cards of the book in document order, each identity unique (see :func:`unique_identities`)."""
    out: list[m.Card] = []
    for chapter in book.chapters:
        if chapter.cards:
            ctx = _Ctx(book.meta, chapter, (), honour_no=honour_no)
            out.extend((_written_cards if chapter.flashcards else _from_blocks)(chapter.blocks, ctx))
    return unique_identities(out)


def retired_identities(book: m.Book) -> frozenset[str]:
    """The identities of the cards that lines marked ``<!-- card: no -->`` would make: the author
    retired them on purpose, so a deck that had them tags them removed without a warning (P120)."""
    if "no" not in card_options(tuple(n for n in all_inlines(book) if isinstance(n, m.CardOption))):
        return frozenset()
    kept = {c.identity for c in derive_cards(book)}
    return frozenset(c.identity for c in derive_cards(book, honour_no=False) if c.identity not in kept)


def unique_identities(cards: list[m.Card]) -> tuple[m.Card, ...]:
    """Cards that happen to share an identity (the same marked word twice in a chapter) are told
    apart by a suffix in document order: the first keeps it, the next get ``.2``, ``.3`` ... (a
    slug never holds a '.', so no other card can have it). Inserting an unrelated card changes
    none of them. Pinned ids claim theirs first; two pins alike stay alike (an error, P119)."""
    taken = {c.identity for c in cards if c.pinned}
    seen: set[str] = set()
    out = []
    for card in cards:
        if card.pinned:
            out.append(card)
            continue
        if card.identity not in taken and card.identity not in seen:
            seen.add(card.identity)
            out.append(card)
            continue
        n = 2
        while f"{card.identity}.{n}" in seen or f"{card.identity}.{n}" in taken:
            n += 1
        new = f"{card.identity}.{n}"
        seen.add(new)
        out.append(replace(card, identity=new, duplicate_of=card.identity))
    return tuple(out)


def cloze_count(card: m.Card) -> int:
    """How many deletions (c1, c2 ...) a cloze card has (those written with one number count once)."""
    found = [k for b in walk_blocks(card.front) for r in block_inlines(b) for k in marks(r)]
    return len({k.group for k in found if k.group}) + sum(1 for k in found if not k.group)
