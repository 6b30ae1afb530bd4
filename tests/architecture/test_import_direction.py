"""Imports flow one way: components never load training code, trainer never loads components,
and compiling the pipeline DAG never loads the model zoo (each checked in a fresh interpreter)."""
import ast
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _imports(package: str):
    """(file, imported module) for every import statement under ``package``."""
    for root, _, files in os.walk(os.path.join(REPO, package)):
        for name in files:
            if not name.endswith(".py"):
                continue
            path = os.path.join(root, name)
            for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    yield path, node.module
                    for alias in node.names:
                        yield path, f"{node.module}.{alias.name}"
                elif isinstance(node, ast.Import):
                    for alias in node.names:
                        yield path, alias.name


@pytest.mark.parametrize("package,forbidden", [
    ("trainer", ("components", "pipeline", "cli")),
    ("components", ("trainer.training.train_lib", "trainer.run_fn", "pipeline", "cli")),
    ("schemas", ("trainer", "components", "pipeline", "serving", "cli")),
    ("serving", ("trainer", "components", "pipeline", "cli")),
    ("pipeline", ("cli",)),
])
def test_static_import_direction(package, forbidden):
    bad = [f"{os.path.relpath(path, REPO)} imports {module}" for path, module in _imports(package)
           if any(module == f or module.startswith(f + ".") for f in forbidden)]
    assert not bad, bad


def _loaded_after(code: str) -> set:
    probe = code + "\nimport sys; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return set(out.stdout.split())


def test_compiling_the_pipeline_does_not_load_the_zoo_or_training_code(tmp_path):
    loaded = _loaded_after(
        "from pipeline import run_config\n"
        "from pipeline.pipeline import create_pipeline\n"
        f"p = create_pipeline(run_config.load('smoke', check_net=False).replace(pipeline_root={str(tmp_path)!r}))\n"
        "assert len(p.components) > 5\n")
    assert "pipeline.pipeline" in loaded
    leaked = sorted(m for m in loaded if m.startswith(("trainer.nets", "trainer.training.train_lib", "trainer.run_fn",
                                                       "trainer.preprocessing_fn", "components.serving_smoke.probe",
                                                       "cli")))
    assert not leaked, leaked


def test_serving_contract_and_rest_client_do_not_load_tensorflow():
    loaded = _loaded_after("import serving.signatures, serving.client, serving.versions, schemas.layout")
    assert "tensorflow" not in loaded
