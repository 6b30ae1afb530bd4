"""Component start/finish lines with timings, from the runners' own log records."""
from __future__ import annotations

import logging
import re
import sys
import time
from typing import Dict

from runners import quiet

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
    # The root logger now passes INFO on; absl's console handler must not print it all. Quiet
    # entry points (runners/quiet.py) already raised it to ERROR; --verbose leaves it alone.
    if not quiet.is_verbose():
        from absl import logging as absl_logging  # pylint: disable=import-outside-toplevel

        absl_handler = absl_logging.get_absl_handler()
        absl_handler.setLevel(max(absl_handler.level, logging.WARNING))
    return handler
