"""Start-up of the processes the pipeline launches, with the venv's compiled bytecode vs without.

`make setup` (tools/setup_env.sh) installs with ``uv pip install --compile-bytecode``, and so
does the Kubeflow image. Where ``PYTHONDONTWRITEBYTECODE=1`` is set (the image, this
machine) or the venv is read-only (a pod), Python never writes bytecode itself, so without
that flag every process compiles each module it imports from source, every time.

The baseline is the same venv with its bytecode hidden: ``-X pycache_prefix=<empty dir>``
plus ``PYTHONDONTWRITEBYTECODE=1`` makes Python look for .pyc files only in an empty
directory and never write them, which is what a venv installed without the flag gives.
Each import below runs as its own process, in interleaved rounds (A B A B ...); the table
gives the median whole-process wall and CPU seconds, and the import time measured inside
the process, for both, and their ratio.

    python bench/bytecode_startup.py [--repeats 3]
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
from typing import Dict, List, Tuple

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from bench.convert_throughput import measure_process  # noqa: E402  (whole-process wall, CPU, output)
# What each kind of process imports before it does any work.
IMPORTS: Dict[str, str] = {
    "import tensorflow": "import tensorflow",
    "a pipeline process (from tfx import v1)": "from tfx import v1",
    "a Kubeflow step (TFX v2 container executor)": (
        "import runners.kubeflow.entrypoint as e; e.register_system_types(); "
        "from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_run_executor"),
    "a Trainer worker (trainer.run_fn)": "import trainer.run_fn",
}
# The child prints how long the import itself took, measured inside the process.
CHILD = "import time; t = time.perf_counter(); {code}; print('IMPORT_S', time.perf_counter() - t)"


def _run(code: str, hide_bytecode: str = "") -> Tuple[float, float, float]:
    """(wall s, CPU s, in-process import s) of one fresh interpreter running ``code``."""
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="3", PYTHONDONTWRITEBYTECODE="1",
               PYTHONPATH=REPO)
    args = [sys.executable, "-W", "ignore"]
    if hide_bytecode:
        args += ["-X", f"pycache_prefix={hide_bytecode}"]
    done = measure_process(args + ["-c", CHILD.format(code=code)], env=env)
    return done["wall_s"], done["cpu_s"], float(done["output"].split("IMPORT_S")[-1].split()[0])


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="Interleaved rounds per import.")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    origin = importlib.util.find_spec("tensorflow").origin
    if not os.path.isfile(importlib.util.cache_from_source(origin)):
        print(f"warning: {origin} has no bytecode in this venv; rerun `make setup`", file=sys.stderr)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}; median of {args.repeats} interleaved rounds, whole processes")
    print(f"{'process':46} {'no bytecode: wall (CPU) import':>31}  {'bytecode: wall (CPU) import':>28}  ratio")
    with tempfile.TemporaryDirectory() as empty:
        for name, code in IMPORTS.items():
            without, with_ = [], []
            for _ in range(args.repeats):
                without.append(_run(code, hide_bytecode=empty))
                with_.append(_run(code))
            a = [statistics.median(column) for column in zip(*without)]
            b = [statistics.median(column) for column in zip(*with_)]
            print(f"{name:46} {a[0]:9.1f} s ({a[1]:5.1f}) {a[2]:6.1f} s  {b[0]:9.1f} s ({b[1]:5.1f}) "
                  f"{b[2]:6.1f} s  {a[0] / b[0]:4.1f}x", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
