"""`tfrecord`: existing slim-format TFRecords, validated and re-written (re-split if asked).

``root``: a directory (every ``*.tfrecord*`` / ``*-of-*`` file in it), a file, or a glob.
``.gz`` files are read as GZIP. Each record must parse as a tf.Example with
``image/encoded`` and ``image/class/label``; its image goes through the same storage
policy as files (so slim's old ``b'jpg'``/``b'raw'``-less records come out uniform,
height/width from the header). The native split of a file is taken from its name
(``flowers_train-…``, ``…_validation_…``, ``test``; anything else is ``train``).
Labels come from ``labels.txt`` beside the files when present (a label not in it is
rejected as out of range), else from the records' ``image/class/text``.
Keys: the record's ``image/filename`` when present, else ``<file name>:<index>``.
Bounding-box features (``image/object/*``) are carried over.

The only source that imports TensorFlow (to read and parse the records), when used.
"""
from __future__ import annotations

import dataclasses
import os
import re
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from ingestion.formats import example as example_lib
from schemas import dataset_check, fileio, labels as labels_lib, layout
from ingestion import records
from ingestion.sources import base

_SPLIT_RE = re.compile(r"(?:^|[_\-.])(train|validation|test|eval)(?=[_\-.]|$)")
SPLIT_NAMES = ("train", "validation", "test", "eval")


def split_of(filename: str) -> str:
    """The split named in a shard's file name ('train' when none is)."""
    match = _SPLIT_RE.search(os.path.basename(filename))
    return match.group(1) if match else "train"


def _compression(path: str) -> str:
    return layout.compression_of([path])


def iterate_records(path: str, start: int = 0) -> Iterator[Tuple[int, bytes]]:
    """(index, serialized record) from ``start`` on; a corrupt tail ends the iteration
    with a Rejected carrying the index where reading failed."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    dataset = tf.data.TFRecordDataset(path, compression_type=_compression(path)).skip(start)
    index = start
    iterator = iter(dataset)
    while True:
        try:
            record = next(iterator)
        except StopIteration:
            return
        except tf.errors.OpError as err:
            raise records.Rejected(records.TRUNCATED, f"{os.path.basename(path)} record "
                                   f"{index}: {err.message}") from None
        yield index, record.numpy()
        index += 1


def _parse(data: bytes):
    """A serialized tf.Example → tf.train.Example (raises on bad bytes)."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    return tf.train.Example.FromString(data)


def _scalar(feature, kind):
    values = getattr(feature, kind).value
    return values[0] if len(values) == 1 else None


class _RecordReader(base.Reader):
    """Sequential reads: a shard's items are in (file, index) order, so one open
    iterator per file serves them; a backwards jump reopens the file."""

    def __init__(self):
        self._path: Optional[str] = None
        self._iterator: Optional[Iterator[Tuple[int, bytes]]] = None
        self._next = 0

    def _record(self, ref: records.ItemRef) -> bytes:
        if ref.locator != self._path or ref.index < self._next:
            self._path, self._next = ref.locator, ref.index
            self._iterator = iterate_records(ref.locator, ref.index)
        for index, data in self._iterator:
            self._next = index + 1
            if index == ref.index:
                return data
        raise records.Rejected(records.TRUNCATED, f"{ref.locator} has no record {ref.index}")

    def size(self, ref: records.ItemRef) -> None:
        return None  # records inside a container: hash them all

    def read(self, ref: records.ItemRef) -> records.RawItem:
        example = _parse(self._record(ref))
        features = example.features.feature
        item = records.RawItem(data=_scalar(features[example_lib.ENCODED], "bytes_list"))
        for key, feature in features.items():
            if key.startswith("image/object/"):
                kind = feature.WhichOneof("kind")
                if kind:
                    item.extra[key] = (kind, tuple(getattr(feature, kind).value))
        return item


class TFRecordSource(base.Source):
    """slim-format TFRecord files; see the module doc."""
    name = "tfrecord"
    random_access = False

    def files(self) -> List[str]:
        if any(ch in self.root for ch in "*?["):
            found = fileio.glob(self.root)
        elif fileio.isdir(self.root):
            found = [os.path.join(self.root, n) for n in base.list_dir(self.root)
                     if ".tfrecord" in n or "-of-" in n or n.endswith(".gz")]
        else:
            found = [self.root]
        found = sorted(p for p in found if layout.is_record_file(p))
        if not found:
            raise FileNotFoundError(f"tfrecord: no TFRecord files at {self.root}")
        dataset_check.check_files(found, fileio.exists)  # an unfinished convert's: refused
        return found

    @property
    def native_splits(self) -> Tuple[str, ...]:  # type: ignore[override]
        present = {split_of(p) for p in self.files()}
        return tuple(s for s in SPLIT_NAMES if s in present)

    def _labels_file(self) -> Optional[str]:
        directory = self.root if fileio.isdir(self.root) else os.path.dirname(self.files()[0])
        path = os.path.join(directory, labels_lib.LABELS_FILENAME)
        return path if fileio.exists(path) else None

    def given_labels(self) -> Optional[Dict[int, str]]:
        path = self._labels_file()
        return labels_lib.read_label_file(path) if path else None

    def class_names(self, selectors: Sequence[str] = ("*",)) -> List[str]:
        labels = self.given_labels()
        if labels is None:
            # No labels.txt: the texts the records carry (one pass over the files).
            labels = {}
            for entry in self.scan("*"):
                if isinstance(entry, records.ItemRef):
                    labels.setdefault(entry.label, entry.text)
        if not labels:
            return []
        return [labels.get(i, str(i)) for i in range(max(labels) + 1)]

    def scan(self, selector: str = "*") -> Iterator[base.ScanResult]:
        given = self.given_labels()
        seen = set()
        for path in self.files():
            split = split_of(path)
            if selector not in ("*", "") and split != selector:
                continue
            name = os.path.basename(path)
            try:
                for index, data in iterate_records(path):
                    entry = self._ref(path, name, index, data, split, given)
                    key = entry.path if isinstance(entry, records.Reject) else entry.key
                    if key in seen:  # keys must be unique: fall back to file:index
                        unique = f"{key}@{name}:{index}"
                        entry = (dataclasses.replace(entry, path=unique) if isinstance(entry, records.Reject)
                                 else dataclasses.replace(entry, key=unique))
                        key = unique
                    seen.add(key)
                    yield entry
            except records.Rejected as err:
                yield records.Reject(f"{name}:tail", err.reason, err.detail)

    def _ref(self, path, name, index, data, split, given) -> base.ScanResult:
        fallback_key = f"{name}:{index}"
        try:
            features = _parse(data).features.feature
        except Exception as err:  # pylint: disable=broad-except  # protobuf DecodeError
            return records.Reject(fallback_key, records.INVALID_RECORD, f"not a tf.Example: {err}")
        filename = _scalar(features[example_lib.FILENAME], "bytes_list") if example_lib.FILENAME in features else None
        key = filename.decode("utf-8", "surrogateescape") if filename else fallback_key
        missing = [k for k in (example_lib.ENCODED, example_lib.LABEL) if k not in features]
        if missing:
            return records.Reject(key, records.INVALID_RECORD, f"missing {', '.join(missing)}")
        label = _scalar(features[example_lib.LABEL], "int64_list")
        if label is None:
            return records.Reject(key, records.INVALID_RECORD, "image/class/label is not one int")
        text_value = (_scalar(features[example_lib.TEXT], "bytes_list")
                      if example_lib.TEXT in features else None)
        if given is not None:
            if label not in given:
                return records.Reject(key, records.LABEL_OUT_OF_RANGE,
                                      f"label {label} not in labels.txt ({len(given)} classes)")
            text = given[label]
        else:
            if label < 0:
                return records.Reject(key, records.LABEL_OUT_OF_RANGE, f"label {label}")
            text = text_value.decode("utf-8", "replace") if text_value else str(label)
        return records.ItemRef(key=key, label=int(label), text=text, locator=path, index=index,
                               split=split)

    def open_reader(self) -> base.Reader:
        return _RecordReader()
