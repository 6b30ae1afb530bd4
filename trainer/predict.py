"""Run a serving SavedModel locally on encoded image bytes (what TF Serving would do)."""
from __future__ import annotations

import os
from typing import List, Sequence, Tuple

import tensorflow as tf

from trainer.export import IMAGE_INPUT, SERVING_DEFAULT


def latest_version_dir(model_base: str) -> str:
    """``<base>/<model>/`` with integer version dirs → the highest version (TF Serving's choice)."""
    if tf.io.gfile.exists(os.path.join(model_base, "saved_model.pb")):
        return model_base
    versions = [d.rstrip("/") for d in tf.io.gfile.listdir(model_base) if d.rstrip("/").isdigit()]
    if not versions:
        raise FileNotFoundError(f"{model_base} holds neither saved_model.pb nor integer version dirs.")
    return os.path.join(model_base, max(versions, key=int))


def load_serving_fn(model_dir: str):
    """Loads ``serving_default`` of a SavedModel (or of the latest version under a base dir)."""
    loaded = tf.saved_model.load(latest_version_dir(model_dir))
    return loaded.signatures[SERVING_DEFAULT]


def top_k(serving_fn, images: Sequence[bytes]) -> List[List[Tuple[str, float]]]:
    """[(label, score), ...] per image, best first, from the signature's top_k outputs."""
    outputs = serving_fn(**{IMAGE_INPUT: tf.constant(list(images), dtype=tf.string)})
    labels = outputs["top_k_labels"].numpy()
    scores = outputs["top_k_scores"].numpy()
    return [[(l.decode(), float(s)) for l, s in zip(row_l, row_s)]
            for row_l, row_s in zip(labels, scores)]
