"""Run `tfslim <command>` in a subprocess, as a user would (exit status, stdout, stderr)."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.serving.conftest import project_root


def run_tfslim(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONPATH=os.pathsep.join(p for p in (project_root(), os.environ.get("PYTHONPATH")) if p))
    return subprocess.run([sys.executable, "-c", "from cli import main; main()", *args],
                          cwd=project_root(), env=env, capture_output=True, text=True, timeout=timeout,
                          check=False)
