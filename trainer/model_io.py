"""Load weights for inference from any checkpoint `tfslim eval` / `tfslim export` accept.

Two formats, told apart by the object-graph entry TF2 writes:
- project checkpoints (``tf.train.Checkpoint(net=..., optimizer=...)`` in a train_dir,
  written by trainer/train_lib.py); with ``use_moving_averages`` the optimizer's EMA
  shadows (tf_keras ``use_ema``) replace the trained weights, as slim's eval did;
- original TF-Slim (name-based) checkpoints such as ``inception_v3.ckpt``, restored
  through ``nets.restore_slim_checkpoint`` (``.../ExponentialMovingAverage`` shadows
  with ``use_moving_averages``).
A directory means its latest checkpoint (slim semantics).
"""
from __future__ import annotations

import re
from typing import Dict

import tensorflow as tf
from tensorflow.core.protobuf import trackable_object_graph_pb2

from trainer import nets

OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
_EMA_SEGMENT = "average"


def is_object_based(checkpoint_path: str) -> bool:
    """True for TF2 object-based checkpoints (ours), False for name-based (slim's)."""
    return tf.train.load_checkpoint(checkpoint_path).has_tensor(OBJECT_GRAPH_KEY)


def checkpoint_step(checkpoint_path: str) -> int:
    """The global step a checkpoint was written at (0 if it does not say)."""
    reader = tf.train.load_checkpoint(checkpoint_path)
    for key in ("optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE",
                "optimizer/_iterations/.ATTRIBUTES/VARIABLE_VALUE", "global_step"):
        if reader.has_tensor(key):
            return int(reader.get_tensor(key))
    match = re.search(r"-(\d+)$", checkpoint_path)
    return int(match.group(1)) if match else 0


def _unscoped(name: str) -> str:
    """'lenet_3/LeNet__conv1/conv/kernel:0' → 'LeNet__conv1/conv/kernel' (drops the
    per-process Keras model name, which gets suffixes when several nets exist)."""
    name = name.split(":")[0]
    return name.split("/", 1)[1] if "/" in name else name


def _ema_keys(reader) -> Dict[str, str]:
    """Unscoped variable name → checkpoint key of its tf_keras EMA shadow."""
    graph = trackable_object_graph_pb2.TrackableObjectGraph()
    graph.ParseFromString(reader.get_tensor(OBJECT_GRAPH_KEY))
    keys = {}
    for node in graph.nodes:
        for attr in node.attributes:
            # tf_keras names a shadow '[<optimizer scope>/]average/<variable name>'.
            parts = attr.full_name.split("/")
            if attr.checkpoint_key.startswith("optimizer/") and _EMA_SEGMENT in parts[:-1]:
                rest = parts[parts.index(_EMA_SEGMENT) + 1:]
                keys[_unscoped("/".join(rest))] = attr.checkpoint_key
    return keys


def restore_project_checkpoint(net, checkpoint_path: str, use_moving_averages: bool = False) -> None:
    """Restores ``net`` from a train_dir checkpoint (optionally its EMA shadows)."""
    tf.train.Checkpoint(net=net).restore(checkpoint_path).expect_partial().assert_existing_objects_matched()
    if not use_moving_averages:
        return
    reader = tf.train.load_checkpoint(checkpoint_path)
    shadows = _ema_keys(reader)
    if not shadows:
        raise ValueError(f"--moving_average_decay was given but {checkpoint_path} holds no moving "
                         "averages (train with --moving_average_decay to keep them).")
    for var in net.trainable_variables:
        key = shadows.get(_unscoped(var.name))
        if key is None:
            raise ValueError(f"{checkpoint_path} has no moving average for {var.name}")
        var.assign(reader.get_tensor(key))


def restore_for_inference(net, checkpoint_path: str, use_moving_averages: bool = False) -> str:
    """Restores ``net`` from a project or original slim checkpoint; returns the resolved path."""
    path = nets.resolve_checkpoint_path(checkpoint_path)
    net.ensure_built()
    if is_object_based(path):
        restore_project_checkpoint(net, path, use_moving_averages)
    else:
        nets.restore_slim_checkpoint(net, path, use_moving_averages=use_moving_averages)
    return path


def is_saved_model(path: str) -> bool:
    """A SavedModel directory (or a TF Serving base dir of integer versions) rather than a checkpoint."""
    if tf.io.gfile.exists(f"{path.rstrip('/')}/saved_model.pb"):
        return True
    if not tf.io.gfile.isdir(path):
        return False
    versions = [d.rstrip("/") for d in tf.io.gfile.listdir(path) if d.rstrip("/").isdigit()]
    return any(tf.io.gfile.exists(f"{path.rstrip('/')}/{v}/saved_model.pb") for v in versions)

