"""ServingPusher's executor: TFX's Pusher, plus TF Serving's models.config and a no-overwrite version rule.

The stock filesystem Pusher (1.16) names the version ``int(time.time())`` and, if
that directory exists, silently skips the copy yet still reports the push. This
executor keeps the stock blessing checks (``model_blessing`` from the Evaluator and
``infra_blessing`` from ServingSmokeTest must both be ``blessed=1``) and instead:

- picks a version strictly above every existing one (``max(now, newest + 1)``), so a
  push never lands in, or below, a version TF Serving already has;
- copies ``saved_model.pb`` last (a model server treats it as "version complete");
- only then points ``<serving_dir>/models.config`` at the new version.

custom_config keys: ``serving_model_name`` (TF Serving model name) and
``config_base_path`` (where the server sees ``<serving_dir>/<model_name>``), or
``config_base_from_serving_dir`` (the server reads the serving dir itself). The optional
``serving_dir`` execution property (a Kubeflow run parameter) replaces the destination's base.
"""
from __future__ import annotations

import json
import logging
import os
import time
from typing import Any, Dict, List

from tfx import types
from tfx.components.pusher import executor as pusher_executor
from tfx.dsl.io import fileio
from tfx.proto import pusher_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import io_utils, proto_utils

from serving import models_config, versions

log = logging.getLogger(__name__)

MODEL_NAME_KEY = "serving_model_name"
CONFIG_BASE_PATH_KEY = "config_base_path"
CONFIG_BASE_FROM_SERVING_DIR_KEY = "config_base_from_serving_dir"
SERVING_DIR_KEY = "serving_dir"


def next_version(base_directory: str, now: float = None) -> int:
    """A UNIX-timestamp version strictly greater than every existing version."""
    existing = versions.existing_versions(base_directory)
    stamp = int(time.time() if now is None else now)
    return max([stamp] + [v + 1 for v in existing])


def copy_model(model_path: str, serving_path: str) -> None:
    """Copies a SavedModel, ``saved_model.pb`` last; refuses an existing destination."""
    if fileio.exists(serving_path):
        raise FileExistsError(f"{serving_path} exists; a pushed version is never overwritten.")
    io_utils.copy_dir(model_path, serving_path, deny_regex_patterns=[r"saved_model\.pb"])
    io_utils.copy_file(os.path.join(model_path, "saved_model.pb"),
                       os.path.join(serving_path, "saved_model.pb"))


class Executor(pusher_executor.Executor):
    """Filesystem push into TF Serving's layout, with models.config."""

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]],
           exec_properties: Dict[str, Any]) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        model_push = artifact_utils.get_single_instance(
            output_dict[standard_component_specs.PUSHED_MODEL_KEY])
        if not self.CheckBlessing(input_dict):
            self._MarkNotPushed(model_push)
            return
        model_path = self.GetModelPath(input_dict)
        destination = pusher_pb2.PushDestination()
        proto_utils.json_to_proto(exec_properties[standard_component_specs.PUSH_DESTINATION_KEY],
                                  destination)
        if destination.WhichOneof("destination") != "filesystem":
            raise NotImplementedError("ServingPusher pushes to a filesystem destination only.")
        base_directory = destination.filesystem.base_directory
        custom = json.loads(exec_properties.get(standard_component_specs.CUSTOM_CONFIG_KEY) or "null") or {}
        model_name = custom.get(MODEL_NAME_KEY) or os.path.basename(base_directory.rstrip("/"))
        if exec_properties.get(SERVING_DIR_KEY):
            base_directory = os.path.join(exec_properties[SERVING_DIR_KEY], model_name)
        config_base_path = custom.get(CONFIG_BASE_PATH_KEY) or base_directory
        if custom.get(CONFIG_BASE_FROM_SERVING_DIR_KEY):
            config_base_path = models_config.container_base_path(model_name, os.path.dirname(base_directory))

        version = next_version(base_directory)
        serving_path = os.path.join(base_directory, str(version))
        copy_model(model_path, serving_path)
        config_path = models_config.models_config_path(os.path.dirname(base_directory.rstrip("/")))
        config = models_config.set_served_version(models_config.read(config_path), model_name,
                                                  config_base_path, version)
        models_config.write(config, config_path)
        log.info("Pushed %s as version %d; %s now serves it.", model_path, version, config_path)

        io_utils.copy_dir(model_path, model_push.uri)  # archive copy, as the stock Pusher keeps
        self._MarkPushed(model_push, pushed_destination=serving_path, pushed_version=str(version))
