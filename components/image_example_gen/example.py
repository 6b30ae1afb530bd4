"""The slim-format tf.Example (keys of slim's dataset_utils.image_to_tfexample + more),
serialized straight to protobuf wire bytes, without TensorFlow.

The bytes equal ``tf.train.Example(...).SerializeToString(deterministic=True)`` (features
in key order; tests compare both), so shards are byte-identical to those TF writes and
reruns are byte-identical. tfx_bsl's C++ RecordBatchToExamples encoder was measured and
not used: it writes the feature map in a per-process hash order, so two runs of the same
input gave different bytes.
"""
from __future__ import annotations

import struct
from typing import Any, Dict, Iterable, Mapping, Tuple

from components.image_example_gen.image_codec import EncodedImage
# The keys are defined once, in trainer.features, and shared with training/serving.
from trainer.features import ENCODED, FILENAME, FORMAT, HEIGHT, LABEL, TEXT, WIDTH  # noqa: F401

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


def _varint(value: int) -> bytes:
    """Protobuf base-128 varint; negative int64s as their 64-bit two's complement."""
    if 0 <= value < 0x80:
        return bytes((value,))
    value &= _UINT64
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _delimited(tag: bytes, payload: bytes) -> bytes:
    return b"".join((tag, _varint(len(payload)), payload))


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


def encode_features(features: Features) -> bytes:
    """A serialized tf.train.Example from {name: (kind, values)}, features in key order
    (what deterministic serialization of the map writes)."""
    entries = b"".join(
        _delimited(_FIELD1, b"".join((_delimited(_FIELD1, name.encode()),
                                      _delimited(_FIELD2, encode_feature(kind, values)))))
        for name, (kind, values) in sorted(features.items()))
    return _delimited(_FIELD1, entries)


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
