"""PerClassPrecisionRecall: argmax precision and recall of every class, as one TFMA metric.

TFMA's binarized ``Precision``/``Recall`` need the class ids written into the
EvalConfig up front (and fail on an id the model does not have), and threshold each
class's score at 0.5 instead of taking the argmax. This metric derives both from
TFMA's multi-class confusion matrix instead, so it works for any class count:

    precision[c] = #(predicted c and label c) / #(predicted c)
    recall[c]    = #(predicted c and label c) / #(label c)

Results are keys ``precision`` / ``recall`` with ``sub_key=SubKey(class_id=c)``
(NaN where the denominator is 0), one per class seen as label or prediction.

    tfma.MetricConfig(class_name="PerClassPrecisionRecall", module="components.evaluation.per_class")
"""
from __future__ import annotations

import collections
from typing import Any, Dict, Optional

from tensorflow_model_analysis.metrics import metric_types, metric_util
from tensorflow_model_analysis.metrics import multi_class_confusion_matrix_metrics as mccm
from tensorflow_model_analysis.proto import config_pb2

NAME = "per_class_precision_recall"
PRECISION = "precision"
RECALL = "recall"
# Scores are softmax outputs (> 0), so a 0.0 threshold keeps every argmax prediction.
_THRESHOLD = 0.0


class PerClassPrecisionRecall(metric_types.Metric):
    """Per-class argmax precision/recall for single-label multi-class models."""

    def __init__(self, name: str = NAME):
        super().__init__(metric_util.merge_per_key_computations(_per_class_computations), name=name)


metric_types.register_metric(PerClassPrecisionRecall)


def precision_recall_from_matrix(entries: Dict[Any, float]) -> Dict[int, Dict[str, float]]:
    """{class: {'precision', 'recall'}} from ``{(actual, predicted): count}`` entries."""
    true_pos: Dict[int, float] = collections.Counter()
    predicted: Dict[int, float] = collections.Counter()
    actual: Dict[int, float] = collections.Counter()
    for (actual_id, predicted_id), count in entries.items():
        actual[int(actual_id)] += count
        if predicted_id != mccm.NO_PREDICTED_CLASS_ID:
            predicted[int(predicted_id)] += count
            if predicted_id == actual_id:
                true_pos[int(actual_id)] += count
    out = {}
    for cls in sorted(set(actual) | set(predicted)):
        out[cls] = {PRECISION: true_pos[cls] / predicted[cls] if predicted[cls] else float("nan"),
                    RECALL: true_pos[cls] / actual[cls] if actual[cls] else float("nan")}
    return out


def _per_class_computations(name: str = NAME, eval_config: Optional[config_pb2.EvalConfig] = None,
                            model_name: str = "", output_name: str = "",
                            example_weighted: bool = False) -> metric_types.MetricComputations:
    computations = mccm.multi_class_confusion_matrices(
        thresholds=[_THRESHOLD], eval_config=eval_config, model_name=model_name,
        output_name=output_name, example_weighted=example_weighted)
    matrices_key = computations[-1].keys[-1]

    def per_class_precision_recall_result(metrics: Dict[metric_types.MetricKey, Any]
                                          ) -> Dict[metric_types.MetricKey, float]:
        matrices = metrics[matrices_key]
        entries = next(iter(matrices.values())) if matrices else {}
        result = {}
        for cls, values in precision_recall_from_matrix(entries).items():
            for metric, value in values.items():
                result[metric_types.MetricKey(
                    name=metric, model_name=model_name, output_name=output_name,
                    sub_key=metric_types.SubKey(class_id=cls),
                    example_weighted=example_weighted)] = value
        return result

    del name  # the results are named precision/recall per class
    computations.append(metric_types.DerivedMetricComputation(
        keys=[], result=per_class_precision_recall_result))
    return computations
