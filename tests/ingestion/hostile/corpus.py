"""The hostile-input corpus, made by the tests: files crafted to hang, leak, bomb or
crash an ingestion that trusts its input."""
from __future__ import annotations

import os
import pickle
import struct
import zlib

from tests.ingestion import fixtures

SECRET = b"root:x:0:0:root:/root:/bin/bash\n"


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_from_rows(width: int, height: int, raw: bytes, color_type: int = 2) -> bytes:
    """A PNG with valid chunk CRCs around ``raw`` (the filtered scanlines, deflated here)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(raw))
            + png_chunk(b"IEND", b""))


def bomb_png(side: int = 60000) -> bytes:
    """A small file whose header claims side x side RGB pixels (a decompression bomb)."""
    row = b"\x00" + b"\x00" * 3 * side
    return png_from_rows(side, side, row * 4)  # only 4 rows of data: tiny on disk


def garbage_pixels_png(width: int = 16, height: int = 12) -> bytes:
    """Valid signature, IHDR and CRCs; the IDAT is not a zlib stream."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    garbage = bytes((i * 37 + 11) % 256 for i in range(400))
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", garbage)
            + png_chunk(b"IEND", b""))


def short_stream_png(width: int = 16, height: int = 12) -> bytes:
    """A valid zlib stream holding half the rows the header implies."""
    return png_from_rows(width, height, (b"\x00" + b"\x10" * 3 * width) * (height // 2))


def bad_filter_png(width: int = 16, height: int = 12) -> bytes:
    """The right amount of data, but a row uses filter type 9 (only 0-4 exist)."""
    rows = [b"\x00" + b"\x20" * 3 * width for _ in range(height)]
    rows[5] = b"\x09" + rows[5][1:]
    return png_from_rows(width, height, b"".join(rows))


def bomb_gif(side: int = 60000) -> bytes:
    """A GIF whose logical screen and frame claim side x side pixels."""
    data = bytearray(fixtures.gif_bytes())
    data[6:10] = struct.pack("<HH", side, side)
    frame = 13 + (3 << ((data[10] & 7) + 1) if data[10] & 0x80 else 0)  # after the colour table
    while data[frame] == 0x21:  # extension blocks: label, then sub-blocks up to a 0 length
        frame += 2
        while data[frame]:
            frame += data[frame] + 1
        frame += 1
    assert data[frame] == 0x2C, "image descriptor expected"
    data[frame + 5:frame + 9] = struct.pack("<HH", side, side)
    return bytes(data)


def jpeg_without_quantization_tables() -> bytes:
    """Frame, scan and EOI are all there (the marker walk passes), but the DQT segments
    are gone, so no decoder can dequantize the scan."""
    data = fixtures.jpeg_bytes(32, 32)
    out, pos = bytearray(data[:2]), 2
    while True:
        marker = data[pos + 1]
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        if marker == 0xDA:
            out += data[pos:]
            return bytes(out)
        if marker != 0xDB:
            out += data[pos:pos + 2 + length]
        pos += 2 + length


class _Payload:
    """Unpickling this calls ``open(path, 'w')``: code execution from a dataset file."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def evil_cifar_batch(created: str) -> bytes:
    """A CIFAR-10 batch pickle that creates ``created`` when loaded with pickle.load."""
    return pickle.dumps({b"data": _Payload(created), b"labels": [0]}, protocol=2)


def make_fifo(path: str) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    os.mkfifo(path)
    return path
