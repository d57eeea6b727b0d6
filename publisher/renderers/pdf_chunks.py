"""A long cheat sheet laid out in parallel chunks, each cached, then merged into one PDF.

WeasyPrint's layout is single-threaded and linear in the size of the book. A
book of more than :data:`CHUNK_FACTS` facts is cut, between chapters (and, in a
very long chapter, between its sections), into consecutive chunks; each chunk is its own HTML document (the sheet template
with some chapters; only the first has the title block), laid out without the
running footer (``templates/cheatsheet/chunk.css``) in a forked worker
process, and cached under ``<out>/.cache/pdf/<slug>-<sha256>.pdf``: the hash
covers the chunk's HTML, the stylesheets and the renderer's code; a JSON file
next to it records every URL the layout fetched (with the served file's
SHA-256, or the refusal), so an edited picture or font is a cache miss, and a
cache hit reports the same refusals. A one-chapter edit lays out one chunk again.

A chunk's columns fill in order, its last page's too (``chunk.css``: never balanced). When that last page
is under half full, the next chunk starts on it: that chunk is laid out after as many empty columns
(``.column-skip`` blocks, ``sheet.html``) as the page uses, and its first page is drawn onto the page
(:func:`_overlay`), so no page but the book's last is under half full, and a chunk can be a few pages long
(:data:`CHUNK_FACTS`, about two pages: a one-line edit lays out two pages, not ten). Where a chunk ends
decides where the next one starts: :func:`_resolve` lays out every chunk missing from the cache at once,
each after the empty columns the chunk before is expected to leave (a chunk laid out after other empty
columns ends where its columns, moved, end), and lays out again the few whose expectation was wrong.

The chunks are then merged with pikepdf: pages in order; the structure trees
(the chunks' /Document children under the first chunk's /Document, their
/StructParents and /StructParent keys shifted past the ones before); the
outline; the named destinations (links between chapters in different chunks
point at empty anchors in their own chunk, then at the real target); the
document information of the whole book. Last, the running footers ("page N of
M") are laid out as a document of M pages holding only the footers
(``templates/cheatsheet/footers.html`` with the sheet's own stylesheet) and
stamped on the pages as marked artifacts. The result is saved without /ID and
without any clock, so it is byte-identical for unchanged sources, cache hit or
miss.
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import json
import os
import pickle
import re
import signal
import time
import traceback
import warnings
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Callable, Sequence

from ..core import model as m
from ..markup import templates
from ..markup.fetcher import FetchRefused, Refusal, SafeFetcher
from ..core.fsutil import STOPS, KeptFiles, atomic_path, commit_point, temp_beside, worker_init
from ..core.text import chapter_inlines, facts
from . import cache_dir, image_stats, salt, sheet, sheet_heads

# A chunk holds at least this many facts, about two pages (a smaller book is one chunk, laid out as one
# document). The tests lower it to cut a small book into chunks.
CHUNK_FACTS = 300
IMAGE_WEIGHT = 10_000  # a picture weighs as much as this many characters of the chunk's HTML (half a column of text)
LAYOUT_BUDGET = 1.5  # the layouts running at once: at most this many times the heaviest one's weight,
LAYOUT_FLOOR = 500_000  # or this much (two chunks of text, some 30 pages, run side by side whatever their size)
CACHE_FORMAT = "5"  # bump when what a cache entry holds changes
_ID = re.compile(rb"/ID \[<[0-9a-fA-F]*><[0-9a-fA-F]*>\]")


# --------------------------------------------------------------------------- planning


def chapter_facts(book: m.Book) -> list[int]:
    per_file: dict[str, int] = {}
    for loc, _ in facts(book):
        per_file[loc.file] = per_file.get(loc.file, 0) + 1
    return [per_file.get(ch.file, 0) for ch in book.chapters]


def _block_facts(book: m.Book, i: int) -> list[int]:
    """The facts under each top-level block of chapter ``i`` (footnotes count with the last block)."""
    ch = book.chapters[i]
    starts = [b.loc.line for b in ch.blocks]
    per_block = [0] * len(starts)
    for loc, _ in facts(m.Book(book.meta, (ch,), book.root)):
        per_block[max(0, bisect.bisect_right(starts, loc.line) - 1)] += 1
    return per_block


def _is_anchor(key: str) -> bool:
    """Half of the places a chunk may end at, chosen by a name alone (a file, a section's anchor)."""
    return hashlib.sha256(key.encode()).digest()[0] % 2 == 0


def _anchor(chapter: m.Chapter) -> bool:
    """Half of the chapters, chosen by their file name alone (its path in the book, wherever the book
    is), may end a chunk."""
    return _is_anchor(chapter.path or chapter.file)


Entry = sheet.Entry  # whole chapters, or pieces of a long one (see sheet.Entry)


def plan(book: m.Book, threshold: int | None = None) -> list[list[Entry]]:
    """Consecutive chapters (or pieces of one) per chunk.

    A chunk ends after a chapter once it holds ``threshold`` facts and that
    chapter is an *anchor* (decided by its file name), or once it holds twice
    the threshold. An edit that changes the size of one chunk moves at most its
    own end: the next anchor puts every later boundary back where it was. A
    last chunk smaller than half the threshold joins the one before.

    A chapter of more than twice the threshold is cut the same way between its
    top-level blocks (a section is an anchor by its own anchor name), so one
    long file is laid out in parallel too.
    """
    threshold = CHUNK_FACTS if threshold is None else threshold
    counts = chapter_facts(book)
    # units: (chapter, block or None for all of it), facts, may a chunk end after it
    units: list[tuple[int, int | None, int, bool]] = []
    for i, (ch, count) in enumerate(zip(book.chapters, counts)):
        if count <= 2 * threshold or len(ch.blocks) < 2:
            units.append((i, None, count, _anchor(ch)))
            continue
        for j, (block, n) in enumerate(zip(ch.blocks, _block_facts(book, i))):
            name = block.anchor if isinstance(block, m.Section) else f"{j}"
            units.append((i, j, n, _is_anchor(f"{ch.path or ch.file}#{name}")))
        units[-1] = units[-1][:3] + (_anchor(ch),)

    chunks: list[list[tuple[int, int | None]]] = []
    current: list[tuple[int, int | None]] = []
    n = 0
    for i, j, count, anchor in units:
        current.append((i, j))
        n += count
        if n >= threshold and (anchor or n >= 2 * threshold):
            chunks.append(current)
            current, n = [], 0
    if current:
        if chunks and n < threshold // 2:
            chunks[-1].extend(current)
        else:
            chunks.append(current)
    return [_entries(book, chunk) for chunk in chunks] or [[]]


def _entries(book: m.Book, chunk: list[tuple[int, int | None]]) -> list[Entry]:
    out: list[Entry] = []
    for i, j in chunk:
        if j is None:
            out.append(i)
        elif out and isinstance(out[-1], tuple) and out[-1][0] == i:
            out[-1] = (i, out[-1][1], j + 1)
        else:
            out.append((i, j, j + 1))
    # a piece that turned out to be all of its chapter is the chapter
    return [e[0] if isinstance(e, tuple) and e[1] == 0 and e[2] == len(book.chapters[e[0]].blocks) else e
            for e in out]


# --------------------------------------------------------------------------- one chunk


class RecordingFetcher(SafeFetcher):
    """A :class:`SafeFetcher` that remembers every URL asked for and what came of it."""

    def __init__(self, mounts, generated=None, only=None) -> None:
        super().__init__(mounts, generated, only)
        self.log: list[dict] = []

    def fetch(self, url: str, headers: dict | None = None):
        sealed = self.sealed
        if any(url.startswith(prefix) for prefix in self.generated):
            return super().fetch(url, headers)  # made from the URL alone (a formula): the document decides it
        try:
            response = super().fetch(url, headers)
        except FetchRefused:
            r = self.refused[-1]
            self.log.append({"url": url, "sealed": sealed, "code": r.code, "reason": r.reason})
            raise
        digest = hashlib.sha256(self.served[-1].read_bytes()).hexdigest()
        self.log.append({"url": url, "sealed": sealed, "sha256": digest})
        return response


def still_valid(log: list[dict], fetcher: SafeFetcher) -> bool:
    """Would the layout fetch exactly the same today?"""
    for entry in log:
        if entry["sealed"]:
            continue  # refused whatever the files: decided by the document alone
        decision = fetcher.check(entry["url"])
        if isinstance(decision, Refusal):
            if (decision.code, decision.reason) != (entry.get("code"), entry.get("reason")):
                return False
        else:
            try:
                if hashlib.sha256(decision.read_bytes()).hexdigest() != entry.get("sha256"):
                    return False
            except OSError:
                return False
    return True


@dataclass
class Job:
    source: str
    styles: tuple[str, ...]
    pdf: Path
    record: Path
    weight: int = 0
    tags: bool = True
    error: Path = field(init=False)

    def __post_init__(self) -> None:
        self.error = self.pdf.with_suffix(".err")


def lay_out(job: Job, content_dir: Path) -> None:
    """Lay out one document: its PDF and its record (pages, fetches) into the cache."""
    made = sheet.make_fetcher(content_dir)
    fetcher = RecordingFetcher(made.mounts, made.generated, made.only)
    fetcher.transform = made.transform
    heads: list[list[sheet_heads.Head]] = []
    shape: dict = {}
    pages = sheet.write_pdf(job.source, job.styles[0], job.pdf, fetcher, extra_css=job.styles[1:], tags=job.tags,
                          heads=heads, shape=shape)
    digest = hashlib.sha256(job.pdf.read_bytes()).hexdigest()  # checked before the chunk is used again
    record = {"pages": pages, "fetches": fetcher.log, "sha256": digest,
              "heads": [[h.as_dict() for h in page] for page in heads], "shape": shape}
    record["seal"] = _seal(record)
    with atomic_path(job.record) as tmp:
        tmp.write_text(json.dumps(record, sort_keys=True), "utf-8")


def _seal(record: dict) -> str:
    """One hash over a cache record and (through its ``sha256``) the PDF it describes."""
    body = {k: v for k, v in record.items() if k != "seal"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode("utf-8")).hexdigest()


def verified(job: Job, fetcher: SafeFetcher | None = None) -> dict | None:
    """The record of a laid-out document, if it and its PDF are whole and as written (and, with ``fetcher``,
    every file it fetched is still the same); None: a miss, never something to trust."""
    try:
        record = json.loads(job.record.read_text("utf-8"))
        ok = (isinstance(record, dict) and record.get("seal") == _seal(record) and job.pdf.is_file()
              and hashlib.sha256(job.pdf.read_bytes()).hexdigest() == record["sha256"]
              and isinstance(record["pages"], int) and isinstance(record["heads"], list)
              and isinstance(record["shape"], dict)
              and (fetcher is None or still_valid(record["fetches"], fetcher)))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return record if ok else None


def start(job: Job, content_dir: Path) -> int:
    """Lay out ``job`` in a forked worker process; its pid (see :func:`finish`).

    Raw ``os.fork``: it works in a daemonic process too (the build's renderer
    workers), where multiprocessing may not start children."""
    job.error.unlink(missing_ok=True)
    parent = os.getpid()
    # the child takes a stop only once worker_init has set it up (it unblocks them there)
    held = signal.pthread_sigmask(signal.SIG_BLOCK, STOPS)
    try:
        pid = os.fork()
    finally:
        if os.getpid() == parent:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
    if pid == 0:  # the worker: lay out, report, and leave without running the parent's exit code
        code = 0
        try:
            # stopped (by the build's time limit, or its parent ending): unwind, so the
            # temp files of the layout are removed on the way out
            worker_init(parent)
            lay_out(job, content_dir)
        except BaseException:  # noqa: BLE001 - everything goes back to the parent
            code = 1
            try:
                job.error.write_text(traceback.format_exc(), "utf-8")
            except BaseException:  # noqa: BLE001
                pass
        finally:
            os._exit(code)
    return pid


def finish(pid: int, job: Job, block: bool = True) -> str | None:
    """None while the worker runs (``block=False``), then "" or why it failed."""
    got, status = os.waitpid(pid, 0 if block else os.WNOHANG)
    if not got:
        return None
    if os.waitstatus_to_exitcode(status) == 0 and job.record.is_file():
        return ""
    try:
        why = job.error.read_text("utf-8")
    except OSError:
        why = f"a layout worker ended with status {status}"
    job.error.unlink(missing_ok=True)
    return why or "a layout worker failed"


def stop(pid: int, job: Job) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
    except OSError:
        pass
    job.error.unlink(missing_ok=True)


def can_fork() -> bool:
    return hasattr(os, "fork") and (os.cpu_count() or 1) > 1


def run_jobs(jobs: list[Job], content_dir: Path, idle: Callable[[], None] | None = None) -> None:
    """Lay out the documents: in forked workers (as many as CPUs) when there are several, else here.
    ``idle``: work for this process while the workers lay out (then even one document is laid out in a
    worker); where there is no worker, it is not done."""
    workers = min(len(jobs), os.cpu_count() or 1)
    if not can_fork() or (workers <= 1 and idle is None):
        for job in jobs:
            lay_out(job, content_dir)
        return
    pending = sorted(jobs, key=lambda j: -j.weight)  # longest first: the workers finish together
    # memory: the layouts side by side hold at most this much (a layout's memory grows with its document and
    # its pictures): two heavy chunks never run together, a lighter one keeps the other CPU busy
    budget = max(LAYOUT_BUDGET * pending[0].weight, LAYOUT_FLOOR)
    running: dict[int, Job] = {}
    failed: list[str] = []
    try:
        while pending or running:
            while pending and len(running) < workers:
                held = sum(j.weight for j in running.values())
                fits = [j for j in pending if not running or held + j.weight <= budget]
                if not fits:
                    break
                job = fits[0]
                pending.remove(job)
                running[start(job, content_dir)] = job
            if idle is not None:
                idle()
                idle = None
                continue
            done = False
            for pid in list(running):
                why = finish(pid, running[pid], block=False)
                if why is not None:
                    running.pop(pid)
                    done = True
                    if why:
                        failed.append(why)
            if not done:
                time.sleep(0.02)
    finally:  # interrupted (or stopped by the build's time limit): no worker outlives the renderer
        for pid, job in running.items():
            stop(pid, job)
    if failed:
        raise RuntimeError("laying out a chunk of the sheet failed:\n" + failed[0])


# --------------------------------------------------------------------------- the whole sheet


def _code_digest() -> str:
    here = Path(__file__).resolve().parent
    h = hashlib.sha256(CACHE_FORMAT.encode())
    for p in (here / "pdf.py", here / "pdf_chunks.py", here / "sheet.py", here / "sheet_heads.py", here / "wpcolumns.py", here.parent / "markup" / "fetcher.py"):
        h.update(p.read_bytes())
    try:
        import weasyprint
        h.update(weasyprint.__version__.encode())
    except Exception:  # noqa: BLE001
        pass
    return h.hexdigest()


def _ids(source: str) -> set[str]:
    return {unescape(x) for x in re.findall(r'\sid="([^"]+)"', source)}


def _targets(source: str) -> set[str]:
    return {unescape(x) for x in re.findall(r'\shref="#([^"]+)"', source)}


def next_skip(shape: dict, columns: int) -> int:
    """The columns the next chunk leaves empty at the top of its first page: those the last page of a chunk
    of this ``shape`` uses, when that page is under half full (the next chunk's first page is then drawn
    onto it), else 0 (the next chunk starts a page)."""
    used, fill = int(shape.get("columns", 0)), float(shape.get("fill", 1.0))
    if used <= 0 or used >= columns:
        return 0
    return used if (used - 1 + fill) / columns < 0.5 else 0


def moved(record: dict, skip: int, to: int, columns: int) -> dict:
    """The shape of a chunk laid out after ``to`` empty columns, from its ``record`` laid out after ``skip``:
    the same columns of text, moved (each column of a page holds as much as any other)."""
    shape = record["shape"]
    slots = (int(record["pages"]) - 1) * columns + int(shape["columns"]) - skip + to
    return {"columns": (slots - 1) % columns + 1, "fill": shape["fill"]}


def _resolve(count: int, columns: int, job, fetcher: SafeFetcher, content_dir: Path,
             hint: Sequence[int] = (), idle: Callable[[list[int]], None] | None = None) -> tuple[list[int], list[dict]]:
    """Lay out (or find in the cache) each chunk after the empty columns the chunk before leaves it; the
    empty columns per chunk and the records of their layouts.

    A chunk's empty columns depend on where the chunk before ends, known once it is laid out. Every chunk
    not in the cache is laid out at once (in parallel), after the empty columns the chunks before it are
    expected to leave: a chunk already laid out after other empty columns tells where it will end (its
    columns move, they do not change); one never laid out (an edited one) is expected to leave what it
    left in the last build (``hint``: the empty columns of each chunk then), else none. Any chunk whose
    expectation was wrong is laid out again, and so on until each has its layout (in an edit, usually the
    one chunk edited). If the template leaves no empty columns where asked (a sheet.html without the
    ``column-skip`` blocks), every chunk starts a page. ``idle``: given the empty columns of the chunks
    before the first one being laid out (they are laid out), while the layouts run."""
    laid: dict[tuple[int, int], dict] = {}
    tried: set[tuple[int, int]] = set()
    allowed = True

    def record(n: int, skip: int, fresh: bool = False) -> dict | None:
        if (n, skip) not in laid and (fresh or (n, skip) not in tried):
            tried.add((n, skip))
            j = job(n, skip, source=False)
            found = verified(j, None if fresh else fetcher) if j.pdf.exists() or fresh else None
            if found is not None:
                laid[(n, skip)] = found
        return laid.get((n, skip))

    while True:
        spacers, need, skip = [], [], 0
        for n in range(count):
            spacers.append(skip)
            found = record(n, skip)
            if found is not None:
                if found["shape"].get("skipped", 0) < skip:
                    allowed = False
                    break
                # (never onto the title block's page: its columns start lower)
                skip = next_skip(found["shape"], columns) if allowed and (n or int(found["pages"]) > 1) else 0
                continue
            need.append((n, skip))
            other = next(((s_, r) for s_ in range(columns) if (r := record(n, s_)) is not None), None)
            if other is None:  # (an edit seldom moves where its chunk ends)
                skip = hint[n + 1] if allowed and n + 1 < len(hint) else 0
            else:
                skip = (next_skip(moved(other[1], other[0], skip, columns), columns)
                        if allowed and (n or int(other[1]["pages"]) > 1) else 0)
        else:
            if not need:
                return spacers, [laid[(n, s_)] for n, s_ in enumerate(spacers)]
            ready = spacers[:need[0][0]]
            run_jobs([job(n, s_) for n, s_ in need], content_dir,
                     idle=(lambda: idle(ready)) if idle is not None and ready else None)
            for n, s_ in need:
                if record(n, s_, fresh=True) is None:
                    raise RuntimeError("the layout of a chunk of the sheet is not as it was written: "
                                       f"{job(n, s_, source=False).record}")
            continue
        # (not allowed: start again, every chunk on a page of its own)
        laid = {k: v for k, v in laid.items() if k[1] == 0}


HTML_FORMAT = "sheet-html-1"  # bump when what a kept chunk document holds changes


def _html_key(base: str, book: m.Book, part: Sequence[Entry], n: int, content_dir: Path, paper: str,
              columns: int) -> str:
    """Everything the HTML of chunk ``n`` is written from, hashed (``base``: the code, the libraries and the
    sheet's templates): its chapters whole (a piece shows their footnotes and numbers them) with the pieces
    it shows, the folders around them, the book's information, the paper, the columns, whether it holds the
    title block, and the images it shows (their size and time: a picture's size decides a block's lines)."""
    shown, urls = [], set()
    for i, lo, hi in sheet._pieces(book, part):
        ch = book.chapters[i]
        before = book.parts_of(book.chapters[i - 1]) if i > 0 else ()
        shown.append((i, lo, hi, dataclasses.replace(ch, hints=None), book.parts_of(ch), before))
        urls |= {x.url for x in chapter_inlines(ch) if isinstance(x, m.Image)}
    payload = (base, n == 0, paper, columns, book.meta, shown, image_stats(content_dir, urls))
    return hashlib.sha256(pickle.dumps(payload, protocol=5)).hexdigest()


def render_chunked(book: m.Book, chunks: list[list[int]], content_dir: Path, out_dir: Path, dest: Path,
                   paper: str, columns: int, css: str) -> tuple[int, list[Refusal]]:
    """Write the sheet of ``book`` cut into ``chunks`` to ``dest``; (pages, refusals)."""
    chunk_css = templates.read_text(f"{sheet.FOLDER}/chunk.css", content_dir)
    cache = cache_dir(out_dir, sheet.NAME)
    cache.mkdir(parents=True, exist_ok=True)
    code = _code_digest()
    slug = book.meta.slug

    # the chunks' documents; the targets of links into other chunks become empty anchors. Each is kept by
    # everything it is written from (:func:`_html_key`): an edit writes its own chunk's again, not the others'
    kept = KeptFiles(cache, f"{slug}-html-", ".json")
    base = salt(HTML_FORMAT, sheet.FOLDER, content_dir)
    made: list[tuple[str, dict]] = []

    def written(key: str, make) -> dict:  # noqa: ANN001 - make: () -> the entry
        try:
            entry = json.loads(kept.get(key) or b"null")
        except ValueError:
            entry = None
        if not isinstance(entry, dict) or not isinstance(entry.get("html"), str):
            entry = make()
            made.append((key, entry))  # (kept once the checks have passed: the build writes nothing before)
        return entry

    def plain_of(n: int) -> dict:
        text = sheet.document_html(book, content_dir, paper, columns, chunks[n], head=(n == 0))
        return {"html": text, "ids": sorted(_ids(text)), "targets": sorted(_targets(text))}

    prints = [_html_key(base, book, part, n, content_dir, paper, columns) for n, part in enumerate(chunks)]
    plain = [written(prints[n], lambda n=n: plain_of(n)) for n in range(len(chunks))]  # (n bound per chunk)
    owned = [set(p["ids"]) for p in plain]
    every = set().union(*owned)
    sources, dummies = [], []
    for n, (part, p) in enumerate(zip(chunks, plain)):
        missing = sorted(t for t in p["targets"] if t in every and t not in owned[n])
        dummies.append(set(missing))
        if not missing:
            sources.append(p["html"])
            continue

        def anchored(part=part, head=(n == 0), anchors=missing) -> dict:
            return {"html": sheet.document_html(book, content_dir, paper, columns, part, head=head, anchors=anchors)}
        key = hashlib.sha256(json.dumps([prints[n], missing]).encode()).hexdigest()
        sources.append(written(key, anchored)["html"])

    fetcher = sheet.make_fetcher(content_dir)
    keys = [hashlib.sha256(json.dumps([code, source, css, chunk_css]).encode()).hexdigest() for source in sources]

    def job(n: int, skip: int, source: bool = True) -> Job:
        """Chunk ``n`` laid out after ``skip`` empty columns (``source``: with its HTML, to lay it out)."""
        html_ = "" if not source else sources[n] if not skip else sheet.document_html(
            book, content_dir, paper, columns, chunks[n], head=(n == 0), anchors=sorted(dummies[n]), skip=skip)
        return Job(html_, (css, chunk_css), cache / f"{slug}-{keys[n]}-{skip}.pdf",
                   cache / f"{slug}-{keys[n]}-{skip}.json", len(html_) + IMAGE_WEIGHT * html_.count("<img"))

    # the empty columns each chunk started after in the last build: where an edited chunk is expected to end
    chain = cache / f"{slug}-starts.json"
    try:
        hint = [int(x) for x in json.loads(chain.read_text("utf-8"))]
    except (OSError, ValueError, TypeError):
        hint = []
    # while an edited chunk is laid out (in a worker), the chunks before it are merged here
    def parts(n: int, skip: int) -> Path:
        return cache / f"{slug}-{keys[n]}-{skip}.pdf"

    early: list[tuple[list[int], Merger]] = []

    def merge_ready(ready: list[int]) -> None:
        if early and early[0][0] == ready[:len(early[0][0])]:  # (a later round: the ones merged stay)
            done, merger = early[0]
        else:
            done, merger = [ready[0]], Merger(parts(0, ready[0]), dummies[0], drawn=cache / f"{slug}-drawn")
        for n in range(len(done), len(ready)):
            merger.add(parts(n, ready[n]), dummies[n], _continues(book, chunks[n]), bool(ready[n]))
        early[:] = [(ready, merger)]

    spacers, records = _resolve(len(chunks), columns, job, fetcher, content_dir, hint, idle=merge_ready)
    if spacers != hint:
        with atomic_path(chain) as tmp:
            tmp.write_text(json.dumps(spacers), "utf-8")

    # prune this book's entries that no chunk uses any more
    commit_point()
    for key, entry in made:
        kept.put(key, json.dumps(entry).encode("utf-8"))
    kept.prune()
    keep = {f"{slug}-{keys[n]}-{s}.{ext}" for n, s in enumerate(spacers) for ext in ("pdf", "json")}
    for old in cache.glob(f"{slug}-*"):
        if old.name not in keep and re.fullmatch(rf"{re.escape(slug)}-[0-9a-f]{{64}}(?:-\d+)?\.(pdf|json|err)", old.name):
            old.unlink(missing_ok=True)

    refused: list[Refusal] = []
    heads: list[list[sheet_heads.Head]] = []
    total = 0
    for n, record in enumerate(records):
        pages = list(sheet_heads.from_record(record["heads"]))
        if spacers[n] and heads:  # its first page is drawn onto the last page of the chunk before
            heads[-1] = heads[-1] + pages[0]
            pages = pages[1:]
        heads += pages
        total += int(record["pages"]) - (1 if spacers[n] else 0)
        refused += [Refusal(e["url"], e["code"], e["reason"]) for e in record["fetches"] if "code" in e]

    # the running footers of all pages: a document of their own, laid out (in a worker, when there is a
    # spare CPU) while the chunks are merged, and cached (an edit that moves no page's footer or heads, the
    # usual one, lays out nothing more)
    env = templates.environment(content_dir)
    footers_html = env.get_template(f"{sheet.FOLDER}/footers.html").render(
        meta=book.meta, paper=sheet.PAPERS[paper][0], paper_name=paper, columns=columns,
        byline=sheet._byline(book.meta), pages=total, heads=heads, footers=True)
    key = hashlib.sha256(json.dumps([code, footers_html, css]).encode()).hexdigest()
    feet = Job(footers_html, (css,), cache / f"{slug}-footers-{key}.pdf", cache / f"{slug}-footers-{key}.json",
               tags=False)
    commit_point()
    for old in cache.glob(f"{slug}-footers*"):
        if old.name not in (feet.pdf.name, feet.record.name):
            old.unlink(missing_ok=True)
    pid = None
    if verified(feet, fetcher) is None:
        feet.record.unlink(missing_ok=True)
        pid = start(feet, content_dir) if can_fork() else None
    try:
        ready, merger = early[0] if early and early[0][0] == spacers[:len(early[0][0])] else (
            [spacers[0]], Merger(parts(0, spacers[0]), dummies[0], drawn=cache / f"{slug}-drawn"))
        early.clear()
        for n in range(len(ready), len(chunks)):
            merger.add(parts(n, spacers[n]), dummies[n], _continues(book, chunks[n]), bool(spacers[n]))
        merged = merger.done(sheet.book_keywords(book))
        if pid is not None:
            why, pid = finish(pid, feet), None
            if why:
                raise RuntimeError("laying out the running footers failed:\n" + why)
        elif not feet.record.is_file():
            lay_out(feet, content_dir)
        record = verified(feet)
        if record is None:
            raise RuntimeError(f"the layout of the running footers is not as it was written: {feet.record}")
        refused += [Refusal(e["url"], e["code"], e["reason"]) for e in record["fetches"] if "code" in e]
        stamp_and_save(merged, feet.pdf, dest)
    finally:
        if pid is not None:
            stop(pid, feet)
            for f in (feet.pdf, feet.record):
                f.unlink(missing_ok=True)
        feet.error.unlink(missing_ok=True)
    return total, refused


# --------------------------------------------------------------------------- merging


def _numbers(tree) -> list[tuple[int, object]]:
    """The (key, value) pairs of a number tree."""
    import pikepdf

    return [(int(k), v) for k, v in pikepdf.NumberTree(tree).items()]


def _names(tree) -> list[tuple[str, object]]:
    """The (name, value) pairs of a name tree."""
    import pikepdf

    return [(str(k), v) for k, v in pikepdf.NameTree(tree).items()]


def _import(pdf, obj):
    """``obj`` of another PDF, in ``pdf`` (indirect objects copied once, pages mapped to their copies)."""
    import pikepdf

    if isinstance(obj, pikepdf.Object) and obj.is_indirect:
        return obj if obj.is_owned_by(pdf) else pdf.copy_foreign(obj)
    if isinstance(obj, pikepdf.Array):
        return pikepdf.Array([_import(pdf, x) for x in obj])
    if isinstance(obj, pikepdf.Dictionary):
        return pikepdf.Dictionary({k: _import(pdf, v) for k, v in obj.items()})
    return obj


def _outline(pdf, src) -> list:
    import pikepdf

    def walk(items) -> list:
        out = []
        for it in items:
            dest = it.destination
            new = pikepdf.OutlineItem(it.title, _import(pdf, dest) if dest is not None else None)
            new.is_closed = it.is_closed
            new.children.extend(walk(it.children))
            out.append(new)
        return out

    with src.open_outline() as ol:
        return walk(ol.root)


def _continues(book: m.Book, part: Sequence[Entry]) -> tuple[int, int]:
    """A chunk that opens with the rest of a chapter: (how many outline entries of its own that rest
    opens with, the outline depth of its chapter), else (0, 0)."""
    if not part or isinstance(part[0], int) or part[0][1] == 0:
        return 0, 0
    i, lo, hi = part[0]
    ch = book.chapters[i]
    # its sections at the top of the piece (h2, h3: h4 and below have no outline entry)
    roots = sum(1 for b in ch.blocks[lo:hi] if isinstance(b, m.Section) and b.level <= 3)
    return roots, 1 + min(3, len(book.parts_of(ch)))  # as sheet.css sets bookmark-level


def merge_chunks(parts: Sequence[Path], dummies: Sequence[set[str]], keywords: str,
                 continues: Sequence[tuple[int, int]] = (), onto: Sequence[bool] = (), drawn: Path | None = None):
    """The chunks' PDFs as one (a pikepdf.Pdf): pages, structure, outline, destinations, information.

    ``continues``: per chunk, the outline entries it opens with that belong under the chapter the
    chunk before ended in, and that chapter's depth (see :func:`_continues`). ``onto``: per chunk,
    whether its first page is drawn onto the last page of the chunk before (whose columns it left
    empty). ``drawn``: a folder keeping each drawn page's content, rewritten for the page it is drawn onto
    (see :func:`_overlay`); the entries no page drew from this time are removed."""
    merger = Merger(parts[0], dummies[0], drawn)
    for n in range(1, len(parts)):
        merger.add(parts[n], dummies[n], continues[n] if n < len(continues) else (0, 0), n < len(onto) and onto[n])
    return merger.done(keywords)


class Merger:
    """:func:`merge_chunks` a chunk at a time, in order: the chunks laid out already can be merged while
    the layout of a later one runs (the same steps in the same order: the same bytes)."""

    def __init__(self, first: Path, fake: set[str], drawn: Path | None = None) -> None:
        import pikepdf

        self.kept = KeptFiles(drawn, "drawn-", ".bin")
        self.parts = [first]
        self.base = base = pikepdf.open(first)
        tree = base.Root.StructTreeRoot
        self.document = tree.K[0] if isinstance(tree.K, pikepdf.Array) else tree.K
        self.nums = dict(_numbers(tree.ParentTree))
        self.next_key = max(self.nums, default=-1) + 1
        self.outline = _outline(base, base)
        root = base.Root
        self.names = {n: d for n, d in _names(root.Names.Dests)} if "/Names" in root and "/Dests" in root.Names else {}
        for n in fake:
            self.names.pop(n, None)

    def add(self, part: Path, fake: set[str], continues: tuple[int, int] = (0, 0), onto: bool = False) -> None:
        """The next chunk's PDF, after the ones added before it."""
        import pikepdf

        base, nums, document, n = self.base, self.nums, self.document, len(self.parts)
        self.parts.append(part)
        src = pikepdf.open(part)
        offset = self.next_key
        for page in src.pages:
            if "/StructParents" in page.obj:
                page.obj.StructParents = int(page.obj.StructParents) + offset
            for annot in page.obj.get("/Annots", []):
                if "/StructParent" in annot:
                    annot.StructParent = int(annot.StructParent) + offset
        stree = src.Root.StructTreeRoot
        sdoc = stree.K[0] if isinstance(stree.K, pikepdf.Array) else stree.K
        kids = list(sdoc.K) if isinstance(sdoc.K, pikepdf.Array) else [sdoc.K]
        for kid in kids:
            if isinstance(kid, pikepdf.Dictionary) and "/P" in kid:
                del kid["/P"]  # re-parented below; copying it would drag the chunk's whole tree along
        first = len(base.pages)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "named destinations are not preserved": merged below
            base.pages.extend(src.pages)
        snums = _numbers(stree.ParentTree)
        # (an array of elements copied at once, as an object of its own: not element by element)
        nums.update((k + offset, base.copy_foreign(src.make_indirect(v)) if isinstance(v, pikepdf.Array)
                     and not v.is_indirect else _import(base, v)) for k, v in snums)
        self.next_key = offset + max((k for k, _ in snums), default=-1) + 1
        added = []
        for kid in kids:
            if isinstance(kid, pikepdf.Dictionary):
                new = _import(base, kid)
                new.P = document
                document.K.append(new)
                added.append(new)
        items = _outline(base, src)
        own: dict[str, object] = {}
        if "/Names" in src.Root and "/Dests" in src.Root.Names:
            for name, d in _names(src.Root.Names.Dests):
                if name not in fake and name not in self.names:
                    own[name] = _import(base, d)
        if onto:  # its first page drawn onto the page before, whose columns it left empty
            guest, host = base.pages[first], base.pages[first - 1]
            _overlay(base, host, guest, nums, added, f"_c{n}", self.kept)
            items = _repointed(items, guest.obj, host.obj)
            own = {name: _repoint(d, guest.obj, host.obj) for name, d in own.items()}
            for page in [host] + list(base.pages[first + 1:]):
                for annot in page.obj.get("/Annots", []):
                    for key in ("/Dest", "/A"):
                        if key in annot:
                            annot[key] = _repoint(annot[key], guest.obj, host.obj)
            del base.pages[first]
        self.names.update(own)
        roots, depth = continues
        outline = self.outline
        if roots and outline:
            parent = outline[-1]
            for _ in range(depth - 1):
                if not parent.children:
                    break
                parent = parent.children[-1]
            parent.children.extend(items[:roots])
            items = items[roots:]
        outline += items

    def done(self, keywords: str):
        """The merged document (a pikepdf.Pdf)."""
        import pikepdf

        base, nums, names = self.base, self.nums, self.names
        root = base.Root
        root.StructTreeRoot.ParentTree = base.make_indirect(pikepdf.Dictionary(
            Nums=pikepdf.Array([x for k in sorted(nums) for x in (k, nums[k])])))
        if names:
            flat = [x for n in sorted(names, key=lambda s: s.encode("utf-8")) for x in (pikepdf.String(n), names[n])]
            root.Names = pikepdf.Dictionary(Dests=pikepdf.Dictionary(Names=pikepdf.Array(flat)))
        with base.open_outline() as ol:
            ol.root.clear()
            ol.root.extend(self.outline)
        base.docinfo["/Keywords"] = keywords
        self.kept.prune()
        return base


# operators naming a resource: its category and the operand that names it
_NAMED = {"Tf": ("/Font", 0), "gs": ("/ExtGState", 0), "Do": ("/XObject", 0), "sh": ("/Shading", 0),
          "cs": ("/ColorSpace", 0), "CS": ("/ColorSpace", 0)}


def _overlay(pdf, host, guest, nums: dict, elements: list, tag: str, kept: KeptFiles | None = None) -> None:
    """Draw page ``guest`` onto page ``host`` (both of ``pdf``): its content after the host's, its resources
    under names of their own (``tag`` appended), its marked content numbered after the host's (the parent
    tree's entry of each page joined into the host's), its structure elements (``elements``, the guest's
    chunk's, in reading order) and its links on the host page (WeasyPrint drew the column rules next to its empty columns)."""
    import pikepdf

    host_key, guest_key = int(host.obj.StructParents), int(guest.obj.StructParents)
    host_marks, guest_marks = nums[host_key], nums.pop(guest_key)
    shift = len(host_marks)
    resources = host.obj.Resources
    renamed: dict[tuple[str, str], object] = {}
    for category, named in guest.obj.Resources.items():
        if category == "/ProcSet":
            continue
        if category not in resources:
            resources[category] = pikepdf.Dictionary()
        for name, obj in named.items():
            new = pikepdf.Name(f"{name}{tag}")
            resources[category][new] = obj
            renamed[(category, str(name))] = new
    content = b"".join(c.read_bytes() for c in guest.obj.Contents) if isinstance(guest.obj.Contents, pikepdf.Array) \
        else guest.obj.Contents.read_bytes()
    key = hashlib.sha256(json.dumps([CACHE_FORMAT, tag, shift, sorted(f"{c}{n}" for c, n in renamed)]).encode()
                         + content).hexdigest()
    drawn = kept.get(key) if kept is not None else None
    if drawn is None:
        drawn = _rewritten(guest, renamed, shift)
        if kept is not None:
            kept.put(key, drawn)
    host.contents_add(pikepdf.Stream(pdf, b"q\n"), prepend=True)
    host.contents_add(pikepdf.Stream(pdf, drawn))
    host_marks.extend(list(guest_marks))
    if "/Annots" in guest.obj:
        if "/Annots" not in host.obj:
            host.obj.Annots = pikepdf.Array()
        for annot in guest.obj.Annots:
            if "/P" in annot:
                annot.P = host.obj
            host.obj.Annots.append(annot)
    _restructure(elements, guest.obj.objgen, host.obj, shift)


def _rewritten(guest, renamed: dict[tuple[str, str], object], shift: int) -> bytes:
    """Page ``guest``'s content, its resources named as ``renamed`` says and its marked content numbered
    ``shift`` on, to be drawn after another page's (in a graphics state of its own)."""
    import pikepdf

    ops = []
    for operands, op in pikepdf.parse_content_stream(guest):
        code = str(op)
        operands = list(operands)
        if code in _NAMED:
            category, i = _NAMED[code]
            if i < len(operands) and isinstance(operands[i], pikepdf.Name):
                operands[i] = renamed.get((category, str(operands[i])), operands[i])
        elif code in ("scn", "SCN") and operands and isinstance(operands[-1], pikepdf.Name):
            operands[-1] = renamed.get(("/Pattern", str(operands[-1])), operands[-1])
        elif code in ("BDC", "DP") and len(operands) == 2:
            props = operands[1]
            if isinstance(props, pikepdf.Name):
                operands[1] = renamed.get(("/Properties", str(props)), props)
            elif isinstance(props, pikepdf.Dictionary) and "/MCID" in props:
                props.MCID = int(props.MCID) + shift
        ops.append((operands, op))
    return b"Q\nq\n" + pikepdf.unparse_content_stream(ops) + b"\nQ\n"


def _restructure(elements: list, guest: tuple[int, int], host, shift: int) -> None:
    """The structure elements under ``elements`` (in reading order) that start on page ``guest`` moved to page
    ``host``, their marked content on it numbered ``shift`` on. The walk goes in reading order and stops at
    the first element that starts on another page: the guest is its chunk's first page, so no element after
    that one starts on it (an element starts where its first content is; one that goes on to later pages,
    visited before its children, keeps its references to them)."""
    import pikepdf

    stack = list(reversed(elements))
    while stack:
        e = stack.pop()
        if "/Pg" in e:
            if e.Pg.objgen != guest:
                return
            e.Pg = host
            on_guest = True
        else:
            on_guest = False
        kids = e.get("/K")
        if kids is None:
            continue
        many = isinstance(kids, pikepdf.Array)
        items = list(kids) if many else [kids]
        changed = False
        below = []
        for i, it in enumerate(items):
            if isinstance(it, pikepdf.Dictionary):
                kind = it.get("/Type")
                if kind == "/MCR":
                    if ("/Pg" in it and it.Pg.objgen == guest) or ("/Pg" not in it and on_guest):
                        it.MCID = int(it.MCID) + shift
                        if "/Pg" in it:
                            it.Pg = host
                elif kind == "/OBJR":
                    if "/Pg" in it and it.Pg.objgen == guest:
                        it.Pg = host
                else:
                    below.append(it)
            elif on_guest and not isinstance(it, pikepdf.Array):
                items[i] = int(it) + shift  # a marked-content number on the element's own page
                changed = True
        if changed:
            e.K = pikepdf.Array(items) if many else items[0]
        stack += reversed(below)


def _repoint(dest, guest, host):
    """A destination on page ``guest`` put on page ``host`` (others as they are)."""
    import pikepdf

    if isinstance(dest, pikepdf.Array) and len(dest) and isinstance(dest[0], pikepdf.Dictionary) \
            and dest[0].objgen == guest.objgen:
        return pikepdf.Array([host] + list(dest)[1:])
    if isinstance(dest, pikepdf.Dictionary) and "/D" in dest:
        dest.D = _repoint(dest.D, guest, host)
    return dest


def _repointed(items: list, guest, host) -> list:
    for it in items:
        if it.destination is not None:
            it.destination = _repoint(it.destination, guest, host)
        _repointed(it.children, guest, host)
    return items


def stamp_furniture(book: m.Book, content_dir: Path, laid: Path, dest: Path, paper: str, columns: int, css: str,
                    heads: list[list[sheet_heads.Head]], footers: bool) -> list[Refusal]:
    """Lay out the running heads (and the footers, with ``footers``) of the sheet laid out at ``laid``
    as a document of their own, stamp them on its pages and save it to ``dest`` (atomically); the
    fetches refused on the way."""
    import pikepdf

    env = templates.environment(content_dir)
    source = env.get_template(f"{sheet.FOLDER}/footers.html").render(
        meta=book.meta, paper=sheet.PAPERS[paper][0], paper_name=paper, columns=columns,
        byline=sheet._byline(book.meta), pages=len(heads), heads=heads, footers=footers)
    fetcher = sheet.make_fetcher(content_dir)
    with temp_beside(dest, "furniture") as furniture:
        sheet.write_pdf(source, css, furniture, fetcher, tags=False)
        with pikepdf.open(laid) as base:
            stamp_and_save(base, furniture, dest)
    return list(fetcher.refused)


def stamp_and_save(base, footers: Path, dest: Path) -> None:
    """Draw the pages of ``footers`` over those of ``base`` (as artifacts) and save it to ``dest``."""
    import pikepdf

    feet = pikepdf.open(footers)
    assert len(feet.pages) == len(base.pages), (len(feet.pages), len(base.pages))
    for page, foot in zip(base.pages, feet.pages):
        form = base.copy_foreign(foot.as_form_xobject())
        taken = set(page.obj.Resources.get("/XObject", {}).keys()) if "/Resources" in page.obj else set()
        name = next(n for n in (f"/Foot{i}" if i else "/Foot" for i in range(len(taken) + 1)) if n not in taken)
        page.add_resource(form, pikepdf.Name.XObject, pikepdf.Name(name))
        page.contents_add(pikepdf.Stream(base, b"q\n"), prepend=True)
        page.contents_add(pikepdf.Stream(base, b"Q\n/Artifact BMC q " + bytes(str(name), "ascii") + b" Do Q EMC\n"))

    with atomic_path(dest) as tmp:
        base.save(tmp, static_id=True, compress_streams=True,
                  object_stream_mode=pikepdf.ObjectStreamMode.generate)
        data = Path(tmp).read_bytes()
        found = _ID.findall(data)
        if len(found) == 1:  # no file identifier, as in a sheet of one chunk: blank it out in place
            Path(tmp).write_bytes(_ID.sub(lambda mt: b" " * len(mt.group(0)), data))
