"""`make bench`: build synthetic books of 300, 3,000 and 10,000 facts and compare with pandoc.

Every figure is the median of --repeat runs of a whole command (a fresh process),
measured in this one run: our full build, each renderer alone, a no-op rebuild,
a rebuild after editing one chapter, the peak memory (all processes together); and, on the same Markdown,
pandoc to EPUB and pandoc to HTML then the `weasyprint` command to PDF.
Prints a table, each target of the issue met or missed, and writes build/bench.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from synth import write_book, write_notes_tree  # noqa: E402

BIN = Path(sys.executable).parent
PUBLISHER = str(BIN / "publisher")


def run(cmd: list[str], cwd: Path | None = None, refused: bool = False) -> tuple[float, int]:
    """Run a command; return (seconds, peak memory in MiB).

    The peak is the largest sum of the resident memory of the command and all its
    descendants at one moment (sampled every 50 ms with psutil): the renderers and
    the sheet's layout workers run side by side, so no one process shows it."""
    import psutil

    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
        root = psutil.Process(proc.pid)
        peak = 0
        while proc.poll() is None:
            total = 0
            try:
                tree = [root, *root.children(recursive=True)]
            except psutil.Error:
                tree = []
            for p in tree:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            peak = max(peak, total)
            time.sleep(0.05)
        seconds = time.perf_counter() - start
        if proc.returncode != (1 if refused else 0):  # ``refused``: a build its errors must stop (exit 1)
            err.seek(0)
            raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{err.read().decode(errors='replace')[-2000:]}")
    return seconds, peak // (1024 * 1024)


def median(fn, repeat: int) -> tuple[float, int]:
    results = [fn(i) for i in range(repeat)]
    return statistics.median(r[0] for r in results), max(r[1] for r in results)


def pandoc_path() -> str | None:
    try:
        import pypandoc

        return pypandoc.get_pandoc_path()
    except Exception:  # noqa: BLE001 - the baseline is optional when pandoc is absent
        return shutil.which("pandoc")


def bench_size(facts: int, work: Path, repeat: int, pandoc: str | None) -> dict[str, float]:
    src = write_book(work / f"book{facts}", facts)
    out = work / f"out{facts}"
    build = [PUBLISHER, "build", str(src), "--out", str(out), "-q"]
    row: dict[str, float] = {"facts": facts}

    row["full"], row["peak_mib"] = median(lambda i: run(build + ["--force"]), repeat)
    for fmt in ("anki", "pdf", "epub"):
        row[fmt], _ = median(lambda i, f=fmt: run(build + ["--force", "--format", f, "-j", "1"]), repeat)
    run(build)
    row["noop"], _ = median(lambda i: run(build), repeat)

    chapter = sorted(src.glob("*.md"))[0]
    original = chapter.read_text("utf-8")

    def edit(i: int) -> tuple[float, int]:
        chapter.write_text(original + f"\n- Edited fact number {i} for the bench\n", "utf-8")
        return run(build)

    row["edit_one"], _ = median(edit, repeat)
    chapter.write_text(original, "utf-8")
    run(build)
    saves = max(repeat, WATCH_SAVES)  # (2 s each: more of them than of whole builds, for a steadier median)
    for name, t in watch_edit(src, out, chapter, saves).items():  # anki, pdf, epub, done
        row[f"watch_{name}"] = t
    chapter.write_text(original, "utf-8")
    far = largest_piece_chapter(src)  # an edit in the sheet's longest piece: the most it lays out again
    if far is not None and far != chapter:
        kept = far.read_text("utf-8")
        run(build)
        for name, t in watch_edit(src, out, far, saves, resave=False).items():
            row[f"watch_far_{name}"] = t
        far.write_text(kept, "utf-8")
        row["watch_far_pages"] = largest_piece_pages(out)

    if pandoc:
        md = work / f"all{facts}.md"
        md.write_text("\n\n".join(p.read_text("utf-8") for p in sorted(src.glob("*.md"))), "utf-8")
        row["pandoc_epub"], _ = median(lambda i: run([pandoc, str(md), "-f", "markdown", "-t", "epub3", "-o", str(work / "p.epub"), "--metadata", "title=Bench"]), repeat)

        def html_pdf(i: int) -> tuple[float, int]:
            t1, m1 = run([pandoc, str(md), "-f", "markdown", "-t", "html5", "-s", "-o", str(work / "p.html"), "--metadata", "title=Bench"])
            t2, m2 = run([str(BIN / "weasyprint"), str(work / "p.html"), str(work / "p.pdf")])
            return t1 + t2, max(m1, m2)

        row["pandoc_pdf"], _ = median(html_pdf, repeat)
        row["ratio_full_vs_pandoc"] = row["full"] / (row["pandoc_epub"] + row["pandoc_pdf"])
        row["ratio_epub"] = row["epub"] / row["pandoc_epub"]
        row["ratio_pdf"] = row["pdf"] / row["pandoc_pdf"]
    return row


WATCH_SAVES = 7


def largest_piece_chapter(src: Path) -> Path | None:
    """A chapter of the sheet's longest piece (pdf_chunks.plan, on the book as a build reads it)."""
    from publisher.pipeline import read_normalized
    from publisher.renderers import pdf, pdf_chunks

    book = pdf.printable(read_normalized(src)[0])
    pieces = pdf_chunks.plan(book)
    facts = pdf_chunks.chapter_facts(book)
    biggest = max(pieces, key=lambda p: sum(facts[e if isinstance(e, int) else e[0]] for e in p))
    first = biggest[len(biggest) // 2]
    return Path(book.chapters[first if isinstance(first, int) else first[0]].file)


def largest_piece_pages(out: Path) -> int:
    """The pages of the longest piece in the sheet's cache (its laid-out chunks)."""
    import pypdf

    return max((len(pypdf.PdfReader(p).pages) for p in (out / ".cache" / "pdf").glob("*-[0-9].pdf")), default=0)


DONE_RE = re.compile(r"^[\d,]+ errors?, [\d,]+ warnings?.*; [\d.]+ s$")


def watch_edit(src: Path, out: Path, chapter: Path, repeat: int, resave: bool = True) -> dict[str, float]:
    """The author's loop: `publisher watch` running, one line of ``chapter`` saved, then the time until each
    artifact is replaced (its file's inode changes: the renderers write a temporary file and rename it) and
    until the watch says its build is done. The median of ``repeat`` saves, in seconds, per artifact."""
    import queue
    import threading

    proc = subprocess.Popen([PUBLISHER, "watch", str(src), "--out", str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    for stream in (proc.stdout, proc.stderr):
        threading.Thread(target=lambda f=stream: [lines.put(x) for x in f], daemon=True).start()

    def said(pattern: re.Pattern[str]) -> bool:
        while not lines.empty():
            if pattern.search(lines.get()):
                return True
        return False

    def inodes() -> dict[str, int]:
        return {name: f.stat().st_ino for ext, name in ((".apkg", "anki"), ("-cheatsheet.pdf", "pdf"), (".epub", "epub"))
                for f in out.glob(f"*{ext}")}

    try:
        end = time.monotonic() + 300
        while not said(re.compile(r"^watching ")):
            if time.monotonic() > end:
                raise SystemExit("publisher watch did not start watching in 300 s")
            time.sleep(0.02)
        original = chapter.read_text("utf-8")
        times: dict[str, list[float]] = {}
        for i in range(repeat):
            before = inodes()
            start = time.perf_counter()
            chapter.write_text(original + f"\n- Edited in the watch loop, number {i}\n", "utf-8")
            seen: dict[str, float] = {}
            while "done" not in seen:
                if time.perf_counter() - start > 300:
                    raise SystemExit("publisher watch did not rebuild in 300 s")
                now = inodes()
                for name, ino in now.items():
                    if name not in seen and ino != before.get(name):
                        seen[name] = time.perf_counter() - start
                if said(DONE_RE):
                    seen["done"] = time.perf_counter() - start
                time.sleep(0.02)
            for name, t in seen.items():
                times.setdefault(name, []).append(t)
            time.sleep(0.5)
        result = {name: statistics.median(ts) for name, ts in times.items()}
        if not resave:
            return result
        # a second save while the first one's sheet is still laid out: the build in progress stops, and
        # the newest notes' deck and EPUB come as fast as from an idle watch
        before = inodes()
        chapter.write_text(original + "\n- Saved while a sheet was laid out, first\n", "utf-8")
        end = time.monotonic() + 300
        while inodes().get("anki") == before.get("anki") and time.monotonic() < end:
            time.sleep(0.02)
        before = inodes()
        start = time.perf_counter()
        chapter.write_text(original + "\n- Saved while a sheet was laid out, second\n", "utf-8")
        seen = {}
        while len(seen) < 2 and time.perf_counter() - start < 300:
            for name in ("anki", "epub"):
                if name not in seen and inodes().get(name) != before.get(name):
                    seen[name] = time.perf_counter() - start
            time.sleep(0.02)
        result.update({f"resave_{name}": t for name, t in seen.items()})
        return result
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def bench_check(work: Path, repeat: int, pandoc: str | None, files: int = 200) -> dict[str, float]:
    """`publisher check` on a notes repository of ``files`` files full of invented jargon (no ledger yet:
    a first run), and, as the baseline, pandoc reading the same Markdown into HTML."""
    tree = write_notes_tree(work / "notes-tree", files)
    row: dict[str, float] = {"files": files}
    row["check"], row["check_peak_mib"] = median(lambda i: run([PUBLISHER, "check", str(tree)]), repeat)
    if pandoc:
        md = work / "notes-tree.md"
        md.write_text("\n\n".join(p.read_text("utf-8") for p in sorted(tree.rglob("*.md"))), "utf-8")
        row["pandoc_html"], _ = median(lambda i: run([pandoc, str(md), "-f", "gfm", "-t", "html5", "-o", str(work / "t.html")]), repeat)
        row["ratio_check_vs_pandoc"] = row["check"] / row["pandoc_html"]
    return row


def bench_faults(work: Path, long_chapter_mb: float = 2.0) -> dict[str, float]:
    """Issues 15 and 31's scale cases at full size: a no-op build of a small book beside a 3 GB video (sparse:
    no disk used, but reading it would cost 3 GB), a folder of 100,000 notes (refused early, P016), one file
    of ``long_chapter_mb`` MB built whole, a 5 MB one (refused early, P003), and Markdown bombs; each with its
    time and the peak memory of its process tree."""
    book = write_book(work / "faults-book", 300)
    with open(book / "lecture.mp4", "wb") as f:
        f.truncate(3 * 1024 ** 3)
    run([PUBLISHER, "build", str(book), "--out", str(work / "faults-out")])
    row: dict[str, float] = {}
    row["noop_3gb"], row["noop_3gb_peak_mib"] = run([PUBLISHER, "build", str(book), "--out", str(work / "faults-out")])
    (book / "lecture.mp4").unlink()
    many = work / "many-notes"
    for i in range(100_000):
        folder = many / f"d{i // 1000:03d}"
        if i % 1000 == 0:
            folder.mkdir(parents=True)
        (folder / f"n{i:06d}.md").write_text(f"# Note {i}\n\nText {i}.\n", "utf-8")
    start = time.perf_counter()
    proc = subprocess.run([PUBLISHER, "build", str(many), "--out", str(work / "many-out")], capture_output=True, text=True)
    row["files_100k"] = time.perf_counter() - start
    row["files_100k_refused"] = float("P016" in proc.stdout + proc.stderr)
    shutil.rmtree(many, ignore_errors=True)
    # one very long file: the largest a book takes (2 MB of terms: every artifact, the sheet leaving it out,
    # P022), and a 5 MB one, refused by its size before a byte is read (P003)
    for name, mb in (("long_chapter", long_chapter_mb), ("chapter_5mb", 5.0)):
        one = work / f"one-{name}"
        one.mkdir()
        lines, k = ["# One long file\n"], 0
        while sum(map(len, lines)) < mb * 1000 * 1000:
            lines.append(f"\n## Section {k}\n\n" + "".join(
                f"- **Term {k}.{i}** - what term {k}.{i} holds, in a few words of invented jargon\n" for i in range(20)))
            k += 1
        (one / "notes.md").write_text("".join(lines)[: int(mb * 1000 * 1000)], "utf-8")
        row[f"{name}_mb"] = mb
        row[name], row[f"{name}_peak_mib"] = run([PUBLISHER, "build", str(one), "--out", str(work / f"out-{name}")],
                                                 refused=mb > 2.097)
    # Markdown bombs: each refused (or shown) with a diagnostic, in seconds and little memory
    bombs = {
        "link_refs_100k": "# Refs\n\n[ref]: https://example.com/a/long/path/x\n\n" + "\n".join(
            f"- item {i} " + " ".join(f"[w{j}][ref]" for j in range(50)) for i in range(2000)) + "\n",
        "table_1000_columns": "# Table\n\n|" + "|".join(f"h{i}" for i in range(1000)) + "|\n|" + "---|" * 1000 + "\n"
                              + "".join("|" + "|".join(f"v{r}{i}" for i in range(1000)) + "|\n" for r in range(5)),
        "line_2mb": "# Line\n\n" + "word " * 400_000 + "\n",
        "quotes_1000_deep": "# Quotes\n\n" + "> " * 1000 + "deep\n",
    }
    for name, text in bombs.items():
        folder = work / f"bomb-{name}"
        folder.mkdir()
        (folder / "a.md").write_text(text, "utf-8")
        row[f"bomb_{name}"], row[f"bomb_{name}_peak_mib"] = run(
            [PUBLISHER, "build", str(folder), "--out", str(work / f"out-{name}")], refused=True)
    folder = work / "bomb-title"
    folder.mkdir()
    (folder / "book.toml").write_text('title = "' + "T" * 1_000_000 + '"\n', "utf-8")
    (folder / "a.md").write_text("# A\n\n- **Term** - text\n", "utf-8")
    row["bomb_title_1mb"], row["bomb_title_1mb_peak_mib"] = run([PUBLISHER, "build", str(folder), "--out",
                                                                 str(work / "out-title")], refused=True)
    return row


def check_targets(rows: list[dict], check: dict | None = None, faults: dict | None = None) -> list[str]:
    """The issue's targets at the largest size measured, each "met" or "MISSED" with its figure."""
    big = max(rows, key=lambda r: r["facts"])
    out = []

    def line(name: str, ok: bool, figure: str) -> None:
        out.append(f"{'met   ' if ok else 'MISSED'} {name}: {figure}")

    # issue 24's figures at 3,000 facts (the edit loop's book), then the largest size's
    loop = min((r for r in rows if r["facts"] >= 3000), key=lambda r: r["facts"], default=big)
    if "watch_done" in loop:
        each = ", ".join(f"{n} {loop[f'watch_{n}']:.2f} s" for n in ("anki", "epub", "pdf") if f"watch_{n}" in loop)
        line(f"{loop['facts']} facts: a one-line edit inside `publisher watch`, all three artifacts replaced, in at most 2 s",
             loop["watch_done"] <= 2.0, f"{loop['watch_done']:.2f} s ({each}; a cold `publisher build` after "
                                        f"the same edit: {loop['edit_one']:.2f} s)")
    if "watch_far_done" in loop:
        out.append(f"       {loop['facts']} facts: the same edit in a chapter of the sheet's longest piece "
                   f"({loop['watch_far_pages']} pages laid out again): {loop['watch_far_done']:.2f} s "
                   f"(sheet {loop.get('watch_far_pdf', 0):.2f} s)")
    if "watch_resave_epub" in loop:
        r = max(loop["watch_resave_anki"], loop["watch_resave_epub"])
        line(f"{loop['facts']} facts: a save while the sheet of the save before is laid out, its deck and EPUB in "
             "at most 2 s", r <= 2.0, f"deck {loop['watch_resave_anki']:.2f} s, EPUB {loop['watch_resave_epub']:.2f} s")
    line(f"{loop['facts']} facts: the EPUB alone, from nothing, in at most 2 s", loop["epub"] <= 2.0, f"{loop['epub']:.2f} s")
    if "ratio_full_vs_pandoc" in big:
        r = big["ratio_full_vs_pandoc"]
        line("full build at most half the time of pandoc EPUB + pandoc/WeasyPrint PDF", r <= 0.5, f"ratio {r:.2f}")
    line("Anki package alone under 5 s", big["anki"] < 5, f"{big['anki']:.2f} s")
    line("no-op rebuild under 0.5 s", big["noop"] < 0.5, f"{big['noop']:.2f} s")
    line("peak memory of the process tree at most 1 GB", big["peak_mib"] <= 1024, f"{big['peak_mib']} MiB")
    below = [r for r in rows if r["facts"] < big["facts"]]
    if below:
        a = max(below, key=lambda r: r["facts"])
        g = (big["full"] / a["full"]) / (big["facts"] / a["facts"])
        line(f"time grows no faster than linearly {a['facts']}->{big['facts']}", g <= 1.0, f"superlinearity {g:.2f}")
    out = [x if re.search(r"\d facts: ", x) else f"{big['facts']} facts: {x}" for x in out]  # (the loop's name their size)
    if check:
        ratio = f", {check['ratio_check_vs_pandoc']:.2f}x pandoc reading it" if "ratio_check_vs_pandoc" in check else ""
        out.append(f"{'met   ' if check['check'] <= 2.0 else 'MISSED'} check of a {check['files']:.0f}-file jargon tree "
                   f"in at most 2 s: {check['check']:.2f} s{ratio}")
    if faults:
        ok = faults["noop_3gb_peak_mib"] < 300
        out.append(f"{'met   ' if ok else 'MISSED'} no-op build beside a 3 GB file under 300 MB: "
                   f"{faults['noop_3gb_peak_mib']:.0f} MiB, {faults['noop_3gb']:.2f} s")
        ok = faults["files_100k_refused"] == 1 and faults["files_100k"] < 60
        out.append(f"{'met   ' if ok else 'MISSED'} 100,000 note files refused early with a message: {faults['files_100k']:.1f} s")
        ok = faults["long_chapter"] <= 60 and faults["long_chapter_peak_mib"] <= 1536
        out.append(f"{'met   ' if ok else 'MISSED'} one {faults['long_chapter_mb']:g} MB file, every artifact, in at most "
                   f"60 s and 1.5 GB: {faults['long_chapter']:.1f} s, peak {faults['long_chapter_peak_mib']:.0f} MiB")
        ok = faults["chapter_5mb"] <= 60 and faults["chapter_5mb_peak_mib"] <= 1536
        out.append(f"{'met   ' if ok else 'MISSED'} a 5 MB file refused early (P003), at most 60 s and 1.5 GB: "
                   f"{faults['chapter_5mb']:.1f} s, peak {faults['chapter_5mb_peak_mib']:.0f} MiB")
        for key in sorted(k for k in faults if k.startswith("bomb_") and not k.endswith("_peak_mib")):
            ok = faults[key] <= 60 and faults[key + "_peak_mib"] <= 1536
            out.append(f"{'met   ' if ok else 'MISSED'} Markdown bomb {key[5:]} in at most 60 s and 1.5 GB: "
                       f"{faults[key]:.1f} s, peak {faults[key + '_peak_mib']:.0f} MiB")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="300,3000,10000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-pandoc", action="store_true")
    ap.add_argument("--check-files", type=int, default=200, help="files in the jargon tree that `check` reads (0: skip)")
    ap.add_argument("--no-faults", action="store_true", help="skip the 3 GB file, 100,000-file and long-file cases")
    ap.add_argument("--long-chapter-mb", type=float, default=2.0, help="size of the one long file (2: the largest taken)")
    ap.add_argument("--json", default=str(ROOT / "build" / "bench.json"))
    args = ap.parse_args()
    pandoc = None if args.no_pandoc else pandoc_path()
    if not pandoc and not args.no_pandoc:
        print("pandoc not found: `pip install pypandoc-binary` for the baselines", file=sys.stderr)
    rows = []
    with tempfile.TemporaryDirectory(prefix="publisher-bench-") as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            print(f"benchmarking {n} facts ...", file=sys.stderr, flush=True)
            rows.append(bench_size(n, Path(tmp), args.repeat, pandoc))
        check = None
        if args.check_files:
            print(f"benchmarking check on {args.check_files} files ...", file=sys.stderr, flush=True)
            check = bench_check(Path(tmp), args.repeat, pandoc, args.check_files)
        faults = None
        if not args.no_faults:
            print("benchmarking a 3 GB file beside the notes and 100,000 note files ...", file=sys.stderr, flush=True)
            faults = bench_faults(Path(tmp), args.long_chapter_mb)
    cols = ["facts", "full", "anki", "pdf", "epub", "noop", "edit_one", "watch_done", "peak_mib", "pandoc_epub", "pandoc_pdf",
            "ratio_full_vs_pandoc"]
    print("  ".join(f"{c:>12}" for c in cols))
    for r in rows:
        print("  ".join(f"{r[c]:>12.2f}" if isinstance(r.get(c), float) else f"{r.get(c, '-'):>12}" for c in cols))
    if len(rows) >= 2 and rows[-2]["facts"] and rows[-1]["facts"]:
        a, b = rows[-2], rows[-1]
        growth = (b["full"] / a["full"]) / (b["facts"] / a["facts"])
        print(f"growth {a['facts']}->{b['facts']} facts: time x{b['full'] / a['full']:.2f} for facts x{b['facts'] / a['facts']:.2f} (superlinearity {growth:.2f}; <= 1 is linear or better)")
    if check:
        extra = f", pandoc {check['pandoc_html']:.2f} s (ratio {check['ratio_check_vs_pandoc']:.2f})" if "pandoc_html" in check else ""
        print(f"check, {check['files']:.0f}-file jargon tree: {check['check']:.2f} s, peak {check['check_peak_mib']} MiB{extra}")
    targets = check_targets(rows, check, faults)
    for line in targets:
        print(line)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"cores": os.cpu_count(), "rows": rows, "check": check, "faults": faults,
                                           "targets": targets}, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
