"""A Markdown file's source as the plain text its author meant to be read (P142's side of the comparison).

Read as text, not through the reader (a reader that drops something must not hide it from the check), but
following the reader's own rules where they decide what is text: CommonMark's and mistune's blocks (HTML
blocks, fences, indented code, definition lists, tables, footnotes), HTML as html.parser reads it inside an
HTML block, Obsidian's tags and comments. Left out on purpose, as the outputs leave them out: front matter,
HTML and ``%%`` comments (card, id and hint markers with them), HTML tags (their text stays; a script's or a
style's does not), ``#tags``, the targets of links, images and wiki-links, reference definitions, sound file
names, footnote labels, list markers, code-fence languages, callout, update and admonition markers, cloze
numbers and hints, other flashcard tools' marker lines. Entities are decoded. Line breaks are kept, so each
word keeps its line.
"""

from __future__ import annotations

import bisect
import functools
import html.entities
import re
from typing import Callable, Iterator

from ..core.text import CJK_RANGES
from ..read.flashcards import ANKI_CLOZE_RE, foreign_markers
from ..read.gfmtable import ENDS_TABLE_RE, escaped, split_row
from ..read.gfmtable import GFM_TABLE as _GFM_TABLE
from ..read.htmlread import EMPTY_COMMENT_RE
from ..read.reader import blank_lines, mdbook_directives, strip_block_ids, strip_comments
from ..read.mathsyntax import DOLLAR_MATH
from ..read.tokens import decode_entities

# Han, Kana and Hangul are written without spaces: each character is a word of its own (a link or a tag
# that splits a run differently in the source and the output must not count as a loss)
WORD_RE = re.compile(rf"[{CJK_RANGES}]|[^\W_{CJK_RANGES}]+")
FRONT_RE = re.compile(r"\A(?:\ufeff)?(---|\+\+\+)[ \t]*\n.*?\n\1[ \t]*(?:\n|\Z)", re.S)
_BLOCK_TAGS = ("address|article|aside|blockquote|body|center|dd|details|dialog|dir|div|dl|dt|fieldset|figcaption|figure|"
               "footer|form|h[1-6]|header|hr|html|legend|li|main|menu|nav|ol|p|section|summary|table|tbody|td|tfoot|th|"
               "thead|tr|ul")
# a tag alone on its line (an HTML block of kind 7 opens with one), a block-level tag's opening (kind 6)
_LONE_TAG = r"</?[A-Za-z][\w-]*(?:\s[^<>\n]*)?/?>[ \t]*$"
_BLOCK_TAG = r"</?(?:" + _BLOCK_TAGS + r")(?=[\s/>]|$)"
# a line break no inline piece (a comment, a code span) runs over: a blank line, or a line opening a block
_BLOCK_BREAK = r"\n(?=(?! {4}[ \t]| *\t[ \t])[ \t]*\n| {0,3}(?:[-*+]|0*1[.)])(?:[ \t\n]|\Z)| {0,3}(?:=+|-+)[ \t]*(?:\n|\Z)| {0,3}(?:#{1,6}(?:[ \t\n]|\Z)|>|<(?:/?(?:" + _BLOCK_TAGS + r")(?=[\s/>]|$)|(?:script|pre|style|textarea)(?=[\s>]|$)|\?|![A-Z]|!--|!\[CDATA\[))|[ \t]*(?:\$\$|\[[^\]\n]*\]:)| {0,3}(?:```(?=[^`\n]*(?:\n|\Z))|~~~))"
# a comment: at a line's start (an HTML block's: to its end, or the file's), else inline (in its paragraph,
# or none: "<!--" is text); not after a backslash (that is text); "<!-->" is a whole one
COMMENT_RE = re.compile(r"(?<!(?<!\\)\\)<!--(?:-?>|(?<=^<!--)(?s:.*?)(?:-->|\Z)|(?<=^ <!--)(?s:.*?)(?:-->|\Z)"
                        r"|(?<=^  <!--)(?s:.*?)(?:-->|\Z)|(?<=^   <!--)(?s:.*?)(?:-->|\Z)|(?:(?!" + _BLOCK_BREAK + r")(?s:.))*?-->)", re.M)
# what a browser reads as a tag: '<' and a letter ("<!x" a bogus comment), its name and attributes to the next
# '>' (or a blank line). Whether it is HTML turns on whether the line is in an HTML block ("<a,>" and "<!r>" are
# HTML there, text in a paragraph: CommonMark wants a tag's name and attributes well formed); where the source
# reading and the reader put the line in different blocks, what is inside it is not asked for (noloss.missing)
TAG_SHAPED_RE = re.compile(r"<(?:/?[A-Za-z]|!)(?:[^>\n]|\n(?![ \t]*\n))*")
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# elements whose content is no text to read (refused, P110): scripts, styles, frames, embedded SVG and MathML
ACTIVE_TAGS = ("script", "style", "template", "noscript", "iframe", "object", "embed", "svg", "math", "textarea", "select")
ACTIVE_RE = re.compile(r"(?<!(?<!\\)\\)<(" + "|".join(ACTIVE_TAGS) + r")(?=[\s/>]|\Z).*?(?:</\1\s*>|\Z)",
                       re.S | re.I)
OBSIDIAN_COMMENT_RE = re.compile(r"%%.*?(?:%%|\Z)", re.S)
# a tag as HTML reads it (over lines, not a blank one); "<!x...>" is a bogus comment; a comment (kept); a
# declaration and an instruction to their '>' (over blank lines: their HTML blocks go on over them)
HTML_TAG_RE = re.compile(COMMENT_RE.pattern + r"|</?[A-Za-z](?:[^>\n]|\n(?![ \t]*\n))*>|<![A-Za-z?][^>]*>|<!(?!--)(?:[^>\n]|\n(?![ \t]*\n))*>|<\?[^>]*>|</(?![A-Za-z])(?:[^>\n]|\n(?![ \t]*\n))*>", re.M)
TAG_RE = re.compile(r"(?<!(?<!\\)\\)(?:<[A-Za-z][\w-]*(?:\s+[A-Za-z_:][\w.:-]*(?:\s*=\s*(?:[^\s\"'=<>`]+|'[^']*'|\"[^\"]*\"))?)*"
                    r"\s*/?>|</[A-Za-z][\w-]*\s*>)")  # (as CommonMark reads a tag: "<n ->" is text)
# a declaration (a capital letter after "<!", as mistune reads one), a processing instruction, a CDATA
# section, in a paragraph: raw HTML, shown by no browser
_IN_PARAGRAPH = r"(?:[^\n]|\n(?![ \t]*\n))"
RAW_INLINE_RE = re.compile(r"(?<!(?<!\\)\\)(?:<![A-Z](?:(?!>)" + _IN_PARAGRAPH + r")*>|<\?(?:(?!\?>)" + _IN_PARAGRAPH
                           + r")*\?>|<!\[CDATA\[(?:(?!\]\]>)" + _IN_PARAGRAPH + r")*\]\]>)")
_TARGET = r"\(\s*(?:<[^>\n]*>|[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^)\n]*\)))?\s*\)"
LINK_TARGET_RE = re.compile(r"\]" + _TARGET)
# a link or image written inline or by reference: its words stay, its brackets and target go (the output
# shows the words where the brackets were: 'x[List](y)' reads 'xList')
_LINK_TEXT = r"((?:[^\[\]\n]|\[[^\[\]\n]*\])*)"
LINK_RE = re.compile(r"(?<!\\)!?\[" + _LINK_TEXT + r"\]" + _TARGET + r"|(?<![\w\]\\])\[(?!\^)" + _LINK_TEXT.replace(")*)", ")+)") + r"\]\[[^\]\n]*\](?!\()")
INTRAWORD_MARK_RE = re.compile(r"(?<=\w)(?:\*+|~~)(?=\w)")  # **U**niform reads "Uniform"
REF_DEF_RE = re.compile(r"^[ \t>]*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)*\[(?!\^[^\]\s]+\])(?:[^\]\n]|\n(?![ \t]*\n))+\]:[ \t]*(?:\n[ \t>]*)?[^ \t\n\r\f\v]+.*$", re.M)  # (its URL may be on the next line)  # (a footnote's text is kept)
FOOTNOTE_RE = re.compile(r"\[\^[^\]\s]+\]:?")
FOOTNOTE_USE_RE = re.compile(r"(?<!\\)\[\^([^\]\s]+)\](?!:)")
# a definition: its line, the lines that go on its paragraph, and the indented lines after blank ones (one
# indented four columns or more is a list item's, or indented code, which is read before this)
FOOTNOTE_DEF_RE = re.compile(r"^[ \t]*(?:>[ \t]?)*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)*\[\^([^\]\s]+)\]:[^\n]*(?:\n(?:(?: {4}| {0,3}\t)(?![ \t]*\[\^[^\]\s]+\]:)[^\n]*\S| {1,4}(?! )(?!\[\^[^\]\s]+\]:)[^ \t\n]|(?![ \t]*(?:[-*+>#|`~<]|\d{1,9}[.)]|\[\^))[ \t]*[^ \t\n])[^\n]*)*"
                             r"(?:(?:\n[ \t]*)+\n(?: {1,4}(?! )|\t)[^\n]*(?:\n(?: {1,4}(?! )|\t)[^\n]*)*)*", re.M)
# a name HTML knows without its ';' (&para, &copy, &parat): a browser shows its character in an HTML block
# (the longest such name, the letters after it as they are), the text shows it as written; either way its
# letters are a word apart, and no loss when missing
GFM_TABLE_RE = re.compile(_GFM_TABLE, re.M)
DOLLAR_MATH_RE = re.compile(DOLLAR_MATH)
NUMBER_REF_RE = re.compile(r"&#(?:[0-9]+(?![0-9;])|[xX][0-9a-fA-F]+(?![0-9a-fA-F;]))")
LEGACY_NAMES = frozenset(k for k in html.entities.html5 if not k.endswith(";"))
LEGACY_ENTITY_RE = re.compile(r"&(%s)(?!;)" % "|".join(sorted(LEGACY_NAMES, key=len, reverse=True)))
NAMED_REF_RE = re.compile(r"&[A-Za-z][A-Za-z0-9]*;")
WIKI_RE = re.compile(r"!?\[\[([^\]|#\n]*)(?:#([^\]|\n]*))?(?:\|([^\]\n]*))?(?<!\\)\]\](?!\()")
EMBED_RE = re.compile(r"!\[\[[^\]\n]*(?<!\\)\]\](?!\()")
SOUND_RE = re.compile(r"\[sound:(?:\\\[|[^\[\]\n]|\n(?![ \t]*\n)|\[(?![^\]\n]*\]\([^)\n]*\)))+\](?!\([^)\n]*\))")  # (as normalization reads it; a link is no name, nor a link's text; '\[' is HTML's text, no link's)
INLINE_TAG_RE = re.compile(r"(?:(?<=\s)|(?<=^)|(?<=^>)|(?<=\()|(?<=\x04)|(?<=\x06)|(?<=::))#(?=[^\W\d]|\d+[^\W\d])[\w/-]+", re.M)
EMPHASIZED_TAG_RE = re.compile(r"(?:(?<=\s)|(?<=^)|(?<=\())(?:\*{1,3}|_{1,3})(?=#(?:[^\W\d]|\d+[^\W\d]))", re.M)
HTML_COMMENT_END_RE = re.compile(r"--\s*>")
GROUP_MARK_RE = re.compile(r"(?<===)\[\^\d{1,3}\]")
FENCE_INFO_ANY_RE = re.compile(r"^[ \t>]*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)*(?::[ \t]+)?(?:`{3,}|~{3,})([^\n`]*)$", re.M)
FENCE_INFO_RE = re.compile(r"^([ \t>]*)(`{3,}(?=[^\n`]*$)|~{3,})[^\n]*$", re.M)  # (a '~~~' fence's info may hold '`')
BLOCK_TAG_NAMES = frozenset(_BLOCK_TAGS.replace("h[1-6]", "h1|h2|h3|h4|h5|h6").split("|"))
# tags whose element the words around it do not run into (a line break, a paragraph, a cell)
SPLITTING_TAGS = frozenset({"br", "p", "li", "td", "th", "tr", "div"})
# and, in an HTML block, the blocks the reader makes of these (a paragraph's words run on over them inline)
BLOCK_SPLITTING_TAGS = frozenset({"summary", "details", "dt", "dd", "ul", "ol", "table", "blockquote", "section",
                                  "h1", "h2", "h3", "h4", "h5", "h6", "hr", "pre"})
# (and the markers after it on its line: "- 1) x" is a bullet holding a numbered list, its number the list's)
LIST_MARK_RE = re.compile(r"^([ \t>]*)(?:[-*+]|\d{1,9}[.)])(?=[ \t]|$)(?:[ \t]+(?:[-*+]|\d{1,9}[.)])(?=[ \t]|$))*", re.M)
CALLOUT_RE = re.compile(r"\[![A-Za-z][\w-]*\][+-]?")
UPDATE_LINE_RE = re.compile(r"\[!UPDATE\][^\n]*", re.I)  # its date and source: shown as the outputs word them
ADMONITION_RE = re.compile(r"^([ \t]*)(?:!!!|\?\?\?\+?)[ \t]*[\w-]+", re.M)
TASK_RE = re.compile(r"^([ \t>]*(?:[-*+]|\d{1,9}[.)])[ \t]+)\[[ xX]\]", re.M)
CLOZE_HINT_RE = re.compile(r"(?<===)\^\[[^\]\n]*\]")  # ==x==^[hint]: a card's hint, shown on the card only
# the Spaced Repetition plugin's own pattern, ==1;;answer;;hint== (and its like {@{1;;answer;;hint}@}): the
# group number and the hint are the card's
PLUGIN_CLOZE_RE = re.compile(r"(==|\{@?\{)(?:\d{1,3};;)?([^;=\n]*?)(?:;;[^;=}\n]*)?(==|\}@?\})")


# code is shown as written (entities and brackets too): fenced blocks and code spans
FENCE_OPEN_RE = re.compile(r"^([ \t>]*)(`{3,}(?=[^`\n]*$)|~{3,})[^\n]*$", re.M)  # ```x``` on a line is a code span
# a code span, over one line break at most when the next line goes on with the paragraph
# (a line break marked "\x01" ends every span: a table's rows, a definition's terms; see _hard_breaks)
_SPAN = r"(?<!(?<!\\)\\)(?<!`)(?P<ticks>`+)(?!`)(?:[^\n\x01]|(?!" + _BLOCK_BREAK + r")\n)+?(?<!`)(?P=ticks)(?!`)"
SPAN_RE = re.compile(_SPAN)
# a formula or a code span, whichever opens first (a '`' inside "$`$" is TeX, a '$' inside a code span code)
# (and a highlight or a deletion opened first holds the spans inside it: "==```==" is no code's start)
_MATH = r"(?P<math>(?<![\\$])(?:" + DOLLAR_MATH + "))|"
_MARK = r"(?P<mark>(?<!\\)(?P<mk>==|~~)(?=[^\s=~])(?:[^\n\x01]|(?!" + _BLOCK_BREAK + r")\n)*?(?<=\S)(?P=mk)(?![=~]))|"
# (and a comment opened first holds the backticks inside it: "<!--`x-->`" is a comment, then a '`')
_COMMENT = (r"(?P<comment>(?<!\\)(?:<!--(?:-?>|(?:[^\n\x01]|(?!" + _BLOCK_BREAK + r")\n)*?-->)|<\?(?:[^\n\x01]|(?!" + _BLOCK_BREAK
            + r")\n)*?\?>|<![A-Z](?:[^>\n]|(?!" + _BLOCK_BREAK + r")\n)*>))|")  # (an instruction, a declaration too)


@functools.lru_cache(maxsize=None)
def _scanner(math: bool, mark: bool, comment: bool) -> "re.Pattern[str]":
    """The scanner for these kinds of pieces, compiled the first time a text needs it (each is long to compile)."""
    return re.compile(_COMMENT * comment + _MATH * math + _MARK * mark + _SPAN)


def _span_scanner(text: str) -> "re.Pattern[str] | None":
    """The regex for ``text``'s code spans, with formulas and highlights only where the text has their marks
    (each alternative costs a scan); None: the text has no '`'."""
    if "`" not in text:
        return None
    return _scanner("$" in text, "==" in text or "~~" in text, "<!" in text or "<?" in text)


# an HTML block (CommonMark's kinds 6 and 7): a line opening with a block-level tag, or holding only a tag
# (not on a paragraph's next line: kind 7 never interrupts one), to the next blank line; a fence inside one
# is text, not code
_QUOTE_MARKS = r"(?:>(?: {0,4}| {0,2}\t)(?![ \t]))*"  # (a quote's marks and three columns of indent at most)
HTML_BLOCK_RE = re.compile(
    # (in a quote, or a list item's first line, too)
    r"^ {0,3}" + _QUOTE_MARKS + r"(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)*(?:</?(?:" + _BLOCK_TAGS + r")(?=[\s/>]|$)|(?<![^\n]\n)(?<![^\n]\n )(?<![^\n]\n  )(?<![^\n]\n   )</?[A-Za-z][\w-]*(?:\s[^<>\n]*)?/?>[ \t]*$)[^\n]*"
    r"(?:\n[ \t]*[^ \t\n][^\n]*)*"  # (a blank line holds spaces and tabs only: U+0085 is text)
    r"|^ {0,3}" + _QUOTE_MARKS + r"<!--(?:-?>|(?:[^\n]*\n)*?[^\n]*-->)[^\n]*"  # a comment's lines (kind 2; "<!-->" is a whole one)
    r"|^ {0,3}" + _QUOTE_MARKS + r"<\?(?:[^\n]*\n)*?[^\n]*(?:\?>[^\n]*|\Z)"  # a processing instruction's (kind 3)
    r"|^ {0,3}" + _QUOTE_MARKS + r"<!(?-i:[A-Z])(?:[^\n]*\n)*?[^\n]*(?:>[^\n]*|\Z)"  # a declaration's (kind 4)
    r"|^ {0,3}" + _QUOTE_MARKS + r"<(script|pre|style|textarea)(?=[\s>]|$)(?:[^\n]*\n)*?[^\n]*(?:</(?:script|pre|style|textarea)>[^\n]*|\Z)",  # kind 1 (to the end, unclosed)
    re.M | re.I)


def _in_html_block(text: str) -> "Callable[[int], bool]":
    block_end = _html_block_end(text)
    return lambda pos: block_end(pos) >= 0


def _after_list_item(text: str, pos: int) -> bool:
    """Whether the line at ``pos`` follows a list item's line: mistune reads an HTML block opening there
    (unless LIST_BREAK_RE matches it) as the item's, to the item's end (_lazy_end)."""
    prev = text[text.rfind("\n", 0, pos - 1) + 1:pos - 1] if pos else ""
    if not prev.strip() or re.fullmatch(r"[ \t]*>[ \t>]*", prev):
        return False  # (after a blank line, or an empty quote's line: a block of its own)
    return _in_list(text, pos)  # (or a quote's: its lazy lines break alike)


# a line that ends a list item, not one of its lazy lines, in mistune: a thematic break, a fence, a heading, a
# quote, a list item, an HTML block's start as the reader's list reads one (a comment, a declaration, an
# instruction; a block tag, in lower case, followed by spaces or the line's end, then by a space, a tab, a
# line break, '>', '/>' or nothing: mistune's pattern, and the reader's rule for a tag's name after it)
LIST_BREAK_RE = re.compile(r" {0,3}(?:(?:[-*_][ \t]*){3,}$|`{3,}|~{3,}|#{1,6}(?:[ \t]|$)|>|(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)"
                           r"|</?(?:" + _BLOCK_TAGS + r"|pre|script|style|textarea)(?:[ \t]+(?:\n|>|/>|\Z)|\n(?:[ \t\n>]|/>|\Z)|\Z)"
                           r"|<!--|<\?|<![A-Z]|<!\[CDATA\[)", re.M)


# an empty item's marker, then the line after it: an HTML block there is the item's when it is indented up to
# three columns past the item's text column (a marker's width and one): "-" then "    <div>" is HTML, not code
TAG_AFTER_MARKER_RE = re.compile(r"^(?P<indent> {0,3})(?P<mark>[-*+]|\d{1,9}[.)])[ \t]*\n(?P<block>(?P<pad> *)"
                                 r"(?:" + _BLOCK_TAG + r"[^\n]*|" + _LONE_TAG + r")"
                                 r"(?:\n[ \t]*[^ \t\n][^\n]*)*)", re.M | re.I)


LONE_TAG_RE = re.compile(r" {0,3}" + _LONE_TAG, re.M)
EMPTY_ITEM_RE = re.compile(r"[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]*")  # a list marker alone on its line
QUOTED_RE = re.compile(r" {0,3}>")  # a quote's line


def _item_html_block(text: str, f: re.Match[str], after_html: bool = False) -> bool:
    """Whether TAG_AFTER_MARKER_RE's block is the empty item's HTML block: a tag alone on its line (kind 7),
    or, indented four columns or more (no block of its own), any HTML block's start up to three columns past
    the item's text (four: code) under a marker that is an item's (after a blank line or another item: after
    a paragraph's line "-" underlines a heading, and no empty item interrupts a paragraph; ``after_html``: the
    line above is an HTML block's last, no paragraph's)."""
    pad = len(f.group("pad"))
    above = list(_lines_above(text, f.start(), 51))  # (the line above the marker's first)
    prev = above[0] if above else ""
    held = len(above) > 1 and bool(EMPTY_ITEM_RE.fullmatch(above[1]))  # (the line an empty item above holds)
    if f.group("mark") == "-" and prev.strip() and not ENDS_ON_ITS_LINE_RE.match(prev) and not held and not after_html \
            and not EMPTY_DD_RE.fullmatch(prev) \
            and not (LIST_MARK_RE.match(prev) and _indent(prev) < 4 and not _no_list(above, 0)):
        return False  # (under a paragraph's line, "-" underlines a heading)
    if pad <= 3:
        return bool(LONE_TAG_RE.match(f.group("block")))
    if pad > len(f.group("indent")) + len(f.group("mark")) + 1 + 3:
        return False
    return not prev.strip() or bool(LIST_MARK_RE.match(prev)) or held


@functools.lru_cache(maxsize=4)
def _plain_fences(text: str) -> list[tuple[int, int]]:
    """Each fenced code block, from its opening line to its closing fence (or the end), read without the
    containers or HTML blocks around it (which decides whether an HTML block opens inside one)."""
    out: list[tuple[int, int]] = []
    at = 0
    while (fence := FENCE_OPEN_RE.search(text, at)) is not None:
        if _indented_code(text, fence):  # (indented four columns outside a list: a line of code or text)
            at = fence.end() + 1
            continue
        mark = fence.group(2)
        closing = re.compile(rf"^[ \t>]*{re.escape(mark[0])}{{{len(mark)},}}[ \t]*$", re.M).search(text, fence.end() + 1)
        end = closing.end() if closing else len(text)
        out.append((fence.start(), end))
        at = max(end, fence.end()) + 1
    return out


FOOTNOTE_LINE_RE = re.compile(r" {0,3}\[\^[^\]\s]+\]:")  # a footnote's definition's line
NOTE_GOES_ON_RE = re.compile(r" {1,3}(?! )\S")  # and its next ones, as mistune's plugin reads them (one to three spaces)
TAG_LINE_START_RE = re.compile(r"^ {0,3}" + _LONE_TAG, re.M)
ENDS_ON_ITS_LINE_RE = re.compile(r" {0,3}(?:#{1,6}(?:[ \t][^\n]*)?|(?:[-*_][ \t]*){3,}|>[ \t]*)$")  # a heading, a break, an empty quote line


def _tag_blocks_after_blocks(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``spans`` with the HTML blocks of a tag alone on its line (kind 7) right after a line that is no
    paragraph's (a heading, a thematic break, an HTML block's last line, indented code after a blank line):
    kind 7 interrupts no paragraph, but opens after any other block."""
    if "<" not in text:
        return spans
    starts = [x for x, _ in spans]
    for f in TAG_LINE_START_RE.finditer(text):  # (each line: one refused may hold the next one's block)
        a = f.start()
        if a == 0 or text[a - 1] != "\n":
            continue
        k = bisect.bisect_right(starts, a) - 1
        if k >= 0 and a < spans[k][1]:
            continue  # (inside a block already)
        prev_start = text.rfind("\n", 0, a - 1) + 1
        prev = text[prev_start:a - 1]
        if not prev.strip():
            continue  # (HTML_BLOCK_RE's own)
        after_block = k >= 0 and spans[k][1] == a - 1
        indented_code = False
        if prev.startswith(("    ", "\t")) and not _in_list(text, prev_start):
            above = next((line for line in _lines_above(text, prev_start, 200) if not line.startswith(("    ", "\t"))), "")
            indented_code = not above.strip()  # (its run of indented lines follows a blank line, or the top)
        underline = False  # (a heading's underline under a paragraph's line)
        if re.match(r" {0,3}(?:=+|-+)[ \t]*$", prev) and prev_start:
            underline = bool(text[text.rfind("\n", 0, prev_start - 1) + 1:prev_start - 1].strip())
        # (a footnote's definition is no paragraph in mistune: its line, or its last indented one, ends it)
        note = bool(FOOTNOTE_LINE_RE.match(prev))
        if not note and NOTE_GOES_ON_RE.match(prev):
            for line in _lines_above(text, a, 50):
                if FOOTNOTE_LINE_RE.match(line) or not NOTE_GOES_ON_RE.match(line):
                    note = bool(FOOTNOTE_LINE_RE.match(line))
                    break
        if after_block or ENDS_ON_ITS_LINE_RE.match(prev) or indented_code or underline or note:
            blank = BLANK_LINE_RE.search(text, a)  # (to its next blank line)
            spans.insert(k + 1, (a, blank.start() if blank else len(text)))
            starts.insert(k + 1, a)
    kept: list[tuple[int, int]] = []
    for a, b in spans:  # (a block found inside one of these is part of it)
        if not kept or a >= kept[-1][1]:
            kept.append((a, b))
    return kept


def _lazy_end(text: str, pos: int) -> int:
    """Where a list item ends whose lazy line is the one at ``pos``: before the next blank line or line that
    ends it (LIST_BREAK_RE, unless indented two columns or more: the item's own)."""
    at = _line_end(text, pos)
    while at < len(text):
        end = _line_end(text, at + 1)
        line = text[at + 1:end]
        if not line.strip() or (not line.startswith(("  ", "\t")) and LIST_BREAK_RE.match(line)):
            return at
        at = end
    return len(text)


DEEP_TAG_RE = re.compile(r"^(?P<pad> {4,})(?:(?P<six>" + _BLOCK_TAG + r")|" + _LONE_TAG + r")"
                         r"[^\n]*(?:\n[ \t]*[^ \t\n][^\n]*)*", re.M | re.I)


def _deep_item_blocks(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The HTML blocks of list items whose text starts four columns in or more ("1. Q", then "    <div>"): a
    block tag's line up to three columns past the item's text opens one (a tag alone on its line too, after a
    blank line: it interrupts no paragraph), to the next blank line; four columns past it is code."""
    out: list[tuple[int, int]] = []
    if not re.search(r"^ {4,}<", text, re.M):
        return out
    for f in DEEP_TAG_RE.finditer(text):
        a, pad = f.start(), len(f.group("pad"))
        if any(x <= a < y for x, y in spans) or not _in_list(text, a, quote=False):
            continue
        prev_start = text.rfind("\n", 0, max(0, a - 1)) + 1
        if f.group("six") is None and a and text[prev_start:a - 1].strip():
            continue  # (a tag alone on a paragraph's next line is the paragraph's)
        column = _item_column(list(_lines_above(text, a, 201)), pad)
        if column is not None and column <= pad <= column + 3:
            out.append((a, min(f.end(), _lazy_end(text, a))))
    return out


def _item_column(lines: list[str], pad: int) -> int | None:
    """The text column of the list item a line indented ``pad`` columns goes on with (``lines``: those above
    it, nearest first): the nearest marker's line less indented, over blank lines and the item's indented
    ones; None when a line of no item comes first (a quote's, a paragraph's, a '-' under a paragraph)."""
    blank = lazy = False  # (a blank line seen; a paragraph's lazy line seen, over which no blank line goes)
    for k, line in enumerate(lines[:200]):
        if not line.strip():
            if lazy:
                return None
            blank = True
            continue
        if _indent(line) >= pad:
            continue
        mark = LIST_MARK_RE.match(line)
        if mark is not None and _indent(line) < 4 and ">" not in mark.group(1):
            return None if _no_list(lines, k) else _text_column(line, mark)
        if k + 1 < len(lines) and not line.lstrip(" \t").startswith(">") and (empty := LIST_MARK_RE.match(lines[k + 1])) and not lines[k + 1][empty.end():].strip() \
                and _indent(lines[k + 1]) < 4 and ">" not in empty.group(1) and not _no_list(lines, k + 1):
            return _text_column(lines[k + 1], empty)  # (an empty marker's item holds the line after it: mistune)
        if not blank and not CONTAINER_LINE_RE.match(line) and not HEADING_OR_FENCE_RE.match(line) \
                and not ENDS_ON_ITS_LINE_RE.match(line) and not line.lstrip(" \t").startswith("<"):
            lazy = True  # (an item's paragraph's lazy line, right above: the item may be further up)
            continue
        if _indent(line) == 0:
            return None
    return None


def _after_quote_line(text: str, pos: int) -> bool:
    """Whether the line at ``pos`` (no quote's own: no '>') is a lazy line of a quote (the line above is one, or
    a lazy line of one: a paragraph's lines up to a quote's)."""
    for prev in _lines_above(text, pos, 50):
        if QUOTED_RE.match(prev):
            return True
        if not prev.strip() or CONTAINER_LINE_RE.match(prev) or HEADING_OR_FENCE_RE.match(prev) \
                or prev.lstrip(" \t").startswith("<"):
            return False
    return False


def _quote_lazy_end(text: str, pos: int) -> int:
    """Where a quote ends whose lazy line is the one at ``pos``: as a list item's (:func:`_lazy_end`), but its own
    lines ('>' then text) go on with it, and a line of '>' alone ends it."""
    at = _line_end(text, pos)
    while at < len(text):
        end = _line_end(text, at + 1)
        line = text[at + 1:end]
        if re.fullmatch(r"[ \t]*(?:>[ \t]*)*", line):
            return at
        if not QUOTED_RE.match(line) and _indent(line) < 4 and LIST_BREAK_RE.match(line):
            return at
        at = end
    return len(text)


def _line_end(text: str, pos: int) -> int:
    end = text.find("\n", pos)
    return len(text) if end < 0 else end


def _html_block_end(text: str) -> "Callable[[int], int]":
    """Where the HTML block holding a position ends (-1: none holds it)."""
    spans: list[tuple[int, int]] = []
    pos = 0
    fences = _plain_fences(text) if "```" in text or "~~~" in text else []
    while "<" in text and (f := HTML_BLOCK_RE.search(text, pos)) is not None:
        inside = next(((a, b) for a, b in fences if a < f.start() < b and not any(s_ <= a < e_ for s_, e_ in spans)), None)
        if inside is not None:  # (in a fenced code block opened first: code, no HTML block)
            pos = inside[1]
            continue
        if (mark := LIST_MARK_RE.match(f.group())) and ">" not in mark.group(1) and f.start() \
                and _no_list([text[f.start():_line_end(text, f.start())], *_lines_above(text, f.start(), 50)], 0):
            pos = f.start() + 1  # ("3. <s>" on a paragraph's next line: the paragraph's text, no item's HTML)
            continue
        if LIST_MARK_RE.match(f.group()) or (not LIST_BREAK_RE.match(text, f.start()) and _after_list_item(text, f.start())):
            # (on a list item's line, or its lazy line: it ends with the item, and the lines after it are read
            # again; on a quote's lazy line it is the quote's, and goes on over its lines: mistune's reading)
            end = _quote_lazy_end(text, f.start()) if _after_quote_line(text, f.start()) else _lazy_end(text, f.start())
            spans.append((f.start(), min(f.end(), end)))
        elif QUOTED_RE.match(f.group()):  # (in a quote, it ends with the quote: its lazy lines go on with it)
            spans.append((f.start(), min(f.end(), _quote_lazy_end(text, f.start()))))
        else:
            spans.append((f.start(), f.end()))
        pos = max(spans[-1][1], f.start() + 1)
    if spans or "<" in text:  # a tag alone on the line after a marker alone: the item's HTML block (kind 7)
        taken = [a for a, _ in spans]
        for f in TAG_AFTER_MARKER_RE.finditer(text):
            before = bisect.bisect_right(taken, f.start() - 2) - 1  # (an HTML block ended on the line above)
            if not _item_html_block(text, f, f.start() >= 2 and before >= 0 and f.start() - 2 < spans[before][1]):
                continue
            k = bisect.bisect_right(taken, f.start("block")) - 1
            if k < 0 or f.start("block") >= spans[k][1]:
                spans.append((f.start("block"), min(f.end("block"), _lazy_end(text, f.start("block")))))
        spans += _deep_item_blocks(text, spans)
        # (a ': ' line inside an HTML block is the block's text: no definition, "<a>" then ": ")
        bodies = [(a, b) for a, b in _definition_bodies(text) if not any(x <= a < y or x <= a - 2 < y for x, y in spans)] \
            if "\n:" in text else []  # (nor is one under an HTML block's last line: no term)
        if bodies:  # a definition's body is a document of its own: its first line, or one after a blank
            for a, b in bodies:  # line (four columns less), may open an HTML block
                tags = [t.start("tag") for t in [DD_TAG_RE.match(text, a)] if t is not None]
                tags += [t.start("tag") if t.group("tag") else t.start("lone") for t in BODY_TAG_RE.finditer(text, a, b)]
                for start in tags:
                    blank = BLANK_LINE_RE.search(text, start, b)
                    holder = next((k for k, (x, y) in enumerate(spans) if x <= start < y), None)
                    if EMPTY_DD_ITEM_RE.fullmatch(next(_lines_above(text, start, 1), "")):
                        # (": -" holds it: it ends with the item, though its line opens a block in the whole text)
                        end = min(blank.start() if blank else b, _lazy_end(text, start))
                        if holder is None:
                            spans.append((start, end))
                        else:
                            spans[holder] = (spans[holder][0], min(spans[holder][1], max(end, start + 1)))
                    elif holder is None:
                        spans.append((start, blank.start() if blank else b))
                    elif spans[holder][0] >= a and start - text.rfind("\n", 0, start) <= 5:
                        # (at the body's first column: no item above it holds it, read in the whole text)
                        spans[holder] = (spans[holder][0], max(spans[holder][1], blank.start() if blank else b))
        spans.sort()
        spans = _tag_blocks_after_blocks(text, spans)
        if spans and bodies:  # in a definition's body, an HTML block ends with the body
            spans = [(a, min([b] + [e for s_, e in bodies if s_ <= a < e])) for a, b in spans]
    starts = [a for a, _ in spans]

    def end(pos: int) -> int:
        k = bisect.bisect_right(starts, pos) - 1
        return spans[k][1] if k >= 0 and pos < spans[k][1] else -1
    return end


def _code(text: str) -> list[tuple[int, int]]:
    """Where code is: each fenced block to its closing fence (one never closed ends where its container does:
    the first line, after a blank one, indented less than the fence), and the code spans between them. A
    fence or a code span inside an HTML block is none: its backticks are text."""
    out: list[tuple[int, int]] = []
    at = 0
    in_html = _in_html_block(text)
    spans = _hard_breaks(text)  # the text for SPAN_RE: the same length, some line breaks marked
    scan = _span_scanner(text)
    bodies = _definition_bodies(text) if ":" in text else []
    look = 0  # (where the next fence is looked for: a fence that is none is read with the text around it)
    while (fence := FENCE_OPEN_RE.search(text, look)) is not None:
        if _indented_code(text, fence):  # (a line of indented code, or a paragraph's: its backticks may open a span)
            look = fence.end()
            continue
        if in_html(fence.start()):
            out += _spans(scan, spans, at, fence.start(), in_html)
            at = look = fence.end()
            continue
        out += _spans(scan, spans, at, fence.start(), in_html)
        indent, mark = len(fence.group(1).expandtabs(4)), fence.group(2)  # (columns: a tab is four)
        # its closing fence: indented at most three columns more than it (a deeper one is a line of code)
        closing = re.compile(rf"^[>]*[ >]{{0,{indent + 3}}}{re.escape(mark[0])}{{{len(mark)},}}[ \t]*$",
                             re.M).search(text, fence.end() + 1)
        end = closing.end() if closing else len(text)
        if ">" in fence.group(1):  # in a quote: it ends with the quote (a fence has no lazy lines)
            after = re.compile(r"^(?![ \t]*>)", re.M).search(text, fence.end() + 1)
            end = min(end, after.start() - 1 if after else len(text))
        if indent >= 2:  # in a list item: a fence never closed there ends with the item
            end = min(end, _container_end(text, fence.end() + 1, indent))
        elif body := next((b_ for a_, b_ in bodies if a_ <= fence.start() < b_), None):
            end = min(end, body)  # in a definition's body (": text"): it ends with the body
        out.append((fence.start(), max(end, fence.end())))
        at = look = max(end, fence.end()) + 1
    out += _spans(scan, spans, min(at, len(text)), len(text), in_html)
    return _with_indented_code(text, out, in_html, bodies)


def _spans(scan: "re.Pattern[str] | None", text: str, start: int, end: int,
           in_html: "Callable[[int], bool]") -> list[tuple[int, int]]:
    """The code spans between ``start`` and ``end`` (not in an HTML block, not inside a formula)."""
    out: list[tuple[int, int]] = []
    if scan is None:
        return out
    for f in scan.finditer(text, start, end):
        if f.lastgroup == "mark":
            out += _spans(scan, text, f.start() + 2, f.end() - 2, in_html)
        elif f.group("ticks") is not None and not in_html(f.start()):
            out.append((f.start(), f.end()))
    return out


INDENTED_RE = re.compile(r"(?:\A(?:[ \t]*\n)*|\n(?:[ \t]*\n)+|(?:\A|\n) {0,3}(?:#{1,6}(?:[ \t][^\n]*)?|\$\$[^\n$]+\$\$[ \t]*)\n)(?P<code>(?: {4}|\t| {1,3}\t)[^\n]*\S[^\n]*"
                         r"(?:\n(?:[ \t]*(?=\n)|(?: {4}|\t| {1,3}\t)[^\n]*))*)")


def _with_indented_code(text: str, code: list[tuple[int, int]], in_html: "Callable[[int], bool]",
                        bodies: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``code`` with the indented code blocks: lines indented four columns after a blank line (or at the
    top), outside any list item, quote, fenced block and HTML block; a code span inside one is part of it."""
    if "    " not in text and "\t" not in text:
        return code
    blocks = []
    starts = [a for a, _ in code]
    tables = _table_spans(text)  # (a table's rows are no code)
    for found in INDENTED_RE.finditer(text):
        a, b = found.span("code")
        k = bisect.bisect_right(starts, a) - 1
        if (k >= 0 and a < code[k][1]) or in_html(a) or _in_list(text, a) or any(s_ <= a < e_ for s_, e_ in bodies) \
                or any(f.start() <= a < f.end() and _indent(f.group()) < 4
                       for f in FOOTNOTE_DEF_RE.finditer(text, max(0, a - 2000), a + 1)) \
                or any(s_ <= a < e_ for s_, e_ in tables):
            continue
        blocks.append((a, b))
    if not blocks:
        return code
    bstarts = [a for a, _ in blocks]

    def inside(pos: int) -> bool:
        j = bisect.bisect_right(bstarts, pos) - 1
        return j >= 0 and pos < blocks[j][1]
    return sorted([c for c in code if not inside(c[0])] + blocks)


def _in_list(text: str, pos: int, quote: bool = True, bodies: bool = True) -> bool:
    """Whether the indented line at ``pos`` goes on with a list item (or a quote): the nearest line above it
    that is neither blank nor indented opens one, or an indented line above it opens a list item. In a
    definition's body, the body is read as the reader reads it: a document of its own (``bodies``)."""
    if bodies and ":" in text:
        start = text.rfind("\n", 0, pos) + 1
        found = _definition_bodies(text)
        k = bisect.bisect_left(found, (start, -1)) - 1  # (the last body opening above the line)
        body = found[k][0] if k >= 0 and start <= found[k][1] else None
        if body is not None:  # (mistune's plugin: its ':' two spaces, then each line less up to four spaces)
            lines = DD_TRIM_RE.sub("", DD_MARKER_RE.sub("  ", text[body:_line_end(text, pos)], count=1))
            at = lines.rfind("\n") + 1
            return _in_list(lines, at, quote, bodies=False)
    shallow = None  # the least indent of the indented lines below a blank line (seen before it)
    paragraph = blank = False  # in a paragraph's lines: it may be a list item's (lazy lines, or mistune's item
    lines = list(_lines_above(text, pos, 201))  # whose text starts on the line after its marker)
    for k, line in enumerate(lines[:200]):
        if not line.strip():
            if paragraph:
                return False
            blank = True
            continue
        if re.match(r" {0,3}(?:#{1,6}(?:[ \t]|$)|<!--|<\?|<![A-Z])", line):
            return False  # a heading, a comment's (an instruction's, a declaration's) block: no item goes on over it
        if THEMATIC_BREAK_RE.match(line):
            return False  # ("- --" is a thematic break, no list item)
        if (mark := LIST_MARK_RE.match(line)) and _indent(line) < 4 \
                and not _no_list(lines, k, lambda j: _in_table(text, pos, j)):
            # (a marker indented four columns: indented code or a paragraph's line, unless a list item above
            # holds it: the lines above tell)
            # (an empty item, then a blank line: the item is over; after a blank line, a line indented less
            # than the item's text is no longer the item's)
            if blank and shallow is not None and shallow < _text_column(line, mark):
                return False
            # (mistune: an empty marker's item holds the line after it, indented or not)
            return not (blank and not paragraph and not (k and lines[k - 1].strip())
                        and not LIST_MARK_RE.sub("", line).strip())
        if line[:1] in " \t":
            paragraph = False  # (the lines below it were its paragraph's lazy lines)
            if not blank:  # (below a blank line: the least indent of those lines)
                shallow = _indent(line) if shallow is None else min(shallow, _indent(line))
            continue
        if quote and line.lstrip().startswith(">"):
            # (an empty quote line has no lazy lines: the lines after it, indented or not, are no quote's; nor
            # has a quote after a blank line)
            return not blank and (bool(line.lstrip()[1:].strip()) or (not paragraph and k == 0))
        paragraph = True
    return False


HEADING_OR_FENCE_RE = re.compile(r" {0,3}(?:#{1,6}(?:[ \t]|$)|`{3,}(?=[^`\n]*$)|~{3,})")  # (a line that is no paragraph's)


def _text_column(line: str, mark: re.Match[str]) -> int:
    """The column a list item's text starts at (``mark``: LIST_MARK_RE's match of its line; no text: one
    column past the marker)."""
    rest = line[mark.end():]
    return len(line[:mark.end()].expandtabs(4)) + (len(rest) - len(rest.lstrip(" \t")) if rest.strip() else 1)


def _indent(line: str) -> int:
    """The columns of white space a line opens with (a tab is four)."""
    return len(line[:len(line) - len(line.lstrip(" \t"))].expandtabs(4))


def _in_table(text: str, pos: int, j: int) -> bool:
    """Whether the line ``j + 1`` lines above the one holding ``pos`` is a GFM table's."""
    at = text.rfind("\n", 0, pos)
    for _ in range(j):
        at = text.rfind("\n", 0, at) if at > 0 else -1
    start = text.rfind("\n", 0, at) + 1 if at > 0 else 0
    spans = _table_spans(text)
    k = bisect.bisect_right([a for a, _ in spans], start) - 1
    return k >= 0 and start < spans[k][1]


@functools.lru_cache(maxsize=4)
def _table_spans(text: str) -> list[tuple[int, int]]:
    return [(head.start(), end) for head, end in _tables(text)]


def _no_list(lines: list[str], k: int, in_table: "Callable[[int], bool]" = lambda j: False) -> bool:
    """Whether the list marker's line ``lines[k]`` (lines nearest first) opens no list: an empty item, or a
    number from 2, after a paragraph's line (neither interrupts a paragraph; the line above may be such a
    marker's too; a table's row is no paragraph's: ``in_table(j)``, is ``lines[j]`` a table's row)."""
    while k + 1 < len(lines) and re.fullmatch(r"[ \t]*(?:(?:[-*+]|\d{1,9}[.)])[ \t]*|(?!0*1[.)])\d{1,9}[.)][ \t].*)", lines[k]):
        above = lines[k + 1]
        if not above.strip() or HEADING_OR_FENCE_RE.match(above):
            return False
        if not CONTAINER_LINE_RE.match(above):
            return not in_table(k + 1) and _paragraph_line(lines, k + 1)
        if _indent(above) >= 4:  # a marker four columns in: a lazy line of the paragraph above it, if one is
            j = k + 2
            while j < len(lines) and lines[j].strip() and _indent(lines[j]) >= 4:
                j += 1
            if j < len(lines) and lines[j].strip() and not CONTAINER_LINE_RE.match(lines[j]) \
                    and not HEADING_OR_FENCE_RE.match(lines[j]):
                return not in_table(j) and _paragraph_line(lines, j)
        k += 1
    return False


LINK_DEF_LINE_RE = re.compile(r" {0,3}\[[^\]]+\]:")


def _paragraph_line(lines: list[str], k: int) -> bool:
    """Whether ``lines[k]`` (lines nearest first; neither blank nor a container's) is a paragraph's that a
    list marker cannot interrupt, as mistune reads it: not a link definition's, not indented code's (below a
    blank line), not a quote's lazy line (mistune ends a quote's paragraph at any marker: ``> Q``, ``e``,
    ``3. x`` is a list from 3)."""
    if LINK_DEF_LINE_RE.match(lines[k]) or re.match(r" {0,3}<!--(?:-?>|.*-->)", lines[k]):
        return False  # (a link definition's line; a comment's block that ends on its line)
    code = _indent(lines[k]) >= 4
    for line in lines[k + 1:]:
        if not line.strip():
            return not code
        if code and _indent(line) < 4:
            code = False
        if HEADING_OR_FENCE_RE.match(line):
            return True
        if line.lstrip(" ").startswith(">") and _indent(line) < 4:
            return not code and bool(re.fullmatch(r"[ \t>]*", line))  # (an empty quote's line: no lazy one after it)
        if CONTAINER_LINE_RE.match(line):
            return True
    return not code


def _lines_above(text: str, pos: int, limit: int) -> "Iterator[str]":
    """The lines above the one holding ``pos``, nearest first, at most ``limit`` of them."""
    end = text.rfind("\n", 0, pos)
    while end >= 0 and limit > 0:
        start = text.rfind("\n", 0, end) + 1
        yield text[start:end]
        end, limit = start - 1, limit - 1


DEFINITION_RE = re.compile(r"^ {0,3}:[ \t]+", re.M)
TERM_BREAK_RE = re.compile("[\x85\u2028\u2029]")  # Python's splitlines() ends a term's line there too


def _hard_breaks(text: str) -> str:
    """``text`` with the line breaks no code span runs over marked ``\x01``: those of a GFM table (its rows
    and the line before its head) and those between a definition's terms (each line before ``: text`` is a
    term of its own)."""
    cuts: list[int] = []
    for head, rows_end in _tables(text):
        cuts += [head.start() - 1] + [k for k in range(head.start(), rows_end)
                                      if text[k] == "\n" or (text[k] == "|" and not escaped(text, k))]
    if re.search(r"^[ \t]*(?!0*1[.)])\d{1,9}[.)](?:[ \t]|$)", text, re.M):
        # an ordered list from 2 interrupts no paragraph at the top, but one in a list item or a quote (mistune)
        for item in re.finditer(r"^[ \t]*(?!0*1[.)])\d{1,9}[.)](?:[ \t]|$)", text, re.M):
            top, inside = None, False  # the paragraph above it: a list item's or a quote's? (its first line,
            for j, line in enumerate(_lines_above(text, item.start(), 50)):  # or a line that opened one inside it)
                if not line.strip():
                    break
                if re.match(r" {0,3}(?:=+|-{2,}|#{1,6}(?=[ \t]|$).*)[ \t]*$", line) or ("|" in text and _in_table(text, item.start(), j)):
                    break  # (a heading, its underline, a table's row: the paragraph starts below it)
                top = line
                inside = inside or bool(INTERRUPTING_ITEM_RE.match(line))
            if inside or (top is not None and (CONTAINER_LINE_RE.match(top) or (top[:1] in " \t" and _in_list(text, item.start())))):
                cuts.append(item.start() - 1)  # (or an indented paragraph's in a list item: the list's next item)
    if DEEP_ITEM_RE.search(text):  # a list item (a fence) indented four columns or more: in a list, it breaks a
        # line (at the top, it is a paragraph's: mistune's lazy line); in a definition's body, four columns less
        bodies = _definition_bodies(text) if "\n:" in text else []
        for item in DEEP_ITEM_RE.finditer(text):
            in_body = any(a < item.start() <= b for a, b in bodies) and _indent(item.group()) < 8
            if in_body or _in_list(text, item.start()):
                cuts.append(item.start() - 1)
    if ":" in text:
        for start, _ in _definition_bodies(text):  # (a definition's: under an underline, ": " is a paragraph's)
            at = start - 1  # the line break before ": text", and those between the lines above it
            while at > 0:
                cuts.append(at)
                above = text.rfind("\n", 0, at)
                if not text[above + 1:at].strip() or DEFINITION_RE.match(text, above + 1):
                    break  # (a blank line, or the definition before: its body, not a term)
                cuts += [above + 1 + f.start() for f in TERM_BREAK_RE.finditer(text, above + 1, at)]
                at = above
    if not cuts:
        return text
    chars = list(text)
    for c in cuts:
        if 0 <= c < len(chars) and chars[c] in "\n\x85\u2028\u2029|":
            chars[c] = "\x01"
    return "".join(chars)


THEMATIC_BREAK_RE = re.compile(r" {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$")
DEEP_ITEM_RE = re.compile(r"^(?: {4,}|[ \t]*\t[ \t]*)(?:(?:[-*+]|0*1[.)])(?:[ \t]|$)|```(?=[^`\n]*$)|~~~|#{1,6}(?:[ \t]|$)|>"
                          r"|<(?:/?(?:" + _BLOCK_TAGS + r")(?=[\s/>]|$)|(?:script|pre|style|textarea)(?=[\s>]|$)|\?|![A-Z]|!--))", re.M)
CONTAINER_LINE_RE = re.compile(r"[ \t]*(?:>|(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$))")
INTERRUPTING_ITEM_RE = re.compile(r"[ \t]*(?:>|(?:[-*+]|0*1[.)])(?:[ \t]|$))")  # (a list item that may break a paragraph)


def _tables(text: str) -> "Iterator[tuple[re.Match[str], int]]":
    """Each GFM table: its head's match (the head and delimiter rows) and where its last row ends."""
    if "|" not in text:
        return
    pos = 0
    while (head := GFM_TABLE_RE.search(text, pos)) is not None:
        if len(split_row(head.group("gfm_table_head"))) != len(split_row(head.group("gfm_table_align"))):
            pos = head.start() + 1
            continue
        line = text[head.start():head.start("gfm_table_align")].split("\n", 1)[0]
        if (mark := LIST_MARK_RE.match(line)) and ">" not in mark.group(1) and line[mark.end():].strip():
            below = text[text.rfind("\n", 0, head.start("gfm_table_align")) + 1:head.end()]
            if _indent(below) < _text_column(line, mark):
                pos = head.start() + 1  # (a list item's first line; the next line, less indented, is its lazy line)
                continue
        at = end = head.end()
        while at < len(text):
            end = text.find("\n", at)
            end = len(text) if end < 0 else end
            if not text[at:end].strip() or ENDS_TABLE_RE.match(text[at:end]):
                end = at  # (its last row's line break included)
                break
            at = end + 1
        yield head, max(end, head.end())
        pos = max(at, head.end())  # (the next table starts after this one's rows)


def _cells_apart(text: str) -> str:
    """A table's cells marked apart (``|`` then ``\x04``): a ``#tag`` at a cell's start is a tag."""
    if "|#" not in text and "| #" not in text:
        return text
    cuts = [k for head, end in _tables(text) for k in range(head.start(), end)
            if text[k] == "|" and not escaped(text, k)
            and not head.start("gfm_table_align") <= k < head.end("gfm_table_align")]  # (the delimiter row holds no tag:
    # unmarked, it is still read as one)
    if not cuts:
        return text
    out, at = [], 0
    for k in cuts:
        out.append(text[at:k + 1] + "\x04")
        at = k + 1
    return "".join(out) + text[at:]


DD_MARKER_RE = re.compile(r"^ {0,3}:[ \t]")
BODY_TAG_RE = re.compile(r"\n(?:(?:[ \t]*\n)* {1,7}(?P<tag>" + _BLOCK_TAG + ")|(?:[ \t]*\n)+ {1,7}(?P<lone>" + _LONE_TAG + "))",
                         re.M | re.I)  # (a block tag breaks a paragraph; a tag alone on its line, after a blank line)
SETEXT_OR_BREAK_RE = re.compile(r" {0,3}(?:=+|-+|(?:[-*_][ \t]*){3,})[ \t]*$")  # (a heading's underline, a break)
EMPTY_DD_RE = re.compile(r" {0,3}:[ \t]*")  # a definition's empty first line: its body (a document) starts below
EMPTY_DD_ITEM_RE = re.compile(r" {0,3}:[ \t]+(?:[-*+]|\d{1,9}[.)])[ \t]*")  # a definition opening an empty item
DD_LIST_RE = re.compile(r"^( {0,3}:[ \t]+)(?:[-*+]|\d{1,9}[.)])(?=[ \t]|$)", re.M)
BLANK_LINE_RE = re.compile(r"\n[ \t]*(?:\n|\Z)")
DD_TAG_RE = re.compile(r"^ {0,3}:[ \t]+(?:\n {0,7})?(?P<tag>" + _BLOCK_TAG + "|" + _LONE_TAG + ")", re.M | re.I)  # (a body's
# HTML block: on its first line, or on the next when that one is empty, four columns less)
DD_TRIM_RE = re.compile(r"^ {0,4}", re.M)


@functools.lru_cache(maxsize=4)
def _definition_bodies(text: str) -> list[tuple[int, int]]:
    """Each definition's body (``: text``), as mistune's plugin takes it: its line, the lines that follow up
    to the next ``: `` line, and after blank lines only indented ones (a fence in it ends with it)."""
    out = []
    top = len(text) - len(text.lstrip())
    tables = _table_spans(text) if "|" in text else []
    for dd in DEFINITION_RE.finditer(text):
        if dd.start() <= top:  # (no term above it: a paragraph's ':')
            continue
        if _within(tables, dd.start()):  # (a table's row: ": " goes on the table)
            continue
        follows = bool(out) and out[-1][1] == dd.start() - 1  # (the next definition of the same term)
        above = next((line for line in _lines_above(text, dd.start(), 2) if line.strip()), None)
        if not follows and (above is None or CONTAINER_LINE_RE.match(above)
                            or HEADING_OR_FENCE_RE.match(above) or SETEXT_OR_BREAK_RE.match(above)
                            or (_indent(above) >= 4 and not _paragraph_line(list(_lines_above(text, dd.start(), 50)), 0))):
            continue  # (no paragraph above it, indented code's line neither: no term, no definition)
        if not follows and not dd.group().startswith((" ", "\t")) and _in_list(text, dd.start(), bodies=False):
            continue  # (a list item's lazy lines: mistune reads no definition there)
        pos = text.find("\n", dd.end())
        while pos >= 0:
            nxt = pos + 1
            line_end = text.find("\n", nxt)
            line = text[nxt:len(text) if line_end < 0 else line_end]
            if DEFINITION_RE.match(line):
                break
            if not line.strip():  # blank lines: the body goes on only with an indented line after them
                after = re.compile(r"(?:[ \t]*\n)*").match(text, nxt).end()
                if after >= len(text) or text[after] not in " \t" or DEFINITION_RE.match(text, after):
                    break
            pos = line_end
        out.append((dd.start(), len(text) if pos < 0 else pos))
    return out


def _indented_code(text: str, fence: re.Match[str]) -> bool:
    """A fence indented four columns or more outside any list item: a line of an indented code block (after
    a blank line) or of a paragraph (after one of its lines), not a fence."""
    lead = fence.group(1)
    if ">" in lead or len(lead.expandtabs(4)) < 4:
        return False
    if not _in_list(text, fence.start(), quote=False):
        return True
    # in a list item: indented four columns past the item's text (a line of code there too)
    indent = len(lead.expandtabs(4))
    for line in _lines_above(text, fence.start(), 200):
        mark = LIST_MARK_RE.match(line)
        if mark and ">" not in mark.group(1) and _indent(line) < indent:
            return indent >= _text_column(line, mark) + 4
    return False


# a line that opens a block of its own (a list item's fence has no lazy lines: such a line ends the item)
OPENS_BLOCK_RE = re.compile(r"^ {0,3}(?:>|#{1,6}(?:[ \t]|$)|`{3,}|~{3,}|(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)|<|(?:[-*_][ \t]*){3,}$)")


def _container_end(text: str, pos: int, indent: int) -> int:
    """Where a fence never closed ends: with its container, at the first line indented less than the fence
    that follows a blank one or opens a block of its own (a heading, a fence, a list item: a fence has no
    lazy lines), or the end of the text."""
    blank = False
    while pos < len(text):
        nl = text.find("\n", pos)
        line = text[pos:len(text) if nl < 0 else nl]
        lead = line[:len(line) - len(line.lstrip(" \t>"))]
        if line.strip() and len(lead.expandtabs(4)) < indent and (blank or OPENS_BLOCK_RE.match(line)):
            return pos - 1
        blank = not line.strip()
        if nl < 0:
            break
        pos = nl + 1
    return len(text)


def source_text(text: str) -> str:
    """What of a Markdown file is meant to be read, as plain text with its lines kept (markup blanked)."""
    text = CONTROL_RE.sub("\ufffd", text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n"))  # as the reader shows them
    text = FRONT_RE.sub(_blank, text)
    text = blank_lines(text)  # (a line of spaces is a blank line, as the reader reads it: no word, no paragraph's line)
    if "%%" in text:  # the reader takes Obsidian's comments out first: "%%x%%```" opens a fence, and
        text = strip_comments(text)  # "%%\n<details>%%" opens no HTML block
    if "^" in text:  # Obsidian's block ids: no output shows them
        text = strip_block_ids(text)[0]
    if "{{#" in text:  # mdBook's tab lines: syntax
        text = mdbook_directives(text, "")[0]
    text = foreign_markers(text)[0]  # other flashcard tools' marker lines (P143): left out of every output
    if "\\<" in text:  # a backslash escapes nothing in an HTML block: a tag after it is a tag
        in_html = _in_html_block(text)
        text = re.sub(r"\\<", lambda f: "\\ <" if in_html(f.start()) else f.group(), text)  # (no escape now)
    if "<" in text and (HTML_BLOCK_RE.search(text) or TAG_AFTER_MARKER_RE.search(text) or DEEP_TAG_RE.search(text)
                        or ("\n:" in text and DD_TAG_RE.search(text))):  # in an HTML block a tag is read as HTML reads it
        in_html = _in_html_block(text)
        code = _code(text)  # (a fenced block after an HTML block's line is code: its '<' are text)
        starts = [a for a, _ in code]

        def in_code(pos: int) -> bool:
            k = bisect.bisect_right(starts, pos) - 1
            return k >= 0 and pos < code[k][1]
        block_end = _html_block_end(text)
        text = _tags_as_html(text, block_end, in_code)
        if LIST_MARK_RE.search(text):  # a list marker at a line's start in an HTML block is text ("1." a word)
            in_html = _in_html_block(text)
            text = LIST_MARK_RE.sub(lambda f: f.group(1) + "\x06" + f.group()[len(f.group(1)):]
                                    if f.start() and in_html(f.start() - 1) and not in_code(f.start()) else f.group(), text)
        text = _html_comments(text, _html_block_end(text))
        if "[" in text:  # a link's brackets in an HTML block are text ("[i]()" there is no link)
            in_html = _in_html_block(text)
            text = re.sub(r"(?<!\\)\[(?!sound:)|(?<=\])\(", lambda f: "\\" + f.group() if in_html(f.start()) else f.group(),
                          text)  # (a sound's name is read in any text; "](" there opens no link's target)
        if "&#" in text:  # and a number's reference needs no ';' there (HTML's rule): "&#0" is U+FFFD
            in_html = _in_html_block(text)
            text = NUMBER_REF_RE.sub(lambda f: f.group() + ";" if in_html(f.start()) else f.group(), text)
    text = _cells_apart(text)
    code = _code(text)
    prose = [text[a:b] for a, b in zip([0] + [e for _, e in code], [s_ for s_, _ in code] + [len(text)])]
    used: set[str] = set()
    defined: set[str] = set()
    if "[^" in text:  # a footnote mark in code or in an HTML block is text, not a use
        in_html = _in_html_block("".join(prose))
        at = 0
        for p in prose:
            # (a mark inside a footnote's own definition is no use: that footnote is shown nowhere)
            bodies = [(f.start(), f.end(), f.group(1).lower()) for f in FOOTNOTE_DEF_RE.finditer(p)]
            # (nor is one inside a formula: "$t [^1]$" is TeX)
            maths = [(f.start(), f.end()) for f in DOLLAR_MATH_RE.finditer(p)] if "$" in p else []
            # (nor one inside a tag's shape, "<details\n[^1]": HTML's text in an HTML block, a use in a paragraph;
            # unsure, its note's words are not asked for)
            tags = [(f.start(), f.end()) for f in TAG_SHAPED_RE.finditer(p)] if "<" in p else []
            for f in FOOTNOTE_USE_RE.finditer(p):
                key = f.group(1).lower()
                if not in_html(at + f.start()) and not any(a <= f.start() < b and key == own for a, b, own in bodies) \
                        and not any(a <= f.start() < b for a, b in maths) and not _within(tags, f.start()):
                    used.add(key)
            defined |= {own for _, _, own in bodies}
            at += len(p)
    out = []
    seen: set[str] = set()
    # (a code span in a note nothing refers to is left out with it: "[^1]: x `b`")
    unused = [(f.start(), f.end()) for f in FOOTNOTE_DEF_RE.finditer(text) if f.group(1).lower() not in used] \
        if defined else []
    starts = [0] + [e for _, e in code]
    for k, part in enumerate(prose):
        if unused and code:  # (the note's text on both sides of a code span in it: left out too)
            part = _without_spans(part, starts[k], unused)
        out.append(_prose(part, used, defined, seen))
        if k < len(code):  # the fence's language is no word of the text
            piece = text[code[k][0]:code[k][1]]
            if _within(unused, code[k][0]):
                out.append("\n" * piece.count("\n"))
            else:
                out.append(FENCE_INFO_RE.sub(r"\1\2", piece, count=1))  # (its opening line only)
    return "".join(out)


def _within(spans: list[tuple[int, int]], pos: int) -> bool:
    """Whether ``pos`` lies in one of ``spans`` (in order, apart)."""
    k = bisect.bisect_right(spans, (pos, len(spans) and spans[-1][1] + 1)) - 1
    return k >= 0 and pos < spans[k][1]


def _without_spans(part: str, at: int, spans: list[tuple[int, int]]) -> str:
    """``part`` (of the text, from ``at``) with what lies in ``spans`` (in order, apart) blanked, its line
    breaks kept."""
    k = max(bisect.bisect_right(spans, (at, at)) - 1, 0)
    chars = None
    while k < len(spans) and spans[k][0] < at + len(part):
        a, b = spans[k]
        for i in range(max(a - at, 0), min(b - at, len(part))):
            chars = chars or list(part)
            if chars[i] != "\n":
                chars[i] = " "
        k += 1
    return part if chars is None else "".join(chars)


def _tags_as_html(text: str, block_end: "Callable[[int], int]", in_code: "Callable[[int], bool]") -> str:
    """Each tag in an HTML block as HTML reads it (_as_html). A tag over lines that starts outside any block
    holds none of the tags after its '<' ("<e" then a line "<?d>": the instruction's block is HTML)."""
    out, at, pos = [], 0, 0
    while (f := HTML_TAG_RE.search(text, pos)) is not None:
        if f.group().startswith("<!--"):
            pos = f.end()
        elif f.end() <= block_end(f.start()) and not in_code(f.start()):
            out += [text[at:f.start()], _as_html(f)]
            at = pos = f.end()
        else:
            pos = f.start() + 1 if "\n" in f.group() else f.end()
    return "".join(out) + text[at:] if out else text


@functools.lru_cache(maxsize=4)
def _tags_by_name(text: str) -> dict[str, tuple[list[int], list[int]]]:
    """Where the start tags and the end tags of each element are in ``text``, by its name in lower case."""
    found: dict[str, tuple[list[int], list[int]]] = {}
    for f in re.finditer(r"<(/?)([A-Za-z][\w-]*)(?=[\s/>])", text):
        found.setdefault(f.group(2).lower(), ([], []))[bool(f.group(1))].append(f.start())
    return found


def _closes_one(text: str, name: str, pos: int) -> bool:
    """Whether the end tag at ``pos`` closes an element: more of its start tags than end tags before it."""
    starts, ends = _tags_by_name(text).get(name, ([], []))
    return bisect.bisect_left(starts, pos) > bisect.bisect_left(ends, pos)


def _as_html(tag: re.Match[str]) -> str:
    """A tag in an HTML block as HTML reads it: one Markdown would not take for a tag is none ("<q>"), but
    "<script/->" opens a script; a block's tag keeps the words around it apart."""
    if TAG_RE.fullmatch(tag.group()):
        name = tag.group().strip("</>").split()[0].lower()
        # (an end tag closing no element is nothing: "</summary>" alone keeps the words around it together)
        opened = not tag.group().startswith("</") or _closes_one(tag.string, name, tag.start())
        return tag.group() + " " * (name in BLOCK_SPLITTING_TAGS and opened)
    name = re.match(r"<([A-Za-z][^\s/>]*)", tag.group())
    # (its lines kept, not blank: a tag over lines does not end its HTML block)
    if name and name.group(1).lower() in ACTIVE_TAGS:
        return f"<{name.group(1)}>" + "\n\x06" * tag.group().count("\n")
    if name and name.group(1).lower() in BLOCK_TAG_NAMES:  # ("<details\n<>" still opens a block, as it did)
        rest = re.sub(r"\S+", lambda w: "a" * len(w.group()), tag.group()[name.end():-1])  # (its lines and spaces kept)
        return (f"<{name.group(1)}" + (rest if not rest or rest[0].isspace() else " " + rest) + ">"
                + " " * (name.group(1).lower() in BLOCK_SPLITTING_TAGS))
    return "<q>" + "\n\x06" * tag.group().count("\n")  # (the text after it on its last line: no list's marker)


def _html_comments(text: str, block_end: "Callable[[int], int]") -> str:
    """A comment opened in an HTML block left out as html.parser reads it: to its "-->", over any line of the
    block ("<!-->" and "<!--->" are whole ones, as the reader reads them); one not closed there is text."""
    out, at = [], 0
    while (start := text.find("<!--", at)) >= 0:
        limit = block_end(start)
        empty = EMPTY_COMMENT_RE.match(text, start) if limit >= 0 else None
        found = empty or (HTML_COMMENT_END_RE.search(text, start + 4, limit) if limit >= 0 else None)
        if found is None or (start and text[start - 1] == "\\"):
            if limit >= 0 and found is None:  # html.parser shows "<!--" up to the next '>' as text: no tag in it
                stop = text.find(">", start, limit)
                stop = start + 4 if stop < 0 else stop + 1
                out.append(text[at:start] + text[start:stop].replace("<q>", "\x06\x06\x06").replace("<", "\x03"))  # (no tag's stand-in)
                at = stop
                continue
            out.append(text[at:start + 4])
            at = start + 4
            continue
        end = found.end()
        # (still a block's start; no blank line in it, so its block goes on; what follows it stays on its line)
        out.append(text[at:start] + "<!--" + "\n\x06" * text.count("\n", start, end) + "-->")
        at = end
    return "".join(out) + text[at:] if out else text


def _blank_comment(found: re.Match[str]) -> str:
    return _blanked(found.group())


def _blanked(comment: str) -> str:
    """A comment left out, its line breaks kept; what follows it on its last line is no line's start (no list's
    marker: "z<!--" then "-->1." reads "z1.")."""
    breaks = comment.count("\n")
    return "\n" * breaks + "\x06" * bool(breaks)


def _blank(found: re.Match[str]) -> str:  # keep the line breaks: words keep their line numbers
    return "\n" * found.group().count("\n")


CELL_EDGE_RE = re.compile(r"\n|(?<!\\)\|")
ATX_LINE_RE = re.compile(r" {0,3}#{1,6}(?:[ \t]|$)", re.M)
# a comment opened on a quote's line and closed on a later one of it (no empty quote line between: a new paragraph)
_NO_LAZY = r"[ \t]*(?:#{1,6}(?:[ \t]|$)|`{3,}|~{3,}|[-*+][ \t]|\d{1,9}[.)][ \t]|(?:[-*_][ \t]*){3,}$)"  # (a block's start)
# (or opened on a lazy line of it)
QUOTE_COMMENT_RE = re.compile(r"^(?P<keep>[ \t]*(?:>[ \t]?)+[^\n]*?(?:\n(?![ \t]*>)(?!" + _NO_LAZY + r")[ \t]*\S[^\n]*?)*?)(?P<comment>(?<!\\)<!--(?:[^\n]|\n(?=[ \t]*>[ \t]*[^\s>]"
                              r"|(?!" + _NO_LAZY + r")[ \t]*\S))*?-->)",
                              re.M)  # (its next lines: the quote's, or lazy ones: no blank line, no block's start)


def _without_comments(text: str) -> str:
    """``text`` without its comments (their line breaks kept). In a GFM table a comment ends in its cell: one
    that runs over a cell's edge, or into the table from above it, is none (its '<!--' is text); so is one
    that runs past the end of a heading's line."""
    if "<!--" in text and ">" in text:  # a comment over a quote's lines: the quote's text (its '>' marks are no break)
        text = QUOTE_COMMENT_RE.sub(lambda f: f.group("keep") + _blanked(f.group("comment")), text)
    # (a cell's '|' may have a mark after it, _cells_apart's: a space to the table's reading)
    tables = [(head.start(), end) for head, end in _tables(text.replace("\x04", " "))] if "<!--" in text else []
    headings = "<!--" in text and "#" in text
    terms = [a for a, _ in _definition_bodies(text)] if "<!--" in text and ":" in text else []
    if not tables and not headings and not terms:
        return COMMENT_RE.sub(_blank_comment, text)
    out, at, pos = [], 0, 0
    while (f := COMMENT_RE.search(text, pos)) is not None:
        a, b = f.span()
        if any(a < s_ < b or (s_ <= a < e_ and CELL_EDGE_RE.search(text, a, b)) for s_, e_ in tables) \
                or (headings and "\n" in f.group() and ATX_LINE_RE.match(text, text.rfind("\n", 0, a) + 1)) \
                or any(a < t_ < b for t_ in terms):
            pos = a + 1  # (nor over a heading's line end, nor from a term into its definition: blocks apart)
            continue
        out += [text[at:a], _blank_comment(f)]
        at = pos = b
    return "".join(out) + text[at:]


def _prose(text: str, used: set[str], defined: set[str] = frozenset(), seen: set[str] | None = None) -> str:
    text = _without_comments(text)
    if "&" in text:  # a word apart: shown as the letters (in Markdown) or as its character (in HTML)
        text = _legacy_names(text)
    text = ACTIVE_RE.sub(lambda f: _blank(f) or " ", text)  # (a space: in an HTML block a script splits the text)
    text = ANKI_CLOZE_RE.sub(lambda f: f.group(2), text)  # {{c1::answer::hint}}: its number and hint are the card's
    text = CLOZE_HINT_RE.sub("", text)
    if "==[^" in text:  # "==x==[^1]": a deletion's group where the file holds flashcards (else shown: no loss)
        text = GROUP_MARK_RE.sub("", text)
    if ";;" in text:
        text = PLUGIN_CLOZE_RE.sub(r"\1\2\3", text)
    text = OBSIDIAN_COMMENT_RE.sub(_blank, text)
    text = REF_DEF_RE.sub(_blank, text)
    text = _unused_footnotes(text, used, set() if seen is None else seen)
    # (before links go: a star's neighbours decide whether it pairs; a*b in a formula is the formula's)
    text = _outside_math(text, _intraword)
    text = EMBED_RE.sub("", text)
    # a wiki-link shows its label, else its page (and heading): [[Entität]]stypen reads "Entitätstypen"
    text = WIKI_RE.sub(_wiki_words, text)
    text = SOUND_RE.sub(lambda f: "\n" * f.group().count("\n"), text)  # (over a line in an HTML block: its text is one)
    # (a '#' before a link stays apart from its words: "#[l](x)" shows '#' then the link, no tag; so does an
    # '&': "&[ii]();" shows "&ii;", no reference)
    text = LINK_RE.sub(lambda f: "\x02" * (f.string[f.start() - 1:f.start()] in ("#", "&"))
                       + (f.group(1) if f.group(1) is not None else f.group(2)), text)
    text = LINK_TARGET_RE.sub("]", text)  # a link whose words run over lines: its target, at least
    # (a declaration or an instruction first: it ends at its '>', over a tag inside it, "<!A\n<e>"; tags before
    # footnote marks: "\\[^1]</b>" must not leave a backslash that seems to escape the tag)
    if "<!" in text or "<?" in text:
        text = RAW_INLINE_RE.sub(_blank, text)
    text = TAG_RE.sub(lambda f: " " * bool(f.group().strip("</>").split()[0].lower() in SPLITTING_TAGS)
                      + "\n" * f.group().count("\n"), text)  # (a tag over lines keeps them: its words' lines)
    # a mark of a footnote with no definition is shown as written ("[^1]")
    text = FOOTNOTE_RE.sub(lambda f: "" if f.group()[2:].rstrip(":]").lower() in defined else f.group(), text)
    text = UPDATE_LINE_RE.sub("", text)
    text = CALLOUT_RE.sub("", text)
    text = ADMONITION_RE.sub(r"\1", text)
    text = TASK_RE.sub(r"\1", text)
    text = LIST_MARK_RE.sub(r"\1", text)
    if ":" in text:  # a definition's body is a document: a list may open it (": 1. x")
        text = DD_LIST_RE.sub(r"\1", text)
    if "*#" in text or "_#" in text:  # "**#tag**": a tag still (the emphasis holds it), unless glued to the text before it
        text = EMPHASIZED_TAG_RE.sub("", text)
    text = INLINE_TAG_RE.sub("", text)
    return decode_entities(text)


def _wiki_words(f: re.Match[str]) -> str:
    """What a wiki link shows: its label, else its page and heading (a block's id shows nothing)."""
    if f.group(3) is not None:
        return f.group(3)
    heading = f.group(2) or ""
    return f"{f.group(1)} {'' if heading.strip().startswith('^') else heading}".strip()


def _legacy_names(text: str) -> str:
    """``&para`` and its like without their ';' as a word apart (a full reference, ``&parallel;``, stays)."""
    refs = [(f.start(), f.end()) for f in NAMED_REF_RE.finditer(text) if f.group()[1:] in html.entities.html5]

    def one(f: re.Match[str]) -> str:
        if any(a <= f.start() < b for a, b in refs):
            return f.group()
        return f"\x05{f.group(1)}\x05"  # (apart, no space: "==&parax==" stays a highlight)
    return LEGACY_ENTITY_RE.sub(one, text)


def _unused_footnotes(text: str, used: set[str], seen: set[str]) -> str:
    """A footnote's definition that nothing refers to is left out, as every output leaves it (P123 says so);
    ``seen``: the footnotes defined before (in the file's text before a code block, say)."""
    if "[^" not in text:
        return text

    def one(f: re.Match[str]) -> str:
        key = f.group(1).lower()
        if key in used and key not in seen:
            seen.add(key)
            return f.group()
        return _blank(f)  # unused, or defined again (the first definition is the footnote): P123
    return FOOTNOTE_DEF_RE.sub(one, text)


def _intraword(text: str) -> str:
    """Emphasis marks inside a word left out (**U**niform reads "Uniform"); a lone one, with no other like it
    on its line, is no mark (d*H is two words, as shown)."""
    if "*" not in text and "~~" not in text:
        return text

    known: dict[tuple[int, str], set[int]] = {}  # (line start, run): the paired runs' starts

    def one(found: re.Match[str]) -> str:
        start = text.rfind("\n", 0, found.start()) + 1
        run = found.group()
        if (start, run) not in known:
            end = text.find("\n", found.end())
            known[start, run] = _paired(text[start:len(text) if end < 0 else end], run)
        return "" if found.start() - start in known[start, run] else run
    return INTRAWORD_MARK_RE.sub(one, text)


LINE_MARK_RE = re.compile(r"(?<!\\)(==|~~)(?=[^\s=~])[^\n]*?(?<=\S)\1(?![=~])")


def _paired(line: str, run: str) -> set[int]:
    """Where the runs exactly like ``run`` on ``line`` pair as CommonMark pairs delimiter runs: left to right,
    a run that may close takes the nearest open one before it, else one that may open waits for its closer
    ('~~' as mistune pairs a deletion's marks)."""
    mark = re.escape(run[0])
    alike = list(re.finditer(rf"(?<!{mark}){re.escape(run)}(?!{mark})", line))
    if run[0] == "~":  # mistune's deletion: an opener ('~~' before a non-space), then the first closer after it
        paired: set[int] = set()
        opener = None
        for r in alike:
            after, before = line[r.end():r.end() + 1], line[r.start() - 1:r.start()]
            if opener is not None and before and not before.isspace():
                paired |= {opener, r.start()}
                opener = None
            elif opener is None and after and not after.isspace():
                opener = r.start()
        return paired
    # (a highlight or a deletion is a run of its own: a star inside it pairs with none outside it)
    marks = [(f.start(), f.end()) for f in LINE_MARK_RE.finditer(line)] if "==" in line or "~~" in line else []
    openers: dict[int, list[int]] = {}
    paired: set[int] = set()
    for r in alike:
        inside = next((k for k, (a, b) in enumerate(marks) if a < r.start() < b), -1)
        waiting = openers.setdefault(inside, [])
        if _flanks(line, r.start(), r.end(), False) and waiting:
            paired |= {waiting.pop(), r.start()}
        elif _flanks(line, r.start(), r.end(), True):
            waiting.append(r.start())
    return paired


def _flanks(line: str, start: int, end: int, left: bool) -> bool:
    """Whether the delimiter run ``line[start:end]`` is left-flanking (may open) or right-flanking (may
    close), as CommonMark says."""
    before, after = line[start - 1:start] or " ", line[end:end + 1] or " "
    if left:
        return not after.isspace() and (not _punct(after) or before.isspace() or _punct(before))
    return not before.isspace() and (not _punct(before) or after.isspace() or _punct(after))


def _punct(char: str) -> bool:
    return not char.isspace() and not char.isalnum()


MATH_SPAN_RE = re.compile(r"(?<![\\$])\$\$?[^$\n]+?\$\$?")


def _outside_math(text: str, fn: "Callable[[str], str]") -> str:
    if "$" not in text:
        return fn(text)
    out, at = [], 0
    for found in MATH_SPAN_RE.finditer(text):
        out.append(fn(text[at:found.start()]))
        out.append(found.group())
        at = found.end()
    out.append(fn(text[at:]))
    return "".join(out)
