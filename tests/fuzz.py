"""`make fuzz`: a long hypothesis run on the reader and the normalizer (and the check).

    python tests/fuzz.py --minutes 10 [--dump disagreements.jsonl]

Generates Markdown from the content format's pieces mixed with arbitrary text
and bytes, and asserts that reading, normalizing, deriving cards and validating
never raise, that every diagnostic is well formed, and that nothing of the text
is lost (every Text node the reader makes survives normalization, and every word
of the source is in the model, as P142 reads them). Prints what
it found; exits 1 on a failure, with the failing input. ``--dump`` writes every P142 disagreement (its
source and missing words) as a JSON line, to cut each down to its shape and make it a test.
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
import unicodedata
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from publisher.cards.derive import derive_cards  # noqa: E402
from publisher.check import noloss  # noqa: E402
from publisher.core.diagnostics import CODES, Diagnostic  # noqa: E402
from publisher.core.model import Book, Meta  # noqa: E402
from publisher.cards.normalize import normalize  # noqa: E402
from publisher.read.reader import read_chapter  # noqa: E402
from publisher.core.text import block_text, squash  # noqa: E402
from publisher.check.validate import validate  # noqa: E402

PIECES = [
    "# Title\n", "## Section\n", "### Sub\n", "#### What is it?\n", "- item\n", "    - nested\n", "        - deeper\n",
    "1. step\n", "- **Term** - text\n", "- Term - text\n", "**Term**: text\n", "Term\n: definition\n",
    "- a ==mark== here\n", "==x==", "== ==", "> [!NOTE]\n> note\n", "> quote\n", "```py\ncode\n", "```\n",
    "| a | b |\n|---|---|\n| 1 | 2 |\n", "<script>x</script>", "<b>", "</b>", "<!-- id: pin -->", "<!--",
    "[l](#x)", "[l](javascript:x)", "![i](a.png)", "![i](../x.png)", "[^1]", "[^1]: note\n", "~~s~~",
    "\n", "\n\n", "    ", "\t", "\r", "\r\n", "\x00", "\ufeff", "*", "_", "`", "\\", "&amp;", "&#0;",
    # issue 21's shapes: <details> with Markdown inside, entities, loose tables, list-item headings
    "<details>\n<summary>Q?\n\n  * a\n  * b</summary><br><b>\n  * c - d\n</b></details>\n",
    "<details>\n<summary>Code?\n\n```js\nx()\n```\n</summary><br><b>\n\nanswer\n</b></details>\n",
    "<details><summary>Nested</summary>\n\n<details><summary>Inner?</summary>\n\nin\n</details>\n</details>\n",
    "</summary>", "<summary>", "<details>", "</details>", "&gt;", "&copy;", "&#x3E;", "&nosuch;", "&para",
    "| a | b\n|---|---\n| 1\n", "a \\| b | c\n-|-\n", "1. ### What is X\n\n   The answer.\n", "- ## Heading item\n",
    "如果 h 的取值为 nums.length - 1，那么结束\n", "- 二叉树 - 每个节点最多两个子节点\n",
    # flashcards as a vault writes them, GitBook's math, navigation links, term lines
    "#flashcards\n", "Q::A\n", "- **Q?**\n?\n- a\n- b\n", "Q\n?\n2. one\n3. two\n", "**x ==y== z**\n",
    "<!--SR:!2025-01-01,3,250-->\n", "==x ==", "\\(i.e. a 40% chance\\)", "a $$p$$ b", "$$x$$\n", "\\[1\\]",
    "**[⬆ Back to Top](#table-of-contents)**\n", "EC2 - servers<br>\nS3 - storage\n", "[l](#x)#tag",
    # HTML blocks in containers: under an empty item (indented past its text), on a quote's lazy line
    "-\n    <details>\n", "> q\n<details>\n> a\n", "1. Q\n\n    <details>\n",
]

text_piece = st.one_of(st.sampled_from(PIECES), st.text(max_size=30))
markdown = st.lists(text_piece, max_size=60).map("".join)
raw_bytes = st.one_of(markdown.map(lambda s: s.encode("utf-8", "surrogatepass")), st.binary(max_size=400))


def _with_tags(block) -> str:
    """A block's text with its #tags and sounds written back where they stood (normalization makes them nodes)."""
    from publisher.core import model as m
    from publisher.cards.normalize import _deep_inline
    from publisher.core.text import map_inlines

    def one(n):  # a #tag and a [sound:file] are nodes after normalization: written back as their text
        if isinstance(n, m.Tag):
            return m.Text(n.name.replace("::", "/"), n.loc)
        if isinstance(n, m.Sound) and not n.label:
            return m.Text(f"[sound:{n.url.rsplit('/', 1)[-1]}]", n.loc)
        return n

    back = _deep_inline(one)
    (restored,) = map_inlines((block,), back)
    return block_text(restored)


DISAGREE: list[tuple[str, list]] = []  # examples whose source words the model lacks, as P142 reads them


def check_one(data: bytes) -> None:
    chapter, diags = read_chapter(data, "fuzz.md", "fuzz")
    for d in diags:
        assert isinstance(d, Diagnostic) and d.code in CODES and d.line >= 0, d
    book = Book(Meta(title="Fuzz", short_name="Fuzz", slug="fuzz"), (chapter,))
    # (normalization puts text in Unicode's composed form: 豈 U+F900 is U+8C48 after it, as it should be)
    before = unicodedata.normalize("NFC", squash(" ".join(block_text(b) for b in chapter.blocks)))
    normal = normalize(book)
    after = squash(" ".join(_with_tags(b) for b in normal.chapters[0].blocks) + " " + " ".join(normal.chapters[0].tags))
    # nothing lost: only spacing and the idiom's separator ("Term - text") may go
    after = unicodedata.normalize("NFC", after)  # (code blocks keep the author's characters exactly)
    # (in any order: a title's #tag goes to the chapter's tags, written back after the blocks; a line of
    # #tags alone goes to the cards' Anki tags, so a tag's letters may be missing, nothing else)
    had, has = (collections.Counter(re.sub(r"[\W_]+", "", t)) for t in (before, after))
    tagged = collections.Counter(re.sub(r"[\W_]+", "", " ".join(noloss.INLINE_TAG_RE.findall(before))))
    assert not has - had and not (had - has) - tagged, (before, after, data[:300])
    # nothing lost as P142 reads it: the source's words, read as text, against the model's (a build without
    # an EPUB compares the same)
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError:
        source = None
    if source is not None and not any(d.severity == "error" for d in diags):
        gone = noloss.missing(source, noloss.model_text(normal.chapters[0]))
        if gone:  # collected, not raised: the run goes on for the other properties, and says them at the end
            DISAGREE.append((source, gone[:5]))
    cards = derive_cards(normal)
    for d in validate(normal, cards, Path("/nonexistent-fuzz-root")):
        assert isinstance(d, Diagnostic) and d.code in CODES, d


def _say_disagreements(runs: int) -> bool:
    if DISAGREE:
        print(f"fuzz: P142: {len(DISAGREE)} of {runs} examples have words the model lacks, as P142 reads them "
              "(a reader loss, or a shape noloss reads otherwise); the shortest:", file=sys.stderr)
        for src, gone in sorted(DISAGREE, key=lambda x: len(x[0]))[:5]:
            print(f"  {src[:300]!r}: {gone}", file=sys.stderr)
    return bool(DISAGREE)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--dump", type=Path, help="write every P142 disagreement (source and missing words) here, as JSON lines")
    args = ap.parse_args()
    deadline = time.monotonic() + args.minutes * 60
    runs = 0
    rounds = 0
    while time.monotonic() < deadline:
        rounds += 1

        @settings(max_examples=2000, deadline=None, database=None, derandomize=False,
                  suppress_health_check=list(HealthCheck))
        @given(raw_bytes)
        def prop(data: bytes) -> None:
            check_one(data)

        try:
            prop()
        except Exception as exc:  # noqa: BLE001 - report the failing input and stop
            print(f"fuzz: FAILED after {runs} examples: {type(exc).__name__}: {exc}", file=sys.stderr)
            _say_disagreements(runs)
            return 1
        runs += 2000
        left = max(0.0, deadline - time.monotonic())
        print(f"fuzz: {runs} examples, no failure, {len(DISAGREE)} P142 ({left / 60:.1f} min left)", flush=True)
    if args.dump:
        import json

        args.dump.write_text("".join(json.dumps({"source": src, "missing": gone}) + "\n" for src, gone in DISAGREE))
    if _say_disagreements(runs):
        return 1
    print(f"fuzz: done: {runs} examples in {rounds} rounds, no exception, no lost text, no P142")
    return 0


if __name__ == "__main__":
    sys.exit(main())
