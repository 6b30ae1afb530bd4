"""docs/config.md, generated from the run config's models (their types, defaults and descriptions).

    python -m pipeline.config_docs > docs/config.md

tests/config/test_config_docs.py fails when docs/config.md differs from :func:`render`, so the
reference can never drift from the keys the loader accepts.
"""
from __future__ import annotations

import typing
from typing import Any, List, Sequence, Type

import pydantic

from pipeline.configs import PipelineConfig
from trainer.config import TrainConfig, choices, is_sequence, optional_of
from trainer.search_space import TunerConfig

COMMAND = "python -m pipeline.config_docs > docs/config.md"
INTRO = f"""# Run config keys

<!-- Generated from pipeline/configs.py, trainer/config.py and trainer/search_space.py by
     `{COMMAND}`; edit the models' descriptions, not this file. -->

A run config is a YAML or JSON file (`configs/*.yaml` are the named ones: `tfslim run --config
demo`). Top-level keys configure the pipeline; `train:` holds slim's training flags under their
slim names; the optional `tuner:` block adds a hyperparameter search ([tuning.md](tuning.md)).
`tfslim run --set KEY=VALUE` overrides one key (`--set train.learning_rate=0.01`; a list as
`a,b`; `none` unsets an optional key). Every key is checked before any component runs: an unknown
key, a value of the wrong type or outside its choices, an unknown net, grayscale input for a
colour net, a missing checkpoint or a bad `labels_offset` stops the run with one line naming the
key. Left unset, `num_classes` comes from the data, `serving_model_name` from `train.model_name`
and the input size from the net.
"""
SECTIONS = (("Top-level keys", "", PipelineConfig),
            ("`train:` — slim's training flags (`tfslim train` takes the same names)", "train.", TrainConfig),
            ("`tuner:` — the optional hyperparameter search", "tuner.", TunerConfig))


def type_name(annotation: Any, metadata: Sequence[Any] = ()) -> str:
    """A key's type as a reader writes it: ``int >= 1``, ``one of a, b``, ``list of str``, ``float or none``."""
    kind, optional = optional_of(annotation)
    allowed = choices(kind)
    if allowed:
        text = "one of " + ", ".join(str(a) for a in allowed)
    elif is_sequence(kind):
        item = typing.get_args(kind)[0]
        text = "list of str" if item is str else "mapping of key: search spec"
    elif isinstance(kind, type) and issubclass(kind, pydantic.BaseModel):
        text = "mapping (below)"
    else:
        text = kind.__name__
    text += "".join(f" >= {m.ge}" for m in metadata if getattr(m, "ge", None) is not None)
    return f"{text} or none" if optional else text


def default_text(field: Any) -> str:
    if field.is_required():
        return "required"
    value = field.default
    if value is None:
        return "none"
    if isinstance(value, pydantic.BaseModel):
        return "(below)"
    if isinstance(value, tuple):
        return "`[" + ", ".join(str(v) for v in value) + "]`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`" if value != "" else "`''`"


def table(prefix: str, model: Type[pydantic.BaseModel]) -> List[str]:
    """One markdown row per key of ``model`` (keys spelled ``prefix + name``)."""
    rows = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        if not field.description:
            raise ValueError(f"{model.__name__}.{name} has no description; give its Field one")
        meaning = " ".join(field.description.split()).replace("|", "\\|")
        kind = type_name(field.annotation, field.metadata)
        rows.append(f"| `{prefix}{name}` | {kind} | {default_text(field)} | {meaning} |")
    return rows


def render() -> str:
    """The whole of docs/config.md."""
    lines = [INTRO]
    for title, prefix, model in SECTIONS:
        lines += [f"## {title}", ""] + table(prefix, model) + [""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(), end="")
