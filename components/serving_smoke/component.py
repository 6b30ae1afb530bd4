"""ServingSmokeTest: InfraValidator's job without Docker (TFX custom component).

    smoke = ServingSmokeTest(model=trainer.outputs['model'], examples=example_gen.outputs['examples'])
    Pusher(model=..., model_blessing=evaluator.outputs['blessing'],
           infra_blessing=smoke.outputs['blessing'], ...)

The Pusher pushes only when both blessings say ``blessed=1``. Unlike
InfraValidator it also compiles for KubeflowV2DagRunner (it is an ordinary
class-based component).
"""
from __future__ import annotations

from typing import Optional

from tfx import types
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import standard_artifacts

from components import spec
from components.serving_smoke.executor import Executor


class ServingSmokeTestSpec(types.ComponentSpec):
    """Parameters, inputs and outputs of ServingSmokeTest."""

    PARAMETERS = spec.parameters(split=str, num_examples=int, latency_requests=int, max_latency_ms=float,
                                 timeout_secs=int, model_name=str)
    INPUTS = spec.channels(model=standard_artifacts.Model, examples=standard_artifacts.Examples)
    OUTPUTS = spec.channels(blessing=standard_artifacts.InfraBlessing)


class ServingSmokeTest(base_component.BaseComponent):
    """Loads the candidate SavedModel in a fresh process and sends it real requests."""

    SPEC_CLASS = ServingSmokeTestSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(self, model: types.BaseChannel, examples: types.BaseChannel, split: str = "eval",
                 num_examples: int = 16, latency_requests: int = 20,
                 max_latency_ms: float = 1000.0, timeout_secs: int = 600,
                 model_name: Optional[str] = None):
        """Args:
          model: the Trainer's Model (its Format-Serving SavedModel is probed).
          examples: the ExampleGen output; requests are built from ``split``.
          split: held-out split to draw requests from.
          num_examples: images per request batch.
          latency_requests: batch-1 requests timed for p50/p99.
          max_latency_ms: p99 above this is not blessed.
          timeout_secs: the fresh process gets this long in total.
          model_name: name put into gRPC ModelSpecs (the TF Serving model name).
        """
        spec = ServingSmokeTestSpec(
            model=model, examples=examples, split=split, num_examples=num_examples,
            latency_requests=latency_requests, max_latency_ms=float(max_latency_ms),
            timeout_secs=timeout_secs, model_name=model_name or "model",
            blessing=types.Channel(type=standard_artifacts.InfraBlessing))
        super().__init__(spec=spec)
