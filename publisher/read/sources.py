"""Which Markdown files make the book, in which order, in which parts.

A content folder is read recursively. Each folder is a part of the book; its
``README.md`` or ``index.md`` is the part's opening page (at the root: the
book's introduction). Order is natural (``2-x`` before ``10-x``), an opening
page first; a ``SUMMARY.md`` at the root (GitBook, mdBook) gives the order and
the titles instead, and files it does not list are left out, as those tools do.
Hidden folders, build output and repository files (LICENSE, CONTRIBUTING...)
are left out by default; ``include`` globs in book.toml bring such files back,
``exclude`` globs leave more out. Every file left out is reported (a note).

A chapter's slug, which starts every card identity, tag and subdeck, comes from
the file's path (numeric prefixes dropped), never from the reading order: adding
a folder or a file changes no existing slug, and a flat book keeps the slugs it
always had.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..core.diagnostics import Diagnostic, diag
from ..core.fsutil import MAX_DEPTH, inside, walk
from ..core.text import slugify, stable_slug, unique
from .bookfile import mdbook_src

MD_SUFFIXES = (".md", ".markdown")
SKIP_DIRS = frozenset({"_book", "_site", "build", "node_modules", "site-packages", "venv", "__pycache__"})
REPO_FILES = frozenset({
    "license", "licence", "copying", "code_of_conduct", "code-of-conduct", "contributing", "changelog", "security",
    "pull_request_template", "issue_template", "summary",
})
INTRO_NAMES = ("readme", "index")
SUMMARY_LINK_RE = re.compile(r"^(?P<indent>[ \t]*)(?:[-*+]|\d+[.)])[ \t]+\[(?P<title>[^\]]*)\]\((?P<path><[^>]*>|[^)\s]*)[^)]*\)")
SUMMARY_TOP_RE = re.compile(r"^\[(?P<title>[^\]]*)\]\((?P<path>[^)\s]*)[^)]*\)\s*$")  # mdBook's prefix chapters


@dataclass(frozen=True)
class Source:
    path: Path  # on disk
    rel: str  # inside the content folder, posix
    slug: str
    part: str  # the folder ("" for the root)
    intro: bool
    title: str = ""  # from SUMMARY.md
    root: Path | None = None  # the content folder it must stay inside (links followed)


@dataclass
class Layout:
    sources: list[Source] = field(default_factory=list)
    left_out: list[tuple[str, str]] = field(default_factory=list)  # (rel, why)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    summary: str = ""  # the SUMMARY.md that ordered the book, if any
    assets: list[str] = field(default_factory=list)  # images and sounds (paths from the root)


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".bmp", ".avif")
SOUND_SUFFIXES = (".mp3", ".ogg", ".oga", ".wav", ".m4a", ".flac", ".opus", ".webm")
ASSET_SUFFIXES = IMAGE_SUFFIXES + SOUND_SUFFIXES


class _TooMany(Exception):
    pass


def utf8_name(name: str) -> bool:
    """Is a name as the file system gave it valid UTF-8 (Python keeps other bytes as lone surrogates)?"""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def natural_key(name: str) -> tuple[object, ...]:
    """``2-x`` before ``10-x``; case does not matter; ties broken by the name itself."""
    parts = re.split(r"(\d+)", name.lower())
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p) + ((2, 0, name),)


def strip_number(stem: str) -> str:
    return re.sub(r"^\d+[-_ .]*", "", stem)


def name_slug(stem: str) -> str:
    """A file's or folder's part of a chapter's slug (and of its cards' identities): from its name alone, never
    from the other names (a name in Hangul or Han gets a hash of itself, not "chapter", "chapter-2" in path
    order); the number before a name is left out, not one that is the whole name ("11-6-25", a date)."""
    base = strip_number(stem)
    if not any(c.isalpha() for c in base):
        base = stem
    return stable_slug(base) or stable_slug(stem) or "chapter"


def humanize(name: str) -> str:
    """A folder or file name as a title: ``02-getting_started`` -> ``Getting started``; a number that is part
    of the name (``2019년 면접질문``, ``3d-printing``) stays."""
    text = " ".join(re.sub(r"^\d+(?:[-_ .]+|$)", "", name).replace("_", " ").replace("-", " ").split()) or name
    return text[:1].upper() + text[1:]


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A gitignore-like glob: ``**`` any folders, ``*`` within a name; no ``/``: any depth."""
    pat = pattern.strip()
    rooted = pat.startswith(("/", "./"))  # "/README.md": the content folder's own, not every README
    pat = pat[2:] if pat.startswith("./") else pat.lstrip("/")
    anchored = rooted or "/" in pat.rstrip("/")
    out = []
    i = 0
    while i < len(pat):
        if pat.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pat.startswith("**", i):
            out.append(".*")
            i += 2
        elif pat[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pat[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pat[i]))
            i += 1
    body = "".join(out).rstrip("/")
    prefix = "" if anchored else "(?:.*/)?"
    return re.compile(f"^{prefix}{body}(?:/.*)?$")


def _matches(rel: str, patterns: list[re.Pattern[str]]) -> bool:
    return any(p.match(rel) for p in patterns)


def _default_reason(rel: str, is_dir: bool) -> str:
    name = PurePosixPath(rel).name
    if name.startswith("."):
        return "hidden"
    if is_dir and (name in SKIP_DIRS or rel == "templates"):
        return "build output or tooling" if rel != "templates" else "the book's templates"
    stem = PurePosixPath(name).stem.lower()
    if not is_dir and stem in REPO_FILES:
        return "a repository file" if stem != "summary" else "the table of contents"
    return ""


MAX_FILES = 5000  # Markdown files in one book: more is a folder of something else (refused early, P016)


def discover(root: Path, include: tuple[str, ...] = (), exclude: tuple[str, ...] = (), shown: str = "",
             language: str = "") -> Layout:
    """The book's Markdown files in reading order, and what was left out and why. ``language`` (book.toml's,
    when it sets one) picks that language's translations in place of their base files."""
    layout = Layout()
    inc = [glob_regex(p) for p in include if p.strip()]
    exc = [glob_regex(p) for p in exclude if p.strip()]
    found: list[str] = []  # rel paths of every Markdown file that is read

    def visit(folder: Path, rel: str, depth: int = 0) -> None:
        if depth > MAX_DEPTH:
            layout.diagnostics.append(diag("P009", f"{shown}/{rel}" if shown else rel, 0,
                                           f"folders nested more than {MAX_DEPTH} deep: this one and what it holds "
                                           "are left out"))
            return
        try:
            # a folder's opening page (README.md, index.md) first, then files and folders in natural order
            entries = sorted(os.scandir(folder), key=lambda e: (
                0 if PurePosixPath(e.name).stem.lower() in INTRO_NAMES and e.name.lower().endswith(MD_SUFFIXES) else 1,
                natural_key(e.name)))
        except OSError as exc_:
            layout.diagnostics.append(diag("P010", f"{shown}/{rel}".rstrip("/"), 0, exc_.strerror or str(exc_)))
            return
        for entry in entries:
            child = f"{rel}/{entry.name}" if rel else entry.name
            if not utf8_name(entry.name):  # a name from another encoding: no link or output could name it
                shown_name = os.fsencode(child).decode("utf-8", "backslashreplace")
                layout.diagnostics.append(diag("P014", f"{shown}/{shown_name}" if shown else shown_name, 0,
                                               "left out; rename it to be read"))
                continue
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_file = entry.is_file()
                link = entry.is_symlink()
            except OSError:
                continue
            if link and (is_file or entry.name.lower().endswith(MD_SUFFIXES)) and not inside(root, entry.path):
                if entry.name.lower().endswith(MD_SUFFIXES):  # an image is judged where it is used (P112)
                    layout.diagnostics.append(diag("P112", f"{shown}/{child}" if shown else child, 0,
                                                   "a link to a file outside the content folder: left out"))
                continue
            if link and not is_dir and not is_file and entry.is_dir():
                layout.left_out.append((child + "/", "a link to a folder (not followed)"))
                continue
            if is_dir:
                why = _default_reason(child, True)
                if why and not _matches(child + "/", inc) and not _matches(child, inc):
                    _note_dir(Path(entry.path), child, why)
                    continue
                if _matches(child, exc):
                    _note_dir(Path(entry.path), child, "excluded in book.toml")
                    continue
                visit(Path(entry.path), child, depth + 1)
            elif is_file and entry.name.lower().endswith(MD_SUFFIXES):
                why = _default_reason(child, False)
                if why and not _matches(child, inc):
                    if why != "the table of contents" or rel:
                        layout.left_out.append((child, why))
                    continue
                if _matches(child, exc):
                    layout.left_out.append((child, "excluded in book.toml"))
                    continue
                found.append(child)
                if len(found) > MAX_FILES:
                    raise _TooMany()
            elif is_file and entry.name.lower().endswith(ASSET_SUFFIXES):
                layout.assets.append(child)

    def _note_dir(path: Path, rel: str, why: str) -> None:
        if why == "hidden" or why.startswith("build") or why == "the book's templates":
            # a .git folder or node_modules: not notes, and often huge; count what it holds
            n = 0
            for _dirpath, _dirs, files in walk(path):
                n += sum(1 for f in files if f.lower().endswith(MD_SUFFIXES))
                if n > 10_000:
                    break
            if n:
                layout.left_out.append((rel + "/", f"{why} ({n} Markdown file{'s' if n != 1 else ''})"))
            return
        for dirpath, _dirs, files in walk(path):
            for f in sorted(files):
                if f.lower().endswith(MD_SUFFIXES):
                    sub = Path(dirpath, f).relative_to(path).as_posix()
                    layout.left_out.append((f"{rel}/{sub}", why))

    if root.is_dir():
        try:
            visit(root, "")
        except _TooMany:
            layout.diagnostics.append(diag("P016", shown or str(root), 0, f"more than {MAX_FILES} Markdown files: "
                                           "a book this size is refused before reading; point publisher at the "
                                           "notes' own folder, or leave folders out with exclude in book.toml"))
            return Layout(diagnostics=layout.diagnostics)
    _templates_inside(root, shown, layout)
    found = _without_translations(root, found, language, inc, layout)
    order = _intro_first(found)
    titles: dict[str, str] = {}
    where = "SUMMARY.md"  # an mdBook's is in its pages' folder (book.toml's [book] src)
    if not (root / where).is_file() and (src := mdbook_src(root)) is not None and (root / src / "SUMMARY.md").is_file():
        where = f"{src}/SUMMARY.md"
    summary = root / where
    if summary.is_file() and not _matches(where, exc):
        base = where.rpartition("/")[0]
        listed, titles, more = read_summary(summary, root, set(found), f"{shown}/{where}" if shown else where, base)
        layout.diagnostics.extend(more)
        layout.summary = where
        if listed:
            for rel in order:
                if rel not in listed:
                    layout.left_out.append((rel, f"not in {where}"))
            order = listed
    elif (site := mkdocs_site(root)) is not None:
        docs, nav = site
        pages = [rel for rel in order if docs == "" or rel.startswith(docs + "/")]
        if pages:
            for rel in order:
                if rel not in pages:
                    layout.left_out.append((rel, f"outside the MkDocs site's {docs or '.'}/ folder"))
            listed = [rel for rel, _ in nav if rel in pages]
            titles = {rel: title for rel, title in nav if rel in pages and title}
            order = list(dict.fromkeys(listed + pages))  # the nav's order, then the pages it does not list

    # slugs from the paths, made unique in path order (never in reading order)
    used: set[str] = set()
    slugs: dict[str, str] = {}
    for rel in sorted(found):
        p = PurePosixPath(rel)
        parts = [name_slug(x) for x in p.parts[:-1]] + [name_slug(p.stem)]
        slugs[rel] = unique("-".join(parts), used)
    for rel in order:
        p = PurePosixPath(rel)
        folder = p.parent.as_posix() if p.parent.as_posix() != "." else ""
        intro = p.stem.lower() in INTRO_NAMES and _is_intro(rel, found)
        layout.sources.append(Source(root / rel, rel, slugs[rel], folder, intro, titles.get(rel, ""), root))
    return layout


# README-ja.md, README.zh-CN.md, README_fr.md, notes.pt-BR.md: a base name, a separator, a language code
TRANSLATION_RE = re.compile(r"^(?P<base>.+?)[-._](?P<lang>[a-z]{2,3}(?:[-_](?:[A-Za-z]{4}|[A-Za-z]{2}|\d{3}))?)$", re.I)


# ISO 639-1 (and the few three-letter codes translations use): "aws-iam.md" beside "aws.md" is no translation
LANGUAGES = frozenset("""
aa ab af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el en eo
es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg
ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn
no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta
te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu fil yue cmn
""".split())
HEADING_LINE_RE = re.compile(r"^#{1,6}[ \t]", re.M)


def _mirrors(root: Path, rel: str, base: str) -> bool:
    """Does ``rel`` have its base's shape (a translation keeps the headings: about as many)?"""
    try:
        a = len(HEADING_LINE_RE.findall((root / rel).read_text("utf-8", errors="replace")[:2_000_000]))
        b = len(HEADING_LINE_RE.findall((root / base).read_text("utf-8", errors="replace")[:2_000_000]))
    except OSError:
        return False
    return (a == b == 0) or (min(a, b) > 0 and 0.7 <= a / b <= 1.4)


def _same_language(code: str, wanted: str) -> bool:
    a, b = code.lower().replace("_", "-"), wanted.lower().replace("_", "-")
    return a == b or a.split("-")[0] == b.split("-")[0] and (a.count("-") == 0 or b.count("-") == 0)


def _lang_code(name: str) -> str:
    """The language code a folder's name is (``ja``, ``zh-CN``, ``pt_BR``), or ""."""
    low = name.lower().replace("_", "-")
    hit = re.fullmatch(r"([a-z]{2,3})(?:-(?:[a-z]{4}|[a-z]{2}|\d{3}))?", low)
    return name if hit and hit.group(1) in LANGUAGES else ""


def _translated_folders(found: list[str], language: str) -> dict[str, tuple[str, str]]:
    """The files of language-code folders that mirror another folder (``docs/ja/guide.md`` beside
    ``docs/guide.md``, or ``ja/`` beside ``en/``): translation -> (its base file, language code). A folder that
    only has such a name (``os/`` of operating-system notes) mirrors nothing and stays. Of sibling language
    folders, the book's language (``en`` unless book.toml says) is the base."""
    wanted = language or "en"
    folders: dict[str, set[str]] = {}  # a language folder -> its files, by their paths inside it
    for rel in found:
        parts = PurePosixPath(rel).parts
        for k in range(len(parts) - 1):
            if _lang_code(parts[k]):
                folders.setdefault("/".join(parts[:k + 1]), set()).add("/".join(parts[k + 1:]))
    out: dict[str, tuple[str, str]] = {}
    for folder, files in folders.items():
        parent, _, name = folder.rpartition("/")
        code = _lang_code(name)
        inside = lambda rel, p=parent: rel[len(p) + 1:] if p else rel  # noqa: E731
        # the parent's own files (outside every language folder), or a sibling folder in the book's language
        bases: list[tuple[str, set[str]]] = [(parent, {inside(r) for r in found if (not parent or r.startswith(parent + "/"))
                                                         and not any(_lang_code(x) for x in PurePosixPath(inside(r)).parts[:-1])})]
        if not _same_language(code, wanted):
            bases += [(f, fs) for f, fs in folders.items() if f != folder and f.rpartition("/")[0] == parent
                      and _same_language(_lang_code(f.rpartition("/")[2]), wanted)]
        elif any(f != folder and f.rpartition("/")[0] == parent for f in folders):
            continue  # the book's own language among its translations: the base
        for base, names in bases:
            common = files & names
            # most of its pages, and two at least when it has two (one shared name is a coincidence: os/threads.md)
            if len(common) >= min(2, len(files)) and len(common) * 2 >= len(files):
                for name_in in files:
                    rel = f"{folder}/{name_in}"
                    twin = f"{base}/{name_in}" if base else name_in
                    out[rel] = (twin if name_in in names else "", code)  # "": a page only the translation has
                break
    return out


def _without_translations(root: Path, found: list[str], language: str, inc: list[re.Pattern[str]],
                          layout: Layout) -> list[str]:
    """A file is a translation only when its base file sits beside it (README-ja.md beside README.md): left
    out by default, and said so; where ``language`` has one, the translation is read in its base's place."""
    here = set(found)
    of: dict[str, tuple[str, str]] = {}  # translation -> (base, language code)
    for rel in found:
        p = PurePosixPath(rel)
        hit = TRANSLATION_RE.match(p.stem)
        if hit is None or hit.group("lang").lower().replace("_", "-").split("-")[0] not in LANGUAGES:
            continue
        for suffix in MD_SUFFIXES:
            base = (p.parent / (hit.group("base") + suffix)).as_posix().removeprefix("./")
            if base in here and base != rel and _mirrors(root, rel, base):
                of[rel] = (base, hit.group("lang"))
                break
    of.update(_translated_folders(found, language))
    chosen = {base: rel for rel, (base, code) in sorted(of.items())
              if base and language and _same_language(code, language)}
    out = []
    for rel in found:
        if rel in chosen:  # a base replaced by the translation into the book's language
            layout.left_out.append((rel, f"replaced by its translation {chosen[rel]} (language = {language!r})"))
        elif (rel in of and chosen.get(of[rel][0]) != rel and not _matches(rel, inc)
              and not (not of[rel][0] and language and _same_language(of[rel][1], language))):
            what = f"a translation of {of[rel][0]}" if of[rel][0] else f"a page of the {of[rel][1]} translation"
            layout.left_out.append((rel, f"{what} ({of[rel][1]})"))
        else:
            out.append(rel)
    return out


def _templates_inside(root: Path, shown: str, layout: Layout) -> None:
    """P112 for each of the book's own templates that is a link to a file outside the content folder (the
    built-in template is used in its place)."""
    folder = root / "templates"
    if not folder.is_dir() or folder.is_symlink() and not inside(root, folder):
        if folder.is_symlink():
            layout.diagnostics.append(diag("P112", f"{shown}/templates" if shown else "templates", 0,
                                           "a link to a folder outside the content folder: the built-in templates are used"))
        return
    for dirpath, _dirs, files in walk(folder):
        for name in sorted(files):
            path = Path(dirpath, name)
            if not inside(root, path):
                rel = path.relative_to(root).as_posix()
                layout.diagnostics.append(diag("P112", f"{shown}/{rel}" if shown else rel, 0,
                                               "a link to a file outside the content folder: the built-in one is used"))


def _is_intro(rel: str, found: list[str]) -> bool:
    """README.md is the folder's opening page; index.md only where there is no README."""
    p = PurePosixPath(rel)
    if p.stem.lower() == "readme":
        return True
    siblings = {PurePosixPath(f).name.lower() for f in found if PurePosixPath(f).parent == p.parent}
    return not any(s.startswith("readme.") for s in siblings)


def _intro_first(found: list[str]) -> list[str]:
    """Depth-first natural order (as walked), each folder's opening page before its other files."""
    out: list[str] = []
    by_folder: dict[str, list[str]] = {}
    for rel in found:
        by_folder.setdefault(PurePosixPath(rel).parent.as_posix(), []).append(rel)
    placed: set[str] = set()
    for rel in found:
        folder = PurePosixPath(rel).parent.as_posix()
        if folder not in placed:
            placed.add(folder)
            intro = [f for f in by_folder[folder] if PurePosixPath(f).stem.lower() in INTRO_NAMES and _is_intro(f, found)]
            out.extend(intro)
        if rel not in out:
            out.append(rel)
    return out


def mkdocs_site(root: Path) -> tuple[str, list[tuple[str, str]]] | None:
    """A MkDocs site's docs folder (relative to ``root``, "" for ``root`` itself) and its ``nav``: (path
    relative to ``root``, title) in order; None when no ``mkdocs.yml`` is at ``root`` or just above it."""
    for config, base in ((root / "mkdocs.yml", root), (root.parent / "mkdocs.yml", root.parent)):
        if not config.is_file():
            continue
        data = _mkdocs_config(config)
        if data is None:
            return None
        docs_dir = (base / str(data.get("docs_dir") or "docs")).resolve()
        try:
            docs = docs_dir.relative_to(root.resolve()).as_posix()
        except ValueError:
            continue  # the site's pages are not in the folder read
        docs = "" if docs == "." else docs
        nav: list[tuple[str, str]] = []

        def walk(items: object, title: str = "") -> None:
            if isinstance(items, list):
                for item in items:
                    walk(item)
            elif isinstance(items, dict):
                for key, value in items.items():
                    if isinstance(value, (list, dict)):
                        walk(value)
                    else:
                        walk(value, str(key))
            elif isinstance(items, str) and items.lower().endswith((".md", ".markdown")) and "://" not in items:
                rel = PurePosixPath(os.path.normpath(((docs + "/") if docs else "") + items)).as_posix()
                nav.append((rel, " ".join(title.split())))
        walk(data.get("nav") or [])
        return docs, nav
    return None


def _mkdocs_config(path: Path) -> dict | None:
    """mkdocs.yml read safely: its ``!!python/name:`` and ``!ENV`` tags are read as nothing."""
    import yaml

    class Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
        pass

    Loader.add_multi_constructor("", lambda _loader, _suffix, _node: None)
    try:
        data = yaml.load(path.read_text("utf-8", errors="replace"), Loader=Loader)  # noqa: S506 - safe loader
    except (OSError, yaml.YAMLError):
        return None
    return data if isinstance(data, dict) else None


def read_summary(path: Path, root: Path, found: set[str], shown: str, base: str = "") -> tuple[list[str], dict[str, str], list[Diagnostic]]:
    """The files a SUMMARY.md lists, in its order, with their titles (``base``: its folder, from ``root``)."""
    diags: list[Diagnostic] = []
    listed: list[str] = []
    titles: dict[str, str] = {}
    try:
        text = path.read_text("utf-8", errors="replace")
    except OSError as exc:
        return [], {}, [diag("P010", shown, 0, exc.strerror or str(exc))]
    in_fence = False
    for n, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        if in_fence:
            continue
        hit = SUMMARY_LINK_RE.match(line) or SUMMARY_TOP_RE.match(line.strip())
        if not hit:
            continue
        target = hit.group("path").strip("<>").split("#", 1)[0]
        if not target:
            continue  # mdBook's draft chapter: not written yet
        from urllib.parse import unquote

        rel = PurePosixPath(os.path.normpath(unquote(f"{base}/{target}" if base else target))).as_posix().lstrip("./") if target else ""
        if rel not in found:
            if not (root / rel).is_file():
                diags.append(diag("P114", shown, n, f"no file '{target}'"))
            continue
        if rel not in listed:
            listed.append(rel)
            titles[rel] = " ".join(hit.group("title").split())
    return listed, titles, diags
