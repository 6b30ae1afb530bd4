"""The slim-format tf.Example (keys of slim's dataset_utils.image_to_tfexample + more)."""
from __future__ import annotations

from typing import Any, Dict, Tuple

import tensorflow as tf

from components.image_example_gen.image_codec import EncodedImage
# The keys are defined once, in schemas.features, and shared with training/serving.
from schemas.features import ENCODED, FILENAME, FORMAT, HEIGHT, LABEL, TEXT, WIDTH  # noqa: F401

# ImageNet boxes: slim's build_imagenet_data writes image/object/bbox/label while its
# reader (datasets/imagenet.py) reads image/object/class/label; both are written.
BBOX_KEYS = ("image/object/bbox/xmin", "image/object/bbox/ymin",
             "image/object/bbox/xmax", "image/object/bbox/ymax")
BBOX_LABEL_KEYS = ("image/object/bbox/label", "image/object/class/label")
REQUIRED_KEYS = (ENCODED, FORMAT, LABEL, TEXT, HEIGHT, WIDTH, FILENAME)


# Kinds of the extra list features: RawItem.extra maps name → (kind, values).
FLOAT, INT64, BYTES = "float_list", "int64_list", "bytes_list"


def _set(feature: tf.train.Feature, kind: str, values: Tuple[Any, ...]) -> None:
    """Fills a list feature in place; an empty list still gets its kind."""
    if kind not in (FLOAT, INT64, BYTES):
        raise ValueError(f"unknown feature kind {kind!r}")
    target = getattr(feature, kind)
    target.SetInParent()
    target.value.extend(values)


def build_example(image: EncodedImage, label: int, text: str, filename: str,
                  extra: Dict[str, Tuple[str, Tuple[Any, ...]]] = None) -> tf.train.Example:
    """One slim-format example; ``extra`` adds list features as {name: (kind, values)}
    (e.g. ImageNet boxes)."""
    # Filled in place: building Feature objects and copying them costs twice as much.
    example = tf.train.Example()
    feature = example.features.feature
    feature[ENCODED].bytes_list.value.append(image.data)
    feature[FORMAT].bytes_list.value.append(image.format.encode())
    feature[LABEL].int64_list.value.append(int(label))
    feature[TEXT].bytes_list.value.append(text.encode("utf-8", "surrogateescape"))
    feature[HEIGHT].int64_list.value.append(int(image.height))
    feature[WIDTH].int64_list.value.append(int(image.width))
    feature[FILENAME].bytes_list.value.append(filename.encode("utf-8", "surrogateescape"))
    for name, (kind, values) in sorted((extra or {}).items()):
        _set(feature[name], kind, tuple(values))
    return example


def serialize(example: tf.train.Example) -> bytes:
    """Deterministic serialization (map order fixed) so reruns are byte-identical."""
    return example.SerializeToString(deterministic=True)
