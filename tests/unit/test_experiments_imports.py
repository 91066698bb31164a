"""The experiments modules import each other without a cycle (function-level imports
included), and each imports alone."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import reluscope.experiments

PACKAGE = Path(reluscope.experiments.__file__).parent
PREFIX = "reluscope.experiments."
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")


def _imports(name: str) -> set[str]:
    """experiments modules imported anywhere in ``name`` (top level or in functions)."""
    tree = ast.parse((PACKAGE / f"{name}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith(PREFIX):
                found.add(node.module[len(PREFIX):].split(".")[0])
            elif node.module == "reluscope.experiments":
                found.update(alias.name for alias in node.names if alias.name in MODULES)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PREFIX):
                    found.add(alias.name[len(PREFIX):].split(".")[0])
    return found - {name}


def test_no_import_cycle_between_experiments_modules():
    graph = {name: _imports(name) for name in MODULES}
    assert "report" in graph["reproduce"]  # the graph is read (not empty)
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        if state.get(node) == 1:
            pytest.fail("import cycle: " + " -> ".join([*path, node]))
        if state.get(node) == 2:
            return
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            visit(nxt, [*path, node])
        state[node] = 2

    for name in MODULES:
        visit(name, [])


@pytest.mark.parametrize("name", MODULES)
def test_each_module_imports_alone(name):
    code = f"import {PREFIX}{name}"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    importlib.import_module(PREFIX + name)
