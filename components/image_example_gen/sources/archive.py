"""Unpacking dataset archives (launcher side) and finding a dataset's files."""
from __future__ import annotations

import os
import tarfile
from typing import Optional, Sequence


def extract_tar(archive: str, workdir: str) -> str:
    """Unpacks ``archive`` (tar, tgz, tar.gz) into ``workdir`` with tarfile's 'data'
    filter (no absolute paths, links out of the tree or device files); returns workdir."""
    os.makedirs(workdir, exist_ok=True)
    with tarfile.open(archive, "r:*") as tar:
        tar.extractall(workdir, filter="data")
    return workdir


def find_first(root: str, names: Sequence[str]) -> Optional[str]:
    """The first of ``root/name`` (or ``root`` itself when its basename is a name) that exists."""
    if os.path.basename(os.path.normpath(root)) in names and os.path.exists(root):
        return root
    for name in names:
        path = os.path.join(root, name)
        if os.path.exists(path):
            return path
    return None
