"""Run configs: one YAML/JSON file describes a pipeline run on every runner.

    config = run_config.load("configs/photos.yaml", ["train.learning_rate=0.01"],
                             data_root="photos")

Top-level keys are :class:`PipelineConfig` fields; under ``train:`` the slim flag
names (:class:`TrainConfig` fields). ``--set key=value`` overrides are typed by the
dataclass field. Everything is checked before any component runs
(:class:`ConfigError`: one line naming the key and the fix), and the facts that
belong to the data and the net are filled in here, not carried over from a preset:

  * ``num_classes`` (the schema's label domain) = the class folders of a
    ``folder`` source, or the slim dataset's count; the Trainer still reads the
    class names from the ExampleGen's labels.txt;
  * the image size is the net's default unless ``train.train_image_size`` is set;
  * ``serving_model_name`` is the net's name unless set.
"""
from __future__ import annotations

import collections.abc
import dataclasses
import difflib
import json
import os
import typing
from typing import Any, Dict, List, Optional, Sequence, Tuple

from pipeline.configs import RUN_PARAMETER_KEYS, PipelineConfig
from trainer.zoo import pretrained
from trainer.config import DECAY_TYPES, MIXED_PRECISION, OPTIMIZERS, STRATEGIES, TrainConfig

CONFIG_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs")
SOURCES = ("folder", "flowers", "cifar10", "mnist", "imagenet", "tfrecord")
# Preprocessing that works on one-channel images; the others distort colour or
# subtract RGB means and need three.
GRAYSCALE_PREPROCESSING = ("lenet", "cifarnet")
# TrainConfig keys that describe one net: an override of model_name resets them.
NET_KEYS = ("preprocessing_name", "train_image_size", "image_channels", "checkpoint_path",
            "checkpoint_exclude_scopes", "trainable_scopes", "dropout_keep_prob")
_ENUMS = {"train.optimizer": OPTIMIZERS, "train.learning_rate_decay_type": DECAY_TYPES,
          "train.mixed_precision": MIXED_PRECISION, "train.strategy": STRATEGIES,
          "source": SOURCES}


class ConfigError(ValueError):
    """A bad run config; the message is one line naming the key and the fix."""


def config_path(name_or_path: str) -> str:
    """``photos`` → ``configs/photos.yaml``; a file path is returned as is.

    A directory of the same name (``photos/`` holding the user's images is common) is not a
    config, so a bare name falls through to ``configs/``.
    """
    if os.path.isfile(name_or_path):
        return name_or_path
    for ext in (".yaml", ".yml", ".json"):
        candidate = os.path.join(CONFIG_DIR, name_or_path + ext)
        if os.path.exists(candidate):
            return candidate
    known = sorted(os.path.splitext(f)[0] for f in os.listdir(CONFIG_DIR))
    raise ConfigError(f"--config {name_or_path}: no such file, and no configs/{name_or_path}.yaml "
                      f"(named configs: {', '.join(known)})")


def read_file(path: str) -> Dict[str, Any]:
    """The mapping in a YAML or JSON file."""
    import yaml  # pylint: disable=import-outside-toplevel

    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise ConfigError(f"--config {path}: cannot read it ({e.strerror}); pass a YAML or JSON "
                          f"file or a name under configs/") from None
    try:
        values = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as e:
        raise ConfigError(f"{path}: not valid {'JSON' if path.endswith('.json') else 'YAML'}: "
                          f"{str(e).splitlines()[0]}") from None
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: expected a mapping of PipelineConfig keys, got "
                          f"{type(values).__name__}")
    return values


def _fields(cls) -> Dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


PIPELINE_FIELDS = _fields(PipelineConfig)
TRAIN_FIELDS = _fields(TrainConfig)


def _unknown(key: str, known: Sequence[str]) -> ConfigError:
    prefix, _, name = key.rpartition(".")
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    fix = f"did you mean {(prefix + '.' if prefix else '') + close[0]}?" if close else \
        f"known keys{' under train' if prefix else ''}: {', '.join(sorted(known))}"
    return ConfigError(f"unknown key {key!r}; {fix}")


def _strip_optional(kind):
    args = [a for a in typing.get_args(kind) if a is not type(None)]
    if typing.get_origin(kind) is typing.Union and len(args) == 1:
        return args[0], True
    return kind, False


def coerce(key: str, value: Any, kind) -> Any:
    """``value`` (from YAML or a --set string) as the field's type, or ConfigError."""
    kind, optional = _strip_optional(kind)
    if value is None or (optional and isinstance(value, str) and value.lower() in ("none", "null", "")):
        if optional:
            return None
        raise ConfigError(f"{key}: a value is required (it is not optional)")
    if typing.get_origin(kind) in (tuple, list, collections.abc.Sequence):
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)):
            raise ConfigError(f"{key}: expected a list (YAML [a, b] or a,b), got {value!r}")
        return tuple(str(item).strip() for item in items if str(item).strip())
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "1", "0"):
            return value.lower() in ("true", "yes", "1")
        raise ConfigError(f"{key}: expected true or false, got {value!r}")
    if kind is int:
        if isinstance(value, bool) or not _is_int(value):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        return int(value)
    if kind is float:
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{key}: expected a number, got {value!r}") from None
    if kind is str:
        if isinstance(value, (dict, list)):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return str(value)
    return value


def _is_int(value: Any) -> bool:
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, str) and value.strip().lstrip("-").isdigit()


def parse_override(text: str) -> Tuple[str, Any]:
    """``train.learning_rate=0.01`` → ('train.learning_rate', 0.01) (value read as YAML)."""
    import yaml  # pylint: disable=import-outside-toplevel

    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {text!r}: expected KEY=VALUE, e.g. --set train.learning_rate=0.01")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    # A string field keeps the literal text ('007' stays '007').
    return key.strip(), (raw if isinstance(value, (int, float)) and not isinstance(value, bool)
                         and _field_kind(key.strip()) is str else value)


def _field_kind(key: str):
    prefix, _, name = key.rpartition(".")
    fields = TRAIN_FIELDS if prefix == "train" else PIPELINE_FIELDS
    return _strip_optional(fields.get(name, object))[0]


def merge(values: Dict[str, Any], overrides: Sequence[str]) -> Tuple[Dict[str, Any], List[str]]:
    """Applies ``--set`` overrides; returns the merged mapping and the keys they set."""
    merged = {k: (dict(v) if isinstance(v, dict) else v) for k, v in values.items()}
    keys = []
    for text in overrides:
        key, value = parse_override(text)
        parts = key.split(".")
        if len(parts) == 2 and parts[0] in ("train", "tuner"):
            section = merged.get(parts[0]) or {}
            if not isinstance(section, dict):
                raise ConfigError(f"{parts[0]}: expected a mapping"
                                  + (" of slim flag names" if parts[0] == "train" else ""))
            merged[parts[0]] = {**section, parts[1]: value}
        elif len(parts) == 1:
            merged[key] = value
        else:
            raise _unknown(key, list(PIPELINE_FIELDS))
        keys.append(key)
    return merged, keys


def build(values: Dict[str, Any], overridden: Sequence[str] = ()) -> PipelineConfig:
    """Typed PipelineConfig from a mapping (unknown keys and bad types are ConfigError).

    When an override changes ``train.model_name``, the file's net-specific train
    keys (:data:`NET_KEYS`) that were not overridden too fall back to their defaults,
    so another net's input size, channels or checkpoint never carry over.
    """
    values = dict(values)
    train_values = values.pop("train", None) or {}
    tuner_values = values.pop("tuner", None)
    if not isinstance(train_values, dict):
        raise ConfigError("train: expected a mapping of slim flag names (model_name, optimizer, ...)")
    for key in values:
        if key not in PIPELINE_FIELDS:
            raise _unknown(key, list(PIPELINE_FIELDS))
    for key in train_values:
        if key not in TRAIN_FIELDS:
            raise _unknown(f"train.{key}", list(TRAIN_FIELDS))
    if "train.model_name" in overridden:
        train_values = {k: v for k, v in train_values.items()
                        if k not in NET_KEYS or f"train.{k}" in overridden}
    pipeline_kwargs = {k: coerce(k, v, PIPELINE_FIELDS[k]) for k, v in values.items()}
    train_kwargs = {k: coerce(f"train.{k}", v, TRAIN_FIELDS[k]) for k, v in train_values.items()}
    for key, allowed in _ENUMS.items():
        prefix, _, name = key.rpartition(".")
        value = (train_kwargs if prefix else pipeline_kwargs).get(name)
        if value is not None and value not in allowed:
            close = difflib.get_close_matches(str(value), allowed, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ConfigError(f"{key}: {value!r} is not one of {', '.join(allowed)}; {hint}".rstrip("; "))
    if "beam_pipeline_args" in pipeline_kwargs:
        pipeline_kwargs["beam_pipeline_args"] = tuple(pipeline_kwargs["beam_pipeline_args"])
    if "run_parameters" in pipeline_kwargs:
        pipeline_kwargs["run_parameters"] = _run_parameters(pipeline_kwargs["run_parameters"])
    train = TrainConfig(**train_kwargs)
    if tuner_values is not None:
        from pipeline import tuner_config  # pylint: disable=import-outside-toplevel  # (imports this module)

        pipeline_kwargs["tuner"] = tuner_config.parse(tuner_values, train)
    if "serving_model_name" not in pipeline_kwargs:
        pipeline_kwargs["serving_model_name"] = train.model_name
    return PipelineConfig(train=train, **pipeline_kwargs)


def _run_parameters(keys: Sequence[str]) -> Tuple[str, ...]:
    """The run-parameter keys, spelled as RUN_PARAMETER_KEYS spells them (``learning_rate`` is
    ``train.learning_rate``); ConfigError for a key that cannot be one."""
    by_name = {key.rpartition(".")[2]: key for key in RUN_PARAMETER_KEYS}
    out = []
    for key in keys:
        full = key if key in RUN_PARAMETER_KEYS else by_name.get(key)
        if full is None:
            raise ConfigError(f"run_parameters: {key!r} cannot be a run parameter; use some of "
                              f"{', '.join(RUN_PARAMETER_KEYS)}")
        out.append(full)
    return tuple(dict.fromkeys(out))


def dataset_num_classes(config: PipelineConfig) -> Optional[int]:
    """Classes the ExampleGen will find: class folders of a local folder tree, or slim's count."""
    import schemas  # pylint: disable=import-outside-toplevel

    if config.source in schemas.DATASET_NUM_CLASSES:
        return schemas.DATASET_NUM_CLASSES[config.source]
    if config.source == "folder" and os.path.isdir(config.data_root):
        return len(_class_folders(config.data_root))
    return None


def _class_folders(root: str) -> List[str]:
    # The folder source's rule (ingestion/sources/folder.py).
    from ingestion.sources.folder import FolderSource  # pylint: disable=import-outside-toplevel

    try:
        return FolderSource(root).class_names()
    except (ValueError, FileNotFoundError) as e:
        raise ConfigError(f"data_root: {e}") from None


def validate(config: PipelineConfig, check_net: bool = True) -> PipelineConfig:
    """Raises ConfigError for what would fail later in a component; returns ``config``.

    ``check_net=False`` skips the checks that load the model zoo (model name,
    preprocessing, channels, input size), for code that must not (DAG compilation).
    """
    if check_net:
        _check_net(config.train)
    _check_rest(config)
    return config


def _check_net(train: TrainConfig) -> None:
    from trainer import nets  # pylint: disable=import-outside-toplevel
    from trainer import preprocessing  # pylint: disable=import-outside-toplevel

    try:
        spec = nets.get_spec(train.model_name)
    except ValueError:
        close = difflib.get_close_matches(train.model_name, nets.list_models(), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ConfigError(f"train.model_name: unknown network {train.model_name!r}; {hint}"
                          "`tfslim models` lists them") from None
    preprocessing_name = train.preprocessing_name or spec.preprocessing
    try:
        family = preprocessing.module_name(preprocessing_name)
    except ValueError:
        raise ConfigError(f"train.preprocessing_name: unknown {preprocessing_name!r}; use one of "
                          f"{', '.join(preprocessing.PREPROCESSING_MODULES)} or a net's name") from None
    if train.image_channels == 1 and family not in GRAYSCALE_PREPROCESSING:
        raise ConfigError(
            f"train.image_channels: 1, but {train.model_name}'s {family!r} preprocessing needs 3 "
            f"channels (colour distortion / RGB means); remove image_channels (default 3) or use "
            f"a net with lenet/cifarnet preprocessing")
    size = train.train_image_size or spec.default_image_size
    if spec.min_image_size and size < spec.min_image_size:
        raise ConfigError(f"train.train_image_size: {size} is below {train.model_name}'s smallest "
                          f"input {spec.min_image_size}; set train_image_size >= {spec.min_image_size}")


def _check_rest(config: PipelineConfig) -> None:
    train = config.train
    if train.image_channels not in (1, 3):
        raise ConfigError(f"train.image_channels: {train.image_channels}; use 3 (colour) or 1 (grayscale)")
    for key in ("train_steps", "train_buckets", "eval_buckets"):
        if getattr(config, key) < 1:
            raise ConfigError(f"{key}: must be >= 1, got {getattr(config, key)}")
    if train.batch_size < 1:
        raise ConfigError(f"train.batch_size: must be >= 1, got {train.batch_size}")
    if not 0.0 <= config.accuracy_threshold <= 1.0:
        raise ConfigError(f"accuracy_threshold: {config.accuracy_threshold} is a top-1 fraction; "
                          "use a value in [0, 1]")
    _check_checkpoint(train)
    _check_labels_offset(config)
    _check_infer_root(config.infer_root)


def _check_infer_root(root: Optional[str]) -> None:
    # An object store folder is read by the BatchPredict step itself.
    if root is not None and "://" not in root and not os.path.isdir(root):
        raise ConfigError(f"infer_root: {root} is not a directory; give the folder of images to "
                          "score with the blessed model, or remove infer_root")


def _check_checkpoint(train: TrainConfig) -> None:
    path = train.checkpoint_path
    if not path:
        return
    entry = pretrained.lookup(path) if pretrained.looks_like_name(path) else None
    if entry is not None:
        if entry.model_name != train.model_name:
            raise ConfigError(f"train.checkpoint_path: {path!r} is a {entry.model_name} checkpoint "
                              f"but train.model_name is {train.model_name}; set model_name: "
                              f"{entry.model_name}")
        return
    if "://" in path:
        return  # an object store the Trainer reads (checked there)
    if pretrained.looks_like_name(path):
        raise ConfigError(f"train.checkpoint_path: {pretrained.unknown_name_message(path)}; "
                          "or give a checkpoint file or directory")
    if not (os.path.exists(path) or os.path.exists(path + ".index")):
        raise ConfigError(f"train.checkpoint_path: {path} does not exist; give a checkpoint "
                          "prefix (model.ckpt-N), its directory, or a table name")


def _check_labels_offset(config: PipelineConfig) -> None:
    offset = config.train.labels_offset
    if offset < 0:
        raise ConfigError(f"train.labels_offset: {offset} is negative; use 0 (or 1 for a "
                          "background class at label 0)")
    if not offset:
        return
    num_classes = config.num_classes
    if num_classes is not None and offset >= num_classes - 1:
        raise ConfigError(f"train.labels_offset: {offset} leaves {num_classes - offset} class(es) "
                          f"of {num_classes}; the model needs at least 2, lower labels_offset")
    if config.source == "folder" and os.path.isdir(config.data_root):
        # Labels below the offset would become negative: their folders must be empty.
        for label, name in enumerate(_class_folders(config.data_root)[:offset]):
            if _has_files(os.path.join(config.data_root, name)):
                raise ConfigError(
                    f"train.labels_offset: {offset} would give class folder {name!r} (label "
                    f"{label}) the label {label - offset}; empty that folder (e.g. a background "
                    "class) or set labels_offset: 0")


def _has_files(directory: str) -> bool:
    return any(files for _, _, files in os.walk(directory))


def resolve_facts(config: PipelineConfig) -> PipelineConfig:
    """Fills ``num_classes`` from the data when the config leaves it unset."""
    if config.num_classes is None:
        count = dataset_num_classes(config)
        if count is not None:
            config = config.replace(num_classes=count)
    return config


def load(path: Optional[str], overrides: Sequence[str] = (), check_net: bool = True,
         **changes: Any) -> PipelineConfig:
    """Reads, overrides, builds, fills in facts and validates a run config.

    Args:
      path: a YAML/JSON file or a name under configs/ (None: all defaults).
      overrides: ``key=value`` strings (``train.learning_rate=0.01``).
      check_net: also check the net (loads the model zoo); see :func:`validate`.
      **changes: runner settings applied last (paths, Beam args), as PipelineConfig fields.
    """
    values = read_file(config_path(path)) if path else {}
    merged, keys = merge(values, overrides)
    for key, value in changes.items():
        if key not in PIPELINE_FIELDS:
            raise _unknown(key, list(PIPELINE_FIELDS))
        merged[key] = value
    config = build(merged, keys)
    return validate(resolve_facts(config), check_net=check_net)


def hints(config: PipelineConfig) -> List[str]:
    """One-line warnings for settings slim users know go wrong (see trainer.training.hints)."""
    from trainer.training import hints as train_hints  # pylint: disable=import-outside-toplevel

    return train_hints.hints(config.train, config.train_steps)
