"""The ``publisher`` command."""

from __future__ import annotations

import argparse
import gc
import json
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Sequence

from . import __version__
from .core import model as m
from .cards.quality import CODES as QUALITY_CODES, JUNK as JUNK_CODES
from .renderers import REGISTRY
from .core.diagnostics import CODES, Diagnostic, has_errors, strict, to_json
from .core.fsutil import Busy
from .core.text import count, facts, walk_blocks

DEFAULT_CONTENT = "content"
MAX_PER_CODE = 10  # a check lists at most this many diagnostics of one code (then a count)


def summary(loaded_book: m.Book, cards: tuple[m.Card, ...], diags: list[Diagnostic]) -> dict[str, object]:
    kinds = Counter(c.kind for c in cards)
    return {
        "chapters": len(loaded_book.chapters),
        "sections": sum(isinstance(b, m.Section) for ch in loaded_book.chapters for b in walk_blocks(ch.blocks)),
        "facts": sum(1 for _ in facts(loaded_book)),
        "cards": {k: kinds.get(k, 0) for k in m.CARD_KINDS} | {"total": len(cards)},
        "errors": sum(d.severity == "error" for d in diags),
        "warnings": sum(d.severity == "warning" for d in diags),
        "left_out": sum(d.code == "P012" for d in diags),
    }


def cmd_check(args: argparse.Namespace) -> int:
    from .pipeline import load

    from .check.noloss import model_losses

    loaded = load(Path(args.path))
    # what the build says, check says too: the words of a note that no node of the model holds (P142)
    diags = loaded.diagnostics + model_losses(loaded.book, Path(args.path)) + _ledger_diagnostics(loaded, Path(args.path))
    if args.strict or loaded.book.meta.strict:  # after the ledger's: its warnings (P120) are errors too
        diags = strict(diags)
    info = summary(loaded.book, loaded.cards, diags)
    if args.format == "json":
        print(json.dumps({"diagnostics": json.loads(to_json(diags)), "summary": info}, indent=2, ensure_ascii=False))
    else:
        shown: Counter[str] = Counter()
        for d in diags:
            shown[d.code] += 1
            if args.all or shown[d.code] <= MAX_PER_CODE:
                print(d)
        for code, n in shown.items():
            if not args.all and n > MAX_PER_CODE:
                print(f"... and {n - MAX_PER_CODE} more {code} ({CODES[code][1]}); --all lists every one")
        cards = info["cards"]
        assert isinstance(cards, dict)
        print(
            f"{count(info['chapters'], 'chapter')}, {count(info['sections'], 'section')}, {count(info['facts'], 'fact')}; "
            f"{count(cards['total'], 'card')} ({cards['definition']} definition, {cards['cloze']} cloze, {cards['question']} question); "
            f"{count(info['errors'], 'error')}, {count(info['warnings'], 'warning')}"
            + (f"; {count(int(info['left_out']), 'file')} left out (P012)" if info["left_out"] else "")
        )
    return 1 if has_errors(diags) else 0


def _ledger_diagnostics(loaded: object, folder: Path) -> list[Diagnostic]:
    """Hook for the card ledger check (added with the Anki renderer)."""
    try:
        from .pipeline import check_ledger
    except ImportError:
        return []
    return check_ledger(loaded, folder)  # type: ignore[arg-type]


def cmd_stats(args: argparse.Namespace) -> int:
    from .pipeline import load
    from .core.text import block_text

    loaded = load(Path(args.path))
    rows = []
    for ch in loaded.book.chapters:
        kinds = Counter(c.kind for c in loaded.cards if c.chapter == ch.slug)
        words = sum(len(block_text(b).split()) for b in ch.blocks)
        rows.append({"chapter": ch.slug, "file": ch.file, "facts": 0, "words": words,
                     **{k: kinds.get(k, 0) for k in m.CARD_KINDS}})
    by_file = Counter(loc.file for loc, _ in facts(loaded.book))
    for row in rows:
        row["facts"] = by_file.get(str(row["file"]), 0)
    quality = Counter(d.code for d in loaded.diagnostics if d.code in QUALITY_CODES)
    by_chapter = Counter(d.file for d in loaded.diagnostics if d.code in QUALITY_CODES)
    for row in rows:
        row["quality"] = by_chapter.get(str(row["file"]), 0)
    kinds = Counter(c.kind for c in loaded.cards)
    if args.format == "json":
        print(json.dumps({"chapters": rows, "summary": summary(loaded.book, loaded.cards, loaded.diagnostics),
                          "quality": {code: quality[code] for code in sorted(quality)}}, indent=2))
    else:
        print(f"{'chapter':<28} {'facts':>6} {'words':>7} {'def':>5} {'cloze':>6} {'q':>4} {'weak/junk':>9}")
        for r in rows:
            print(f"{str(r['chapter'])[:28]:<28} {r['facts']:>6} {r['words']:>7} {r['definition']:>5} {r['cloze']:>6} "
                  f"{r['question']:>4} {r['quality']:>9}")
        print(f"cards: {len(loaded.cards)} ({', '.join(f'{kinds.get(k, 0)} {k}' for k in m.CARD_KINDS)})")
        if quality:
            print("card quality (junk makes no card; see publisher check):")
            for code in sorted(quality):
                verdict = "junk" if code in JUNK_CODES else "weak"
                print(f"  {code} {verdict:<4} {quality[code]:>4}  {CODES[code][1].removeprefix('card: ')}")
        else:
            print("card quality: no findings")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="publisher", description="Publish Markdown notes as an Anki deck, a cheat sheet and an EPUB.")
    p.add_argument("--version", action="version", version=f"publisher {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("check", help="lint the content: file:line: CODE message")
    c.add_argument("path", nargs="?", default=DEFAULT_CONTENT)
    c.add_argument("--format", choices=("text", "json"), default="text")
    c.add_argument("--strict", action="store_true", help="treat warnings as errors")
    c.add_argument("--all", action="store_true", help=f"list every diagnostic (default: at most {MAX_PER_CODE} of each code)")
    c.set_defaults(func=cmd_check)

    s = sub.add_parser("stats", help="cards per chapter and kind, facts, words")
    s.add_argument("path", nargs="?", default=DEFAULT_CONTENT)
    s.add_argument("--format", choices=("text", "json"), default="text")
    s.set_defaults(func=cmd_stats)

    add_build_commands(sub)
    from .sync import add_sync_command  # the anki engine itself is imported only when sync runs

    add_sync_command(sub)
    return p


# build and watch: their module (renderers, templates) is imported only when they run


def cmd_build(args: argparse.Namespace) -> int:
    from .build import cmd_build as run

    return run(args)


def cmd_watch(args: argparse.Namespace) -> int:
    from .build import cmd_watch as run

    return run(args)


def _formats(text: str) -> list[str]:
    names = [t.strip() for t in text.split(",") if t.strip()]
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown format {', '.join(unknown)} (choose from {', '.join(REGISTRY)})")
    return names


def add_build_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    b = sub.add_parser("build", help="build the artifacts into build/")
    _common(b)
    b.set_defaults(func=cmd_build)
    w = sub.add_parser("watch", help="rebuild on every save")
    _common(w)
    w.add_argument("--serve", action="store_true",
                   help="also serve a live page of the chapters and their cards, on this machine only")
    w.add_argument("--port", type=int, default=8000, help="the live page's port (default: 8000; 0: any free one)")
    w.set_defaults(func=cmd_watch)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", nargs="?", default="content", help="the content folder (default: content/)")
    p.add_argument("--format", type=_formats, default=list(REGISTRY), help="anki,pdf,epub (default: all)")
    p.add_argument("--out", default="build", help="output folder (default: build/)")
    p.add_argument("--paper", choices=("a4", "letter"), default=None)
    p.add_argument("--columns", type=int, default=None)
    p.add_argument("--strict", action="store_true", help="warnings stop the build")
    p.add_argument("--force", action="store_true", help="render everything from scratch, even what is up to date")
    p.add_argument("--jobs", "-j", type=int, default=None, help="parallel renderers (default: cores)")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds a build may take")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("-v", "--verbose", action="store_true")





class Terminated(BaseException):
    """SIGTERM to the main process: raised where it is, so every ``finally`` runs (workers are stopped,
    temp files removed) before the process ends."""


def _terminated(signum: int, frame: object) -> None:
    raise Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # The model is a large tree of small acyclic objects, freed by reference counting: the cycle collector's
    # default thresholds make it rescan the whole tree every few hundred nodes (a fifth of `check`'s time).
    gc.set_threshold(50_000, 20, 20)
    signal.signal(signal.SIGTERM, _terminated)  # `timeout`, a CI runner, kill: unwind and stop the workers
    try:
        return int(args.func(args))
    except BrokenPipeError:  # `publisher stats | head`: the reader went away; that is fine
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("publisher: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("publisher: stopped (SIGTERM); the previous artifacts are as they were", file=sys.stderr)
        return 143
    except OSError as exc:  # the machine said no (an output folder that cannot be made, a full disk)
        where = f": {exc.filename}" if exc.filename else ""
        print(f"publisher: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    except Busy as exc:
        print(f"publisher: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - the user gets a message, never a traceback
        print(f"publisher: internal error: {type(exc).__name__}: {exc} (please report this)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
