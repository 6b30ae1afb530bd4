"""RunReport: the run's HTML report as a pipeline step (TFX custom component).

    report = RunReport(examples=..., model=trainer.outputs['model'],
                       model_run=trainer.outputs['model_run'],
                       evaluation=evaluator.outputs['evaluation'],
                       blessing=evaluator.outputs['blessing'],
                       anomalies=example_validator.outputs['anomalies'],
                       pushed_model=pusher.outputs['pushed_model'])

Outputs ``report`` (system.HTML: one file, what Kubeflow's UI renders),
``metrics`` (system.Metrics: top-1, top-5, training loss, blessed, pushed, held-out,
skipped, rejects, anomalies, and with a Tuner upstream (``tuner_results``) the winning values
as ``tuner.train.<key>`` text) and ``confusion_matrix`` (system.ClassificationMetrics: the
Evaluator's matrix over the whole eval split, with class names).
It runs on every runner, so the local runs and Kubeflow show the same report.
"""
from __future__ import annotations

from typing import Optional

from tfx import types
from tfx.dsl.components.base import base_component, executor_spec
from tfx.orchestration import data_types
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ExecutionParameter

from components.run_report.artifacts import ConfusionMatrix, HtmlReport, RunMetrics
from components.run_report.executor import Executor


class RunReportSpec(types.ComponentSpec):
    """Parameters, inputs and outputs of RunReport."""

    PARAMETERS = {
        "title": ExecutionParameter(type=str),
        "labels_offset": ExecutionParameter(type=int),
        "accuracy_threshold": ExecutionParameter(type=float),
        "max_examples": ExecutionParameter(type=int),
    }
    INPUTS = {
        "examples": ChannelParameter(type=standard_artifacts.Examples),
        "model": ChannelParameter(type=standard_artifacts.Model),
        "model_run": ChannelParameter(type=standard_artifacts.ModelRun, optional=True),
        "evaluation": ChannelParameter(type=standard_artifacts.ModelEvaluation, optional=True),
        "blessing": ChannelParameter(type=standard_artifacts.ModelBlessing, optional=True),
        "anomalies": ChannelParameter(type=standard_artifacts.ExampleAnomalies, optional=True),
        "pushed_model": ChannelParameter(type=standard_artifacts.PushedModel, optional=True),
        "tuner_results": ChannelParameter(type=standard_artifacts.TunerResults, optional=True),
    }
    OUTPUTS = {"report": ChannelParameter(type=HtmlReport),
               "metrics": ChannelParameter(type=RunMetrics),
               "confusion_matrix": ChannelParameter(type=ConfusionMatrix)}


class RunReport(base_component.BaseComponent):
    """Writes the static HTML report of the run (see the report package)."""

    SPEC_CLASS = RunReportSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(self, examples: types.BaseChannel, model: types.BaseChannel,
                 model_run: Optional[types.BaseChannel] = None,
                 evaluation: Optional[types.BaseChannel] = None,
                 blessing: Optional[types.BaseChannel] = None,
                 anomalies: Optional[types.BaseChannel] = None,
                 pushed_model: Optional[types.BaseChannel] = None,
                 tuner_results: Optional[types.BaseChannel] = None, title: str = "tfslim run",
                 labels_offset: int = 0, accuracy_threshold: float = 0.0,
                 max_examples: int = 2000):
        spec = RunReportSpec(
            examples=examples, model=model, model_run=model_run, evaluation=evaluation,
            blessing=blessing, anomalies=anomalies, pushed_model=pushed_model,
            tuner_results=tuner_results, title=title, labels_offset=labels_offset,
            # A Kubeflow run parameter (RuntimeParameter) passes through as it is.
            accuracy_threshold=(accuracy_threshold if isinstance(accuracy_threshold, data_types.RuntimeParameter)
                                else float(accuracy_threshold)),
            max_examples=max_examples, report=types.Channel(type=HtmlReport),
            metrics=types.Channel(type=RunMetrics), confusion_matrix=types.Channel(type=ConfusionMatrix))
        super().__init__(spec=spec)
