"""Imports run one way: no module of ``insight`` imports one that imports it back.

Imports inside functions count too: they keep heavy third-party libraries lazy,
which is no reason for two insight modules to need each other. Only imports under
``if TYPE_CHECKING:`` are left out, as they never run.
"""
from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "insight"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(tree: ast.Module):
    """Every import statement that can run: module level and inside functions, not under TYPE_CHECKING."""
    skipped = {id(n) for block in ast.walk(tree) if _is_type_checking(block) for s in block.body for n in ast.walk(s)}
    return (n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)) and id(n) not in skipped)


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The insight modules one import statement loads (``from insight import x`` loads ``insight.x``)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names} & known
    base = node.module or ""
    if node.level:
        anchor = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
        base = ".".join(anchor + ([base] if base else []))
    submodules = {f"{base}.{alias.name}" for alias in node.names} & known
    return submodules or ({base} & known)


def import_graph() -> dict[str, set[str]]:
    """Each insight module mapped to the insight modules it imports, at module level or in a function."""
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    known = set(paths)
    graph = {}
    for module, path in paths.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_package = path.name == "__init__.py"
        graph[module] = set().union(*(_imported(n, module, is_package, known) for n in _imports(tree))) - {module}
    return graph


def test_import_graph_sees_the_stages():
    graph = import_graph()
    assert {"insight.ingest", "insight.themes", "insight.codeframe"} <= graph["insight.pipeline"]
    assert "insight.themes" not in graph["insight.codeframe"]  # the TYPE_CHECKING import does not count
    assert "insight.pipeline" in graph["insight.ui"]  # nor is a function-level import missed


def test_insight_has_no_import_cycle():
    try:
        tuple(TopologicalSorter(import_graph()).static_order())
    except CycleError as exc:
        pytest.fail(f"Import cycle in insight: {' -> '.join(exc.args[1])}")
