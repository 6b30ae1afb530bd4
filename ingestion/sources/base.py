"""The Source interface: list inputs cheaply (launcher side), read one item (worker side).

A source is built from plain settings (paths, options) so Beam can pickle it to the
workers; anything heavy (open files, decoded arrays) lives in the Reader a worker
opens once per DoFn instance.
"""
from __future__ import annotations

import abc
import os
import stat
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from ingestion import records
from schemas import fileio
from schemas.download import Expected

ScanResult = Union[records.ItemRef, records.Reject]


is_remote = fileio.is_remote


def open_regular(path: str):
    """A local file opened for reading, refusing anything but a regular file.

    O_NONBLOCK keeps the open of a named pipe from waiting for a writer; the fstat
    then rejects it (and sockets, devices) before a single byte is read."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise records.Rejected(records.NOT_A_REGULAR_FILE, "not a regular file")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bytes(path: str) -> bytes:
    """The whole file; an I/O failure becomes Rejected(UNREADABLE). The detail is the
    OS error's text only (never file contents)."""
    try:
        with (fileio.open_file(path, "rb") if is_remote(path) else open_regular(path)) as f:
            return f.read()
    except OSError as err:
        # Remote (tf.io.gfile) errors arrive as OSErrors naming the path (schemas.fileio).
        raise records.Rejected(records.UNREADABLE, err.strerror or str(err)[:200]) from None


def walk(root: str) -> Iterator[Tuple[str, List[str], List[str]]]:
    """os.walk for local trees (fast), tf.io.gfile.walk for remote ones; sorted entries."""
    for directory, dirs, files in fileio.walk(root):
        dirs.sort()
        yield directory, dirs, sorted(files)


def list_dir(root: str) -> List[str]:
    """Sorted entries of a directory (names only)."""
    names = fileio.listdir(root)
    return sorted(name.rstrip("/") for name in names)


def is_dir(path: str) -> bool:
    return fileio.isdir(path)


class Reader:
    """Reads items for one worker; sources with containers cache them here."""

    def read(self, ref: records.ItemRef) -> records.RawItem:
        """The item's bytes (default: the file at ``ref.locator``)."""
        return records.RawItem(data=read_bytes(ref.locator))

    def size(self, ref: records.ItemRef) -> Optional[int]:
        """The item's byte size without reading it, or None when that needs a read
        (duplicate detection then hashes every item)."""
        try:
            return fileio.size(ref.locator)
        except OSError:
            return -1  # unreadable: the writer reports it; -1 never groups with real files

    def sample(self, ref: records.ItemRef, size: int, span: int = 4096) -> Optional[bytes]:
        """The first and last ``span`` bytes (a cheap pre-filter before a full hash), or
        None when the item cannot be sampled (then it is hashed in full)."""
        try:
            if is_remote(ref.locator) or size <= 2 * span:
                return read_bytes(ref.locator)
            with open_regular(ref.locator) as f:
                head = f.read(span)
                f.seek(size - span)
                return head + f.read(span)
        except (OSError, records.Rejected):
            return None

    def close(self) -> None:
        """Releases cached containers."""


def indexed_item(key: str, label: int, class_names: Sequence[str], locator: str, index: int,
                 split: str) -> Union[records.ItemRef, records.Reject]:
    """Record ``index`` of a container file with an integer label; a label without a class
    name is rejected (the others go on)."""
    if not 0 <= label < len(class_names):
        return records.Reject(key, records.LABEL_OUT_OF_RANGE, f"label {label}")
    return records.ItemRef(key=key, label=label, text=class_names[label], locator=locator, index=index,
                           split=split)


class ContainerReader(Reader):
    """Reads records out of container files (pickled batches, idx files): each file a worker
    touched is loaded once and kept for the worker's lifetime (tens of MB each)."""

    # What a broken container raises while loading; each becomes a rejection naming the file.
    load_errors: Tuple[type, ...] = (OSError, EOFError)

    def __init__(self):
        self._loaded: Dict[str, Any] = {}

    def load(self, path: str) -> Any:
        """The container's records (an array indexed by ``ItemRef.index``)."""
        raise NotImplementedError

    def records_of(self, ref: records.ItemRef) -> Any:
        """The loaded records of ``ref``'s container; a container that cannot load is rejected."""
        if ref.locator not in self._loaded:
            try:
                self._loaded[ref.locator] = self.load(ref.locator)
            except self.load_errors as err:
                raise records.Rejected(records.UNREADABLE, f"{ref.locator}: {err}") from None
        return self._loaded[ref.locator]

    def size(self, ref: records.ItemRef) -> None:
        return None  # records inside a container: hash them all

    def close(self) -> None:
        self._loaded.clear()


class Source(abc.ABC):
    """A dataset layout. Subclasses set ``name`` and implement the abstract methods.

    native_splits: the splits the source itself defines (cifar10 train/test ...);
      empty when the source is one pool of items to be split by the planner.
    random_access: items can be read in any order, so the planner may order them by
      a hash of their key (mixing classes across shards); False keeps scan order.
    dedupe_default: whether duplicate-content detection runs unless told otherwise.
    """
    name = ""
    native_splits: Tuple[str, ...] = ()
    random_access = True
    dedupe_default = True
    # Files a dataset directory must hold (see ``missing_files``), where to download
    # them (none: they must be placed by hand), and names that stand in for one.
    required_files: Tuple[str, ...] = ()
    download_urls: Dict[str, str] = {}
    download_checks: Dict[str, Expected] = {}
    alternatives: Dict[str, Tuple[str, ...]] = {}

    @classmethod
    def missing_files(cls, root: str) -> List[str]:
        """The required files (or an alternative, e.g. the extracted tree) absent from root."""
        missing = []
        for name in cls.required_files:
            candidates = (name,) + tuple(cls.alternatives.get(name, ()))
            if not any(fileio.exists(os.path.join(root, c.rstrip("/"))) for c in candidates):
                missing.append(name)
        return missing

    def __init__(self, root: str, options: Optional[Mapping[str, Any]] = None):
        self.root = root
        self.options: Dict[str, Any] = dict(options or {})

    def prepare(self, workdir: str) -> None:
        """Launcher-side preparation before scanning (e.g. unpacking an archive into
        ``workdir``). The default needs none."""
        del workdir

    @abc.abstractmethod
    def class_names(self, selectors: Sequence[str] = ("*",)) -> List[str]:
        """Class names; list index = label."""

    @abc.abstractmethod
    def scan(self, selector: str = "*") -> Iterator[ScanResult]:
        """Items (and inputs rejected while listing) in a deterministic order.

        ``selector``: '*' for everything; otherwise a native split name, or for
        folder-like sources a sub-directory of the root (a TFX input split pattern).
        """

    def open_reader(self) -> Reader:
        """A Reader for a worker (override for container formats)."""
        return Reader()

    def describe(self) -> str:
        return f"{self.name} source at {self.root}"
