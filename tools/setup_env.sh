#!/usr/bin/env bash
# Creates the project venv with Python 3.10 and installs the pinned TFX 1.16 stack with uv.
# TFX 1.16.0 wheels require Python >=3.9,<3.11; plain pip backtracks for >10 min on TFX,
# uv resolves the same constraints in under a minute.
#
#   tools/setup_env.sh [VENV] [dev|prod]
# dev (make setup): the project with its "demo" extra (scikit-learn's digits) plus
# requirements/dev.txt (pytest, tf-slim for the oracle tests, ruff).
# prod (kubeflow/Dockerfile): the project only, without requirements/prod-excludes.txt (packages a
# dependency declares but nothing the pipeline runs imports). Both pin every package through
# requirements/constraints.txt (the TFX stack) and requirements/lock.txt (the full closure).
set -euo pipefail
VENV=${1:-.venv}
PROFILE=${2:-dev}
case "$PROFILE" in
  dev) EXTRA=(-r requirements/dev.txt); PROJECT=".[demo]" ;;
  prod) EXTRA=(--excludes requirements/prod-excludes.txt); PROJECT="." ;;
  *) echo "ERROR: profile must be dev or prod, got '$PROFILE'" >&2; exit 2 ;;
esac

find_python310() {
  local candidate
  for candidate in python3.10 "$(pyenv root 2>/dev/null)"/versions/3.10.*/bin/python; do
    if [ -n "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
      command -v "$candidate" || echo "$candidate"
      return 0
    fi
  done
  return 1
}

if [ ! -x "$VENV/bin/python" ]; then
  if ! PY310=$(find_python310); then
    echo "ERROR: Python 3.10 is required (TFX 1.16.0 supports only Python 3.9-3.10) and none was found." >&2
    echo "Install it, e.g. 'pyenv install 3.10.13' or your distribution's python3.10 + python3.10-venv," >&2
    echo "so that 'python3.10' is on PATH or under \$(pyenv root)/versions/3.10.*, then rerun 'make setup'." >&2
    exit 1
  fi
  echo "Creating $VENV with $PY310"
  "$PY310" -m venv "$VENV"
  NEW_VENV=1  # uv compiles everything it installs into it below
fi
if [ ! -x "$VENV/bin/uv" ]; then
  "$VENV/bin/python" -m pip --version >/dev/null 2>&1 || "$VENV/bin/python" -m ensurepip >/dev/null
  # A known uv: --excludes (the prod profile) needs a recent one.
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "uv==0.13.9"
fi
echo "Installing the pinned stack into $VENV (uv, constraints in requirements/constraints.txt)"
# --compile-bytecode: write every module's .pyc now. Where PYTHONDONTWRITEBYTECODE=1 (this
# image, many CI machines) or the venv is read-only (the pod), Python never caches bytecode
# itself, so each process would recompile the ~20,000 modules it imports: measured here,
# `import tensorflow` 15.3 s -> 5.4 s and `from tfx import v1` 42.0 s -> 15.0 s with it.
"$VENV/bin/uv" pip install -q --compile-bytecode --python "$VENV/bin/python" -c requirements/constraints.txt \
  -c requirements/lock.txt "${EXTRA[@]}" -e "$PROJECT"
# uv compiles only the packages it installs now: an existing venv (perhaps made before this
# script compiled bytecode) gets the rest here; compileall skips files whose bytecode is
# current. A few packages ship Python-2 templates that do not compile: no exit status check.
if [ -z "${NEW_VENV:-}" ]; then
  echo "Compiling the bytecode of the existing $VENV"
  "$VENV/bin/python" -m compileall -q -j 0 \
    "$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" >/dev/null || true
fi
