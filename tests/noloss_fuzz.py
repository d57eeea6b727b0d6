"""P142 over the fuzz shapes (issue 21, left open): how often the source's words and the model's disagree.

    .venv/bin/python tests/noloss_fuzz.py [--examples 3000]

Generates Markdown with tests/fuzz.py's strategy, reads and normalizes it, and compares the source's words
(check.noloss) with the model's text, as a build without an EPUB does. Prints the number of disagreements and
the shortest few. Each is a reader loss or a difference in how noloss reads the source. `make fuzz` checks
the same on its longer run (and says the shortest at its end); this is the quick count.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fuzz import markdown  # noqa: E402
from publisher.cards.normalize import normalize  # noqa: E402
from publisher.check import noloss  # noqa: E402
from publisher.core import model as m  # noqa: E402
from publisher.read.reader import read_chapter  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=3000)
    ap.add_argument("--show", type=int, default=10, help="how many of the shortest disagreeing examples to print")
    args = ap.parse_args()
    found: list[tuple[str, list]] = []

    @settings(max_examples=args.examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(markdown)
    def prop(src: str) -> None:
        try:
            data = src.encode("utf-8")
        except UnicodeEncodeError:
            return
        ch, diags = read_chapter(data, "f.md", "f")
        if any(d.severity == "error" for d in diags):
            return
        book = normalize(m.Book(m.Meta(title="F", short_name="F", slug="f"), (ch,)))
        gone = noloss.missing(data.decode("utf-8"), noloss.model_text(book.chapters[0]))
        if gone:
            found.append((src, gone[:3]))

    prop()
    print(f"{len(found)} of {args.examples} examples disagree")
    shortest: dict[tuple, str] = {}  # the shortest example of each set of missing words
    for src, gone in found:
        key = tuple(w for w, _ in gone)
        if key not in shortest or len(src) < len(shortest[key]):
            shortest[key] = src
    for src in sorted(shortest.values(), key=len)[:args.show]:
        print(f"  {src[:300]!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
