"""Checks on a batch of serving outputs: the contract of trainer/export/saved_model.py's signatures.

Each function returns a list of problems (empty = fine), so the probe can report
every failure at once instead of stopping at the first.
"""
from __future__ import annotations

from typing import List, Mapping, Sequence

import numpy as np

from serving.signatures import OUTPUT_KEYS

SUM_TOLERANCE = 1e-3


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def check_outputs(outputs: Mapping[str, np.ndarray], batch: int, class_names: Sequence[str],
                  top_k: int, path: str) -> List[str]:
    """Shapes, probability sums, label/class consistency and top-k order of one answer."""
    problems: List[str] = []
    missing = [k for k in OUTPUT_KEYS if k not in outputs]
    if missing:
        return [f"{path}: outputs {missing} missing (have {sorted(outputs)})"]
    num_classes = len(class_names)
    expected = {"classes": (batch,), "scores": (batch, num_classes), "labels": (batch,),
                "top_k_classes": (batch, top_k), "top_k_scores": (batch, top_k),
                "top_k_labels": (batch, top_k)}
    for key, shape in expected.items():
        got = tuple(np.shape(outputs[key]))
        if got != shape:
            problems.append(f"{path}: {key} has shape {got}, expected {shape}")
    if problems:
        return problems
    scores = np.asarray(outputs["scores"], dtype=np.float64)
    classes = np.asarray(outputs["classes"]).astype(np.int64)
    if not np.all(np.isfinite(scores)):
        problems.append(f"{path}: scores contain NaN/inf")
    if np.any(scores < 0) or np.any(np.abs(scores.sum(axis=1) - 1.0) > SUM_TOLERANCE):
        worst = float(np.max(np.abs(scores.sum(axis=1) - 1.0)))
        problems.append(f"{path}: scores are not probabilities (max |sum-1| = {worst:.2e})")
    if np.any(classes < 0) or np.any(classes >= num_classes):
        problems.append(f"{path}: classes outside [0, {num_classes})")
        return problems
    if not np.array_equal(classes, np.argmax(scores, axis=1)):
        problems.append(f"{path}: classes != argmax(scores)")
    labels = [_text(v) for v in np.asarray(outputs["labels"]).reshape(-1)]
    if labels != [class_names[c] for c in classes]:
        problems.append(f"{path}: labels do not name the classes (labels.txt mismatch)")
    top_classes = np.asarray(outputs["top_k_classes"]).astype(np.int64)
    top_scores = np.asarray(outputs["top_k_scores"], dtype=np.float64)
    if not np.array_equal(top_classes[:, 0], classes):
        problems.append(f"{path}: top_k_classes[:, 0] != classes")
    if np.any(np.diff(top_scores, axis=1) > 1e-7):
        problems.append(f"{path}: top_k_scores are not sorted best first")
    if not np.allclose(np.take_along_axis(scores, top_classes, axis=1), top_scores, atol=1e-6):
        problems.append(f"{path}: top_k_scores do not match scores[top_k_classes]")
    top_labels = [[_text(v) for v in row] for row in np.asarray(outputs["top_k_labels"])]
    if top_labels != [[class_names[c] for c in row] for row in top_classes]:
        problems.append(f"{path}: top_k_labels do not name top_k_classes")
    return problems


def check_agreement(reference: Mapping[str, np.ndarray], other: Mapping[str, np.ndarray],
                    what: str, atol: float = 1e-5) -> List[str]:
    """Two request paths on the same images must give the same classes and scores."""
    problems = []
    if not np.array_equal(np.asarray(reference["classes"]), np.asarray(other["classes"])):
        problems.append(f"{what}: classes differ")
    ref, got = np.asarray(reference["scores"]), np.asarray(other["scores"])
    if ref.shape != got.shape or not np.allclose(ref, got, atol=atol):
        diff = float(np.max(np.abs(ref - got))) if ref.shape == got.shape else float("inf")
        problems.append(f"{what}: scores differ (max |diff| = {diff:.2e} > {atol})")
    return problems


def percentile_ms(seconds: Sequence[float], q: float) -> float:
    """The q-th percentile of durations, in milliseconds."""
    return float(np.percentile(np.asarray(seconds) * 1000.0, q)) if len(seconds) else float("nan")
