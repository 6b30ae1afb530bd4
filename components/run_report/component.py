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

from components import spec
from components.run_report.artifacts import ConfusionMatrix, HtmlReport, RunMetrics
from components.run_report.executor import Executor


class RunReportSpec(types.ComponentSpec):
    """Parameters, inputs and outputs of RunReport."""

    PARAMETERS = spec.parameters(title=str, labels_offset=int, accuracy_threshold=float, max_examples=int)
    INPUTS = {
        **spec.channels(examples=standard_artifacts.Examples, model=standard_artifacts.Model),
        **spec.channels(optional=True, model_run=standard_artifacts.ModelRun,
                        evaluation=standard_artifacts.ModelEvaluation, blessing=standard_artifacts.ModelBlessing,
                        anomalies=standard_artifacts.ExampleAnomalies, pushed_model=standard_artifacts.PushedModel,
                        tuner_results=standard_artifacts.TunerResults),
    }
    OUTPUTS = spec.channels(report=HtmlReport, metrics=RunMetrics, confusion_matrix=ConfusionMatrix)


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
