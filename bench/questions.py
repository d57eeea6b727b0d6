"""Answered questions in a notes folder against the question cards publisher makes of them (issue 21).

    python bench/questions.py NOTES [--epub]

Counted in the sources as written, not through the reader: a ``<details>`` whose body (after ``</summary>``)
holds text (one whose summary only says "Answer" counts as the question written above it; one that only says
"Click to expand", or names an example, asks nothing, as the cards read it), a heading written in a numbered list item with text under it (``1. ### What is X``), and a
heading ending in ``?`` with text under it before the next heading. Then the book is read as a build reads
it and its question cards counted; ``--epub`` also builds the EPUB (into a temporary folder) and counts P142.
Prints one line per kind and the ratio of cards to questions.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from publisher import build as b  # noqa: E402
from publisher.cards.derive import EXAMPLE_SUMMARY_RE, GENERIC_SUMMARY_RE, UNFOLD_RE  # noqa: E402
from publisher.pipeline import load  # noqa: E402
from publisher.read.bookfile import read_meta  # noqa: E402
from publisher.read.sources import discover  # noqa: E402

DETAILS_RE = re.compile(r"<details\b[^>]*>(.*?)</details\s*>", re.S | re.I)
SUMMARY_END_RE = re.compile(r"</summary\s*>", re.I)
TAG_RE = re.compile(r"<[^>]+>")
FENCE_RE = re.compile(r"^[ \t]*(```|~~~).*?^[ \t]*\1", re.S | re.M)
ITEM_HEADING_RE = re.compile(r"^[ \t]*\d{1,9}[.)][ \t]+#{1,6}[ \t]+\S.*$", re.M)
HEADING_RE = re.compile(r"^#{1,6}[ \t]+(.*?)[ \t#]*$", re.M)


def answered(text: str) -> dict[str, int]:
    """How many answered questions of each kind ``text`` holds (each counted once)."""
    out = {"details": 0, "details answering the question above": 0, "list-item heading": 0, "? heading": 0}
    # code blocks blanked, lengths kept: a '#' or a tag inside code is no heading and no HTML
    plain = FENCE_RE.sub(lambda f: re.sub(r"[^\n]", " ", f.group()), text)
    generic_at = []
    for found in DETAILS_RE.finditer(plain):
        inner = found.group(1)
        cut = SUMMARY_END_RE.search(inner)
        if not cut or not TAG_RE.sub("", inner[cut.end():]).strip():
            continue
        summary = TAG_RE.sub("", inner[:cut.start()]).strip()
        if EXAMPLE_SUMMARY_RE.match(summary):
            continue  # "Example of a closure": a listing, no question (as the cards read it)
        if generic := GENERIC_SUMMARY_RE.match(summary or "answer"):
            if generic.group(3) in (None, "") and UNFOLD_RE.search(generic.group()):
                continue  # "Click to expand": it answers nothing
            generic_at.append(found.start())  # "Answer": the answer of the question written above it
        else:
            out["details"] += 1
    items = list(ITEM_HEADING_RE.finditer(plain))
    outside = DETAILS_RE.sub(lambda f: re.sub(r"[^\n]", " ", f.group()), plain)
    for n, found in enumerate(items):
        end = items[n + 1].start() if n + 1 < len(items) else len(outside)
        if outside[found.end():end].strip():
            out["list-item heading"] += 1
    heads = list(HEADING_RE.finditer(outside))
    bounds = [h.start() for h in heads] + [len(plain)]
    counted = 0
    for n, found in enumerate(heads):
        start, end = found.end(), bounds[n + 1]
        answers = sum(1 for at in generic_at if start <= at < end)
        counted += answers
        if answers:
            out["details answering the question above"] += answers
        elif found.group(1).strip().endswith("?") and outside[start:end].strip():
            out["? heading"] += 1
    out["details answering the question above"] += len(generic_at) - counted  # those above any heading
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--epub", action="store_true", help="also build the EPUB and count P142 (text lost)")
    args = ap.parse_args()
    meta, _ = read_meta(args.folder, str(args.folder))
    layout = discover(args.folder, meta.include, meta.exclude, str(args.folder))
    totals: dict[str, int] = {}
    for src in layout.sources:
        try:
            text = src.path.read_text("utf-8", errors="replace")
        except OSError:
            continue
        for kind, n in answered(text).items():
            totals[kind] = totals.get(kind, 0) + n
    loaded = load(args.folder)
    cards = sum(1 for c in loaded.cards if c.kind == "question")
    questions = sum(totals.values())
    print(f"{args.folder}: {len(layout.sources)} files")
    for kind, n in totals.items():
        print(f"  answered questions, {kind}: {n}")
    print(f"  question cards: {cards} ({cards / questions:.1%} of {questions} answered questions)" if questions
          else f"  question cards: {cards}")
    print(f"  P138 (no answer): {sum(d.code == 'P138' for d in loaded.diagnostics)}")
    if args.epub:
        with tempfile.TemporaryDirectory() as out:
            built = b.build(args.folder, ["epub"], out, jobs=1)
            lost = [d for d in built.diagnostics if d.code == "P142"]
            print(f"  P142 (text lost): {len(lost)}")
            for d in lost[:10]:
                print(f"    {d.file}:{d.line}: {d.message}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
