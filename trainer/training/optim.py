"""slim's optimizers and learning-rate decay (train_image_classifier.py) in tf_keras.

slim built its optimizers from ``tf.compat.v1.train``; the tf_keras ones match
them update for update except in two places, fixed here by small subclasses:

* RMSProp: TF1 starts the mean-square slot at 1.0, Keras at 0.0. With slim's
  default ``opt_epsilon=1.0`` this changes the first hundreds of steps.
* Momentum: TF1 accumulates gradients (``a = m*a + g; w -= lr*a``) while Keras
  accumulates learning-rate-scaled steps; they differ whenever the rate decays.

tests/trainer/training/test_train_optim.py checks every optimizer and decay type
against ``tf.compat.v1.train`` step by step.
"""
from __future__ import annotations

from typing import Union

import tensorflow as tf
import tf_keras

from trainer.config import DECAY_TYPES, OPTIMIZERS, TrainConfig

__all__ = ["OPTIMIZERS", "DECAY_TYPES", "decay_steps", "learning_rate_schedule",
           "build_optimizer", "SlimLearningRate", "SlimRMSprop", "SlimMomentum"]


def decay_steps(config: TrainConfig, num_samples_per_epoch: int) -> int:
    """Steps per decay period from the GLOBAL batch size.

    slim computed ``num_samples * num_epochs_per_decay / batch_size`` with the
    per-clone batch, so with N clones it decayed N times too slowly. Here
    ``batch_size`` is the global batch, which is what an epoch actually consumes.
    """
    return max(1, int(num_samples_per_epoch * config.num_epochs_per_decay / config.batch_size))


@tf_keras.utils.register_keras_serializable(package="tfslim")
class SlimLearningRate(tf_keras.optimizers.schedules.LearningRateSchedule):
    """slim's _configure_learning_rate as a schedule of the (pre-increment) step.

    exponential: ``lr * factor ** floor(step / decay_steps)`` (staircase);
    polynomial: linear from ``lr`` to ``end_lr`` over ``decay_steps``, then flat;
    fixed: ``lr``. ``warmup_steps > 0`` (slim master's --warmup_epochs) caps the
    rate with the ramp ``lr * step / warmup_steps``.
    """

    def __init__(self, kind: str, learning_rate: float, decay_steps: int = 1,
                 decay_factor: float = 0.94, end_learning_rate: float = 0.0001,
                 warmup_steps: float = 0.0):
        super().__init__()
        if kind not in DECAY_TYPES:
            raise ValueError(f"learning_rate_decay_type [{kind}] was not recognized; use one of "
                             f"{list(DECAY_TYPES)}")
        self.kind = kind
        self.learning_rate = float(learning_rate)
        self.decay_steps = int(decay_steps)
        self.decay_factor = float(decay_factor)
        self.end_learning_rate = float(end_learning_rate)
        self.warmup_steps = float(warmup_steps)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        lr = tf.constant(self.learning_rate, tf.float32)
        if self.kind == "exponential":
            lr = lr * tf.pow(self.decay_factor, tf.floor(step / self.decay_steps))
        elif self.kind == "polynomial":
            fraction = tf.minimum(step, float(self.decay_steps)) / self.decay_steps
            lr = (lr - self.end_learning_rate) * (1.0 - fraction) + self.end_learning_rate
        if self.warmup_steps > 0:
            lr = tf.minimum(self.learning_rate * step / self.warmup_steps, lr)
        return lr

    def get_config(self) -> dict:
        return {"kind": self.kind, "learning_rate": self.learning_rate,
                "decay_steps": self.decay_steps, "decay_factor": self.decay_factor,
                "end_learning_rate": self.end_learning_rate, "warmup_steps": self.warmup_steps}


def learning_rate_schedule(config: TrainConfig, num_samples_per_epoch: int) -> SlimLearningRate:
    """The schedule for ``config`` on a split of ``num_samples_per_epoch`` images."""
    steps_per_epoch = num_samples_per_epoch / config.batch_size
    return SlimLearningRate(
        config.learning_rate_decay_type, config.learning_rate,
        decay_steps=decay_steps(config, num_samples_per_epoch),
        decay_factor=config.learning_rate_decay_factor,
        end_learning_rate=config.end_learning_rate,
        warmup_steps=steps_per_epoch * config.warmup_epochs)


@tf_keras.utils.register_keras_serializable(package="tfslim")
class SlimRMSprop(tf_keras.optimizers.RMSprop):
    """RMSprop with TF1's mean-square slot initialised to ones (tf.compat.v1.train.RMSPropOptimizer)."""

    def build(self, var_list):
        if getattr(self, "_built", False):
            return
        # Skip RMSprop.build (zero-initialised slots); the base build indexes variables.
        super(tf_keras.optimizers.RMSprop, self).build(var_list)
        self._built = True
        self._velocities = [self.add_variable_from_reference(
            v, "velocity", initial_value=tf.ones(v.shape, v.dtype)) for v in var_list]
        self._momentums = ([self.add_variable_from_reference(v, "momentum") for v in var_list]
                           if self.momentum > 0 else [])
        self._average_gradients = ([self.add_variable_from_reference(v, "average_gradient")
                                    for v in var_list] if self.centered else [])


@tf_keras.utils.register_keras_serializable(package="tfslim")
class SlimMomentum(tf_keras.optimizers.SGD):
    """tf.compat.v1.train.MomentumOptimizer: ``a = momentum * a + g; w -= lr * a``."""

    def update_step(self, gradient, variable):
        lr = tf.cast(self.learning_rate, variable.dtype)
        momentum = tf.cast(self.momentum, variable.dtype)
        accumulator = self.momentums[self._index_dict[self._var_key(variable)]]
        gradient = tf.convert_to_tensor(gradient)
        accumulator.assign(accumulator * momentum + gradient)
        variable.assign_sub(lr * accumulator)


LearningRate = Union[float, tf_keras.optimizers.schedules.LearningRateSchedule]


def build_optimizer(config: TrainConfig, learning_rate: LearningRate) -> tf_keras.optimizers.Optimizer:
    """slim's _configure_optimizer with slim's flag names and TF1 update rules.

    The moving average of the weights (--moving_average_decay) is not the
    optimizer's ``use_ema``: see trainer/training/ema.py for why.
    """
    name = config.optimizer
    if name == "adadelta":
        return tf_keras.optimizers.Adadelta(learning_rate, rho=config.adadelta_rho,
                                            epsilon=config.opt_epsilon)
    if name == "adagrad":
        # TF1 Adagrad has no epsilon; Keras adds it inside the sqrt, so keep it negligible.
        return tf_keras.optimizers.Adagrad(
            learning_rate, initial_accumulator_value=config.adagrad_initial_accumulator_value,
            epsilon=1e-12)
    if name == "adam":
        return tf_keras.optimizers.Adam(learning_rate, beta_1=config.adam_beta1,
                                        beta_2=config.adam_beta2, epsilon=config.opt_epsilon)
    if name == "ftrl":
        return tf_keras.optimizers.Ftrl(
            learning_rate, learning_rate_power=config.ftrl_learning_rate_power,
            initial_accumulator_value=config.ftrl_initial_accumulator_value,
            l1_regularization_strength=config.ftrl_l1, l2_regularization_strength=config.ftrl_l2)
    if name == "momentum":
        return SlimMomentum(learning_rate, momentum=config.momentum, name="Momentum")
    if name == "sgd":
        return tf_keras.optimizers.SGD(learning_rate)
    if name == "rmsprop":
        return SlimRMSprop(learning_rate, rho=config.rmsprop_decay, momentum=config.rmsprop_momentum,
                           epsilon=config.opt_epsilon)
    raise ValueError(f"Optimizer [{name}] was not recognized; use one of {list(OPTIMIZERS)}")
