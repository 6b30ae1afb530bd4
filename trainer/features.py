"""Feature keys of the slim-format tf.Example and of the Transform output."""
import tensorflow as tf

ENCODED = "image/encoded"
FORMAT = "image/format"
LABEL = "image/class/label"
TEXT = "image/class/text"
HEIGHT = "image/height"
WIDTH = "image/width"
FILENAME = "image/filename"

IMAGE_XF = "image_xf"
LABEL_XF = "label_xf"

# What training/eval parse from slim TFRecords (the others are metadata).
TRAIN_FEATURE_SPEC = {
    ENCODED: tf.io.FixedLenFeature([], tf.string),
    LABEL: tf.io.FixedLenFeature([], tf.int64),
}
