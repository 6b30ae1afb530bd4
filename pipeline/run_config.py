"""Run configs: one YAML/JSON file describes a pipeline run on every runner.

    config = run_config.load("configs/photos.yaml", ["train.learning_rate=0.01"],
                             data_root="photos")

Top-level keys are :class:`PipelineConfig` fields; under ``train:`` the slim flag
names (:class:`TrainConfig` fields). ``--set key=value`` overrides are typed by the
model's field (pipeline/configs.py). Everything is checked before any component runs
(:class:`ConfigError`: one line naming the key and the fix), and the facts that
belong to the data and the net are filled in here, not carried over from a preset:

  * ``num_classes`` (the schema's label domain) = the class folders of a
    ``folder`` source, or the slim dataset's count; the Trainer still reads the
    class names from the ExampleGen's labels.txt;
  * the image size is the net's default unless ``train.train_image_size`` is set;
  * ``serving_model_name`` is the net's name unless set.
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple

from pipeline import train_checks, tuner_config
from pipeline.config_errors import ConfigError, unknown_key, validated
from pipeline.configs import PipelineConfig
from trainer.config import TrainConfig, optional_of

CONFIG_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs")
# TrainConfig keys that describe one net: an override of model_name resets them.
NET_KEYS = ("preprocessing_name", "train_image_size", "image_channels", "checkpoint_path",
            "checkpoint_exclude_scopes", "trainable_scopes", "dropout_keep_prob")
# The blocks a --set key may reach into (train.learning_rate, tuner.max_trials).
BLOCKS = ("train", "tuner")


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
    # A string field keeps the literal text ('007' stays '007', not YAML's 7).
    return key.strip(), (raw if isinstance(value, (int, float)) and not isinstance(value, bool)
                         and _annotation(key.strip()) is str else value)


def _annotation(key: str) -> Any:
    prefix, _, name = key.rpartition(".")
    model = TrainConfig if prefix == "train" else PipelineConfig
    field = model.model_fields.get(name)
    return optional_of(field.annotation)[0] if field is not None else object


def merge(values: Dict[str, Any], overrides: Sequence[str]) -> Tuple[Dict[str, Any], List[str]]:
    """Applies ``--set`` overrides; returns the merged mapping and the keys they set."""
    merged = {k: (dict(v) if isinstance(v, dict) else v) for k, v in values.items()}
    keys = []
    for text in overrides:
        key, value = parse_override(text)
        parts = key.split(".")
        if len(parts) == 2 and parts[0] in BLOCKS:
            section = merged.get(parts[0]) or {}
            if not isinstance(section, dict):
                raise ConfigError(f"{parts[0]}: expected a mapping, got {type(section).__name__}")
            merged[parts[0]] = {**section, parts[1]: value}
        elif len(parts) == 1:
            merged[key] = value
        else:
            raise unknown_key(key, list(PipelineConfig.model_fields))
        keys.append(key)
    return merged, keys


def build(values: Dict[str, Any], overridden: Sequence[str] = ()) -> PipelineConfig:
    """Typed PipelineConfig from a mapping (unknown keys and bad values are ConfigError).

    When an override changes ``train.model_name``, the file's net-specific train
    keys (:data:`NET_KEYS`) that were not overridden too fall back to their defaults,
    so another net's input size, channels or checkpoint never carry over.
    """
    values = dict(values)
    tuner_values = values.pop("tuner", None)
    train_values = values.get("train")
    if isinstance(train_values, dict) and "train.model_name" in overridden:
        values["train"] = {k: v for k, v in train_values.items()
                           if k not in NET_KEYS or f"train.{k}" in overridden}
    config = validated(PipelineConfig, values)
    if "serving_model_name" not in values:
        config = config.replace(serving_model_name=config.train.model_name)
    if tuner_values is not None:
        config = config.replace(tuner=tuner_config.parse(tuner_values, config.train))
    return config


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
        train_checks.check_net(config.train)
        train_checks.check_input_size(config.train)
    train = config.train
    if train.batch_size < 1:
        raise ConfigError(f"train.batch_size: must be >= 1, got {train.batch_size}")
    train_checks.check_checkpoint(train)
    train_checks.check_labels_offset(train, config.num_classes)
    _check_background_folders(config)
    _check_infer_root(config.infer_root)
    return config


def _check_infer_root(root: Optional[str]) -> None:
    # An object store folder is read by the BatchPredict step itself.
    if root is not None and "://" not in root and not os.path.isdir(root):
        raise ConfigError(f"infer_root: {root} is not a directory; give the folder of images to "
                          "score with the blessed model, or remove infer_root")


def _check_background_folders(config: PipelineConfig) -> None:
    """Labels below the offset would become negative: their class folders must be empty."""
    offset = config.train.labels_offset
    if not offset or config.source != "folder" or not os.path.isdir(config.data_root):
        return
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
    merged.update(changes)  # an unknown key is the model's error
    config = build(merged, keys)
    return validate(resolve_facts(config), check_net=check_net)


def hints(config: PipelineConfig) -> List[str]:
    """One-line warnings for settings slim users know go wrong (see trainer.training.hints)."""
    from trainer.training import hints as train_hints  # pylint: disable=import-outside-toplevel

    return train_hints.hints(config.train, config.train_steps)
