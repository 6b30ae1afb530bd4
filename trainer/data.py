"""tf.data input pipelines over slim-format TFRecords (ExampleGen output or `tfslim convert` shards)."""
from __future__ import annotations

from typing import List, Optional, Sequence

import tensorflow as tf

from trainer import features
from trainer.image_ops import ImageSpec, preprocess_encoded


def list_files(file_patterns: Sequence[str]) -> List[str]:
    """Expands glob patterns (or directories); raises FileNotFoundError naming the pattern."""
    files: List[str] = []
    for pattern in file_patterns:
        if tf.io.gfile.isdir(pattern):
            pattern = pattern.rstrip("/") + "/*"
        matched = sorted(f for f in tf.io.gfile.glob(pattern) if not f.endswith(".txt"))
        if not matched:
            raise FileNotFoundError(f"No TFRecord files match {pattern!r}; check --dataset_dir / "
                                    "--dataset_split_name (files are <dataset>_<split>-*.tfrecord).")
        files.extend(matched)
    return files


def compression_of(files: Sequence[str]) -> str:
    """TFX writes GZIP TFRecords ('*.gz'); slim's converters write uncompressed ones."""
    return "GZIP" if all(f.endswith(".gz") for f in files) else ""


def count_records(file_patterns: Sequence[str]) -> int:
    """Number of records (the split size slim read from its dataset table)."""
    files = list_files(file_patterns)
    ds = tf.data.TFRecordDataset(files, compression_type=compression_of(files))
    return int(ds.reduce(tf.constant(0, tf.int64), lambda n, _: n + 1).numpy())


def make_dataset(file_patterns: Sequence[str], image_spec: ImageSpec, batch_size: int,
                 is_training: bool, labels_offset: int = 0, num_readers: int = 4,
                 shuffle_buffer: int = 2048, repeat: Optional[bool] = None,
                 seed: Optional[int] = None, drop_remainder: Optional[bool] = None) -> tf.data.Dataset:
    """(images, labels) batches with slim preprocessing.

    Training shuffles files and records, repeats, applies slim's train-time
    distortions and drops the last partial batch; eval reads once in order.
    ``labels_offset`` is subtracted from the stored label (slim's --labels_offset).
    """
    files = list_files(file_patterns)
    repeat = is_training if repeat is None else repeat
    drop_remainder = is_training if drop_remainder is None else drop_remainder
    compression = compression_of(files)
    ds = tf.data.Dataset.from_tensor_slices(files)
    if is_training:
        ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    ds = ds.interleave(lambda f: tf.data.TFRecordDataset(f, compression_type=compression),
                       cycle_length=max(1, min(num_readers, len(files))),
                       num_parallel_calls=tf.data.AUTOTUNE, deterministic=not is_training)
    if is_training:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()

    def parse(record):
        parsed = tf.io.parse_single_example(record, features.TRAIN_FEATURE_SPEC)
        image = preprocess_encoded(parsed[features.ENCODED], image_spec, is_training)
        label = parsed[features.LABEL] - labels_offset
        return image, label

    ds = ds.map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=not is_training)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    return ds.prefetch(tf.data.AUTOTUNE)
