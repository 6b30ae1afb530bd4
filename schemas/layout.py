"""Where slim-format TFRecords live: shard names, split folders, compression, the split-finder.

Writers (the ImageExampleGen, ``tfslim convert``) name shards with the patterns
below; every reader (training, eval, the Trainer's run_fn, the serving smoke test)
finds a split with :func:`find_split_files`. No TensorFlow at import: ``tf.io.gfile``
(local paths and gs:// alike) is imported on first use.
"""
from __future__ import annotations

import dataclasses
import os
import re
from typing import List, Optional, Sequence

from schemas import dataset_check

# How `tfslim convert` names shards (``convert_pattern``). slim's own datasets get the
# names slim's converters write, so slim's readers (flowers_%s_*.tfrecord,
# cifar10_%s.tfrecord, imagenet's %s-*) read them; any other dataset gets
# folder_train-00000-of-00005.tfrecord, whose <name>_summary.json marks it complete.
CONVERT_PATTERN = "{name}_{split}-{index:05d}-of-{num:05d}.tfrecord"
SLIM_CONVERTER_PATTERNS = {
    "flowers": "{name}_{split}_{index:05d}-of-{num:05d}.tfrecord",  # download_and_convert_flowers.py
    "imagenet": "{split}-{index:05d}-of-{num:05d}",                  # build_imagenet_data.py
}
# download_and_convert_cifar10.py / _mnist.py write one file per split.
SINGLE_FILE_PATTERN = "{name}_{split}.tfrecord"
SINGLE_FILE_DATASETS = ("cifar10", "mnist")
# TFX Examples artifact layout: Split-train/data_tfrecord-00000-of-00001.gz
SPLIT_DIR_PREFIX = "Split-"
TFX_PATTERN = SPLIT_DIR_PREFIX + "{split}/data_tfrecord-{index:05d}-of-{num:05d}.gz"
GZIP = "GZIP"
# A shard being written; renamed to its final name once complete, never read.
INCOMPLETE_SUFFIX = dataset_check.INCOMPLETE_SUFFIX

# How this project and slim's converters name a split's files, tried in order.
SPLIT_PATTERNS = (
    SPLIT_DIR_PREFIX + "{split}/*",  # TFX Examples artifact: Split-train/data_tfrecord-*.gz
    "{dataset}_{split}-*",           # tfslim convert: folder_train-00000-of-00005.tfrecord
    "{dataset}_{split}_*",           # slim's flowers: flowers_train_00000-of-00005.tfrecord
    "{dataset}_{split}.tfrecord*",   # slim's cifar10/mnist: cifar10_train.tfrecord
    "{split}-*",                     # slim's imagenet: train-00000-of-01024
)


def convert_pattern(dataset_name: str, num_shards: int) -> str:
    """The shard name pattern `tfslim convert` writes for ``dataset_name``."""
    if dataset_name in SINGLE_FILE_DATASETS and num_shards == 1:
        return SINGLE_FILE_PATTERN
    return SLIM_CONVERTER_PATTERNS.get(dataset_name, CONVERT_PATTERN)


def is_convert_shard(dataset_name: str, basename: str, split: Optional[str] = None) -> bool:
    """Whether ``basename`` is a shard `tfslim convert` may have written for ``dataset_name``
    (one ``split``, or any split without an underscore), under any of its namings or
    shard counts, finished or ``.incomplete``. A rerun removes them all, so old files
    never mix into the new dataset; another dataset's files ('flowers_small_train-…'
    beside 'flowers') are never matched."""
    split_re = re.escape(split) if split is not None else r"[^_/]+"
    alternatives = [rf"{re.escape(dataset_name)}_{split_re}(?:[-_]\d{{5}}-of-\d{{5}})?\.tfrecord"]
    if dataset_name == "imagenet":  # no dataset prefix: only imagenet claims these names
        alternatives.append(rf"{split_re}-\d{{5}}-of-\d{{5}}")
    return re.fullmatch(rf"(?:{'|'.join(alternatives)})(?:{re.escape(INCOMPLETE_SUFFIX)})?",
                        basename) is not None


def gfile():
    """``tf.io.gfile``, imported on first use so this module stays TensorFlow-free at import."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    return tf.io.gfile


@dataclasses.dataclass(frozen=True)
class ShardLayout:
    """Where shards go: ``directory/pattern.format(name=, split=, index=, num=)``."""
    directory: str
    pattern: str
    dataset_name: str = ""
    compression: str = ""  # '' or 'GZIP'

    def shard_path(self, split: str, index: int, num_shards: int) -> str:
        return os.path.join(self.directory, self.pattern.format(
            name=self.dataset_name, split=split, index=index, num=num_shards))


def is_record_file(path: str) -> bool:
    """A finished shard: not a metadata file, not a file still being written
    (``*.incomplete``, ``*.tmp``, ``*.part``; see dataset_check)."""
    return dataset_check.is_data_file(path)


def compression_of(files: Sequence[str]) -> str:
    """TFX writes GZIP TFRecords ('*.gz'); slim's converters write uncompressed ones."""
    return GZIP if files and all(f.endswith(".gz") for f in files) else ""


def examples_root(file_pattern: str) -> str:
    """``<examples uri>/Split-train/*`` → ``<examples uri>`` (where labels.txt lives)."""
    return os.path.dirname(os.path.dirname(file_pattern))


def dataset_root(files: Sequence[str]) -> str:
    """The directory holding labels.txt for a split's files (an Examples artifact's URI
    for ``Split-<name>/`` shards, else the shards' own directory)."""
    folder = os.path.dirname(files[0])
    if os.path.basename(folder).startswith(SPLIT_DIR_PREFIX):
        return os.path.dirname(folder)
    return folder


def glob_records(pattern: str) -> List[str]:
    """Finished shards matching one glob (a directory means all its files)."""
    fs = gfile()
    if fs.isdir(pattern):
        pattern = pattern.rstrip("/") + "/*"
    return sorted(f for f in fs.glob(pattern) if is_record_file(f))


def list_files(file_patterns: Sequence[str]) -> List[str]:
    """Expands glob patterns (or directories); raises FileNotFoundError naming the pattern,
    dataset_check.IncompleteDataset (a FileNotFoundError) for an unfinished convert's files."""
    files: List[str] = []
    for pattern in file_patterns:
        matched = glob_records(pattern)
        if not matched:
            raise FileNotFoundError(f"No TFRecord files match {pattern!r}; check --dataset_dir / "
                                    "--dataset_split_name (files are <dataset>_<split>-*.tfrecord).")
        files.extend(matched)
    dataset_check.check_files(files, gfile().exists)
    return files


def find_split_files(dataset_dir: str, dataset_name: str, split_name: str,
                     file_pattern: Optional[str] = None) -> List[str]:
    """The TFRecords of one split in a dataset directory or a TFX Examples artifact.

    ``file_pattern`` (slim's get_split argument, '%s' = split) wins; otherwise the
    SPLIT_PATTERNS are tried in order. Raises FileNotFoundError listing what was
    tried and what the directory holds, dataset_check.IncompleteDataset when the split
    is an unfinished convert's.
    """
    if file_pattern:
        patterns = [file_pattern % split_name if "%s" in file_pattern else file_pattern]
    else:
        patterns = [p.format(dataset=dataset_name, split=split_name) for p in SPLIT_PATTERNS]
    for pattern in patterns:
        matched = glob_records(os.path.join(dataset_dir, pattern))
        if matched:
            # Refuses an interrupted convert (no summary) or a split short of its -of-N.
            dataset_check.check_files(matched, gfile().exists)
            return matched
    fs = gfile()
    present = sorted(fs.listdir(dataset_dir))[:10] if fs.isdir(dataset_dir) else []
    raise FileNotFoundError(
        f"split name {split_name} was not recognized: no files match {patterns} in "
        f"{dataset_dir!r} (it holds {present}). Write the dataset with `tfslim convert "
        f"--dataset_name={dataset_name} --dataset_dir={dataset_dir}` or pass --file_pattern; "
        "check --dataset_dir/--dataset_name/--dataset_split_name.")
