"""Every command README.md prints in a shell block still works, so a user can paste it.

Each command line (continuations joined, comments dropped) is checked by a rule for its
program, cheaply but for real:

* ``make T``: ``make -n T`` (the target exists and its recipe expands);
* ``tfslim …``, ``python local_runner.py …``, ``python -m runners.kubeflow.submit …``: the
  command's own flags parse its arguments, and the pipeline runners build and check the run
  config (tests/docs/readme_probe.py), as they do before any component runs;
* ``python -m runners.kubeflow.runner …``: the command itself, compiling into a temporary file;
* ``python -m runners.kubeflow.local_step …``: ``--help`` names every flag the command uses;
* ``docker build -f F …``: F exists and declares every ``--build-arg``.

A program without a rule fails the test: a new kind of command needs a check here. Every
command's output must also be free of library log lines (tests/console.py). The README's
``my_photos`` is a small folder of generated photos. The commands run in parallel.
"""
from __future__ import annotations

import concurrent.futures
import json
import os
import re
import shlex
import subprocess
import sys
from typing import Dict, List, Tuple

import pytest

from tests import console

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
README = os.path.join(REPO, "README.md")
SHELL_FENCE = re.compile(r"^```(?:bash|sh|shell|console)\s*\n(.*?)^```", re.M | re.S)


def readme_commands(text: str) -> List[List[str]]:
    """The argv of every command line in the README's shell blocks."""
    commands = []
    for block in SHELL_FENCE.findall(text):
        for line in block.replace("\\\n", " ").splitlines():
            argv = shlex.split(line, comments=True)
            if argv:
                commands.append(argv)
    return commands


COMMANDS = readme_commands(open(README, encoding="utf-8").read())


def command_id(argv: List[str]) -> str:
    return " ".join(argv[:3])[:60]


def _run(argv: List[str], timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=REPO, env=console.user_env(TF_USE_LEGACY_KERAS="1"),
                          capture_output=True, text=True, timeout=timeout, check=False)


def _flag_names(args: List[str]) -> List[str]:
    return [arg.split("=", 1)[0] for arg in args if arg.startswith("--")]


def check(argv: List[str], tmp: str, photos: str) -> Tuple[bool, str]:
    """(passed, what happened) for one README command."""
    argv = [photos if arg == "my_photos" else arg for arg in argv]
    program = argv[0]
    if program == "make":
        result = _run(["make", "-n"] + argv[1:])
    elif program == "tfslim":
        result = _run([sys.executable, "-m", "tests.docs.readme_probe"] + argv)
    elif argv[:2] == ["python", "local_runner.py"]:
        result = _run([sys.executable, "-m", "tests.docs.readme_probe", "local_runner.py"] + argv[2:])
    elif argv[:3] == ["python", "-m", "runners.kubeflow.submit"]:
        result = _run([sys.executable, "-m", "tests.docs.readme_probe", argv[2]] + argv[3:])
    elif argv[:3] == ["python", "-m", "runners.kubeflow.runner"]:
        output = os.path.join(tmp, "pipeline.json")
        args = argv[3:]
        args[args.index("--output_file") + 1] = output
        result = _run([sys.executable, "-m", argv[2]] + args, timeout=600)
        if result.returncode == 0:
            tasks = json.load(open(output))["pipelineSpec"]["root"]["dag"]["tasks"]
            if "Trainer" not in tasks:
                return False, f"compiled without a Trainer: {sorted(tasks)}"
    elif argv[:3] == ["python", "-m", "runners.kubeflow.local_step"]:
        result = _run([sys.executable, "-m", argv[2], "--help"])
        missing = [flag for flag in _flag_names(argv[3:]) if flag not in result.stdout]
        if missing:
            return False, f"--help does not know {missing}"
    elif argv[:2] == ["docker", "build"]:
        dockerfile = os.path.join(REPO, argv[argv.index("-f") + 1])
        if not os.path.isfile(dockerfile) or not os.path.isdir(os.path.join(REPO, argv[-1])):
            return False, f"no {dockerfile} or build context {argv[-1]}"
        declared = set(re.findall(r"^ARG (\w+)", open(dockerfile).read(), re.M))
        used = {argv[i + 1].split("=")[0] for i, arg in enumerate(argv) if arg == "--build-arg"}
        return used <= declared, f"build args {sorted(used - declared)} not declared in {dockerfile}"
    else:
        return False, "no rule checks this command: add one to tests/docs/test_readme_commands.py"
    output = result.stdout + result.stderr
    if result.returncode != 0:
        return False, f"exit {result.returncode}: {output[-2000:]}"
    noise = console.noise(output)
    return not noise, f"library log lines: {noise[:5]}"


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Dict[str, Tuple[bool, str]]:
    from tests.pipeline import photos as photo_lib

    photos = str(tmp_path_factory.mktemp("readme") / "my_photos")
    photo_lib.write_photos(photos, per_class=2)
    tmp = str(tmp_path_factory.mktemp("readme-out"))
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        futures = {shlex.join(argv): pool.submit(check, argv, tmp, photos) for argv in COMMANDS}
        return {key: future.result() for key, future in futures.items()}


def test_the_readme_has_the_commands_a_user_runs_first():
    lines = [shlex.join(argv) for argv in COMMANDS]
    for expected in ("make demo", "make test", "python -m runners.kubeflow.runner"):
        assert any(line.startswith(expected) for line in lines), lines
    assert any("--image" in argv for argv in COMMANDS if argv[:3] == ["python", "-m", "runners.kubeflow.runner"])


@pytest.mark.parametrize("argv", COMMANDS, ids=command_id)
def test_readme_command_works_as_printed(results, argv):
    passed, detail = results[shlex.join(argv)]
    assert passed, f"{shlex.join(argv)}: {detail}"


def test_a_command_without_a_rule_or_with_a_bad_flag_fails(tmp_path):
    """The checks can fail: a program without a rule, an unknown flag."""
    assert not check(["tensorboard", "--logdir", "x"], str(tmp_path), str(tmp_path))[0]
    passed, detail = check(["tfslim", "train", "--no_such_flag=1"], str(tmp_path), str(tmp_path))
    assert not passed and "no_such_flag" in detail
    passed, detail = check(["python", "-m", "runners.kubeflow.submit", "--hots", "h"], str(tmp_path), str(tmp_path))
    assert not passed and "hots" in detail
