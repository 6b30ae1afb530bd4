"""A progress bar for the launcher while Beam workers convert shards.

Workers write ``<progress_dir>/<split>-<shard>`` files holding how many of the
shard's items they have processed (see transforms._WriteShardFn); a thread here sums
them twice a second into a tqdm bar. Works for every runner whose workers can write
to ``progress_dir`` (local dirs for the DirectRunner, gs:// for Dataflow).
"""
from __future__ import annotations

import sys
import threading

from tqdm import tqdm

from schemas import fileio

POLL_S = 0.5


def write_count(progress_dir: str, name: str, done: int) -> None:
    """Records that worker part ``name`` has processed ``done`` items (a small file that
    :func:`processed` sums; replaced atomically, so a reader never sees half a number)."""
    path = f"{progress_dir.rstrip('/')}/{name}"
    with fileio.open_file(path + ".tmp", "w") as f:
        f.write(str(done))
    fileio.replace(path + ".tmp", path)


def processed(progress_dir: str) -> int:
    """Sum of the per-shard counts written so far."""
    total = 0
    for path in fileio.glob(f"{progress_dir}/*"):
        if path.endswith(".tmp"):
            continue
        try:
            with fileio.open_file(path) as f:
                total += int(f.read().strip() or 0)
        except (ValueError, OSError):
            continue  # being replaced right now
    return total


class ProgressMonitor:
    """Context manager: a tqdm bar over ``total`` items fed from ``progress_dir``."""

    def __init__(self, progress_dir: str, total: int, enabled: bool = True, description: str = ""):
        self._dir = progress_dir
        self._total = total
        self._enabled = enabled
        self._description = description
        self._stop = threading.Event()
        self._thread = None
        self._bar = None

    def _run(self) -> None:
        while not self._stop.wait(POLL_S):
            self._update()

    def _update(self) -> None:
        done = min(processed(self._dir), self._total)
        self._bar.update(done - self._bar.n)

    def __enter__(self) -> "ProgressMonitor":
        if self._enabled:
            self._bar = tqdm(total=self._total, desc=self._description, unit="img",
                             file=sys.stderr, dynamic_ncols=True, mininterval=POLL_S)
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            if exc_type is None:
                self._update()
            self._bar.close()
