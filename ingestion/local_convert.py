"""`tfslim convert` in this process, without Beam: the same plan and the same
``shard_writer`` functions as ``transforms.ConvertDataset``, run as plain loops.

A small conversion waits mostly for imports (`import apache_beam` alone is ~5 s on
2 cores, the conversion of 1,000 images under 1 s), and the DirectRunner's in-memory
mode runs everything in one thread anyway. The files written are byte-identical to
the Beam pipeline's (tests/ingestion/test_local_convert.py).
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Dict, List, Optional

from ingestion.formats import integrity
from ingestion import records, shard_writer
from ingestion.planning import Plan
from ingestion.sources.base import Reader
from schemas.layout import ShardLayout


def find_duplicates(reader: Reader, plan: Plan) -> Dict[str, str]:
    """duplicate key → kept key, by size, head+tail sample, then full sha256 (as
    ``transforms.FindDuplicates``)."""
    by_size: Dict[int, List[records.ItemRef]] = defaultdict(list)
    by_digest: Dict[bytes, List[str]] = defaultdict(list)
    for shard in plan.shards:
        for kind, key, value in shard_writer.sizes(reader, shard):
            if kind == "size":
                by_size[key].append(value)
            else:
                by_digest[key].append(value)
    by_sample: Dict[Any, List[records.ItemRef]] = defaultdict(list)
    for size, refs in by_size.items():
        for sample_key, ref in shard_writer.sample_digests(reader, size, refs):
            by_sample[sample_key].append(ref)
    for refs in by_sample.values():
        for item_digest, key in shard_writer.full_digests(reader, refs):
            by_digest[item_digest].append(key)
    duplicates: Dict[str, str] = {}
    for group in by_digest.items():
        duplicates.update(shard_writer.duplicates_of(group))
    return duplicates


def convert_dataset(plan: Plan, layout: ShardLayout, rejects_path: str, summary_path: str,
                    progress_dir: Optional[str] = None) -> None:
    """Plan → shard files + rejects.jsonl + summary.json (labels.txt is the caller's),
    in this process, shard after shard in plan order."""
    limits = integrity.Limits.from_options(plan.source.options)
    reader = plan.source.open_reader()
    try:
        duplicates = find_duplicates(reader, plan) if plan.dedupe else {}
        rejects: List[records.Reject] = list(plan.rejects)
        rejects += [shard_writer.duplicate_reject(dup, kept) for dup, kept in duplicates.items()]
        stats: List[Dict[str, Any]] = []
        for shard in plan.shards:
            for out in shard_writer.write_shard(reader, limits, layout, shard, duplicates, progress_dir):
                (rejects if isinstance(out, records.Reject) else stats).append(out)
    finally:
        reader.close()
    shard_writer.write_reports(stats, rejects, shard_writer.plan_info(plan), rejects_path, summary_path)
