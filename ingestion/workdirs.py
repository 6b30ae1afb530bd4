"""Who owns a directory during a conversion, and cleaning up after runs that died.

- ``DatasetLock``: one `tfslim convert` at a time per local ``--dataset_dir`` (an
  exclusive ``flock`` on ``<dir>/.tfslim-convert.lock``, removed at the end; the kernel
  drops the lock when the holder dies, even by SIGKILL, and the next run takes over the
  leftover file). A second convert fails at once, naming the holder.
- ``OwnedTempDir``: a ``tfslim-*`` scratch directory in the system temp dir that holds a
  locked ``owner.lock`` while its run lives; ``remove_stale_temp_dirs`` deletes the
  ones whose owner is gone.
- ``remove_stale_run_dirs``: ``.<name>-run-<hex>`` work folders that a dead run left in
  the dataset directory (only called while holding its DatasetLock).
Remote directories (gs://...) have no flock: they are not locked (see docs/ingestion.md).
"""
from __future__ import annotations

import fcntl
import glob
import os
import re
import shutil
import tempfile
import time
from typing import List, Optional

LOCK_NAME = ".tfslim-convert.lock"
TEMP_PREFIX = "tfslim-"
OWNER_LOCK = "owner.lock"
# Scratch dirs without an owner lock (older versions, or one being created right now)
# are left alone until they are this old.
UNOWNED_GRACE_S = 3600
# Nothing younger than this is touched (a new dir's owner may not hold its lock yet).
MIN_AGE_S = 60
_RUN_DIR_RE = re.compile(r"^\.[^/]+-run-[0-9a-f]{8}$")


class DatasetBusy(RuntimeError):
    """Another convert holds the dataset directory."""


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


class DatasetLock:
    """Context manager: exclusive use of a local dataset directory (see the module doc)."""

    def __init__(self, dataset_dir: str):
        self.dataset_dir = dataset_dir
        self._fd: Optional[int] = None

    def __enter__(self) -> "DatasetLock":
        if "://" in self.dataset_dir:
            return self
        path = os.path.join(self.dataset_dir, LOCK_NAME)
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            if not _try_flock(fd):
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "unknown"
                os.close(fd)
                raise DatasetBusy(f"another `tfslim convert` ({holder}) is writing "
                                  f"{self.dataset_dir}; wait for it to finish, or convert into "
                                  "another --dataset_dir")
            # The holder unlinks the file when done: a lock on an unlinked file is no lock.
            try:
                if os.stat(path).st_ino == os.fstat(fd).st_ino:
                    break
            except FileNotFoundError:
                pass
            os.close(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, since {time.strftime('%Y-%m-%d %H:%M:%S')}".encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            # Unlink while still holding the lock (see __enter__), then release it.
            try:
                os.unlink(os.path.join(self.dataset_dir, LOCK_NAME))
            except FileNotFoundError:
                pass
            os.close(self._fd)
            self._fd = None


class OwnedTempDir:
    """A ``tfslim-<what>-*`` dir in the temp dir, owner-locked until ``cleanup()``."""

    def __init__(self, what: str):
        self.path = tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{what}-")
        self._fd = os.open(os.path.join(self.path, OWNER_LOCK), os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def cleanup(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        os.close(self._fd)


def remove_stale_temp_dirs(temp_dir: Optional[str] = None, min_age_s: float = MIN_AGE_S) -> List[str]:
    """Deletes ``tfslim-*`` scratch dirs whose owning process is gone; returns them."""
    removed = []
    for path in glob.glob(os.path.join(temp_dir or tempfile.gettempdir(), TEMP_PREFIX + "*")):
        if not os.path.isdir(path) or os.path.islink(path):
            continue
        lock = os.path.join(path, OWNER_LOCK)
        try:
            age = time.time() - os.stat(path).st_mtime
            if age < min_age_s:
                continue
            if os.path.exists(lock):
                fd = os.open(lock, os.O_RDWR)
                try:
                    stale = _try_flock(fd)
                finally:
                    os.close(fd)
            else:
                stale = age > UNOWNED_GRACE_S
        except OSError:
            continue  # another user's, or gone meanwhile
        if stale:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def remove_stale_run_dirs(dataset_dir: str) -> List[str]:
    """Deletes ``.<name>-run-<hex>`` folders in a local dataset dir (caller holds its lock)."""
    if "://" in dataset_dir or not os.path.isdir(dataset_dir):
        return []
    removed = []
    for name in os.listdir(dataset_dir):
        path = os.path.join(dataset_dir, name)
        if _RUN_DIR_RE.match(name) and os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed
