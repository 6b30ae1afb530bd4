"""The layout docs/architecture.md draws: layers that import one way, no import circles (lazy
imports included), small folders, no re-export shims, every package documented."""
from __future__ import annotations

import os
import re
from typing import Dict

from tests.architecture.imports import LAYERS, REPO, SCRIPTS, cycles, module_graph, python_files

MAX_MODULES = 12
# The zoo keeps one file per net family (slim's nets/ layout), so it may hold more.
BIG_FOLDERS_ALLOWED = {"trainer/nets"}


def _layer(module: str) -> str:
    top = module.split(".")[0]
    return SCRIPTS.get(top, top)


def test_layers_import_one_way():
    bad = [f"{a} imports {b}" for a, targets in module_graph().items() for b in sorted(targets)
           if LAYERS.index(_layer(b)) < LAYERS.index(_layer(a))]
    assert not bad, "\n".join(bad)


def test_no_import_cycles_lazy_imports_included():
    assert not cycles(module_graph())


def test_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_folder_holds_more_than_twelve_modules():
    counts: Dict[str, int] = {}
    for path in python_files():
        counts[os.path.dirname(path)] = counts.get(os.path.dirname(path), 0) + 1
    big = {d: n for d, n in counts.items() if n > MAX_MODULES and d not in BIG_FOLDERS_ALLOWED}
    assert not big, big


def test_no_re_export_shims():
    """A module imports what it uses; callers import a name from its home, never through another
    module kept alive by ``# noqa: F401``."""
    shims = []
    for path in python_files():
        with open(os.path.join(REPO, path), encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if "noqa: F401" in line and line.lstrip().startswith("from "):
                    shims.append(f"{path}:{number}: {line.strip()}")
    assert not shims, "\n".join(shims)


def test_architecture_doc_names_every_package():
    with open(os.path.join(REPO, "docs", "architecture.md"), encoding="utf-8") as f:
        doc = f.read()
    packages = sorted({os.path.dirname(p) for p in python_files() if p.endswith("__init__.py")
                       and p.split(os.sep)[0] in LAYERS})
    missing = [p for p in packages if not re.search(rf"`{re.escape(p)}/`", doc)]
    assert not missing, f"docs/architecture.md does not name: {missing}"
