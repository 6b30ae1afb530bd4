"""The files a batch prediction scores, and their bytes, through ingestion's own checks.

Listing: every regular file under the folder, recursively, in sorted order, through
ingestion's ``SafeWalker`` (local) or the remote filesystem's walk (gs://, s3://):
FIFOs, sockets, devices, broken links and links leaving the folder are listed with a
reason, never opened. No extension list: a file is an image if ingestion's format
sniffing (``image_codec.normalize``) says so, whatever its name or case.

Reading: the file's bytes go through ``image_codec.normalize``, as `tfslim convert`
stores them: JPEG/PNG byte for byte, other formats Pillow reads (GIF, BMP, TIFF, WebP,
CMYK JPEG, 16-bit or transparent PNG) converted losslessly to PNG; empty, cut, corrupt,
too large or non-image files are refused with ingestion's reason. The serving
signature then decodes and preprocesses what is kept, as it does for a request.
"""
from __future__ import annotations

import dataclasses
import os
import re
from typing import Iterator, Tuple

from ingestion.formats import image_codec, integrity
from ingestion import records
from ingestion.sources import base, listing


@dataclasses.dataclass(frozen=True)
class InputFile:
    """A listed file: its path (the folder joined with its relative path) and, for an
    entry that must not be read, why (``error``, '' for a file to score)."""
    path: str
    error: str = ""


# Ingestion's details may end by naming `tfslim convert` flags: not this command's.
_CONVERT_FLAGS = re.compile(r"\s*\(--[^)]*\)$")


def _reason(reason: str, detail: str) -> str:
    detail = _CONVERT_FLAGS.sub("", detail)
    return f"{reason}: {detail}" if detail else reason


def list_inputs(root: str, allow_outside_links: bool = False) -> Iterator[InputFile]:
    """Every file under ``root`` (sorted, depth first); raises FileNotFoundError naming
    ``root`` when it is not a directory."""
    if not base.is_dir(root):
        raise FileNotFoundError(f"--input_dir {root} is not a directory")
    if base.is_remote(root):
        for directory, _, files in base.walk(root):
            for name in files:
                yield InputFile(f"{directory.rstrip('/')}/{name}")
        return
    for entry in listing.SafeWalker(root, allow_outside_links).walk(root):
        yield InputFile(os.path.join(root, entry.rel), _reason(entry.reason, entry.detail))


def read_image(path: str, limits: integrity.Limits = integrity.DEFAULT_LIMITS) -> Tuple[bytes, str]:
    """(the bytes to give the serving signature, '') or (b'', why the file is not scored)."""
    try:
        return image_codec.normalize(base.read_bytes(path), limits).data, ""
    except records.Rejected as err:
        return b"", _reason(err.reason, err.detail)
