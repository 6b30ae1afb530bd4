"""The zoo's shape, read from its source with ast: imports flow one way (families ->
registry, never back, lazy imports included) and every family registers its nets with
the one idiom, a module-level ``NETS`` table that trainer/nets/_families.py hands to the
registry."""
import ast
import pathlib
from typing import Dict, List, Set

from tests.architecture.imports import cycles, module_graph

PACKAGE = "trainer.nets"
NETS_DIR = pathlib.Path(__file__).resolve().parents[2] / "trainer" / "nets"
REGISTRY_CALLS = {"register", "unregister"}


def _module_name(path: pathlib.Path) -> str:
    return PACKAGE if path.stem == "__init__" else f"{PACKAGE}.{path.stem}"


SOURCES: Dict[str, ast.Module] = {_module_name(path): ast.parse(path.read_text(), str(path))
                                  for path in sorted(NETS_DIR.glob("*.py"))}


def _zoo_graph() -> Dict[str, Set[str]]:
    """The project's import graph (tests/architecture/imports.py) within the zoo."""
    graph = module_graph()
    return {module: graph[module] & set(SOURCES) for module in SOURCES}


def _families() -> List[str]:
    """The modules listed in ``_families.FAMILIES``."""
    for node in SOURCES[f"{PACKAGE}._families"].body:
        target = node.target if isinstance(node, ast.AnnAssign) else (
            node.targets[0] if isinstance(node, ast.Assign) else None)
        if isinstance(target, ast.Name) and target.id == "FAMILIES":
            return [f"{PACKAGE}.{element.id}" for element in node.value.elts]
    raise AssertionError("trainer/nets/_families.py defines no FAMILIES tuple")


def _defines_nets(tree: ast.Module) -> bool:
    return any(isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "NETS"
                                                    for t in node.targets)
               for node in tree.body)


def _calls(tree: ast.Module) -> Set[str]:
    """Names of the functions and methods ``tree`` calls."""
    return {node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute))}


def test_the_registry_imports_nothing_of_the_zoo():
    assert not _zoo_graph()[f"{PACKAGE}.registry"]


def test_no_import_cycle_in_the_zoo():
    relative = [m for m, tree in SOURCES.items() for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.level]
    assert not relative, f"{relative}: write absolute imports (trainer.nets....)"
    assert not cycles(_zoo_graph())


def test_every_family_declares_a_nets_table_and_calls_no_registry_function():
    families = _families()
    assert families and len(families) == len(set(families))
    assert families == [m for m in SOURCES if _defines_nets(SOURCES[m])], \
        "FAMILIES must list exactly the modules that define NETS"
    for family in families:
        tree = SOURCES[family]
        registry_names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                          and node.module == f"{PACKAGE}.registry" for alias in node.names}
        assert registry_names <= {"NetSpec"}, (family, registry_names)
        assert not _calls(tree) & REGISTRY_CALLS, family


def test_only_the_family_list_registers_and_only_the_package_imports_it():
    graph = _zoo_graph()
    registering = {m for m, tree in SOURCES.items() if _calls(tree) & REGISTRY_CALLS}
    assert registering == {f"{PACKAGE}._families"}
    importers = {m for m, deps in graph.items() if f"{PACKAGE}._families" in deps}
    assert importers == {PACKAGE}
    assert f"{PACKAGE}.registry" in graph[f"{PACKAGE}._families"]


def test_the_registry_holds_the_families_tables():
    from trainer import nets  # pylint: disable=import-outside-toplevel
    from trainer.nets import _families  # pylint: disable=import-outside-toplevel
    declared = [spec.name for family in _families.FAMILIES for spec in family.NETS]
    assert len(declared) == len(set(declared))
    for family in _families.FAMILIES:
        for spec in family.NETS:
            assert nets.get_spec(spec.name) is spec
