"""What a quiet command must not print: library log lines and Python warnings.

``noise(output)`` returns the offending lines of a command's stdout + stderr, so a test
can assert ``not noise(...)`` and show them when it fails.
"""
from __future__ import annotations

import os
import re
from typing import Dict, List

NOISE = [
    # absl's prefix: I1206 04:05:45.679378 139760658115456 native_type_compatibility.py:340] ...
    re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ \S+:\d+\]"),
    # TensorFlow's C++ log: 2026-12-06 04:05:41.009467: I tensorflow/core/util/port.cc:113] ...
    re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] "),
    # Python logging's default format (WARNING:tensorflow:..., INFO:absl:...) and bare WARNING: lines.
    re.compile(r"^(?:DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL):"),
    # A Python warning: path.py:246: FutureWarning: ...
    re.compile(r"\b\w*Warning: "),
    # TensorFlow's deprecation notes and the CUDA plugin lines.
    re.compile(r"^Instructions for updating:|Unable to register cu(?:DNN|FFT|BLAS) factory"),
]


def noise(output: str) -> List[str]:
    """The lines of ``output`` that are library log lines or Python warnings."""
    return [line for line in output.splitlines() if any(pattern.search(line) for pattern in NOISE)]


def user_env(**changes: str) -> Dict[str, str]:
    """This environment without the settings that would quieten a command on its own, so a test
    sees what a user's shell gets (the Makefile and tests/conftest.py set TF_CPP_MIN_LOG_LEVEL)."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("TF_CPP_MIN_LOG_LEVEL", "PYTHONWARNINGS", "TFSLIM_VERBOSE")}
    env.update(changes)
    return env
