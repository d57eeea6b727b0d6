"""Atomic writes: a temp file in the destination's folder, then a rename."""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import subprocess
import tempfile
from hashlib import sha256
from pathlib import Path
from typing import Iterator


MAX_DEPTH = 32  # folders inside folders: a book deeper than this is a folder of something else (P009)


def walk(top: Path | str, max_depth: int = MAX_DEPTH) -> Iterator[tuple[str, list[str], list[str]]]:
    """``os.walk`` (top-down; prune ``dirs`` in place), without recursion and never deeper than ``max_depth``
    folders below ``top``: a tree a thousand folders deep is no RecursionError. Links to folders are not
    followed; unreadable folders are skipped."""
    stack = [(os.fspath(top), 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        dirs, files = [], []
        for e in entries:
            try:
                (dirs if e.is_dir(follow_symlinks=False) else files).append(e.name)
            except OSError:
                continue
        yield folder, dirs, files
        if depth < max_depth:
            stack.extend((os.path.join(folder, d), depth + 1) for d in reversed(dirs))


def inside(root: Path | str, path: Path | str) -> bool:
    """Does ``path``, symbolic links followed, stay inside ``root`` (links followed too)? A file the book reads
    must: a link in a cloned repository could otherwise put any file of the machine into the artifacts."""
    try:
        real = os.path.realpath(path)
        base = os.path.realpath(root)
    except (OSError, ValueError):
        return False
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


GIT_TIMEOUT = 30  # seconds for `git ls-files` in a very large repository


def work_tree(root: Path | str) -> Path | None:
    """The Git working tree that holds ``root``: the nearest folder at or above it with a ``.git`` folder or
    file (a submodule's or a worktree's). None: not in one."""
    here = Path(root).resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return None


@functools.lru_cache(maxsize=8)
def tracked_files(top: str) -> frozenset[str]:
    """The files Git tracks in the working tree ``top`` (paths from it, posix); none when Git is not there or
    says no (a repository of another owner: nothing outside the content folder is read then)."""
    try:
        done = subprocess.run(["git", "-c", f"safe.directory={top}", "-C", top, "ls-files", "-z"], capture_output=True,
                              timeout=GIT_TIMEOUT, env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"}, check=False)
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    if done.returncode:
        return frozenset()
    return frozenset(os.fsdecode(p) for p in done.stdout.split(b"\0") if p)


def outside_refusal(root: Path | str, real: Path) -> str:
    """Why ``real`` (a resolved path outside the content folder ``root``) may not be read; "" when it may: a
    path Git tracks in the working tree that holds the content folder, as GitHub shows it (when the file is
    missing there, the caller says so as for any missing file). Nothing else outside is ever read."""
    top = work_tree(root)
    if top is None:
        return "(outside a Git repository nothing beyond it is read)"
    try:
        rel = real.relative_to(top).as_posix()
    except ValueError:
        return "and the repository that holds it"
    if rel not in tracked_files(str(top)):
        return "and is no file Git tracks in the repository that holds it"
    return ""


def tracked_outside(root: Path | str, real: Path) -> bool:
    """May ``real``, outside the content folder ``root``, be read (see :func:`outside_refusal`), and is it there?"""
    return not outside_refusal(root, real) and real.is_file()


@contextlib.contextmanager
def atomic_path(dest: Path | str) -> Iterator[Path]:
    """Yield a temp path beside ``dest``; on success it replaces ``dest``, on error it is removed."""
    dest = Path(dest)
    with temp_beside(dest) as tmp_path:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; artifacts get the usual mode
        commit_point()
        os.replace(tmp_path, dest)


_COMMITS: list = []  # in a renderer started before the build's checks were done: what says they passed


def hold_commits(gate) -> None:  # noqa: ANN001 - a multiprocessing Event
    """In a renderer started while the cards are still derived and checked (``Spec.cards`` false): each file it
    would put in place or remove (an artifact, a cache entry) waits at :func:`commit_point` until ``gate`` is
    set, the checks passed. When they fail, the renderer is stopped there: nothing it made is written."""
    _COMMITS[:] = [gate]


def commit_point() -> None:
    """Wait here, before a file is put in place or removed, until the build's checks have passed (in a
    renderer started before them: :func:`hold_commits`); at once anywhere else, and once they have."""
    if _COMMITS:
        _COMMITS[0].wait()
        _COMMITS.clear()


def early_worker_init(parent: int, gate) -> None:  # noqa: ANN001 - a multiprocessing Event
    """:func:`worker_init` for a renderer started before the checks: its writes wait for ``gate``."""
    worker_init(parent)
    hold_commits(gate)


class KeptFiles:
    """A folder of files kept from one build to the next by a key (a hash of what they were made from). Each
    holds its key first and a hash of itself last: a torn, damaged or renamed file is a miss, never trusted.
    The files a build neither found nor wrote are removed after it (:meth:`prune`). A cache: a folder that
    cannot be made or written only makes it forget."""

    def __init__(self, folder: Path | None, prefix: str, suffix: str) -> None:
        self.folder, self.prefix, self.suffix = folder, prefix, suffix
        self.used: set[str] = set()

    def get(self, key: str) -> bytes | None:
        if self.folder is None:
            return None
        try:
            data = (self.folder / f"{self.prefix}{key}{self.suffix}").read_bytes()
        except OSError:
            return None
        head = key.encode() + b"\n"
        if not data.startswith(head) or len(data) < len(head) + 32 or sha256(data[:-32]).digest() != data[-32:]:
            return None
        self.used.add(key)
        return data[len(head):-32]

    def put(self, key: str, data: bytes) -> None:
        if self.folder is None:
            return
        body = key.encode() + b"\n" + data
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            atomic_write(self.folder / f"{self.prefix}{key}{self.suffix}", body + sha256(body).digest())
        except OSError:
            return  # a full disk: made again next time
        self.used.add(key)

    def prune(self) -> None:
        if self.folder is None or not self.folder.is_dir():
            return
        commit_point()
        for path in self.folder.glob(f"{self.prefix}*{self.suffix}"):
            if path.name[len(self.prefix):len(path.name) - len(self.suffix)] not in self.used:
                path.unlink(missing_ok=True)


@contextlib.contextmanager
def temp_beside(dest: Path | str, what: str = "") -> Iterator[Path]:
    """A temp file beside ``dest`` (``what``: the step it is for), removed on the way out. Every temp
    file of a build is named so (``.<name>.[<what>.]<8 chars>.tmp``): a killed build's are removed at
    the next start (:func:`clean_stale_temps`)."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.{what + '.' if what else ''}", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    try:
        yield Path(tmp)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def unwind_on_sigterm() -> None:
    """In a worker process: SIGTERM (a time limit, a parent ending) raises SystemExit, so the
    process unwinds and every :func:`atomic_path` on the way removes its temp file."""
    signal.signal(signal.SIGTERM, _raise_exit)


def _raise_exit(signum: int, frame: object) -> None:
    # Unwind (a number: nothing is printed), and be gone in 3 s whatever happens on the way: a
    # process pool's worker catches SystemExit from its task and would wait for the next one forever.
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.alarm(3)
    raise SystemExit(128 + signum)


STOPS = {signal.SIGINT, signal.SIGTERM}


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait while worker processes are forked (they inherit the wait): a child stopped
    before :func:`worker_init` set its own handlers would print a traceback. They arrive once it is done."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, STOPS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _exit_quietly(signum: int, frame: object) -> None:
    os._exit(128 + signum)  # stopped while setting up: nothing to unwind yet


def worker_init(parent: int) -> None:
    """Set up a worker process: it unwinds on SIGTERM, leaves Ctrl-C to its parent (which stops it:
    one message, no traceback from every worker), and ends when its parent ends, even by SIGKILL.
    A stop that came while it was forked (held, :func:`signals_held`) ends it here, quietly."""
    import sys

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_quietly)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPS)
    sys.unraisablehook = _stop_if_stopped
    die_with(parent)
    unwind_on_sigterm()


def _stop_if_stopped(info) -> None:  # noqa: ANN001 - sys.UnraisableHookArgs
    """A SIGTERM that lands in a callback from native code (nh3's attribute filter) cannot unwind
    through it: Python would print it as "Exception ignored in ..." with a traceback, and the worker
    would go on. Stopped is stopped: leave now, quietly (the next build removes any temp file left)."""
    import sys

    if isinstance(info.exc_value, (SystemExit, KeyboardInterrupt)):
        code = info.exc_value.code if isinstance(info.exc_value, SystemExit) else 130
        os._exit(code if isinstance(code, int) else 1)
    sys.__unraisablehook__(info)


def die_with(parent: int) -> None:
    """Linux: a SIGTERM to this process when its parent ends, however it ends (PR_SET_PDEATHSIG)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # it ended before the watch was set
        os._exit(1)


TEMP_RE = r"^\..+\.[a-z0-9_]{8}\.tmp$"  # what atomic_path names its temp files


def clean_stale_temps(*folders: Path) -> int:
    """Remove the temp files that builds killed before they could clean up left in ``folders`` (and
    their subfolders). Only call it holding the output folder's lock: no build is writing then."""
    import re

    pattern = re.compile(TEMP_RE)
    removed = 0
    for folder in folders:
        if not Path(folder).is_dir():
            continue
        for dirpath, dirs, files in os.walk(folder):
            dirs[:] = [d for d in dirs if not d.startswith(".git")]
            for f in files:
                if pattern.match(f):
                    with contextlib.suppress(OSError):
                        os.unlink(os.path.join(dirpath, f))
                        removed += 1
    return removed


class Busy(Exception):
    """Another build holds the output folder."""


LOCK_NAME = ".publisher.lock"  # in the output folder: the lock of the build writing to it


@contextlib.contextmanager
def output_lock(out_dir: Path) -> Iterator[None]:
    """Hold ``out_dir``'s lock for a build: a second build into the same folder stops with a message
    instead of deleting the first one's cache entries. Released however the process ends."""
    import fcntl

    out_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(out_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
            except OSError:
                holder = ""
            raise Busy(f"another build is writing to {out_dir}" + (f" (process {holder})" if holder else "")
                       + ": wait for it to finish, or build into another --out folder") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing drops the lock


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(dest: Path | str, data: bytes | str) -> None:
    with atomic_path(dest) as tmp:
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)


def cache_dir() -> Path:
    """publisher's per-user cache (``$XDG_CACHE_HOME/publisher``): the spelling dictionary, font coverage."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "publisher"


def stop_workers(pool) -> None:  # noqa: ANN001 - a concurrent.futures.ProcessPoolExecutor
    """SIGTERM to every worker of ``pool``, now (they unwind, removing their temp files), not after
    their current task; the pool's own shutdown then only waits."""
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        proc.terminate()


_ASIDE: list = []


def _aside_call():
    fn, args = _ASIDE[0]
    return fn(*args)


class Aside:
    """``fn(*args)`` worked out in a forked process while this one goes on (Linux, ``when`` true),
    else here when :meth:`result` is asked for. The child is a worker like the layout workers: it
    ends with its parent; Ctrl-C or SIGTERM here stop it at once."""

    def __init__(self, fn, *args, when: bool = True) -> None:
        import sys

        self._call = (fn, args)
        self._pool = self._future = None
        if not (when and sys.platform.startswith("linux") and (os.cpu_count() or 1) >= 2):
            return
        import concurrent.futures as cf
        import multiprocessing

        try:
            _ASIDE[:] = [(fn, args)]  # the forked child has it already: the arguments are never pickled
            self._pool = cf.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"),
                                                initializer=worker_init, initargs=(os.getpid(),))
            with signals_held():
                started = self._pool.submit(int)
            started.result()  # the child is forked now, holding this call
            _ASIDE.clear()
            self._future = self._pool.submit(_aside_call)
        except OSError:  # no process to be had: it is done here
            self.close()

    def result(self):
        import concurrent.futures as cf

        if self._future is not None:
            try:
                return self._future.result()
            except (OSError, cf.process.BrokenProcessPool):
                pass  # the child died (not of an error in ``fn``, which is raised): done here instead
            finally:
                self.close()
        fn, args = self._call
        return fn(*args)

    def close(self) -> None:
        pool, self._pool, self._future = self._pool, None, None
        if pool is not None:
            stop_workers(pool)
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> "Aside":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
