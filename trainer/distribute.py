"""--strategy {auto,one_device,mirrored,multi_worker} → a tf.distribute strategy."""
from __future__ import annotations

import json
import os

import tensorflow as tf

STRATEGIES = ("auto", "one_device", "mirrored", "multi_worker")


def get_strategy(name: str = "auto") -> tf.distribute.Strategy:
    """auto: MirroredStrategy with >1 GPU, MultiWorkerMirrored when TF_CONFIG names
    several workers, else the default (single-device) strategy."""
    gpus = tf.config.list_logical_devices("GPU")
    if name == "auto":
        if _tf_config_workers() > 1:
            name = "multi_worker"
        elif len(gpus) > 1:
            name = "mirrored"
        else:
            return tf.distribute.get_strategy()
    if name == "one_device":
        return tf.distribute.OneDeviceStrategy("/gpu:0" if gpus else "/cpu:0")
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"--strategy {name!r} is not one of {STRATEGIES}")


def _tf_config_workers() -> int:
    cluster = json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {})
    return sum(len(cluster.get(k, [])) for k in ("chief", "worker", "master"))


def is_chief() -> bool:
    """True unless TF_CONFIG says this task is a non-chief worker (TFX's rule)."""
    task = json.loads(os.environ.get("TF_CONFIG", "{}")).get("task", {})
    kind, index = task.get("type"), task.get("index", 0)
    if kind in (None, "chief", "master"):
        return True
    cluster = json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {})
    return kind == "worker" and index == 0 and "chief" not in cluster and "master" not in cluster
