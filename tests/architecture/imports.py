"""The project's import graph, read from the source with ast (function-level imports included),
and the cycles in a graph: shared by the layout tests."""
from __future__ import annotations

import ast
import os
from typing import Dict, Iterator, List, Set, Tuple

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Source packages from the top (entry points) to the bottom (contracts): a package imports only
# itself and packages after it. local_runner.py sits with runners/.
LAYERS = ("cli", "runners", "pipeline", "components", "prediction", "ingestion", "trainer", "report",
          "serving", "schemas")
SCRIPTS = {"local_runner": "runners"}
SKIP_DIRS = {".git", ".venv", "build", "outputs", "data", "node_modules", "__pycache__"}


def python_files(top: str = "") -> Iterator[str]:
    """Every .py file below ``top``, relative to the repository (tests and bench included)."""
    for root, dirs, files in os.walk(os.path.join(REPO, top)):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith(".")
                         and not d.endswith(".egg-info"))
        for name in sorted(files):
            if name.endswith(".py"):
                yield os.path.relpath(os.path.join(root, name), REPO)


def module_name(path: str) -> str:
    name = path[:-3].replace(os.sep, ".")
    return name[: -len(".__init__")] if name.endswith(".__init__") else name


def source_modules() -> Dict[str, str]:
    return {module_name(p): p for p in python_files() if p.split(os.sep)[0] in LAYERS
            or module_name(p) in SCRIPTS}


def imports(path: str, module: str) -> Iterator[str]:
    """Every module named by an import in ``path`` (function-level imports included)."""
    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    with open(os.path.join(REPO, path), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            # ``from a.b import c`` imports a.b.c when that is a module, else a name of a.b
            # (resolved to the longest module prefix by the caller).
            yield from (f"{base}.{alias.name}" if alias.name != "*" else base for alias in node.names)


def module_graph() -> Dict[str, Set[str]]:
    """Module → the first-party modules it imports (a name resolves to its longest module prefix)."""
    modules = source_modules()

    def resolve(name: str) -> str:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name

    graph: Dict[str, Set[str]] = {}
    for module, path in modules.items():
        targets = {resolve(name) for name in imports(path, module)}
        graph[module] = {t for t in targets if t and t != module}
    return graph


def cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    found: List[List[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work: List[Tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found
