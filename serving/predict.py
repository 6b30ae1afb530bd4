"""Run a serving SavedModel locally on encoded image bytes or clips of them (what TF Serving
would do).

``load_serving_fn`` + ``top_k`` are the local path of ``tfslim predict``; the
remote paths (TF Serving REST and gRPC) live in serving/client.py and
return the same output dict, which ``ranked`` turns into (label, score) lists.
TensorFlow is imported by the local path only, so ``ranked`` serves the remote
path (`tfslim predict --server`) without it.
"""
from __future__ import annotations

from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from serving.signatures import FRAMES_INPUT, IMAGE_INPUT, SERVING_DEFAULT
from serving.versions import latest_version_dir


def load_serving_fn(model_dir: str, signature_name: str = SERVING_DEFAULT):
    """Loads a signature (default ``serving_default``) of a SavedModel or of the latest
    version under a TF Serving base dir."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    loaded = tf.saved_model.load(latest_version_dir(model_dir))
    if signature_name not in loaded.signatures:
        raise KeyError(f"SavedModel {model_dir} has no signature {signature_name!r}; "
                       f"it has {sorted(loaded.signatures)}")
    fn = loaded.signatures[signature_name]
    fn._loaded_model = loaded  # pylint: disable=protected-access  # keeps variables alive with fn
    return fn


def _call(serving_fn, input_name: str, value) -> Dict[str, np.ndarray]:
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    outputs = serving_fn(**{input_name: tf.constant(value, dtype=tf.string)})
    return {name: value.numpy() for name, value in outputs.items()}


def run_images(serving_fn, images: Sequence[bytes]) -> Dict[str, np.ndarray]:
    """Calls ``serving_default`` on encoded image bytes; numpy outputs by name.

    Raises tf.errors.InvalidArgumentError (from the graph) for bytes that are not an image.
    """
    return _call(serving_fn, IMAGE_INPUT, list(images))


def clip_frames(serving_fn) -> Optional[int]:
    """Frames per clip of a video model's signature (input ``frames_bytes`` [B, N]);
    None for an image signature."""
    _, inputs = serving_fn.structured_input_signature
    spec = inputs.get(FRAMES_INPUT)
    return None if spec is None else int(spec.shape[1])


def run_clips(serving_fn, clips: Sequence[Sequence[bytes]]) -> Dict[str, np.ndarray]:
    """Calls a video model's ``serving_default`` on clips of encoded frames (each as long
    as :func:`clip_frames` says); numpy outputs by name, one row per clip."""
    return _call(serving_fn, FRAMES_INPUT, [list(clip) for clip in clips])


def error_text(err: Exception) -> str:
    """The reason lines of a failed call's error, on one line (at most 500 characters)."""
    message = getattr(err, "message", None) or str(err)
    # TF's graph errors carry "Graph execution error:" and node traces; keep the reason lines.
    lines = [line.strip() for line in message.splitlines()
             if line.strip() and not line.strip().startswith(("Graph execution error", "Detected at node",
                                                              "<stack traces", "[["))]
    return " ".join(lines)[:500]


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def ranked(outputs: Mapping[str, np.ndarray]) -> List[List[Tuple[str, float]]]:
    """[(label, score), ...] per image, best first, from the ``top_k_*`` outputs."""
    labels = np.asarray(outputs["top_k_labels"])
    scores = np.asarray(outputs["top_k_scores"])
    return [[(_text(label), float(s)) for label, s in zip(row_l, row_s)]
            for row_l, row_s in zip(labels, scores)]


def top_k(serving_fn, images: Sequence[bytes]) -> List[List[Tuple[str, float]]]:
    """[(label, score), ...] per image, best first, from the signature's top_k outputs."""
    return ranked(run_images(serving_fn, images))
