"""slim's --moving_average_decay: tf.train.ExponentialMovingAverage over the model variables.

Why not tf_keras's ``Optimizer(use_ema=True)``:
  * it averages only the variables handed to ``apply_gradients`` (with
    --trainable_scopes a subset) and never BatchNorm's moving statistics; slim
    averaged ``slim.get_model_variables()``, i.e. all of them;
  * it has no ``num_updates`` warm-up; slim passed ``global_step``, so the decay
    is ``min(decay, (1 + step) / (10 + step))``;
  * ``Model.fit`` calls ``finalize_variable_values`` at the end of every fit,
    overwriting the raw weights with the averages, so a checkpoint written after
    ``fit`` (and any resumed run) would continue from the averages, not the
    raw weights slim kept training.

Here the shadows live in a module checkpointed beside the net and optimizer
(so a resumed run restores them), keyed by slim variable name, and are copied
into the net only once training is over (for eval and export, as slim's eval
restored ``<name>/ExponentialMovingAverage``).
"""
from __future__ import annotations

from typing import Dict, Mapping

import tensorflow as tf


class _Refs:
    """Holds the averaged variables without making them checkpoint dependencies of the EMA."""

    def __init__(self, variables):
        self.variables = list(variables)


class MovingAverages(tf.Module):
    """Shadow copies of ``variables`` updated like tf.train.ExponentialMovingAverage.

    ``shadows`` maps slim name → shadow variable. Shadows are created with
    ``ONLY_FIRST_REPLICA`` aggregation: under a distribution strategy the first
    replica's update is applied everywhere (the weights are identical on all
    replicas after the all-reduce; BatchNorm statistics come from the first
    replica, as slim took BN updates from its first clone).
    """

    def __init__(self, variables: Mapping[str, tf.Variable], decay: float):
        super().__init__(name="ExponentialMovingAverage")
        self.decay = float(decay)
        self._names = sorted(variables)
        self._refs = _Refs(variables[n] for n in self._names)
        self.shadows = {
            name: tf.Variable(_initial_value(var), trainable=False,
                              name=name.replace("/", "_") + "_ema",
                              aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
            for name, var in zip(self._names, self._refs.variables)}

    def decay_at(self, step) -> tf.Tensor:
        """The effective decay at ``step``: ``min(decay, (1 + step) / (10 + step))``."""
        step = tf.cast(step, tf.float32)
        return tf.minimum(self.decay, (1.0 + step) / (10.0 + step))

    def apply(self, step) -> None:
        """shadow -= (1 - decay) * (shadow - value) for every variable (train step, replica context)."""
        one_minus = 1.0 - self.decay_at(step)
        for name, var in zip(self._names, self._refs.variables):
            shadow = self.shadows[name]
            shadow.assign_sub((shadow - tf.cast(var, shadow.dtype)) * tf.cast(one_minus, shadow.dtype))

    def reset(self) -> None:
        """Sets every shadow to its variable's current value (after a fine-tuning restore)."""
        for name, var in zip(self._names, self._refs.variables):
            self.shadows[name].assign(_initial_value(var))

    def copy_to_variables(self) -> None:
        """Overwrites the averaged variables with their shadows (cross-replica context)."""
        for name, var in zip(self._names, self._refs.variables):
            var.assign(tf.cast(self.shadows[name], var.dtype))

    def values(self) -> Dict[str, tf.Tensor]:
        """{slim name: shadow value}."""
        return {name: tf.convert_to_tensor(shadow) for name, shadow in self.shadows.items()}


def _initial_value(var: tf.Variable) -> tf.Tensor:
    return tf.identity(var.read_value())
