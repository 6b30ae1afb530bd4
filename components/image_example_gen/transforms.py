"""The Beam PTransforms of ingestion, shared by the TFX executor and `tfslim convert`.

- ``ItemsToExamples``: ItemRef → tf.Example, rejects as a tagged output (element-wise).
  (The one stage that imports TensorFlow, to hand TFX parsed Examples.)
- ``FindDuplicates``: shards → (duplicate key, kept key) for inputs with equal bytes.
- ``WriteShards``: shard specs → one TFRecord file per shard, written in plan order
  (deterministic bytes, one image in memory per worker), plus per-shard stats.
- ``ConvertDataset``: the whole job: plan → duplicates → shards → rejects.jsonl +
  summary.json.

Work is distributed by shard: an element is a ShardTask (its list of paths is in a file), so image
bytes never cross a Beam stage boundary and nothing is grouped by the runner.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from typing import Any, Dict, Iterable, Iterator, List, NamedTuple, Optional, Tuple

import apache_beam as beam

from components.image_example_gen import example as example_lib
from components.image_example_gen import image_codec, integrity, records
from components.image_example_gen.record_writer import RecordWriter
from schemas import fileio, labels as labels_lib
from schemas.layout import INCOMPLETE_SUFFIX, ShardLayout
from components.image_example_gen.planning import Plan, ShardSpec, resolve_shard, write_shard_tasks
from components.image_example_gen.sources.base import Reader, Source

REJECTS_TAG = "rejects"
METRICS_NAMESPACE = "tfslim.ingestion"


class Converted(NamedTuple):
    """One converted input: the serialized tf.Example, its label, whether it was re-encoded."""
    record: bytes
    label: int
    reencoded: bool


def convert_item(reader: Reader, ref: records.ItemRef,
                 limits: integrity.Limits = integrity.DEFAULT_LIMITS
                 ) -> Tuple[Optional[Converted], Optional[records.Reject]]:
    """One input → (converted, None) or (None, reject). Never raises for bad data: every
    failure becomes a Reject with a reason. ``limits``: the image checks (size caps,
    optional full decode) from the source's options."""
    try:
        raw = reader.read(ref)
        if raw.pixels is not None:
            image = image_codec.encode_pixels(raw.pixels)
        else:
            image = image_codec.normalize(raw.data or b"", limits)
        label = ref.label if raw.label is None else raw.label
        text = ref.text if raw.text is None else raw.text
        record = example_lib.encode_example(image, label, text, ref.key, raw.extra)
        return Converted(record, int(label), image.reencoded), None
    except records.Rejected as err:
        return None, records.Reject(ref.key, err.reason, err.detail)


class _SourceDoFn(beam.DoFn):
    """Opens the source's reader once per DoFn instance (caches live there)."""

    def __init__(self, source: Source):
        super().__init__()
        self._source = source
        self._reader: Optional[Reader] = None
        self._limits = integrity.Limits.from_options(source.options)

    def setup(self):
        self._reader = self._source.open_reader()

    def teardown(self):
        if self._reader is not None:
            self._reader.close()


class _ConvertItemFn(_SourceDoFn):

    def setup(self):
        super().setup()
        import tensorflow as tf  # pylint: disable=import-outside-toplevel
        self._parse = tf.train.Example.FromString

    def process(self, ref: records.ItemRef) -> Iterator[Any]:
        converted, reject = convert_item(self._reader, ref, self._limits)
        if reject is not None:
            logging.warning("rejected %s: %s %s", reject.path, reject.reason, reject.detail)
            yield beam.pvalue.TaggedOutput(REJECTS_TAG, reject)
        else:
            yield self._parse(converted.record)


@beam.ptransform_fn
def ItemsToExamples(items: beam.PCollection, source: Source):  # pylint: disable=invalid-name
    """PCollection[ItemRef] → DoOutputsTuple: main = tf.Example, ``rejects`` = Reject."""
    return items | "Convert" >> beam.ParDo(_ConvertItemFn(source)).with_outputs(
        REJECTS_TAG, main="examples")


def _digest(raw: records.RawItem) -> Optional[bytes]:
    if raw.data:
        return hashlib.sha256(raw.data).digest()
    if raw.pixels is not None:
        return hashlib.sha256(raw.pixels.tobytes()).digest()
    return None


UNSIZED_TAG = "digests"


class _SizeShardFn(_SourceDoFn):
    """(size, ref) per item: only items sharing a size can be duplicates, so most files
    are never read twice. Items whose size needs a read (records in a container) are
    hashed here, in the shard's sequential order, to the ``digests`` output."""

    def process(self, element) -> Iterator[Any]:
        for ref in resolve_shard(element).items:
            size = self._reader.size(ref)
            if size is not None:
                if size > 0:  # empty and unreadable files are the writer's to report
                    yield size, ref
                continue
            try:
                digest = _digest(self._reader.read(ref))
            except records.Rejected:
                continue
            if digest is not None:
                yield beam.pvalue.TaggedOutput(UNSIZED_TAG, (digest, ref.key))


class _SampleFn(_SourceDoFn):
    """Same-size group → ((size, digest of head+tail), ref) for each member."""

    def process(self, group: Tuple[int, Iterable[records.ItemRef]]) -> Iterator[Any]:
        size, refs = group[0], list(group[1])
        if len(refs) < 2:
            return
        for ref in refs:
            sample = self._reader.sample(ref, size)
            if sample is not None:
                yield (size, hashlib.sha256(sample).digest()), ref


class _HashItemFn(_SourceDoFn):
    """Group of possible duplicates → (sha256 of the whole item, key) for each member."""

    def process(self, group: Tuple[Any, Iterable[records.ItemRef]]) -> Iterator[Tuple[bytes, str]]:
        refs = list(group[1])
        if len(refs) < 2:
            return
        for ref in refs:
            try:
                digest = _digest(self._reader.read(ref))
            except records.Rejected:
                continue  # the writer reports it
            if digest is not None:
                yield digest, ref.key


def _duplicates_of(group: Tuple[bytes, Iterable[str]]) -> Iterator[Tuple[str, str]]:
    keys = sorted(group[1])
    for key in keys[1:]:
        yield key, keys[0]


@beam.ptransform_fn
def FindDuplicates(shards: beam.PCollection, source: Source):  # pylint: disable=invalid-name
    """PCollection[ShardSpec | ShardTask] → PCollection[(duplicate key, kept key)]; the kept input
    is the smallest key among those with identical bytes (sha256)."""
    # Size, then a hash of the first and last 4 KB, then the full sha256: each stage only
    # looks at items that still collide, so distinct files are read in full once only
    # (by the writer).
    sized = shards | "Sizes" >> beam.ParDo(_SizeShardFn(source)).with_outputs(UNSIZED_TAG, main="sized")
    same_size = (sized.sized
                 | "GroupBySize" >> beam.GroupByKey()
                 | "SampleSameSize" >> beam.ParDo(_SampleFn(source))
                 | "GroupBySample" >> beam.GroupByKey()
                 | "HashSameSample" >> beam.ParDo(_HashItemFn(source)))
    return ((same_size, sized[UNSIZED_TAG])
            | "Digests" >> beam.Flatten()
            | "GroupByDigest" >> beam.GroupByKey()
            | "PickDuplicates" >> beam.FlatMap(_duplicates_of))




class _WriteShardFn(_SourceDoFn):
    """Converts a shard's items in order and writes its file (temp name, then rename)."""

    def __init__(self, source: Source, layout: ShardLayout, progress_dir: Optional[str]):
        super().__init__(source)
        self._layout = layout
        self._progress_dir = progress_dir
        self._converted = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "converted")
        self._rejected = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "rejected")

    def _report_progress(self, shard: ShardSpec, done: int) -> None:
        if self._progress_dir:
            path = os.path.join(self._progress_dir, f"{shard.split}-{shard.index:05d}")
            with fileio.open_file(path + ".tmp", "w") as f:
                f.write(str(done))
            fileio.replace(path + ".tmp", path)

    def process(self, element, duplicates: Dict[str, str]) -> Iterator[Any]:
        shard = resolve_shard(element)
        path = self._layout.shard_path(shard.split, shard.index, shard.num_shards)
        fileio.makedirs(os.path.dirname(path))
        temp = path + INCOMPLETE_SUFFIX
        per_label: Dict[int, int] = {}
        reencoded = 0
        last_report = time.monotonic()
        with RecordWriter(temp, self._layout.compression) as writer:
            for done, ref in enumerate(shard.items, 1):
                if ref.key not in duplicates:
                    converted, reject = convert_item(self._reader, ref, self._limits)
                    if reject is not None:
                        self._rejected.inc()
                        yield beam.pvalue.TaggedOutput(REJECTS_TAG, reject)
                    else:
                        writer.write(converted.record)
                        per_label[converted.label] = per_label.get(converted.label, 0) + 1
                        reencoded += int(converted.reencoded)
                        self._converted.inc()
                if time.monotonic() - last_report > 0.5:
                    self._report_progress(shard, done)
                    last_report = time.monotonic()
        fileio.replace(temp, path)
        self._report_progress(shard, len(shard.items))
        yield {"split": shard.split, "shard": shard.index, "path": path,
               "count": sum(per_label.values()), "reencoded": reencoded,
               "per_label": sorted(per_label.items())}


@beam.ptransform_fn
def WriteShards(shards: beam.PCollection, source: Source, layout: ShardLayout,  # pylint: disable=invalid-name
                duplicates: beam.PCollection, progress_dir: Optional[str] = None):
    """PCollection[ShardSpec | ShardTask] → DoOutputsTuple: main = per-shard stats dicts,
    ``rejects`` = Reject. Items whose key is in ``duplicates`` are skipped."""
    return shards | "ConvertAndWrite" >> beam.ParDo(
        _WriteShardFn(source, layout, progress_dir),
        duplicates=beam.pvalue.AsDict(duplicates)).with_outputs(REJECTS_TAG, main="stats")


def plan_info(plan: Plan) -> Dict[str, Any]:
    """The few plan facts the summary needs (the plan itself can be large)."""
    return {"dataset": plan.dataset_name, "source": plan.source.name, "labels": plan.labels,
            "split_names": plan.split_names, "inputs": plan.num_inputs}


def build_summary(info: Dict[str, Any], stats: List[Dict[str, Any]],
                  rejects: List[Dict[str, str]]) -> Dict[str, Any]:
    """Counts per split and class, rejects per reason; checks every input is accounted.

    ``info`` comes from ``plan_info``."""
    splits: Dict[str, Dict[str, Any]] = {}
    for name in info["split_names"]:
        splits[name] = {"count": 0, "shards": 0, "per_class": {}}
    reencoded = 0
    for shard in stats:
        entry = splits[shard["split"]]
        entry["count"] += shard["count"]
        entry["shards"] += 1
        reencoded += shard["reencoded"]
        for label, count in shard["per_label"]:
            name = info["labels"].get(label, str(label))
            entry["per_class"][name] = entry["per_class"].get(name, 0) + count
    for entry in splits.values():
        entry["per_class"] = dict(sorted(entry["per_class"].items()))
    by_reason: Dict[str, int] = {}
    for reject in rejects:
        by_reason[reject["reason"]] = by_reason.get(reject["reason"], 0) + 1
    converted = sum(entry["count"] for entry in splits.values())
    return {"dataset": info["dataset"], "source": info["source"],
            "inputs": info["inputs"], "converted": converted, "rejected": len(rejects),
            "accounted": converted + len(rejects) == info["inputs"],
            "reencoded_to_png": reencoded, "num_classes": len(info["labels"]),
            "splits": splits, "rejected_by_reason": dict(sorted(by_reason.items()))}


def _write_reports(stats: List[Dict[str, Any]], rejects: List[records.Reject],
                   info: Dict[str, Any], rejects_path: str, summary_path: str) -> None:
    reject_dicts = [r.to_json_dict() for r in rejects]
    labels_lib.write_rejects(reject_dicts, rejects_path)
    summary = build_summary(info, stats, reject_dicts)
    # Last and atomic: the summary is the completion marker readers check.
    with fileio.open_file(summary_path + ".tmp", "w") as f:
        f.write(json.dumps(summary, indent=1, sort_keys=True) + "\n")
    fileio.replace(summary_path + ".tmp", summary_path)


@beam.ptransform_fn
def ConvertDataset(pipeline: beam.Pipeline, plan: Plan, layout: ShardLayout,  # pylint: disable=invalid-name
                   rejects_path: str, summary_path: str, work_dir: str,
                   progress_dir: Optional[str] = None):
    """Plan → shard files + rejects.jsonl + summary.json (labels.txt is the caller's).

    ``work_dir``: scratch space every worker can read (the shards' item lists go
    there); the caller removes it after the run."""
    tasks = write_shard_tasks(plan.shards, os.path.join(work_dir, "plan"))
    shards = pipeline | "Shards" >> beam.Create(tasks)
    if plan.dedupe:
        duplicates = shards | "FindDuplicates" >> FindDuplicates(plan.source)  # pylint: disable=no-value-for-parameter
    else:
        duplicates = pipeline | "NoDuplicates" >> beam.Create([])
    written = shards | "WriteShards" >> WriteShards(  # pylint: disable=no-value-for-parameter
        plan.source, layout, duplicates, progress_dir)
    duplicate_rejects = duplicates | "DuplicateRejects" >> beam.MapTuple(
        lambda dup, kept: records.Reject(dup, records.DUPLICATE_CONTENT, f"same bytes as {kept}"))
    listing_rejects = pipeline | "ListingRejects" >> beam.Create(plan.rejects)
    all_rejects = ((listing_rejects, duplicate_rejects, written[REJECTS_TAG])
                   | "AllRejects" >> beam.Flatten())
    # One report writer with both collections as list side inputs (cheaper to build
    # and run than global combines).
    return (pipeline
            | "ReportTrigger" >> beam.Create([None])
            | "WriteReports" >> beam.Map(
                lambda _, stats, rejects, info: _write_reports(
                    stats, rejects, info, rejects_path, summary_path),
                beam.pvalue.AsList(written["stats"]), beam.pvalue.AsList(all_rejects),
                plan_info(plan)))
