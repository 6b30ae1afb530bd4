"""`cifar10`: ``cifar-10-python.tar.gz`` or its ``cifar-10-batches-py/`` pickles.

Native splits: train (data_batch_1..5, 50,000) and test (test_batch, 10,000). Each
record (3072 bytes, CHW) becomes a 32x32 RGB PNG. Keys are ``<batch>/<index:05d>``.
Duplicate detection is off by default so the split sizes stay slim's.
"""
from __future__ import annotations

import os
import pickle
from typing import Iterator, List, Sequence, Tuple

import numpy as np

from ingestion import records
from ingestion.sources import archive, base, safe_pickle
from schemas import fileio

ARCHIVE = "cifar-10-python.tar.gz"
TREE = "cifar-10-batches-py"
DATA_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
ARCHIVE_CHECK = base.Expected(size=170_498_071, md5="c58f30108f718f92721af3b95e74349a")
CLASS_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
BATCHES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}


def load_batch(path: str) -> Tuple[np.ndarray, List[int]]:
    """A CIFAR-10 python pickle → (N x 3072 uint8 array, labels), read with the restricted
    unpickler (a crafted batch raises safe_pickle.UnsafePickle instead of running code)."""
    with fileio.open_file(path, "rb") as f:
        batch = safe_pickle.load(f, encoding="bytes")
    if not isinstance(batch, dict):
        raise KeyError(f"a dict of data and labels, not {type(batch).__name__}")
    data = np.asarray(batch[b"data"], dtype=np.uint8)
    return data, [int(v) for v in batch[b"labels"]]


class _BatchReader(base.ContainerReader):
    """The images of pickled batches (about 30 MB each)."""

    load_errors = (OSError, pickle.UnpicklingError, KeyError, EOFError)

    def load(self, path: str) -> np.ndarray:
        return load_batch(path)[0]

    def read(self, ref: records.ItemRef) -> records.RawItem:
        data = self.records_of(ref)
        if ref.index >= len(data) or data.shape[1] != 3072:
            raise records.Rejected(records.TRUNCATED, f"{ref.locator} has no record {ref.index}")
        return records.RawItem(pixels=data[ref.index].reshape(3, 32, 32).transpose(1, 2, 0))


class Cifar10Source(archive.ArchivedTree, base.Source):
    """CIFAR-10 python batches; see the module doc."""
    name = "cifar10"
    native_splits = ("train", "test")
    dedupe_default = False
    required_files = (ARCHIVE,)
    download_urls = {ARCHIVE: DATA_URL}
    download_checks = {ARCHIVE: ARCHIVE_CHECK}
    alternatives = {ARCHIVE: (TREE,)}
    ARCHIVE, TREE = ARCHIVE, TREE  # for archive.ArchivedTree

    def class_names(self, selectors: Sequence[str] = ("*",)) -> List[str]:
        return list(CLASS_NAMES)

    def scan(self, selector: str = "*") -> Iterator[base.ScanResult]:
        splits = list(BATCHES) if selector in ("*", "") else [selector]
        for split in splits:
            if split not in BATCHES:
                raise ValueError(f"cifar10 has splits {list(BATCHES)}, not {split!r}")
            for batch in BATCHES[split]:
                path = os.path.join(self.tree, batch)
                try:
                    _, labels = load_batch(path)
                except (OSError, pickle.UnpicklingError, KeyError, EOFError) as err:
                    yield records.Reject(batch, records.UNREADABLE, str(err))
                    continue
                for index, label in enumerate(labels):
                    yield base.indexed_item(f"{batch}/{index:05d}", label, CLASS_NAMES, path, index, split)

    def open_reader(self) -> base.Reader:
        return _BatchReader()
