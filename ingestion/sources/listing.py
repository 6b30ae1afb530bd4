"""Listing a local source tree safely: only regular files are ever handed to a reader.

- FIFOs, sockets and devices are reported (``not a regular file``) and never opened, so
  a named pipe cannot hang a conversion.
- A symlink (to a file or a directory) is followed only when its target resolves inside
  the source root, unless ``allow_outside_links``; otherwise it is reported as ``link
  outside source``. A broken link or a directory loop is reported as ``unreadable``.
- Every entry ends as a file to read or one ``Entry`` with a reason, so the accounting
  (converted + rejected == inputs) stays true, symlinked folders included.
Reasons and details name the entry, never its contents.
"""
from __future__ import annotations

import dataclasses
import os
import stat
from typing import Iterator, Optional, Set

from ingestion import records


@dataclasses.dataclass(frozen=True)
class Entry:
    """A listed path (relative to the walk's start, '/' separated) and, for an entry
    that must not be read, why (``reason``/``detail``); ``reason`` is '' for a file."""
    path: str
    rel: str
    reason: str = ""
    detail: str = ""


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device file"
    return "special file"


def _inside(target: str, root: str) -> bool:
    return target == root or target.startswith(root.rstrip(os.sep) + os.sep)


class SafeWalker:
    """Walks local directories under ``root`` with the rules of the module doc."""

    def __init__(self, root: str, allow_outside_links: bool = False):
        self.real_root = os.path.realpath(root)
        self.allow_outside_links = allow_outside_links

    def link_problem(self, path: str) -> Optional[records.Reject]:
        """Why the entry at ``path`` must not be followed (None when it is fine)."""
        if not os.path.islink(path):
            return None
        if not os.path.exists(path):
            return records.Reject(path, records.UNREADABLE, "broken symbolic link")
        if not self.allow_outside_links and not _inside(os.path.realpath(path), self.real_root):
            return records.Reject(path, records.LINK_OUTSIDE_SOURCE,
                                  "symbolic link to a path outside the source folder "
                                  "(--allow_outside_links follows it)")
        return None

    def walk(self, directory: str, rel: str = "") -> Iterator[Entry]:
        """Every entry under ``directory`` in sorted order (depth first)."""
        yield from self._walk(directory, rel, {os.path.realpath(directory)})

    def _walk(self, directory: str, rel: str, active: Set[str]) -> Iterator[Entry]:
        try:
            names = sorted(os.listdir(directory))
        except OSError as err:
            yield Entry(directory, rel or ".", records.UNREADABLE, err.strerror or "cannot list")
            return
        for name in names:
            path = os.path.join(directory, name)
            entry_rel = f"{rel}/{name}" if rel else name
            problem = self.link_problem(path)
            if problem is not None:
                yield Entry(path, entry_rel, problem.reason, problem.detail)
                continue
            try:
                mode = os.stat(path).st_mode  # follows an accepted link
            except OSError as err:
                yield Entry(path, entry_rel, records.UNREADABLE, err.strerror or "cannot stat")
                continue
            if stat.S_ISDIR(mode):
                real = os.path.realpath(path)
                if real in active:
                    yield Entry(path, entry_rel, records.UNREADABLE, "directory link loop")
                    continue
                yield from self._walk(path, entry_rel, active | {real})
            elif stat.S_ISREG(mode):
                yield Entry(path, entry_rel)
            else:
                yield Entry(path, entry_rel, records.NOT_A_REGULAR_FILE, _kind(mode))
