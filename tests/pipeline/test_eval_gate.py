"""The Evaluator's gate: TFMA's own validator run on eval_config()'s thresholds."""
import pytest
import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.evaluators import metrics_validator

from pipeline.configs import PipelineConfig
from pipeline.pipeline import eval_config

# Example-weighted: the Evaluator weights each record by eval_decodable (1, or 0 when undecodable).
_TOP1 = tfma.metrics.MetricKey(name="sparse_categorical_accuracy", example_weighted=True)
_TOP5 = tfma.metrics.MetricKey(name="top_5_accuracy", example_weighted=True)
# The top-1 change vs the blessed baseline (0: as good as the baseline).
_TOP1_CHANGE = tfma.metrics.MetricKey(name="sparse_categorical_accuracy", is_diff=True,
                                      example_weighted=True)


def _blessed(config: PipelineConfig, top1: float, top5: float) -> bool:
    """What the Evaluator decides for these overall metrics."""
    metrics = {_TOP1: top1, _TOP5: top5, _TOP1_CHANGE: 0.0}
    result = metrics_validator.validate_metrics(((), metrics), eval_config(config))
    return result.validation_ok


@pytest.mark.parametrize("top1,top5,blessed", [
    (0.80, 0.95, True),   # both bars cleared
    (0.80, 0.85, False),  # top-1 clears, top-5 does not: the top-5 bar alone blocks
    (0.60, 0.95, False),  # top-1 bar unmet
])
def test_top5_lower_bound_gates(top1, top5, blessed):
    config = PipelineConfig(accuracy_threshold=0.7, top5_threshold=0.9)
    assert _blessed(config, top1, top5) is blessed


def test_no_top5_bar_by_default():
    config = PipelineConfig(accuracy_threshold=0.7)
    assert config.top5_threshold is None
    assert _blessed(config, 0.80, 0.0)


def test_only_the_overall_slice_is_gated():
    """A class with one held-out image scoring 0 must not block a model whose overall
    top-1 clears the bar; the same numbers on the overall slice do block it."""
    config = PipelineConfig(accuracy_threshold=0.5, top5_threshold=0.9)
    class_slice = (("image/class/label", 2),)
    bad = {_TOP1: 0.0, _TOP5: 0.0, _TOP1_CHANGE: 0.0}
    assert metrics_validator.validate_metrics((class_slice, bad), eval_config(config)).validation_ok
    assert not metrics_validator.validate_metrics(((), bad), eval_config(config)).validation_ok
