"""Serving SavedModel of a video net (i3d, s3dg): `tfslim export --is_video_model --num_frames=N`.

Signatures (outputs as the image SavedModel's, trainer/export/saved_model.py):
  serving_default(frames_bytes: string[B, N])          N encoded JPEG/PNG/GIF/BMP frames per clip,
      any size; each frame is decoded and given the net's slim preprocessing (eval mode)
      on its own by trainer.preprocessing.image_ops, the one function images go through
      → classes int64[B], scores float32[B,K], labels string[B],
        top_k_classes int32[B,k], top_k_scores float32[B,k], top_k_labels string[B,k]
  serving_tensors(frames: float32[B, N, S, S, C])      already preprocessed clips → the same.
There is no ``serving_examples``: slim's datasets hold images, not clips.
TF Serving REST reaches serving_default with one list of N b64 objects per instance,
``{"instances": [[{"b64": "<frame 1>"}, ..., {"b64": "<frame N>"}]]}``; gRPC with a
DT_STRING tensor of shape [B, N] as inputs['frames_bytes'].

N is fixed in the signature (slim's export_inference_graph needs --num_frames for the
video nets too): the nets pool over time with a kernel chosen from the static shape.
"""
from __future__ import annotations

from typing import Dict, Optional, Sequence

import tensorflow as tf

from serving.signatures import FRAMES_INPUT, FRAMES_TENSOR_INPUT, SERVING_DEFAULT, SERVING_TENSORS
from trainer.export.saved_model import NetServingModule, check_num_outputs, save_with_labels
from trainer.preprocessing.image_ops import ImageSpec

# The checks see the [B, N] frames flattened; their messages say what the positions are.
_FLAT_POSITIONS = "flat frame index(es) (clip * num_frames + frame)"


class VideoServingModule(NetServingModule):
    """serving_default on encoded frames and serving_tensors on preprocessed clips."""

    def __init__(self, net, image_spec: ImageSpec, class_names: Sequence[str], num_frames: int,
                 top_k: int = 5, batch_size: Optional[int] = None, training: bool = False):
        super().__init__(net, image_spec, class_names, top_k=top_k, training=training)
        size, channels = image_spec.image_size, image_spec.channels
        self.num_frames = num_frames
        self.serve_frames = tf.function(self._serve_frames, autograph=False, input_signature=[
            tf.TensorSpec([batch_size, num_frames], tf.string, name=FRAMES_INPUT)])
        self.serve_tensors = tf.function(self._serve_tensors, autograph=False, input_signature=[
            tf.TensorSpec([batch_size, num_frames, size, size, channels], tf.float32,
                          name=FRAMES_TENSOR_INPUT)])

    def _serve_frames(self, frames_bytes):
        spec = self._image_spec
        clips = tf.reshape(self._preprocess_images(frames_bytes, FRAMES_INPUT, _FLAT_POSITIONS),
                           [-1, self.num_frames, spec.image_size, spec.image_size, spec.channels])
        return self._outputs(clips)

    def _serve_tensors(self, frames):
        return self._outputs_of_tensor(
            frames, f"{FRAMES_TENSOR_INPUT}: the batch is empty; send at least one clip")


def export_video_saved_model(net, image_spec: ImageSpec, class_names: Sequence[str], export_dir: str,
                             num_frames: int, batch_size: Optional[int] = None,
                             training: bool = False) -> str:
    """Writes a video net's serving SavedModel (+ assets.extra/labels.txt) to ``export_dir``.

    Args:
      net: a zoo video net (``NetSpec.video``), weights as they should be served.
      image_spec: decode + slim preprocessing applied to every frame.
      class_names: name of model class i.
      export_dir: SavedModel directory (created).
      num_frames: frames per clip, fixed in both signatures.
      batch_size: fixed number of clips per request; None (default) = dynamic.
      training: serve the net in training mode (slim's --is_training).
    """
    size, channels = image_spec.image_size, image_spec.channels
    check_num_outputs(net, [1, num_frames, size, size, channels], class_names)
    module = VideoServingModule(net, image_spec, class_names, num_frames, batch_size=batch_size,
                                training=training)
    signatures: Dict = {SERVING_DEFAULT: module.serve_frames.get_concrete_function(),
                        SERVING_TENSORS: module.serve_tensors.get_concrete_function()}
    return save_with_labels(module, signatures, class_names, export_dir)
