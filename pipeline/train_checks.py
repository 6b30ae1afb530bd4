"""The net-aware checks of a TrainConfig, shared by the run config and `tfslim train`.

Each check raises :class:`ConfigError` with one line that names the key the way the user
wrote it: ``train.model_name`` in a run config (:data:`RUN_CONFIG`), ``--model_name`` on
`tfslim train`'s command line (:data:`FLAGS`). :func:`check_net` reads the zoo's static
catalog (trainer/zoo/model_catalog.json), so a misspelt net is answered before TensorFlow
loads; :func:`check_input_size` needs the registry (TensorFlow).
"""
from __future__ import annotations

import dataclasses
import os
from typing import Any, Mapping, Optional

from pipeline.config_errors import ConfigError, closest
from trainer.zoo import model_catalog, pretrained
from trainer.config import NET_MODULES_ENV, TrainConfig

# Preprocessing that works on one-channel images; the others distort colour or
# subtract RGB means and need three.
GRAYSCALE_PREPROCESSING = ("lenet", "cifarnet")


@dataclasses.dataclass(frozen=True)
class Spelling:
    """How one surface names TrainConfig keys in its messages."""

    prefix: str
    renamed: Mapping[str, str] = dataclasses.field(default_factory=dict)  # field → its name there
    flags: bool = False

    def key(self, field: str) -> str:
        return self.prefix + self.renamed.get(field, field)

    def setting(self, field: str, value: Any) -> str:
        """How to write ``field = value`` there (``model_name: lenet`` or ``--model_name=lenet``)."""
        return f"{self.key(field)}={value}" if self.flags else f"{field}: {value}"

    def removal(self, field: str) -> str:
        if self.flags:
            return f"drop {self.key(field)}"
        return f"remove {field} (default {TrainConfig.model_fields[field].default})"


RUN_CONFIG = Spelling("train.")
FLAGS = Spelling("--", {"image_channels": "use_grayscale"}, flags=True)


def check_net(train: TrainConfig, spelling: Spelling = RUN_CONFIG) -> None:
    """The net exists, its preprocessing exists and suits the channels (no TensorFlow)."""
    rows = {row["name"]: row for row in model_catalog.load()}
    row = rows.get(train.model_name)
    if row is None and os.environ.get(NET_MODULES_ENV):
        row = _registered_row(train.model_name)
    if row is None:
        close = closest(train.model_name, rows)
        hint = f"did you mean {close!r}? " if close else ""
        raise ConfigError(f"{spelling.key('model_name')}: unknown network {train.model_name!r}; {hint}"
                          "`tfslim models` lists them")
    families = sorted({r["preprocessing"] for r in rows.values()})
    name = train.preprocessing_name or row["preprocessing"]
    family = name if name in families else rows.get(name, {}).get("preprocessing")
    if family is None:
        raise ConfigError(f"{spelling.key('preprocessing_name')}: unknown {name!r}; use one of "
                          f"{', '.join(families)} or a net's name")
    if train.image_channels == 1 and family not in GRAYSCALE_PREPROCESSING:
        raise ConfigError(
            f"{spelling.key('image_channels')}: 1 channel, but {train.model_name}'s {family!r} "
            f"preprocessing needs 3 (colour distortion / RGB means); {spelling.removal('image_channels')} "
            f"or use a net with lenet/cifarnet preprocessing")


def _registered_row(name: str) -> Optional[Mapping[str, Any]]:
    """A net registered by a TFSLIM_NET_MODULES module, as a catalog row (loads the registry and
    TensorFlow: only for a name the static catalog does not have)."""
    from trainer import nets  # pylint: disable=import-outside-toplevel

    try:
        return {"name": name, "preprocessing": nets.get_spec(name).preprocessing}
    except ValueError:
        return None


def check_input_size(train: TrainConfig, spelling: Spelling = RUN_CONFIG) -> None:
    """The input size is at least the net's smallest (the registry: imports TensorFlow)."""
    from trainer import nets  # pylint: disable=import-outside-toplevel

    spec = nets.get_spec(train.model_name)
    size = train.train_image_size or spec.default_image_size
    if spec.min_image_size and size < spec.min_image_size:
        key = spelling.key("train_image_size")
        raise ConfigError(f"{key}: {size} is below {train.model_name}'s smallest input "
                          f"{spec.min_image_size}; set {key} >= {spec.min_image_size}")


def check_checkpoint(train: TrainConfig, spelling: Spelling = RUN_CONFIG) -> None:
    """checkpoint_path is a table name of this net, an object store URL, or an existing path."""
    path, key = train.checkpoint_path, spelling.key("checkpoint_path")
    if not path:
        return
    entry = pretrained.lookup(path) if pretrained.looks_like_name(path) else None
    if entry is not None:
        if entry.model_name != train.model_name:
            raise ConfigError(f"{key}: {path!r} is a {entry.model_name} checkpoint but "
                              f"{spelling.key('model_name')} is {train.model_name}; set "
                              f"{spelling.setting('model_name', entry.model_name)}")
        return
    if "://" in path:
        return  # an object store the Trainer reads (checked there)
    if pretrained.looks_like_name(path):
        raise ConfigError(f"{key}: {pretrained.unknown_name_message(path)}; or give a checkpoint "
                          "file or directory")
    if not (os.path.exists(path) or os.path.exists(path + ".index")):
        raise ConfigError(f"{key}: {path} does not exist; give a checkpoint prefix (model.ckpt-N), "
                          "its directory, or a table name")


def check_labels_offset(train: TrainConfig, num_classes: Optional[int],
                        spelling: Spelling = RUN_CONFIG) -> None:
    """labels_offset is not negative and leaves the model at least 2 of ``num_classes``."""
    offset, key = train.labels_offset, spelling.key("labels_offset")
    if offset < 0:
        raise ConfigError(f"{key}: {offset} is negative; use 0 (or 1 for a background class at label 0)")
    if offset and num_classes is not None and offset >= num_classes - 1:
        raise ConfigError(f"{key}: {offset} leaves {num_classes - offset} class(es) of {num_classes}; "
                          "the model needs at least 2, lower labels_offset")
