"""The slim-format tf.Example (keys of slim's dataset_utils.image_to_tfexample + more),
serialized straight to protobuf wire bytes, without TensorFlow.

The bytes equal ``tf.train.Example(...).SerializeToString(deterministic=True)`` (features
in key order; tests compare both), so shards are byte-identical to those TF writes and
reruns are byte-identical. tfx_bsl's C++ RecordBatchToExamples encoder was measured and
not used: it writes the feature map in a per-process hash order, so two runs of the same
input gave different bytes.
"""
from __future__ import annotations

import functools
import struct
from typing import Any, Dict, Iterable, Mapping, Tuple

from ingestion.formats.image_codec import EncodedImage
# The keys are defined once, in schemas.features, and shared with training/serving.
from schemas.features import ENCODED, FILENAME, FORMAT, HEIGHT, LABEL, TEXT, WIDTH

# ImageNet boxes: slim's build_imagenet_data writes image/object/bbox/label while its
# reader (datasets/imagenet.py) reads image/object/class/label; both are written.
BBOX_KEYS = ("image/object/bbox/xmin", "image/object/bbox/ymin",
             "image/object/bbox/xmax", "image/object/bbox/ymax")
BBOX_LABEL_KEYS = ("image/object/bbox/label", "image/object/class/label")
REQUIRED_KEYS = (ENCODED, FORMAT, LABEL, TEXT, HEIGHT, WIDTH, FILENAME)

# Kinds of the list features: RawItem.extra maps name → (kind, values).
FLOAT, INT64, BYTES = "float_list", "int64_list", "bytes_list"
Features = Mapping[str, Tuple[str, Iterable[Any]]]

# Wire tags: Feature.{bytes_list=1, float_list=2, int64_list=3}; every other message here
# (Example.features, Features.feature, each list's value, map entry key) is field 1 and
# the map entry's value is field 2, all length-delimited.
_FIELD1, _FIELD2 = b"\x0a", b"\x12"
_KIND_TAG = {BYTES: b"\x0a", FLOAT: b"\x12", INT64: b"\x1a"}
_UINT64 = (1 << 64) - 1
# Values unique to each image (not worth caching; the image is copied once, at the end).
_PER_IMAGE_BYTES = frozenset((ENCODED, FILENAME))


def _varint(value: int) -> bytes:
    """Protobuf base-128 varint; negative int64s as their 64-bit two's complement."""
    if 0 <= value < 0x80:
        return bytes((value,))
    if 0 <= value < 0x4000:
        return bytes(((value & 0x7F) | 0x80, value >> 7))
    value &= _UINT64
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _delimited(tag: bytes, payload: bytes) -> bytes:
    return tag + _varint(len(payload)) + payload


def encode_feature(kind: str, values: Iterable[Any]) -> bytes:
    """A serialized tf.train.Feature; an empty list still gets its kind."""
    if kind == BYTES:
        body = b"".join(_delimited(_FIELD1, v) for v in values)
    elif kind == INT64:
        packed = b"".join(_varint(int(v)) for v in values)
        body = _delimited(_FIELD1, packed) if packed else b""
    elif kind == FLOAT:
        values = tuple(values)
        body = _delimited(_FIELD1, struct.pack(f"<{len(values)}f", *values)) if values else b""
    else:
        raise ValueError(f"unknown feature kind {kind!r}")
    return _delimited(_KIND_TAG[kind], body)


@functools.lru_cache(maxsize=4096)
def _small_entry(name: str, kind: str, values: Tuple[Any, ...]) -> bytes:
    """One Features.feature map entry. Cached: labels, class texts, formats and sizes
    repeat across a dataset, so most entries of an Example are a dictionary hit."""
    return _delimited(_FIELD1, _delimited(_FIELD1, name.encode())
                      + _delimited(_FIELD2, encode_feature(kind, values)))


@functools.lru_cache(maxsize=1024)
def _bytes_entry_key(name: str) -> bytes:
    return _delimited(_FIELD1, name.encode())


def _bytes_entry(name: str, value: bytes) -> Tuple[bytes, bytes]:
    """The map entry of a one-value bytes feature as (head, value): only the final join
    copies the value (the image bytes), instead of once per nesting level."""
    value_header = _FIELD1 + _varint(len(value))             # BytesList.value
    list_length = len(value_header) + len(value)
    list_header = _KIND_TAG[BYTES] + _varint(list_length)    # Feature.bytes_list
    head = (_bytes_entry_key(name) + _FIELD2 + _varint(len(list_header) + list_length)
            + list_header + value_header)
    return _FIELD1 + _varint(len(head) + len(value)) + head, value


def encode_features(features: Features) -> bytes:
    """A serialized tf.train.Example from {name: (kind, values)}, features in key order
    (what deterministic serialization of the map writes)."""
    parts = []
    for name, (kind, values) in sorted(features.items()):
        values = tuple(values)
        if kind == BYTES and len(values) == 1 and name in _PER_IMAGE_BYTES:
            parts.extend(_bytes_entry(name, values[0]))
        else:
            parts.append(_small_entry(name, kind, values))
    length = sum(map(len, parts))
    # Example.features (field 1) is the Features message, whose field 1 is the entries.
    return b"".join([_FIELD1 + _varint(length)] + parts)


def encode_example(image: EncodedImage, label: int, text: str, filename: str,
                   extra: Dict[str, Tuple[str, Tuple[Any, ...]]] = None) -> bytes:
    """One serialized slim-format example; ``extra`` adds list features as
    {name: (kind, values)} (e.g. ImageNet boxes)."""
    features: Dict[str, Tuple[str, Iterable[Any]]] = {
        ENCODED: (BYTES, (image.data,)),
        FORMAT: (BYTES, (image.format.encode(),)),
        LABEL: (INT64, (int(label),)),
        TEXT: (BYTES, (text.encode("utf-8", "surrogateescape"),)),
        HEIGHT: (INT64, (int(image.height),)),
        WIDTH: (INT64, (int(image.width),)),
        FILENAME: (BYTES, (filename.encode("utf-8", "surrogateescape"),)),
    }
    features.update(extra or {})
    return encode_features(features)
