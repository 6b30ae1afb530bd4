"""kubeflow/Dockerfile mirrors `make setup` and ships everything the install needs.

No Docker engine here, so the file is checked against the setup script, setup.py and
the tracked files rather than built.
"""
from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
import sys
from typing import Dict, List, Tuple

import pytest

from runners.kubeflow.settings import IMAGE_PROJECT_DIR

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DOCKERFILE = os.path.join(REPO, "kubeflow", "Dockerfile")
SETUP_SCRIPT = "tools/setup_env.sh"


def instructions() -> List[Tuple[str, str]]:
    """(INSTRUCTION, arguments) of DOCKERFILE, continuation lines joined, comments dropped."""
    out, pending = [], ""
    with open(DOCKERFILE) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if line.endswith("\\"):
                pending += line[:-1]
                continue
            line, pending = pending + line, ""
            keyword, _, rest = line.strip().partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def env_of(steps) -> Dict[str, str]:
    env: Dict[str, str] = {}
    for keyword, rest in steps:
        if keyword == "ENV":
            for item in shlex.split(rest):
                name, _, value = item.partition("=")
                env[name] = value
    return env


def copied_sources(steps) -> List[str]:
    """COPY sources (relative to the context = repo root) before the install RUN."""
    sources = []
    for keyword, rest in steps:
        if keyword == "RUN" and SETUP_SCRIPT in rest:
            return sources
        if keyword == "COPY":
            sources.extend(p.rstrip("/") for p in shlex.split(rest)[:-1] if not p.startswith("--"))
    raise AssertionError(f"no RUN of {SETUP_SCRIPT}")


def setup_py_targets() -> List[str]:
    """Top-level packages (find_packages include) and py_modules named in setup.py."""
    tree = ast.parse(open(os.path.join(REPO, "setup.py")).read())
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "setup")
    targets = []
    for keyword in call.keywords:
        if keyword.arg == "packages":
            include = next(k for k in keyword.value.keywords if k.arg == "include")
            targets += [e.value for e in include.value.elts if "*" not in e.value]
        if keyword.arg == "py_modules":
            targets += [f"{e.value}.py" for e in keyword.value.elts]
    return targets


def ignore_patterns() -> List[re.Pattern]:
    """kubeflow/Dockerfile.dockerignore as regexes (Docker semantics: anchored at the root,
    '**' spans directories, a matched directory excludes everything under it)."""
    patterns = []
    with open(DOCKERFILE + ".dockerignore") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            assert not line.startswith("!"), "exceptions are not handled by this check"
            regex = ""
            for token in re.split(r"(\*\*/|\*\*|\*|\?)", line.strip("/")):
                regex += {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(token, re.escape(token))
            patterns.append(re.compile(f"{regex}(?:/.*)?"))
    return patterns


# The venv's own bootstrap tools (their versions come with the Python build / setup_env.sh).
UNLOCKED = ("pip", "setuptools", "uv")


def build_args(steps) -> Dict[str, str]:
    """ARG name → default."""
    return dict(rest.partition("=")[::2] for keyword, rest in steps if keyword == "ARG")


def test_base_image_pinned_by_digest_env_and_workdir():
    steps = instructions()
    # One FROM, of a python:3.10 image named by digest (the tag only documents which).
    froms = [rest for keyword, rest in steps if keyword == "FROM"]
    assert froms == ["${BASE_IMAGE}"]
    base = build_args(steps)["BASE_IMAGE"]
    assert re.fullmatch(r"python:3\.10(?:[.-][\w.-]*)?@sha256:[0-9a-f]{64}", base), base
    # ...and the file says how to move the pin.
    assert "imagetools inspect python:3.10-slim" in open(DOCKERFILE).read()
    env = env_of(steps)
    assert env["TF_USE_LEGACY_KERAS"] == "1"
    # The settings' in-image project dir is where the schema file is looked up.
    assert [rest for keyword, rest in steps if keyword == "WORKDIR"] == [IMAGE_PROJECT_DIR]


def test_runs_as_a_fixed_non_root_user():
    steps = instructions()
    users = [rest for keyword, rest in steps if keyword == "USER"]
    assert len(users) == 1 and steps[-2][0] == "USER", "USER is set once, after every install step"
    uid, _, gid = users[0].partition(":")
    # Numeric, so that the pod's runAsNonRoot can check it without /etc/passwd.
    assert uid.isdigit() and int(uid) >= 1000 and (not gid or int(gid) >= 1000)
    assert any(keyword == "RUN" and f"--uid {uid}" in rest for keyword, rest in steps)


def test_cuda_tensorflow_behind_a_build_arg_cpu_by_default():
    steps = instructions()
    assert build_args(steps)["TF_VARIANT"] == "cpu"
    (install,) = [rest for keyword, rest in steps if keyword == "RUN" and SETUP_SCRIPT in rest]
    assert '"tensorflow[and-cuda]==2.16.2"' in install and '"$TF_VARIANT" = cuda' in install
    constraints = open(os.path.join(REPO, "requirements", "constraints.txt")).read()
    assert "tensorflow==2.16.2" in constraints.split()  # the same TF as the CPU build


def test_image_gets_no_test_only_or_demo_packages_and_a_full_lock():
    steps = instructions()
    (install,) = [rest for keyword, rest in steps if keyword == "RUN" and SETUP_SCRIPT in rest]
    assert re.search(rf"bash {re.escape(SETUP_SCRIPT)} \S+ prod\b", install)
    # The build fails if pytest, tf_slim or scikit-learn got in anyway.
    for module in ("pytest", "tf_slim", "sklearn"):
        assert f'! python -c "import {module}"' in install
    script = open(os.path.join(REPO, SETUP_SCRIPT)).read()
    profiles = dict(re.findall(r"^  (dev|prod)\) (.*) ;;$", script, re.M))
    # dev: the test packages and the demo extra; prod: neither, and the excludes file.
    assert profiles["dev"] == 'EXTRA=(-r requirements/dev.txt); PROJECT=".[demo]"', profiles
    assert profiles["prod"] == 'EXTRA=(--excludes requirements/prod-excludes.txt); PROJECT="."', profiles
    dev = [line.split("==")[0] for line in open(os.path.join(REPO, "requirements", "dev.txt"))
           if "==" in line and not line.startswith("#")]
    assert {"pytest", "tf-slim", "ruff"} <= set(dev)
    excluded = [line.strip() for line in open(os.path.join(REPO, "requirements", "prod-excludes.txt"))
                if line.strip() and not line.startswith("#")]
    assert excluded == ["scikit-learn"]


def test_scikit_learn_is_the_demo_extra_and_only_the_demo_imports_it():
    """tfx declares scikit-learn but the pipeline never imports it; the image leaves it out, so
    a pipeline module that started importing it would fail only in the image."""
    tree = ast.parse(open(os.path.join(REPO, "setup.py")).read())
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "setup")
    keywords = {k.arg: ast.literal_eval(k.value) for k in call.keywords
                if k.arg in ("install_requires", "extras_require")}
    assert "scikit-learn" not in keywords["install_requires"]
    assert keywords["extras_require"]["demo"] == ["scikit-learn"]
    paths = []
    for target in setup_py_targets():  # the installed packages and modules
        if target.endswith(".py"):
            paths.append(os.path.join(REPO, target))
        for root, _, files in os.walk(os.path.join(REPO, target)):
            paths += [os.path.join(root, name) for name in files if name.endswith(".py")]
    importers = {os.path.relpath(path, REPO) for path in paths
                 if re.search(r"^\s*(from|import) sklearn\b", open(path).read(), re.M)}
    assert importers == {os.path.join("runners", "digits.py")}


def test_lock_pins_every_installed_package():
    """requirements/lock.txt holds exactly one == pin for every distribution in this venv
    (so make setup and the image resolve the same small dependencies)."""
    from importlib import metadata  # pylint: disable=import-outside-toplevel

    lock = {}
    for line in open(os.path.join(REPO, "requirements", "lock.txt")):
        line = line.strip()
        if line and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep and version, f"lock.txt: {line!r} is not NAME==VERSION"
            lock[re.sub(r"[-_.]+", "-", name).lower()] = version
    installed = {re.sub(r"[-_.]+", "-", d.metadata["Name"]).lower(): d.version for d in metadata.distributions()}
    for name in ("tfslim-tfx",) + UNLOCKED:
        installed.pop(name, None)
    drift = {name: (lock.get(name), version) for name, version in installed.items() if lock.get(name) != version}
    assert not drift, f"lock.txt differs from the installed venv (run make lock): {drift}"


def test_install_runs_the_make_setup_script_into_the_venv_on_path():
    steps = instructions()
    runs = [rest for keyword, rest in steps if keyword == "RUN" and SETUP_SCRIPT in rest]
    assert len(runs) == 1
    venv = re.search(rf"bash {re.escape(SETUP_SCRIPT)} (\S+)", runs[0]).group(1)
    assert env_of(steps)["PATH"].split(":")[0] == f"{venv}/bin"
    makefile = open(os.path.join(REPO, "Makefile")).read()
    assert re.search(rf"^\t@?bash {re.escape(SETUP_SCRIPT)} ", makefile, re.M), "make setup uses the script"
    # The script installs the pinned stack with uv from the constraints file, plus this project.
    script = open(os.path.join(REPO, SETUP_SCRIPT)).read()
    install = re.search(r"uv\" pip install (.*?)(?<!\\)\n", script, re.S).group(1)
    assert "-c requirements/constraints.txt" in install and "-c requirements/lock.txt" in install
    assert '-e "$PROJECT"' in install


def test_every_install_compiles_bytecode_and_this_venv_has_it():
    """With PYTHONDONTWRITEBYTECODE (the image, this machine) or a read-only venv (the pod),
    bytecode compiled at install time is all a process gets; without it each step recompiles
    TF/TFX on start."""
    script = open(os.path.join(REPO, SETUP_SCRIPT)).read()
    installs = re.findall(r"uv\" pip install (.*?)(?<!\\)\n", script, re.S)
    assert installs and all("--compile-bytecode" in install for install in installs)
    (run,) = [rest for keyword, rest in instructions() if keyword == "RUN" and SETUP_SCRIPT in rest]
    cuda = run.split('"$TF_VARIANT" = cuda', 1)[1]
    assert "uv pip install" in cuda and "--compile-bytecode" in cuda.split("tensorflow[and-cuda]")[0]
    makefile = open(os.path.join(REPO, "Makefile")).read()
    assert SETUP_SCRIPT in re.search(r"^STAMP := .*$", makefile, re.M).group(0), \
        "a changed setup script must re-run make setup"
    import importlib.util  # pylint: disable=import-outside-toplevel

    origin = importlib.util.find_spec("tensorflow").origin
    assert os.path.isfile(importlib.util.cache_from_source(origin)), f"no bytecode for {origin}: make setup"


def test_copy_ships_what_the_install_reads():
    sources = copied_sources(instructions())
    script = open(os.path.join(REPO, SETUP_SCRIPT)).read()
    needed = {SETUP_SCRIPT, "setup.py"} | set(re.findall(r"-[cr] (requirements/[\w./-]+)", script))
    needed |= set(setup_py_targets())
    missing = [path for path in needed
               if not any(path == src or path.startswith(src + "/") for src in sources)]
    assert not missing, f"Dockerfile does not COPY {missing} before installing"
    assert {"requirements/constraints.txt", "requirements/dev.txt", "trainer", "components",
            "schemas", "local_runner.py"} <= needed


def test_dockerignore_keeps_every_tracked_file_the_image_needs():
    sources = copied_sources(instructions())
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True,
                             check=True).stdout.split()
    shipped = [p for p in tracked if any(p == s or p.startswith(s + "/") for s in sources)]
    patterns = ignore_patterns()
    assert "schemas/slim_image.pbtxt" in shipped and "trainer/training/data.py" in shipped
    excluded = [p for p in shipped if any(rx.fullmatch(p) for rx in patterns)]
    assert not excluded, f"Dockerfile.dockerignore drops {excluded}"
    # ...while the heavy local state stays out of the build context.
    for path in (".venv/bin/python", "outputs/demo/x", "data/digits/0/1.png", "trainer/__pycache__/a.pyc"):
        assert any(rx.fullmatch(path) for rx in patterns), path


@pytest.mark.parametrize("pattern,path,matches", [
    ("data", "data/x.png", True), ("data", "trainer/training/data.py", False),
    ("**/__pycache__", "a/b/__pycache__/c.pyc", True), ("*.egg-info", "x.egg-info/PKG-INFO", True)])
def test_ignore_pattern_semantics(tmp_path, monkeypatch, pattern, path, matches):
    ignore = tmp_path / "Dockerfile.dockerignore"
    ignore.write_text(pattern + "\n")
    monkeypatch.setattr(sys.modules[__name__], "DOCKERFILE", str(tmp_path / "Dockerfile"))
    assert any(rx.fullmatch(path) for rx in ignore_patterns()) is matches
