"""The shared HTML fragment renderer: every node type, sanitizing, XHTML."""

from __future__ import annotations

import re

import pytest
from lxml import etree

from publisher.markup import html
from publisher.core import model as m

L = m.Loc("f.md", 3)
T = (m.Text("x", L),)

# one instance of every inline type, and what its HTML must contain
INLINES: dict[type, tuple[m.Inline, str]] = {
    m.Text: (m.Text("a < b & c", L), "a &lt; b &amp; c"),
    m.Emph: (m.Emph(T, L), "<em>x</em>"),
    m.Strong: (m.Strong(T, L), "<strong>x</strong>"),
    m.Strike: (m.Strike(T, L), "<del>x</del>"),
    m.Mark: (m.Mark(T, L), "<mark>x</mark>"),
    m.Styled: (m.Styled("sub", T, L), "<sub>x</sub>"),
    m.Code: (m.Code("a<b>", L), "<code>a&lt;b&gt;</code>"),
    m.Math: (m.Math("a<b", False, L), '<span class="math">\\(a&lt;b\\)</span>'),
    m.Link: (m.Link("https://example.com/?a=1&b=2", T, "tip", L), '<a href="https://example.com/?a=1&amp;b=2" title="tip">x</a>'),
    m.Image: (m.Image("img.png", "alt text", "", L), '<img src="img.png" alt="alt text">'),
    m.FootnoteRef: (m.FootnoteRef("1", L), "<sup>"),
    m.LineBreak: (m.LineBreak(L), "<br>"),
    m.SoftBreak: (m.SoftBreak(L), "\n"),
    m.RawInline: (m.RawInline("<wbr>", L), "<wbr>"),
    m.Pin: (m.Pin("some-id", L), ""),
    m.CardOption: (m.CardOption("no", L), ""),
    m.Tag: (m.Tag("nested::tag", L), ""),
    m.Sound: (m.Sound("audio/word.mp3", "", L), '<span class="sound">(audio: word.mp3)</span>'),
}

PARA = m.Para((m.Text("para"),), L)
CELL = m.Cell((m.Text("cell"),), "center", L)
BLOCKS: dict[type, tuple[m.Block, str]] = {
    m.Para: (PARA, "<p>para</p>"),
    m.BulletList: (m.BulletList((m.ListItem((PARA,), L),), True, 3, L), '<ol start="3">\n<li>para</li>\n</ol>'),
    m.DefList: (m.DefList((m.Definition(T, (PARA,), L),), L), '<dl class="defs">\n<dt>x</dt>\n<dd>para</dd>\n</dl>'),
    m.CodeBlock: (m.CodeBlock("print('<x>')\n", "python", L), '<pre class="code highlight">'),
    m.Quote: (m.Quote((PARA,), L), "<blockquote>\n<p>para</p>\n</blockquote>"),
    m.Alert: (m.Alert("warning", (PARA,), L), '<aside class="alert alert-warning" role="note" aria-label="Warning">'),
    m.Details: (m.Details(T, (PARA,), L), '<details class="details"><summary>x</summary>\n<p>para</p>\n</details>'),
    m.Flashcard: (m.Flashcard((m.Para(T, L),), (PARA,), L),
                  '<div class="flashcard">\n<div class="flashcard-front">\n<p>x</p>\n</div>\n'
                  '<div class="flashcard-back">\n<p>para</p>\n</div>\n</div>'),
    m.Superseded: (m.Superseded(T, "2025-08", "https://example.com/news", L),
                   '<aside class="correction" role="note" aria-label="Correction"><p class="correction-title">Updated 2025-08'),
    m.Table: (m.Table((CELL,), ((CELL,),), L), '<th class="align-center" scope="col">cell</th>'),
    m.Rule: (m.Rule(L), "<hr>"),
    m.RawBlock: (m.RawBlock("<sub>2</sub>", L), "<sub>2</sub>"),
    m.Section: (m.Section(2, T, "x-anchor", (PARA,), L), '<section id="x-anchor" class="level2">\n<h2>x</h2>\n<p>para</p>\n</section>'),
}


def test_the_tables_cover_every_node_type() -> None:
    assert set(INLINES) == set(m.INLINE_TYPES)
    assert set(BLOCKS) == set(m.BLOCK_TYPES)


@pytest.mark.parametrize("kind", m.INLINE_TYPES, ids=lambda t: t.__name__)
def test_every_inline_type(kind: type) -> None:
    node, expected = INLINES[kind]
    raw = html.inlines((node,))
    out = html.render_inlines((node,))
    assert expected in out, (raw, out)
    # as part of a paragraph, in each output's options, and as XHTML
    for opts in (html.Options(), html.Options(cloze=True, id_prefix="c1-", footnote_numbers={"1": 1}),
                 html.Options(math="mathml"), html.Options(math="svg")):
        frag = html.render((m.Para((m.Text("before "), node, m.Text(" after")), L),), opts)
        assert frag.startswith("<p>before ") and frag.endswith(" after</p>")
        etree.fromstring(f"<div>{html.to_xhtml(frag)}</div>")


@pytest.mark.parametrize("kind", m.BLOCK_TYPES, ids=lambda t: t.__name__)
def test_every_block_type(kind: type) -> None:
    node, expected = BLOCKS[kind]
    out = html.render((node,))
    assert expected in out, out
    for opts in (html.Options(cloze=True), html.Options(id_prefix="ch1-", heading_offset=1)):
        frag = html.render((node,), opts)
        assert frag
        etree.fromstring(f"<div>{html.to_xhtml(frag)}</div>")


def test_every_block_type_inside_every_container() -> None:
    """Each block nested in a list item, a definition, a quote, an alert and a section."""
    inner = tuple(b for b, _ in BLOCKS.values())
    containers = (
        m.BulletList((m.ListItem(inner, L),), False, 1, L),
        m.DefList((m.Definition(T, inner, L),), L),
        m.Quote(inner, L),
        m.Alert("note", inner, L),
        m.Section(3, T, "outer", inner, L),
    )
    frag = html.render(containers)
    root = etree.fromstring(f"<div>{html.to_xhtml(frag)}</div>")
    assert len(root.findall(".//table")) == len(containers)
    assert len(root.findall(".//pre")) == len(containers)


def test_unordered_list_and_tight_items() -> None:
    item = m.ListItem((PARA, m.BulletList((m.ListItem((m.Para((m.Text("sub"),), L),), L),), False, 1, L)), L)
    assert html.render((m.BulletList((item,), False, 1, L),)) == "<ul>\n<li>para\n<ul>\n<li>sub</li>\n</ul></li>\n</ul>"


def test_ordered_list_starting_at_one_has_no_start() -> None:
    assert html.render((m.BulletList((m.ListItem((PARA,), L),), True, 1, L),)) == "<ol>\n<li>para</li>\n</ol>"


def test_table_alignments_and_body() -> None:
    table = m.Table((m.Cell((m.Text("h"),), "left"), m.Cell((m.Text("r"),), "right")),
                    ((m.Cell((m.Text("a"),)), m.Cell((m.Text("b"),), "right")),), L)
    out = html.render((table,))
    assert '<th class="align-left" scope="col">h</th>' in out
    assert "<td>a</td>" in out and '<td class="align-right">b</td>' in out
    assert "<thead>" in out and "<tbody>" in out


@pytest.mark.parametrize("kind", m.ALERT_KINDS)
def test_alert_kinds(kind: str) -> None:
    out = html.render((m.Alert(kind, (PARA,), L),))  # type: ignore[arg-type]
    assert f'class="alert alert-{kind}"' in out and f'<p class="alert-title">{html.ALERT_TITLES[kind]}</p>' in out


def test_section_heading_offset_and_prefix() -> None:
    sec = m.Section(5, T, "deep", (PARA,), L)
    out = html.render((sec,), html.Options(id_prefix="c2-", heading_offset=2))
    assert out.startswith('<section id="c2-deep" class="level5">\n<h6>x</h6>')


def test_code_highlighting() -> None:
    out = html.render((m.CodeBlock("def f():\n    return '<x>'\n", "python", L),))
    assert 'class="hl-k"' in out and "&lt;x&gt;" in out and "<script" not in out
    plain = html.render((m.CodeBlock("a < b\n", "no-such-language", L),))
    assert plain == '<pre class="code"><code>a &lt; b\n</code></pre>'
    assert ".highlight .hl-k" in html.pygments_css()


# --------------------------------------------------------------------------- options


def test_cloze_deletions_are_numbered_in_order() -> None:
    para = m.Para((m.Mark((m.Text("one"),)), m.Text(" and "), m.Strong((m.Mark((m.Text("two"),)),)),
                   m.Text(" then "), m.Mark((m.Code("three"),))), L)
    out = html.render((para,), html.Options(cloze=True))
    assert out == "<p>{{c1::one}} and <strong>{{c2::two}}</strong> then {{c3::<code>three</code>}}</p>"
    # numbering runs across the blocks of one render
    two = html.render((para, para), html.Options(cloze=True))
    assert re.findall(r"\{\{c(\d+)::", two) == ["1", "2", "3", "4", "5", "6"]


def test_cloze_text_cannot_end_its_deletion_early() -> None:
    out = html.render((m.Para((m.Mark((m.Text("a}}b::c"),)),), L),), html.Options(cloze=True))
    inner = out[len("<p>{{c1::"): -len("}}</p>")]
    assert "}}" not in inner and "::" not in inner


def test_resolvers() -> None:
    para = m.Para((m.Image("a.png", "pic"), m.Image("gone.png", "lost"), m.Link("02-b.md#x", (m.Text("l"),)),
                   m.Link("https://x.org", (m.Text("w"),))), L)
    opts = html.Options(
        image_src=lambda u: None if u == "gone.png" else f"media/{u}",
        link_href=lambda u: None if u.startswith("https") else f"b.xhtml#{u.split('#')[1]}",
    )
    out = html.render((para,), opts)
    assert '<img src="media/a.png" alt="pic">' in out
    assert '<span class="image-missing">[lost]</span>' in out
    assert '<a href="b.xhtml#x">l</a>' in out
    assert '<span class="link">w</span>' in out


def test_footnotes() -> None:
    ch = m.Chapter("f.md", "f", T, (m.Para((m.Text("t"), m.FootnoteRef("N")), L),),
                   (m.Footnote("N", (m.Para((m.Text("the note"),), L),), L),))
    numbers = html.footnote_numbers(ch)
    opts = html.Options(footnote_numbers=numbers, id_prefix="p-")
    body = html.render(ch.blocks, opts)
    assert '<a class="fnref" id="p-fnref-1" href="#p-fn-1" role="doc-noteref">1</a>' in body
    notes = html.footnotes(ch, opts)
    assert '<li id="p-fn-1" role="doc-endnote">the note' in notes and 'href="#p-fnref-1"' in notes
    assert html.footnotes(m.Chapter("f.md", "f", T, ()), opts) == ""
    etree.fromstring(f"<div>{html.to_xhtml(html.sanitize(body + notes))}</div>")


def test_anchor_for_gives_ids_to_source_lines() -> None:
    if "anchor_for" not in html.Options.__dataclass_fields__:
        pytest.skip("no anchor_for option")
    item = m.ListItem((m.Para((m.Text("i"),), m.Loc("f.md", 7)),), m.Loc("f.md", 7))
    blocks = (m.Para((m.Text("p"),), m.Loc("f.md", 5)), m.BulletList((item,), False, 1, m.Loc("f.md", 7)))
    out = html.render(blocks, html.Options(anchor_for=lambda loc: f"l{loc.line}", id_prefix="c-"))
    assert '<p id="c-l5">p</p>' in out and '<li id="c-l7">' in out


# --------------------------------------------------------------------------- sanitizing


@pytest.mark.parametrize(
    ("raw", "gone"),
    [
        ("<script>alert('pwned')</script>", ["<script", "pwned"]),
        ("<p onclick=\"pwned()\">x</p>", ["onclick", "pwned"]),
        ("<img src=x onerror=pwned()>", ["onerror", "pwned"]),
        ('<a href="javascript:pwned()">x</a>', ["javascript", "pwned"]),
        ('<a href="JaVaScRiPt:pwned()">x</a>', ["pwned"]),
        ('<a href="data:text/html,pwned">x</a>', ["data:", "pwned"]),
        ("<iframe src='https://evil.example'></iframe>", ["<iframe", "evil"]),
        ("<style>body{background:url(pwned)}</style>", ["<style", "pwned"]),
        ("<object data='pwned.swf'></object>", ["<object", "pwned"]),
        ("<svg><script>pwned()</script></svg>", ["<svg", "<script", "pwned"]),
        ('<span style="background:url(pwned)">x</span>', ["style=", "pwned"]),
        ("<form action='pwned'><input></form>", ["<form", "<input", "pwned"]),
        ("<!-- secret comment -->", ["secret"]),
    ],
)
def test_sanitize_strips_dangerous_html(raw: str, gone: list[str]) -> None:
    for frag in (html.render((m.RawBlock(raw, L),)), html.render((m.Para((m.RawInline(raw, L),), L),)), html.sanitize(raw)):
        for needle in gone:
            assert needle.lower() not in frag.lower(), (raw, frag)


@pytest.mark.parametrize("url", ["javascript:alert(1)", "JAVASCRIPT:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
                                 "vbscript:x", "data:text/html;base64,eA==", "file:///etc/passwd"])
def test_unsafe_link_urls_become_text(url: str) -> None:
    out = html.render((m.Para((m.Link(url, (m.Text("click"),)),), L),))
    assert out == '<p><span class="link">click</span></p>'


def test_sanitize_keeps_the_allow_list() -> None:
    raw = '<kbd title="t">Ctrl</kbd><sub>2</sub><sup>3</sup><abbr title="x">A</abbr><small>s</small><u>u</u><ins>i</ins><s>s</s><wbr><br>'
    out = html.sanitize(raw)
    for tag in ("kbd", "sub", "sup", "abbr", "small", "u", "ins", "s", "wbr", "br"):
        assert f"<{tag}" in out, tag
    assert 'title="t"' in out


def test_attribute_values_are_escaped() -> None:
    out = html.render((m.Para((m.Link('https://x.org/"><script>', (m.Text("a"),), 'q"><b>'),
                               m.Image('i.png"onerror="x', 'a"b')), L),))
    assert "<script" not in out and "<b>" not in out and 'onerror="x' not in out
    etree.fromstring(f"<div>{html.to_xhtml(out)}</div>")


# --------------------------------------------------------------------------- XHTML


@pytest.mark.parametrize(
    "fragment",
    ["", "text only", "<p>a</p>\n<p>b</p>", "a<br>b<hr>", '<img src="x.png" alt="a">', "&nbsp;&copy;&amp;",
     "<p>unclosed", "<ul><li>one<li>two</ul>", "<pre>  keep\n  spaces</pre>", "<table><tr><td>x</table>"],
)
def test_to_xhtml_is_well_formed(fragment: str) -> None:
    out = html.to_xhtml(fragment)
    root = etree.fromstring(f'<div xmlns="http://www.w3.org/1999/xhtml">{out}</div>')
    assert "&nbsp;" not in out
    if "keep" in fragment:
        assert "  keep\n  spaces" in out
    if fragment == "":
        assert out == "" and len(root) == 0


def test_a_superseded_claim_is_labelled_in_full_or_only_marked() -> None:
    node = m.Superseded((m.Text("256 KB", L),), "2025-08", "https://example.com/news", L)
    full = html.render((node,), html.Options(original_label="2018 notes"))
    assert "2018 notes:</span> <del>256 KB</del>" in full and 'href="https://example.com/news"' in full
    mark = html.render((node,), html.Options(history="mark"))
    assert mark == '<span class="updated" title="updated 2025-08">updated 2025</span>' and "256" not in mark


def test_a_callout_shows_its_own_title_and_keeps_its_type() -> None:
    node = m.Alert("important", (PARA,), L, (m.Text("Why so?", L),), "question")
    out = html.render((node,))
    assert '<aside class="alert alert-important callout-question" role="note" aria-label="Why so?">' in out
    assert '<p class="alert-title">Why so?</p>' in out


def test_a_callout_without_a_title_shows_its_type_as_obsidian_does() -> None:
    info = html.render((m.Alert("note", (PARA,), L, (), "info"),))
    assert 'aria-label="Info"' in info and '<p class="alert-title">Info</p>' in info
    note = html.render((m.Alert("note", (PARA,), L, (), "note"),))
    assert '<p class="alert-title">Note</p>' in note


def test_a_quote_right_after_code_or_bold_is_an_apostrophe() -> None:
    run = (m.Text("The ", L), m.Code("v", L), m.Text("'s type and ", L), m.Strong((m.Text("x", L),), L),
           m.Text("'s and 'quoted' word.", L))
    out = html.inlines(run, html.Options(typography=True))
    assert out == "The <code>v</code>\u2019s type and <strong>x</strong>\u2019s and \u2018quoted\u2019 word."
