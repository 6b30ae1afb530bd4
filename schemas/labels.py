"""labels.txt (slim's ``N:name`` lines) and the files the ExampleGen writes beside its splits.

Inside an Examples artifact URI the ExampleGen writes ``Split-<name>/`` plus
``labels.txt``, ``rejects.jsonl`` (one JSON object per input not converted) and
``summary.json`` (counts per split, class and reject reason). The trainer and pusher
find them with the path helpers below.
"""
from __future__ import annotations

import json
import os
from typing import Dict, Iterable, List

from schemas import fileio, layout

LABELS_FILENAME = "labels.txt"
REJECTS_FILENAME = "rejects.jsonl"
SUMMARY_FILENAME = "summary.json"


def labels_path(examples_uri: str) -> str:
    """``<examples_uri>/labels.txt``."""
    return os.path.join(examples_uri, LABELS_FILENAME)


def rejects_path(examples_uri: str) -> str:
    """``<examples_uri>/rejects.jsonl``."""
    return os.path.join(examples_uri, REJECTS_FILENAME)


def summary_path(examples_uri: str) -> str:
    """``<examples_uri>/summary.json``."""
    return os.path.join(examples_uri, SUMMARY_FILENAME)


def num_classes(labels: Dict[int, str], labels_offset: int = 0) -> int:
    """The model's output count for a labels.txt: ``max(N) + 1 - labels_offset``.

    The one class-count formula: the largest index bounds the labels in the records,
    so a gap in the numbering never yields a model too small for its labels.
    """
    if not labels:
        raise ValueError("labels.txt names no classes; write it with `tfslim convert`.")
    return max(labels) + 1 - labels_offset


def read_label_file(path: str) -> Dict[int, str]:
    """Reads ``N:name`` lines, splitting at the first ':' as slim's read_label_file does."""
    if not fileio.exists(path):
        raise FileNotFoundError(f"Label file {path} does not exist; the ImageExampleGen and "
                                "`tfslim convert` write it next to the examples.")
    labels: Dict[int, str] = {}
    with fileio.open_file(path, "r") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if not line:
                continue
            index, sep, name = line.partition(":")
            if not sep or not index.strip().isdigit():
                raise ValueError(f"{path}:{lineno}: expected 'N:name', got {line!r}")
            labels[int(index)] = name
    return labels


def examples_labels(split_files: str) -> Dict[int, str]:
    """The labels.txt of the Examples artifact that a split's file pattern lies in
    (what the TFX Trainer and Tuner get as ``fn_args.train_files[0]``)."""
    return read_label_file(labels_path(layout.examples_root(split_files)))


def write_label_file(labels: Dict[int, str], path: str) -> None:
    """Writes ``N:name`` lines sorted by N (slim's write_label_file format)."""
    for name in labels.values():
        if "\n" in name:
            raise ValueError(f"class name {name!r} contains a newline")
    directory = os.path.dirname(path)
    if directory:
        fileio.makedirs(directory)
    with fileio.open_file(path, "w") as f:
        f.write("".join(f"{index}:{labels[index]}\n" for index in sorted(labels)))


def write_rejects(rejects: Iterable[Dict[str, str]], path: str) -> None:
    """rejects.jsonl, sorted by path then reason so reruns write identical bytes."""
    ordered = sorted(rejects, key=lambda r: (r["path"], r["reason"], r.get("detail", "")))
    lines = [json.dumps(r, sort_keys=True) for r in ordered]
    with fileio.open_file(path, "w") as f:
        f.write("".join(line + "\n" for line in lines))


def read_rejects(path: str) -> List[Dict[str, str]]:
    """The rejects.jsonl entries ({'path', 'reason'[, 'detail']})."""
    with fileio.open_file(path, "r") as f:
        return [json.loads(line) for line in f if line.strip()]
