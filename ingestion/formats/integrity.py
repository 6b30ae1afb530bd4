"""Cheap structural checks that make "kept at ingestion" mean "decodes at training".

The codec keeps original JPEG/PNG bytes without a pixel decode (ingestion speed), so
a file whose header or compressed stream is broken would pass ingestion and stop the
Trainer. These checks catch that without decoding pixels:
- ``check_size``: header dimensions against ``Limits`` (decompression bombs → ``too large``);
- ``check_png_stream``: the concatenated IDAT zlib stream inflates to exactly the size
  the IHDR implies, and every row's filter byte is valid (0-4);
- ``verify_decode``: the optional full decode (``--verify_decode``) with the trainer's
  own decoder, ``tf.io.decode_image``.
Details never quote file contents (a reject line must not leak what a file holds).
"""
from __future__ import annotations

import dataclasses
import zlib
from typing import Iterator, List, Tuple

from ingestion import records
from schemas import features

DEFAULT_MAX_SIDE = features.MAX_IMAGE_SIDE
DEFAULT_MAX_PIXELS = features.MAX_IMAGE_PIXELS
# Inflate in pieces of this size, so a bomb never allocates its claimed size.
_INFLATE_PIECE = 1 << 20
# PNG samples per pixel by colour type (gray, -, RGB, palette, gray+alpha, -, RGBA).
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
# Adam7 passes: (x start, y start, x step, y step).
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
          (0, 1, 1, 2))


@dataclasses.dataclass(frozen=True)
class Limits:
    """What an image may be: sides and pixel count from its header, and whether kept
    originals are also fully decoded (``verify_decode``)."""
    max_side: int = DEFAULT_MAX_SIDE
    max_pixels: int = DEFAULT_MAX_PIXELS
    verify_decode: bool = False

    @classmethod
    def from_options(cls, options) -> "Limits":
        """From a source's options ('max_image_side', 'max_image_pixels', 'verify_decode')."""
        return cls(max_side=int(options.get("max_image_side") or DEFAULT_MAX_SIDE),
                   max_pixels=int(options.get("max_image_pixels") or DEFAULT_MAX_PIXELS),
                   verify_decode=bool(options.get("verify_decode", False)))


DEFAULT_LIMITS = Limits()


def check_size(what: str, height: int, width: int, limits: Limits) -> None:
    """Rejected(TOO_LARGE) when a header's size exceeds the limits."""
    if max(height, width) > limits.max_side or height * width > limits.max_pixels:
        raise records.Rejected(records.TOO_LARGE,
                               f"{what} header says {width}x{height}; the limit is "
                               f"{limits.max_side} px a side and {limits.max_pixels} pixels "
                               "(--max_image_side / --max_image_pixels)")


def _row_bytes(width: int, bits_per_pixel: int) -> int:
    return (width * bits_per_pixel + 7) // 8


def png_rows(height: int, width: int, bit_depth: int, color_type: int,
             interlaced: bool) -> List[Tuple[int, int]]:
    """(row count, bytes per row without the filter byte) of each pass of the image."""
    bits = _PNG_CHANNELS.get(color_type, 0) * bit_depth
    if not bits:
        raise records.Rejected(records.CORRUPT, f"PNG colour type {color_type}")
    if not interlaced:
        return [(height, _row_bytes(width, bits))]
    passes = []
    for x0, y0, dx, dy in _ADAM7:
        cols = (width - x0 + dx - 1) // dx if width > x0 else 0
        rows = (height - y0 + dy - 1) // dy if height > y0 else 0
        if cols and rows:
            passes.append((rows, _row_bytes(cols, bits)))
    return passes


def _inflate(idat: Iterator[memoryview]) -> Iterator[bytes]:
    """The inflated pieces of a zlib stream split over IDAT chunks; Rejected(CORRUPT) on a
    broken stream, TRUNCATED when it does not end."""
    inflater = zlib.decompressobj()
    try:
        for chunk in idat:
            data = bytes(chunk)
            while data:
                piece = inflater.decompress(data, _INFLATE_PIECE)
                data = inflater.unconsumed_tail
                if piece:
                    yield piece
                if inflater.eof:
                    break
        tail = inflater.flush()
        if tail:
            yield tail
    except zlib.error:
        raise records.Rejected(records.CORRUPT, "PNG pixel data is not a valid zlib stream") from None
    if not inflater.eof:
        raise records.Rejected(records.TRUNCATED, "PNG pixel data ends early")


def check_png_stream(idat: Iterator[memoryview], height: int, width: int, bit_depth: int,
                     color_type: int, interlaced: bool) -> None:
    """The IDAT stream inflates to exactly the implied size with valid filter bytes.

    Only the first pass's filter bytes are checked for interlaced images (their row
    offsets are per pass); the size is checked for all."""
    passes = png_rows(height, width, bit_depth, color_type, interlaced)
    expected = sum(rows * (stride + 1) for rows, stride in passes)
    first_rows, first_stride = passes[0]
    first_end = first_rows * (first_stride + 1)
    seen = 0
    for piece in _inflate(idat):
        if seen + len(piece) > expected:
            raise records.Rejected(records.CORRUPT, "PNG pixel data is longer than its header implies")
        if seen < first_end:
            # Filter bytes sit at multiples of the row length (stride + 1).
            start = (-seen) % (first_stride + 1)
            stop = min(len(piece), first_end - seen)
            filters = piece[start:stop:first_stride + 1]
            if filters and max(filters) > 4:
                raise records.Rejected(records.CORRUPT, "PNG row with an invalid filter type")
        seen += len(piece)
    if seen != expected:
        raise records.Rejected(records.CORRUPT, f"PNG pixel data inflates to {seen} bytes, "
                                                f"its header implies {expected}")


def idat_chunks(data: bytes, spans: List[Tuple[int, int]]) -> Iterator[memoryview]:
    """The IDAT payloads at ``spans`` ((start, end) byte offsets), without copies."""
    view = memoryview(data)
    for start, end in spans:
        yield view[start:end]


def verify_decode(data: bytes) -> None:
    """Full decode with the trainer's decoder; Rejected(CORRUPT) when it fails."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel  # workers have TF loaded
    try:
        tf.io.decode_image(data, channels=3, expand_animations=False)
    except (tf.errors.InvalidArgumentError, tf.errors.OutOfRangeError) as err:
        message = str(err).split("\n")[0][:200]
        raise records.Rejected(records.CORRUPT, f"full decode failed: {message}") from None
