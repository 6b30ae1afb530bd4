"""`mnist`: the four idx files (``.gz`` or not): train 60,000 / test 10,000, 28x28 gray PNG.

Keys are ``<split>/<index:05d>``. Class names are the digit words (slim's list has the
typo 'size' for six; this one says 'six'). Duplicate detection is off by default.
"""
from __future__ import annotations

import gzip
import os
import struct
from typing import Iterator, List, Sequence, Tuple

import numpy as np

from ingestion import records
from ingestion.sources import base
from schemas import fileio

# The https mirror TF's own MNIST tutorials use (yann.lecun.com serves plain http only).
DATA_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/"
# Published md5 of each file (the values torchvision and others verify against).
MD5 = {"train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
       "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
       "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
       "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"}
FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
         "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}
CLASS_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049


def _open(path: str):
    raw = fileio.open_file(path, "rb")
    return gzip.GzipFile(fileobj=raw, mode="rb") if path.endswith(".gz") else raw


def read_idx(path: str, magic: int) -> np.ndarray:
    """An idx file → uint8 array (N,) for labels or (N, rows, cols) for images.
    A file shorter than its header says yields only the complete records."""
    with _open(path) as f:
        header = f.read(8 if magic == LABELS_MAGIC else 16)
        found, count = struct.unpack(">II", header[:8])
        if found != magic:
            raise ValueError(f"{path}: idx magic {found}, expected {magic}")
        shape = (count,) if magic == LABELS_MAGIC else (count,) + struct.unpack(">II", header[8:16])
        data = f.read()
    record = int(np.prod(shape[1:], dtype=np.int64)) if len(shape) > 1 else 1
    complete = min(count, len(data) // record)
    return np.frombuffer(data[:complete * record], dtype=np.uint8).reshape((complete,) + shape[1:])


class _IdxReader(base.ContainerReader):
    """The images of decompressed idx files (47 MB for train)."""

    load_errors = (OSError, ValueError, struct.error, EOFError)

    def load(self, path: str) -> np.ndarray:
        return read_idx(path, IMAGES_MAGIC)

    def read(self, ref: records.ItemRef) -> records.RawItem:
        images = self.records_of(ref)
        if ref.index >= len(images):
            raise records.Rejected(records.TRUNCATED, f"{os.path.basename(ref.locator)} ends "
                                   f"before image {ref.index}")
        return records.RawItem(pixels=images[ref.index])


def find_file(root: str, name: str) -> str:
    """``root/name`` or its un-gzipped twin."""
    for candidate in (name, name[:-3]):
        path = os.path.join(root, candidate)
        if fileio.exists(path):
            return path
    raise FileNotFoundError(f"mnist: {name} not found in {root}")


class MnistSource(base.Source):
    """MNIST idx files; see the module doc."""
    name = "mnist"
    native_splits = ("train", "test")
    dedupe_default = False
    required_files = tuple(name for pair in FILES.values() for name in pair)
    download_urls = {name: DATA_URL + name for name in required_files}
    download_checks = {name: base.Expected(md5=MD5[name]) for name in required_files}
    alternatives = {name: (name[:-3],) for name in required_files}

    def class_names(self, selectors: Sequence[str] = ("*",)) -> List[str]:
        return list(CLASS_NAMES)

    def files(self, split: str) -> Tuple[str, str]:
        images, labels = FILES[split]
        return find_file(self.root, images), find_file(self.root, labels)

    def scan(self, selector: str = "*") -> Iterator[base.ScanResult]:
        splits = list(FILES) if selector in ("*", "") else [selector]
        for split in splits:
            if split not in FILES:
                raise ValueError(f"mnist has splits {list(FILES)}, not {split!r}")
            images_path, labels_path = self.files(split)
            labels = read_idx(labels_path, LABELS_MAGIC)
            for index, label in enumerate(labels.tolist()):
                yield base.indexed_item(f"{split}/{index:05d}", label, CLASS_NAMES, images_path, index, split)

    def open_reader(self) -> base.Reader:
        return _IdxReader()
