"""slim's optimizers and learning-rate decay (train_image_classifier.py) in tf_keras."""
from __future__ import annotations

import tf_keras

from trainer.config import TrainConfig

OPTIMIZERS = ("adadelta", "adagrad", "adam", "ftrl", "momentum", "sgd", "rmsprop")
DECAY_TYPES = ("exponential", "fixed", "polynomial")


def decay_steps(config: TrainConfig, num_samples_per_epoch: int) -> int:
    """Steps per decay period from the GLOBAL batch size.

    slim computed ``num_samples * num_epochs_per_decay / batch_size`` with the
    per-clone batch, so with N clones it decayed N times too slowly. Here
    ``batch_size`` is the global batch, which is what an epoch actually consumes.
    """
    return max(1, int(num_samples_per_epoch * config.num_epochs_per_decay / config.batch_size))


def learning_rate_schedule(config: TrainConfig, num_samples_per_epoch: int):
    """slim's _configure_learning_rate: exponential (staircase), fixed or polynomial (power 1)."""
    kind = config.learning_rate_decay_type
    if kind == "fixed":
        return config.learning_rate
    steps = decay_steps(config, num_samples_per_epoch)
    if kind == "exponential":
        return tf_keras.optimizers.schedules.ExponentialDecay(
            config.learning_rate, steps, config.learning_rate_decay_factor, staircase=True)
    if kind == "polynomial":
        return tf_keras.optimizers.schedules.PolynomialDecay(
            config.learning_rate, steps, config.end_learning_rate, power=1.0, cycle=False)
    raise ValueError(f"learning_rate_decay_type [{kind}] was not recognized; use one of {DECAY_TYPES}")


def build_optimizer(config: TrainConfig, learning_rate) -> tf_keras.optimizers.Optimizer:
    """slim's _configure_optimizer with slim's flag names.

    ``moving_average_decay`` turns on the optimizer's EMA of the trainable weights
    (swapped into the model before export/eval, as slim's eval restored shadows).
    """
    ema = {}
    if config.moving_average_decay:
        ema = {"use_ema": True, "ema_momentum": config.moving_average_decay}
    name = config.optimizer
    if name == "adadelta":
        return tf_keras.optimizers.Adadelta(learning_rate, rho=config.adadelta_rho,
                                            epsilon=config.opt_epsilon, **ema)
    if name == "adagrad":
        return tf_keras.optimizers.Adagrad(
            learning_rate, initial_accumulator_value=config.adagrad_initial_accumulator_value, **ema)
    if name == "adam":
        return tf_keras.optimizers.Adam(learning_rate, beta_1=config.adam_beta1,
                                        beta_2=config.adam_beta2, epsilon=config.opt_epsilon, **ema)
    if name == "ftrl":
        return tf_keras.optimizers.Ftrl(
            learning_rate, learning_rate_power=config.ftrl_learning_rate_power,
            initial_accumulator_value=config.ftrl_initial_accumulator_value,
            l1_regularization_strength=config.ftrl_l1, l2_regularization_strength=config.ftrl_l2,
            **ema)
    if name == "momentum":
        return tf_keras.optimizers.SGD(learning_rate, momentum=config.momentum, **ema)
    if name == "sgd":
        return tf_keras.optimizers.SGD(learning_rate, **ema)
    if name == "rmsprop":
        return tf_keras.optimizers.RMSprop(learning_rate, rho=config.rmsprop_decay,
                                           momentum=config.rmsprop_momentum,
                                           epsilon=config.opt_epsilon, **ema)
    raise ValueError(f"Optimizer [{name}] was not recognized; use one of {OPTIMIZERS}")
