"""Image bytes → the bytes stored in ``image/encoded``, with format and size.

Policy (what the trainer's ``tf.io.decode_image(channels=3)`` can read faithfully):
- 8-bit grayscale/RGB/palette JPEG and PNG: the ORIGINAL bytes are kept; height and
  width come from the header (JPEG SOF / PNG IHDR), with no pixel decode.
- Anything TF would misread is re-encoded losslessly to an 8-bit PNG: CMYK/YCCK JPEG
  (→ RGB), PNG with alpha or a tRNS chunk (composited over white → RGB / L),
  16-bit PNG (→ 8 bit by dropping the low byte, as libpng's strip_16 does), GIF (first
  frame), BMP, and any other still format Pillow reads (TIFF, WebP, ...).
- Everything else raises ``Rejected`` with a reason from ``records``.
"""
from __future__ import annotations

import dataclasses
import io
import struct
import warnings
import zlib
from typing import Optional, Tuple

import numpy as np
from PIL import Image

from ingestion.formats import integrity
from ingestion import records

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# Baseline, extended and progressive Huffman JPEG: what libjpeg(-turbo) in TF decodes.
_DECODABLE_SOF = {0xC0, 0xC1, 0xC2}
_ALL_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
# Magic numbers of other image formats: a file starting so but unreadable is a broken
# image, not a non-image (GIF, BMP, TIFF, WebP's RIFF).
_OTHER_MAGICS = (b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*", b"RIFF")
# Markers without a length field.
_STANDALONE = {0x01, 0xD0, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8}


@dataclasses.dataclass(frozen=True)
class EncodedImage:
    """What goes into the tf.Example: the bytes, b'jpeg' or b'png', and the size."""
    data: bytes
    format: str
    height: int
    width: int
    reencoded: bool


def sniff_format(data: bytes) -> Optional[str]:
    """'jpeg', 'png', or None (anything else) from the magic bytes."""
    if data.startswith(JPEG_MAGIC):
        return "jpeg"
    if data.startswith(PNG_MAGIC):
        return "png"
    return None


@dataclasses.dataclass(frozen=True)
class JpegHeader:
    height: int
    width: int
    components: int
    sof: int
    precision: int


def parse_jpeg(data: bytes) -> JpegHeader:
    """Walks the JPEG markers up to the first SOS; checks an EOI follows it.

    Raises Rejected(TRUNCATED) when the stream ends early or has no EOI after the scan
    data (FF D9 cannot occur inside entropy-coded data because of byte stuffing, and
    an EXIF thumbnail's EOI sits before the SOS), CORRUPT on a broken marker structure.
    """
    n = len(data)
    pos = 2
    header: Optional[JpegHeader] = None
    while True:
        if pos + 4 > n:
            raise records.Rejected(records.TRUNCATED, "JPEG ends inside its header")
        if data[pos] != 0xFF:
            raise records.Rejected(records.CORRUPT, f"JPEG marker expected at byte {pos}")
        while pos < n and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= n:
            raise records.Rejected(records.TRUNCATED, "JPEG ends inside its header")
        marker = data[pos]
        pos += 1
        if marker in _STANDALONE:
            continue
        if pos + 2 > n:
            raise records.Rejected(records.TRUNCATED, "JPEG ends inside its header")
        (length,) = struct.unpack(">H", data[pos:pos + 2])
        if length < 2:
            raise records.Rejected(records.CORRUPT, f"JPEG segment length {length}")
        if pos + length > n:
            raise records.Rejected(records.TRUNCATED, "JPEG ends inside a header segment")
        if marker in _ALL_SOF:
            if length < 8:
                raise records.Rejected(records.CORRUPT, "JPEG SOF segment too short")
            precision = data[pos + 2]
            height, width = struct.unpack(">HH", data[pos + 3:pos + 7])
            header = JpegHeader(height, width, data[pos + 7], marker, precision)
        elif marker == 0xDA:  # SOS: scan data follows
            if header is None:
                raise records.Rejected(records.CORRUPT, "JPEG scan before any frame header")
            if data.rfind(b"\xff\xd9", pos + length) < 0:
                raise records.Rejected(records.TRUNCATED, "JPEG has no end-of-image marker")
            return header
        elif marker == 0xD9:
            raise records.Rejected(records.TRUNCATED, "JPEG ends before its scan data")
        pos += length


@dataclasses.dataclass(frozen=True)
class PngHeader:
    height: int
    width: int
    bit_depth: int
    color_type: int
    has_trns: bool
    interlaced: bool = False
    # (start, end) byte offsets of each IDAT chunk's payload, in order.
    idat: Tuple[Tuple[int, int], ...] = ()


def parse_png(data: bytes) -> PngHeader:
    """Walks all PNG chunks (CRC-checked) up to IEND without inflating the pixels.

    Raises Rejected(TRUNCATED) when IEND is missing or a chunk is cut, CORRUPT on a
    CRC mismatch or a malformed IHDR.
    """
    n = len(data)
    pos = 8
    header: Optional[Tuple[int, int, int, int, int]] = None
    has_trns = False
    idat = []
    while True:
        if pos + 8 > n:
            raise records.Rejected(records.TRUNCATED, "PNG ends before IEND")
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        end = pos + 8 + length + 4
        if end > n:
            raise records.Rejected(records.TRUNCATED, f"PNG chunk {ctype!r} is cut")
        (crc,) = struct.unpack(">I", data[end - 4:end])
        if zlib.crc32(data[pos + 4:end - 4]) != crc:
            raise records.Rejected(records.CORRUPT, f"PNG chunk {ctype!r} fails its CRC")
        if header is None:
            if ctype != b"IHDR" or length != 13:
                raise records.Rejected(records.CORRUPT, "PNG does not start with IHDR")
            width, height, depth, color, _, _, interlace = struct.unpack(
                ">IIBBBBB", data[pos + 8:pos + 21])
            header = (height, width, depth, color, interlace)
        elif ctype == b"IDAT":
            idat.append((pos + 8, end - 4))
        elif ctype == b"tRNS":
            has_trns = True
        elif ctype == b"IEND":
            if not idat:
                raise records.Rejected(records.CORRUPT, "PNG has no pixel data (IDAT)")
            return PngHeader(header[0], header[1], header[2], header[3], has_trns,
                             header[4] == 1, tuple(idat))
        pos = end


def _to_8bit_gray(image: Image.Image) -> Image.Image:
    """16/32-bit integer grayscale ('I;16*', 'I') → 'L' by keeping the high byte."""
    array = np.asarray(image, dtype=np.uint32 if image.mode == "I" else np.uint16)
    if image.mode == "I" and array.max(initial=0) <= 255:
        return Image.fromarray(array.astype(np.uint8), mode="L")
    return Image.fromarray((array >> 8).astype(np.uint8), mode="L")


def _flatten_alpha(image: Image.Image) -> Image.Image:
    """Composites transparency over white: 'L' for gray sources, 'RGB' otherwise."""
    gray = image.mode in ("L", "LA", "La", "1") or image.mode.startswith("I")
    if image.mode.startswith("I"):
        # Pillow has no 16-bit gray+alpha path; a 16-bit tRNS key is dropped here.
        image = _to_8bit_gray(image)
    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    flat = Image.alpha_composite(white, rgba).convert("RGB")
    # Gray over white stays gray (R == G == B), so 'L' loses nothing.
    return flat.convert("L") if gray else flat


def to_storable(image: Image.Image) -> Image.Image:
    """Pillow image (any mode) → an 8-bit 'L' or 'RGB' image, or Rejected."""
    mode = image.mode
    if mode in ("RGBA", "LA", "La", "RGBa", "PA") or "transparency" in image.info:
        return _flatten_alpha(image)
    if mode in ("L", "RGB"):
        return image
    if mode == "1":
        return image.convert("L")
    if mode.startswith("I;16") or mode == "I":
        return _to_8bit_gray(image)
    if mode in ("P", "CMYK", "YCbCr", "LAB", "HSV"):
        return image.convert("RGB")
    raise records.Rejected(records.UNSUPPORTED_MODE, f"Pillow mode {mode}")


def encode_png(image: Image.Image) -> bytes:
    """Deterministic PNG bytes (no timestamps or text chunks)."""
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=6)
    return out.getvalue()


def encode_pixels(pixels: np.ndarray) -> EncodedImage:
    """HxW, HxWx1 or HxWx3 uint8 array → PNG (cifar10, mnist)."""
    array = np.asarray(pixels)
    if array.dtype != np.uint8 or array.ndim not in (2, 3):
        raise records.Rejected(records.UNSUPPORTED_MODE, f"pixels {array.dtype} {array.shape}")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim == 3 and array.shape[2] != 3:
        raise records.Rejected(records.UNSUPPORTED_MODE, f"{array.shape[2]} channels")
    image = Image.fromarray(array, mode="L" if array.ndim == 2 else "RGB")
    return EncodedImage(encode_png(image), "png", array.shape[0], array.shape[1], True)


def _reencode(data: bytes, what: str, limits: integrity.Limits) -> EncodedImage:
    """Full decode with Pillow (first frame) → lossless 8-bit PNG. The header's size is
    checked against ``limits`` before any pixel is decoded (GIF, BMP, TIFF ...)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns on odd but readable files
            image = Image.open(io.BytesIO(data))
            integrity.check_size(what, image.height, image.width, limits)
            image.seek(0)
            image.load()
    except Image.DecompressionBombError:
        raise records.Rejected(records.TOO_LARGE, f"{what}: over Pillow's pixel limit") from None
    except (OSError, SyntaxError, ValueError, struct.error, EOFError) as err:
        message = str(err)[:200]
        reason = records.TRUNCATED if "truncated" in message.lower() else records.UNREADABLE
        raise records.Rejected(reason, f"{what}: {message}") from None
    image = to_storable(image)
    width, height = image.size
    return EncodedImage(encode_png(image), "png", height, width, True)


def normalize(data: bytes, limits: integrity.Limits = integrity.DEFAULT_LIMITS) -> EncodedImage:
    """The storage policy of this module for one file's bytes (see the module doc).

    Every image kept passes ``limits`` (header size; full decode when
    ``limits.verify_decode``) and the structural checks of ``integrity``."""
    if not data:
        raise records.Rejected(records.ZERO_BYTES)
    kind = sniff_format(data)
    if kind == "jpeg":
        header = parse_jpeg(data)
        if header.height == 0 or header.width == 0:
            raise records.Rejected(records.CORRUPT, "JPEG with a zero dimension")
        integrity.check_size("JPEG", header.height, header.width, limits)
        if header.sof not in _DECODABLE_SOF or header.precision != 8:
            raise records.Rejected(records.UNSUPPORTED_MODE,
                                   f"JPEG SOF{header.sof - 0xC0} {header.precision}-bit")
        if header.components in (1, 3):
            if limits.verify_decode:
                integrity.verify_decode(data)
            return EncodedImage(data, "jpeg", header.height, header.width, False)
        if header.components == 4:
            return _reencode(data, "CMYK JPEG", limits)
        raise records.Rejected(records.UNSUPPORTED_MODE, f"JPEG with {header.components} components")
    if kind == "png":
        header = parse_png(data)
        if header.height == 0 or header.width == 0:
            raise records.Rejected(records.CORRUPT, "PNG with a zero dimension")
        integrity.check_size("PNG", header.height, header.width, limits)
        integrity.check_png_stream(integrity.idat_chunks(data, list(header.idat)), header.height,
                                   header.width, header.bit_depth, header.color_type,
                                   header.interlaced)
        if header.bit_depth <= 8 and header.color_type in (0, 2, 3) and not header.has_trns:
            if limits.verify_decode:
                integrity.verify_decode(data)
            return EncodedImage(data, "png", header.height, header.width, False)
        return _reencode(data, f"PNG {header.bit_depth}-bit color type {header.color_type}", limits)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = Image.open(io.BytesIO(data)).format
    except Image.DecompressionBombError:
        raise records.Rejected(records.TOO_LARGE, "header over Pillow's pixel limit") from None
    except Exception:  # pylint: disable=broad-except  # any failure to identify
        # The detail never quotes the bytes: a rejected file may be a secret.
        if data.startswith(_OTHER_MAGICS):
            raise records.Rejected(records.UNREADABLE, "image header unreadable") from None
        raise records.Rejected(records.NOT_AN_IMAGE, "no known image signature") from None
    return _reencode(data, found or "image", limits)
