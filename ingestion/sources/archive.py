"""Unpacking dataset archives (launcher side) and finding a dataset's files."""
from __future__ import annotations

import os
import tarfile
import zlib
from typing import Optional, Sequence

from schemas import fileio


def extract_tar(archive: str, workdir: str) -> str:
    """Unpacks ``archive`` (tar, tgz, tar.gz) into the local ``workdir`` with tarfile's
    'data' filter (no absolute paths, links out of the tree or device files); returns
    workdir. Remote runners cannot see that directory: unpack to shared storage first."""
    if "://" in archive:
        raise ValueError(f"unpack {archive} to shared storage and pass the extracted directory "
                         "as --source (remote archives are not unpacked)")
    os.makedirs(workdir, exist_ok=True)
    try:
        with tarfile.open(archive, "r:*") as tar:
            tar.extractall(workdir, filter="data")
    except tarfile.FilterError as err:
        # Tar slip, links out of the tree, device files: refused by the 'data' filter.
        raise ValueError(f"{archive}: refused to unpack an unsafe member "
                         f"({str(err).splitlines()[0]}); only "
                         "unpack archives you trust") from None
    except (tarfile.TarError, EOFError, OSError, zlib.error) as err:
        first = str(err).splitlines()[0].rstrip(":") if str(err) else type(err).__name__
        raise ValueError(f"{archive} is not a readable tar archive ({first}); download it "
                         "again or pass the extracted directory as --source") from None
    return workdir


def find_first(root: str, names: Sequence[str]) -> Optional[str]:
    """The first of ``root/name`` (or ``root`` itself when its basename is a name) that
    exists; local or remote (gs://...) paths."""
    if os.path.basename(os.path.normpath(root)) in names and fileio.exists(root):
        return root
    for name in names:
        path = os.path.join(root, name)
        if fileio.exists(path):
            return path
    return None


class ArchivedTree:
    """Mixin for a source shipped as a tar archive (``ARCHIVE``) whose extracted
    directory (``TREE``) may already sit under ``self.root`` (flowers, cifar10)."""

    ARCHIVE: str
    TREE: str
    _tree: Optional[str] = None

    def prepare(self, workdir: str) -> None:
        """Finds the tree, unpacking the archive into ``workdir`` when only it exists."""
        found = find_first(self.root, [self.TREE, self.ARCHIVE])
        if found is None:
            raise FileNotFoundError(f"{self.name}: neither {self.TREE}/ nor {self.ARCHIVE} "
                                    f"under {self.root}")
        if not fileio.isdir(found):
            found = os.path.join(extract_tar(found, os.path.join(workdir, self.name)), self.TREE)
        self._tree = found

    @property
    def tree(self) -> str:
        """The extracted directory (prepare() unpacks the archive when needed)."""
        if self._tree is None:
            found = find_first(self.root, [self.TREE])
            if found is None:
                raise RuntimeError(f"{self.name}: no {self.TREE}/ under {self.root}; call "
                                   f"prepare(workdir) to unpack {self.ARCHIVE}")
            self._tree = found
        return self._tree
