"""slim's labels.txt (``N:name`` lines): read and write."""
from __future__ import annotations

from typing import Dict

import tensorflow as tf


def read_label_file(path: str) -> Dict[int, str]:
    """Reads ``N:name`` lines (split at the first ':', as slim's read_label_file)."""
    if not tf.io.gfile.exists(path):
        raise FileNotFoundError(f"Label file {path} does not exist; it is written by the "
                                "ExampleGen / `tfslim convert` next to the TFRecords.")
    labels: Dict[int, str] = {}
    with tf.io.gfile.GFile(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line:
                continue
            index, sep, name = line.partition(":")
            if not sep or not index.strip().isdigit():
                raise ValueError(f"{path}:{lineno}: expected 'N:name', got {line!r}")
            labels[int(index)] = name
    return labels


def write_label_file(labels: Dict[int, str], path: str) -> None:
    """Writes ``N:name`` lines sorted by N."""
    with tf.io.gfile.GFile(path, "w") as f:
        for index in sorted(labels):
            f.write(f"{index}:{labels[index]}\n")
