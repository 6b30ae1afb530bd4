"""Component start/finish lines with timings, from the runners' own log records."""
from __future__ import annotations

import logging
import re
import sys
import time
from typing import Dict

_PATTERN = re.compile(r"^(?:Component|node) (\S+) is (running|finished)\.$")


class ComponentProgress(logging.Handler):
    """Prints '[ 12.3s] Trainer finished in 40.1s' as LocalDagRunner/BeamDagRunner log progress."""

    def __init__(self, stream=None):
        super().__init__(level=logging.INFO)
        self.stream = stream or sys.stdout
        self.start = time.monotonic()
        self.started: Dict[str, float] = {}
        self.durations: Dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        try:
            match = _PATTERN.match(record.getMessage())
        except Exception:  # pylint: disable=broad-except
            return
        if not match:
            return
        node, state = match.groups()
        now = time.monotonic()
        if state == "running":
            self.started[node] = now
            line = f"[{now - self.start:7.1f}s] {node} started"
        else:
            took = now - self.started.get(node, now)
            self.durations[node] = took
            line = f"[{now - self.start:7.1f}s] {node} finished in {took:.1f}s"
        print(line, file=self.stream, flush=True)


def attach() -> ComponentProgress:
    """Attaches a ComponentProgress to the root logger (absl logs go there)."""
    handler = ComponentProgress()
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    # Keep the console readable: absl's own handler prints WARNING and above only.
    try:
        from absl import logging as absl_logging  # pylint: disable=import-outside-toplevel
        absl_logging.get_absl_handler().setLevel(logging.WARNING)
    except Exception:  # pylint: disable=broad-except
        pass
    return handler
