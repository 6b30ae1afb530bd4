"""Custom TFX components (image ExampleGen, serving smoke test, batch prediction ...)."""


def __getattr__(name: str):
    """``components.BatchPredictions``: the schema title TFX's Kubeflow executor imports the
    artifact class by (components/batch_predict/artifact.py); loaded on first use only."""
    if name == "BatchPredictions":
        from components.batch_predict.artifact import BatchPredictions  # pylint: disable=import-outside-toplevel

        return BatchPredictions
    raise AttributeError(f"module 'components' has no attribute {name!r}")
