"""The report's artifact types, named as KFP v2 system types so the Kubeflow UI shows them.

``system.HTML`` is a single file at the artifact URI (a ValueArtifact, so TFX creates
the parent directory and the URI is the file); ``system.Metrics`` carries its numbers
as custom properties, which KFP lists as scalar metrics; ``system.ClassificationMetrics``
carries ``confusionMatrix`` (class names and rows), which KFP draws as a matrix. The
properties are written by kfp's own ``dsl.Metrics`` / ``dsl.ClassificationMetrics`` (executor).
"""
from tfx.types import artifact
from tfx.types.value_artifact import ValueArtifact


class HtmlReport(ValueArtifact):
    """The run report: one self-contained HTML file."""

    TYPE_NAME = "system.HTML"

    def encode(self, value: str) -> bytes:
        return value.encode("utf-8")

    def decode(self, serialized_value: bytes) -> str:
        return serialized_value.decode("utf-8")


class RunMetrics(artifact.Artifact):
    """Held-out top-1/top-5, baseline, counts of rejects and anomalies (custom properties)."""

    TYPE_NAME = "system.Metrics"


class ConfusionMatrix(artifact.Artifact):
    """The Evaluator's confusion matrix over the whole eval split, with class names."""

    TYPE_NAME = "system.ClassificationMetrics"
