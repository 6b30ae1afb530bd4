"""Plain records passed between the ingestion stages (no Beam, no TF).

An ``ItemRef`` is the light handle the planner keeps for every input (a path or a
record index, never the image bytes), so memory grows with the number of paths
only. A ``Reject`` accounts for an input that was not converted.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, Optional, Tuple

# The fixed vocabulary of reject reasons (the summary counts per reason).
ZERO_BYTES = "zero bytes"
NOT_AN_IMAGE = "not an image"
TRUNCATED = "truncated"
CORRUPT = "corrupt"
UNREADABLE = "unreadable"
UNSUPPORTED_MODE = "unsupported mode"
OUTSIDE_CLASS_FOLDER = "outside any class folder"
DUPLICATE_CONTENT = "duplicate content"
INVALID_RECORD = "invalid record"
LABEL_OUT_OF_RANGE = "label out of range"
NO_LABEL = "no label"
TOO_LARGE = "too large"
NOT_A_REGULAR_FILE = "not a regular file"
LINK_OUTSIDE_SOURCE = "link outside source"

REASONS = (ZERO_BYTES, NOT_AN_IMAGE, TRUNCATED, CORRUPT, UNREADABLE, UNSUPPORTED_MODE,
           OUTSIDE_CLASS_FOLDER, DUPLICATE_CONTENT, INVALID_RECORD, LABEL_OUT_OF_RANGE, NO_LABEL,
           TOO_LARGE, NOT_A_REGULAR_FILE, LINK_OUTSIDE_SOURCE)


@dataclasses.dataclass(frozen=True)
class ItemRef:
    """One input to convert.

    key: unique, stable id relative to the source root (written as image/filename
      and used for the deterministic split and shard order).
    label / text: class index and name.
    locator: where the source's reader finds the item (file path, container file).
    index: record index inside ``locator`` for container sources (-1 for files).
    split: the source-defined split this item came from ('' when none).
    """
    key: str
    label: int
    text: str
    locator: str
    index: int = -1
    split: str = ""


@dataclasses.dataclass(frozen=True)
class Reject:
    """An input that was not converted: its path (relative to the source root) and why."""
    path: str
    reason: str
    detail: str = ""

    def to_json_dict(self) -> Dict[str, str]:
        """The rejects.jsonl line: path and reason always, detail when known."""
        out = {"path": self.path, "reason": self.reason}
        if self.detail:
            out["detail"] = self.detail
        return out


class Rejected(Exception):
    """Raised by readers/converters for one input; carries the reject reason."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclasses.dataclass
class RawItem:
    """What a source's reader returns for an ItemRef: file bytes or decoded pixels.

    data: the encoded file bytes (folder, flowers, imagenet, tfrecord sources).
    pixels: a HxWxC uint8 array (cifar10, mnist) to be PNG-encoded.
    label / text: override the ref's (tfrecord records carry their own).
    extra: additional tf.Example list features, e.g. ImageNet bounding boxes:
      {name: (kind, values)} with kind 'float_list' | 'int64_list' | 'bytes_list'.
    """
    data: Optional[bytes] = None
    pixels: Any = None
    label: Optional[int] = None
    text: Optional[str] = None
    extra: Dict[str, Tuple[str, Tuple[Any, ...]]] = dataclasses.field(default_factory=dict)
