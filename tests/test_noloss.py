"""P142, text lost: the words of a chapter's source against the words the EPUB (or the model) shows."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from publisher import build as b
from publisher.check import noloss

from test_build import BOOK, write

FIXTURES = Path(__file__).resolve().parent / "fixtures"
REAL = Path(__file__).resolve().parents[1] / "content"


def test_what_the_outputs_leave_out_on_purpose_is_not_counted() -> None:
    src = ("---\ntitle: Front\ntags: [secret]\n---\n# Title #tagged\n\n<!-- card: no --> %%hidden%% kept\n\n"
           "- [link words](https://example.com/path \"tip\") and [ref words][r] and [[Page|shown label]] ![[embed.png]]\n"
           "1. ![alt words](img/a.png) [sound:clip.mp3] note[^n]\n\n```python\ncode_here()\n```\n\n"
           "> [!tip]- Callout title\n> body &amp; more\n\n!!! note \"Admonished\"\n    indented\n\n"
           "[r]: https://example.org/ref\n[^n]: the note\n")
    said = noloss.words(noloss.source_text(src))
    assert said == ["Title", "kept", "link", "words", "and", "ref", "words", "and", "shown", "label", "alt", "words",
                    "note", "code", "here", "Callout", "title", "body", "more", "Admonished", "indented", "the", "note"]


def test_missing_words_are_found_at_their_lines_and_extra_ones_ignored() -> None:
    src = "# T\n\nalpha beta\n\ngamma beta\n"
    assert noloss.missing(src, "T alpha beta gamma beta and a quiz that repeats alpha") == []
    assert noloss.missing(src, "T alpha beta gamma") == [("beta", 5)]  # the later one is taken as lost
    line, what = noloss.report(noloss.missing(src, "T"))
    assert line == 3 and what == "'alpha beta' is not in the EPUB (and 2 more words in this file)"


def _break_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader broken on purpose, quietly: bold words are dropped (nothing else notices)."""
    from publisher.read import inlines

    real = inlines.inline
    monkeypatch.setattr(inlines, "inline", lambda cx, tok, where: None if tok["type"] == "strong" else real(cx, tok, where))


def test_a_reader_that_drops_text_is_caught_in_the_epub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    content = write(tmp_path / "content", BOOK)
    assert b.build(content, ["anki", "epub"], tmp_path / "out", jobs=1).ok
    epub = next((tmp_path / "out").glob("*.epub"))
    before = epub.read_bytes()
    (content / "02-beta.md").write_text(BOOK["02-beta.md"] + "\nOne more sentence.\n", "utf-8")  # (a change)
    _break_lists(monkeypatch)
    built = b.build(content, ["epub"], tmp_path / "out", jobs=1)
    lost = [(Path(d.file).name, d.line, d.severity) for d in built.diagnostics if d.code == "P142"]
    assert lost == [("01-alpha.md", 5, "warning"), ("02-beta.md", 9, "warning")], built.diagnostics
    assert built.ok and epub.read_bytes() != before  # a warning: the EPUB is written, and says what it lost
    # strict: an error; the previous EPUB stays as it was and the build fails
    (content / "02-beta.md").write_text(BOOK["02-beta.md"] + "\nAnother sentence.\n", "utf-8")
    current = epub.read_bytes()
    strict = b.build(content, ["epub"], tmp_path / "out", jobs=1, strict=True)
    assert not strict.ok and epub.read_bytes() == current
    assert any("P142" in o.error for o in strict.outcomes if o.name == "epub"), (strict.outcomes, strict.diagnostics)


def test_without_an_epub_the_model_is_compared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    content = write(tmp_path / "content", BOOK)
    _break_lists(monkeypatch)
    built = b.build(content, ["anki"], tmp_path / "out", jobs=1)
    assert [(Path(d.file).name, d.line) for d in built.diagnostics if d.code == "P142"] == [("01-alpha.md", 5), ("02-beta.md", 9)]
    assert "is not in the book" in next(d.message for d in built.diagnostics if d.code == "P142")
    strict = b.build(content, ["anki"], tmp_path / "out2", jobs=1, strict=True)
    assert not strict.ok and not (tmp_path / "out2").exists()  # an error: nothing written


@pytest.mark.parametrize("book", ["content", "everything", "notes", "vault"])
def test_quiet_on_the_real_book_and_every_fixture(tmp_path: Path, book: str) -> None:
    source = REAL if book == "content" else FIXTURES / book
    folder = shutil.copytree(source, tmp_path / book)
    for formats in (["epub"], ["anki"]):
        built = b.build(folder, formats, tmp_path / f"out-{formats[0]}", jobs=1)
        assert [d for d in built.diagnostics if d.code == "P142"] == []


def test_the_details_that_swallowed_a_list_keeps_every_word(tmp_path: Path) -> None:
    """Issue 21's first case: the summary's list and the answer after ``</summary>`` reach the EPUB (P142 was
    loud on it before the reader read it as GitHub shows it)."""
    content = write(tmp_path / "content", {**BOOK, "03-net.md": (
        "# Networking\n\n<details>\n<summary>For each of the following, name its OSI layer:\n\n"
        "  * MAC address\n  * IP address</summary><br><b>\n  * MAC address - Data link\n</b></details>\n")})
    built = b.build(content, ["epub"], tmp_path / "out", jobs=1)
    assert [d for d in built.diagnostics if d.code in ("P142", "P138")] == []


@pytest.mark.parametrize(("src", "shown"), [
    ("dp[i][j] and M[0][1], `a &gt; b` and `<file_name>`\n", "dp[i][j] and M[0][1], a &gt; b and <file_name>"),
    ("java.util.Collections#checked[List|Map]()\n", "java.util.Collections#checkedList|Map"),
    ("**U**niform **R**esource\n", "Uniform Resource"),
    ("请阅读[常见问题](faq.md)了解更多详情\n", "请阅读常见问题了解更多详情"),
    ("param1=1&param2=2 and a &amp; b\n", "param1=1&param2=2 and a & b"),
    ("1. item\n\n         ```js\n   code\n\n2. ```wc -l``` next\n", "item js code wc -l next"),
    ("[a link that runs\nover lines](https://example.com/x/y)\n", "a link that runs over lines"),
])
def test_the_source_is_read_as_the_outputs_show_it(src: str, shown: str) -> None:
    """Shapes from real notes that once counted as lost: brackets in code and in prose, links glued to words,
    bold letters inside a word, CJK runs split by a link, an entity without its ';', an unclosed fence in a
    list item, a one-line ```code```, a link over two lines."""
    assert noloss.missing(src, shown) == []


def test_the_qa_fixture_reaches_every_output_whole(tmp_path: Path) -> None:
    """tests/fixtures/qa: issue 21's shapes in notes of my own (details with a list, code and a nested one,
    entities, a loose table, list-item headings with a contents list, CJK sentences holding ' - ').
    Every output is read back: no text lost, one card per answered question, none from the sentences."""
    import sqlite3
    import subprocess
    import zipfile

    folder = shutil.copytree(FIXTURES / "qa", tmp_path / "qa")
    built = b.build(folder, ["anki", "pdf", "epub"], tmp_path / "out", jobs=1)
    assert built.ok
    codes = [d.code for d in built.diagnostics]
    assert "P142" not in codes and "P114" not in codes and codes.count("P138") == 1  # the VLAN question, unanswered
    with zipfile.ZipFile(next((tmp_path / "out").glob("*.apkg"))) as z, \
            __import__("tempfile").TemporaryDirectory() as tmp:
        z.extract("collection.anki2", tmp)
        with sqlite3.connect(Path(tmp) / "collection.anki2") as db:
            fronts = [row[0].split("\x1f")[0] for row in db.execute("select flds from notes")]
    asked = sorted(f.split("</p>")[0].split("<p>")[-1] for f in fronts if "<p>" in f)
    assert asked == sorted(["For each of the following, name its OSI layer:", "What does the following shell line print?",
                            "What is a hub?", "And a switch?", "What is a closure", "What does hoisting do?",
                            "二叉树", "哈希表"]), asked
    shell = next(f for f in fronts if "shell line" in f)
    assert "echo" in shell  # the summary's code is on the front
    with zipfile.ZipFile(next((tmp_path / "out").glob("*.epub"))) as z:
        epub = " ".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xhtml"))
    sheet = subprocess.run(["pdftotext", str(next((tmp_path / "out").glob("*.pdf"))), "-"], capture_output=True,
                           text=True, check=True).stdout
    for words in ("MAC address", "echo", "repeats every frame", "which port each MAC", "HTTPS", "443",
                  "the variables of the scope", "如果 h 的取值为"):
        assert words in epub and words.replace(" ", "") in sheet.replace(" ", "").replace("\n", ""), words
    assert "&amp;amp;" not in epub and "frame to every port &amp; never" in epub  # decoded once


def test_the_lost_occurrence_is_named_not_the_last() -> None:
    """Issue 21: a word lost on line 1 and kept on line 3 is blamed on line 1 (the words are aligned in order;
    before, the later occurrence was taken to be the lost one)."""
    from publisher.check.noloss import missing

    assert missing("one two\n\nthree two\n", "one three two") == [("two", 1)]
    assert missing("a b\n\nc\n", "a b c") == []


def test_a_tags_own_words_are_no_loss_but_the_text_around_it_is() -> None:
    """A malformed tag ("<K, V>", "<a,>") is text in a paragraph and a tag in an HTML block: its own words may
    be missing where the reader put the line in an HTML block. The words around it on its line still count."""
    from publisher.check.noloss import missing

    assert missing("Map<K, V> holds pairs\n", "Map holds pairs") == []
    assert missing("Map<K, V> holds pairs\n", "Map") == [("holds", 1), ("pairs", 1)]
    assert missing("a <b\nc> d\n\ne\n", "a d") == [("e", 4)]  # (to its '>', over a line; not over a blank one)
    assert missing("a <b\n\nlost\n", "a") == [("lost", 3)]


def test_a_formula_keeps_its_stars_and_a_wiki_link_its_page_name() -> None:
    """Found on real vaults: $a*(b*c)$ is no intraword emphasis; [[Entität]]stypen reads 'Entitätstypen'."""
    from publisher.check.noloss import missing

    assert missing("associative: $a*(b*c) = (a*b)*c$\n", "associative: a*(b*c) = (a*b)*c") == []
    assert missing("zwei [[Entität]]stypen und [[Seite|Seiten]]zahl\n", "zwei Entitätstypen und Seitenzahl") == []


@pytest.mark.parametrize("src, shown", [
    ("~~s~~~~s~~ and ÄÄ==x==\n", "ss and ÄÄx"),  # markup between letters: one word in the output
    ("`~~s~~À\n", "`~~s~~À"),  # an unclosed code span: the reader shows the marks, the source reading joined
    ("<!-- id: pin -->&para and [l](#x)&para[l](#x)\n", "¶ and l&paral"),  # a name without ';': either way
    ("[^1]: a note nothing refers to\nits second line\n", ""),  # P123 says so; no output shows it
    ("<div>\n```\n</summary> text\n</div>\n", "``` text"),  # a fence inside an HTML block is text
    ("\t```py\ncode\n<b>*&copy;\nv\n", "```py code *© v"),  # a tab-indented fence: an indented code line
    ("</b>\\<!-- id: pin --><summary>x\n", "<!-- id: pin -->x"),  # an escaped comment is text
    ("T==x==d*H and **U**niform\n", "Txd*H and Uniform"),  # a lone star between letters is no mark
    ("</summary>\\\\<b>x\n", "\\\\x"),  # in an HTML block a backslash escapes no tag, two neither
    ("a\\[^1]</b>b\n", "a[^1]b"),  # an escaped footnote mark leaves no backslash before the tag
    ("]t6X[^1]<b>t6X==x==![i](a.png)Øf\nq\n", "]t6X[^1]t6XxiØf q i"),  # a mark of no footnote is text, shown as written
    ("[^1]: note\n<details>z\nw[^1]\n", "z w[^1]"),  # a mark in an HTML block is text: the note is unused
    ("x==<details>Nested\n\n[l](javascript:x)<details>Nested\n", "xNested [l](javascript:x) Nested"),
    ("<details>x\n```py\ncode\n", "x code"),
    ("[sound:[l](javascript:x)\n", "[sound:l"),
    ("x[^1]\n\n[^1]: note\n[^1]: again\n", "x note"),
    ("[^1]: note\n UP x y [^1]\n", ""),
    ("[Race Condition]( https://example.com/a-b )\n", "Race Condition"),
    ("\\[1\\][l](javascript:x)\n", "[1]l"),  # an escaped bracket opens no link  # spaces inside a link's brackets  # a footnote marked only in its own definition: shown nowhere (P123)
    ("- item\n`a b\nc`~~s~~[l](javascript:x) d`\n", "item a b c s l d`"),  # a code span over a line break
    ("Term\n: x\n</summary>m<!aBú-<script>x</script>\n", "Term x m x"),  # '<!a...>' in HTML: a bogus comment
    ("Term\n: text\n```\ncode\n\n![i](../x.png) [l](#x)\n", "Term text code i l"),  # a fence in a definition
    # never closed ends with the definition's body  # a footnote defined again: P123, shown nowhere  # no sound: a link inside brackets
    ("</details>!\\[|<img\\b<script>x</script>\n", "![|x"),  # in an HTML block '<img\b<script>' is one tag
    ("<script>x</script>```py\ncode\n    ```py\n<details>\n<summary>Code?\n", "x```py code ```py Code?"),  # a fence's language, where a reader reads a fence
])
def test_words_split_or_joined_otherwise_are_no_loss(src: str, shown: str) -> None:
    """The fuzz corpus's last disagreements (issue 21): words the output joins or splits differently, an
    entity HTML knows without its ';', a footnote nothing refers to, a fence inside an HTML block."""
    assert noloss.missing(src, shown) == []


@pytest.mark.parametrize("src", [
    # code spans: a table's rows and a definition's terms end them; a list marker needs its space
    "`<b>\n`|c\n-|-", "b|c\n-|-\n`(#s\n`", "`\n&mp;`\n: ", "```&#0;\x85```\n: ", "`\n*`&#0;`",
    # comments: "<!-->" is whole; an inline one stays in its paragraph; in an HTML block it ends at "-->"
    "b<!-->a", "\U000da436<!--\n# b<!-->a", "e<!--e\n<-->", "e<!--e\n<! -->", "e<!--\n<!n-->",
    "<summary><!--e\n<!-->", "<details><!-->0-->", "\x03<!--\n|1-->", "\U00109719<!--e\n<b-->", "`<!--b\n|-->",
    "<summary>M<!--<!i-->Á",
    # HTML blocks: a tag over lines, a bogus comment, a processing instruction, a script opened oddly,
    # a number's reference without ';', a fenced block after the block's line, a line of U+0085
    "<details><k&\n>", "<details\n<>", "<summary><!e\n>", "<details><?r>", "ó<script->v", "<summary><script/->v",
    "</summary>ó<script></script>M<!\n>v", "<y>\n&#0", "```\n<details><r\U0010fec0>", "<summary\n\x85\n```\r\r\n[](x)",
    # not HTML at all: a name Markdown does not take for a tag's
    "<details*>", "<summary\x1a>", "<summary&#0",
    # footnotes and links' definitions: "[^]:" is a link's; "[^1]:m" a footnote's; a URL on the next line;
    # a mark inside a formula is TeX; a footnote's continuation indented one space
    "[^]:1", "[^1]:m\n[^1]", "[1]:\n𧛦", "[^1]:Ü\r$t\n[^1]$", "[^1]:\n -𧛦",
    # tags: after a quote's '>'; glued to the text before an emphasis; an escaped one; a deletion's group
    ">#m\n#f", "%<b>#m\n#f", "==x =#Þ==x", "==x ==#Þ==x", "#t*\n\\#h", "#flashcards==x==[^1]",
    "#flashcards==x==[^1]:", "[sound:[]", "==#y==", "<details>#x<summary><b>#f", "<e>\n#x<summary><b>#f",
    # fences: a '~~~' one's info may hold '`'; in a quote it ends with the quote; in a definition's body;
    # after an HTML block's comment on its line it is text; a displayed formula's line ends a code span
    "~~~`0", ">```\n&mp;", ">```\n\x94<!--n-->", "m\n: ```m", "<!---->```\n&mp;", "<!---->```\n#e",
    "W```\n$$x$$\n&copy;```", "`<!--p-->\n<!---->`", "`[](g)\n<!---->`", "\\`\n#t`", "&parat<n ->2",
    # what opens first wins: a formula or a highlight over a code span; an indented code block is code
    "$`$<s>`", "==```==&gt;```", "    &parat<!-->2", "m\n: \n```\n: #f",
    # a footnote's definition ends the paragraph above it; a comment not closed in its HTML block is text
    "`\n[^1]:e\n[^1]`", "[^1]\n<!----><!--\n[^1]:", "#_U", "[][](x)", "[t][](x)", "#[l]()<details>y",
    # HTML blocks: a processing instruction's, end tags HTML reads as bogus comments, a link's brackets (text
    # there); a word joined over an inline script; a fence in a list item ends with the item
    "<?x>", "<details></=b>", "<s>\n</\x1en>", "<details></\nb>", "<script></script>è</details>u[i]()",
    "ØØ&paraØ<script></script>Ø", "- ```n", "-\np\n\r\t<!--n-->", "-\n  ```\n#\n&copy;", "><s>\n<n)>",
    # a definition's body goes on over its lines, and after a blank line over indented ones
    "m\n: \n\n ```\n\n1.", "m\n: \n\n .\n```\n: <d>", "m\n: \n\n T\n```\n: <s>",
    # a star between letters pairs with none when its line's other stars pair among themselves; a footnote's
    # definition goes on after a blank line with a line indented one space (mistune's rule)
    "*â*<s>²*â", "[^1]:\n\n T",
    # stars pair as CommonMark pairs them (flanking, nearest opener); an ordered list interrupts a paragraph
    # only from 1; a table's pipe ends a code span; a tab-indented fence ends with its list item; an indented
    # line in a definition's body is its text; an unclosed comment in an HTML block is text to its '>'
    "Í*\x19Í*e==x==", "X*(X*[i]()<summary>e", "X*[i]()*[i]()<summary>N", "`\n2. `<b>`", "a|b\n-|-\n`[](j)|`",
    "1.\n\t```\n1.", "m\n: \n\n    <b>", "<script></script><!--<script>x</script>N", "<script></script><O\n<script>f",
    # a bullet holding a numbered list on its line (a real Korean interview repo): the number is the list's
    "- Steps\n  - 1) first thing\n  - 2) second thing\n", "- 7. first thing\n",
    # ordered lists from 2 break a list item's or a quote's paragraph, not one at the top; a reference's label
    # over a line break; a tag at a table cell's start; a tab-indented line closes no fence; indented code at
    # the top and after a heading or a displayed formula, none in a footnote's definition or after an empty
    # item's blank line; a definition needs a paragraph above it (not a list item's lazy lines); a rejoined
    # word takes the missing pieces after a source word ("isÝ": 'i' and 'sÝ')
    "`\n2.\n3. `<b>`", "$\n1. `\n3.\n`", ">`\n2. `", "- `\n2. `", "1. `\n3.\n`", "[^\r]:e", "#f||\n-|-\n|#o",
    "```\n\t```\n```\n[^1]:", "\n\t`\n#C`", "$$x$$\n\t`\n#x`", "[^1]:\n\n    g", "-\n\n    ```\n&mp;",
    "-\n#\n    ```\n&mp;", ": \n```\n\n```\n#E", "*\nm\n: \n```\n\n```\n#E", "<\n: \n\n    <b>",
    "Ý is\n![i]()~~s~~Ý", "[i]()õ==x==![i]()<script></script>õ",
    # an HTML block does not open on the line after a list marker alone (mistune reads it as the item's); a
    # footnote's definition in a quote; an escaped mark uses no footnote; a table's rows and an empty "$$$$"
    # hold no indented code; a star inside a highlight pairs with none outside it; a block's tag keeps the
    # words apart in an HTML block, not inline
    "1.\n<details>\n<!---->\n[^1]:", "- \n<summary\r```p", ">[^1]:e", "[^1]:e\n#\\[^1]", "$$$$\n    #x",
    "a|b\n-|-\n$$x$$\n    #x", "==u**y==z**", "=<details>#C<summary>S",
    # a declaration's HTML block; an HTML block's tag on a list item's lazy line is inline (mistune)
    "<!R>", "><!R>", "1. .\n<details\r```p", "- m\n<summary><!--\n# <b>", "1. i\n <details l\r```p",
    # an HTML block on a list item's first line or right after a list marker alone (mistune: the item's, of
    # its one line); '~~' pairs as mistune pairs a deletion's marks; '%%' inside a code span is no comment
    "-\n<summary><b:>", "-\n<summary>```<y>```", "2. <summary>\\<s>", "3.\n<summary><n<>", "9<b>~~s~~s~~9",
    "9~~<b>~~s~~9", "b~~<b>~~s~~9", "`%%s%%`", "`\n%%s%%`",
    # a comment, an instruction or a declaration after a list item is a block of its own; a tag's block
    # after one is the item's to the line that ends the item (mistune's list breaks); a tag alone after a
    # marker alone is the item's HTML block; a number from 2 or a marker alone after a paragraph's line is
    # text; a declaration or an instruction in a paragraph is raw HTML, their blocks go on over blank
    # lines; "<!-->" is a whole comment; an end tag closing nothing keeps words together; a tab-indented
    # line after a lazy line is the item's
    "-\n<!--p\n-->", "1.\n<!--\nS-->", "-\ne\n<!--t\n-->", "*\n<!--\r0-->", "3.\n<details><m\n->",
    "3.\n<details><a=\nU>", "3.\n<details><!\nN>", "3.\n<s>\n<!0>", "e\n3.\n<details\n```>",
    "?\n2.\n3.\n<details><!\n- a>", "<!A\n\n>", ".<!Q\n->", "a <?x y?> b", "<!-->\n```\n<r>", "<!--><n ->",
    "* <!-->p-->", "</summary>*r</summary>E*Õ", "1. X\n\n   .\ne\n\n\t<s>", "- [^1]\n\n\t[^1]:n",
    # footnotes and references defined in list items (any indent), a definition's body or after a '!'; a
    # heading ends a quote; a quote's lazy HTML line breaks as a list item's; a comment opened first holds
    # the backticks in it; a line of spaces is blank; '```' with a '`' after it opens no fence
    "1. [^1]:", "1. [1]:n", "m\n: [^1]\n[^1]:o", "![^1]\n[^1]:n", "<!-->[^1]\r[^1]:e", "><!-->[^1]\r[^1]:e",
    "$$[^1]: note\n# Title\n1. step\n    [^1]: note\n    ", ">i\n<summary\n3.\n[^1]:", ">|\n#\n\t<s>",
    "\x0e<!--`n-->`", " \n<s>\n```\n<s>", "==x\r```<r>==```",
    # a line of five spaces goes on with a paragraph (mistune); a marker indented four columns at the top is
    # a paragraph's text, in a list an item; a tag alone opens an HTML block after a heading, an HTML block
    # or indented code; an empty quote line has no lazy lines; a comment's block ends a list item above it;
    # a flashcard's '::#x' is a tag; an instruction opened first holds backticks; an HTML block in a
    # definition's body ends with it; an inline element's words before a block it holds are a paragraph's
    "`\n     \n`[](x)`", "`\n    - `[](j)`", "- a `x\n    - b` [](y)", "    -\n<y>\n```\n&mp;",
    "<!-->\n<y>\n```\n<y>", "# h\n<y>\n```\n<y>", ">\nn\n<summary\n```\n&parab", "    -\n<summary\n```\n&mp;",
    "-\n<!-->\n<summary\n```>", "::#f\n#flashcards", ")<?µ`?>`", "m\n: \n<summary>\n: n<!--<b>",
    "<summary>v<b>#s\n#f<summary>", "<details>\x07<b>#s\n#s<details>",
    # an entity's name apart without a space (a highlight stays one); a sound's name holds a link's brackets
    # only when a whole link follows, is no link's text, and is read in an HTML block; a comment keeps what
    # follows it on its line; a number from 2 after a list item's indented paragraph is the next item; a tag
    # over lines outside a block holds no tag after its '<'; scripts and instructions in quotes
    "==&paraî**y==**", "[sound:[](", "[sound:i]()4", "<script></script>[sound:!]()", "><script></script>[sound:[]()",
    "<!--\n-->```\n<d>", "1. X\n\n   `\n2. `", "<e\n<?d>",
    # a footnote defined again after a code block; tag blocks after an empty quote line; "- --" is a thematic
    # break; a marker indented four columns is no list's; a definition right after another's body; an HTML
    # block on a list item's line ends with the item; a table's row is no paragraph's line; a tag or a
    # comment over lines leaves no blank line in its block
    "[^1]\n[^1]:\n```\n```\n[^1]:n", ">\n<e>\n```\n<s>", "- --\n<details><!2\n>", "    -\n1\n<details><b\n<!-->",
    "m\n: \n-\n: \n\n    <d>", "3. <y>\n- [](g)", ">\n<details\n```>", "a||\n-|-\ne\n3. \n<summary\n- [](a)",
    "<details><!\n>\n```\n<s>", "<details><!--\no\n-->\n```\n<s>",
    # a comment inside code is code; a number from 2 after a heading's underline, a table or an item's lazy
    # line; a block tag over lines still opens its block; an HTML block cut short by a list item's end
    # leaves the lines after it to be read again
    "```\n<!--\n-->", "c\n--\n3. `\n3. `", "-\n`\n3. `", "b|c\n-|-\ne\n3. `\n3. `", "i\n<details\n<>\n```\n<d>",
    "-\n<details\n <>\n```\n<d>", "-\n<details\n#\n<details>n\n```\n<d>",
    # a script never closed hides the rest; a footnote goes on over a line of spaces then a tab; "<!q" opens
    # no block (a capital letter does); no HTML block opens in a fenced code block opened first; a long word
    # shown whole from missing pieces
    "<script>`m`", "<script>`<`X", "[^1]:\n \t<r", "<!q<b>1", "```\n<summary\n```\n[](x)",
    "1" * 63 + "==x==Ã",
    # a list's marker in an HTML block is text, after a tag over lines too; a heading's underline ends an
    # inline comment; a block found inside a tag's block is part of it
    "<details>æ<K\x8b\r>1.", "à<!--\n--\nA<!-->a", ";<!--\n--\ns<!-->î", "<script></script>\r<b>\n<!-->\n`&gtm`",
    "%%%%```\n```\n<d>", "%%%%```d",  # (Obsidian's comments go first: a fence opens after them)
    "<e>\n`<!--<!>", "<d>\n<<!--<!>",  # (an unclosed comment shown to its '>' holds no tag's stand-in)
    "    ```\n<details>\\<s>", "    ```\n<details <>",  # (a fence indented four columns opens no fenced block)
    "-\n\t\t```\n[](g)", "1. x\n\n        ```\n   x [](g)",  # (nor four columns past a list item's text)
    "m\n: -\n<details\n1.", "m\n:   -\n<details\n1.", "-\n: \n<details\n1.", "m\n: \n-\n<details\n1.",
    "-\nm\n: \n<details\n1.", "m\n: \n    -\n<details\n1.",  # (a definition's body is a document of its own: its list's lazy lines end alike)
    "**\n    ```\n```<y>```",  # (at the top a fence indented four columns is a paragraph's line: a span runs over it)
    "~~s~~\u0301", "**x**\u0301y",  # (a combining mark after markup joins the letter before it)
    "<details></details>Õ</details>ª**z**",  # (an end tag closing an element already closed is nothing)
    ";<!--|c\n-|-\ns<!-->î", "y<!--\n[i]()<!-->a|c\n-|-", "o<!--|c\n-|-\n|#x<!-->k",  # (a comment in a table ends in its cell)
    "%%\n<details>%%[](x)",  # (Obsidian's comments go first: one over lines opens no HTML block)
    "[^1]:\n [^1]:e\n[^1]", "[^1]:\n    [^1]:e\n[^1]",  # (a footnote defined again below: not the first's text)
    "- `|c\n-|-\n`<s>`", "-\n`|c\n-|-\n`<s>`",  # (a list item's line and a lazy line after it are no table)
    ">\n t\n<summary\n# >", "* X\n\n t\n<summary\n# >",  # (after an empty quote line, or a blank line less
    # indented than the item's text, a line is no quote's, no item's)
    "&para" + "9" * 61,  # (a long word shown joined from a missing word and one of the source's own)
    "# <!--\nx<!-->k", "y<!--\n: j<!-->ú",  # (a comment opened in a heading, or a term, ends in it, or is none)
    "`<b>\n2.\n`|c\n-|-",  # ('2.' after a paragraph's line is no list item: the table after it is one)
    "-\n#\no<!--|c\n-|-\nx<!-->k",  # (nor is a table after a heading under a list item: the heading ends it)
    "z<!--\n-->1.",  # (what follows a comment over lines on its last line is no list's marker)
    "[1]:\xa0", "[^1]:\n \xa0Q",  # (U+00A0 is no white space to mistune: a URL, a footnote's lazy line)
    ">Q<!--\n>e-->", ">Q<!--E\n>-->", "> a <!-- b\n> c --> d\n> e", ">Q<!--\n>e\n-->",  # (a comment over a
    # quote's lines, or its lazy lines, is one)
    "`\n\\[1\\]\r#t`",  # ('\\[1\\]' alone on its line: escaped brackets, as in a line of words)
    ">X\n\n m\n: \r```\n\n<s>",  # (a quote ends at a blank line: the term after it is a definition's, whose
    # fence ends with its body)
    "-\n    <summary><H<>",  # (after an empty item, an HTML block indented up to three columns past the item's
    "1.\n      <div><!1> a",  # text is the item's, no code: "<H<>" a tag, "<!1>" a bogus comment)
    "-\n      <div> a <H<> b",  # (four columns past it: code)
    ">e\n<details>\n><!1>",  # (an HTML block on a quote's lazy line is the quote's: it goes on over the quote's
    ">e\n<div>\n>x\n>\n>w <!1>",  # lines to a blank one, '>' alone too)
    "- e\n<details>\n><!1>",  # (on a list item's lazy line it ends with the item: the '>' opens a quote)
    "b\n-\n    <s>\n[^1]:",  # (a '-' under a paragraph's line underlines a heading: no item, so code after it)
    "e\n <s>\n[](x)",  # (a tag alone on a paragraph's next line, indented or not, is no HTML block: a link after it)
    "1. What is X?\n\n    <div>\n    text <H<> here\n    </div>\n",  # (an item's text four columns in: a block tag
    "1. Q\n   more\n    <details><!x>",  # up to three columns past it opens an HTML block, after its paragraph's
    "1. a\n    <b>\n    x <H<>\n",  # line too; a tag alone there does not, nor six columns in under "- ": code)
    "- a\n\n      <div> code <H<>\n",
    "-\n>\n    <details\n[^1]:",  # (no item holds it: a quote's line, or a '-' under a paragraph's, comes first:
    "|\n-\n    <details\n[](a)",  # code, or the paragraph's line)
    ">Q\ne\n3. Q\n\n    <s>",  # (mistune ends a quote's lazy lines at any marker, a number from 2 too: a list)
    "-\n Q\n\n    <s>",  # (an empty marker's item holds the line after it, indented or not)
    "[1]:e\n-\nQ\n\n    <s>", "    <\n+\nQ\n\n    <d>",  # (a link definition's or code's line is no
    # paragraph's: an empty marker under it opens a list)
    "é<!A\n<e>",  # (a declaration ends at its '>', over a tag inside it)
    "\\~~~[l]()~~s~~ª", "a ~~~[l]()~~s~~b",  # (a tilde joins the letters around it: strike marks of runs that
    # differ in length are text to GitHub, one strike to mistune)
    "`\n    <details\n`<b>`", "a<!--a\n    <!-->",  # (a block's start four columns in goes on with a paragraph
    "- a `x\n    # h y`",  # at the top, and ends a list item's: a code span or a comment runs over it there)
    "-\n#\n`\n3. `[](a)`",  # (a heading ends the paragraph above a "3.": no item's paragraph, so no list)
    "> \t<details><l/s>", ">   <details><l/s>",  # (an HTML block in a quote, up to three columns past its '> ')
    "e\n-\n<s>\n```\n<s>", "m\n    -\n-\n    <s>\n[^1]:",  # (under a paragraph's line '-' underlines a
    # heading: the tag after it opens an HTML block (a fence in it is text); four columns in, code)
    "- `\n#a|a\n-|-\n`",  # (a table's head on a list item's lazy line: the reader's table, whose cell holds a #tag)
    "-\na\n    <details\n\U000eaa8d>",  # (an empty marker's item holds the line after it: a block tag two columns
    # past its text opens an HTML block)
    "a\n>a\n-\n    <details>[](a)",  # (an empty marker under a quote that broke a paragraph opens a list after
    # the quote, as after any quote; its item holds the HTML block)
    "a\n: <a>\n<a<>", "a\n: <a>\n```\n<a>",  # (a definition's body is a document: its first line may open an
    "a\n: `\n    #\n&#0;`",  # HTML block; four columns less, a heading's line ends a code span)
    "><a>\n- [](a)",  # (an HTML block in a quote ends with the quote: a list item after it)
    ">a\na<!--a\n>-->",  # (a comment opened on a quote's lazy line and closed on its next line is one)
    "a\n3. <s>\n[](a)",  # (a "3." on a paragraph's next line is text: the tag after it opens no item's HTML block)
    ">\na\n-\n    <details\n[^a]:",  # (after an empty quote's line a paragraph is no lazy one: '-' underlines it)
    "a\n    - a\n-\n    <details\n[](a)",  # (a marker four columns in is a paragraph's lazy line: '-' underlines it)
    "a\n01. a\n\n    <a>",  # ("01." is a list from 1: it breaks a paragraph, and its item holds the tag after it)
    "- 1. <a>\n<a&>",  # (an HTML block on a line of two markers is the inner item's: its lazy line too)
    "<!-->\n*\n<summary\n3.",  # (a comment's block is no paragraph: an empty marker after it opens a list, whose
    # HTML block ends at the next marker)
    "a\n: \n    <details>&#xa",  # (a definition's body whose first line is empty: its next line may open an HTML block)
    "a\n: \n\n    <details>\\<a>",  # (and so may a line of it after a blank one, four columns less: '\\' escapes no tag)
    "a\n: a\n    <details>&#0",  # (a block tag's line breaks the body's paragraph)
    "a\n: 1.",  # (a list may open a definition's body)
    "-\na\n-\n    <a>\n\\<a>",  # (under an empty item's held line, '-' is the next item, no underline: its HTML block)
    "a\n3.\n-\n    <a>\n[](g)",  # (under a "3." that opens no list, '-' underlines a heading: code, then a link)
    "a\n<a>\n-\n<a>\n\\<a>",  # (a tag's line after a heading's underline opens a block, though the line above
    # the underline is a tag's too)
    "- a\na\n    <details>\\<a>", "1. a\na\n    <details><a<>",  # (a block tag past an item's text, under its
    # paragraph's lazy line, opens the item's HTML block)
    ">a\na\n<details>\n><a<>",  # (an HTML block under a quote's lazy lines is the quote's: it goes on over its lines)
    "><a>\n  * a\n\n    #a", "><a>\n  * a\n\n    <a>",  # (a list marker indented up to three columns ends a
    # quote's HTML block: the item holds what follows)
    "    a\n: <s>\n[](a)",  # (indented code's line is no term: ': ' after it is a paragraph's text, and a link)
    "a\n--\n: \n\n    <details\n1.",  # (nor is a heading's underline: no definition's body, so code after it)
    # a malformed tag's own words, in a line the source reading and the reader put in different blocks
    "- a\na\n\n    <a>\n<a,>", "- a\na\n\n    <details><a\u00b1>", "1. 1.\n<a>\n<a\U000b334c>", ">\n<a>\n<a<>",
    "><a\n>a>", ">-\n<a>\n\\<a>", "$<a>$`$<a>`", "a\n: -\n    <details\n#\t[](a)",
    "&[ii]();",  # (a link's words after an '&' make no reference: "&ii;" is shown)
    "<a>\n: \n\n    <a>\n1.", "<details\n: \n\n    <a>\n1.",  # (a ': ' line in an HTML block is its text, no definition)
    "a\n: \n1. a\n\n    <a>\n```\n&#0",  # (a tag at a definition body's first column after a blank line opens
    # the body's HTML block, though the list above it reaches that column in the whole text)
    "#a\n<!--\n-->#a",  # (after a comment's close, a tag alone in its paragraph is a tag)
    "<a>\n1. a\n\n   a\n<details>\n1. <!r>", "<a>\n1. a\n\n   a\n<details>\n# <!r>",  # (a bogus comment's words)
    "<a>\na<a>#m\n\n#a",  # (a tag right after a tag: in an HTML block, a text of its own, a tag there)
    "<a>\n[sound:\n]",  # (a sound's name over a line in an HTML block: its text is one line there)
    "a|#```\n-|-\n&gt;```",  # (a table whose head cell opens with a tag: its delimiter row still is one)
    "`\n`&gt;`\n-\n: ",  # (under a heading's underline ": " is a paragraph's: no term, the heading's code span stands)
    "<script></script>\n-\n<a>\n1.",  # (after an HTML block's last line, "-" is an empty item holding the tag's line)
    "[^1]:a\n* a\na\n\n    <details\n[^1]",  # (a note's mark inside a tag's shape: HTML's text there, no use)
    "1. a\na\n\n    <details><!-a>",  # (a bogus comment opened by "<!" and anything)
    "a\n: -\n <details>\n1.",  # (": -" holds the tag's line: its HTML block ends with the item)
    "a|a\n-|-\n: \n\n    <a>\n1.",  # (": " under a table's head is the table's row, no definition)
    "[^1]:a\n<b>\n[^1]", "[^1]: a\n  b\n<b>\n[^1]",  # (a footnote's definition is no paragraph: a tag's line after
    # it opens an HTML block, the mark in it is text, and the note is shown nowhere)
    "[^1]: note\n    x`b`b<b>    ", "[^1]: note `code` y\n\nz `q` w",  # (a code span in a note nothing refers to, and
    # the note's text after it, are left out with the note)
    "<!-->\n: <a>\n1. a",  # (": " under an HTML block's last line has no term: a paragraph's, its tag inline)
    "a\n: \n-\n<a>\n1.",  # (a definition's empty first line: its body starts below, "-" there is an item)
])
def test_the_source_reading_agrees_with_the_reader(src: str) -> None:
    """`make fuzz`'s last disagreements (issue 21), each shortened to its shape: P142's reading of the source
    finds every word the reader and normalization keep (in the model, as a build without an EPUB compares)."""
    from publisher.cards.normalize import normalize
    from publisher.core.model import Book, Meta
    from publisher.read.reader import read_chapter

    chapter, diags = read_chapter(src.encode("utf-8"), "f.md", "f")
    assert not any(d.severity == "error" for d in diags)
    book = normalize(Book(Meta(title="F", short_name="F", slug="f"), (chapter,)))
    assert noloss.missing(src, noloss.model_text(book.chapters[0])) == []


def test_repeated_shapes_are_read_in_linear_time() -> None:
    """Many small tables, definitions or stars in a row made P142's reading quadratic (each table scanned the
    rest of the file, each definition walked up to the top, each star re-paired its line): 2,000 of them took
    3 to 7 s. 20,000 of each, read and checked in a child process with a time limit (linear: a few seconds;
    quadratic: many minutes, so a regression fails rather than slows the suite)."""
    from conftest import python_in_child

    code = ("from publisher.read.reader import read_chapter\n"
            "from publisher.cards.normalize import normalize\n"
            "from publisher.core.model import Book, Meta\n"
            "from publisher.check import noloss\n"
            "for piece in ['| a |\\n|---|\\n', 'x\\n: y\\n', '**a', 'a*', '`']:\n"
            "    src = 'x ' + piece * 20000 + ' y\\n'\n"
            "    ch, _ = read_chapter(src.encode(), 'f.md', 'f')\n"
            "    book = normalize(Book(Meta(title='F', short_name='F', slug='f'), (ch,)))\n"
            "    noloss.missing(src, noloss.model_text(book.chapters[0]))\n")
    done = python_in_child(code, timeout=120)
    assert done.returncode == 0, done.stderr


def test_rejoining_never_hides_a_lost_word() -> None:
    assert noloss.missing("alpha beta gamma\n", "alphagamma") == [("beta", 1)]
    assert noloss.missing("ab a b\n", "ab") == [("a", 1), ("b", 1)]  # "ab" is the source's own word
    assert noloss.missing("[^1]: used note\n\nx[^1]\n", "x") == [("used", 1), ("note", 1)]
