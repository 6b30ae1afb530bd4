"""Read and write checkpoints keyed by slim variable names.

Original TF-Slim checkpoints (``inception_v3.ckpt`` ...) are name-based
tf.train checkpoints. :func:`restore_slim_checkpoint` maps them onto a zoo model
through :meth:`SlimModel.slim_variables`; :func:`save_slim_checkpoint` writes the
same format, so a model round-trips and slim tools can read our weights.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Dict, List, Sequence

import tensorflow as tf

EMA_SUFFIX = "/ExponentialMovingAverage"


@dataclasses.dataclass
class RestoreReport:
    """What a restore did, by slim variable name."""

    checkpoint: str
    restored: List[str] = dataclasses.field(default_factory=list)
    excluded: List[str] = dataclasses.field(default_factory=list)
    missing: List[str] = dataclasses.field(default_factory=list)
    unused: List[str] = dataclasses.field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.checkpoint}: restored {len(self.restored)}, excluded {len(self.excluded)}, "
                f"missing {len(self.missing)}, unused in checkpoint {len(self.unused)}")


class CheckpointMismatchError(ValueError):
    """A checkpoint variable exists but its shape differs from the model's."""


def resolve_checkpoint_path(path: str) -> str:
    """A directory means its latest checkpoint (slim semantics)."""
    if tf.io.gfile.isdir(path):
        latest = tf.train.latest_checkpoint(path)
        if latest is None:
            raise FileNotFoundError(f"No checkpoint found in directory {path!r}.")
        return latest
    if not (tf.io.gfile.exists(path + ".index") or tf.io.gfile.exists(path)):
        raise FileNotFoundError(f"Checkpoint {path!r} does not exist (expected {path}.index).")
    return path


def _matches(name: str, scopes: Sequence[str]) -> bool:
    # slim's prefix match on var.op.name.
    return any(name.startswith(scope) for scope in scopes if scope)


def restore_slim_checkpoint(model, checkpoint_path: str, exclude_scopes: Sequence[str] = (),
                            ignore_missing_vars: bool = False,
                            use_moving_averages: bool = False) -> RestoreReport:
    """Restores ``model`` from a slim-format checkpoint by variable name.

    Args:
      model: a zoo SlimModel (built on first use if needed).
      checkpoint_path: checkpoint prefix or a directory (its latest checkpoint).
      exclude_scopes: slim scopes (prefix match) not to restore, e.g.
        ``['InceptionV3/Logits', 'InceptionV3/AuxLogits']`` when fine-tuning.
      ignore_missing_vars: skip model variables absent from the checkpoint
        instead of raising.
      use_moving_averages: read ``<name>/ExponentialMovingAverage`` shadows where
        the checkpoint has them (how slim's eval restores EMA weights).

    Returns:
      A RestoreReport.

    Raises:
      CheckpointMismatchError: a variable's shape differs; the message names the
        variable, both shapes and the likely fix.
      ValueError: variables are missing and ``ignore_missing_vars`` is False.
    """
    path = resolve_checkpoint_path(checkpoint_path)
    model.ensure_built()
    reader = tf.train.load_checkpoint(path)
    shapes = reader.get_variable_to_shape_map()
    report = RestoreReport(checkpoint=path)
    assignments = []
    for name, var in sorted(model.slim_variables().items()):
        if _matches(name, exclude_scopes):
            report.excluded.append(name)
            continue
        key = name + EMA_SUFFIX if use_moving_averages and name + EMA_SUFFIX in shapes else name
        if key not in shapes:
            report.missing.append(name)
            continue
        if list(shapes[key]) != var.shape.as_list():
            raise CheckpointMismatchError(_mismatch_message(name, shapes[key], var.shape.as_list(), path))
        assignments.append((var, key))
    if report.missing and not ignore_missing_vars:
        shown = ", ".join(report.missing[:5]) + (" ..." if len(report.missing) > 5 else "")
        raise ValueError(f"{len(report.missing)} model variables are not in checkpoint {path!r}: "
                         f"{shown}. Pass ignore_missing_vars=True (--ignore_missing_vars) to skip them, "
                         "or check --model_name.")
    for var, key in assignments:
        var.assign(tf.cast(reader.get_tensor(key), var.dtype))
        report.restored.append(key[:-len(EMA_SUFFIX)] if key.endswith(EMA_SUFFIX) else key)
    used = set(report.restored) | set(report.excluded)
    report.unused = sorted(n for n in shapes
                           if n not in used and not n.endswith(EMA_SUFFIX) and n != "global_step")
    return report


def _mismatch_message(name: str, ckpt_shape, model_shape, path: str) -> str:
    hint = ("exclude the logits scope (--checkpoint_exclude_scopes) to fine-tune to a new class "
            "count")
    if ckpt_shape and model_shape and ckpt_shape[:-1] == model_shape[:-1]:
        diff = int(ckpt_shape[-1]) - int(model_shape[-1])
        if diff == 1:
            hint = ("the checkpoint has a background class (1001 outputs): build with 1001 classes, "
                    "or use --labels_offset=1 on a 1001-class dataset, or " + hint)
        elif diff == -1:
            hint = ("the checkpoint has 1000 outputs (no background class): use --labels_offset=1, or "
                    + hint)
    return (f"Shape mismatch for variable {name!r}: checkpoint {path!r} has {list(ckpt_shape)}, "
            f"the model has {list(model_shape)}. Likely fix: {hint}.")


def save_slim_checkpoint(model, checkpoint_prefix: str,
                         extra: Dict[str, tf.Tensor] | None = None) -> str:
    """Writes the model's variables under their slim names (name-based V2 format).

    Readable by :func:`restore_slim_checkpoint`, ``tf.train.load_checkpoint`` and
    a TF1 ``tf.compat.v1.train.Saver`` on slim's graph. Returns the prefix.
    """
    model.ensure_built()
    tensors = {name: var.read_value() for name, var in model.slim_variables().items()}
    for name, value in (extra or {}).items():
        tensors[name] = tf.convert_to_tensor(value)
    names = sorted(tensors)
    tf.io.gfile.makedirs(os.path.dirname(checkpoint_prefix) or ".")
    tf.raw_ops.SaveV2(prefix=checkpoint_prefix, tensor_names=names,
                      shape_and_slices=[""] * len(names), tensors=[tensors[n] for n in names])
    return checkpoint_prefix
