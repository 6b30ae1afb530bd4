"""`tfslim convert` as a library: a source → slim-named TFRecord shards in a directory.

Writes into ``dataset_dir``:
  <name>_<split>-00000-of-00005.tfrecord ...   (uncompressed, slim's reader reads them)
  labels.txt                                   ``N:name`` lines
  <name>_rejects.jsonl, <name>_summary.json    the accounting of every input
using the same plan and shard writer as the ImageExampleGen component. Without Beam flags a
conversion below MULTI_PROCESSING_ITEMS images runs in this process without Beam
(``local_convert``: no `import apache_beam`, same bytes); any Beam flag (--runner,
--direct_running_mode, ...) or a larger dataset runs the Beam pipeline (``transforms``).
"""
from __future__ import annotations

import dataclasses
import json
import os
import time
import uuid
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence

from ingestion import download, local_convert, planning, workdirs
from schemas import fileio, labels as labels_lib, layout as layout_lib
from ingestion.progress import ProgressMonitor
from ingestion.sources import SOURCES, make_source, source_names
from ingestion.sources.base import Source
from ingestion.sources.flowers import RANDOM_SEED, VALIDATION_SIZE

if TYPE_CHECKING:  # Beam is imported only when a conversion runs on it
    from apache_beam.options.pipeline_options import PipelineOptions

DEFAULT_NUM_SHARDS = 5
# slim's converters write cifar10/mnist as one file per split (cifar10_train.tfrecord).
SLIM_NUM_SHARDS = {"cifar10": 1, "mnist": 1}
DEFAULT_VALIDATION_FRACTION = 0.1
# Local default: the DirectRunner in one process (in_memory) below MULTI_PROCESSING_ITEMS
# images, worker processes on every core above. Measured on 2 cores (docs/ingestion.md,
# best of 3 interleaved rounds): conversion does no pixel decode, so an image costs ~0.1 ms:
# file read, header check, Example build and serialize, record write. The middle steps hold
# the GIL and the I/O steps are short, so threads (multi_threading, or read-ahead threads in
# the writer) only add lock hand-offs: in_memory was 25-85% faster at 2,000 and 20,000
# images. A multi-process run first pays ~12 s for its workers to import TF and Beam, and
# only overtakes past ~100k images.
MULTI_PROCESSING_ITEMS = 100_000
IN_PROCESS_ARGS = ("--runner=DirectRunner", "--direct_running_mode=in_memory",
                   "--direct_num_workers=1")
MULTI_PROCESS_ARGS = ("--runner=DirectRunner", "--direct_running_mode=multi_processing",
                      "--direct_num_workers=0")


@dataclasses.dataclass(frozen=True)
class ConvertRequest:
    """The flags of `tfslim convert` (slim's names)."""
    dataset_name: str
    dataset_dir: str
    source: Optional[str] = None
    num_shards: Optional[int] = None  # default_num_shards(dataset_name)
    validation_size: Optional[int] = None
    validation_fraction: Optional[float] = None
    dedupe: Optional[bool] = None
    # Also the image checks and link policy (integrity.Limits.from_options,
    # listing): max_image_side, max_image_pixels, verify_decode, allow_outside_links.
    source_options: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    download: bool = True
    progress: bool = True


def default_num_shards(dataset_name: str) -> int:
    """slim's shard count for its datasets (one file for cifar10/mnist), else 5."""
    return SLIM_NUM_SHARDS.get(dataset_name, DEFAULT_NUM_SHARDS)


def split_strategy(source: Source, validation_size: Optional[int],
                   validation_fraction: Optional[float]) -> planning.SplitStrategy:
    """--validation_size → slim's seeded shuffle; --validation_fraction → hash of the path;
    neither → the source's own splits (folder: 10% by hash, flowers: slim's 350)."""
    if validation_size is not None and validation_fraction is not None:
        raise ValueError("give --validation_size or --validation_fraction, not both")
    if validation_size is not None:
        return planning.ShuffleSplit(validation_size, seed=RANDOM_SEED)
    if validation_fraction is not None:
        return planning.HashSplit.from_fraction(validation_fraction)
    if source.name == "flowers":
        return planning.ShuffleSplit(VALIDATION_SIZE, seed=RANDOM_SEED)
    if not source.native_splits:
        return planning.HashSplit.from_fraction(DEFAULT_VALIDATION_FRACTION)
    return planning.NativeSplit(tuple((s, s) for s in source.native_splits))


def output_paths(dataset_dir: str, name: str) -> Dict[str, str]:
    return {"labels": labels_lib.labels_path(dataset_dir),
            "rejects": os.path.join(dataset_dir, f"{name}_rejects.jsonl"),
            "summary": os.path.join(dataset_dir, f"{name}_summary.json")}


def _remove_earlier_shards(layout: layout_lib.ShardLayout, plan: planning.Plan) -> None:
    """Every shard an earlier convert of this dataset wrote (any shard count, any naming):
    slim-named shards have no completion marker, so old files must never mix with new."""
    for path in fileio.glob(os.path.join(layout.directory, "*")):
        if layout_lib.is_convert_shard(plan.dataset_name, os.path.basename(path)):
            fileio.remove(path)


def uses_beam(beam_args: Optional[Sequence[str]], num_items: int,
              threshold: int = MULTI_PROCESSING_ITEMS) -> bool:
    """Beam runs the job when Beam flags are given or there are at least ``threshold``
    items (enough for worker processes to pay off); otherwise it runs in this process
    without Beam. (`tfslim predict --input_dir` passes its own threshold.)"""
    return bool(beam_args) or num_items >= threshold


def beam_options(beam_args: Optional[Sequence[str]], num_items: int = 0,
                 threshold: int = MULTI_PROCESSING_ITEMS) -> "PipelineOptions":
    """Pass-through Beam args. Without --runner: the DirectRunner, with the local default
    (worker processes from ``threshold`` items up) for each --direct_* flag not given."""
    from apache_beam.options.pipeline_options import PipelineOptions  # pylint: disable=import-outside-toplevel

    args = list(beam_args or [])
    if not any(a.startswith("--runner") for a in args):
        defaults = MULTI_PROCESS_ARGS if num_items >= threshold else IN_PROCESS_ARGS
        for default in defaults:
            flag = default.split("=")[0]
            if not any(a.split("=")[0] == flag for a in args):
                args.append(default)
    return PipelineOptions(args)


def convert(request: ConvertRequest, beam_args: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    """Runs the conversion; returns the summary (also written to <name>_summary.json)."""
    if request.dataset_name not in SOURCES and request.dataset_name not in source_names():
        raise ValueError(f"--dataset_name must be one of {source_names()}")
    if request.num_shards is None:
        request = dataclasses.replace(request, num_shards=default_num_shards(request.dataset_name))
    if request.num_shards < 1:
        raise ValueError("--num_shards must be >= 1")
    source_cls = SOURCES[request.dataset_name]
    root = download.ensure_source(source_cls, request.dataset_dir, request.source, request.download)
    source = make_source(request.dataset_name, root, request.source_options)
    fileio.makedirs(request.dataset_dir)
    workdirs.remove_stale_temp_dirs()
    with workdirs.DatasetLock(request.dataset_dir):
        workdirs.remove_stale_run_dirs(request.dataset_dir)
        paths = output_paths(request.dataset_dir, request.dataset_name)
        # The summary is the completion marker: gone before anything changes, written last.
        if fileio.exists(paths["summary"]):
            fileio.remove(paths["summary"])
        started = time.monotonic()
        plan, layout = _run(request, source, paths, beam_args)
    with fileio.open_file(paths["summary"]) as f:
        summary = json.load(f)
    summary["seconds"] = round(time.monotonic() - started, 2)
    summary["files"] = {**paths, "shards": [layout.shard_path(s.split, s.index, s.num_shards)
                                            for s in plan.shards]}
    return summary


def _run(request: ConvertRequest, source: Source, paths: Dict[str, str],
         beam_args: Optional[Sequence[str]]):
    """Plans and writes the dataset (the caller holds the directory's lock)."""
    # Archives unpack into a local scratch dir; the shard item lists and worker progress
    # go beside the output so that workers on other machines (Dataflow ...) see them.
    workdir = workdirs.OwnedTempDir(request.dataset_name)
    run_dir = os.path.join(request.dataset_dir, f".{request.dataset_name}-run-{uuid.uuid4().hex[:8]}")
    progress_dir = os.path.join(run_dir, "progress")
    try:
        source.prepare(workdir.path)
        plan = planning.make_plan(source, split_strategy(source, request.validation_size,
                                                         request.validation_fraction),
                                  num_shards=request.num_shards, dataset_name=request.dataset_name,
                                  dedupe=request.dedupe)
        layout = layout_lib.ShardLayout(
            request.dataset_dir, layout_lib.convert_pattern(request.dataset_name, request.num_shards),
            dataset_name=request.dataset_name)
        _remove_earlier_shards(layout, plan)
        labels_lib.write_label_file(plan.labels, paths["labels"])
        fileio.makedirs(progress_dir)
        with ProgressMonitor(progress_dir, plan.num_items, enabled=request.progress,
                             description=f"{request.dataset_name}"):
            if uses_beam(beam_args, plan.num_items):
                _run_beam(plan, layout, paths, run_dir, progress_dir, beam_args)
            else:
                local_convert.convert_dataset(plan, layout, paths["rejects"], paths["summary"],
                                              progress_dir)
    finally:
        workdir.cleanup()
        fileio.rmtree(run_dir)
    return plan, layout


def _run_beam(plan: planning.Plan, layout: layout_lib.ShardLayout, paths: Dict[str, str],
              run_dir: str, progress_dir: str, beam_args: Optional[Sequence[str]]) -> None:
    """The conversion as a Beam pipeline (the ImageExampleGen component's transforms)."""
    import apache_beam as beam  # pylint: disable=import-outside-toplevel

    from ingestion import transforms  # pylint: disable=import-outside-toplevel

    with beam.Pipeline(options=beam_options(beam_args, plan.num_items)) as pipeline:
        _ = pipeline | "ConvertDataset" >> transforms.ConvertDataset(  # pylint: disable=no-value-for-parameter
            plan, layout, paths["rejects"], paths["summary"], run_dir, progress_dir)


def format_summary(summary: Dict[str, Any]) -> str:
    """The table printed at the end of `tfslim convert`."""
    seconds = summary.get("seconds") or 0.0
    rate = summary["converted"] / seconds if seconds else 0.0
    lines = [f"{summary['dataset']}: {summary['converted']} of {summary['inputs']} inputs converted, "
             f"{summary['rejected']} rejected, in {seconds:.1f} s ({rate:.0f} images/s)"
             f"{'' if summary['accounted'] else '  [ACCOUNTING MISMATCH]'}",
             f"  {'split':<12}{'images':>8}{'shards':>8}  per class"]
    for name, split in summary["splits"].items():
        classes = ", ".join(f"{k} {v}" for k, v in split["per_class"].items())
        if len(classes) > 100:
            classes = classes[:97] + "..."
        lines.append(f"  {name:<12}{split['count']:>8}{split['shards']:>8}  {classes}")
    for reason, count in summary["rejected_by_reason"].items():
        lines.append(f"  rejected: {reason:<26}{count:>8}")
    if summary.get("reencoded_to_png"):
        lines.append(f"  re-encoded to PNG: {summary['reencoded_to_png']}")
    files = summary.get("files", {})
    if files:
        lines.append(f"  labels: {files['labels']}")
        lines.append(f"  rejects: {files['rejects']}   summary: {files['summary']}")
    return "\n".join(lines)


def list_shards(dataset_dir: str, name: str, split: str) -> List[str]:
    """The shard files `tfslim convert` wrote for one split (any of its namings), in order."""
    return sorted(path for path in fileio.glob(os.path.join(dataset_dir, "*"))
                  if layout_lib.is_convert_shard(name, os.path.basename(path), split)
                  and layout_lib.is_record_file(path))
