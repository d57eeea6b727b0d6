"""HTML in notes, read into the model: what GitHub renders is content; what is unsafe stays refused."""

from __future__ import annotations

import pytest

from publisher.core import model as m
from publisher.read.reader import read_chapter
from publisher.core.text import plain_text, walk_blocks, walk_inlines


def chapter(src: str) -> tuple[m.Chapter, list]:
    return read_chapter(src.encode("utf-8"), "f.md", "f")


def inline_kinds(ch: m.Chapter) -> list[str]:
    return [type(n).__name__ for b in walk_blocks(ch.blocks) if isinstance(b, m.Para) for n in walk_inlines(b.children)]


def test_inline_tags_become_nodes() -> None:
    ch, diags = chapter("# A\n\nSay <b>bold</b>, <i>it</i>, <code>x<y</code>, <kbd>Ctrl</kbd>, H<sub>2</sub>O, "
                        "<s>old</s>, <u>u</u><br>next <a href=\"https://e.org\">link</a>\n")
    assert diags == []
    para = ch.blocks[0]
    assert isinstance(para, m.Para)
    kinds = [type(n).__name__ for n in para.children]
    assert kinds.count("Strong") == 1 and "Emph" in kinds and "Code" in kinds and "LineBreak" in kinds
    assert [n.style for n in walk_inlines(para.children) if isinstance(n, m.Styled)] == ["kbd", "sub", "u"]
    assert [n.text for n in walk_inlines(para.children) if isinstance(n, m.Code)] == ["x<y"]
    assert [n.url for n in walk_inlines(para.children) if isinstance(n, m.Link)] == ["https://e.org"]
    assert plain_text(para.children) == "Say bold, it, x<y, Ctrl, H2O, old, u next link"


def test_details_holds_the_markdown_between_its_tags() -> None:
    src = ("# A\n\n## Task 1: Which gateway?\n\n<details>\n<summary><b>Answer</b></summary>\n\n"
           "A **NAT gateway**.\n\n```bash\naws ec2 describe-nat-gateways\n```\n\n</details>\n\nAfter.\n")
    ch, diags = chapter(src)
    assert diags == []
    section = ch.blocks[0]
    assert isinstance(section, m.Section)
    details, after = section.blocks
    assert isinstance(details, m.Details) and details.loc.line == 5
    assert plain_text(details.summary) == "Answer"
    assert [type(b).__name__ for b in details.blocks] == ["Para", "CodeBlock"]
    assert details.blocks[1].loc.line == 10 and plain_text(after.children) == "After."


def test_details_on_one_block_and_indented() -> None:
    ch, _ = chapter("# A\n\n<details>\n  <summary>Answer</summary>\n  No. S3 is <i>object</i> storage.\n</details>\n")
    (details,) = ch.blocks
    assert isinstance(details, m.Details)
    assert plain_text(details.summary) == "Answer"
    assert plain_text(details.blocks[0].children) == "No. S3 is object storage."


def test_images_tables_lists_and_centered_blocks() -> None:
    src = ('# A\n\n<p align="center">\n  <img src="../images/x.png" alt="Overview" width="320" height="200px">\n</p>\n\n'
           "<table><tr><th>Key</th><th>Value</th></tr><tr><td>a</td><td><b>1</b></td></tr></table>\n\n"
           "<ul><li>one</li><li>two <em>2</em></li></ul>\n\n<center>centred text</center>\n\n<pre><code class=\"language-python\">x = 1\n</code></pre>\n")
    ch, diags = chapter(src)
    assert diags == []
    kinds = [type(b).__name__ for b in ch.blocks]
    assert kinds == ["Para", "Table", "BulletList", "Para", "CodeBlock"]
    img = ch.blocks[0].children[0]
    assert isinstance(img, m.Image) and (img.url, img.alt, img.width, img.height) == ("../images/x.png", "Overview", 320, 200)
    table = ch.blocks[1]
    assert [plain_text(c.children) for c in table.head] == ["Key", "Value"]
    assert [[plain_text(c.children) for c in r] for r in table.rows] == [["a", "1"]]
    assert [plain_text(i.blocks[0].children) for i in ch.blocks[2].items] == ["one", "two 2"]
    assert ch.blocks[4].lang == "python" and ch.blocks[4].code == "x = 1"


def test_html_headings_are_headings() -> None:
    ch, _ = chapter('<h1 align="center">My Notes</h1>\n\ntext\n\n<h2>Part</h2>\n\nmore\n')
    assert plain_text(ch.title) == "My Notes"
    assert [(type(b).__name__, getattr(b, "level", 0)) for b in ch.blocks] == [("Para", 0), ("Section", 2)]


@pytest.mark.parametrize(("src", "code"), [
    ("# A\n\ntext <marquee>moving</marquee> on\n", "P128"),
    ("# A\n\n<blink>old</blink>\n", "P128"),
])
def test_unknown_harmless_tags_keep_their_text_with_a_warning(src: str, code: str) -> None:
    ch, diags = chapter(src)
    assert [(d.code, d.severity) for d in diags] == [(code, "warning")]
    text = " ".join(plain_text(b.children) for b in walk_blocks(ch.blocks) if isinstance(b, m.Para))
    assert "moving" in text or "old" in text


@pytest.mark.parametrize("src", [
    "# A\n\n<script>alert('x')</script>\n",
    "# A\n\ntext <span onclick=\"x()\">hi</span>\n",
    '# A\n\n<img src="javascript:alert(1)">\n',
    '# A\n\n<div onmouseover="x()">\n\nblock\n\n</div>\n',
    "# A\n\n<iframe src=\"https://e.org\"></iframe>\n",
])
def test_unsafe_html_stays_raw_for_validation_to_refuse(src: str) -> None:
    ch, _ = chapter(src)
    raws = [b for b in walk_blocks(ch.blocks) if isinstance(b, m.RawBlock)]
    raws += [n for b in walk_blocks(ch.blocks) if isinstance(b, m.Para) for n in walk_inlines(b.children) if isinstance(n, m.RawInline)]
    assert raws, ch.blocks
    from publisher.check.validate import html_problems

    assert all(html_problems(getattr(r, "html")) for r in raws)


def test_comments_and_pins_in_html() -> None:
    ch, diags = chapter("# A\n\n<!-- a note -->\n\n- **T** - body <!-- id: pinned -->\n")
    assert diags == []
    assert [n.id for b in walk_blocks(ch.blocks) if isinstance(b, m.Para) for n in walk_inlines(b.children) if isinstance(n, m.Pin)] == ["pinned"]


def test_a_summary_outside_details_keeps_what_it_holds() -> None:
    """Found by P142 on the fuzz corpus (issue 21): a lone <summary> holding a list lost the list."""
    ch, _ = chapter("# A\n\nText<summary>Which ones?\n\n  * first\n  * second</summary>\n\nAfter.\n")
    shown = " ".join(plain_text(b.children) for b in walk_blocks(ch.blocks) if isinstance(b, m.Para))
    assert "Which ones?" in shown and "first" in shown and "second" in shown and "After." in shown
    assert any(isinstance(b, m.BulletList) for b in walk_blocks(ch.blocks))
