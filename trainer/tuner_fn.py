"""The TFX Tuner's ``tuner_fn`` (dotted path ``trainer.tuner_fn.tuner_fn``): KerasTuner around train_lib.

A trial is one call of :func:`trainer.training.train_lib.train`, the function behind the
Trainer's run_fn and `tfslim train`: same net, preprocessing, input pipeline and
optimizer code, with the trial's values set on the run's train config, for
``steps_per_trial`` steps, scored by top-1 on the eval split (what train_lib
evaluates at the end). KerasTuner's oracles (random, bayesian, hyperband) pick the
values; :class:`SlimTuner` only runs a trial and reports its score and step count.
"""
from __future__ import annotations

import dataclasses
import logging
import os
from typing import Any, Dict, Optional, Sequence

import keras_tuner
import tensorflow as tf
from keras_tuner.engine import base_tuner
from tfx.components.trainer.fn_args_utils import FnArgs
from tfx.components.tuner.component import TunerFnResult

from schemas import labels as labels_lib
from trainer import search_space
from trainer.training import train_lib
from trainer.config import TRAIN_CONFIG_KEY, TrainConfig
from trainer.search_space import OBJECTIVE, STEPS, TUNER_CONFIG_KEY, TunerConfig

log = logging.getLogger(__name__)

# Hyperband: a trial trains 1/3 or all of steps_per_trial (factor 3, two brackets: one
# iteration is 6 trials); iterations repeat until max_trials.
HYPERBAND_FACTOR = 3
HYPERBAND_MAX_EPOCHS = 3
# Hyperband's entries in a trial's values: the budget and the trial to continue.
EPOCHS, PARENT = "tuner/epochs", "tuner/trial_id"


@dataclasses.dataclass(frozen=True)
class TrialData:
    """What every trial trains and is scored on (the Tuner's examples)."""

    train_files: Sequence[str]
    eval_files: Sequence[str]
    num_classes: int
    eval_steps: Optional[int] = None


def make_oracle(tuner: TunerConfig, seed: Optional[int]) -> keras_tuner.Oracle:
    """KerasTuner's oracle for ``tuner.algorithm`` over the search space, maximising top-1."""
    objective = keras_tuner.Objective(OBJECTIVE, direction="max")
    space = search_space.hyperparameters(tuner)
    if tuner.algorithm == "hyperband":
        oracle = keras_tuner.oracles.HyperbandOracle(
            objective=objective, max_epochs=HYPERBAND_MAX_EPOCHS, factor=HYPERBAND_FACTOR,
            hyperband_iterations=None, seed=seed, hyperparameters=space, allow_new_entries=False)
        # Hyperband has no trial budget of its own; the Oracle base class stops at max_trials.
        oracle.max_trials = tuner.max_trials
        return oracle
    oracle_class = {"random": keras_tuner.oracles.RandomSearchOracle,
                    "bayesian": keras_tuner.oracles.BayesianOptimizationOracle}[tuner.algorithm]
    return oracle_class(objective=objective, max_trials=tuner.max_trials, seed=seed,
                        hyperparameters=space, allow_new_entries=False)


class SlimTuner(base_tuner.BaseTuner):
    """A KerasTuner tuner whose trial is :func:`train_lib.train` on the run's train config."""

    def __init__(self, oracle: keras_tuner.Oracle, base: TrainConfig, data: TrialData,
                 steps_per_trial: int, **kwargs: Any):
        super().__init__(oracle, **kwargs)
        self.base = base
        self.data = data
        self.steps_per_trial = steps_per_trial

    def trial_steps(self, values: Dict[str, Any]) -> int:
        """``steps_per_trial``, or Hyperband's share of it (``tuner/epochs`` of its max)."""
        if EPOCHS not in values:
            return self.steps_per_trial
        return max(1, round(self.steps_per_trial * values[EPOCHS] / HYPERBAND_MAX_EPOCHS))

    def run_trial(self, trial, *fit_args, **fit_kwargs) -> Dict[str, float]:
        del fit_args, fit_kwargs
        values = trial.hyperparameters.values
        train_dir = os.path.join(self.get_trial_dir(trial.trial_id), "train")
        if values.get(PARENT):
            # Hyperband continues a promising trial: train_lib resumes from its checkpoint.
            copy_checkpoint(os.path.join(self.get_trial_dir(values[PARENT]), "train"), train_dir)
        config = search_space.apply(self.base, values).replace(
            max_number_of_steps=self.trial_steps(values), train_dir=train_dir)
        log.info("Trial %s: %s, %d steps", trial.trial_id, search_space.tuned_values(
            {"values": values}), config.max_number_of_steps)
        result = train_lib.train(config, self.data.train_files, self.data.num_classes,
                                 eval_files=self.data.eval_files, eval_steps=self.data.eval_steps)
        return {OBJECTIVE: result.history[OBJECTIVE], STEPS: float(result.steps)}


def copy_checkpoint(source_dir: str, target_dir: str) -> None:
    """Copies the checkpoint files of ``source_dir`` (not its summaries) into ``target_dir``."""
    tf.io.gfile.makedirs(target_dir)
    for path in tf.io.gfile.glob(os.path.join(source_dir, train_lib.CHECKPOINT_NAME + "-*")) + \
            [os.path.join(source_dir, "checkpoint")]:
        if not tf.io.gfile.isdir(path):
            tf.io.gfile.copy(path, os.path.join(target_dir, os.path.basename(path)), overwrite=True)


def tuner_fn(fn_args: FnArgs) -> TunerFnResult:
    """TFX Tuner entry point: a :class:`SlimTuner` over the run's train config and examples.

    ``custom_config`` holds the train config (as the Trainer gets it) and the tuner block;
    TrainArgs.num_steps is ``steps_per_trial``; trials are scored on the eval split.
    """
    custom = dict(fn_args.custom_config or {})
    base = TrainConfig.from_dict(custom.get(TRAIN_CONFIG_KEY, {}))
    tuner = TunerConfig.from_dict(custom[TUNER_CONFIG_KEY])
    labels = labels_lib.examples_labels(fn_args.train_files[0])
    data = TrialData(train_files=fn_args.train_files, eval_files=fn_args.eval_files,
                     num_classes=labels_lib.num_classes(labels, base.labels_offset),
                     eval_steps=fn_args.eval_steps)
    slim_tuner = SlimTuner(make_oracle(tuner, base.seed), base, data,
                           steps_per_trial=fn_args.train_steps or tuner.steps_per_trial,
                           directory=fn_args.working_dir, project_name="slim_tuner", overwrite=True)
    return TunerFnResult(tuner=slim_tuner, fit_kwargs={})
