"""TF Serving's ``--model_config_file`` (text ``ModelServerConfig``) beside the pushed models.

Layout the Pusher maintains (``<serving_dir>`` is mounted at ``/models`` in the
tensorflow/serving container, see deployment.yaml)::

    <serving_dir>/models.config          model_config_list { config { name base_path ... } }
    <serving_dir>/<model_name>/<version>/saved_model.pb, variables/, assets.extra/labels.txt

Each model entry pins the blessed version with ``model_version_policy { specific }``
so the server serves exactly what the Pusher blessed, even if a stray directory
appears; TF Serving re-reads the file every ``--model_config_file_poll_wait_seconds``.
"""
from __future__ import annotations

import os
import uuid
from typing import Optional

import tensorflow as tf
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

MODELS_CONFIG = "models.config"
CONTAINER_MODELS_DIR = "/models"


def models_config_path(serving_dir: str) -> str:
    """``<serving_dir>/models.config``."""
    return os.path.join(serving_dir, MODELS_CONFIG)


def read(path: str) -> model_server_config_pb2.ModelServerConfig:
    """Parses a models.config; a missing file is an empty config."""
    config = model_server_config_pb2.ModelServerConfig()
    if tf.io.gfile.exists(path):
        with tf.io.gfile.GFile(path) as f:
            text_format.Parse(f.read(), config)
    return config


def render(config: model_server_config_pb2.ModelServerConfig) -> str:
    """Text format, as ``--model_config_file`` expects."""
    return text_format.MessageToString(config)


def set_served_version(config: model_server_config_pb2.ModelServerConfig, name: str, base_path: str,
                       version: int) -> model_server_config_pb2.ModelServerConfig:
    """Adds or updates model ``name`` to serve exactly ``version`` from ``base_path``; other models stay."""
    entries = config.model_config_list.config
    entry = next((c for c in entries if c.name == name), None)
    if entry is None:
        entry = entries.add()
        entry.name = name
    entry.base_path = base_path
    entry.model_platform = "tensorflow"
    entry.model_version_policy.Clear()
    entry.model_version_policy.specific.versions.append(int(version))
    return config


def write(config: model_server_config_pb2.ModelServerConfig, path: str) -> None:
    """Writes via a temporary file and a rename, so the polling server never reads half a file."""
    directory = os.path.dirname(path)
    if directory:
        tf.io.gfile.makedirs(directory)
    tmp = f"{path}.tmp-{uuid.uuid4().hex[:8]}"
    with tf.io.gfile.GFile(tmp, "w") as f:
        f.write(render(config))
    tf.io.gfile.rename(tmp, path, overwrite=True)


def served_version(path: str, name: str) -> Optional[int]:
    """The version models.config pins for ``name`` (None if absent or not pinned)."""
    for entry in read(path).model_config_list.config:
        if entry.name == name and entry.model_version_policy.specific.versions:
            return max(entry.model_version_policy.specific.versions)
    return None


def container_base_path(model_name: str, container_models_dir: str = CONTAINER_MODELS_DIR) -> str:
    """Where the server sees ``<serving_dir>/<model_name>`` (the volume's mount path + name)."""
    return f"{container_models_dir.rstrip('/')}/{model_name}"
