"""tf.data input pipelines over slim-format TFRecords (ExampleGen output or `tfslim convert` shards).

Also finds a split's files in a dataset directory and reads the facts slim kept
in its dataset tables (class count, split size) from the files themselves:
``labels.txt`` for the classes and the converter's summary (or a count of the
records) for the split size.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import os
from typing import Dict, List, Optional, Sequence, Tuple

import tensorflow as tf

from schemas import features, labels as labels_lib, layout
from schemas.layout import compression_of, find_split_files, list_files
from trainer.preprocessing.image_ops import ImageSpec, preprocess_encoded

log = logging.getLogger(__name__)


def count_records(file_patterns: Sequence[str]) -> int:
    """Number of records (the split size slim read from its dataset table)."""
    files = list_files(file_patterns)
    ds = tf.data.TFRecordDataset(files, compression_type=compression_of(files))
    return int(ds.reduce(tf.constant(0, tf.int64), lambda n, _: n + 1).numpy())


def max_label(file_patterns: Sequence[str]) -> int:
    """Largest ``image/class/label`` in the files (the class count when labels.txt is absent)."""
    files = list_files(file_patterns)
    ds = tf.data.TFRecordDataset(files, compression_type=compression_of(files)).map(
        lambda r: tf.io.parse_single_example(r, {features.LABEL: tf.io.FixedLenFeature([], tf.int64)})
        [features.LABEL], num_parallel_calls=tf.data.AUTOTUNE)
    return int(ds.reduce(tf.constant(-1, tf.int64), tf.maximum).numpy())


def split_size_from_summary(files: Sequence[str], split_name: Optional[str] = None) -> Optional[int]:
    """The split size recorded by the converter, or None.

    `tfslim convert` writes ``<name>_summary.json`` beside the shards and the
    ImageExampleGen ``summary.json`` beside its ``Split-<name>/`` folders; both
    hold ``{"splits": {name: {"count": N}}}``.
    """
    if not files:
        return None
    folder = os.path.dirname(files[0])
    candidates = []
    if os.path.basename(folder).startswith(layout.SPLIT_DIR_PREFIX):
        split_name = split_name or os.path.basename(folder)[len(layout.SPLIT_DIR_PREFIX):]
        candidates.append(labels_lib.summary_path(os.path.dirname(folder)))
    else:
        candidates += sorted(tf.io.gfile.glob(os.path.join(folder, "*summary.json")))
    for path in candidates:
        try:
            with tf.io.gfile.GFile(path) as f:
                splits = json.load(f).get("splits", {})
        except (tf.errors.NotFoundError, ValueError):
            continue
        if split_name in splits and "count" in splits[split_name]:
            return int(splits[split_name]["count"])
    return None


def num_samples(files: Sequence[str], split_name: Optional[str] = None) -> int:
    """Split size: from the converter's summary when present, else by counting records."""
    size = split_size_from_summary(list(files), split_name)
    return size if size is not None else count_records(files)


@dataclasses.dataclass(frozen=True)
class DatasetSplit:
    """One split of a slim dataset directory: its files and what slim's dataset table held."""

    files: List[str]
    num_samples: int
    num_classes: int  # labels in the dataset (the model gets num_classes - labels_offset)
    labels: Dict[int, str]


def dataset_split(dataset_dir: str, dataset_name: str, split_name: str,
                  file_pattern: Optional[str] = None) -> DatasetSplit:
    """Files, size and classes of ``split_name`` in ``dataset_dir`` (written by `tfslim convert`)."""
    files = find_split_files(dataset_dir, dataset_name, split_name, file_pattern)
    labels_file = labels_lib.labels_path(dataset_dir)
    if tf.io.gfile.exists(labels_file):
        labels = labels_lib.read_label_file(labels_file)
        num_classes = labels_lib.num_classes(labels)
    else:
        log.warning("%s has no labels.txt; counting classes from the labels in the files.",
                    dataset_dir)
        num_classes = max_label(files) + 1
        labels = {i: str(i) for i in range(num_classes)}
    return DatasetSplit(files=files, num_samples=num_samples(files, split_name),
                        num_classes=num_classes, labels=labels)


def make_dataset(file_patterns: Sequence[str], image_spec: ImageSpec, batch_size: int,
                 is_training: bool, labels_offset: int = 0, num_readers: int = 4,
                 shuffle_buffer: int = 2048, repeat: Optional[bool] = None,
                 seed: Optional[int] = None, drop_remainder: Optional[bool] = None,
                 num_parallel_calls: Optional[int] = None,
                 deterministic: Optional[bool] = None,
                 shard: Optional[Tuple[int, int]] = None) -> tf.data.Dataset:
    """(images, labels) batches with slim preprocessing.

    Training shuffles files and records, repeats, applies slim's train-time
    distortions and drops the last partial batch; eval reads once in order.
    ``labels_offset`` is subtracted from the stored label (slim's --labels_offset).
    ``num_parallel_calls`` (slim's --num_preprocessing_threads; None or <= 0 =
    AUTOTUNE) parallelises decode + preprocessing. The element order is
    deterministic for eval and whenever a ``seed`` is given. ``shard``: (count,
    index) to read only every count-th file from index (multi-worker input).
    """
    files = list_files(file_patterns)
    repeat = is_training if repeat is None else repeat
    drop_remainder = is_training if drop_remainder is None else drop_remainder
    if deterministic is None:
        deterministic = not is_training or seed is not None
    parallel = num_parallel_calls if num_parallel_calls and num_parallel_calls > 0 \
        else tf.data.AUTOTUNE
    compression = compression_of(files)
    ds = tf.data.Dataset.from_tensor_slices(files)
    if shard:
        ds = ds.shard(*shard)
    if is_training:
        ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    ds = ds.interleave(lambda f: tf.data.TFRecordDataset(f, compression_type=compression),
                       cycle_length=max(1, min(num_readers, len(files))),
                       num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic)
    if is_training:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()

    def parse(record):
        parsed = tf.io.parse_single_example(record, features.train_feature_spec())
        image = preprocess_encoded(parsed[features.ENCODED], image_spec, is_training)
        label = parsed[features.LABEL] - labels_offset
        return image, label

    ds = ds.map(parse, num_parallel_calls=parallel, deterministic=deterministic)
    # One undecodable record (an image that slipped past ingestion's checks, a shard
    # from elsewhere) is skipped with a logged warning each time, instead of stopping
    # training or evaluation.
    ds = ds.ignore_errors(log_warning=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    return ds.prefetch(tf.data.AUTOTUNE)
