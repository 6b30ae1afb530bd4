"""Run parameters: values a Kubeflow run may change without a recompile, as execution properties.

TFX 1.16's Kubeflow V2 compiler turns a ``RuntimeParameter`` into a pipeline parameter only where
it is a whole execution property (``componentInputParameter``); the values users change per run
sit inside protos and JSON (``TrainArgs.num_steps``, the train config's learning rate, the
Evaluator's top-1 bound, the Pusher's destination). So the Trainer and the Evaluator here take
each such value as an extra, optional execution property, and their executors write it into the
proto or JSON before TFX's own executor runs. The executors are TFX's own, subclassed through
their public ``Do`` (inputs, outputs, exec_properties); nothing else changes.

The pipeline adds these properties only when the run config names the key in
``run_parameters`` (pipeline/pipeline.py); local runs keep the compiled values.
"""
from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional

from tfx import types
from tfx.components.evaluator import executor as evaluator_executor
from tfx.components.trainer import executor as trainer_executor
from tfx.dsl.components.base import base_component, executor_spec
from tfx.proto import trainer_pb2
from tfx.types import standard_component_specs
from tfx.types.component_spec import ExecutionParameter
from tfx.utils import proto_utils
from tfx.v1 import components as tfx_components

from trainer.config import TRAIN_CONFIG_KEY

TRAIN_STEPS = "train_steps"
LEARNING_RATE = "learning_rate"
ACCURACY_THRESHOLD = "accuracy_threshold"
TOP1_METRIC = "SparseCategoricalAccuracy"


def _add_parameters(component: base_component.BaseComponent, spec_class: type,
                    values: Mapping[str, Any]) -> None:
    """Rebuilds ``component``'s spec as ``spec_class`` (its spec plus optional parameters) with ``values``."""
    spec = component.spec
    kwargs: Dict[str, Any] = {**spec.exec_properties, **spec.inputs, **spec.outputs}
    kwargs.update({name: value for name, value in values.items() if value is not None})
    component.spec = spec_class(**kwargs)


def apply_trainer_parameters(exec_properties: Dict[str, Any]) -> Dict[str, Any]:
    """exec_properties with ``train_steps`` written into TrainArgs and ``learning_rate`` into the
    train config (custom_config), as TFX's Trainer executor reads them."""
    out = dict(exec_properties)
    if out.get(TRAIN_STEPS) is not None:
        train_args = trainer_pb2.TrainArgs()
        proto_utils.json_to_proto(out.get(standard_component_specs.TRAIN_ARGS_KEY) or "{}", train_args)
        train_args.num_steps = int(out[TRAIN_STEPS])
        out[standard_component_specs.TRAIN_ARGS_KEY] = proto_utils.proto_to_json(train_args)
    if out.get(LEARNING_RATE) is not None:
        custom = json.loads(out.get(standard_component_specs.CUSTOM_CONFIG_KEY) or "null") or {}
        custom.setdefault(TRAIN_CONFIG_KEY, {})["learning_rate"] = float(out[LEARNING_RATE])
        out[standard_component_specs.CUSTOM_CONFIG_KEY] = json.dumps(custom)
    return out


def apply_evaluator_parameters(exec_properties: Dict[str, Any]) -> Dict[str, Any]:
    """exec_properties with ``accuracy_threshold`` as the top-1 lower bound of the eval config."""
    out = dict(exec_properties)
    if out.get(ACCURACY_THRESHOLD) is None:
        return out
    import tensorflow_model_analysis as tfma  # pylint: disable=import-outside-toplevel

    config = tfma.EvalConfig()
    proto_utils.json_to_proto(out[standard_component_specs.EVAL_CONFIG_KEY], config)
    bounds = [threshold.threshold.value_threshold for spec in config.metrics_specs for metric in spec.metrics
              if metric.class_name == TOP1_METRIC for threshold in metric.per_slice_thresholds
              if threshold.threshold.HasField("value_threshold")]
    if not bounds:
        raise ValueError(f"accuracy_threshold: the eval config has no {TOP1_METRIC} value threshold to set")
    for bound in bounds:
        bound.lower_bound.value = float(out[ACCURACY_THRESHOLD])
    out[standard_component_specs.EVAL_CONFIG_KEY] = proto_utils.proto_to_json(config)
    return out


class TrainerExecutor(trainer_executor.GenericExecutor):
    """TFX's generic Trainer executor, after the run parameters are applied."""

    def Do(self, input_dict: Dict[str, List[types.Artifact]], output_dict: Dict[str, List[types.Artifact]],
           exec_properties: Dict[str, Any]) -> None:
        super().Do(input_dict, output_dict, apply_trainer_parameters(exec_properties))


class EvaluatorExecutor(evaluator_executor.Executor):
    """TFX's Evaluator executor, after the run parameters are applied."""

    def Do(self, input_dict: Dict[str, List[types.Artifact]], output_dict: Dict[str, List[types.Artifact]],
           exec_properties: Dict[str, Any]) -> None:
        super().Do(input_dict, output_dict, apply_evaluator_parameters(exec_properties))


class TrainerSpec(standard_component_specs.TrainerSpec):
    """TFX's TrainerSpec plus the optional run parameters."""

    PARAMETERS = {**standard_component_specs.TrainerSpec.PARAMETERS,
                  TRAIN_STEPS: ExecutionParameter(type=int, optional=True),
                  LEARNING_RATE: ExecutionParameter(type=float, optional=True)}


class EvaluatorSpec(standard_component_specs.EvaluatorSpec):
    """TFX's EvaluatorSpec plus the optional run parameter."""

    PARAMETERS = {**standard_component_specs.EvaluatorSpec.PARAMETERS,
                  ACCURACY_THRESHOLD: ExecutionParameter(type=float, optional=True)}


class Trainer(tfx_components.Trainer):
    """``tfx.components.Trainer`` whose ``train_steps`` / ``learning_rate`` may be RuntimeParameters."""

    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(TrainerExecutor)

    def __init__(self, train_steps: Optional[Any] = None, learning_rate: Optional[Any] = None, **kwargs: Any):
        super().__init__(**kwargs)
        _add_parameters(self, TrainerSpec, {TRAIN_STEPS: train_steps, LEARNING_RATE: learning_rate})


class Evaluator(tfx_components.Evaluator):
    """``tfx.components.Evaluator`` whose top-1 bound (``accuracy_threshold``) may be a RuntimeParameter."""

    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(EvaluatorExecutor)

    def __init__(self, accuracy_threshold: Optional[Any] = None, **kwargs: Any):
        super().__init__(**kwargs)
        _add_parameters(self, EvaluatorSpec, {ACCURACY_THRESHOLD: accuracy_threshold})
