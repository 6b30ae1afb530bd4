"""Serving SavedModel: what the Evaluator, the serving smoke test, Pusher and TF Serving consume.

Signatures:
  serving_default(image_bytes: string[B])     encoded JPEG/PNG/GIF/BMP, any size
      → classes int64[B], scores float32[B,K], labels string[B],
        top_k_classes int32[B,k], top_k_scores float32[B,k], top_k_labels string[B,k]
  serving_examples(examples: string[B])       serialized slim tf.Example (TFMA, InfraValidator-style)
      → the same outputs plus dataset_scores float32[B,K+labels_offset]: the scores indexed
        by dataset label (labels_offset leading zeros), which the Evaluator scores against
        the example's raw label, so a --labels_offset model is gated on the right classes.
  serving_tensors(images: float32[B,H,W,C])   already preprocessed images (what slim's
      export_inference_graph took as ``input``; used for TFLite parity and benchmarks)
      → the same outputs.
  eval_examples(examples: string[B])          for evaluation only (TFMA, the run report, the
      smoke test): serving_examples's outputs plus decodable float32[B] (1.0, or 0.0 for a
      record whose image cannot be decoded: it is scored on a black stand-in image instead
      of failing the batch, and the count is printed to stderr).
  eval_decodable(examples: string[B])         → decodable float32[B] alone: TFMA's example
      weight (a preprocessing function), so such a record counts for nothing in the metrics.
TF Serving REST reaches serving_default with {"instances": [{"b64": "<base64>"}]}
(the server base64-decodes; the graph gets raw bytes) and gRPC with a
PredictRequest whose inputs['image_bytes'] is a DT_STRING tensor of the bytes.
The image preprocessing inside is the Transform graph when there is one
(pipeline) or the same trainer.preprocessing.image_ops function (CLI export).

Any element of image_bytes that cannot be decoded (not an image, cut short, corrupt
pixel data, ...) fails the request with one InvalidArgumentError naming what is wrong
and the batch index(es) (trainer/export/serving_input.py); an empty batch is refused by name.
A request never changes model state, so the next request is answered normally.
"""
from __future__ import annotations

import os
from typing import Dict, List, Optional, Sequence

import tensorflow as tf

from schemas import features, labels as labels_lib
from trainer.preprocessing.image_ops import ImageSpec, decode_image, preprocess_encoded
from trainer.export.serving_input import (BATCH_INDEX, check_image_bytes, decodable_mask, map_decodable,
                                          stand_in_png)
from serving.signatures import (DATASET_SCORES, DECODABLE, EVAL_DECODABLE, EVAL_EXAMPLES, EXAMPLES_INPUT,
                                IMAGE_INPUT, LABELS_ASSET, LABELS_ASSET_DIR, SERVING_DEFAULT, SERVING_EXAMPLES,
                                SERVING_TENSORS, TENSOR_INPUT)

SKIPPED_MESSAGE = (f"{EVAL_EXAMPLES}: records whose image could not be decoded, scored with weight 0 "
                   "(count, batch index(es)):")

class _Untracked:
    """A plain reference that tf.Module attribute tracking does not follow."""

    def __init__(self, value):
        self.value = value


class NetServingModule(tf.Module):
    """The net's variables, class names and the outputs every serving signature returns;
    subclasses add the signatures (images here, videos in trainer/export/video_export.py)."""

    def __init__(self, net, image_spec: ImageSpec, class_names: Sequence[str], top_k: int = 5,
                 training: bool = False):
        super().__init__()
        # slim's --is_training: dropout/BatchNorm in training mode in the served graph.
        self._training = training
        # The SavedModel needs the net's variables, not the Keras object: tracking the
        # net would make tf.saved_model.save trace every layer's call for Keras
        # metadata (most of the export time). The holder is invisible to tracking.
        self._net_holder = _Untracked(net)
        self.net_variables = list(net.variables)
        self.image_spec_dict = image_spec.to_dict()
        self._image_spec = image_spec
        self.class_names = tf.constant(list(class_names), dtype=tf.string)
        self.top_k = min(top_k, len(class_names))
        # AutoGraph is off for the signatures: converting every Keras layer's call costs
        # tens of seconds per export and the net has no tensor-dependent Python control
        # flow. The slim preprocessing may have some, so it keeps AutoGraph (inner function;
        # a dataset map inside a signature would inherit the signature's "off").
        self._preprocess_one = tf.function(
            lambda encoded: preprocess_encoded(encoded, self._image_spec, is_training=False), autograph=True)

    @property
    def net(self):
        return self._net_holder.value

    def _outputs(self, images: tf.Tensor) -> Dict[str, tf.Tensor]:
        logits, _ = self.net(images, training=self._training)
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

    def _preprocess_images(self, encoded: tf.Tensor, input_name: str = IMAGE_INPUT,
                           where: str = BATCH_INDEX) -> tf.Tensor:
        """Encoded images (any shape, flattened) → checked, decoded and preprocessed
        [B, size, size, C]; a bad element fails naming its position (trainer/export/serving_input.py)."""
        spec = self._image_spec
        return map_decodable(self._preprocess_one, check_image_bytes(encoded, input_name, where),
                             tf.TensorSpec([spec.image_size, spec.image_size, spec.channels], tf.float32),
                             input_name, where)

    def _outputs_of_tensor(self, inputs: tf.Tensor, empty_message: str) -> Dict[str, tf.Tensor]:
        """The outputs for already preprocessed input, after refusing an empty batch."""
        check = tf.debugging.Assert(tf.shape(inputs)[0] > 0, [empty_message])
        with tf.control_dependencies([check]):
            return self._outputs(tf.identity(inputs))


class ServingModule(NetServingModule):
    """Holds the net, the preprocessing (Transform layer or image_ops) and class names."""

    def __init__(self, net, image_spec: ImageSpec, class_names: Sequence[str],
                 tft_layer=None, top_k: int = 5, batch_size: Optional[int] = None,
                 labels_offset: int = 0, training: bool = False):
        super().__init__(net, image_spec, class_names, top_k=top_k, training=training)
        self.labels_offset = labels_offset
        self.tft_layer = tft_layer
        size, channels = image_spec.image_size, image_spec.channels
        # slim's --batch_size: None keeps the batch dimension dynamic.
        self.serve_images = tf.function(self._serve_images, autograph=False, input_signature=[
            tf.TensorSpec([batch_size], tf.string, name=IMAGE_INPUT)])
        self.serve_examples = tf.function(self._serve_examples, autograph=False, input_signature=[
            tf.TensorSpec([batch_size], tf.string, name=EXAMPLES_INPUT)])
        self.serve_tensors = tf.function(self._serve_tensors, autograph=False, input_signature=[
            tf.TensorSpec([batch_size, size, size, channels], tf.float32, name=TENSOR_INPUT)])
        self.eval_examples = tf.function(self._eval_examples, autograph=False, input_signature=[
            tf.TensorSpec([batch_size], tf.string, name=EXAMPLES_INPUT)])
        self.eval_decodable = tf.function(self._eval_decodable, autograph=False, input_signature=[
            tf.TensorSpec([batch_size], tf.string, name=EXAMPLES_INPUT)])

    def _decoded_size(self, encoded: tf.Tensor) -> tf.Tensor:
        """The pixel count of one decoded image: what proves it decodes."""
        return tf.size(decode_image(encoded, self._image_spec.channels))

    def _preprocess(self, encoded: tf.Tensor, decodable: bool = False) -> tf.Tensor:
        """Request bytes → net input; a bad element fails naming its batch index.

        ``decodable``: every element is already known to decode (``_eval_examples`` screened
        the batch), so the Transform graph's input needs no second checking decode."""
        if self.tft_layer is None:
            return self._preprocess_images(encoded)
        if not decodable:
            encoded = self._checked(encoded)
        return self.tft_layer({features.ENCODED: tf.reshape(encoded, [-1, 1])})[features.IMAGE_XF]

    def _checked(self, encoded: tf.Tensor) -> tf.Tensor:
        """``encoded`` once every element passed the request checks and decoded."""
        # The Transform graph's decode cannot name a failing element: the batch is first
        # decoded by map_decodable (a second decode), which names it.
        encoded = check_image_bytes(encoded)
        checked = map_decodable(self._decoded_size, encoded, tf.TensorSpec([], tf.int32))
        with tf.control_dependencies([checked]):
            return tf.identity(encoded)

    def _serve_images(self, image_bytes):
        return self._outputs(self._preprocess(image_bytes))

    def _serve_examples(self, examples):
        return self._example_outputs(_parse_encoded(examples))

    def _example_outputs(self, encoded: tf.Tensor, decodable: bool = False) -> Dict[str, tf.Tensor]:
        outputs = self._outputs(self._preprocess(encoded, decodable))
        outputs[DATASET_SCORES] = tf.pad(outputs["scores"], [[0, 0], [self.labels_offset, 0]])
        return outputs

    def _decodable(self, encoded: tf.Tensor) -> tf.Tensor:
        """bool [B]: the image passes the request checks and decodes."""
        return decodable_mask(self._decoded_size, encoded, tf.TensorSpec([], tf.int32))

    def _eval_decodable(self, examples):
        return {DECODABLE: tf.cast(self._decodable(_parse_encoded(examples)), tf.float32)}

    def _eval_examples(self, examples):
        encoded = _parse_encoded(examples)
        decodable = self._decodable(encoded)
        spec = self._image_spec
        # The stand-in goes through the same preprocessing as the other records; the mask
        # above already decoded every element, so the Transform graph gets no checking decode.
        encoded = tf.where(decodable, encoded, stand_in_png(spec.image_size, spec.channels))
        with tf.control_dependencies([_print_skipped(decodable)]):
            outputs = self._example_outputs(tf.identity(encoded), decodable=True)
        outputs[DECODABLE] = tf.cast(decodable, tf.float32)
        return outputs

    def _serve_tensors(self, images):
        return self._outputs_of_tensor(images, f"{TENSOR_INPUT}: the batch is empty; send at least one image")


def _parse_encoded(examples: tf.Tensor) -> tf.Tensor:
    """The encoded images (string [B]) of serialized slim tf.Examples."""
    parsed = tf.io.parse_example(examples, {features.ENCODED: tf.io.FixedLenFeature([], tf.string)})
    return parsed[features.ENCODED]


def _print_skipped(decodable: tf.Tensor) -> tf.Tensor:
    """Prints ``SKIPPED_MESSAGE`` to stderr when some records are not ``decodable``."""
    bad = tf.reshape(tf.where(tf.logical_not(decodable)), [-1])

    def report():
        with tf.control_dependencies([tf.print(SKIPPED_MESSAGE, tf.size(bad), bad, summarize=16)]):
            return tf.constant(True)

    return tf.cond(tf.size(bad) > 0, report, lambda: tf.constant(False))


def export_saved_model(net, image_spec: ImageSpec, class_names: Sequence[str], export_dir: str,
                       tft_layer=None, batch_size: Optional[int] = None,
                       labels_offset: int = 0, training: bool = False) -> str:
    """Writes the serving SavedModel (+ assets.extra/labels.txt) to ``export_dir``.

    Args:
      net: a zoo SlimModel (weights as they should be served).
      image_spec: decode + slim preprocessing applied to request bytes.
      class_names: name of model class i (the ``labels`` outputs).
      export_dir: SavedModel directory (created).
      tft_layer: the Transform graph's layer; when given it does the preprocessing,
        so serving runs exactly what the pipeline's Transform ran.
      batch_size: fixed batch dimension of every signature; None (default) = dynamic.
      labels_offset: dataset label - model class (the ``dataset_scores`` padding).
      training: serve the net in training mode (slim's --is_training; default False).
    """
    size, channels = image_spec.image_size, image_spec.channels
    check_num_outputs(net, [1, size, size, channels], class_names)
    module = ServingModule(net, image_spec, class_names, tft_layer=tft_layer, batch_size=batch_size,
                           labels_offset=labels_offset, training=training)
    signatures = {SERVING_DEFAULT: module.serve_images.get_concrete_function(),
                  SERVING_EXAMPLES: module.serve_examples.get_concrete_function(),
                  SERVING_TENSORS: module.serve_tensors.get_concrete_function(),
                  EVAL_EXAMPLES: module.eval_examples.get_concrete_function(),
                  EVAL_DECODABLE: module.eval_decodable.get_concrete_function()}
    return save_with_labels(module, signatures, class_names, export_dir)


def check_num_outputs(net, input_shape: Sequence[int], class_names: Sequence[str]) -> None:
    """Raises ValueError unless the net (called on zeros of ``input_shape``) has one output
    per class name."""
    logits, _ = net(tf.zeros(input_shape), training=False)
    if len(class_names) != int(logits.shape[-1]):
        raise ValueError(f"{len(class_names)} class names for a net with "
                         f"{int(logits.shape[-1])} outputs; check --num_classes/--labels_offset.")


def save_with_labels(module: tf.Module, signatures: Dict, class_names: Sequence[str],
                     export_dir: str) -> str:
    """tf.saved_model.save + the class names as ``assets.extra/labels.txt``; returns export_dir."""
    tf.saved_model.save(module, export_dir, signatures=signatures)
    labels_lib.write_label_file(dict(enumerate(class_names)),
                                os.path.join(export_dir, LABELS_ASSET_DIR, LABELS_ASSET))
    return export_dir


def read_class_names(saved_model_dir: str) -> List[str]:
    """The class names written beside a SavedModel (assets.extra/labels.txt), by class index."""
    labels = labels_lib.read_label_file(os.path.join(saved_model_dir, LABELS_ASSET_DIR, LABELS_ASSET))
    return [labels[index] for index in sorted(labels)]


def class_names_for(labels: Dict[int, str], num_classes: int, labels_offset: int = 0) -> List[str]:
    """Names of model classes 0..num_classes-1 (dataset label = class + labels_offset)."""
    return [labels.get(i + labels_offset, str(i + labels_offset)) for i in range(num_classes)]
