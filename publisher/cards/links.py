"""Where a link or an image of a chapter points, inside the book.

Paths are written relative to the file they stand in (a page in ``02-net/``
shows ``../images/x.png`` and links ``../01-intro/README.md#setup``); the book
knows them relative to the content folder. A fragment is a heading's anchor
(this tool's slug) or the anchor GitHub gives the same heading
(case-insensitive, ``-1`` for a repeat), so links written for GitHub work.
Normalization resolves once (``Link.target``, root-relative ``Image.url``);
validation reports what does not resolve.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from ..core import model as m
from ..core.text import github_slugs, plain_text, slugify, walk_blocks

MD_SUFFIXES = (".md", ".markdown")
INTRO_NAMES = ("readme", "index")


def is_remote(url: str) -> bool:
    u = url.strip()
    return bool(urlsplit(u).scheme) or u.startswith("//")


def from_root(chapter_path: str, url: str) -> str:
    """A local path written in ``chapter_path`` as a path from the content folder, percent-escapes
    kept ('../x' when it leaves the folder; a leading '/' means the content folder, as on GitHub)."""
    u = url.strip()
    path = u.split("#", 1)[0].split("?", 1)[0]
    if not path:
        return ""
    if path.startswith("/"):
        joined = path.lstrip("/")
    else:
        folder = posixpath.dirname(chapter_path)
        joined = posixpath.join(folder, path) if folder else path
    norm = posixpath.normpath(joined)
    return "" if norm == "." else norm


def find_asset(assets: tuple[str, ...], chapter_path: str, name: str) -> str:
    """An attachment named in an Obsidian embed (``![[x.png]]``, ``[sound:x.mp3]``) as a path from the
    content folder: beside the note, then from the root, then the file of that name anywhere in the
    book (the shortest path, as Obsidian picks). Not found: the path beside the note (reported missing)."""
    name = name.strip().lstrip("/")
    beside = from_root(chapter_path, name) if "/" in chapter_path else posixpath.normpath(name)
    have = set(assets)
    if beside in have:
        return beside
    if name in have:
        return name
    base = posixpath.basename(name).lower()
    named = [a for a in assets if posixpath.basename(a).lower() == base]
    if named:
        return min(named, key=lambda a: (a.count("/"), len(a), a))
    return beside


@dataclass(frozen=True)
class Resolved:
    target: str = ""  # "slug" or "slug#anchor" when the link points into the book
    problem: str = ""  # why it does not (for P114 / P112), "" when it is fine or external
    path: str = ""  # the local path from the content folder ("" for pure fragments and remote links)


class Index:
    """The book's chapters by path and their anchors, with GitHub's as aliases."""

    def __init__(self, book: m.Book) -> None:
        self.by_path: dict[str, m.Chapter] = {}
        self.by_folder: dict[str, m.Chapter] = {}
        self.anchors: dict[str, set[str]] = {}
        self.aliases: dict[str, dict[str, str]] = {}
        self.blocks: dict[str, dict[str, str]] = {}  # Obsidian's block ids: the anchor of the section holding each
        for ch in book.chapters:
            self.by_path[ch.path] = ch
            if ch.intro:  # a link to a folder: its opening page, else its first chapter
                self.by_folder[ch.part] = ch
            else:
                self.by_folder.setdefault(ch.part, ch)
            sections = [b for b in walk_blocks(ch.blocks) if isinstance(b, m.Section)]
            self.anchors[ch.slug] = {s.anchor for s in sections} | {ch.slug}
            if ch.block_ids:  # (sections in document order: the last to start above a line holds it)
                self.blocks[ch.slug] = {name: next((s.anchor for s in reversed(sections) if s.loc.line <= line), ch.slug)
                                        for name, line in ch.block_ids}
            # GitHub gives the title its anchor too (and counts it among the repeats)
            gh = github_slugs([plain_text(ch.title)] + [plain_text(s.title) for s in sections])
            alias: dict[str, str] = {gh[0]: ch.slug, slugify(plain_text(ch.title)): ch.slug}
            for s, g in zip(sections, gh[1:]):
                alias.setdefault(g, s.anchor)
                alias.setdefault(s.anchor.lower(), s.anchor)
            self.aliases[ch.slug] = alias

    def chapter_at(self, path: str) -> m.Chapter | None:
        path = unquote(path)
        if path in self.by_path:
            return self.by_path[path]
        p = PurePosixPath(path)
        if p.suffix.lower() in (".html", ".htm"):  # GitBook and mdBook output names
            for suffix in MD_SUFFIXES:
                found = self.by_path.get(p.with_suffix(suffix).as_posix())
                if found:
                    return found
            if p.stem.lower() == "index":
                return self.by_folder.get(p.parent.as_posix() if p.parent.as_posix() != "." else "")
        if not p.suffix:
            for suffix in MD_SUFFIXES:
                found = self.by_path.get(path + suffix)
                if found:
                    return found
            return self.by_folder.get(path.rstrip("/") if path not in ("", ".") else "")
        return None

    def anchor(self, slug: str, fragment: str) -> str | None:
        frag = unquote(fragment)
        if frag.startswith("^"):  # a block's id ("note#^id"): the section it stands in
            return self.blocks.get(slug, {}).get(frag[1:])
        if frag in self.anchors.get(slug, ()):
            return frag
        return self.aliases.get(slug, {}).get(frag.lower())

    def resolve(self, chapter: m.Chapter, url: str) -> Resolved:
        u = url.strip()
        if not u or is_remote(u):
            return Resolved()
        parts = urlsplit(u)
        frag = parts.fragment
        if not parts.path:
            target = chapter
            path = ""
        else:
            path = from_root(chapter.path, parts.path)
            if path.startswith("../") or path == "..":
                return Resolved(problem=f"'{parts.path}' leaves the content folder", path=path)
            found = self.chapter_at(path)
            if found is None:
                # another file of the folder, or a page left out of the book (CONTRIBUTING.md): shown as
                # text; validation reports it when no such file exists
                return Resolved(path=path)
            target = found
        if not frag:
            return Resolved(target.slug, path=path)
        anchor = self.anchor(target.slug, frag)
        if anchor is None:
            return Resolved(target.slug, f"no heading '#{unquote(frag)}' in {target.path or target.slug}", path)
        return Resolved(target.slug if anchor == target.slug else f"{target.slug}#{anchor}", path=path)
