"""``publisher build``: read and validate once, then run the renderers (in parallel processes).

One straight line: load (read, normalize, derive cards, validate) -> stop on
errors before anything is written -> decide which renderers are out of date
(a manifest under ``build/`` of each renderer's inputs) -> render -> record.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import contextlib
import dataclasses
import hashlib
import json
import multiprocessing
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from . import __version__, renderers
from .core.diagnostics import Diagnostic, diag, has_errors, strict as make_strict, to_json
from .core.fsutil import (LOCK_NAME, tracked_outside, Busy, atomic_write, clean_stale_temps, early_worker_init,
                          output_lock, signals_held, stop_workers, walk, worker_init)
from .core import model as m
from .core.model import Loaded
from .check.noloss import model_losses
from .pipeline import finish, read_normalized
from .read.reader import keep_readings
from .renderers import Artifact, RenderOptions
from .read.sources import ASSET_SUFFIXES, MAX_FILES, utf8_name
from .markup.templates import compile_all, files_under
from .core.text import count

MANIFEST = ".publisher-manifest.json"
PACKAGE_DIR = Path(__file__).resolve().parent
LEDGER_NAME = "cards.lock"  # written by the Anki renderer: not an input


@dataclass
class Outcome:
    name: str
    status: str  # "built", "skipped", "failed", "stopped" (by a newer save, in watch)
    artifact: Artifact | None = None
    seconds: float = 0.0
    error: str = ""


@dataclass
class BuildResult:
    loaded: Loaded | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics) and all(o.status != "failed" for o in self.outcomes)


# --------------------------------------------------------------------------- change tracking


BIG_FILE = 32 * 1024 * 1024  # larger: known by its size and time, never read whole for the change hash


def _digest(paths: Iterable[Path], base: Path | None = None) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        name = str(p.relative_to(base)) if base and p.is_relative_to(base) else str(p)
        h.update(os.fsencode(name) + b"\0")  # a name that is not UTF-8 is hashed as its bytes
        try:
            st = p.stat()
            if st.st_size > BIG_FILE:
                h.update(f"<{st.st_size} bytes, {st.st_mtime_ns}>".encode())
            else:
                with open(p, "rb") as f:  # streamed: memory stays flat
                    for block in iter(lambda: f.read(1 << 20), b""):
                        h.update(block)
        except OSError:
            h.update(b"<unreadable>")
        h.update(b"\0")
    return h.hexdigest()


# what the book is made of: notes, book.toml, wordlist.txt, mkdocs.yml, images and sounds (a video, an archive or a
# PDF beside the notes is not, and is never read)
INPUT_SUFFIXES = (".md", ".markdown", ".toml", ".txt", "mkdocs.yml") + ASSET_SUFFIXES


def content_inputs(content_dir: Path) -> list[Path]:
    """The book's own files. Its templates/ folder counts per renderer; the ledger only for the renderer that reads it."""
    from .read.sources import SKIP_DIRS

    shadow = content_dir / "templates"
    out = []
    for folder, dirs, files in walk(content_dir):
        # hidden folders (.git) and build output are never read: not inputs either
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS)
        base = Path(folder)
        if base == shadow or base.is_relative_to(shadow):
            continue
        out.extend(base / f for f in files if f != LEDGER_NAME and not f.startswith(".")
                   and f.lower().endswith(INPUT_SUFFIXES))
        dirs[:] = [d for d in dirs if utf8_name(d)]  # left out of the book (P014): not inputs either
    site = content_dir.parent / "mkdocs.yml"  # a MkDocs site's nav orders the book read from its docs/ folder
    if site.is_file():
        out.append(site)
    return sorted(p for p in out if p.is_file())


def renderer_key(name: str, content_dir: Path, options: RenderOptions, content_hash: str, code_hash: str) -> str:
    """Everything the renderer's output depends on, hashed; read from the registry, no import."""
    spec = renderers.REGISTRY[name]
    templates = [p for prefix in spec.templates for p in files_under(prefix, content_dir)]
    own = [content_dir / rel for rel in spec.inputs + spec.reads]  # e.g. the Anki ledger
    parts = {
        "inputs": _digest([p for p in own if p.is_file()], content_dir),
        "renderer": name,
        "version": __version__,
        "code": code_hash,
        "content": content_hash,
        "templates": _digest(templates),
        "options": [options.paper, options.columns, options.strict],
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _relative(out_dir: Path, path: Path) -> str:
    """An artifact's path as the manifest records it: from the output folder, so that the folder can be
    copied or moved (or the build run from elsewhere) and still be judged right."""
    try:
        return Path(os.path.relpath(path, out_dir)).as_posix()
    except ValueError:
        return ""


def _recorded(out_dir: Path, rel: str) -> Path | None:
    """Where a manifest entry's artifact is: a path inside the output folder, or None (as if not built)."""
    p = Path(rel)
    if not rel or p.is_absolute() or ".." in p.parts:
        return None
    return Path(out_dir) / p


def read_manifest(out_dir: Path) -> dict[str, dict[str, str]]:
    """The record of the last build. It is a file anyone could have edited: only entries of the right
    shape (an object of strings) are believed; anything else is as if it were not there."""
    try:
        data = json.loads((out_dir / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {name: entry for name, entry in data.items()
            if isinstance(name, str) and isinstance(entry, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in entry.items())}


CHECKED = "_check"  # the manifest's record of the last check: its key and its findings, replayed on a no-op


def _replayed(manifest: dict[str, dict[str, str]], key: str) -> list[Diagnostic] | None:
    """The findings of the last check of these same inputs (None: not recorded, or of other inputs)."""
    entry = manifest.get(CHECKED, {})
    if entry.get("key") != key:
        return None
    try:
        rows = json.loads(entry.get("diagnostics", ""))
        return [Diagnostic(str(r["file"]), int(r["line"]), str(r["code"]), str(r["message"]), str(r["severity"]))
                for r in rows]
    except (ValueError, TypeError, KeyError):
        return None


# --------------------------------------------------------------------------- rendering


def _render_one(name: str, loaded: Loaded, out_dir: Path, content_dir: Path, options: RenderOptions) -> tuple[Artifact, float]:
    start = time.perf_counter()
    artifact = renderers.get(name).render(loaded, out_dir, content_dir, options)
    return artifact, time.perf_counter() - start


_INHERITED: list[Loaded] = []  # the book a renderer's worker, forked as it is submitted, finds here


def _render_inherited(name: str, out_dir: Path, content_dir: Path, options: RenderOptions) -> tuple[Artifact, float]:
    return _render_one(name, _INHERITED[0], out_dir, content_dir, options)


def _start_worker(ctx, name: str, loaded: Loaded, out_dir: Path, content_dir: Path,  # noqa: ANN001
                  options: RenderOptions, gate: object = None) -> tuple[cf.ProcessPoolExecutor, cf.Future]:
    """Renderer ``name`` started in a worker process of its own (``gate``: an Event its writes wait for, in a
    renderer started before the checks). A forked worker finds the book in its copy of this process's memory:
    it is not pickled to it and back (0.07 s a renderer for 3,000 facts)."""
    init, initargs = (worker_init, (os.getpid(),)) if gate is None else (early_worker_init, (os.getpid(), gate))
    with signals_held():  # a stop while the worker forks waits until it can take it
        pool = cf.ProcessPoolExecutor(max_workers=1, mp_context=ctx, initializer=init, initargs=initargs)
        if ctx.get_start_method() != "fork":
            return pool, pool.submit(_render_one, name, loaded, out_dir, content_dir, options)  # (sent as an argument)
        _INHERITED[:] = [loaded]
        try:
            return pool, pool.submit(_render_inherited, name, out_dir, content_dir, options)  # (the worker forks here)
        finally:
            _INHERITED.clear()


Reporter = Callable[[str, str], None]  # (renderer or step, message)


def build(
    content_dir: Path | str = "content",
    formats: Iterable[str] = tuple(renderers.REGISTRY),
    out_dir: Path | str = "build",
    options: RenderOptions = RenderOptions(),
    *,
    strict: bool = False,
    jobs: int | None = None,
    force: bool = False,
    timeout: float = 900.0,
    report: Reporter = lambda step, msg: None,
    stop_when: Callable[[], bool] | None = None,
) -> BuildResult:
    """Build ``formats`` of the book in ``content_dir`` into ``out_dir``. ``stop_when``: asked while the
    renderers run; once it says so (``watch``: a newer save), those still running are stopped and left
    out of the manifest (status "stopped"), so the next build makes them."""
    content_dir, out_dir = Path(content_dir), Path(out_dir)
    options = dataclasses.replace(options, strict=options.strict or strict)
    formats = list(dict.fromkeys(formats))

    # 1. what is out of date (before reading anything: a no-op rebuild must be instant)
    manifest = read_manifest(out_dir)
    inputs = content_inputs(content_dir)
    if sum(p.suffix.lower() in (".md", ".markdown") for p in inputs) > MAX_FILES:
        inputs = []  # refused by the reader (P016) before anything is hashed or written
    outside = _recorded_outside(manifest, content_dir)  # files of the repository around the notes the book showed
    content_hash = _digest(inputs + outside, content_dir)
    # the code and its data (the spelling check's word list): a new version of either redoes what they made
    code_hash = _digest(sorted(p for p in PACKAGE_DIR.rglob("*") if p.suffix in (".py", ".txt")), PACKAGE_DIR)
    keys = {name: renderer_key(name, content_dir, options, content_hash, code_hash) for name in formats}
    fresh: dict[str, Outcome] = {}
    for name in formats:
        entry = manifest.get(name, {})
        target = _recorded(out_dir, entry.get("path", ""))
        if (not force and target is not None and entry.get("key") == keys[name] and target.is_file()
                and entry.get("sha256") == _file_sha(target)):
            fresh[name] = Outcome(name, "skipped", Artifact(target, entry.get("summary", "")), 0.0)
            report(name, "up to date")
    todo = [name for name in formats if name not in fresh]
    check_key = hashlib.sha256(f"{content_hash} {code_hash} {strict}".encode()).hexdigest()
    if not todo:
        # nothing to do: the findings are those of the last check of these inputs, said again
        return BuildResult(None, _replayed(manifest, check_key) or [], [fresh[n] for n in formats])

    # 2. read, then (while a renderer that needs no cards, the sheet, starts: its writes wait for the checks)
    # derive the cards and check everything, once
    report("check", "reading and validating")
    book, read_diags = read_normalized(content_dir)
    with contextlib.ExitStack() as held:  # (the output folder's lock, when taken for a renderer started early)
        early = (_start_early(book, todo, jobs, force, out_dir, content_dir, options, held, report)
                 if not has_errors(read_diags) else _Early())
        loaded = finish(content_dir, book, read_diags)
        used = used_outside(loaded, content_dir)
        if used != outside:  # the artifacts are made from these: their bytes are part of what the build saw
            outside = used
            content_hash = _digest(inputs + outside, content_dir)
            keys = {name: renderer_key(name, content_dir, options, content_hash, code_hash) for name in formats}
            check_key = hashlib.sha256(f"{content_hash} {code_hash} {strict}".encode()).hexdigest()
        # the notes as they were read, against the notes the change hash saw: an edit made (and maybe undone)
        # while they were read means the artifacts would be recorded under inputs they were not made from
        changed = _changed_while_read(loaded, content_dir, inputs)
        found = list(loaded.diagnostics)
        if "epub" not in todo:  # the EPUB's renderer compares the source with what it shows; without it, the model
            found += model_losses(loaded.book, content_dir)
        diags = make_strict(found) if strict or loaded.book.meta.strict else found
        result = BuildResult(loaded, diags, list(fresh.values()))
        errors, warnings = sum(d.severity == "error" for d in diags), sum(d.severity == "warning" for d in diags)
        if has_errors(diags):
            early.stop()  # (stopped where it waits for the checks: it wrote nothing)
            report("check", f"{count(errors, 'error')}: nothing was written")
            result.outcomes = []
            return result
        report("check", f"{count(errors, 'error')}, {count(warnings, 'warning')}")

        # 3. render (parallel processes when more than one renderer runs)
        out_dir.mkdir(parents=True, exist_ok=True)
        # a second build into the same folder stops here with a message
        with contextlib.nullcontext() if early.pools else output_lock(out_dir):
            if not early.pools:
                clean_stale_temps(out_dir)  # left by builds that were killed before they could clean up
            early.go()  # the checks passed: what the renderer started early made may be written
            manifest = read_manifest(out_dir)  # as it is now that no other build is writing it
            if force:  # from scratch: nothing a renderer kept from earlier builds is reused
                for name in todo:
                    shutil.rmtree(renderers.cache_dir(out_dir, name), ignore_errors=True)
            # jobs=1 renders in this process, one after the other; otherwise each renderer runs in a
            # worker process, which is also what lets a time limit stop a renderer that hangs
            workers = min(len(todo), jobs or os.cpu_count() or 1)
            outcomes: dict[str, Outcome] = {}
            if jobs == 1:
                for name in _in_order(todo):
                    report(name, "rendering")
                    outcomes[name] = _guarded(name, lambda n=name: _render_one(n, loaded, out_dir, content_dir, options))
                    report(name, _describe(outcomes[name]))
            elif todo:
                ctx = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
                # one worker process per renderer, at most ``workers`` at once, each ended as soon as its renderer
                # is done (an idle worker kept its copy of the book: 200 MB on a large repository)
                pools: dict[str, cf.ProcessPoolExecutor] = dict(early.pools)
                futures: dict[cf.Future, str] = dict(early.futures)
                try:
                    deadline = time.monotonic() + timeout
                    waiting = [n for n in todo if n not in early.pools]
                    while waiting or len(outcomes) < len(futures):
                        # a renderer starts once those that write what it reads are done (the EPUB after the deck)
                        for name in [n for n in waiting if all(d in outcomes or d not in todo for d in REG[n].after)]:
                            if len(futures) - len(outcomes) >= max(1, workers):
                                break
                            waiting.remove(name)
                            pools[name], fut = _start_worker(ctx, name, loaded, out_dir, content_dir, options)
                            futures[fut] = name
                            report(name, "rendering")
                        running = [f for f, n in futures.items() if n not in outcomes]
                        left = max(0.0, deadline - time.monotonic())
                        done, _ = cf.wait(running, timeout=min(left, STOP_POLL) if stop_when else left,
                                          return_when=cf.FIRST_COMPLETED)
                        if not done and time.monotonic() >= deadline:
                            raise cf.TimeoutError()
                        if not done and stop_when is not None and stop_when():
                            raise _Superseded()
                        for fut in done:
                            name = futures[fut]
                            outcomes[name] = _guarded(name, fut.result)
                            pools[name].shutdown(wait=True)  # its worker ends now, not with the build
                            report(name, _describe(outcomes[name]))
                except (_Superseded, cf.TimeoutError) as why:
                    # the renderers not done (running, or never started: what they waited for was not done)
                    status, error = (("stopped", "a newer save is being built") if isinstance(why, _Superseded)
                                     else ("failed", f"took longer than {timeout:.0f} s and was stopped"))
                    for fut in futures:
                        fut.cancel()
                    for name in todo:
                        if name not in outcomes:
                            outcomes[name] = Outcome(name, status, error=error)
                            report(name, _describe(outcomes[name]))
                    for pool in pools.values():
                        stop_workers(pool)
                except BaseException:  # Ctrl-C, SIGTERM: stop the workers (they unwind, removing their temp files)
                    for pool in pools.values():
                        stop_workers(pool)
                    raise
                finally:
                    for pool in pools.values():
                        pool.shutdown(wait=True, cancel_futures=True)

            # 4. record what was built
            for name in todo:
                out = outcomes[name]
                result.outcomes.append(out)
                if out.artifact is not None:
                    result.diagnostics.extend(out.artifact.diagnostics)
                # an artifact written with errors is not current: the next build renders (and reports) it again;
                # nor is one made from notes that changed while they were read
                if (out.status == "built" and out.artifact is not None and not has_errors(list(out.artifact.diagnostics))
                        and not changed):
                    if REG[name].inputs or REG[name].reads:  # what it read as this build left it (the ledger)
                        keys[name] = renderer_key(name, content_dir, options, content_hash, code_hash)
                    manifest[name] = {"key": keys[name], "path": _relative(out_dir, out.artifact.path), "sha256": _file_sha(out.artifact.path),
                                      "summary": out.artifact.summary}
                else:
                    manifest.pop(name, None)
            order = {n: i for i, n in enumerate(renderers.REGISTRY)}
            result.outcomes.sort(key=lambda o: order.get(o.name, 99))
            if changed:
                result.diagnostics.append(diag("P017", changed[0], 0, "changed while the build read it: the artifacts are "
                                                                      "not recorded as current; the next build makes them again"))
            if todo:
                manifest[CHECKED] = {"key": check_key, "diagnostics": to_json(diags)}
                manifest[OUTSIDE] = {"files": "\n".join(_rel(p, content_dir) for p in outside)}
                atomic_write(out_dir / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        if _WARM:  # (the next save's renderers, forked from this process, find it made)
            from .markup import html

            html.prepare(loaded.book)
        return result


REG = renderers.REGISTRY
_WARM = False


def keep_warm() -> None:
    """After each build, make in this process what the next build's renderers would each make first (the
    code's lexers): ``publisher watch`` forks them from here."""
    global _WARM
    _WARM = True


@dataclass
class _Early:
    """The renderers started before the checks were done: their worker pools, their futures, and the gate
    their writes wait at (:func:`publisher.core.fsutil.commit_point`)."""

    pools: dict[str, cf.ProcessPoolExecutor] = field(default_factory=dict)
    futures: dict[cf.Future, str] = field(default_factory=dict)
    gate: object = None

    def go(self) -> None:
        if self.gate is not None:
            self.gate.set()  # type: ignore[attr-defined]

    def stop(self) -> None:
        for pool in self.pools.values():
            stop_workers(pool)
        for pool in self.pools.values():
            pool.shutdown(wait=True, cancel_futures=True)
        self.pools.clear()
        self.futures.clear()


def _start_early(book: m.Book, todo: list[str], jobs: int | None, force: bool, out_dir: Path, content_dir: Path,
                 options: RenderOptions, held: contextlib.ExitStack, report: Reporter) -> _Early:
    """Start each renderer that reads no cards (the sheet) now, in a worker whose writes wait for the checks:
    its layout goes on while the cards are derived and checked (in ``publisher watch``, a saved line reaches
    the sheet some 0.2 s sooner on a book of 3,000 facts). Not with ``jobs=1`` (one process), nor ``--force``
    (which empties the caches once the checks have passed), nor while another build holds the output folder
    (that build is said to below, where it always has been), nor in a folder no build has written to yet (no
    lock file: one made for a build whose checks fail would be a file it added), nor for a book with nothing
    to show."""
    early = _Early()
    names = [n for n in todo if not REG[n].cards and not REG[n].after]
    if (not names or jobs == 1 or force or not sys.platform.startswith("linux") or not book.chapters
            or not (out_dir / LOCK_NAME).is_file()):  # (a first build whose checks fail adds no file to the folder)
        return early
    try:
        held.enter_context(output_lock(out_dir))
    except Busy:
        return early
    held.callback(early.stop)  # however the build ends (an error, Ctrl-C), no early worker is left waiting
    clean_stale_temps(out_dir)  # left by builds that were killed before they could clean up
    ctx = multiprocessing.get_context("fork")
    early.gate = ctx.Event()
    for name in names:
        early.pools[name], fut = _start_worker(ctx, name, Loaded(book, ()), out_dir, content_dir, options, early.gate)
        early.futures[fut] = name
        report(name, "rendering")
    return early
STOP_POLL = 0.1  # seconds between two looks at ``stop_when`` while renderers run


class _Superseded(Exception):
    """``stop_when`` said so: the renderers still running are stopped."""


OUTSIDE = "_outside"  # the manifest's record of the files outside the content folder the book showed


def _rel(path: Path, content_dir: Path) -> str:
    return Path(os.path.relpath(path, content_dir)).as_posix()


def used_outside(loaded: Loaded, content_dir: Path) -> list[Path]:
    """The files outside the content folder that the book shows (images and sounds Git tracks in the
    repository around it), as paths under the content folder (``content/../images/a.png``), sorted."""
    from .check.validate import resolve_inside
    from .core.text import all_inlines

    root = Path(content_dir).resolve()
    out: set[str] = set()
    for node in all_inlines(loaded.book):
        if isinstance(node, (m.Image, m.Sound)) and node.url and "://" not in node.url and node.url.startswith(".."):
            target, _ = resolve_inside(Path(content_dir), node.url)
            if target is not None and not target.is_relative_to(root):
                out.add(_rel(target, root))
    return [Path(content_dir) / rel for rel in sorted(out)]


def _recorded_outside(manifest: dict[str, dict[str, str]], content_dir: Path) -> list[Path]:
    """The outside files the last build showed, still files Git tracks (never read otherwise)."""
    out = []
    for rel in manifest.get(OUTSIDE, {}).get("files", "").split("\n"):
        path = Path(content_dir) / rel
        if rel.startswith("..") and tracked_outside(content_dir, path.resolve()):
            out.append(path)
    return out


def outside_folders(out_dir: Path, content_dir: Path) -> list[str]:
    """The folders of the outside files the last build showed: ``watch`` watches them too."""
    return sorted({str(p.resolve().parent) for p in _recorded_outside(read_manifest(out_dir), content_dir)})


def _changed_while_read(loaded: Loaded, content_dir: Path, inputs: list[Path]) -> list[str]:
    """The notes whose bytes as read differ from the bytes the change hash read a moment before."""
    by_rel = {p.relative_to(content_dir).as_posix(): p for p in inputs if p.is_relative_to(content_dir)}
    out = []
    for ch in loaded.book.chapters:
        path = by_rel.get(ch.path)
        if path is None or not ch.sha:
            continue
        try:
            before = hashlib.sha256(path.read_bytes()).hexdigest() if path.stat().st_size <= BIG_FILE else ""
        except OSError:
            before = ""
        if before != ch.sha:
            out.append(ch.file)
    return out


def _in_order(names: list[str]) -> list[str]:
    """``names`` with each renderer after those it reads the output of (``Spec.after``)."""
    out: list[str] = []
    pending = list(names)
    while pending:
        ready = [n for n in pending if all(d in out or d not in names for d in REG[n].after)] or pending[:1]
        out.append(ready[0])
        pending.remove(ready[0])
    return out


def _guarded(name: str, fn: Callable[[], tuple[Artifact, float]]) -> Outcome:
    try:
        artifact, seconds = fn()
    except Exception as exc:  # noqa: BLE001 - a failed renderer is reported, the others go on
        return Outcome(name, "failed", error=f"{type(exc).__name__}: {exc}")
    return Outcome(name, "built", artifact, seconds)


def _describe(o: Outcome) -> str:
    if o.status == "failed":
        return f"FAILED: {o.error} (previous artifact left as it was)"
    if o.status == "stopped":
        return f"stopped: {o.error}"
    assert o.artifact is not None
    return f"{o.artifact.path.name} ({_size(o.artifact.path)}, {o.artifact.summary}) in {o.seconds:.1f} s"


def _file_sha(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def _size(path: Path) -> str:
    try:
        n = path.stat().st_size
    except OSError:
        return "?"
    return f"{n / 1024:.0f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


# --------------------------------------------------------------------------- command line


class _Console:
    """Live progress on a terminal (rich), one plain line per step otherwise."""

    def __init__(self, quiet: bool, verbose: bool) -> None:
        self.quiet, self.verbose = quiet, verbose
        self.live = sys.stderr.isatty() and not os.environ.get("CI") and not quiet
        self.progress = None
        self.tasks: dict[str, int] = {}
        if self.live:
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
            from rich.table import Column

            # a long message is cut short with an ellipsis: the elapsed time always shows
            text = TextColumn("{task.description}", table_column=Column(ratio=1, no_wrap=True, overflow="ellipsis"))
            self.progress = Progress(SpinnerColumn(), text, TimeElapsedColumn(), transient=False,
                                     expand=True, console=Console(stderr=True))
            self.progress.start()

    def __call__(self, step: str, message: str) -> None:
        if self.quiet:
            return
        if self.progress is not None:
            if step not in self.tasks:
                self.tasks[step] = self.progress.add_task(f"{step}: {message}", total=1)
            done = message != "rendering" and not message.startswith("reading")
            self.progress.update(self.tasks[step], description=f"{step}: {message}", completed=1 if done else 0)
        else:
            print(f"{step}: {message}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def cmd_build(args: argparse.Namespace, stop_when: Callable[[], bool] | None = None) -> int:
    console = _Console(args.quiet, args.verbose)
    start = time.perf_counter()
    try:
        result = build(
            args.path, args.format, args.out, RenderOptions(paper=args.paper, columns=args.columns),
            strict=args.strict, jobs=args.jobs, force=args.force, timeout=args.timeout, report=console,
            stop_when=stop_when,
        )
    finally:
        console.close()
    shown = [d for d in result.diagnostics if args.verbose or d.severity != "note"]
    for d in shown:
        if not args.quiet or d.severity == "error":
            print(d)
    if not args.quiet:
        for o in result.outcomes:
            if o.status == "built" and o.artifact:
                print(f"built   {o.artifact.path}  {_size(o.artifact.path)}  {o.artifact.summary}  {o.seconds:.1f} s")
            elif o.status == "skipped" and o.artifact:
                print(f"skipped {o.artifact.path}  (up to date)")
            elif o.status == "failed":
                print(f"FAILED  {o.name}: {o.error}")
            elif o.status == "stopped":
                print(f"stopped {o.name}: {o.error}")
        errors = sum(d.severity == "error" for d in result.diagnostics)
        warnings = sum(d.severity == "warning" for d in result.diagnostics)
        left = sum(d.code == "P012" for d in result.diagnostics)
        left_out = f"; {count(left, 'file')} left out (-v lists them)" if left else ""
        print(f"{count(errors, 'error')}, {count(warnings, 'warning')}{left_out}; {time.perf_counter() - start:.1f} s")
    return 0 if result.ok else 1


def cmd_watch(args: argparse.Namespace) -> int:
    import queue
    import threading

    from watchfiles import watch

    from .markup.templates import search_path

    # the renderers (WeasyPrint's half second among them) imported once: each build's workers are forked
    # from this process and start with them
    for name in args.format:
        renderers.get(name)
        compile_all(REG[name].templates, args.path)  # and their templates, compiled once
    keep_readings()  # a save reads again only the files it changed
    keep_warm()
    site = None
    if getattr(args, "serve", False):  # the live page: the notes read again on each save, before the build
        from . import preview

        site = preview.Site(Path(args.path))
        site.update()
        server = preview.serve(site, args.port)
        print(f"live page at {preview.url(server)} (this machine only)", file=sys.stderr, flush=True)
    cmd_build(args)
    while True:
        # the notes, their templates, and the folders of the repository's files the book shows
        extra = outside_folders(Path(args.out), Path(args.path))
        paths = [args.path] + [str(p) for p in search_path(args.path)] + extra
        # the saves are watched beside the builds: a save while a build runs stops what it still renders
        # (the sheet's layout, seconds long) and the newest notes are built at once
        saves: queue.Queue[set | None] = queue.Queue()
        ready, done = threading.Event(), threading.Event()

        def watcher(paths: list[str] = paths) -> None:
            try:
                # yield_on_timeout: an empty set first says the watcher runs (a save before that would be missed)
                for changes in watch(*paths, watch_filter=lambda _c, p: not p.endswith((LEDGER_NAME, ".tmp")),
                                     yield_on_timeout=True, rust_timeout=500, stop_event=done):
                    if changes:
                        saves.put(changes)
                    ready.set()
            finally:
                ready.set()
                saves.put(None)

        thread = threading.Thread(target=watcher, name="watch", daemon=True)
        thread.start()
        try:
            ready.wait()
            print(f"watching {', '.join(paths)} (Ctrl-C stops)", file=sys.stderr, flush=True)
            while True:
                try:
                    changes = saves.get(timeout=0.5)
                except queue.Empty:
                    continue
                while changes is not None and not saves.empty():  # several saves at once: one build
                    changes = saves.get()
                if changes is None:
                    return 0
                if site is not None:
                    site.update()
                cmd_build(args, stop_when=lambda: not saves.empty())
                if outside_folders(Path(args.out), Path(args.path)) != extra:
                    break  # the book shows files of other folders now: watch those
        finally:
            done.set()
            thread.join(5)


__all__ = ["build", "BuildResult", "Outcome", "diag"]
