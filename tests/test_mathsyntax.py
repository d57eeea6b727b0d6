"""TeX math in Markdown: which delimiters make a formula, and what each output writes for it."""

from __future__ import annotations

import pytest

from publisher.markup import html
from publisher.read import formula
from publisher.core import model as m
from publisher.core.text import walk_blocks, walk_inlines
from test_reader import chapter


def formulas(src: str) -> list[tuple[str, bool]]:
    ch, _ = chapter(src)
    out = []
    for b in walk_blocks(ch.blocks):
        if isinstance(b, m.Para):
            out.extend((n.tex, n.display) for n in walk_inlines(b.children) if isinstance(n, m.Math))
    return out


@pytest.mark.parametrize(("src", "expected"), [
    ("The area is $A = \\pi r^2$.", [("A = \\pi r^2", False)]),
    ("Euler: \\(e^{i\\pi} + 1 = 0\\)", [("e^{i\\pi} + 1 = 0", False)]),
    ("Shown: \\[x = 1\\] in a line", [("x = 1", True)]),
    ("$$E = mc^2$$ in a line", [("E = mc^2", False)]),  # in a line of words: inline (GitBook, kramdown)
    ("$$E = mc^2$$.", [("E = mc^2", True)]),  # alone on its line, but for punctuation: displayed
    ("$$\n\\sum_{i=1}^n i\n$$\n", [("\\sum_{i=1}^n i", True)]),
    ("\\[\nx^2\n\\]\n", [("x^2", True)]),
    ("```math\n\\int_0^1 x\\,dx\n```\n", [("\\int_0^1 x\\,dx", True)]),
    ("- an item $a_1$\n- $$\n  b\n  $$\n", [("a_1", False), ("b", True)]),
    ("> quoted $q$\n", [("q", False)]),
    # prices and escapes stay text (pandoc's rules)
    ("It costs $5 and $10.", []),
    ("From $5 to $ 10$", []),
    ("A \\$ sign and \\$x\\$", []),
    ("Code `$x$` stays code", []),
    ("$ x$ has a space after the opening dollar", []),
    # GitBook notes (issue 21): $$x$$ between words is inline; \( \) around words, \[ \] around a number are
    # Markdown's escaped brackets
    ("A proportion $$p$$ of the trials succeed.", [("p", False)]),
    ("The belief \\(i.e. a 40% chance that the patient is sick\\) is Bayesian.", []),
    ("Onto \\(**onto**: every element is [hit](https://example.com)\\) maps.", []),
    ("See the note \\[1\\] here.", []),
    ("A claim.\n\n\\[1\\]\n\n\\[2\\] Smith, 2020\n", []),  # alone on its line too: a reference's number, no formula
    ("zero \\(explained [here](http://x.org/a?b=1), which helps\\).", []),  # a link inside: Markdown, whatever its URL
    ("Costs \\(O(n \\log n)\\) and \\(a + b\\)", [("O(n \\log n)", False), ("a + b", False)]),
    ("The minimum $$\\arg\\min_x f(x)$$", [("\\arg\\min_x f(x)", False)]),
    ("* $$k$$-fold cross-validation, and \\(dead ReLUs\\), \\(SVD\\), \\(like $$x$$\\)", [("k", False), ("x", False)]),
    # a shell's dollars around an HTML tag are no formula (a DevOps repo: "your $PATH <code>PATH="$PATH"</code>")
    ('Fix your $PATH <code>PATH="$PATH":/usr/bin</code> then', []),
    ("Less: $a<b$, and $x <b>$ bold", [("a<b", False)]),
])
def test_delimiters(src: str, expected: list[tuple[str, bool]]) -> None:
    assert formulas("# T\n\n" + src) == expected


def test_a_fenced_math_block_is_one_displayed_paragraph_and_other_fences_stay_code() -> None:
    ch, _ = chapter("# T\n\n```math\nx\n```\n\n```python\nx = 1\n```\n")
    assert isinstance(ch.blocks[0], m.Para) and ch.blocks[0].children == (m.Math("x", True, ch.blocks[0].loc),)
    assert isinstance(ch.blocks[1], m.CodeBlock) and ch.blocks[1].lang == "python"


def test_each_output_writes_its_form() -> None:
    para = (m.Para((m.Text("a "), m.Math("\\frac{a}{b}"), m.Text(" b")),),)
    anki = html.render(para)
    assert "\\(\\frac{a}{b}\\)" in anki
    epub = html.render(para, html.Options(math="mathml"))
    assert '<math alttext="\\frac{a}{b}"' in epub and "<mfrac>" in epub
    sheet = html.render(para, html.Options(math="svg"))
    assert '<img class="math" src=".publisher-math/' in sheet and 'alt="\\frac{a}{b}"' in sheet
    assert "vertical-align:-0." in sheet  # on the baseline: the fraction's lower half below it
    key = sheet.split(html.MATH_URL_PREFIX)[1].split('"')[0]
    assert (html.formula_svg(key) or b"").startswith(b"<svg") and html.formula_svg("nothing.svg") is None


def test_a_formula_in_a_cloze_never_ends_the_deletion_early() -> None:
    para = (m.Para((m.Mark((m.Math("x^{a_{1}}"),)),)),)
    out = html.render(para, html.Options(cloze=True))
    assert out.count("}}") == 1 and out.endswith("}}</p>") and "\\(x^{a_{1} }\\)" in out


def test_the_escaped_brackets_keep_their_words_and_arg_is_an_operator() -> None:
    ch, _ = chapter("The belief \\(i.e. a 40% chance that the patient is sick\\) holds.\n")
    from publisher.core.text import plain_text

    assert plain_text(ch.blocks[0].children) == "The belief (i.e. a 40% chance that the patient is sick) holds."
    assert formula.problem("\\arg\\min_x f(x)") is None


@pytest.mark.parametrize("tex", ["x^", "\\unknowncmd{x}", "\\text{<b>}", ""])
def test_a_formula_that_does_not_parse_is_shown_as_tex_in_code(tex: str) -> None:
    assert formula.problem(tex) is not None
    for mode in ("tex", "mathml", "svg"):
        out = html.render((m.Para((m.Math(tex),)),), html.Options(math=mode))
        assert '<code class="math math-error">' in out and "<math" not in out and "<img" not in out


def test_latex2mathml_text_cannot_smuggle_html() -> None:
    out = html.render((m.Para((m.Math("\\text{<script>alert(1)</script>}"),)),), html.Options(math="mathml"))
    assert "<script" not in out


def test_the_tt_switch_sets_its_whole_group_in_monospace() -> None:
    """``{\\tt ifn}`` (course notes write rule names so): every letter monospace, not the first one only."""
    assert formula.standard("{\\tt ifn} \\vdash e") == "{\\mathtt{ifn}} \\vdash e"
    out = formula.convert("{\\tt ifn}", False)
    assert out.count('mathvariant="monospace"') == 3
    assert formula.standard("\\ttfamily x") == "\\ttfamily x"  # another command: left alone
