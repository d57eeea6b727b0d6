"""Normalization: an ordered list of pure ``Book -> Book`` passes."""

from __future__ import annotations

import posixpath
import re
import unicodedata
from dataclasses import replace
from urllib.parse import unquote, urlsplit
from typing import Callable, assert_never

from ..core import model as m
from ..core.text import CJK_CHAR_RE, TAG_RE, lines_of, map_blocks, map_inlines, nested_tag, plain_text, same_nodes, split_text, walk_blocks
from ..read.sources import IMAGE_SUFFIXES, SOUND_SUFFIXES

Pass = Callable[[m.Book], m.Book]

# The separators of the author's ``Term - definition`` idiom.
DASH_RE = re.compile(r"\s+[-\u2013\u2014](?:\s+|$)")
COLON_RE = re.compile(r"^\s*[:：]\s*")  # (Chinese and Japanese notes write the full-width one)
MAX_TERM_WORDS = 6
MAX_TERM_CHARS = 60


# --------------------------------------------------------------------------- generic mapping


def map_chapter_inlines(ch: m.Chapter, fn: Callable[[tuple[m.Inline, ...]], tuple[m.Inline, ...]],
                        title: bool = True) -> m.Chapter:
    """Apply ``fn`` to every inline run of a chapter: its body, its footnotes and (``title``) its title."""
    return replace(
        ch,
        title=fn(ch.title) if title else ch.title,
        blocks=map_inlines(ch.blocks, fn),
        footnotes=tuple(replace(f, blocks=map_inlines(f.blocks, fn)) for f in ch.footnotes),
    )


def on_chapters(fn: Callable[[m.Chapter], m.Chapter]) -> Pass:
    def run(book: m.Book) -> m.Book:
        return replace(book, chapters=tuple(fn(c) for c in book.chapters))

    run.__name__ = fn.__name__
    return run


def _deep_inline(fn: Callable[[m.Inline], m.Inline]) -> Callable[[tuple[m.Inline, ...]], tuple[m.Inline, ...]]:
    def run(nodes: tuple[m.Inline, ...]) -> tuple[m.Inline, ...]:
        out = []
        for node in nodes:
            match node:
                case m.Emph(children=c) | m.Strong(children=c) | m.Strike(children=c) | m.Mark(children=c) | m.Link(children=c) | m.Styled(children=c):
                    new = run(c)
                    if not same_nodes(new, c):
                        node = replace(node, children=new)
                case _:
                    pass
            out.append(fn(node))
        return nodes if same_nodes(out, nodes) else tuple(out)

    return run


# --------------------------------------------------------------------------- passes


def _nfc_node(node: m.Inline) -> m.Inline:
    match node:
        case m.Text(text=t) if unicodedata.is_normalized("NFC", t):
            return node
        case m.Text(text=t):
            return replace(node, text=unicodedata.normalize("NFC", t))
        case m.Code(text=t):
            return replace(node, text=unicodedata.normalize("NFC", t))
        case m.Image(alt=a):
            return replace(node, alt=unicodedata.normalize("NFC", a))
        case _:
            return node


@on_chapters
def unicode_nfc(ch: m.Chapter) -> m.Chapter:
    if ch.hints is not None and "nfc" not in ch.hints:
        return ch  # its source is NFC already, and so is every piece of it
    fn = _deep_inline(_nfc_node)
    return map_chapter_inlines(ch, fn)


def _squash_run(nodes: tuple[m.Inline, ...]) -> tuple[m.Inline, ...]:
    if not _needs_squash(nodes):
        return nodes
    out: list[m.Inline] = []
    for node in nodes:
        if isinstance(node, m.Text):
            text = re.sub(r"[ \t\u00a0]{2,}", " ", node.text.replace("\t", " "))
            if out and isinstance(out[-1], m.Text):
                out[-1] = replace(out[-1], text=out[-1].text + text)
                continue
            node = replace(node, text=text)
        out.append(node)
    # trim the run's ends
    if out and isinstance(out[0], m.Text):
        out[0] = replace(out[0], text=out[0].text.lstrip())
    last = _last_visible(out)
    if last is not None and isinstance(out[last], m.Text):
        out[last] = replace(out[last], text=out[last].text.rstrip())
    return tuple(n for n in out if not (isinstance(n, m.Text) and n.text == ""))


_LOOSE_SPACE_RE = re.compile(r"[ \t\u00a0]{2,}|\t")


def _needs_squash(nodes: tuple[m.Inline, ...]) -> bool:
    """Would :func:`_squash_run` change anything (adjacent texts, runs of spaces, tabs, space at the ends)?"""
    prev_text = False
    for node in nodes:
        is_text = isinstance(node, m.Text)
        if is_text and (prev_text or not node.text or _LOOSE_SPACE_RE.search(node.text)):
            return True
        prev_text = is_text
    if nodes and isinstance(nodes[0], m.Text) and nodes[0].text[:1].isspace():
        return True
    last = _last_visible(nodes)
    return last is not None and isinstance(nodes[last], m.Text) and nodes[last].text[-1:].isspace()


def _last_visible(nodes: tuple[m.Inline, ...] | list[m.Inline]) -> int | None:
    """The index of the last node a reader sees (pins and card options at the end are invisible)."""
    for i in range(len(nodes) - 1, -1, -1):
        if not isinstance(nodes[i], (m.Pin, m.CardOption, m.Tag)):
            return i
    return None


@on_chapters
def whitespace(ch: m.Chapter) -> m.Chapter:
    """Collapse runs of spaces and trim the ends of every inline run."""

    def fn(nodes: tuple[m.Inline, ...]) -> tuple[m.Inline, ...]:
        inner = tuple(
            n if not isinstance(n, (m.Emph, m.Strong, m.Strike, m.Mark, m.Link, m.Styled)) or same_nodes(k := fn(n.children), n.children)
            else replace(n, children=k)
            for n in nodes
        )
        return _squash_run(inner if not same_nodes(inner, nodes) else nodes)

    return map_chapter_inlines(ch, fn)


def split_term(nodes: tuple[m.Inline, ...], labels: frozenset[str] = frozenset()) -> tuple[tuple[m.Inline, ...], tuple[m.Inline, ...]] | None:
    """Recognise ``**Term** - text``, ``**Term**: text`` and ``Term - text``, where Term is a term.

    Returns (term, rest) or None. Runs containing ``==marks==`` are cloze text, not definitions.
    The separator is a dash with spaces around it (or a colon after a bold term), outside
    parentheses; the term must pass :func:`is_term` and not be one of the book's ``labels``.
    """
    from ..core.text import plain_text, walk_inlines

    if not nodes or any(isinstance(n, m.Mark) for n in walk_inlines(nodes)):
        return None
    first = nodes[0]
    if isinstance(first, m.Strong) and len(nodes) >= 1:
        after = nodes[1] if len(nodes) > 1 else None
        if after is None:
            return None
        if isinstance(after, m.Text):
            sep = DASH_RE.match(after.text) or COLON_RE.match(after.text)
            if sep and is_term(plain_text(first.children), labels):
                rest_text = after.text[sep.end():]
                rest = ((replace(after, text=rest_text),) if rest_text else ()) + nodes[2:]
                return (first,), rest
        return None
    # plain "Term - text": the separator must be in a Text node, outside parentheses
    term: list[m.Inline] = []
    for i, node in enumerate(nodes):
        if isinstance(node, m.Text):
            for sep in DASH_RE.finditer(node.text):
                head = node.text[: sep.start()]
                candidate = tuple(term) + ((replace(node, text=head),) if head else ())
                words = plain_text(candidate)
                if words.count("(") > words.count(")"):
                    continue  # "Classic Load Balancer (v1 - older generation)": inside parentheses
                if not candidate or not is_term(words, labels) or sep.start() == 0 and not term:
                    return None
                rest_text = node.text[sep.end():]
                rest = ((replace(node, text=rest_text),) if rest_text else ()) + nodes[i + 1 :]
                return candidate, rest
            term.append(node)
        elif isinstance(node, (m.Code, m.Emph, m.Strong)):
            term.append(node)
        else:
            return None
    return None


# labels that head a line without being a term of the subject
LABELS = frozenset({
    "hint", "hints", "note", "notes", "tip", "tips", "example", "examples", "e.g", "i.e", "answer", "answers",
    "solution", "solutions", "question", "questions", "warning", "important", "summary", "explanation", "output",
    "input", "result", "results", "source", "sources", "reference", "references", "link", "links", "see also",
    "todo", "update", "updated", "edit", "caution", "remember", "why", "how", "what", "when", "where", "usage",
    "syntax", "description", "definition", "pros", "cons", "advantages", "disadvantages", "step", "steps",
    "time", "date", "duration", "level", "difficulty", "status", "yes", "no", "true", "false", "ok", "done",
    "disclaimer", "caveat", "caveats", "aside", "motivation", "overview", "intuition",
    # ... in the other languages notes are written in (a Korean repo's "**참고자료** : [링크](...)")
    "참고", "참고자료", "참고 자료", "참고문헌", "출처", "링크", "예시", "예제", "요약", "정리", "주의", "팁", "정답", "해설",
    "힌트", "결론", "参考", "参考资料", "参考文献", "参考链接", "来源", "链接", "例子", "示例", "注意", "提示", "总结", "小结",
    "答案", "解答", "备注", "说明", "出典", "リンク", "例", "ヒント", "まとめ", "答え", "備考", "referências", "referência",
    "nota", "notas", "observação", "exemplo", "exemplos", "fonte", "fontes", "resumo", "dica", "dicas", "resposta",
    "solução", "referencias", "referencia", "ejemplo", "ejemplos", "fuente", "fuentes", "resumen", "consejo",
    "respuesta", "solución", "références", "exemple", "exemples", "remarque", "astuce", "résumé", "réponse", "conseil",
    "quellen", "quelle", "beispiel", "beispiele", "hinweis", "tipp", "zusammenfassung", "antwort", "lösung", "anmerkung",
})
# a line that opens with one of these is a sentence, not a term
NOT_TERM_STARTS = frozenset({
    "if", "when", "to", "use", "the", "a", "an", "can", "could", "will", "would", "should", "must", "may",
    "might", "is", "are", "was", "were", "has", "have", "had", "does", "do", "did", "it", "this", "that",
    "these", "those", "there", "you", "we", "they", "i", "he", "she", "not", "no", "yes", "also", "then",
    "so", "but", "and", "or", "because", "for", "in", "on", "at", "by", "with", "from", "of", "as",
})
# ... and so does one of two words or more opening with one of these ("Other output units": a heading's words)
NOT_PHRASE_STARTS = frozenset({"other", "others", "more", "some", "each", "every"})
# a step, not a term: a verb and its object ("Insert a name", "Inspect the Container", "Stop the containers": a
# determiner second), or a move ("Go to EC2 service - > Click on ...", "Test in Jenkins")
STEP_SECOND_WORDS = frozenset({"the", "a", "an", "your", "my", "our", "their", "its", "this", "these", "those",
                               "it", "them"})
MOVE_VERBS = frozenset({"go", "click", "navigate", "switch", "log", "sign", "connect", "move", "test", "run",
                        "deploy", "scroll", "browse", "return", "head", "login", "logon", "ssh", "cd"})
MOVE_PREPOSITIONS = frozenset({"to", "in", "into", "on", "onto", "from", "through"})
# a line headed by a quality ("Cost Effective - use long polling") says how to get it: advice, not a term
PROPERTY_ENDS = frozenset({
    "effective", "efficient", "available", "scalable", "durable", "reliable", "secure", "resilient",
    "tolerant", "flexible", "cheap", "cheaper", "cheapest", "fast", "faster", "fastest", "easy", "simple",
    "performant", "affordable", "inexpensive", "expensive",
})
# "3-step-process -", "2 ways:", "Three types -": the count of what the lines below list, not a term
COUNTED_LABEL_RE = re.compile(
    r"^(?:\d+|two|three|four|five|six|seven|eight|nine|ten)[- ](?:[a-z]+[- ])?"
    r"(?:steps?|ways?|types?|kinds?|options?|methods?|parts?|phases?|stages?|reasons?|levels?|rules?|"
    r"things?|benefits?|process(?:es)?|modes?|categories|category|approach(?:es)?|choices?)$")
# "167. Two Sum II - Input array is sorted": a numbered title (a problem's, an exercise's), not a term
NUMBERED_TITLE_RE = re.compile(r"^\d{1,9}[.)]\s")
NUMBERISH_RE = re.compile(r"^[~≈<>≤≥+-]?\s*v?\d[\d.,:/]*\s*(?:[a-zA-Z%µ]{0,4}|(?:minute|second|hour|day|week|month|year)s?"
                          r"|분|시간|초|일|주|개월|년|分钟|分|小时|秒|天|周|个月|月|年|時間)\s*$", re.I)
LETTER_RE = re.compile(r"[^\W\d_]")


LONE_LETTER_RE = re.compile(r"(?<!\w)[A-Za-z](?!\w)")


def term_words(term: str) -> int:
    """How many words a term has: space-separated words, each CJK character one of its own
    (``如果 h 的取值为 nums.length`` is ten; ``二叉树`` is three)."""
    return sum(max(1, len(CJK_CHAR_RE.findall(w)) + bool(CJK_CHAR_RE.sub("", w))) if CJK_CHAR_RE.search(w) else 1
               for w in term.split())


def _short(term: str) -> bool:
    term = term.strip()
    words = term.split()
    return (
        0 < len(words) and term_words(term) <= MAX_TERM_WORDS
        and len(term) <= MAX_TERM_CHARS
        and not term.endswith((".", ",", ";", ":", "!", "?", "。", "，", "；", "：", "！", "？"))
    )


def is_term(text: str, labels: frozenset[str] = frozenset()) -> bool:
    """Is ``text`` a term a card may ask for: a short noun phrase, not a number, range, size, time
    or version, not a parenthesised fragment, not a 'Label: value', not a sentence, not a label."""
    term = " ".join(text.split())
    low = term.lower().rstrip(":")
    if not _short(term) or not LETTER_RE.search(term) or NUMBERISH_RE.match(term) or NUMBERED_TITLE_RE.match(term):
        return False
    if term.count("(") != term.count(")") or term.count("[") != term.count("]") or ": " in term:
        return False
    if CJK_CHAR_RE.search(term) and len(LONE_LETTER_RE.findall(term)) >= 2:  # "当 i 等于 j": a sentence about variables
        return False
    if low in LABELS or low in labels or low.split()[0] in NOT_TERM_STARTS:
        return False
    if len(low.split()) > 1 and low.split()[0] in NOT_PHRASE_STARTS:
        return False
    words = low.split()
    if len(words) > 1 and (words[1] in STEP_SECOND_WORDS or (words[0] in MOVE_VERBS and words[1] in MOVE_PREPOSITIONS)):
        return False
    if low.replace("-", " ").split()[-1] in PROPERTY_ENDS or COUNTED_LABEL_RE.match(low):
        return False
    return True


def _definition_from(item: m.ListItem, labels: frozenset[str]) -> m.Definition | None:
    blocks = item.blocks
    if not blocks or not isinstance(blocks[0], m.Para):
        return None
    split = split_term(blocks[0].children, labels)
    if split is None:
        return None
    term, rest = split
    body = ((m.Para(rest, blocks[0].loc),) if rest else ()) + _idioms(blocks[1:], labels)
    return m.Definition(term, body, item.loc)


def _lead(blocks: tuple[m.Block, ...], labels: frozenset[str]) -> tuple[m.Block, ...]:
    """A list item's or definition's blocks: its first paragraph is its own text, never a new term."""
    if blocks and isinstance(blocks[0], m.Para):
        return (blocks[0],) + _idioms(blocks[1:], labels)
    return _idioms(blocks, labels)


def _idioms(seq: tuple[m.Block, ...], labels: frozenset[str] = frozenset()) -> tuple[m.Block, ...]:
    """Turn the author's ``Term - text`` items and paragraphs into definitions.

    In an unordered list, runs of such items become definition lists and the
    other items stay a list, in the same order.
    """
    out: list[m.Block] = []
    for block in seq:
        match block:
            case m.BulletList(ordered=False, items=items):
                run: list[m.ListItem | m.Definition] = []
                for item in items:
                    d = _definition_from(item, labels)
                    entry: m.ListItem | m.Definition = d if d is not None else replace(item, blocks=_lead(item.blocks, labels))
                    if run and type(run[-1]) is not type(entry):
                        out.append(_group(run))
                        run = []
                    run.append(entry)
                if run:
                    out.append(_group(run))
            case m.BulletList(items=items):
                out.append(replace(block, items=tuple(replace(i, blocks=_lead(i.blocks, labels)) for i in items)))
            case m.DefList(items=items):
                out.append(replace(block, items=tuple(replace(d, body=_lead(d.body, labels)) for d in items)))
            case m.Details(blocks=bs, prompt=p):
                out.append(replace(block, blocks=_idioms(bs, labels), prompt=_idioms(p, labels)))
            case m.Section(blocks=bs) | m.Quote(blocks=bs):
                out.append(replace(block, blocks=_idioms(bs, labels)))
            case m.Alert() | m.Flashcard():
                out.append(block)  # corrections, asides and cards written as such: the author's words as written
            case m.Para():
                # "Term - text" lines one under the other, without bullets: a definition each
                defs = _line_definitions(block, labels)
                if defs is None:
                    split = split_term(block.children, labels)
                    if split is None:
                        out.append(block)
                        continue
                    term, rest = split
                    defs = [m.Definition(term, (m.Para(rest, block.loc),) if rest else (), block.loc)]
                if out and isinstance(out[-1], m.DefList) and all(len(x.body) <= 1 for x in out[-1].items):
                    out[-1] = replace(out[-1], items=out[-1].items + tuple(defs))
                else:
                    out.append(m.DefList(tuple(defs), defs[0].loc))
            case m.Para() | m.CodeBlock() | m.Table() | m.Rule() | m.RawBlock() | m.Superseded():
                out.append(block)
            case _:
                assert_never(block)
    return tuple(out)


def _line_definitions(para: m.Para, labels: frozenset[str]) -> list[m.Definition] | None:
    """A paragraph of two lines or more, each a ``Term - text`` line: one definition per line (else None)."""
    lines = [line for line in lines_of(para.children) if line]  # "Term - text<br>" then its line break: one break
    if len(lines) < 2:
        return None
    out = []
    for k, line in enumerate(lines):
        split = split_term(line, labels)
        if split is None:
            return None
        term, rest = split
        loc = line[0].loc if line[0].loc != m.NOWHERE else m.Loc(para.loc.file, para.loc.line + k)
        out.append(m.Definition(term, (m.Para(rest, loc),) if rest else (), loc))
    return out


def _group(run: list[m.ListItem | m.Definition]) -> m.Block:
    if isinstance(run[0], m.Definition):
        return m.DefList(tuple(x for x in run if isinstance(x, m.Definition)), run[0].loc)
    return m.BulletList(tuple(x for x in run if isinstance(x, m.ListItem)), False, 1, run[0].loc)


LABEL_REPEATS = 3  # a bold lead this common in one book is a label ("Hint", "Solution"), not a term


def repeated_labels(book: m.Book) -> frozenset[str]:
    """Bold leads (``**Hint**: ...``) that stand at the head of three lines or more: labels."""
    from collections import Counter

    from ..core.text import plain_text, walk_blocks

    seen: Counter[str] = Counter()
    for ch in book.chapters:
        for block in walk_blocks(ch.blocks):
            if isinstance(block, m.Para) and block.children and isinstance(block.children[0], m.Strong):
                seen[" ".join(plain_text(block.children[0].children).lower().rstrip(":").split())] += 1
    return frozenset(k for k, n in seen.items() if n >= LABEL_REPEATS)


def idioms_to_definitions(book: m.Book) -> m.Book:
    labels = repeated_labels(book)
    return replace(book, chapters=tuple(replace(ch, blocks=_idioms(ch.blocks, labels)) for ch in book.chapters))


def resolve_paths(book: m.Book) -> m.Book:
    """Images and links are written relative to their own file: make image paths relative to the
    content folder and give links that point into the book their target (chapter and anchor)."""
    from .links import Index, from_root, is_remote

    index = Index(book)

    def one(ch: m.Chapter) -> m.Chapter:
        def node(n: m.Inline) -> m.Inline:
            match n:
                case m.Image(url=url) if url.strip() and not is_remote(url) and "/" in ch.path:
                    return replace(n, url=from_root(ch.path, url) or url)
                case m.Image(url=url) if url.strip().startswith("/") and not is_remote(url):
                    return replace(n, url=from_root(ch.path, url) or url)
                case m.Link(url=url):
                    target = index.resolve(ch, url).target
                    return replace(n, target=target) if target != n.target else n
                case _:
                    return n

        return map_chapter_inlines(ch, _deep_inline(node))

    return replace(book, chapters=tuple(one(c) for c in book.chapters))


WIKI_RE = re.compile(r"(!?)\[\[([^\[\]\n|#]*)(?:#([^\[\]\n|]*))?(?:\|([^\[\]\n]*))?\]\]")


def _with_nested(fn: Callable[[tuple[m.Inline, ...]], tuple[m.Inline, ...]]) -> Callable[[tuple[m.Inline, ...]], tuple[m.Inline, ...]]:
    """``fn`` over a run and, first, over the children of its emphasis, marks and styled spans."""

    def deep(nodes: tuple[m.Inline, ...]) -> tuple[m.Inline, ...]:
        inner = tuple(
            n if not isinstance(n, (m.Emph, m.Strong, m.Strike, m.Mark, m.Styled)) or same_nodes(k := deep(n.children), n.children)
            else replace(n, children=k)
            for n in nodes
        )
        return fn(inner if not same_nodes(inner, nodes) else nodes)

    return deep


def wiki_links(book: m.Book) -> m.Book:
    """Obsidian's ``[[Page]]``, ``[[Page|text]]``, ``[[Page#Heading]]`` and ``![[image.png]]``: pages are
    found by file name or front-matter alias anywhere in the book (case does not matter), images beside
    the note. A page that is not found keeps a ``wiki:`` link (shown as its text; validation reports it)."""
    from .links import Index, find_asset
    from ..core.text import slugify

    if not _may_hold(book, "wiki"):
        return book
    index = Index(book)
    pages: dict[str, m.Chapter] = {}
    for ch in book.chapters:
        stem = ch.path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        for name in (stem, *ch.aliases):
            pages.setdefault(name.strip().lower(), ch)

    def split(node: m.Text, ch: m.Chapter) -> list[m.Inline]:
        out: list[m.Inline] = []
        at = 0
        for found in WIKI_RE.finditer(node.text):
            embed, page, heading, label = found.group(1), found.group(2).strip(), found.group(3), found.group(4)
            if found.start() > at:
                out.append(replace(node, text=node.text[at:found.start()]))
            at = found.end()
            shown = (label or (f"{page} \u203a {heading}" if page and heading else page or heading or "")).strip()
            if embed and page.lower().endswith(IMAGE_SUFFIXES):
                out.append(m.Image(find_asset(book.assets, ch.path, page), label or page.rsplit(".", 1)[0], "", node.loc))
                continue
            if embed and page.lower().endswith(SOUND_SUFFIXES):
                out.append(m.Sound(find_asset(book.assets, ch.path, page), label or "", node.loc))
                continue
            target_ch = pages.get(page.lower()) if page else ch
            if heading and heading.strip().startswith("^") and not label:  # a block's id says nothing to a reader
                shown = page or (plain_text(target_ch.title) if target_ch is not None else "")
            target = ""
            if target_ch is not None:
                anchor = (index.anchor(target_ch.slug, heading.strip() if heading.strip().startswith("^")
                                       else slugify(heading) or heading) if heading else None)
                target = f"{target_ch.slug}#{anchor}" if anchor and anchor != target_ch.slug else target_ch.slug
            url = f"wiki:{page}" + (f"#{heading}" if heading else "")
            out.append(m.Link(url, (m.Text(shown, node.loc),), "", node.loc, target))
        if at < len(node.text):
            out.append(replace(node, text=node.text[at:]))
        return out

    def one(ch: m.Chapter) -> m.Chapter:
        if ch.hints is not None and "wiki" not in ch.hints:
            return ch  # no "[[" anywhere in its source

        def run(nodes: tuple[m.Inline, ...]) -> tuple[m.Inline, ...]:
            if not any(isinstance(n, m.Text) and "[[" in n.text for n in nodes):
                return nodes
            out: list[m.Inline] = []
            for n in nodes:
                out.extend(split(n, ch) if isinstance(n, m.Text) and "[[" in n.text else [n])
            return tuple(out)

        # into bold, italics and marks too: **Nicht-[[Pivotelement|Pivot]]spalten** showed its brackets
        return map_chapter_inlines(ch, _with_nested(run), title=False)

    return replace(book, chapters=tuple(one(c) for c in book.chapters))


anki_tag = nested_tag  # ``nested/tag`` as Anki's hierarchy ``nested::tag`` (core.text)


def _may_hold(book: m.Book, hint: str) -> bool:
    """Could any chapter hold the syntax ``hint`` names (see ``Chapter.hints``)?"""
    return any(ch.hints is None or hint in ch.hints for ch in book.chapters)


def _glued(prev: m.Inline | None) -> bool:
    """Whether text right after ``prev`` is glued to it (no space, no line start, no '(' between)."""
    if prev is None or isinstance(prev, (m.SoftBreak, m.LineBreak, m.Tag)):
        return False
    if isinstance(prev, m.Text):
        return bool(prev.text) and not prev.text[-1].isspace() and not prev.text.endswith("(")
    return True


def inline_tags(book: m.Book) -> m.Book:
    """``#tag`` in text (not in code, links' targets or headings) becomes a Tag node: the cards of its item
    or paragraph carry it. A paragraph of tags alone at the top of a file tags every card of the file."""

    def make(found: re.Match[str], n: m.Text) -> m.Inline:
        return m.Tag(nested_tag(found.group("tag")), n.loc)

    def split(nodes: tuple[m.Inline, ...], glued_first: bool = False) -> tuple[m.Inline, ...]:
        """``glued_first``: the run is an emphasis's children, and the emphasis is glued to the text before it
        (``%<b>#word``, ``x**#word**``: no tag either)."""
        out: list[m.Inline] = []
        for k, n in enumerate(nodes):
            glued_here = _glued(nodes[k - 1]) if k else glued_first
            if isinstance(n, (m.Emph, m.Strong, m.Strike, m.Mark, m.Styled)):
                # (a highlight's or a deletion's first word is never a tag: "==#x==" is text)
                kids = split(n.children, glued_here or isinstance(n, (m.Mark, m.Strike)))
                out.append(n if same_nodes(kids, n.children) else replace(n, children=kids))
                continue
            if not isinstance(n, m.Text) or "#" not in n.text:
                out.append(n)
                continue
            glued = TAG_RE.match(n.text) if glued_here else None
            if glued:
                # "[l](#x)#word", "_a_#word": a '#' glued to the text before it is no tag (Obsidian's rule)
                rest = n.text[glued.end():]
                out += [replace(n, text=glued.group())] + (list(split_text((replace(n, text=rest),), TAG_RE, make))
                                                           if rest else [])
            else:
                out += split_text((n,), TAG_RE, make)
        return tuple(out) if not same_nodes(tuple(out), nodes) else nodes

    def one(ch: m.Chapter) -> m.Chapter:
        if ch.hints is not None and "tags" not in ch.hints:
            return ch  # no "#word" anywhere in its source
        ch = map_chapter_inlines(ch, split, title=False)
        ch = replace(ch, blocks=_untag_titles(ch.blocks))
        first = ch.blocks[0] if ch.blocks else None
        if _tags_alone(first):
            assert isinstance(first, m.Para)
            file_tags = tuple(n.name for n in first.children if isinstance(n, m.Tag))
            ch = replace(ch, blocks=ch.blocks[1:], tags=ch.tags + tuple(t for t in file_tags if t not in ch.tags))
        # a line of tags alone further down (a deck tag of the Spaced Repetition plugin) shows nothing:
        # no empty paragraph is left in its place
        if any(_tags_alone(b) for b in walk_blocks(ch.blocks)):
            ch = replace(ch, blocks=map_blocks(ch.blocks, lambda seq: tuple(b for b in seq if not _tags_alone(b))))
        return ch

    def _tags_alone(b: m.Block | None) -> bool:
        return isinstance(b, m.Para) and bool(b.children) and any(isinstance(n, m.Tag) for n in b.children) and all(
            isinstance(n, m.Tag) or (isinstance(n, (m.Text, m.SoftBreak, m.LineBreak)) and not plain_text((n,)).strip(" ,\n"))
            for n in b.children)

    from ..core.text import plain_text

    return replace(book, chapters=tuple(one(c) for c in book.chapters))


def _untag_titles(blocks: tuple[m.Block, ...]) -> tuple[m.Block, ...]:
    """Headings keep their text: a "#" in a title is not a tag."""

    def fn(seq: tuple[m.Block, ...]) -> tuple[m.Block, ...]:
        out = []
        for b in seq:
            if isinstance(b, m.Section) and any(isinstance(n, m.Tag) for n in b.title):
                b = replace(b, title=tuple(m.Text("#" + n.name.replace("::", "/"), n.loc) if isinstance(n, m.Tag) else n
                                           for n in b.title))
            out.append(b)
        return tuple(out)

    return map_blocks(blocks, fn)


SOUND_RE = re.compile(r"\[sound:([^\]\n]+)\]")


def sounds(book: m.Book) -> m.Book:
    """Anki's ``[sound:file.mp3]`` and links to local audio files become Sound nodes (found like images,
    beside the note or anywhere in the book by name)."""
    from .links import find_asset, from_root, is_remote

    def one(ch: m.Chapter) -> m.Chapter:
        if ch.hints is not None and "sound" not in ch.hints:
            return ch  # no "[sound:" and no audio file named in its source

        def run(nodes: tuple[m.Inline, ...]) -> tuple[m.Inline, ...]:
            if not any(isinstance(n, m.Link) or (isinstance(n, m.Text) and "[sound:" in n.text) for n in nodes):
                return nodes
            out: list[m.Inline] = []
            for n in nodes:
                if isinstance(n, m.Link) and not n.target and not is_remote(n.url) and \
                        n.url.split("#", 1)[0].split("?", 1)[0].lower().endswith(SOUND_SUFFIXES):
                    out.append(m.Sound(from_root(ch.path, n.url), plain_text(n.children), n.loc))
                elif isinstance(n, m.Text) and "[sound:" in n.text:
                    at = 0
                    for found in SOUND_RE.finditer(n.text):
                        if found.start() > at:
                            out.append(replace(n, text=n.text[at:found.start()]))
                        out.append(m.Sound(find_asset(book.assets, ch.path, found.group(1)), "", n.loc))
                        at = found.end()
                    if at < len(n.text):
                        out.append(replace(n, text=n.text[at:]))
                else:
                    out.append(n)
            return tuple(out)

        return map_chapter_inlines(ch, run, title=False)

    from ..core.text import plain_text

    return replace(book, chapters=tuple(one(c) for c in book.chapters))


GITHUB_RE = re.compile(r"^https?://(?:www\.)?github\.com/[^/]+/[^/]+/(?:raw|blob)/(?P<rest>.+)$", re.I)
GITHUB_RAW_RE = re.compile(r"^https?://raw\.githubusercontent\.com/[^/]+/[^/]+/(?P<rest>.+)$", re.I)
JSDELIVR_RE = re.compile(r"^https?://cdn\.jsdelivr\.net/gh/[^/]+/[^/@]+(?:@[^/]+)?/(?P<rest>.+)$", re.I)  # GitHub's files
SAME_TYPE = {".jpeg": ".jpg", ".htm": ".html", ".tif": ".tiff"}


def _kind(name: str) -> str:
    suffix = posixpath.splitext(name)[1].lower()
    return SAME_TYPE.get(suffix, suffix)


# a stem that names no picture in particular: a small number, or a word like "image" with a small number
# (a long number is a timestamp: "image-20201117020248796", "1492928416812_4" tell pictures apart)
GENERIC_NAME_RE = re.compile(r"^(?:[a-z]?\d{1,3}[a-z]?|(?:image|img|pic|picture|photo|figure|fig|screenshot|diagram|logo|"
                             r"icon|banner|cover|untitled|example|demo|test)(?:[-_ ]?\d{1,3})?)$", re.I)


def _distinctive(name: str) -> bool:
    """Does a file name tell one picture from another on its own (``image-20201117020248796.png``,
    ``jj3A5N8.png``), unlike ``4.jpeg`` or ``image1.png``?"""
    stem = posixpath.splitext(name)[0]
    return len(stem) >= 6 and not GENERIC_NAME_RE.match(stem)


def local_copies(book: m.Book) -> m.Book:
    """An image linked by its remote URL is shown from the repository's own copy when there is one (nothing
    is ever fetched): a GitHub URL (``github.com/<o>/<r>/raw|blob/<branch>/<path>``,
    ``raw.githubusercontent.com/<o>/<r>/<branch>/<path>``, jsDelivr's ``cdn.jsdelivr.net/gh/<o>/<r>@<branch>/<path>``)
    names the repository file its path ends with (the longest such path: a branch name may hold '/'); any
    other URL, the one file of the repository with its name and type (a name like ``4.jpeg`` or ``image1.png``
    only in a folder named as the URL's). The image keeps the URL it was written with (``remote``): check says
    where it is shown from."""
    if not book.repo_assets:
        return book
    by_path = dict(book.repo_assets)
    by_name: dict[str, list[str]] = {}
    for rel, local in book.repo_assets:
        by_name.setdefault(posixpath.basename(rel), []).append(local)

    def copy_of(url: str) -> str:
        u = url.strip()
        parts = urlsplit(u)
        if parts.scheme.lower() not in ("http", "https"):
            return ""
        plain = f"{parts.scheme}://{parts.netloc}{parts.path}"
        found = GITHUB_RE.match(plain) or GITHUB_RAW_RE.match(plain) or JSDELIVR_RE.match(plain)
        if found:
            segments = [unquote(x) for x in found.group("rest").split("/") if x]
            for k in range(0 if found.re is JSDELIVR_RE else 1, len(segments)):  # the longest path after the branch's first segment
                hit = by_path.get("/".join(segments[k:]))
                if hit is not None:
                    return hit
            return ""
        name = unquote(posixpath.basename(parts.path))
        named = by_name.get(name, []) if "." in name else []
        if len(named) != 1 or _kind(named[0]) != _kind(name):
            return ""
        if not _distinctive(name):  # "4.jpeg" of another page's pictures: the folder must say the same
            folder = unquote(posixpath.basename(posixpath.dirname(parts.path)))
            if not folder or posixpath.basename(posixpath.dirname(named[0])) != folder:
                return ""
        return named[0]

    def node(n: m.Inline) -> m.Inline:
        if isinstance(n, m.Image) and (local := copy_of(n.url)):
            return replace(n, url=local, remote=n.url)
        return n

    def one(ch: m.Chapter) -> m.Chapter:
        if ch.hints is not None and "remote" not in ch.hints:
            return ch
        return map_chapter_inlines(ch, _deep_inline(node))

    return replace(book, chapters=tuple(one(c) for c in book.chapters))


# The order matters: text is clean before the idioms are recognised; links resolve against the
# final sections; a remote image's local copy is a path from the content folder (after resolve_paths).
PASSES: tuple[Pass, ...] = (
    unicode_nfc, inline_tags, whitespace, idioms_to_definitions, resolve_paths, wiki_links, sounds, local_copies,
)


def normalize(book: m.Book, passes: tuple[Pass, ...] = PASSES) -> m.Book:
    for step in passes:
        book = step(book)
    return book
