"""TF-Slim's model zoo in TF2 (tf_keras).

    from trainer import nets
    nets.list_models()
    model = nets.create_model('inception_v3', num_classes=1001)
    logits, end_points = model(images, training=False)
    report = nets.restore_slim_checkpoint(model, 'inception_v3.ckpt')
"""
from __future__ import annotations

from typing import Optional

from trainer.nets import _families
from trainer.nets.base import SlimModel
from trainer.nets.checkpoint import (CheckpointMismatchError, RestoreReport, resolve_checkpoint_path,
                                     restore_slim_checkpoint, save_slim_checkpoint)
from trainer.nets.registry import NetSpec, get_spec, list_models

__all__ = ["SlimModel", "NetSpec", "RestoreReport", "CheckpointMismatchError", "create_model",
           "get_spec", "list_models", "restore_slim_checkpoint", "save_slim_checkpoint",
           "resolve_checkpoint_path"]

_families.register_all()  # the built-in families' NETS, once


def create_model(name: str, num_classes: Optional[int] = None, is_training: bool = False,
                 weight_decay: float = 0.0, **kwargs) -> SlimModel:
    """nets_factory.get_network_fn as a model constructor.

    Args:
      name: a nets_factory key (see :func:`list_models`).
      num_classes: number of outputs; None means the net's default; 0 returns
        pre-logits features.
      is_training: default mode for BatchNorm/dropout when ``training`` is not
        passed at call time.
      weight_decay: L2 scale of the family's arg_scope (slim's ``weight_decay``).
      **kwargs: slim keyword arguments the net supports (dropout_keep_prob,
        spatial_squeeze, global_pool, depth_multiplier, ...).
    """
    spec = get_spec(name)
    unknown = set(kwargs) - set(spec.kwargs)
    if unknown:
        raise TypeError(f"{name} does not take {sorted(unknown)}; it takes {sorted(spec.kwargs)}")
    if num_classes is None:
        num_classes = spec.num_classes
    return spec.builder(num_classes=num_classes, is_training=is_training,
                        weight_decay=weight_decay, **kwargs)
