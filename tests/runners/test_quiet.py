"""Quiet by default: the entry points print progress and results, --verbose brings the logs back.

The whole-pipeline console is checked where a pipeline already runs through the command
line (tests/pipeline/test_e2e_photos.py, `tfslim run`); the commands printed in README.md
are checked by tests/docs/test_readme_commands.py. Here: the switch itself, the noise
detector on lines the libraries really print, and ``local_runner.py`` both ways.
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import warnings

import pytest

from runners import quiet
from tests import console

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Lines a run printed before the entry points were quiet (make demo, tfslim run).
LIBRARY_LINES = [
    "I1206 04:05:45.679378 139760658115456 native_type_compatibility.py:340] Using Any for unsupported type: "
    "typing.Sequence[~T]",
    "W1206 04:05:56.116749 139760658115456 channel_resolver.py:105] ArtifactQuery.property_predicate is not "
    "supported.",
    "2026-12-06 04:05:41.009467: I tensorflow/core/util/port.cc:113] oneDNN custom operations are on.",
    "WARNING:tensorflow:AutoGraph could not transform <function _gcd_import> and will run it as-is.",
    "/v/site-packages/google/api_core/_python_version_support.py:246: FutureWarning: You are using a "
    "non-supported Python version (3.10.13).",
    "Instructions for updating:",
]
# Lines the project prints for people.
OWN_LINES = [
    "[   10.7s] Trainer started",
    "global step 50/50 (100%): loss = 0.0105 (xent 0.0105, reg 0.0000), accuracy = 1.000, lr = 0.001",
    "blessed:       True   pushed: True -> /tmp/fd/serving/lenet/1796529999",
    "error: unknown key 'train.optimiser'; did you mean train.optimizer?",
]


def test_noise_detector_tells_library_lines_from_the_projects():
    assert console.noise("\n".join(LIBRARY_LINES + OWN_LINES)) == LIBRARY_LINES


@pytest.mark.parametrize("argv,env,verbose", [
    ([], {}, False),
    (["--verbose"], {}, True),
    (["--config=x", "--verbose=true"], {}, True),
    (["--verbose", "--noverbose"], {}, False),
    ([], {quiet.VERBOSE_ENV: "1"}, True),
    ([], {quiet.VERBOSE_ENV: "0"}, False),
    (["--noverbose"], {quiet.VERBOSE_ENV: "1"}, False),  # the command line wins
])
def test_verbose_from_the_command_line_or_the_environment(monkeypatch, argv, env, verbose):
    monkeypatch.delenv(quiet.VERBOSE_ENV, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert quiet.verbose_requested(argv) is verbose


def test_quiet_setup_raises_the_console_handlers_and_tells_child_processes(monkeypatch):
    from absl import logging as absl_logging

    for key in (quiet.VERBOSE_ENV, "TF_CPP_MIN_LOG_LEVEL", "PYTHONWARNINGS"):
        monkeypatch.setenv(key, "")  # recorded, so that what setup writes is undone after the test
        monkeypatch.delenv(key)
    handler = absl_logging.get_absl_handler()
    tf_logger = logging.getLogger("tensorflow")
    saved = handler.level, tf_logger.level, logging.lastResort.level
    try:
        with warnings.catch_warnings():  # setup's 'ignore' filter must not leak into other tests
            assert quiet.setup([]) is False
        assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "2" and os.environ["PYTHONWARNINGS"] == "ignore"
        assert handler.level == logging.ERROR and tf_logger.level == logging.ERROR
        assert quiet.console_level() == logging.ERROR
        assert quiet.setup(["--verbose"]) is True
        assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "0" and os.environ[quiet.VERBOSE_ENV] == "1"
        assert quiet.console_level() == logging.NOTSET
    finally:
        handler.setLevel(saved[0])
        tf_logger.setLevel(saved[1])
        logging.lastResort.setLevel(saved[2])


def _local_runner(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "local_runner.py", *args], cwd=REPO, env=console.user_env(),
                          capture_output=True, text=True, timeout=300, check=False)


def test_local_runner_is_quiet_and_verbose_brings_the_logs_back(tmp_path):
    """A bad config gets as far as TensorFlow's import (quiet) and fails with its one line."""
    config = tmp_path / "bad.yaml"
    config.write_text("train:\n  optimiser: adam\n")
    args = (f"--config={config}", f"--data_dir={tmp_path}")
    quiet_run = _local_runner(*args)
    assert quiet_run.returncode == 1
    assert quiet_run.stderr.strip() == "error: unknown key 'train.optimiser'; did you mean train.optimizer?"
    assert not console.noise(quiet_run.stdout + quiet_run.stderr)
    loud = _local_runner(*args, "--verbose")
    assert loud.returncode == 1 and loud.stderr.strip().endswith("did you mean train.optimizer?")
    # TensorFlow's C++ start-up lines and the Python warnings are back.
    assert console.noise(loud.stdout + loud.stderr), loud.stderr[-2000:]
