"""Run `tfslim <command>` in a subprocess, as a user would (exit status, stdout, stderr)."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.console import user_env
from tests.serving.fixtures import project_root


def _env() -> dict:
    # A user's environment: tfslim quietens TensorFlow and the libraries itself.
    return user_env(TF_USE_LEGACY_KERAS="1", PYTHONUNBUFFERED="1",
                    PYTHONPATH=os.pathsep.join(p for p in (project_root(), os.environ.get("PYTHONPATH")) if p))


def _argv(args) -> list:
    return [sys.executable, "-c", "from cli import main; main()", *args]


def run_tfslim(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(_argv(args), cwd=project_root(), env=_env(), capture_output=True, text=True,
                          timeout=timeout, check=False)


def start_tfslim(*args: str, stderr) -> subprocess.Popen:
    """`tfslim <command>` left running, stdout an unbuffered text pipe, stderr into the open file
    ``stderr`` (a pipe nobody reads could fill and stall it): for tests that act while it works."""
    return subprocess.Popen(_argv(args), cwd=project_root(), env=_env(), stdout=subprocess.PIPE,
                            stderr=stderr, text=True)
