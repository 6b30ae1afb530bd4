"""Collects a run's results and writes the one-file HTML report."""
from __future__ import annotations

import base64
import dataclasses
import html
import os
from typing import Dict, List, Optional, Sequence

import numpy as np

from report import plots, sources, tuning
from schemas import fileio

WORST_IMAGES = 12


@dataclasses.dataclass
class ReportInputs:
    """Where a run's results are; every field but the model and examples is optional.

    Attributes:
      title: the page heading (e.g. the pipeline name).
      saved_model_dir: the serving SavedModel (``eval_examples`` signature).
      dataset_dir: where labels.txt, summary.json and rejects.jsonl are (the ImageExampleGen
        artifact or a `tfslim convert` output directory).
      eval_files: the held-out TFRecords; at most ``max_examples`` of them are scored here for
        the misclassified-image grid (and for the figures when there is no Evaluator output).
      split: the held-out split's name (shown).
      labels_offset: dataset label - model class (slim's --labels_offset).
      evaluation_uri: the Evaluator's output: top-1/top-5 as gated, the confusion matrix and
        per-class precision/recall over the whole eval split; None: computed here.
      blessed / pushed: the Evaluator's verdict and whether the Pusher pushed.
      accuracy_threshold: the gate on top-1.
      train_logdir: the Trainer's TensorBoard directory.
      anomalies_uri: ExampleValidator's output.
      max_examples: at most this many held-out records are re-scored (for the image grid).
      trials_path: the Tuner's trials.json (components/tuning/executor.py); None: no search.
    """

    title: str
    saved_model_dir: str
    dataset_dir: str
    eval_files: Sequence[str]
    split: str = "eval"
    labels_offset: int = 0
    evaluation_uri: Optional[str] = None
    blessed: Optional[bool] = None
    pushed: Optional[bool] = None
    accuracy_threshold: Optional[float] = None
    train_logdir: Optional[str] = None
    anomalies_uri: Optional[str] = None
    max_examples: int = 2000
    trials_path: Optional[str] = None


@dataclasses.dataclass
class ReportSummary:
    """What the report says in numbers (also what Kubeflow's Metrics artifact gets)."""

    path: str
    top1: Optional[float]
    top5: Optional[float]
    baseline_top1: Optional[float]
    blessed: Optional[bool]
    pushed: Optional[bool]
    num_eval: int
    num_rejects: int
    num_skipped: int
    num_anomalies: int
    confusion: List[List[int]]
    class_names: List[str]
    num_scored: int = 0
    train_loss: Optional[float] = None
    matrix_source: str = "scored"
    # The winning trial's values ({'train.opt_epsilon': 1e-08}); {} without a Tuner.
    tuned: Dict[str, object] = dataclasses.field(default_factory=dict)

    def metrics(self) -> Dict[str, float]:
        """The numbers of the KFP Metrics artifact (and of `tfslim run`'s summary)."""
        out = {"eval_examples": float(self.num_eval), "rejects": float(self.num_rejects),
               "skipped": float(self.num_skipped), "anomalies": float(self.num_anomalies)}
        for key in ("top1", "top5", "baseline_top1", "train_loss"):
            if getattr(self, key) is not None:
                out[key] = float(getattr(self, key))
        for key in ("blessed", "pushed"):
            if getattr(self, key) is not None:
                out[key] = 1.0 if getattr(self, key) else 0.0
        return out


def class_names(dataset_dir: str, num_classes: int, labels_offset: int) -> List[str]:
    """Model class i → the ExampleGen's name of dataset label i + labels_offset."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    from schemas import labels as labels_lib  # pylint: disable=import-outside-toplevel

    path = labels_lib.labels_path(dataset_dir)
    labels = labels_lib.read_label_file(path) if tf.io.gfile.exists(path) else {}
    return [labels.get(i + labels_offset, str(i + labels_offset)) for i in range(num_classes)]


def confusion(predictions: sources.Predictions, num_classes: int) -> np.ndarray:
    matrix = np.zeros([num_classes, num_classes], np.int64)
    valid = (predictions.labels >= 0) & (predictions.labels < num_classes)
    np.add.at(matrix, (predictions.labels[valid], predictions.predicted[valid]), 1)
    return matrix


def confusion_from_entries(entries: Dict[tuple, float], num_classes: int, labels_offset: int) -> np.ndarray:
    """The model-class matrix from TFMA's (actual, predicted) dataset-label counts.

    The Evaluator scores ``dataset_scores`` indexed by dataset label (model class +
    labels_offset); a label outside the model's classes (below the offset) is left out.
    """
    matrix = np.zeros([num_classes, num_classes], np.int64)
    for (actual, predicted), count in entries.items():
        row, column = actual - labels_offset, predicted - labels_offset
        if 0 <= row < num_classes and 0 <= column < num_classes:
            matrix[row, column] += int(round(count))
    return matrix


def precision_recall(matrix: np.ndarray):
    with np.errstate(invalid="ignore", divide="ignore"):
        correct = np.diag(matrix).astype(float)
        return correct / matrix.sum(axis=0), correct / matrix.sum(axis=1)


def _decode(image_bytes: bytes) -> np.ndarray:
    import io  # pylint: disable=import-outside-toplevel
    from PIL import Image  # pylint: disable=import-outside-toplevel

    with Image.open(io.BytesIO(image_bytes)) as image:
        return np.asarray(image.convert("RGB"))


def _img(png: bytes, alt: str) -> str:
    return (f'<img alt="{html.escape(alt)}" src="data:image/png;base64,'
            f'{base64.b64encode(png).decode("ascii")}">')


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return "n/a" if np.isnan(value) else f"{value:.3f}"
    return str(value)


def _verdict(value: Optional[bool], yes: str, no: str) -> str:
    if value is None:
        return '<span class="na">n/a</span>'
    return f'<span class="{"ok" if value else "bad"}">{yes if value else no}</span>'


CSS = """body{font-family:system-ui,sans-serif;margin:24px;max-width:1150px;color:#222}
h1{margin-bottom:4px}h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;
text-align:left;font-size:14px}th{background:#f4f4f4}.ok{color:#0a7d22;font-weight:bold}
.bad{color:#b00020;font-weight:bold}.na{color:#888}img{max-width:100%}
.cards{display:flex;gap:16px;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:6px;
padding:10px 16px;min-width:150px}.card b{font-size:24px;display:block}.muted{color:#666}"""


def write_report(inputs: ReportInputs, output_path: str) -> ReportSummary:
    """Writes the HTML report to ``output_path`` (one file) and returns its numbers."""
    # Re-scored only for the misclassified grid (bounded); the figures are the Evaluator's.
    predictions = sources.predict_examples(inputs.saved_model_dir, inputs.eval_files,
                                           inputs.labels_offset, inputs.max_examples)
    num_classes = predictions.scores.shape[-1]
    names = class_names(inputs.dataset_dir, num_classes, inputs.labels_offset)
    entries = sources.confusion_entries(inputs.evaluation_uri) if inputs.evaluation_uri else None
    evaluated = sources.overall_metrics(inputs.evaluation_uri) if inputs.evaluation_uri else {}
    scored = len(predictions.labels)
    if entries is not None:
        matrix = confusion_from_entries(entries, num_classes, inputs.labels_offset)
        # Weight-0 (undecodable) records add nothing to the matrix; example_count counts every record.
        count = int(matrix.sum())
        skipped = max(0, int(round(evaluated.get("example_count", count))) - count)
    else:
        matrix, count, skipped = confusion(predictions, num_classes), scored, len(predictions.skipped)
    precision, recall = precision_recall(matrix)
    baseline = (sources.overall_metrics(inputs.evaluation_uri, model_name="baseline")
                if inputs.evaluation_uri else {})
    top1 = evaluated.get("sparse_categorical_accuracy",
                         float(np.mean(predictions.labels == predictions.predicted)) if scored else None)
    top5 = evaluated.get("top_5_accuracy", _top_k(predictions, 5) if scored else None)
    summary_json, rejects = sources.read_ingestion(inputs.dataset_dir)
    anomalies = sources.read_anomalies(inputs.anomalies_uri)
    curves = sources.read_scalars(inputs.train_logdir) if inputs.train_logdir else {}
    source = (f"the Evaluator's, over all {count} decodable held-out images" if entries is not None
              else f"from the {scored} held-out images scored here")
    search = sources.read_trials(inputs.trials_path) if inputs.trials_path else {}
    best = tuning.best_trial(search)

    parts = [f"<h1>{html.escape(inputs.title)}</h1>",
             f'<p class="muted">{count} held-out images ({html.escape(inputs.split)} split), '
             f"{skipped} skipped (undecodable), {num_classes} classes. "
             f"Model: {html.escape(fileio.display_uri(inputs.saved_model_dir))}; data: "
             f"{html.escape(fileio.display_uri(inputs.dataset_dir))}</p>"]
    gate = inputs.accuracy_threshold
    cards = [("held-out top-1", _fmt(top1) if top1 is not None else "n/a"),
             ("top-5", _fmt(top5) if top5 is not None else "n/a"),
             ("gate (top-1 ≥)", _fmt(gate) if gate is not None else "n/a"),
             ("baseline top-1", _fmt(baseline["sparse_categorical_accuracy"])
              if "sparse_categorical_accuracy" in baseline else "none yet")]
    parts.append('<div class="cards">' + "".join(
        f'<div class="card">{html.escape(k)}<b>{html.escape(v)}</b></div>' for k, v in cards) + "</div>")
    parts.append(f"<p>Evaluator: {_verdict(inputs.blessed, 'blessed', 'not blessed')} &nbsp; "
                 f"Pusher: {_verdict(inputs.pushed, 'pushed', 'not pushed')} &nbsp; "
                 f"rejects: {len(rejects)} &nbsp; skipped: {skipped} &nbsp; "
                 f"anomalies: {len(anomalies)}</p>")

    parts.append("<h2>Confusion matrix</h2>")
    parts.append(f'<p class="muted">Confusion matrix and per-class figures: {html.escape(source)}.</p>')
    parts.append(_img(plots.confusion_matrix(matrix, names), "confusion matrix"))
    parts.append("<h2>Per-class precision and recall</h2>")
    parts.append(_img(plots.per_class(precision, recall, names), "per-class precision and recall"))
    parts.append(_table(["class", "precision", "recall", "held-out images"],
                        [(n, float(p), float(r), int(t)) for n, p, r, t in
                         zip(names, precision, recall, matrix.sum(axis=1))]))

    parts.append("<h2>Worst misclassified images</h2>")
    parts.append(f'<p class="muted">Among the {scored} held-out images re-scored for this grid '
                 f"(at most {inputs.max_examples}).</p>")
    wrong = np.flatnonzero(predictions.labels != predictions.predicted)
    wrong = wrong[np.argsort(-predictions.confidence[wrong])][:WORST_IMAGES]
    if len(wrong):
        captions = [f"true {_name(names, predictions.labels[i])}\npred {names[predictions.predicted[i]]} "
                    f"({predictions.confidence[i]:.2f})" for i in wrong]
        parts.append(_img(plots.image_grid([_decode(predictions.images[i]) for i in wrong], captions),
                          "worst misclassified images"))
        parts.append(_table(["file", "true", "predicted", "confidence"],
                            [(predictions.filenames[i], _name(names, predictions.labels[i]),
                              names[predictions.predicted[i]], float(predictions.confidence[i]))
                             for i in wrong]))
    else:
        parts.append("<p>No held-out image was misclassified.</p>")

    if search:
        headers, trial_rows = tuning.rows(search)
        parts.append(f"<h2>Hyperparameter search ({len(trial_rows)} trials)</h2>")
        parts.append(f"<p>{html.escape(tuning.verdict(search))}</p>")
        parts.append(_table(headers, trial_rows))

    parts.append("<h2>Training curves</h2>")
    parts.append(_img(plots.curves(curves), "training curves") if curves else
                 "<p class='muted'>No TensorBoard scalars found.</p>")

    parts.append("<h2>Ingestion</h2>")
    parts.append(_ingestion(summary_json))
    parts.append(f"<h3>Rejects ({len(rejects)})</h3>")
    parts.append(_table(["file", "reason", "detail"],
                        [(r.get("path", ""), r.get("reason", ""), r.get("detail", r.get("message", "")))
                         for r in rejects]) if rejects else "<p>No input was rejected.</p>")
    # Kept by ingestion's structural checks, refused by TF's decoder: weight 0 in the Evaluator.
    parts.append(f"<h3>Skipped at evaluation: image could not be decoded ({skipped})</h3>")
    parts.append(_table(["file"], [(name,) for name in predictions.skipped]) if predictions.skipped
                 else "<p>Every held-out image decoded.</p>")
    parts.append(f"<h2>ExampleValidator anomalies ({len(anomalies)})</h2>")
    parts.append(_table(["split", "feature", "severity", "description"],
                        [(a["split"], a["feature"], a["severity"], a["description"]) for a in anomalies])
                 if anomalies else "<p>No anomalies against the schema.</p>")

    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(inputs.title)}"
            f"</title><style>{CSS}</style></head><body>{''.join(parts)}</body></html>")
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    directory = os.path.dirname(output_path)
    if directory:
        tf.io.gfile.makedirs(directory)
    with tf.io.gfile.GFile(output_path, "w") as f:
        f.write(page)
    return ReportSummary(path=output_path, top1=top1, top5=top5,
                         baseline_top1=baseline.get("sparse_categorical_accuracy"),
                         blessed=inputs.blessed, pushed=inputs.pushed, num_eval=count,
                         num_rejects=len(rejects), num_skipped=skipped,
                         num_anomalies=len(anomalies),
                         confusion=matrix.tolist(), class_names=names, num_scored=scored,
                         train_loss=curves["loss"][-1][1] if curves.get("loss") else None,
                         matrix_source="evaluator" if entries is not None else "scored",
                         tuned=dict(best["values"]) if best else {})


def _name(names: Sequence[str], index: int) -> str:
    return names[index] if 0 <= index < len(names) else f"label {index}"


def _top_k(predictions: sources.Predictions, k: int) -> float:
    k = min(k, predictions.scores.shape[-1])
    top = np.argsort(-predictions.scores, axis=-1)[:, :k]
    return float(np.mean([label in row for label, row in zip(predictions.labels, top)]))


def _ingestion(summary: dict) -> str:
    if not summary:
        return "<p class='muted'>No summary.json beside the examples.</p>"
    rows = []
    for key, value in summary.items():
        if key == "splits" and isinstance(value, dict):
            for split, info in value.items():
                per_class = info.get("per_class", {}) if isinstance(info, dict) else {}
                count = info.get("count", info) if isinstance(info, dict) else info
                rows.append((f"split {split}", f"{count} images" + (
                    " (" + ", ".join(f"{k} {v}" for k, v in per_class.items()) + ")" if per_class else "")))
        elif isinstance(value, dict):
            rows.append((key, ", ".join(f"{k}: {v}" for k, v in value.items()) or "none"))
        else:
            rows.append((key, value))
    return _table(["", "value"], rows)
