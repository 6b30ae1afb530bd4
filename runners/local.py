"""Run the pipeline on this machine (LocalDagRunner or BeamDagRunner) and summarise the run."""
from __future__ import annotations

import dataclasses
import os
from typing import Dict, List, Optional

from ml_metadata.metadata_store import metadata_store
from tfx import v1 as tfx

import schemas
from runners import progress
from pipeline.configs import PipelineConfig
from pipeline.pipeline import create_pipeline
from report.sources import overall_metrics

RUNNERS = ("local", "beam")


@dataclasses.dataclass
class RunSummary:
    """What the demo prints after a run."""

    pipeline_root: str
    metadata_path: str
    metrics: Dict[str, float]
    blessed: Optional[bool]
    pushed: bool
    pushed_destination: Optional[str]
    component_seconds: Dict[str, float]
    report_path: Optional[str] = None
    rejects: Optional[int] = None
    anomalies: Optional[int] = None
    # Held-out records TF could not decode, left out of the evaluation (weight 0).
    skipped: Optional[int] = None
    # The Tuner's winning values as the report recorded them ({} without a tuner: block).
    tuned: Dict[str, str] = dataclasses.field(default_factory=dict)

    def lines(self) -> List[str]:
        """What `tfslim run` prints at the end: report, top-1, verdicts, rejects, anomalies,
        undecodable held-out records skipped, and the Tuner's winning values (if it ran)."""
        top1 = self.metrics.get("sparse_categorical_accuracy")
        return [f"pipeline root: {self.pipeline_root}",
                f"report:        {self.report_path or 'not written'}",
                f"top-1:         {top1:.4f}" if top1 is not None else "top-1:         n/a",
                f"blessed:       {self.blessed}   pushed: {self.pushed}"
                + (f" -> {self.pushed_destination}" if self.pushed_destination else ""),
                f"rejects:       {_count(self.rejects)}   anomalies: {_count(self.anomalies)}",
                f"skipped:       {_count(self.skipped)} held-out image(s) that could not be decoded"] + \
            ([f"tuned:         {', '.join(f'{k}={v}' for k, v in self.tuned.items())}"] if self.tuned else [])


def metadata_path_for(config: PipelineConfig) -> str:
    return os.path.join(config.pipeline_root, "metadata.sqlite")


def with_dataset_schema(config: PipelineConfig) -> PipelineConfig:
    """Writes the label-range schema for ``config.num_classes`` under the pipeline root."""
    if not config.num_classes or config.schema_file:
        return config
    path = os.path.join(config.pipeline_root, "schema",
                        f"slim_image_{config.num_classes}_classes.pbtxt")
    # Only a path this runner wrote is added: the rest was validated when the config was built.
    return config.model_copy(update={"schema_file": schemas.write_dataset_schema(path, config.num_classes)})


def run_local(config: PipelineConfig, runner: str = "local",
              metadata_path: Optional[str] = None) -> RunSummary:
    """Runs ``create_pipeline(config)`` with an embedded sqlite MLMD and returns a summary."""
    config = with_dataset_schema(config)
    metadata_path = metadata_path or metadata_path_for(config)
    os.makedirs(os.path.dirname(os.path.abspath(metadata_path)), exist_ok=True)
    connection = tfx.orchestration.metadata.sqlite_metadata_connection_config(metadata_path)
    pipeline = create_pipeline(config, metadata_connection_config=connection)
    handler = progress.attach()
    if runner == "local":
        tfx.orchestration.LocalDagRunner().run(pipeline)
    elif runner == "beam":
        from tfx.orchestration.beam.beam_dag_runner import BeamDagRunner  # pylint: disable=import-outside-toplevel
        BeamDagRunner().run(pipeline)
    else:
        raise ValueError(f"--runner {runner!r} is not one of {RUNNERS}")
    summary = summarize(config, metadata_path)
    summary.component_seconds = dict(handler.durations)
    return summary


def _latest(store, type_name: str):
    artifacts = store.get_artifacts_by_type(type_name)
    return max(artifacts, key=lambda a: a.id) if artifacts else None


def _int_property(artifact, name: str) -> Optional[int]:
    if artifact is None or name not in artifact.custom_properties:
        return None
    return artifact.custom_properties[name].int_value


def summarize(config: PipelineConfig, metadata_path: str) -> RunSummary:
    """Reads this run's Evaluator, blessing and Pusher outputs from MLMD."""
    connection = tfx.orchestration.metadata.sqlite_metadata_connection_config(metadata_path)
    store = metadata_store.MetadataStore(connection)
    evaluation = _latest(store, "ModelEvaluation")
    blessing = _latest(store, "ModelBlessing")
    pushed = _latest(store, "PushedModel")
    metrics = overall_metrics(evaluation.uri) if evaluation is not None else {}
    blessed = _int_property(blessing, "blessed")
    destination = None
    if pushed is not None and "pushed_destination" in pushed.custom_properties:
        destination = pushed.custom_properties["pushed_destination"].string_value
    report = _latest(store, "system.HTML")
    counts = _latest(store, "system.Metrics")
    return RunSummary(pipeline_root=config.pipeline_root, metadata_path=metadata_path,
                      metrics=metrics, blessed=None if blessed is None else bool(blessed),
                      pushed=bool(_int_property(pushed, "pushed")),
                      pushed_destination=destination or None, component_seconds={},
                      report_path=_string_property(report, "report_path"),
                      rejects=_float_property(counts, "rejects"),
                      anomalies=_float_property(counts, "anomalies"),
                      skipped=skipped_count(metrics),
                      tuned={name[len("tuner."):]: value.string_value for name, value in
                             (counts.custom_properties.items() if counts is not None else ())
                             if name.startswith("tuner.")})


def skipped_count(metrics: Dict[str, float]) -> Optional[int]:
    """Held-out records the Evaluator gave weight 0 (undecodable): every record minus the weighted ones."""
    if "example_count" not in metrics or "weighted_example_count" not in metrics:
        return None
    return int(round(metrics["example_count"] - metrics["weighted_example_count"]))


def _string_property(artifact, name: str) -> Optional[str]:
    if artifact is None or name not in artifact.custom_properties:
        return None
    return artifact.custom_properties[name].string_value or None


def _float_property(artifact, name: str) -> Optional[int]:
    if artifact is None or name not in artifact.custom_properties:
        return None
    return int(artifact.custom_properties[name].double_value)


def _count(value: Optional[int]) -> str:
    return "n/a" if value is None else str(value)
