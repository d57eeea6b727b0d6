"""Jinja2 templates: a loader over [the book's own templates, the built-in templates].

A book restyles an output by shadowing a file: ``content/templates/epub/style.css``
wins over the project's ``templates/epub/style.css``. A book's template that is a link to a file outside the
content folder is not used (the built-in one is; ``sources.discover`` reports it, P112).
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from ..core.fsutil import inside

BUILTIN = Path(__file__).resolve().parents[2] / "templates"


def search_path(content_dir: Path | str | None = None) -> list[Path]:
    paths = []
    if content_dir is not None and (Path(content_dir) / "templates").is_dir():
        paths.append(Path(content_dir) / "templates")
    paths.append(BUILTIN)
    return paths


def _usable(base: Path, path: Path) -> bool:
    """A template file that may be read: any built-in one, a book's own only inside its content folder."""
    return path.is_file() and (base == BUILTIN or inside(base.parent, path))


class _BooksOwn(jinja2.FileSystemLoader):
    """The book's templates folder, less the files that are links leaving the content folder."""

    def __init__(self, base: Path) -> None:
        super().__init__(str(base))
        self.base = base

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, object]:
        source, filename, uptodate = super().get_source(environment, template)
        if not _usable(self.base, Path(filename)):
            raise jinja2.TemplateNotFound(template)
        return source, filename, uptodate


def environment(content_dir: Path | str | None = None, *, xml: bool = False) -> jinja2.Environment:
    """The templates of a book: one environment per search path in a process, so each template is compiled
    once (and again only when its file changes: Jinja looks at its time before each use). A file added to or
    removed from the book's own templates folder (a template shadowed, or no longer) is a new environment."""
    paths = tuple(search_path(content_dir))
    own = tuple(sorted(str(p) for p in paths[0].rglob("*"))) if paths[0] != BUILTIN else ()
    key = (paths, own)
    env = _ENVIRONMENTS.pop(key, None)
    if env is None:
        loaders = [_BooksOwn(p) if p != BUILTIN else jinja2.FileSystemLoader(str(p)) for p in paths]
        env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            autoescape=jinja2.select_autoescape(["html", "xhtml", "xml", "j2"], default_for_string=True, default=True),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
    _ENVIRONMENTS[key] = env  # the most recently used last
    while len(_ENVIRONMENTS) > 8:
        del _ENVIRONMENTS[next(iter(_ENVIRONMENTS))]
    return env


_ENVIRONMENTS: dict[tuple[tuple[Path, ...], tuple[str, ...]], jinja2.Environment] = {}
TEMPLATE_SUFFIXES = (".html", ".xhtml", ".xml", ".j2", ".ncx", ".svg")


def compile_all(prefixes: list[str] | tuple[str, ...], content_dir: Path | str | None = None) -> None:
    """Compile every template under ``prefixes`` now (``publisher watch``: once, in the process each build's
    renderers are forked from, not in every renderer of every build). A template that does not compile is
    left for the build to report."""
    env = environment(content_dir)
    folders = tuple(f"{prefix}/" for prefix in prefixes)
    for name in env.list_templates(filter_func=lambda n: n.startswith(folders) and n.endswith(TEMPLATE_SUFFIXES)):
        try:
            env.get_template(name)
        except jinja2.TemplateError:  # (a book's template that is a link leaving its folder is none: not found)
            pass


def read_text(name: str, content_dir: Path | str | None = None) -> str:
    """A static template file (CSS, a card side) as text, shadowing applied."""
    for base in search_path(content_dir):
        path = base / name
        if _usable(base, path):
            return path.read_text("utf-8")
    raise FileNotFoundError(f"template '{name}' not found in {', '.join(map(str, search_path(content_dir)))}")


def find(name: str, content_dir: Path | str | None = None) -> Path:
    for base in search_path(content_dir):
        path = base / name
        if _usable(base, path):
            return path
    raise FileNotFoundError(name)


def files_under(prefix: str, content_dir: Path | str | None = None) -> list[Path]:
    """Every template file an output may read (for the build's change tracking)."""
    seen: dict[str, Path] = {}
    for base in reversed(search_path(content_dir)):
        root = base / prefix
        if root.is_dir():
            for p in sorted(root.rglob("*")):
                if _usable(base, p):
                    seen[str(p.relative_to(base))] = p
    return [seen[k] for k in sorted(seen)]
