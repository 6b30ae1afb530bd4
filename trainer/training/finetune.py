"""--checkpoint_path for fine-tuning: a slim checkpoint or one of our TF2 train_dir checkpoints.

slim checkpoints are name-based (``InceptionV3/Logits/Conv2d_1c_1x1/weights``);
TF2 object-based checkpoints key tensors by object path. Our train_dir
checkpoints carry a ``slim_names`` child ({slim name: variable}, see
:class:`SlimNameIndex`) and the EMA shadows under ``ema/shadows``, so the slim
name of every tensor can be read from the checkpoint's object graph without
knowing the class count or code that wrote it. :func:`restore_net` converts
such a checkpoint to slim format and then applies slim's exclusion and
missing-variable rules through ``nets.restore_slim_checkpoint``.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from typing import Dict, Mapping, Sequence

import tensorflow as tf
from tensorflow.core.protobuf import trackable_object_graph_pb2

from trainer import nets
from trainer.nets.checkpoint import EMA_SUFFIX

OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
NAMES_PATH = ("slim_names", "by_name")
EMA_PATH = ("ema", "shadows")
STEP_PATHS = (("optimizer", "_iterations"), ("optimizer", "inner_optimizer", "_iterations"))


class SlimNameIndex(tf.Module):
    """{slim name: variable}, saved in the train_dir checkpoint so it can be read by name."""

    def __init__(self, variables: Mapping[str, tf.Variable]):
        super().__init__(name="slim_names")
        self.by_name = dict(variables)


def is_object_checkpoint(path: str) -> bool:
    """True for TF2 object-based checkpoints (tf.train.Checkpoint), False for name-based ones."""
    reader = tf.train.load_checkpoint(nets.resolve_checkpoint_path(path))
    return reader.has_tensor(OBJECT_GRAPH_KEY)


def slim_tensor_keys(path: str) -> Dict[str, str]:
    """{slim name (EMA shadows with /ExponentialMovingAverage; 'global_step'): checkpoint key}.

    Raises ValueError for an object-based checkpoint without a ``slim_names`` index
    (one not written by trainer/training/train_lib.py).
    """
    path = nets.resolve_checkpoint_path(path)
    reader = tf.train.load_checkpoint(path)
    graph = trackable_object_graph_pb2.TrackableObjectGraph()
    graph.ParseFromString(reader.get_tensor(OBJECT_GRAPH_KEY))
    names = _children_at(graph, NAMES_PATH)
    if names is None:
        raise ValueError(f"{path} is a TF2 checkpoint without a slim name index; pass a slim "
                         "checkpoint or a train_dir written by `tfslim train` / the TFX Trainer.")
    keys = {name: _value_key(graph, node) for name, node in names.items()}
    for name, node in (_children_at(graph, EMA_PATH) or {}).items():
        keys[name + EMA_SUFFIX] = _value_key(graph, node)
    for step_path in STEP_PATHS:
        step = _node_at(graph, step_path)
        if step is not None:
            keys["global_step"] = _value_key(graph, step)
            break
    return {k: v for k, v in keys.items() if v}


def to_slim_checkpoint(path: str, output_prefix: str) -> str:
    """Rewrites a train_dir (TF2) checkpoint as a slim name-based checkpoint; returns the prefix."""
    path = nets.resolve_checkpoint_path(path)
    reader = tf.train.load_checkpoint(path)
    keys = slim_tensor_keys(path)
    names = sorted(keys)
    tf.io.gfile.makedirs(os.path.dirname(output_prefix) or ".")
    tf.raw_ops.SaveV2(prefix=output_prefix, tensor_names=names, shape_and_slices=[""] * len(names),
                      tensors=[tf.convert_to_tensor(reader.get_tensor(keys[n])) for n in names])
    return output_prefix


def restore_net(net: nets.SlimModel, checkpoint_path: str, exclude_scopes: Sequence[str] = (),
                ignore_missing_vars: bool = False,
                use_moving_averages: bool = False) -> nets.RestoreReport:
    """Restores ``net`` from a slim checkpoint or a TF2 train_dir checkpoint (file or directory).

    Same rules and errors as ``nets.restore_slim_checkpoint`` (prefix-matched
    exclusions, missing variables an error unless ignored, shape mismatches named).
    """
    path = nets.resolve_checkpoint_path(checkpoint_path)
    if not is_object_checkpoint(path):
        return nets.restore_slim_checkpoint(net, path, exclude_scopes=exclude_scopes,
                                            ignore_missing_vars=ignore_missing_vars,
                                            use_moving_averages=use_moving_averages)
    scratch = tempfile.mkdtemp(prefix="tfslim_ckpt_")
    try:
        converted = to_slim_checkpoint(path, os.path.join(scratch, "model.ckpt"))
        report = nets.restore_slim_checkpoint(net, converted, exclude_scopes=exclude_scopes,
                                              ignore_missing_vars=ignore_missing_vars,
                                              use_moving_averages=use_moving_averages)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report.checkpoint = path
    return report


def _node_at(graph, path: Sequence[str]):
    node = 0
    for name in path:
        children = {c.local_name: c.node_id for c in graph.nodes[node].children}
        if name not in children:
            return None
        node = children[name]
    return node


def _children_at(graph, path: Sequence[str]):
    node = _node_at(graph, path)
    if node is None:
        return None
    return {c.local_name: c.node_id for c in graph.nodes[node].children}


def _value_key(graph, node: int) -> str:
    for attribute in graph.nodes[node].attributes:
        if attribute.name == "VARIABLE_VALUE":
            return attribute.checkpoint_key
    return ""
