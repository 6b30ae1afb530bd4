"""Reads what a run left behind: eval predictions, TensorBoard scalars, rejects, anomalies, TFMA metrics."""
from __future__ import annotations

import dataclasses
import glob
import json
import os
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from schemas import features, layout
from serving.signatures import DECODABLE, EVAL_EXAMPLES

SCALAR_TAGS = {"loss": ("total_loss", "losses/cross_entropy"), "accuracy": ("accuracy",),
               "learning rate": ("learning_rate",)}


@dataclasses.dataclass
class Predictions:
    """The model's answers on the held-out split (labels are model classes: label - offset)."""

    labels: np.ndarray
    predicted: np.ndarray
    scores: np.ndarray  # [N, K] softmax
    images: List[bytes]
    filenames: List[str]
    # Records whose image could not be decoded: left out of everything above.
    skipped: List[str] = dataclasses.field(default_factory=list)

    @property
    def confidence(self) -> np.ndarray:
        return self.scores[np.arange(len(self.predicted)), self.predicted]


def eval_files(examples_uri: str, split: str = "eval") -> List[str]:
    """The split's TFRecord shards in an Examples artifact (``Split-<split>/*``)."""
    return sorted(layout.find_split_files(examples_uri, "examples", split))


def predict_examples(saved_model_dir: str, files: Sequence[str], labels_offset: int = 0,
                     max_examples: int = 2000, batch_size: int = 64) -> Predictions:
    """Runs the SavedModel's ``eval_examples`` signature over up to ``max_examples`` records
    (``serving_examples``'s answers); a record whose image cannot be decoded is skipped
    and named in ``skipped``, as the Evaluator gives it weight 0."""
    loaded = tf.saved_model.load(saved_model_dir)
    serve = loaded.signatures[EVAL_EXAMPLES]
    spec = {features.ENCODED: tf.io.FixedLenFeature([], tf.string),
            features.LABEL: tf.io.FixedLenFeature([], tf.int64),
            features.FILENAME: tf.io.FixedLenFeature([], tf.string, default_value="")}
    dataset = tf.data.TFRecordDataset(list(files), compression_type=layout.compression_of(files))
    labels, scores, images, names, skipped = [], [], [], [], []
    for batch in dataset.take(max_examples).batch(batch_size):
        parsed = tf.io.parse_example(batch, spec)
        out = serve(examples=batch)
        kept = out[DECODABLE].numpy() > 0
        batch_names = [x.decode("utf-8", "replace") for x in parsed[features.FILENAME].numpy()]
        skipped.extend(name for name, keep in zip(batch_names, kept) if not keep)
        scores.append(out["scores"].numpy()[kept])
        labels.extend(int(x) - labels_offset for x in parsed[features.LABEL].numpy()[kept])
        images.extend(parsed[features.ENCODED].numpy()[kept].tolist())
        names.extend(name for name, keep in zip(batch_names, kept) if keep)
    score_array = np.concatenate(scores) if scores else np.zeros([0, 1], np.float32)
    return Predictions(labels=np.asarray(labels, np.int64), predicted=score_array.argmax(-1)
                       if len(score_array) else np.zeros([0], np.int64),
                       scores=score_array, images=images, filenames=names, skipped=skipped)


def read_scalars(logdir: str) -> Dict[str, List[Tuple[int, float]]]:
    """{curve name: [(step, value)]} from the TensorBoard event files under ``logdir``."""
    by_tag: Dict[str, Dict[int, float]] = {}
    for path in sorted(tf.io.gfile.glob(os.path.join(logdir, "**", "events.out.tfevents.*"))
                       + tf.io.gfile.glob(os.path.join(logdir, "events.out.tfevents.*"))):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                array = (tf.make_ndarray(value.tensor) if value.HasField("tensor")
                         else np.asarray(value.simple_value))
                if array.size == 1 and array.dtype.kind == "f":  # scalars, not images
                    by_tag.setdefault(value.tag, {})[int(event.step)] = float(array.reshape(()))
    curves = {}
    for name, tags in SCALAR_TAGS.items():
        tag = next((t for t in tags if t in by_tag), None)
        if tag is not None:
            curves[name] = sorted(by_tag[tag].items())
    return curves


def read_ingestion(examples_uri: str) -> Tuple[dict, List[dict]]:
    """The ExampleGen's summary.json and rejects.jsonl (either may be absent)."""
    from schemas import labels as labels_lib  # pylint: disable=import-outside-toplevel

    summary, rejects = {}, []
    if tf.io.gfile.exists(labels_lib.summary_path(examples_uri)):
        with tf.io.gfile.GFile(labels_lib.summary_path(examples_uri)) as f:
            summary = json.load(f)
    if tf.io.gfile.exists(labels_lib.rejects_path(examples_uri)):
        with tf.io.gfile.GFile(labels_lib.rejects_path(examples_uri)) as f:
            rejects = [json.loads(line) for line in f if line.strip()]
    return summary, rejects


def read_trials(path: str) -> dict:
    """The Tuner's trials.json ({} when the file is absent)."""
    if not tf.io.gfile.exists(path):
        return {}
    with tf.io.gfile.GFile(path) as f:
        return json.load(f)


def read_anomalies(anomalies_uri: Optional[str]) -> List[dict]:
    """ExampleValidator's anomalies per split: [{split, feature, severity, description}]."""
    from tensorflow_metadata.proto.v0 import anomalies_pb2  # pylint: disable=import-outside-toplevel

    out = []
    if not anomalies_uri:
        return out
    for path in sorted(glob.glob(os.path.join(anomalies_uri, "Split-*", "SchemaDiff.pb"))):
        split = os.path.basename(os.path.dirname(path))[len("Split-"):]
        with open(path, "rb") as f:
            anomalies = anomalies_pb2.Anomalies.FromString(f.read())
        for feature, info in sorted(anomalies.anomaly_info.items()):
            out.append({"split": split, "feature": feature,
                        "severity": anomalies_pb2.AnomalyInfo.Severity.Name(info.severity),
                        "description": info.description or info.short_description})
        if anomalies.HasField("dataset_anomaly_info"):
            info = anomalies.dataset_anomaly_info
            out.append({"split": split, "feature": "(dataset)",
                        "severity": anomalies_pb2.AnomalyInfo.Severity.Name(info.severity),
                        "description": info.description or info.short_description})
    return out


def _load_eval_result(evaluation_uri: str, model_name: Optional[str] = None):
    """TFMA's EvalResult, or None when the model is absent (the first run has no baseline)."""
    import tensorflow_model_analysis as tfma  # pylint: disable=import-outside-toplevel

    from absl import logging as absl_logging  # pylint: disable=import-outside-toplevel

    # TFMA warns once per plot when the model is absent.
    verbosity = absl_logging.get_verbosity()
    absl_logging.set_verbosity(absl_logging.ERROR)
    try:
        return tfma.load_eval_result(evaluation_uri, model_name=model_name)
    except Exception:  # pylint: disable=broad-except  # no such model in the result (no baseline)
        return None
    finally:
        absl_logging.set_verbosity(verbosity)


def overall_metrics(evaluation_uri: str, model_name: Optional[str] = None) -> Dict[str, float]:
    """Metric name → value on the overall slice of a TFMA evaluation ({} when absent)."""
    result = _load_eval_result(evaluation_uri, model_name)
    out: Dict[str, float] = {}
    for slice_key, by_output in (result.slicing_metrics if result else []):
        if slice_key != ():
            continue
        for by_sub_key in by_output.values():
            # Per-class metrics live under sub keys (classId:N); keep the overall ones.
            for values in (v for k, v in by_sub_key.items() if k == ""):
                for name, value in values.items():
                    if isinstance(value, dict) and "doubleValue" in value:
                        out[name] = float(value["doubleValue"])
    return out


def confusion_entries(evaluation_uri: str) -> Optional[Dict[Tuple[int, int], float]]:
    """The Evaluator's MultiClassConfusionMatrixPlot on the overall slice: (actual dataset label,
    predicted dataset label) → weighted count over the whole eval split; None when absent.

    Undecodable records have example weight 0 (pipeline.pipeline.eval_config), so the counts
    total the decodable held-out records.
    """
    result = _load_eval_result(evaluation_uri)
    for slice_key, by_output in (result.plots if result else []):
        if slice_key != ():
            continue
        for by_sub_key in by_output.values():
            plot = by_sub_key.get("", {}).get("multiClassConfusionMatrixAtThresholds")
            if not plot or not plot.get("matrices"):
                continue
            entries: Dict[Tuple[int, int], float] = {}
            # JSON leaves out zero fields: an entry without actualClassId is class 0.
            for entry in plot["matrices"][0].get("entries", []):
                key = (int(entry.get("actualClassId", 0)), int(entry.get("predictedClassId", 0)))
                entries[key] = entries.get(key, 0.0) + float(entry.get("numWeightedExamples", 0.0))
            return entries
    return None
