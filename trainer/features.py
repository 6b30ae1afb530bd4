"""Feature keys of the slim-format tf.Example and of the Transform output.

TensorFlow-free at import: ingestion (`tfslim convert`) uses the keys without TF.
"""
from typing import Any, Dict

ENCODED = "image/encoded"
FORMAT = "image/format"
LABEL = "image/class/label"
TEXT = "image/class/text"
HEIGHT = "image/height"
WIDTH = "image/width"
FILENAME = "image/filename"

IMAGE_XF = "image_xf"
LABEL_XF = "label_xf"


def __getattr__(name: str) -> Any:
    """``TRAIN_FEATURE_SPEC``, built (importing TF) on first use."""
    if name == "TRAIN_FEATURE_SPEC":
        return _train_feature_spec()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _train_feature_spec() -> Dict[str, Any]:
    """What training/eval parse from slim TFRecords (the others are metadata)."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    return {
        ENCODED: tf.io.FixedLenFeature([], tf.string),
        LABEL: tf.io.FixedLenFeature([], tf.int64),
    }
