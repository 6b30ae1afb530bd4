"""Is a dataset directory finished? The readers' side of the completion contract.

`tfslim convert` deletes ``<name>_summary.json`` before it touches anything and writes
it last (atomically), so the summary is the completion marker; shards are written as
``*.incomplete`` and renamed when whole. A reader therefore:
- ignores files that are still being written (``is_data_file``);
- refuses shards named ``-NNNNN-of-MMMMM`` (or slim's flowers ``_NNNNN-of-MMMMM``) when
  one of the M is missing;
- refuses `tfslim convert` shards (``<name>_<split>-NNNNN-of-MMMMM.tfrecord``) that have
  no ``<name>_summary.json`` beside them.
The errors name what is missing and the command to rerun. No TF needed: trainer,
components and the CLI all import this.
"""
from __future__ import annotations

import os
import re
from collections import defaultdict
from typing import Callable, Dict, Iterable, List, Set, Tuple

# A shard being written; renamed to its final name once complete.
INCOMPLETE_SUFFIX = ".incomplete"
# Names of files being written (never data): shard temp files, summary temp, downloads.
PARTIAL_SUFFIXES = (INCOMPLETE_SUFFIX, ".tmp", ".part")
# Reports that sit beside the shards.
REPORT_SUFFIXES = (".txt", ".json", ".jsonl", ".lock")
# <stem><sep>NNNNN-of-MMMMM<ext>: sep '-' (this project, TFX, slim's ImageNet 'train-00000-of-01024')
# or '_' (slim's flowers converter: 'flowers_train_00000-of-00005.tfrecord').
SHARD_RE = re.compile(r"^(?P<stem>.*?)(?P<sep>[-_])(?P<index>\d{5})-of-(?P<num>\d{5})(?P<ext>(\.[^./]+)*)$")
CONVERT_SHARD_RE = re.compile(r"^(?P<name>.+)_(?P<split>[^_/]+)-\d{5}-of-\d{5}\.tfrecord$")


class IncompleteDataset(FileNotFoundError):
    """The dataset directory was not finished by its writer (a marker or shards are
    missing: every handler of FileNotFoundError reports it as one line)."""


def summary_name(dataset_name: str) -> str:
    """The completion marker `tfslim convert` writes last."""
    return f"{dataset_name}_summary.json"


def is_data_file(path: str) -> bool:
    """False for partial files and the reports beside the shards."""
    return not path.endswith(PARTIAL_SUFFIXES + REPORT_SUFFIXES)


def _rerun(directory: str, dataset_name: str) -> str:
    return (f"rerun `tfslim convert --dataset_name={dataset_name} --dataset_dir={directory}` "
            "(with the same --source) and wait for it to print its summary")


def missing_shards(files: Iterable[str]) -> Dict[Tuple[str, str], List[str]]:
    """(directory, shard stem) → names of the absent shards of each -of-N group."""
    groups: Dict[Tuple[str, str, str, int, str], Set[int]] = defaultdict(set)
    for path in files:
        match = SHARD_RE.match(os.path.basename(path))
        if match:
            key = (os.path.dirname(path), match["stem"], match["sep"], int(match["num"]), match["ext"])
            groups[key].add(int(match["index"]))
    missing: Dict[Tuple[str, str], List[str]] = {}
    for (directory, stem, sep, num, ext), present in groups.items():
        absent = [f"{stem}{sep}{i:05d}-of-{num:05d}{ext}" for i in range(num) if i not in present]
        if absent:
            missing[(directory, stem)] = absent
    return missing


def check_files(files: Iterable[str], exists: Callable[[str], bool] = os.path.exists) -> None:
    """Raises IncompleteDataset when ``files`` (one split's, or any set of shard files)
    lack shards of their -of-N group or their convert summary. ``exists``: a path test
    (tf.io.gfile.exists for remote directories)."""
    files = list(files)
    checked: Set[Tuple[str, str]] = set()
    for path in files:
        match = CONVERT_SHARD_RE.match(os.path.basename(path))
        if not match:
            continue
        key = (os.path.dirname(path), match["name"])
        if key in checked:
            continue
        checked.add(key)
        marker = os.path.join(key[0], summary_name(key[1]))
        if not exists(marker):
            raise IncompleteDataset(
                f"{key[0]}: no {summary_name(key[1])}, so the convert that wrote "
                f"{os.path.basename(path)} did not finish (it was interrupted, failed, or is "
                f"still running); {_rerun(key[0], key[1])}")
    for (directory, stem), absent in sorted(missing_shards(files).items()):
        name_match = CONVERT_SHARD_RE.match(f"{stem}-00000-of-00001.tfrecord")
        hint = (_rerun(directory, name_match["name"]) if name_match
                else "rewrite the split or restore the missing files")
        shown = ", ".join(absent[:3]) + (f" and {len(absent) - 3} more" if len(absent) > 3 else "")
        raise IncompleteDataset(f"{directory}: split {stem!r} is missing {len(absent)} shard(s) "
                                f"({shown}); {hint}")
