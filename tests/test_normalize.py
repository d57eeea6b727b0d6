"""Normalization: the author's ``Term - text`` idioms become definitions; the rest is left alone."""

from __future__ import annotations

import pytest

from publisher.core import model as m
from publisher.cards.normalize import PASSES, normalize, split_term
from publisher.read.reader import read_chapter
from publisher.core.text import plain_text

META = m.Meta(title="T", short_name="T", slug="t")


def norm(src: str) -> tuple[m.Block, ...]:
    ch, _ = read_chapter(src.encode("utf-8"), "f.md", "f")
    return normalize(m.Book(META, (ch,))).chapters[0].blocks


def shape(blocks: tuple[m.Block, ...]) -> list:
    """A compact, comparable picture of the blocks: kinds, terms and texts."""
    out: list = []
    for b in blocks:
        match b:
            case m.Para(children=c):
                out.append(("p", plain_text(c)))
            case m.DefList(items=items):
                out.append(("dl", [(plain_text(d.term), shape(d.body)) for d in items]))
            case m.BulletList(items=items, ordered=o):
                out.append(("ol" if o else "ul", [shape(i.blocks) for i in items]))
            case m.Alert(kind=k, blocks=bs):
                out.append(("alert", k, shape(bs)))
            case m.Quote(blocks=bs):
                out.append(("quote", shape(bs)))
            case m.Section(title=t, blocks=bs):
                out.append(("section", plain_text(t), shape(bs)))
            case _:
                out.append((type(b).__name__,))
    return out


@pytest.mark.parametrize(
    ("item", "term", "body"),
    [
        ("**Term** - text", "Term", "text"),
        ("**Term**: text", "Term", "text"),
        ("**Term** \u2013 text", "Term", "text"),
        ("**Term** \u2014 text", "Term", "text"),
        ("Plain term - its text", "Plain term", "its text"),
        ("`GetObject` - reads an object", "GetObject", "reads an object"),
        ("*Emphasised term* - text", "Emphasised term", "text"),
        ("Six words is the very limit - ok", "Six words is the very limit", "ok"),
        ("**Multipart upload** - API to upload - in parts", "Multipart upload", "API to upload - in parts"),
        ("**Read Replica** - a copy that serves reads", "Read Replica", "a copy that serves reads"),  # (no step)
        ("**Man in the middle** - an attack", "Man in the middle", "an attack"),
    ],
)
def test_definition_idioms_in_a_bullet(item: str, term: str, body: str) -> None:
    assert shape(norm(f"# A\n\n- {item}\n")) == [("dl", [(term, [("p", body)])])]


@pytest.mark.parametrize(
    ("item", "term", "body"),
    [
        ("**Term** - text", "Term", "text"),
        ("**Term**: text", "Term", "text"),
        ("Short - a paragraph", "Short", "a paragraph"),
    ],
)
def test_definition_idioms_in_a_paragraph(item: str, term: str, body: str) -> None:
    assert shape(norm(f"# A\n\n{item}\n")) == [("dl", [(term, [("p", body)])])]


@pytest.mark.parametrize(
    "item",
    [
        "This is a long sentence with many words - and a dash",  # more than six words before the dash
        "a sentence that goes on and on - with a dash later",
        "==Marked== - text",  # cloze text, not a definition
        "**Term** - with ==marked== text",
        "Term - with ==marked== text",
        "use queries - not scans",  # reads as an instruction
        "If large table - use queries",
        "When in doubt - ask",
        "The end. - really",
        "Ends with a colon: - x",
        "**Bold** and more words here",  # no separator
        "hyphenated-word without spaces",
        "- leading dash",
        "a [link](https://x.org) - text",  # a link is not a term
        "**Term**",
        "3-step-process - initiate, upload, complete",  # the count of the steps listed, not a term
        "Two types - standard and FIFO",
        "**Cost Effective** - use long polling and batches",  # a quality: advice on getting it
        "Highly available - spread over three zones",
        "**Inspect the Container**: run docker inspect",  # a step: a verb and its object (a DevOps repo's answers)
        "Insert a name - for the load balancer",
        "Go to EC2 service - > Click on Security Groups",  # a move
        "**Test in Jenkins**: add a stage",
        "**참고자료** : [링크](https://example.com)",  # a label in Korean (a Korean repo's references line)
        "**Referências**: o livro",
        "**120 minutes** - implementation",  # a time, in words
        "120분 - 구현",
    ],
)
def test_not_definitions(item: str) -> None:
    blocks = norm(f"# A\n\n- {item}\n\n{item}\n")
    assert [b[0] for b in shape(blocks)] != ["dl"] and not any(isinstance(b, m.DefList) for b in blocks), shape(blocks)


def test_ordered_lists_are_left_alone() -> None:
    assert shape(norm("# A\n\n1. **Step** - do it\n2. Other - x\n")) == [
        ("ol", [[("p", "Step - do it")], [("p", "Other - x")]]),
    ]


def test_alert_paragraphs_are_left_alone() -> None:
    assert shape(norm("# A\n\n> [!NOTE]\n> **Term** - text\n")) == [("alert", "note", [("p", "Term - text")])]


def test_quote_paragraphs_become_definitions() -> None:
    assert shape(norm("# A\n\n> **Term** - text\n")) == [("quote", [("dl", [("Term", [("p", "text")])])])]


def test_mixed_list_splits_into_runs_in_order() -> None:
    src = "# A\n\n- **One** - 1\n- **Two**: 2\n- just an item\n- another item\n- Three - 3\n- last item\n"
    assert shape(norm(src)) == [
        ("dl", [("One", [("p", "1")]), ("Two", [("p", "2")])]),
        ("ul", [[("p", "just an item")], [("p", "another item")]]),
        ("dl", [("Three", [("p", "3")])]),
        ("ul", [[("p", "last item")]]),
    ]


def test_nested_bullets_become_the_body() -> None:
    src = "# A\n\n- **Term** - text\n    - nested one\n    - nested two\n- **Bare**\n    - sub\n"
    assert shape(norm(src)) == [
        ("dl", [("Term", [("p", "text"), ("ul", [[("p", "nested one")], [("p", "nested two")]])])]),
        ("ul", [[("p", "Bare"), ("ul", [[("p", "sub")]])]]),
    ]


def test_nested_definitions_inside_a_definition() -> None:
    src = "# A\n\n- **Outer** - text\n    - **Inner** - deeper\n"
    assert shape(norm(src)) == [("dl", [("Outer", [("p", "text"), ("dl", [("Inner", [("p", "deeper")])])])])]


def test_definitions_in_nested_lists_of_plain_items() -> None:
    src = "# A\n\n- plain item\n    - **Inner** - deeper\n"
    assert shape(norm(src)) == [("ul", [[("p", "plain item"), ("dl", [("Inner", [("p", "deeper")])])]])]


def test_a_definitions_own_text_is_never_a_new_term() -> None:
    """The text after the separator is the body, even when it looks like ``Term - text`` itself."""
    src = "# A\n\n- **Term** - Sub - text\n\n**Para** - Inner - more\n"
    assert shape(norm(src)) == [("dl", [("Term", [("p", "Sub - text")]), ("Para", [("p", "Inner - more")])])]


def test_consecutive_definition_paragraphs_share_a_list() -> None:
    assert shape(norm("# A\n\n**One** - 1\n\n**Two** - 2\n\nplain text\n\n**Three** - 3\n")) == [
        ("dl", [("One", [("p", "1")]), ("Two", [("p", "2")])]),
        ("p", "plain text"),
        ("dl", [("Three", [("p", "3")])]),
    ]


def test_term_lines_without_bullets_are_a_definition_each() -> None:
    """Real notes list terms one per line with no bullet (one paragraph to Markdown): each line is a pair,
    not one definition that swallows the lines under it; a paragraph with a line of prose stays one."""
    from publisher.cards.derive import derive_cards

    blocks = norm("# A\n\nEC2 - virtual servers in the cloud\nS3 - object storage\n**IAM** - who may do what\n")
    assert shape(blocks) == [("dl", [("EC2", [("p", "virtual servers in the cloud")]), ("S3", [("p", "object storage")]),
                                     ("IAM", [("p", "who may do what")])])]
    assert [d.loc.line for d in blocks[0].items] == [3, 4, 5]  # each at its own line
    ch, _ = read_chapter(b"# A\n\nEC2 - virtual servers\nS3 - object storage\n", "f.md", "f")
    cards = derive_cards(normalize(m.Book(META, (ch,))))
    assert [(plain_text(c.front[0].children), plain_text(c.back[0].children)) for c in cards] == [
        ("EC2", "virtual servers"), ("S3", "object storage")]
    assert len(norm("# A\n\nStandard RI - a discount<br>\nSpot - spare capacity<br>\nDedicated - own host\n")[0].items) == 3
    assert shape(norm("# A\n\nEC2 - virtual servers\nthat run in a region\n")) == [
        ("dl", [("EC2", [("p", "virtual servers that run in a region")])])]


def test_sections_are_normalized_inside() -> None:
    assert shape(norm("# A\n\n## S\n\n- **T** - x\n")) == [("section", "S", [("dl", [("T", [("p", "x")])])])]


def test_definition_keeps_the_items_line() -> None:
    blocks = norm("# A\n\ntext\n\n- **Term** - body\n- **Other** - more\n")
    dl = blocks[1]
    assert isinstance(dl, m.DefList)
    assert [d.loc.line for d in dl.items] == [5, 6] and dl.loc.line == 5


def test_whitespace_is_squashed_and_trimmed() -> None:
    blocks = norm("# A\n\ntext   with\u00a0\u00a0gaps\t\there\n")
    assert plain_text(blocks[0].children) == "text with gaps here"


def test_split_term_on_model_nodes() -> None:
    strong = m.Strong((m.Text("Term"),))
    assert split_term((strong, m.Text(" - rest"))) == ((strong,), (m.Text("rest"),))
    assert split_term((m.Text("Term - rest"),)) == ((m.Text("Term"),), (m.Text("rest"),))
    assert split_term((m.Text("Term -"),)) == ((m.Text("Term"),), ())
    assert split_term((m.Text("no separator"),)) is None
    assert split_term((m.Mark((m.Text("x"),)), m.Text(" - y"))) is None
    assert split_term(()) is None


def test_normalize_is_idempotent_and_pure() -> None:
    ch, _ = read_chapter(b"# A\n\n- **T** - x\n- plain  item\n\nS - y\n", "f.md", "f")
    book = m.Book(META, (ch,))
    once = normalize(book)
    assert normalize(once) == once
    assert book.chapters[0] is ch  # the input is untouched
    assert [p.__name__ for p in PASSES] == ["unicode_nfc", "inline_tags", "whitespace", "idioms_to_definitions",
                                            "resolve_paths", "wiki_links", "sounds", "local_copies"]


def _tagged(src: str) -> tuple[m.Chapter, list[tuple[str, tuple[str, ...]]]]:
    ch, _ = read_chapter(src.encode(), "f.md", "f")
    ch = normalize(m.Book(META, (ch,))).chapters[0]
    from publisher.core.text import block_inlines, walk_blocks, walk_inlines

    runs = []
    for b in walk_blocks(ch.blocks):
        for run in block_inlines(b):
            tags = tuple(n.name for n in walk_inlines(run) if isinstance(n, m.Tag))
            runs.append((plain_text(run).strip(), tags))
    return ch, runs


def test_a_hash_glued_to_the_text_before_it_is_no_tag() -> None:
    """Obsidian reads a tag only after a space, a line start or '(': "[l](#x)#word" and "**b**#word" are text."""
    ch, runs = _tagged("# T\n\n- see [l](#x)#word and **b**#bold and _e_#emph\n- real (#paren) and #tagged\n")
    assert ("see l#word and b#bold and e#emph", ()) in runs
    assert ("real () and", ("paren", "tagged")) in [(t.strip(), tags) for t, tags in runs]


def test_an_escaped_hash_and_one_glued_before_an_emphasis_are_no_tags() -> None:
    """make fuzz (issue 21): '\\#word' was a tag, and vanished, whenever the file held a real tag (mistune
    merges the escape's '#' with the text after it); '%<b>#m' is glued to the '%' (no tag), while a tag at an
    emphasis's start after a space stays one, as Obsidian reads '**#tag**'."""
    ch, runs = _tagged("# T\n\n- use \\#pragma once #real\n- *x* \\#h and %<b>#glued</b> and a **#bold** b\n")
    assert ("use #pragma once", ("real",)) in runs
    assert ("x #h and %#glued and a  b", ("bold",)) in runs


def test_inline_tags_are_tags_only_where_obsidian_reads_them() -> None:
    ch, runs = _tagged(
        "#course/bio101 #exam\n\n# T\n\n## Heading #not-a-tag\n\n"
        "- mitochondria #energy/atp\n- C# and issue #12 and http://x.org/#frag and `#code`\n- (#paren) tag\n")
    assert ch.tags == ("course::bio101", "exam")  # a paragraph of tags alone at the top: the whole file
    assert ("Heading #not-a-tag", ()) in runs  # a heading keeps its text
    assert ("mitochondria", ("energy::atp",)) in runs  # not printed, and the space before it trimmed
    assert ("C# and issue #12 and http://x.org/#frag and #code", ()) in runs
    assert ("tag", ("paren",)) in [(t.strip("() "), tags) for t, tags in runs]


def test_terms_in_every_script_cjk_characters_count_as_words(tmp_path) -> None:
    """Issue 21: a ` - ` inside a Chinese sentence is no definition; a short CJK term still is."""
    from publisher.cards.derive import derive_cards
    from publisher.cards.normalize import is_term

    assert not is_term("如果 h 的取值为 nums.length") and is_term("二叉树") and is_term("ハッシュ表")
    sentences = [f"- 如果 h 的取值为 nums.length - {n}，那么循环会在第 {n} 次迭代时结束并返回结果" for n in range(20)]
    terms = [f"- {t} - {d}" for t, d in [("二叉树", "每个节点最多有两个子节点的树"), ("哈希表", "按键存取值的结构"),
                                          ("栈", "后进先出的线性表"), ("队列", "先进先出的线性表"), ("堆", "一种完全二叉树"),
                                          ("图", "由顶点和边组成"), ("链表", "由节点串起来的线性表"), ("数组", "连续存放的元素"),
                                          ("트리", "계층 구조의 자료형"), ("キュー", "先入れ先出しのデータ構造")]]
    book = normalize(m.Book(META, (read_chapter(("# 数据结构\n\n" + "\n".join(sentences + terms) + "\n").encode(),
                                                         "a.md", "a")[0],)))
    cards = derive_cards(book)
    assert sorted(plain_text(c.front[0].children) for c in cards if c.kind == "definition") == sorted(
        t for t, _ in [line[2:].split(" - ", 1) for line in terms])
    assert len(cards) == 10  # the 20 sentences make none


def test_full_width_colons_and_question_marks_make_cards_as_ascii_ones_do() -> None:
    """Chinese notes write "**版本**：…" and "### 什么是进程？": a rubric read of a Chinese notes repo found 57 bold
    terms with the full-width colon making no card beside 7 with ':' that did, siblings in one list."""
    from publisher.cards.derive import derive_cards

    src = ("# 网络层\n\n## 首部\n\n- **版本**：有 4（IPv4）和 6（IPv6）两个值\n- **down**：对信号量执行 -1 操作\n"
           "- **生存时间：**\n\n### 什么是进程？\n\n进程是资源分配的基本单位。\n")
    book = normalize(m.Book(META, (read_chapter(src.encode(), "a.md", "a")[0],)))
    cards = derive_cards(book)
    assert sorted((c.kind, plain_text(c.front[0].children)) for c in cards) == [
        ("definition", "down"), ("definition", "版本"), ("question", "什么是进程？")]


def test_a_numbered_title_with_a_dash_is_no_definition() -> None:
    """A LeetCode-style notes file titles each problem "167\\. Two Sum II - Input array is sorted (Easy)" (the dot
    escaped: no list): a numbered title, not the term "167. Two Sum II" defined as the rest (a junk card)."""
    from publisher.cards.derive import derive_cards
    from publisher.cards.normalize import is_term

    assert not is_term("167. Two Sum II") and not is_term("3) Step three") and is_term("Two Sum II")
    src = "# 双指针\n\n167\\. Two Sum II - Input array is sorted (Easy)\n\nS3 - object storage\n"
    book = normalize(m.Book(META, (read_chapter(src.encode(), "a.md", "a")[0],)))
    assert [plain_text(c.front[0].children) for c in derive_cards(book) if c.kind == "definition"] == ["S3"]


def test_a_wiki_link_inside_bold_is_a_link() -> None:
    ch, _ = read_chapter("# K\n\nDie Anzahl der **Nicht-[[Pivotelement|Pivot]]spalten** zählt.\n".encode(), "k.md", "k")
    book = normalize(m.Book(META, (ch,)))
    (para,) = book.chapters[0].blocks
    strong = next(n for n in para.children if isinstance(n, m.Strong))
    assert any(isinstance(n, m.Link) and plain_text(n.children) == "Pivot" for n in strong.children)
    assert "[[" not in plain_text(para.children)
