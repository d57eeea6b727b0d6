"""`publisher watch --serve` (issue 30): the live page of the chapters and their cards, in headless Chromium
and against the anki engine's own rendering of the same notes."""

from __future__ import annotations

import html
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from test_build import write

BIN = Path(sys.executable).parent
BOOK = {
    "book.toml": 'title = "Live"\n',
    "01-tools.md": ("# Tools\n\n## Parts\n\n- **Widget** - a small gadget that holds two parts together.\n"
                    "- A bolt is ==threaded== and a nut ==turns== on it.\n\n#### Too deep\n\n"
                    "- **Anvil** - a heavy iron block to shape metal on.\n"),
    "02-more.md": "# More\n\n- **Rivet** - a pin that joins two plates for good.\n",
}


def _text(fragment: str) -> str:
    fragment = re.sub(r"<style>.*?</style>", " ", fragment, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def test_cards_read_as_the_anki_engine_shows_them(tmp_path: Path) -> None:
    """Each card of the page against the same note imported into a real collection and rendered by the
    engine: the same words on each side, the same blanks."""
    from anki_helpers import build, import_apkg, new_collection
    from publisher import preview

    src = write(tmp_path / "src", BOOK)
    _, artifact = build(src, tmp_path / "out")
    col = new_collection(tmp_path / "col")
    try:
        import_apkg(col, artifact.path)
        engine = {}
        for cid in col.find_cards(""):
            card = col.get_card(cid)
            engine[(card.note().fields[0], card.ord + 1)] = (_text(card.question()), _text(card.answer()))
    finally:
        col.close()
    site = preview.Site(src)
    site.update()
    assert site.error == ""
    shown = [c for ch in site.chapters.values() for c in ch.cards]
    assert len(shown) == len(engine) == 5  # three definitions, two deletions of one line
    for view in shown:
        front, back = engine[(site.first_fields[view.identity], view.ordinal)]
        assert _text(view.front) == front, view.identity
        assert _text(view.back) == back, view.identity
    blanks = [_text(v.front) for v in shown if v.kind == "cloze"]
    assert any("[...] and a nut turns" in t for t in blanks) and any("threaded and a nut [...]" in t for t in blanks)


@pytest.fixture
def watching(tmp_path: Path):
    src = write(tmp_path / "src", BOOK)
    proc = subprocess.Popen([str(BIN / "publisher"), "watch", str(src), "--out", str(tmp_path / "out"), "--format", "anki",
                             "--serve", "--port", "0"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        url = ""
        end = time.monotonic() + 120
        while not url:
            line = proc.stderr.readline()
            if not line and proc.poll() is not None:
                pytest.fail("publisher watch --serve stopped")
            if found := re.search(r"live page at (http://\S+)", line):
                url = found.group(1)
            if time.monotonic() > end:
                pytest.fail("no live page in 120 s")
        while "watching" not in line:  # the first build done and the watcher running
            line = proc.stderr.readline()
            if not line and proc.poll() is not None:
                pytest.fail("publisher watch --serve stopped")
        yield src, url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.slow
def test_the_page_follows_a_save_without_a_reload_and_asks_nothing_of_elsewhere(watching) -> None:  # noqa: ANN001
    from cdp import Browser

    src, url = watching
    assert urlsplit(url).hostname == "127.0.0.1"
    browser = Browser("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--window-size=1200,900")
    try:
        browser.open(url)
        assert browser.wait_for("document.querySelectorAll('table.chapters tbody tr').length") == 2
        browser.open(url + "c/tools")
        cards = "document.querySelector('section.cards').innerText"
        assert "a small gadget" in browser.eval(cards)
        # the diagnostic of the heading that jumps a level stands at its block, and the card links to its line
        assert browser.eval("!!document.querySelector('.src .diag[data-code=\"P103\"]')")
        assert browser.eval("document.querySelector('.anki .meta a').getAttribute('href')") == "#L5"
        assert browser.eval("!!document.getElementById('L5')")
        browser.eval("window.stillHere = 'yes'")

        (src / "01-tools.md").write_text(BOOK["01-tools.md"].replace("a small gadget", "a tiny gadget"), "utf-8")
        browser.wait_for(f"{cards}.includes('a tiny gadget')", timeout=30)
        assert browser.eval("window.stillHere") == "yes"  # swapped in, not reloaded
        assert "a small gadget" not in browser.eval(cards)

        hosts = {urlsplit(u).hostname for u in browser.requests() if urlsplit(u).scheme in ("http", "https", "ws", "wss")}
        assert hosts == {"127.0.0.1"}, browser.requests()
        assert all(urlsplit(u).scheme in ("http", "data", "about") for u in browser.requests()), browser.requests()
    finally:
        browser.close()


def test_clozes_hints_and_formulas_as_the_page_shows_them() -> None:
    """Anki's rules for a cloze side (the card's own deletion blanked, or its hint; the others shown), and
    the deck's MathJax delimiters as MathML (the page runs no MathJax)."""
    from publisher import preview

    text = "A {{c1::bolt::fastener}} and a {{c2::nut}}"
    front = preview.cloze(text, 1, back=False)
    assert '[fastener]</span>' in front and '>nut</span>' in front and "bolt" not in front
    back = preview.cloze(text, 2, back=True)
    assert '<span class="cloze" data-ordinal="2">nut</span>' in back and '>bolt</span>' in back
    assert preview.fill("{{#Extra}}x{{/Extra}}{{^Extra}}none{{/Extra}} {{Front}}", {"Extra": "", "Front": "F"}, 1,
                        back=False) == "none F"
    shown = preview.as_mathml(r"so \(x^2\) and \[\frac{a}{b}\]")
    assert shown.count("<math") == 2 and 'display="block"' in shown and "\\(" not in shown
