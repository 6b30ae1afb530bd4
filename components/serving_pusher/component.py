"""ServingPusher: ``tfx.components.Pusher`` with the TF Serving layout executor (executor.py)."""
from tfx.components.pusher.component import Pusher
from tfx.dsl.components.base import executor_spec

from components.serving_pusher.executor import CONFIG_BASE_PATH_KEY, MODEL_NAME_KEY, Executor

__all__ = ["CONFIG_BASE_PATH_KEY", "MODEL_NAME_KEY", "ServingPusher"]


class ServingPusher(Pusher):
    """``tfx.components.Pusher`` with the executor above (same inputs, outputs and blessing rules)."""

    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)
