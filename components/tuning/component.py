"""Tuner: TFX's Tuner component with an executor that also records every trial.

    tuner = Tuner(tuner_fn="trainer.tuner_fn.tuner_fn", examples=..., transform_graph=...,
                  schema=..., train_args=TrainArgs(num_steps=steps_per_trial), custom_config=...)
    trainer = Trainer(..., hyperparameters=tuner.outputs["best_hyperparameters"])

Inputs, parameters and outputs are TFX's (``best_hyperparameters``, ``tuner_results``);
the ``tuner_results`` artifact also holds ``trials.json`` (components/tuning/executor.py),
which the run report shows.
"""
from tfx.components.tuner import component as tfx_tuner
from tfx.dsl.components.base import executor_spec

from components.tuning.executor import Executor


class Tuner(tfx_tuner.Tuner):
    """TFX's Tuner; see the module docstring."""

    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)
