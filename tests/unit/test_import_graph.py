"""reluscope has no import cycle, counting every import (also those inside functions).

The graph is read from the source (``ast``), not from ``sys.modules``: a cycle closed by a
function-local import never shows at import time, only when the function runs. Imports
under ``if TYPE_CHECKING:`` run never and are left out. ``from package import name``
points at the submodule ``package.name`` when there is one, else at the package.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

import reluscope

PACKAGE_ROOT = Path(reluscope.__file__).parent


def module_names(root: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file under ``root``."""
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement of ``tree`` at any depth, except under TYPE_CHECKING."""
    found: list[ast.Import | ast.ImportFrom] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))
    return found


def _known(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of ``name`` that is one of ``modules``."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Module -> the package's modules it imports (anywhere in its body)."""
    modules = module_names(root, package)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in _imports(ast.parse(path.read_text(), filename=str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = name.split(".")
                    anchor = anchor if is_package else anchor[:-1]
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.append(sub if sub in modules else base)
            for target in targets:
                known = _known(target, modules)
                if known is not None and known != name:
                    graph[name].add(known)
                    graph[name] |= _new_packages(known, name, modules)
    return graph


def _new_packages(target: str, importer: str, modules: dict[str, Path]) -> set[str]:
    """The packages whose ``__init__`` importing ``target`` runs besides the importer's
    own (Python runs every parent package first; the importer's are already running)."""
    own = importer.split(".")
    parts = target.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))
            if ".".join(parts[:i]) in modules and parts[:i] != own[:i]}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        return list(exc.args[1])
    return None


def test_the_package_has_no_import_cycle() -> None:
    graph = import_graph(PACKAGE_ROOT, "reluscope")
    assert len(graph) > 50  # the walk found the package
    assert "reluscope.regions.search.engine" in graph["reluscope.regions.count.dispatch"]
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    """Every module ``start`` imports, directly or through others."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for target in graph[todo.pop()] - seen:
            seen.add(target)
            todo.append(target)
    return seen


def test_network_save_reaches_writers_that_never_import_the_network() -> None:
    """``ReLUNetwork.save`` calls the writers; the readers build networks. The writers
    (and all they import) use the network's type only, so the two never meet."""
    graph = import_graph(PACKAGE_ROOT, "reluscope")
    assert graph["reluscope.network"] >= {"reluscope.io.writers", "reluscope.signature"}
    assert "reluscope.network" not in reachable(graph, "reluscope.io.writers")
    assert "reluscope.network" in graph["reluscope.io.onnx"]  # the readers do import it


def test_the_regions_subpackages_depend_one_way() -> None:
    """count and estimate use the search; count uses estimate (the rest of a stopped
    count); nothing in search uses count or estimate."""
    graph = import_graph(PACKAGE_ROOT, "reluscope")
    prefix = "reluscope.regions."

    def part(module: str) -> str:
        return module[len(prefix):].split(".")[0] if module.startswith(prefix) else ""

    parts: dict[str, set[str]] = {}
    for module, targets in graph.items():
        if part(module):
            parts.setdefault(part(module), set()).update(
                part(t) for t in targets if part(t) and part(t) != part(module))
    assert {"count", "estimate", "search", "upper", "views"} <= set(parts)
    assert find_cycle(parts) is None, " -> ".join(find_cycle(parts) or [])
    assert not parts["search"] & {"count", "estimate", "views", "upper"}


@pytest.mark.parametrize("local", [True, False])
def test_a_cycle_through_a_function_local_import_is_found(tmp_path: Path, local: bool) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from .b import B\n")
    (pkg / "a.py").write_text("from pkg.sub import b\n")
    body = "def f():\n    from .. import a\n" if local else "from .. import a\n"
    (pkg / "sub" / "b.py").write_text("B = 1\n" + body)
    (pkg / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import a\n")
    graph = import_graph(pkg, "pkg")
    assert graph["pkg.a"] == {"pkg.sub.b", "pkg.sub"}  # pkg.sub's __init__ runs first
    assert graph["pkg.sub"] == {"pkg.sub.b"}
    assert graph["pkg.sub.b"] == {"pkg.a"}
    assert graph["pkg.c"] == set()  # TYPE_CHECKING only
    cycle = find_cycle(graph) or []
    assert {"pkg.a", "pkg.sub.b"} <= set(cycle) and cycle[0] == cycle[-1]


def test_a_cycle_through_a_package_init_is_found(tmp_path: Path) -> None:
    """The io <-> network shape: net imports io.writers (no cycle by itself), but that
    runs io/__init__, which imports a reader that imports net."""
    pkg = tmp_path / "pkg"
    (pkg / "io").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "net.py").write_text("def save():\n    from pkg.io.writers import w\n")
    (pkg / "io" / "writers.py").write_text("w = 1\n")
    (pkg / "io" / "readers.py").write_text("from pkg.net import save\n")
    (pkg / "io" / "__init__.py").write_text("from pkg.io.readers import save\n")
    graph = import_graph(pkg, "pkg")
    assert graph["pkg.net"] == {"pkg.io.writers", "pkg.io"}
    assert set(find_cycle(graph) or []) == {"pkg.net", "pkg.io", "pkg.io.readers"}
    (pkg / "io" / "__init__.py").write_text("")  # a lazy io/__init__ breaks it
    assert find_cycle(import_graph(pkg, "pkg")) is None
