"""The slim-format tf.Example (keys of slim's dataset_utils.image_to_tfexample + more)."""
from __future__ import annotations

from typing import Any, Dict, Iterable, Tuple

import tensorflow as tf

from components.image_example_gen.image_codec import EncodedImage

ENCODED = "image/encoded"
FORMAT = "image/format"
LABEL = "image/class/label"
TEXT = "image/class/text"
HEIGHT = "image/height"
WIDTH = "image/width"
FILENAME = "image/filename"
# ImageNet boxes: slim's build_imagenet_data writes image/object/bbox/label while its
# reader (datasets/imagenet.py) reads image/object/class/label; both are written.
BBOX_KEYS = ("image/object/bbox/xmin", "image/object/bbox/ymin",
             "image/object/bbox/xmax", "image/object/bbox/ymax")
BBOX_LABEL_KEYS = ("image/object/bbox/label", "image/object/class/label")
REQUIRED_KEYS = (ENCODED, FORMAT, LABEL, TEXT, HEIGHT, WIDTH, FILENAME)


def _bytes(values: Iterable[bytes]) -> tf.train.Feature:
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=list(values)))


def _ints(values: Iterable[int]) -> tf.train.Feature:
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(v) for v in values]))


def _floats(values: Iterable[float]) -> tf.train.Feature:
    return tf.train.Feature(float_list=tf.train.FloatList(value=[float(v) for v in values]))


def _feature(values: Tuple[Any, ...]) -> tf.train.Feature:
    if values and isinstance(values[0], float):
        return _floats(values)
    if values and isinstance(values[0], bytes):
        return _bytes(values)
    return _ints(values)


def build_example(image: EncodedImage, label: int, text: str, filename: str,
                  extra: Dict[str, Tuple[Any, ...]] = None) -> tf.train.Example:
    """One slim-format example; ``extra`` adds list features (e.g. ImageNet boxes)."""
    feature = {
        ENCODED: _bytes([image.data]),
        FORMAT: _bytes([image.format.encode()]),
        LABEL: _ints([label]),
        TEXT: _bytes([text.encode("utf-8")]),
        HEIGHT: _ints([image.height]),
        WIDTH: _ints([image.width]),
        FILENAME: _bytes([filename.encode("utf-8")]),
    }
    for name, values in sorted((extra or {}).items()):
        feature[name] = _feature(tuple(values))
    return tf.train.Example(features=tf.train.Features(feature=feature))


def serialize(example: tf.train.Example) -> bytes:
    """Deterministic serialization (map order fixed) so reruns are byte-identical."""
    return example.SerializeToString(deterministic=True)
