"""The run config's optional ``tuner:`` block → :class:`trainer.search_space.TunerConfig`.

Every mistake is a :class:`pipeline.config_errors.ConfigError` naming the key
(``tuner.search.train.learning_rate: min 0.1 > max 0.001; ...``), raised while the
config is built, so ``tfslim run`` stops before any component. The block's settings are
checked by the TunerConfig model; each searched value is also checked the way the Trainer
will check it (TrainConfig.validate), so no trial can fail on a value the search was
allowed to pick.
"""
from __future__ import annotations

from typing import Any, Dict, Optional

from pipeline.config_errors import ConfigError, coerce, closest, validated
from trainer import search_space
from trainer.config import ENUM_FIELDS, TrainConfig
from trainer.search_space import PREFIX, SAMPLINGS, SearchParam, TunerConfig

TRAIN_FIELDS = TrainConfig.model_fields


def parse(values: Any, train: TrainConfig) -> Optional[TunerConfig]:
    """The checked TunerConfig of a ``tuner:`` mapping (None for an absent block).

    ``train`` is the run's train config: each candidate value is validated on it.
    """
    if values is None:
        return None
    if not isinstance(values, dict):
        raise ConfigError("tuner: expected a mapping (algorithm, max_trials, steps_per_trial, "
                          "search); see docs/tuning.md")
    settings = validated(TunerConfig, {**values, "search": ()}, "tuner.")
    search = values.get("search")
    if not isinstance(search, dict) or not search:
        raise ConfigError("tuner.search: give at least one key to search, e.g. "
                          "train.learning_rate: {min: 1.0e-4, max: 1.0e-1, sampling: log}")
    return settings.replace(search=tuple(_param(str(key), spec, train) for key, spec in search.items()))


def _param(key: str, spec: Any, train: TrainConfig) -> SearchParam:
    name = f"tuner.search.{key}"
    field = key[len(PREFIX):] if key.startswith(PREFIX) else None
    if field not in TRAIN_FIELDS:
        close = closest(field if field is not None else key, TRAIN_FIELDS)
        fix = f"did you mean {PREFIX}{close}?" if close else "search keys are train.<slim flag name>"
        raise ConfigError(f"{name}: no such key; {fix}")
    kind = search_space.field_kind(field)
    if field in search_space.NOT_SEARCHABLE:
        raise ConfigError(f"{name}: {key} cannot be searched (the data, the Transform graph or "
                          "the tuner itself fixes it); remove it from tuner.search")
    if kind is None:
        raise ConfigError(f"{name}: {key} is not a numeric or enum training option, so it cannot "
                          "be searched; remove it from tuner.search")
    if not isinstance(spec, dict):
        raise ConfigError(f"{name}: expected {{choices: [...]}} or {{min: ..., max: ..., "
                          f"sampling: linear|log}}, got {spec!r}")
    if "choices" in spec:
        return _choices(name, key, spec, train)
    return _range(name, key, kind, spec, train)


def _choices(name: str, key: str, spec: Dict[str, Any], train: TrainConfig) -> SearchParam:
    extra = sorted(set(spec) - {"choices"})
    if extra:
        raise ConfigError(f"{name}: choices cannot be combined with {', '.join(extra)}; give "
                          "either choices or min/max")
    raw = spec["choices"]
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{name}.choices: give a non-empty list, e.g. choices: [1.0, 1.0e-8]")
    field = key[len(PREFIX):]
    choices = []
    for value in raw:
        value = coerce(f"{name}.choices", value, TRAIN_FIELDS[field].annotation)
        if value is None:
            raise ConfigError(f"{name}.choices: null cannot be searched; list values only")
        if field in ENUM_FIELDS and value not in ENUM_FIELDS[field]:
            raise ConfigError(f"{name}.choices: {value!r} is not one of {', '.join(ENUM_FIELDS[field])}")
        _check_value(name, field, value, train)
        choices.append(value)
    if len(set(choices)) != len(choices):
        raise ConfigError(f"{name}.choices: {raw} lists a value twice")
    return SearchParam(key=key, choices=tuple(choices))


def _range(name: str, key: str, kind: str, spec: Dict[str, Any], train: TrainConfig) -> SearchParam:
    if kind == "enum":
        raise ConfigError(f"{name}: {key} takes one of {', '.join(ENUM_FIELDS[key[len(PREFIX):]])}; "
                          "search it with choices: [...], not a range")
    extra = sorted(set(spec) - {"min", "max", "sampling"})
    if extra or "min" not in spec or "max" not in spec:
        raise ConfigError(f"{name}: expected {{min: ..., max: ..., sampling: linear|log}} or "
                          f"{{choices: [...]}}, got {spec!r}")
    bounds = {b: coerce(f"{name}.{b}", spec[b], int if kind == "int" else float) for b in ("min", "max")}
    low, high = bounds["min"], bounds["max"]
    if low > high:
        raise ConfigError(f"{name}: min {low} > max {high}; swap them")
    sampling = coerce(f"{name}.sampling", spec.get("sampling", "linear"), str)
    if sampling not in SAMPLINGS:
        raise ConfigError(f"{name}.sampling: {sampling!r} is not one of {', '.join(SAMPLINGS)}")
    if sampling == "log" and low <= 0:
        raise ConfigError(f"{name}: log sampling needs min > 0, got {low}; use sampling: linear")
    field = key[len(PREFIX):]
    for value in (low, high):
        _check_value(name, field, value, train)
    return SearchParam(key=key, min=low, max=high, sampling=sampling)


def _check_value(name: str, field: str, value: Any, train: TrainConfig) -> None:
    """TrainConfig.validate on the run's train config with ``field`` = ``value``."""
    try:
        train.replace(**{field: value, "max_number_of_steps": 1}).validate()
    except ValueError as e:
        raise ConfigError(f"{name}: {value!r} cannot be trained ({e})") from None
