"""Feature keys of the slim-format tf.Example and of the Transform output (no TensorFlow)."""
from __future__ import annotations

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


def train_feature_spec() -> Dict[str, Any]:
    """What training/eval parse from slim TFRecords (the other keys are metadata)."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel  # keeps the keys TF-free

    return {ENCODED: tf.io.FixedLenFeature([], tf.string),
            LABEL: tf.io.FixedLenFeature([], tf.int64)}

# The largest image the project takes, by its header: ingestion rejects larger ones as
# 'too large' (its default caps) and the serving signature refuses them before decoding.
MAX_IMAGE_SIDE = 16384
MAX_IMAGE_PIXELS = 100_000_000
