"""Runs `tfslim` in a fresh interpreter and reports which heavy modules it imported."""
import os
import subprocess
import sys
from typing import List, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEAVY = ("tensorflow", "tf_keras", "keras", "apache_beam")
# The console script's main; at exit (sys.exit included) one line naming the heavy
# modules in sys.modules.
PROBE = ("import atexit, sys\n"
         "atexit.register(lambda: sys.stderr.write('\\nLOADED ' + ' '.join(sorted(\n"
         f"    m for m in {HEAVY!r} if m in sys.modules)) + '\\n'))\n"
         "from cli import main\n"
         "main(['tfslim'] + sys.argv[1:])\n")


def run_probed(*args: str, timeout: int = 600) -> Tuple[subprocess.CompletedProcess, List[str]]:
    """(the finished process, the heavy modules it imported)."""
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run([sys.executable, "-c", PROBE] + list(args), cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=timeout, check=False)
    loaded = [line for line in out.stderr.splitlines() if line.startswith("LOADED")]
    assert loaded, out.stderr[-2000:]
    return out, loaded[-1].split()[1:]
