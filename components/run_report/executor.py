"""RunReport executor: writes the report and the KFP UI artifacts (Metrics, ClassificationMetrics).

The artifacts' metadata is written by kfp's own ``dsl.Metrics.log_metric`` and
``dsl.ClassificationMetrics.log_confusion_matrix``, so it is in the format Kubeflow's UI reads;
it travels as the TFX artifacts' custom properties (ML Metadata on every runner, the executor
output's ``metadata`` on Kubeflow).
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List

import tensorflow as tf
from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils
from tfx.utils import path_utils

from components.tuning.executor import TRIALS_FILE
from report import ReportInputs, sources, write_report

SUMMARY_FILE = "summary.json"
HTML_FILE = "report.html"
REPORT_PATH = "report_path"


def _single(input_dict: Dict[str, List[types.Artifact]], key: str):
    artifacts = input_dict.get(key) or []
    return artifacts[0] if artifacts else None


def _flag(artifact, name: str):
    if artifact is None or not artifact.has_custom_property(name):
        return None
    return bool(artifact.get_int_custom_property(name))


def kfp_metrics(values: Dict[str, float]) -> Dict[str, float]:
    """``values`` as ``kfp.dsl.Metrics`` records them (the system.Metrics metadata)."""
    from kfp import dsl  # pylint: disable=import-outside-toplevel

    metrics = dsl.Metrics(name="metrics", uri="", metadata={})
    for name, value in values.items():
        metrics.log_metric(name, value)
    return dict(metrics.metadata)


def kfp_confusion_matrix(class_names: List[str], rows: List[List[int]]) -> Dict[str, Any]:
    """The ``confusionMatrix`` metadata of ``kfp.dsl.ClassificationMetrics`` (what the UI draws)."""
    from kfp import dsl  # pylint: disable=import-outside-toplevel

    matrix = dsl.ClassificationMetrics(name="confusion_matrix", uri="", metadata={})
    matrix.log_confusion_matrix(list(class_names), [[int(c) for c in row] for row in rows])
    return dict(matrix.metadata)


class Executor(base_executor.BaseExecutor):
    """See components/run_report/component.py."""

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]], exec_properties: Dict[str, Any]) -> None:
        model = artifact_utils.get_single_instance(input_dict["model"])
        examples = artifact_utils.get_single_instance(input_dict["examples"])
        model_run = _single(input_dict, "model_run")
        evaluation = _single(input_dict, "evaluation")
        anomalies = _single(input_dict, "anomalies")
        tuner_results = _single(input_dict, "tuner_results")
        report = artifact_utils.get_single_instance(output_dict["report"])
        metrics = artifact_utils.get_single_instance(output_dict["metrics"])
        matrix = _single(output_dict, "confusion_matrix")
        threshold = exec_properties.get("accuracy_threshold")
        summary = write_report(ReportInputs(
            title=exec_properties.get("title") or "tfslim run",
            saved_model_dir=path_utils.serving_model_path(model.uri),
            dataset_dir=examples.uri, eval_files=sources.eval_files(examples.uri, "eval"),
            labels_offset=int(exec_properties.get("labels_offset") or 0),
            evaluation_uri=evaluation.uri if evaluation else None,
            blessed=_flag(_single(input_dict, "blessing"), "blessed"),
            pushed=_flag(_single(input_dict, "pushed_model"), "pushed"),
            accuracy_threshold=float(threshold) if threshold is not None else None,
            train_logdir=os.path.join(model_run.uri, "train") if model_run else None,
            anomalies_uri=anomalies.uri if anomalies else None,
            max_examples=int(exec_properties.get("max_examples") or 2000),
            trials_path=os.path.join(tuner_results.uri, TRIALS_FILE) if tuner_results else None),
            os.path.join(os.path.dirname(report.uri), HTML_FILE))
        # The artifact's value file is what Kubeflow's HTML viewer reads; the .html copy
        # beside it is what a person opens (a browser needs the extension).
        tf.io.gfile.copy(summary.path, report.uri, overwrite=True)
        for name, value in kfp_metrics(summary.metrics()).items():
            metrics.set_float_custom_property(name, value)
        if matrix is not None:
            for name, value in kfp_confusion_matrix(summary.class_names, summary.confusion).items():
                matrix.set_json_value_custom_property(name, value)
        for key, value in summary.tuned.items():
            # The winning values as text: MLMD's sqlite store keeps 6 decimals of a double
            # property, which would record an opt_epsilon of 1e-8 as 0.
            metrics.set_string_custom_property(f"tuner.{key}", repr(value))
        report.set_string_custom_property(REPORT_PATH, summary.path)
        tf.io.gfile.makedirs(metrics.uri)
        with tf.io.gfile.GFile(os.path.join(metrics.uri, SUMMARY_FILE), "w") as f:
            json.dump({**summary.metrics(), "blessed": summary.blessed, "pushed": summary.pushed,
                       "class_names": summary.class_names, "confusion": summary.confusion,
                       "tuned": summary.tuned,
                       "report": summary.path}, f, indent=1)
