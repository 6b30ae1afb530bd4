"""Serving SavedModel: what the Evaluator, Pusher and TF Serving consume.

Signatures:
  serving_default(image_bytes: string[None])  encoded JPEG/PNG/GIF/BMP, any size
      → classes int64[B], scores float32[B,K], labels string[B],
        top_k_classes int32[B,k], top_k_scores float32[B,k], top_k_labels string[B,k]
  serving_examples(examples: string[None])    serialized slim tf.Example (for TFMA)
      → the same outputs.
TF Serving REST reaches serving_default with {"instances": [{"b64": "<base64>"}]}
(the server base64-decodes; the graph gets raw bytes) and gRPC with a
PredictRequest whose inputs['image_bytes'] is a DT_STRING tensor of the bytes.
The image preprocessing inside is the Transform graph when there is one
(pipeline) or the same trainer.image_ops function (CLI export).
"""
from __future__ import annotations

import os
from typing import Dict, List, Optional, Sequence

import tensorflow as tf

from trainer import features
from trainer.image_ops import ImageSpec, preprocess_encoded_batch

SERVING_DEFAULT = "serving_default"
SERVING_EXAMPLES = "serving_examples"
IMAGE_INPUT = "image_bytes"
EXAMPLES_INPUT = "examples"
LABELS_ASSET = "labels.txt"


class ServingModule(tf.Module):
    """Holds the net, the preprocessing (Transform layer or image_ops) and class names."""

    def __init__(self, net, image_spec: ImageSpec, class_names: Sequence[str],
                 tft_layer=None, top_k: int = 5):
        super().__init__()
        self.net = net
        self.tft_layer = tft_layer
        self.image_spec_dict = image_spec.to_dict()
        self._image_spec = image_spec
        self.class_names = tf.constant(list(class_names), dtype=tf.string)
        self.top_k = min(top_k, len(class_names))

    def _preprocess(self, encoded: tf.Tensor) -> tf.Tensor:
        if self.tft_layer is not None:
            raw = {features.ENCODED: tf.reshape(encoded, [-1, 1])}
            return self.tft_layer(raw)[features.IMAGE_XF]
        return preprocess_encoded_batch(encoded, self._image_spec)

    def _outputs(self, images: tf.Tensor) -> Dict[str, tf.Tensor]:
        logits, _ = self.net(images, training=False)
        scores = tf.nn.softmax(tf.cast(logits, tf.float32))
        classes = tf.argmax(scores, axis=-1)
        top_scores, top_classes = tf.math.top_k(scores, k=self.top_k)
        return {
            "classes": classes,
            "scores": scores,
            "labels": tf.gather(self.class_names, classes),
            "top_k_classes": top_classes,
            "top_k_scores": top_scores,
            "top_k_labels": tf.gather(self.class_names, top_classes),
        }

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=IMAGE_INPUT)])
    def serve_images(self, image_bytes):
        return self._outputs(self._preprocess(image_bytes))

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=EXAMPLES_INPUT)])
    def serve_examples(self, examples):
        parsed = tf.io.parse_example(examples, {features.ENCODED: tf.io.FixedLenFeature([], tf.string)})
        return self._outputs(self._preprocess(parsed[features.ENCODED]))


def export_saved_model(net, image_spec: ImageSpec, class_names: Sequence[str], export_dir: str,
                       tft_layer=None) -> str:
    """Writes the serving SavedModel (+ assets.extra/labels.txt) to ``export_dir``."""
    module = ServingModule(net, image_spec, class_names, tft_layer=tft_layer)
    signatures = {SERVING_DEFAULT: module.serve_images.get_concrete_function(),
                  SERVING_EXAMPLES: module.serve_examples.get_concrete_function()}
    tf.saved_model.save(module, export_dir, signatures=signatures)
    extra = os.path.join(export_dir, "assets.extra")
    tf.io.gfile.makedirs(extra)
    with tf.io.gfile.GFile(os.path.join(extra, LABELS_ASSET), "w") as f:
        f.write("".join(f"{i}:{name}\n" for i, name in enumerate(class_names)))
    return export_dir


def class_names_for(labels: Dict[int, str], num_classes: int, labels_offset: int = 0) -> List[str]:
    """Names of model classes 0..num_classes-1 (dataset label = class + labels_offset)."""
    return [labels.get(i + labels_offset, str(i + labels_offset)) for i in range(num_classes)]
