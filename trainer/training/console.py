"""Progress lines for people: printed once, on stdout.

Training used to both print a line and log it; under absl or the TFX Trainer the
root logger also writes INFO to the console, so every line appeared twice. Lines
are now printed, and logged at DEBUG only (for file handlers that want them).
"""
from __future__ import annotations

import logging
import sys
from typing import Optional, TextIO


def say(message: str, logger: Optional[logging.Logger] = None, stream: Optional[TextIO] = None) -> None:
    """Prints ``message`` once (stdout by default) and records it at DEBUG on ``logger``."""
    (logger or logging.getLogger("trainer")).debug(message)
    print(message, file=stream or sys.stdout, flush=True)
