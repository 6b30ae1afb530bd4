"""Unpacking dataset archives (launcher side) and finding a dataset's files."""
from __future__ import annotations

import os
import tarfile
from typing import Optional, Sequence

import tensorflow as tf


def extract_tar(archive: str, workdir: str) -> str:
    """Unpacks ``archive`` (tar, tgz, tar.gz) into the local ``workdir`` with tarfile's
    'data' filter (no absolute paths, links out of the tree or device files); returns
    workdir. Remote runners cannot see that directory: unpack to shared storage first."""
    if "://" in archive:
        raise ValueError(f"unpack {archive} to shared storage and pass the extracted directory "
                         "as --source (remote archives are not unpacked)")
    os.makedirs(workdir, exist_ok=True)
    with tarfile.open(archive, "r:*") as tar:
        tar.extractall(workdir, filter="data")
    return workdir


def find_first(root: str, names: Sequence[str]) -> Optional[str]:
    """The first of ``root/name`` (or ``root`` itself when its basename is a name) that
    exists; local or remote (gs://...) paths."""
    if os.path.basename(os.path.normpath(root)) in names and tf.io.gfile.exists(root):
        return root
    for name in names:
        path = os.path.join(root, name)
        if tf.io.gfile.exists(path):
            return path
    return None
