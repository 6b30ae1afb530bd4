"""`make bench`: runs every benchmark in bench/ with its defaults, one after another.

Each benchmark measures the project against a baseline in the same run and prints
the ratio; their outputs are the numbers in the README's performance table.
"""
from __future__ import annotations

import glob
import os
import subprocess
import sys


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", PYTHONPATH=os.path.dirname(here))
    failed = []
    for script in sorted(glob.glob(os.path.join(here, "*.py"))):
        if os.path.basename(script) in ("run_all.py", "__init__.py"):
            continue
        print(f"\n=== {os.path.basename(script)} ===", flush=True)
        if subprocess.call([sys.executable, script] + sys.argv[1:], env=env) != 0:
            failed.append(os.path.basename(script))
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
