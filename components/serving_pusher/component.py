"""ServingPusher: ``tfx.components.Pusher`` with the TF Serving layout executor (executor.py)."""
from typing import Any, Optional

from tfx.components.pusher.component import Pusher
from tfx.dsl.components.base import executor_spec
from tfx.types import standard_component_specs
from tfx.types.component_spec import ExecutionParameter

from components.serving_pusher.executor import (CONFIG_BASE_PATH_KEY, CONFIG_BASE_FROM_SERVING_DIR_KEY,
                                                MODEL_NAME_KEY, SERVING_DIR_KEY, Executor)

__all__ = ["CONFIG_BASE_PATH_KEY", "CONFIG_BASE_FROM_SERVING_DIR_KEY", "MODEL_NAME_KEY", "ServingPusher"]


class ServingPusherSpec(standard_component_specs.PusherSpec):
    """TFX's PusherSpec plus ``serving_dir``, a run parameter that replaces the destination's base."""

    PARAMETERS = {**standard_component_specs.PusherSpec.PARAMETERS,
                  SERVING_DIR_KEY: ExecutionParameter(type=str, optional=True)}


class ServingPusher(Pusher):
    """``tfx.components.Pusher`` with the executor above (same inputs, outputs and blessing rules).

    ``serving_dir`` (optional; a RuntimeParameter on Kubeflow) pushes to
    ``<serving_dir>/<serving_model_name>`` instead of the compiled push destination.
    """

    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(self, serving_dir: Optional[Any] = None, **kwargs: Any):
        super().__init__(**kwargs)
        if serving_dir is not None:
            spec = self.spec
            self.spec = ServingPusherSpec(**spec.exec_properties, **spec.inputs, **spec.outputs,
                                          **{SERVING_DIR_KEY: serving_dir})
