"""The hyperparameter search of a run config's ``tuner:`` block, as KerasTuner sees it.

    tuner:
      algorithm: random          # random | bayesian | hyperband (KerasTuner's oracles)
      max_trials: 6
      steps_per_trial: 200
      search:
        train.learning_rate: {min: 1.0e-4, max: 1.0e-1, sampling: log}
        train.opt_epsilon: {choices: [1.0, 1.0e-8]}

:class:`TunerConfig` is that block, typed (pipeline/tuner_config.py builds and checks
it). The Tuner component gets it in ``custom_config`` (:data:`TUNER_CONFIG_KEY`); a
hyperparameter is named by its config key (``train.opt_epsilon``), so the best values
that the Trainer receives map straight back onto TrainConfig fields (:func:`apply`).
No TensorFlow here: the run config imports this module.
"""
from __future__ import annotations

import dataclasses
import typing
from typing import Any, Dict, Literal, Optional, Tuple

from pydantic import Field

from trainer.config import ENUM_FIELDS, ConfigModel, TrainConfig, optional_of

# custom_config key of the Tuner component: TunerConfig.to_dict().
TUNER_CONFIG_KEY = "tuner_config"
Algorithm = Literal["random", "bayesian", "hyperband"]
ALGORITHMS = typing.get_args(Algorithm)
SAMPLINGS = ("linear", "log")
# What every trial is scored on: top-1 on the eval split (train_lib.evaluate's key).
OBJECTIVE = "eval_accuracy"
# Trial metric beside the objective: the steps the trial trained (Hyperband varies them).
STEPS = "steps"
PREFIX = "train."
# Numeric keys that are not training hyperparameters: the Transform graph and the data fix
# the image size, channels and label offset; steps come from steps_per_trial.
NOT_SEARCHABLE = ("train_image_size", "image_channels", "labels_offset", "max_number_of_steps",
                  "num_clones", "num_readers", "num_preprocessing_threads", "seed")


@dataclasses.dataclass(frozen=True)
class SearchParam:
    """One searched key: a list of ``choices``, or a range ``min``..``max`` with a sampling."""

    key: str  # 'train.<TrainConfig field>'
    choices: Optional[Tuple[Any, ...]] = None
    min: Optional[float] = None
    max: Optional[float] = None
    sampling: str = "linear"

    @property
    def field(self) -> str:
        return self.key[len(PREFIX):]

    def to_dict(self) -> Dict[str, Any]:
        if self.choices is not None:
            return {"choices": list(self.choices)}
        return {"min": self.min, "max": self.max, "sampling": self.sampling}


class TunerConfig(ConfigModel):
    """The ``tuner:`` block: KerasTuner algorithm, trial count, steps per trial, search space.

    For ``hyperband`` the trials get a share of ``steps_per_trial`` (successive halving
    trains the promising ones further, resuming from their checkpoints) and
    ``max_trials`` caps the number of trials.
    """

    search: Tuple[SearchParam, ...] = Field(
        description="The searched keys: `train.<key>: {min: ..., max: ..., sampling: linear|log}` "
                    "or `train.<key>: {choices: [...]}` (numeric and enum train keys; docs/tuning.md).")
    algorithm: Algorithm = Field("random", description="KerasTuner's oracle: RandomSearch, "
                                                       "BayesianOptimization or Hyperband.")
    max_trials: int = Field(10, ge=1, description="Trials at most.")
    steps_per_trial: int = Field(200, ge=1, description="Training steps of one trial (Hyperband: the "
                                                        "most a trial trains).")

    def to_dict(self) -> Dict[str, Any]:
        return {"algorithm": self.algorithm, "max_trials": self.max_trials,
                "steps_per_trial": self.steps_per_trial,
                "search": {p.key: p.to_dict() for p in self.search}}

    @classmethod
    def from_dict(cls, values: Dict[str, Any]) -> "TunerConfig":
        """The inverse of :meth:`to_dict` (for values already checked by the run config)."""
        search = tuple(SearchParam(key=key, choices=tuple(spec["choices"]) if "choices" in spec else None,
                                   min=spec.get("min"), max=spec.get("max"),
                                   sampling=spec.get("sampling", "linear"))
                       for key, spec in values["search"].items())
        return cls(search=search, algorithm=values["algorithm"], max_trials=int(values["max_trials"]),
                   steps_per_trial=int(values["steps_per_trial"]))


def field_kind(field: str) -> Optional[str]:
    """'enum', 'int' or 'float' for a searchable TrainConfig field; None for any other."""
    if field in ENUM_FIELDS:
        return "enum"
    if field in NOT_SEARCHABLE:
        return None
    if field not in TrainConfig.model_fields:
        return None
    return {int: "int", float: "float"}.get(optional_of(TrainConfig.model_fields[field].annotation)[0])


def hyperparameters(tuner: TunerConfig):
    """The search space as a ``keras_tuner.HyperParameters`` (names = config keys)."""
    import keras_tuner  # pylint: disable=import-outside-toplevel

    hp = keras_tuner.HyperParameters()
    for param in tuner.search:
        if param.choices is not None:
            hp.Choice(param.key, list(param.choices))
        elif field_kind(param.field) == "int":
            hp.Int(param.key, int(param.min), int(param.max), sampling=param.sampling)
        else:
            hp.Float(param.key, float(param.min), float(param.max), sampling=param.sampling)
    return hp


def tuned_values(hyperparameters_config: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """``{'train.opt_epsilon': 1e-08}`` from a KerasTuner HyperParameters config (what the
    Tuner writes and the Trainer gets as ``fn_args.hyperparameters``); the algorithm's own
    entries (Hyperband's ``tuner/epochs``) are left out. None → {}."""
    values = (hyperparameters_config or {}).get("values", {})
    return {key: value for key, value in values.items() if key.startswith(PREFIX)}


def apply(config: TrainConfig, values: Dict[str, Any]) -> TrainConfig:
    """``config`` with the searched keys (``train.<field>``) set to ``values``."""
    return config.replace(**{key[len(PREFIX):]: value for key, value in values.items()
                             if key.startswith(PREFIX)})
