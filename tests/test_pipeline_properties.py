"""Property tests over the whole pipeline: random books from the content format's pieces.

For any such book: no exception anywhere; every fact of the model reaches the
cheat sheet and the EPUB, every card reaches Anki (note count == card count);
the EPUB stays well-formed XML.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from publisher import renderers
from publisher.pipeline import load
from publisher.renderers import RenderOptions
from publisher.core.text import facts

from anki_helpers import import_apkg, new_collection
from test_epub import Book as Epub
from test_epub import reader_text
from test_pdf import body_text, read_pages, squeeze

pytestmark = pytest.mark.slow

WORDS = st.sampled_from(
    "queue topic bucket object policy role token cache shard stream table index region gateway layer "
    "alias stage metric alarm record secret value limit batch retry timeout default maximum".split()
)
phrase = st.lists(WORDS, min_size=1, max_size=6).map(" ".join)
# odd but printable characters that must survive every output
odd = st.sampled_from(["a&b", "x<y", "é", "ß", "“quoted”", "50%", "k=v", "C++", "#tag", "`tick`", "arn:aws:s3:::bucket/key"])


@st.composite
def chapter(draw, number: int) -> str:
    uid = f"{number}x"
    out = [f"# Chapter {number} {draw(phrase)}", ""]
    for s in range(draw(st.integers(1, 3))):
        out += [f"## Section {number}.{s} {draw(phrase)}", ""]
        for i in range(draw(st.integers(1, 5))):
            tag = f"{uid}{s}{i}"
            kind = draw(st.integers(0, 8))
            if kind == 0:
                out.append(f"- **Term {tag}** - {draw(phrase)} {draw(odd)}")
            elif kind == 1:
                out.append(f"- Plain {tag} {draw(phrase)} =={draw(phrase)} {tag}== {draw(phrase)}")
            elif kind == 2:
                out += [f"- Parent {tag} {draw(phrase)}", f"    - child {draw(phrase)} {draw(odd)}"]
            elif kind == 3:
                out += ["", f"Word{tag}", f": {draw(phrase)}", ""]
            elif kind == 4:
                out += ["", "| Name | Value |", "|---|--:|", f"| {draw(phrase)} {tag} | {draw(st.integers(0, 999))} |", ""]
            elif kind == 5:
                out += ["", "```python", f"x_{tag} = {draw(st.integers(0, 99))}", "```", ""]
            elif kind == 6:
                out += ["", f"> [!{draw(st.sampled_from(['NOTE', 'TIP', 'WARNING']))}]", f"> {draw(phrase)} {tag}", ""]
            elif kind == 7:
                out += ["", f"1. Step {tag} {draw(phrase)}", f"2. Then {draw(phrase)}", ""]
            else:
                out += ["", f"A paragraph {tag} with ~~old~~ and *stress* {draw(phrase)} {draw(odd)}.", ""]
        out.append("")
        if draw(st.booleans()):
            out += [f"### What is {draw(phrase)} {uid}{s}?", "", f"It is {draw(phrase)}.", ""]
    return "\n".join(out) + "\n"


books = st.integers(1, 3).flatmap(lambda n: st.tuples(*[chapter(i + 1) for i in range(n)]))


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(books)
def test_every_fact_reaches_every_artifact(chapters: tuple[str, ...]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "content"
        folder.mkdir()
        for i, text in enumerate(chapters, 1):
            (folder / f"{i:02d}-c.md").write_text(text, "utf-8")
        loaded = load(folder)
        assert not [d for d in loaded.diagnostics if d.severity == "error"], loaded.diagnostics
        out = Path(tmp) / "build"
        arts = {n: renderers.get(n).render(loaded, out, folder, RenderOptions()) for n in renderers.REGISTRY}
        texts = [t for _, t in facts(loaded.book)]

        # EPUB: well-formed documents that hold every fact
        epub = Epub.open(arts["epub"].path)
        words = squeeze(" ".join(reader_text(doc) for doc in epub.documents().values()))
        for t in texts:
            assert squeeze(t) in words, t

        # PDF: every fact in the sheet's text
        sheet = squeeze(body_text(read_pages(arts["pdf"].path)))
        for t in texts:
            assert squeeze(t) in sheet, t

        # Anki: one note per card, each card's question in its note
        col = new_collection(Path(tmp) / "anki")
        try:
            import_apkg(col, arts["anki"].path)
            assert col.note_count() == len(loaded.cards)
            fields = " ".join(" ".join(col.get_note(nid).fields) for nid in col.find_notes(""))
            plain = squeeze(re.sub(r"<[^>]+>", "", fields.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")))
            for card in loaded.cards:
                front = card.front[0]
                first = re.sub(r"\{\{c\d+::|\}\}", "", squeeze(" ".join(facts_of(front))))
                assert first in re.sub(r"\{\{c\d+::|\}\}", "", plain), first
        finally:
            col.close()


def facts_of(block) -> list[str]:
    from publisher.core.text import block_text

    return [block_text(block)]
