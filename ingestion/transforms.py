"""The Beam PTransforms of ingestion, shared by the TFX executor and `tfslim convert`.

- ``ItemsToExamples``: ItemRef → tf.Example, rejects as a tagged output (element-wise).
  (The one stage that imports TensorFlow, to hand TFX parsed Examples.)
- ``FindDuplicates``: shards → (duplicate key, kept key) for inputs with equal bytes.
- ``WriteShards``: shard specs → one TFRecord file per shard, written in plan order
  (deterministic bytes, one image in memory per worker), plus per-shard stats.
- ``ConvertDataset``: the whole job: plan → duplicates → shards → rejects.jsonl +
  summary.json.

The work of each stage is a plain function in ``shard_writer`` (also run without Beam by
``local_convert``). Work is distributed by shard: an element is a ShardTask (its list of paths is in a file), so image
bytes never cross a Beam stage boundary and nothing is grouped by the runner.
"""
from __future__ import annotations

import logging
import os
from typing import Any, Dict, Iterable, Iterator, Optional, Tuple

import apache_beam as beam

from ingestion.formats import integrity
from ingestion import records, shard_writer
from ingestion.planning import Plan, write_shard_tasks
from ingestion.sources.base import Reader, Source
from schemas.layout import ShardLayout

REJECTS_TAG = "rejects"
METRICS_NAMESPACE = "tfslim.ingestion"


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
        converted, reject = shard_writer.convert_item(self._reader, ref, self._limits)
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


UNSIZED_TAG = "digests"


class _SizeShardFn(_SourceDoFn):
    """(size, ref) per item: only items sharing a size can be duplicates, so most files
    are never read twice. Items whose size needs a read are hashed at once, to the
    ``digests`` output (shard_writer.sizes)."""

    def process(self, element) -> Iterator[Any]:
        for kind, key, value in shard_writer.sizes(self._reader, element):
            if kind == "size":
                yield key, value
            else:
                yield beam.pvalue.TaggedOutput(UNSIZED_TAG, (key, value))


class _SampleFn(_SourceDoFn):
    """Same-size group → ((size, digest of head+tail), ref) for each member."""

    def process(self, group: Tuple[int, Iterable[records.ItemRef]]) -> Iterator[Any]:
        return shard_writer.sample_digests(self._reader, group[0], list(group[1]))


class _HashItemFn(_SourceDoFn):
    """Group of possible duplicates → (sha256 of the whole item, key) for each member."""

    def process(self, group: Tuple[Any, Iterable[records.ItemRef]]) -> Iterator[Tuple[bytes, str]]:
        return shard_writer.full_digests(self._reader, list(group[1]))


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
            | "PickDuplicates" >> beam.FlatMap(shard_writer.duplicates_of))




class _WriteShardFn(_SourceDoFn):
    """Converts a shard's items in order and writes its file (shard_writer.write_shard)."""

    def __init__(self, source: Source, layout: ShardLayout, progress_dir: Optional[str]):
        super().__init__(source)
        self._layout = layout
        self._progress_dir = progress_dir
        self._converted = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "converted")
        self._rejected = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "rejected")

    def process(self, element, duplicates: Dict[str, str]) -> Iterator[Any]:
        for out in shard_writer.write_shard(self._reader, self._limits, self._layout, element,
                                            duplicates, self._progress_dir, self._converted.inc):
            if isinstance(out, records.Reject):
                self._rejected.inc()
                yield beam.pvalue.TaggedOutput(REJECTS_TAG, out)
            else:
                yield out


@beam.ptransform_fn
def WriteShards(shards: beam.PCollection, source: Source, layout: ShardLayout,  # pylint: disable=invalid-name
                duplicates: beam.PCollection, progress_dir: Optional[str] = None):
    """PCollection[ShardSpec | ShardTask] → DoOutputsTuple: main = per-shard stats dicts,
    ``rejects`` = Reject. Items whose key is in ``duplicates`` are skipped."""
    return shards | "ConvertAndWrite" >> beam.ParDo(
        _WriteShardFn(source, layout, progress_dir),
        duplicates=beam.pvalue.AsDict(duplicates)).with_outputs(REJECTS_TAG, main="stats")


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
    duplicate_rejects = duplicates | "DuplicateRejects" >> beam.MapTuple(shard_writer.duplicate_reject)
    listing_rejects = pipeline | "ListingRejects" >> beam.Create(plan.rejects)
    all_rejects = ((listing_rejects, duplicate_rejects, written[REJECTS_TAG])
                   | "AllRejects" >> beam.Flatten())
    # One report writer with both collections as list side inputs (cheaper to build
    # and run than global combines).
    return (pipeline
            | "ReportTrigger" >> beam.Create([None])
            | "WriteReports" >> beam.Map(
                lambda _, stats, rejects, info: shard_writer.write_reports(
                    stats, rejects, info, rejects_path, summary_path),
                beam.pvalue.AsList(written["stats"]), beam.pvalue.AsList(all_rejects),
                shard_writer.plan_info(plan)))
