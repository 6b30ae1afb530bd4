"""File access for ingestion without importing TensorFlow for local paths.

Local paths go through ``os`` / ``open``; remote ones (gs://, s3://, hdfs:// ...) through
``tf.io.gfile``, imported only when a remote path is first touched. ``import tensorflow``
costs seconds, and a local `tfslim convert` never needs it.

Errors: every function raises ``OSError`` (remote ``tf.errors.OpError`` is re-raised as
an ``OSError`` naming the path), so callers catch one type.
"""
from __future__ import annotations

import functools
import json
import glob as glob_lib
import os
import shutil
from typing import IO, Any, Callable, Iterator, List, Tuple


def is_remote(path: str) -> bool:
    """gs://, s3://, hdfs:// ... (anything with a scheme) are remote."""
    return "://" in path


def _gfile():
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    return tf.io.gfile


def _as_os_error(path: str, call: Callable[[], Any]) -> Any:
    """Runs a tf.io.gfile call; an OpError becomes an OSError naming ``path``."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    try:
        return call()
    except tf.errors.NotFoundError as err:
        raise FileNotFoundError(f"{path}: {err.message}") from None
    except tf.errors.OpError as err:
        raise OSError(f"{path}: {err.message}") from None


class _RemoteFile:
    """A tf.io.gfile.GFile whose I/O errors are OSErrors."""

    def __init__(self, path: str, mode: str):
        self._path = path
        self._file = _as_os_error(path, lambda: _gfile().GFile(path, mode))

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._file, name)
        if not callable(attr):
            return attr

        @functools.wraps(attr)
        def wrapped(*args, **kwargs):
            return _as_os_error(self._path, lambda: attr(*args, **kwargs))
        return wrapped

    def __iter__(self) -> Iterator[Any]:
        return iter(self.readlines())

    def __enter__(self) -> "_RemoteFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_file(path: str, mode: str = "r") -> IO:
    """``open(path, mode)`` locally (text modes in UTF-8), a GFile remotely."""
    if is_remote(path):
        return _RemoteFile(path, mode)  # type: ignore[return-value]
    if "b" in mode:
        return open(path, mode)  # pylint: disable=unspecified-encoding
    return open(path, mode, encoding="utf-8")


def exists(path: str) -> bool:
    if is_remote(path):
        return _as_os_error(path, lambda: _gfile().exists(path))
    return os.path.exists(path)


def isdir(path: str) -> bool:
    if is_remote(path):
        return _as_os_error(path, lambda: _gfile().isdir(path))
    return os.path.isdir(path)


def listdir(path: str) -> List[str]:
    """Entry names (remote directory names lose their trailing '/')."""
    if is_remote(path):
        return [n.rstrip("/") for n in _as_os_error(path, lambda: _gfile().listdir(path))]
    return os.listdir(path)


def walk(root: str) -> Iterator[Tuple[str, List[str], List[str]]]:
    return _gfile().walk(root) if is_remote(root) else os.walk(root)


def glob(pattern: str) -> List[str]:
    if is_remote(pattern):
        return _as_os_error(pattern, lambda: _gfile().glob(pattern))
    return glob_lib.glob(pattern)


def size(path: str) -> int:
    """The file's size in bytes."""
    if is_remote(path):
        return _as_os_error(path, lambda: _gfile().stat(path).length)
    return os.path.getsize(path)


def makedirs(path: str) -> None:
    if is_remote(path):
        _as_os_error(path, lambda: _gfile().makedirs(path))
    else:
        os.makedirs(path, exist_ok=True)


def remove(path: str) -> None:
    if is_remote(path):
        _as_os_error(path, lambda: _gfile().remove(path))
    else:
        os.remove(path)


def rmtree(path: str) -> None:
    """Removes a directory tree; a missing one is not an error."""
    if is_remote(path):
        if exists(path):
            _as_os_error(path, lambda: _gfile().rmtree(path))
    else:
        shutil.rmtree(path, ignore_errors=True)


def replace(source: str, target: str) -> None:
    """Moves ``source`` to ``target``, replacing it.

    Locally the old target is unlinked first: renaming over an existing file makes ext4
    (auto_da_alloc) write the new file back synchronously, ~30 ms per shard."""
    if is_remote(target):
        _as_os_error(target, lambda: _gfile().rename(source, target, overwrite=True))
        return
    try:
        os.unlink(target)
    except FileNotFoundError:
        pass
    os.rename(source, target)


# Set by a Kubeflow step's entrypoint: {launcher's local prefix: store URI prefix}, so what a
# person reads names the store (minio://bucket/...), not the pod's copy (/minio/bucket/...).
STORE_PREFIXES_ENV = "TFSLIM_STORE_PREFIXES"


def display_uri(path: str) -> str:
    """``path`` as its user knows it: the store URI of a KFP launcher's local copy, else ``path``."""
    prefixes = json.loads(os.environ.get(STORE_PREFIXES_ENV) or "{}")
    for local, store in prefixes.items():
        if path.startswith(local):
            return store + path[len(local):]
    return path
