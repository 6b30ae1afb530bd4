"""slim's command-line flags, defined from the config models (one home for names, defaults, help).

`tfslim train`, `eval` and `export` take slim's flag names. The ones that are training keys
come from :class:`trainer.config.TrainConfig`, the dataset and input flags of slim's scripts
from :class:`SlimFlags`; each command picks its fields and may give one a slim name of its
own (``train_image_size`` is eval's ``--eval_image_size``) or slim's default for that script
(eval's ``--batch_size=100``). slim flags that mean nothing in TF2 are :data:`UNSUPPORTED`:
they are accepted, and a value other than the default stops the command with the reason.
"""
from __future__ import annotations

import sys
from typing import Any, Dict, Iterable, Mapping, Optional, Type

import pydantic
from absl import flags
from pydantic import Field

from trainer.config import choices, is_sequence, optional_of

FLAGS = flags.FLAGS
_NO_OVERRIDES: Mapping[str, Any] = {}


class SlimFlags(pydantic.BaseModel):
    """The flags of slim's train/eval/export scripts that are not training keys."""

    dataset_name: str = Field("imagenet", description="Dataset name: the prefix of its TFRecord files.")
    dataset_split_name: str = Field("train", description="The split to read.")
    dataset_dir: Optional[str] = Field(None, description="Directory of the `tfslim convert` output "
                                                         "(TFRecords, labels.txt) or a TFX Examples uri.")
    use_grayscale: bool = Field(False, description="1-channel grayscale images (e.g. MNIST LeNet).")
    num_classes: Optional[int] = Field(
        None, description="Model outputs; default: the classes of labels.txt in --dataset_dir - "
                          "labels_offset (export: else the net's, 1001 for ImageNet nets).")


# slim flags without a TF2 meaning: name → (default, help, why another value stops the command).
UNSUPPORTED = {
    "master": ("", "Not in TF2 (no session master).",
               "TF2 has no session master; training on several machines uses --strategy=multi_worker "
               "with TF_CONFIG, evaluation runs in this process"),
    "task": (0, "Not in TF2: the task index comes from TF_CONFIG.",
             "the task index comes from TF_CONFIG's task.index with --strategy=multi_worker; set "
             "TF_CONFIG instead"),
    "num_ps_tasks": (0, "Parameter servers: not supported (use --strategy).",
                     "parameter servers are not supported; use --strategy=multi_worker with TF_CONFIG"),
    "sync_replicas": (False, "Not in TF2: all-reduce training is synchronous.",
                      "SyncReplicasOptimizer does not exist in TF2; --strategy's all-reduce training is "
                      "always synchronous, so drop the flag"),
    "replicas_to_aggregate": (1, "Not in TF2: all-reduce aggregates every replica.",
                              "SyncReplicasOptimizer does not exist in TF2; all-reduce aggregates every "
                              "replica's gradients each step"),
    "quantize_delay": (-1, "Quantization-aware training: not available in TF2.",
                       "quantization-aware training (tf.contrib.quantize) does not exist in TF2"),
    "quantize": (False, "Not in TF2 (tf.contrib.quantize); see `tfslim export --tflite`.",
                 "tf.contrib.quantize's fake-quant eval graph does not exist in TF2; `tfslim export "
                 "--tflite` writes a post-training int8 model (evaluate that instead)"),
    "num_preprocessing_threads": (4, "Not used: tf.data AUTOTUNE sets it.",
                                  "tf.data's AUTOTUNE chooses the preprocessing parallelism; drop the flag"),
}
_DEFINE = {bool: flags.DEFINE_boolean, int: flags.DEFINE_integer, float: flags.DEFINE_float}
# The UNSUPPORTED flags this process defined (tfslim imports one command's module).
_DEFINED_UNSUPPORTED = []


def define(model: Type[pydantic.BaseModel], fields: Iterable[str], module_name: str,
           names: Mapping[str, str] = _NO_OVERRIDES, defaults: Mapping[str, Any] = _NO_OVERRIDES,
           helps: Mapping[str, str] = _NO_OVERRIDES) -> None:
    """One absl flag per field of ``model`` in ``fields``, owned by ``module_name`` (its --help).

    The flag takes the field's name (or ``names[field]``), default (or ``defaults[field]``),
    description (or ``helps[field]``) and type: an enum flag for a Literal of strings, a
    comma-separated string for a list.
    """
    for field in fields:
        info = model.model_fields[field]
        name, help_text = names.get(field, field), helps.get(field, info.description)
        default = defaults.get(field, info.default)
        kind = optional_of(info.annotation)[0]
        allowed = choices(kind)
        if allowed:
            flags.DEFINE_enum(name, default, list(allowed), help_text, module_name=module_name)
        elif is_sequence(kind):
            flags.DEFINE_string(name, ",".join(default) or None, help_text, module_name=module_name)
        else:
            define_fn = _DEFINE.get(kind, flags.DEFINE_string)
            define_fn(name, default, help_text, module_name=module_name)


def values(model: Type[pydantic.BaseModel], fields: Iterable[str],
           names: Mapping[str, str] = _NO_OVERRIDES) -> Dict[str, Any]:
    """The parsed flags of ``fields`` as ``model`` keys (an unset list flag is left out)."""
    out = {}
    for field in fields:
        value = FLAGS[names.get(field, field)].value
        if value is not None or optional_of(model.model_fields[field].annotation)[1]:
            out[field] = value
    return out


def define_unsupported(names: Iterable[str], module_name: str) -> None:
    """The :data:`UNSUPPORTED` flags in ``names``, for slim command lines that pass them."""
    for name in names:
        default, help_text, _ = UNSUPPORTED[name]
        _DEFINED_UNSUPPORTED.append(name)
        _DEFINE.get(type(default), flags.DEFINE_string)(name, default, help_text, module_name=module_name)


def exit_on_unsupported(command: str) -> None:
    """Exits 1 naming the first :data:`UNSUPPORTED` flag given a value, and why it cannot work."""
    for name in _DEFINED_UNSUPPORTED:
        default, _, why = UNSUPPORTED[name]
        if FLAGS[name].value != default:
            sys.exit(f"tfslim {command}: --{name}: {why}.")
