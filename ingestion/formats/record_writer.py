"""TFRecord files without TensorFlow: each record is framed as TF's RecordWriter does,

  uint64 length (little-endian) | uint32 masked crc32c(length) | data | uint32 masked crc32c(data)

with the CRC from google_crc32c (C). GZIP files are one zlib gzip stream (window bits 31),
which TF's reader (``compression_type='GZIP'``) reads; uncompressed files are byte-identical
to ``tf.io.TFRecordWriter``'s.
"""
from __future__ import annotations

import struct
import zlib
from typing import Optional

import google_crc32c

from schemas import fileio

_MASK_DELTA = 0xA282EAD8
_BUFFER_BYTES = 1 << 20


def masked_crc32c(data: bytes) -> int:
    """TFRecord's checksum: crc32c rotated right by 15 bits plus a constant."""
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def frame(data: bytes) -> bytes:
    """The record header (length and its checksum); the footer is ``footer(data)``."""
    length = struct.pack("<Q", len(data))
    return length + struct.pack("<I", masked_crc32c(length))


def footer(data: bytes) -> bytes:
    return struct.pack("<I", masked_crc32c(data))


class RecordWriter:
    """Writes TFRecords to ``path`` (local or remote); ``compression`` is '' or 'GZIP'."""

    def __init__(self, path: str, compression: str = ""):
        if compression not in ("", "GZIP"):
            raise ValueError(f"compression must be '' or 'GZIP', got {compression!r}")
        self._file = (open(path, "wb", buffering=_BUFFER_BYTES)  # pylint: disable=consider-using-with
                      if not fileio.is_remote(path) else fileio.open_file(path, "wb"))
        self._zlib: Optional["zlib._Compress"] = (
            zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, 31, 9)
            if compression else None)

    def _put(self, data: bytes) -> None:
        self._file.write(self._zlib.compress(data) if self._zlib is not None else data)

    def write(self, record: bytes) -> None:
        """Appends one record."""
        self._put(frame(record))
        self._put(record)
        self._put(footer(record))

    def close(self) -> None:
        if self._zlib is not None:
            self._file.write(self._zlib.flush())
            self._zlib = None
        self._file.close()

    def __enter__(self) -> "RecordWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
