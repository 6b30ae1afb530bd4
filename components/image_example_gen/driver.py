"""ImageExampleGen's driver: TFX's FileBasedDriver with a fingerprint over every file below input_base.

TFX fingerprints a split by globbing its pattern (``*`` by default) and summing the matches'
sizes and whole-second mtimes. Under ``<input_base>/<label>/<file>`` that glob sees only the
class directories, so an image replaced in place, or one changed within the same second, leaves
the fingerprint as it was, and a cached run would reuse examples of data that no longer exists.
This driver adds the relative path, size and mtime of every file in the tree (in nanoseconds on
a local filesystem, where ``os.stat`` has them; TF's ``stat`` rounds to seconds), so the cache key
of the ExampleGen (TFX's, on the local and Beam runners) follows the files themselves.
"""
from __future__ import annotations

import hashlib
import os
from typing import Iterable, Optional

from tfx.components.example_gen import driver, input_processor
from tfx.dsl.io import fileio
from tfx.proto import example_gen_pb2, range_config_pb2


def tree_fingerprint(root: str) -> str:
    """``files:N,bytes:B,sha256:H`` over every file below ``root`` (path, size, mtime in ns)."""
    digest = hashlib.sha256()
    count = total = 0
    for directory, _, files in sorted(fileio.walk(root)):
        for name in sorted(files):
            name = name.decode() if isinstance(name, bytes) else name
            directory = directory.decode() if isinstance(directory, bytes) else directory
            path = os.path.join(directory, name)
            size, mtime = _size_and_mtime(path)
            count += 1
            total += size
            digest.update(f"{os.path.relpath(path, root)}\0{size}\0{mtime}\n".encode())
    return f"files:{count},bytes:{total},sha256:{digest.hexdigest()}"


def _size_and_mtime(path: str) -> tuple:
    if "://" not in path:
        stat = os.stat(path)
        return stat.st_size, stat.st_mtime_ns
    stat = fileio.stat(path)
    return stat.length, stat.mtime_nsec


class TreeInputProcessor(input_processor.FileBasedInputProcessor):
    """TFX's file-based input processor whose fingerprint also covers the whole input tree."""

    def __init__(self, input_base_uri: str, splits: Iterable[example_gen_pb2.Input.Split],
                 range_config: Optional[range_config_pb2.RangeConfig] = None):
        super().__init__(input_base_uri, splits, range_config)
        self._input_base = input_base_uri

    def get_input_fingerprint(self, span: int, version: Optional[int]) -> Optional[str]:
        return f"{super().get_input_fingerprint(span, version)}\ntree:{tree_fingerprint(self._input_base)}"


class ImageExampleGenDriver(driver.FileBasedDriver):
    """FileBasedDriver with :class:`TreeInputProcessor`."""

    def get_input_processor(self, splits: Iterable[example_gen_pb2.Input.Split],
                            range_config: Optional[range_config_pb2.RangeConfig] = None,
                            input_base_uri: Optional[str] = None) -> input_processor.InputProcessor:
        assert input_base_uri
        return TreeInputProcessor(input_base_uri, splits, range_config)
