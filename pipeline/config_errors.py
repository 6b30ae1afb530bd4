"""ConfigError and the one-line messages of the run config's checks.

pydantic validates the config models (pipeline/configs.py, trainer/config.py); this module
turns its ValidationError into the one line a user reads: the key path (from the error's
``loc``), what was wrong and the fix, e.g. ``unknown key 'train.optimiser'; did you mean
train.optimizer?`` or ``train.optimizer: 'adamw' is not one of adadelta, ...; did you mean
'adam'?``.
"""
from __future__ import annotations

import difflib
from typing import Any, Iterable, Optional, Sequence, Type, TypeVar

import pydantic

Model = TypeVar("Model", bound=pydantic.BaseModel)


class ConfigError(ValueError):
    """A bad run config; the message is one line naming the key and the fix."""


def closest(value: Any, known: Iterable[str]) -> Optional[str]:
    """The one of ``known`` that ``value`` was probably meant to be (None when none is close)."""
    close = difflib.get_close_matches(str(value), list(known), n=1, cutoff=0.6)
    return close[0] if close else None


def unknown_key(key: str, known: Sequence[str]) -> ConfigError:
    """``unknown key 'train.optimiser'; did you mean train.optimizer?`` (or the known keys)."""
    prefix, _, name = key.rpartition(".")
    close = closest(name, known)
    fix = (f"did you mean {prefix + '.' if prefix else ''}{close}?" if close
           else f"known keys{' under ' + prefix if prefix else ''}: {', '.join(sorted(known))}")
    return ConfigError(f"unknown key {key!r}; {fix}")


_LIST = "a list (YAML [a, b] or a,b)"
# pydantic error type → what the key takes.
_EXPECTED = {"int_type": "an integer", "int_parsing": "an integer", "int_from_float": "an integer",
             "float_type": "a number", "float_parsing": "a number", "bool_type": "true or false",
             "bool_parsing": "true or false", "string_type": "a string", "tuple_type": _LIST,
             "list_type": _LIST, "model_type": "a mapping", "dict_type": "a mapping",
             "model_attributes_type": "a mapping"}
_BOUNDS = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}


def _path(loc: Sequence[Any], prefix: str) -> str:
    """``prefix`` + the dotted key path of ``loc`` (list items as ``key[i]``)."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) and path else f"{'.' if path else ''}{part}"
    return prefix + path


def _known_keys(model: Type[pydantic.BaseModel], loc: Sequence[Any]) -> Sequence[str]:
    """The keys of the (nested) block that ``loc`` points into."""
    for part in loc[:-1]:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        nested = getattr(field, "annotation", None)
        if not (isinstance(nested, type) and issubclass(nested, pydantic.BaseModel)):
            return ()
        model = nested
    return list(model.model_fields)


def one_line(error: pydantic.ValidationError, model: Type[pydantic.BaseModel], prefix: str = "") -> str:
    """The first error of ``error`` as one line naming the key path (``prefix`` + the path:
    ``train.`` + ``optimizer``, ``--`` + ``optimizer`` for a flag) and the fix."""
    first = error.errors(include_url=False)[0]
    kind, loc, value, ctx = first["type"], first["loc"], first.get("input"), first.get("ctx") or {}
    key = _path(loc, prefix)
    if kind == "extra_forbidden":
        return str(unknown_key(key, _known_keys(model, loc)))
    if kind == "literal_error":
        allowed = [str(a).strip("'") for a in ctx.get("expected", "").replace(" or ", ", ").split(", ")]
        close = closest(value, allowed)
        return f"{key}: {value!r} is not one of {', '.join(allowed)}" + (f"; did you mean {close!r}?" if close else "")
    if kind in _EXPECTED:
        got = f"{type(value).__name__} {value!r}" if _EXPECTED[kind] == "a mapping" else repr(value)
        return f"{key}: expected {_EXPECTED[kind]}, got {got}"
    if kind in _BOUNDS:
        return f"{key}: must be {_BOUNDS[kind]} {next(iter(ctx.values()))}, got {value!r}"
    if kind == "missing":
        return f"{key}: a value is required"
    message = str(ctx.get("error", first["msg"])) if kind == "value_error" else first["msg"]
    return f"{key}: {message}"


def validated(model: Type[Model], values: Any, prefix: str = "") -> Model:
    """``model`` built from ``values``, or ConfigError (one line; keys spelled ``prefix + key``)."""
    try:
        return model.model_validate(values)
    except pydantic.ValidationError as error:
        raise ConfigError(one_line(error, model, prefix)) from None


def coerce(key: str, value: Any, annotation: Any) -> Any:
    """``value`` (from YAML or a --set string) as ``annotation`` says, or ConfigError naming ``key``."""
    try:
        return pydantic.TypeAdapter(annotation).validate_python(value)
    except pydantic.ValidationError as error:
        raise ConfigError(one_line(error, pydantic.BaseModel, key)) from None
