"""Load weights for inference from any checkpoint `tfslim eval` / `tfslim export` accept.

Two formats, told apart by the object-graph entry TF2 writes:
- project checkpoints (``tf.train.Checkpoint`` in a train_dir, written by
  trainer/training/train_lib.py, read by slim name through trainer/training/finetune.py); with
  ``use_moving_averages`` the EMA shadows replace the trained weights, as slim's eval did;
- original TF-Slim (name-based) checkpoints such as ``inception_v3.ckpt``, restored
  through ``nets.restore_slim_checkpoint`` (``.../ExponentialMovingAverage`` shadows
  with ``use_moving_averages``).
A directory means its latest checkpoint (slim semantics).
"""
from __future__ import annotations

import re

import tensorflow as tf

from serving import versions
from trainer.training import finetune
from trainer import nets
from trainer.nets.checkpoint import EMA_SUFFIX


def checkpoint_step(checkpoint_path: str) -> int:
    """The global step a checkpoint was written at (0 if it does not say)."""
    path = nets.resolve_checkpoint_path(checkpoint_path)
    reader = tf.train.load_checkpoint(path)
    if finetune.is_object_checkpoint(path):
        key = finetune.slim_tensor_keys(path).get("global_step")
    else:
        key = "global_step" if reader.has_tensor("global_step") else None
    if key:
        return int(reader.get_tensor(key))
    match = re.search(r"-(\d+)$", path)
    return int(match.group(1)) if match else 0


def restore_for_inference(net, checkpoint_path: str, use_moving_averages: bool = False) -> str:
    """Restores every variable of ``net`` from a project or original slim checkpoint
    (EMA shadows with ``use_moving_averages``); returns the resolved path."""
    path = nets.resolve_checkpoint_path(checkpoint_path)
    if use_moving_averages and not _has_moving_averages(path):
        # slim's eval would fail to find the shadows; silently using raw weights would lie.
        raise ValueError(f"--moving_average_decay was given but {path} holds no moving averages "
                         "(train with --moving_average_decay to keep them).")
    net.ensure_built()
    finetune.restore_net(net, path, use_moving_averages=use_moving_averages)
    return path


def _has_moving_averages(path: str) -> bool:
    if finetune.is_object_checkpoint(path):
        names = finetune.slim_tensor_keys(path)
    else:
        names = tf.train.load_checkpoint(path).get_variable_to_shape_map()
    return any(name.endswith(EMA_SUFFIX) for name in names)


def is_saved_model(path: str) -> bool:
    """A SavedModel directory (or a TF Serving base dir of integer versions) rather than a checkpoint."""
    return versions.holds_saved_model(path.rstrip("/"))

