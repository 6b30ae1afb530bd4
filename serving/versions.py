"""TF Serving's model layout: ``<base>/<model>/<version>/saved_model.pb`` with integer versions.

The one place that scans version folders (the Pusher, ``tfslim predict`` / ``eval`` on
a base directory, and checkpoint-vs-SavedModel detection all use it).
"""
from __future__ import annotations

import os
from typing import List

SAVED_MODEL_PB = "saved_model.pb"


def _gfile():
    import tensorflow as tf  # pylint: disable=import-outside-toplevel  # light at import

    return tf.io.gfile


def existing_versions(base_directory: str) -> List[int]:
    """Integer version directories under ``base_directory``, ascending ([] if it is absent)."""
    gfile = _gfile()
    if not gfile.isdir(base_directory):
        return []
    return sorted(int(d.rstrip("/")) for d in gfile.listdir(base_directory) if d.rstrip("/").isdigit())


def is_saved_model_dir(path: str) -> bool:
    """``path`` holds a SavedModel itself."""
    return _gfile().exists(os.path.join(path, SAVED_MODEL_PB))


def latest_version_dir(model_base: str) -> str:
    """A SavedModel directory as is, or the highest complete version under a TF Serving
    base dir (TF Serving's choice); raises FileNotFoundError naming the directory."""
    if is_saved_model_dir(model_base):
        return model_base
    if not _gfile().isdir(model_base):
        raise FileNotFoundError(f"Model directory {model_base} does not exist.")
    versions = existing_versions(model_base)
    if not versions:
        raise FileNotFoundError(f"{model_base} holds neither saved_model.pb nor integer version dirs.")
    return os.path.join(model_base, str(versions[-1]))


def holds_saved_model(path: str) -> bool:
    """A SavedModel directory, or a TF Serving base dir with at least one SavedModel version."""
    if is_saved_model_dir(path):
        return True
    return any(is_saved_model_dir(os.path.join(path, str(v))) for v in existing_versions(path))
