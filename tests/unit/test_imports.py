"""Imports run one way: no module of ``insight`` imports, at module level, one that imports it back.

Imports inside functions are how optional heavy libraries stay lazy, so only
module-level imports count (``if TYPE_CHECKING:`` blocks excepted).
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


def _is_type_checking(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _module_level(body: list[ast.stmt]):
    """Import statements run when the module is imported (top level, if/try blocks, not TYPE_CHECKING)."""
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, (ast.If, ast.Try)) and not _is_type_checking(node):
            for block in ("body", "orelse", "finalbody"):
                yield from _module_level(getattr(node, block, []))
            for handler in getattr(node, "handlers", []):
                yield from _module_level(handler.body)


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
    """Each insight module mapped to the insight modules it imports at module level."""
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    known = set(paths)
    graph = {}
    for module, path in paths.items():
        body = ast.parse(path.read_text(encoding="utf-8")).body
        is_package = path.name == "__init__.py"
        graph[module] = set().union(*(_imported(n, module, is_package, known) for n in _module_level(body))) - {module}
    return graph


def test_import_graph_sees_the_stages():
    graph = import_graph()
    assert {"insight.ingest", "insight.themes", "insight.codeframe"} <= graph["insight.pipeline"]
    assert "insight.themes" not in graph["insight.codeframe"]  # the TYPE_CHECKING import does not count


def test_insight_has_no_import_cycle():
    try:
        tuple(TopologicalSorter(import_graph()).static_order())
    except CycleError as exc:
        pytest.fail(f"Import cycle in insight: {' -> '.join(exc.args[1])}")
