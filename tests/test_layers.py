"""The package's layers: each folder is a stage, and a module imports only from its own stage or below.

Function-level imports count (a lazy import is still a dependency); imports under ``if TYPE_CHECKING:`` do
not (they are for the type checker only). The renderers never import one another.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from publisher import renderers

PACKAGE = Path(__file__).resolve().parent.parent / "publisher"

# bottom to top: the order the pipeline runs in, the model and its utilities under everything
STAGES = ("core", "read", "cards", "check", "markup", "renderers", "top")


def stage_of(module: str) -> str:
    parts = module.split(".")
    assert parts[0] == "publisher", module
    if len(parts) > 2 or (len(parts) == 2 and (PACKAGE / parts[1]).is_dir()):
        assert parts[1] in STAGES, f"{module}: a folder that is no stage"
        return parts[1]
    return "top"  # publisher/*.py: pipeline, build, cli


def module_of(path: Path) -> tuple[str, bool]:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def _type_checking_only(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def imports(path: Path, source: str | None = None) -> list[tuple[int, str]]:
    """Every publisher module ``path`` imports (line, absolute name), at any depth, TYPE_CHECKING left out."""
    name, is_pkg = module_of(path)
    package = name if is_pkg else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8") if source is None else source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    out = []
    for node in ast.walk(tree):
        if _type_checking_only(node, parents):
            continue
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "publisher"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] != "publisher":
                continue
            for alias in node.names:  # `from publisher.cards import ledger` imports the module publisher.cards.ledger
                sub = f"{mod}.{alias.name}"
                is_module = (PACKAGE.parent / (sub.replace(".", "/") + ".py")).is_file() or \
                    (PACKAGE.parent / sub.replace(".", "/")).is_dir()
                out.append((node.lineno, sub if is_module else mod))
    return out


def exists(module: str) -> bool:
    path = PACKAGE.parent / module.replace(".", "/")
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_module_sits_in_a_stage():
    for path in modules():
        assert stage_of(module_of(path)[0]) in STAGES


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_module_imports_only_from_its_stage_or_below(path):
    own = STAGES.index(stage_of(module_of(path)[0]))
    above = [f"{path.relative_to(PACKAGE.parent)}:{line}: imports {mod} ({stage_of(mod)} is above {STAGES[own]})"
             for line, mod in imports(path)
             if mod != "publisher" and STAGES.index(stage_of(mod)) > own]
    assert not above, "\n".join(above)
    missing = [f"{path.relative_to(PACKAGE.parent)}:{line}: {mod} does not exist" for line, mod in imports(path)
               if not exists(mod)]
    assert not missing, "\n".join(missing)  # a lazy import of a moved module fails only when it runs


def test_renderers_never_import_one_another():
    outputs = {spec.module for spec in renderers.REGISTRY.values()}
    for name in outputs:
        path = PACKAGE.parent / (name.replace(".", "/") + ".py")
        if not path.is_file():
            path = path.with_suffix("") / "__init__.py"
        own = [p for p in path.parent.rglob("*.py")] if path.name == "__init__.py" else [path]
        for p in own:
            seen = {mod for _, mod in imports(p)}
            others = {o for o in outputs - {name} if any(s == o or s.startswith(o + ".") for s in seen)}
            assert not others, f"{p}: imports the renderer {others}"


def test_the_check_finds_an_upward_import():
    """The rule can fail: a core module importing a renderer inside a function is caught; a TYPE_CHECKING
    import is not counted."""
    probe = PACKAGE / "core" / "probe.py"  # never written: its source is given
    own = STAGES.index(stage_of(module_of(probe)[0]))
    found = [mod for _, mod in imports(probe, "def f():\n    from ..renderers import anki\n")
             if STAGES.index(stage_of(mod)) > own]
    assert found == ["publisher.renderers.anki"]
    assert imports(probe, "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..pipeline import load\n") == []
