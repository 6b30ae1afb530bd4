"""BatchPredict's output type: a folder of JSON-lines shards and a summary.

The type name is ``components.BatchPredictions``: TFX's Kubeflow executor imports a custom
artifact's class from its schema title (``<module>.<Class>``, one dot), and ``components``
resolves that name lazily (components/__init__.py) so that importing the package stays cheap.
"""
from tfx.types import artifact

# Inside the artifact's URI.
PREDICTIONS_FILE = "predictions.jsonl"  # written as predictions.jsonl-SSSSS-of-NNNNN shards
SUMMARY_FILE = "summary.json"


class BatchPredictions(artifact.Artifact):
    """One JSON line per file of ``infer_root`` (prediction.results), scored by the
    blessed model; custom properties ``blessed``, ``files`` and ``errors``."""

    TYPE_NAME = "components.BatchPredictions"
