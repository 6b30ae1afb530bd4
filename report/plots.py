"""The report's figures, drawn with matplotlib (Agg) and returned as PNG bytes."""
from __future__ import annotations

import io
from typing import Dict, List, Sequence, Tuple

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  pylint: disable=wrong-import-position
import numpy as np  # noqa: E402  pylint: disable=wrong-import-position

DPI = 100


def png(figure) -> bytes:
    """The figure as PNG bytes (then closed); the walkthrough notebook shows its own figures with it."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def confusion_matrix(matrix: np.ndarray, class_names: Sequence[str]) -> bytes:
    """Rows: true class, columns: predicted class; counts in the cells, rows coloured by recall."""
    n = len(class_names)
    side = min(12.0, 2.0 + 0.45 * n)
    figure, axes = plt.subplots(figsize=(side, side))
    totals = matrix.sum(axis=1, keepdims=True)
    shares = np.divide(matrix, totals, out=np.zeros_like(matrix, dtype=float), where=totals > 0)
    image = axes.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    axes.set_xticks(range(n), labels=class_names, rotation=45, ha="right")
    axes.set_yticks(range(n), labels=class_names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    if n <= 30:
        for i in range(n):
            for j in range(n):
                if matrix[i, j]:
                    axes.text(j, i, str(int(matrix[i, j])), ha="center", va="center", fontsize=8,
                              color="white" if shares[i, j] > 0.5 else "black")
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04, label="share of the true class")
    axes.set_title("Confusion matrix (held-out split)")
    return png(figure)


def per_class(precision: np.ndarray, recall: np.ndarray, class_names: Sequence[str]) -> bytes:
    """Grouped bars of precision and recall per class."""
    n = len(class_names)
    figure, axes = plt.subplots(figsize=(max(6.0, 0.6 * n + 2), 3.5))
    x = np.arange(n)
    axes.bar(x - 0.2, np.nan_to_num(precision), width=0.4, label="precision")
    axes.bar(x + 0.2, np.nan_to_num(recall), width=0.4, label="recall")
    axes.set_xticks(x, labels=class_names, rotation=45, ha="right")
    axes.set_ylim(0, 1.05)
    axes.legend(loc="lower right")
    axes.set_title("Per-class precision and recall")
    return png(figure)


def image_grid(images: List[np.ndarray], captions: List[str], columns: int = 4) -> bytes:
    """Decoded images in a grid with a caption under each."""
    rows = max(1, (len(images) + columns - 1) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(2.6 * columns, 2.9 * rows), squeeze=False)
    for index, cell in enumerate(axes.flat):
        cell.axis("off")
        if index < len(images):
            image = images[index]
            cell.imshow(image.squeeze(), cmap="gray" if image.shape[-1] == 1 else None,
                        interpolation="nearest")
            cell.set_title(captions[index], fontsize=8)
    figure.suptitle("Worst misclassified held-out images (most confident mistakes first)", y=1.02)
    return png(figure)


def curves(series: Dict[str, List[Tuple[int, float]]]) -> bytes:
    """One panel per curve (loss, accuracy, learning rate) against the training step."""
    names = list(series)
    figure, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.2), squeeze=False)
    for cell, name in zip(axes.flat, names):
        steps, values = zip(*series[name]) if series[name] else ((), ())
        cell.plot(steps, values, marker="." if len(steps) < 30 else None)
        cell.set_title(name)
        cell.set_xlabel("step")
        cell.grid(alpha=0.3)
    figure.suptitle("Training (TensorBoard scalars of the Trainer)", y=1.06)
    return png(figure)
