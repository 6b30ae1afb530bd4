"""A restricted unpickler for dataset files that are pickles (CIFAR-10's python batches).

``pickle.load`` runs whatever callable a pickle names, so a crafted dataset archive could
execute code during `tfslim convert`. This unpickler resolves only the globals a numpy
array needs (builtin containers, str, bytes and numbers need none); any other global is
refused with ``UnsafePickle`` naming it.
"""
from __future__ import annotations

import io
import pickle
from typing import Any, BinaryIO

# (module, name) pairs that rebuild numpy arrays (numpy 1 and 2 spellings) and Python 3
# bytes written with protocol 2 (``_codecs.encode``).
ALLOWED_GLOBALS = frozenset({
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
})


class UnsafePickle(pickle.UnpicklingError):
    """The pickle names a callable outside ALLOWED_GLOBALS."""


class _RestrictedUnpickler(pickle.Unpickler):

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in ALLOWED_GLOBALS:
            raise UnsafePickle(f"refused to load {module}.{name}: dataset pickles may only hold "
                               "builtin containers and numpy arrays (is this archive trusted?)")
        return super().find_class(module, name)


def load(file: BinaryIO, encoding: str = "ASCII") -> Any:
    """pickle.load restricted to ALLOWED_GLOBALS; raises UnsafePickle for anything else."""
    return _RestrictedUnpickler(file, encoding=encoding).load()


def loads(data: bytes, encoding: str = "ASCII") -> Any:
    """pickle.loads restricted to ALLOWED_GLOBALS."""
    return load(io.BytesIO(data), encoding=encoding)
