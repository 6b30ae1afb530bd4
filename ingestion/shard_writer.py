"""The conversion work itself, without Beam or TensorFlow: one input → one serialized
tf.Example, one shard → one TFRecord file, duplicates by content, and the reports.

Both ways of running a conversion call these functions, so they write the same bytes:
- ``transforms`` wraps them in Beam DoFns (the TFX component, and `tfslim convert` on
  any Beam runner);
- ``local_convert`` calls them in a plain loop (`tfslim convert` without Beam flags),
  which spares a small conversion the ~5 s `import apache_beam`.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, NamedTuple, Optional, Tuple

from ingestion.formats import example as example_lib
from ingestion.formats import image_codec, integrity
from ingestion import progress, records
from ingestion.planning import Plan, ShardSpec, resolve_shard
from ingestion.formats.record_writer import RecordWriter
from ingestion.sources.base import Reader
from schemas import fileio, labels as labels_lib
from schemas.layout import INCOMPLETE_SUFFIX, ShardLayout


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


# ---- one shard → one file ----

def _report_progress(progress_dir: Optional[str], shard: ShardSpec, done: int) -> None:
    """Items done so far in this shard, as a small file ``progress.ProgressMonitor`` sums."""
    if progress_dir:
        progress.write_count(progress_dir, f"{shard.split}-{shard.index:05d}", done)


def write_shard(reader: Reader, limits: integrity.Limits, layout: ShardLayout, element: Any,
                duplicates: Mapping[str, str], progress_dir: Optional[str] = None,
                on_converted: Callable[[], None] = lambda: None
                ) -> Iterator[Any]:
    """Converts one shard's items in plan order and writes its file (``.incomplete``
    name, renamed when whole). ``element``: a ShardSpec or ShardTask. Items whose key
    is in ``duplicates`` are skipped (reported by the caller). Yields each Reject as it
    happens, then the shard's stats dict last."""
    shard = resolve_shard(element)
    path = layout.shard_path(shard.split, shard.index, shard.num_shards)
    fileio.makedirs(os.path.dirname(path))
    temp = path + INCOMPLETE_SUFFIX
    per_label: Dict[int, int] = {}
    reencoded = 0
    last_report = time.monotonic()
    with RecordWriter(temp, layout.compression) as writer:
        for done, ref in enumerate(shard.items, 1):
            if ref.key not in duplicates:
                converted, reject = convert_item(reader, ref, limits)
                if reject is not None:
                    yield reject
                else:
                    writer.write(converted.record)
                    per_label[converted.label] = per_label.get(converted.label, 0) + 1
                    reencoded += int(converted.reencoded)
                    on_converted()
            if time.monotonic() - last_report > 0.5:
                _report_progress(progress_dir, shard, done)
                last_report = time.monotonic()
    fileio.replace(temp, path)
    _report_progress(progress_dir, shard, len(shard.items))
    yield {"split": shard.split, "shard": shard.index, "path": path,
           "count": sum(per_label.values()), "reencoded": reencoded,
           "per_label": sorted(per_label.items())}


# ---- duplicates by content: size, then head+tail sample, then full sha256 ----
# Each stage only looks at items that still collide, so distinct files are read in full
# once only (by the writer).

def digest(raw: records.RawItem) -> Optional[bytes]:
    """sha256 of an item's bytes (or pixels); None when it has neither."""
    if raw.data:
        return hashlib.sha256(raw.data).digest()
    if raw.pixels is not None:
        return hashlib.sha256(raw.pixels.tobytes()).digest()
    return None


def sizes(reader: Reader, element: Any) -> Iterator[Tuple[str, Any, Any]]:
    """One shard's items → ('size', size, ref), or ('digest', sha256, key) for items whose
    size needs a read (records in a container: hashed now, in the shard's order).
    Empty and unreadable items are skipped: the writer reports them."""
    for ref in resolve_shard(element).items:
        size = reader.size(ref)
        if size is not None:
            if size > 0:
                yield "size", size, ref
            continue
        try:
            item_digest = digest(reader.read(ref))
        except records.Rejected:
            continue
        if item_digest is not None:
            yield "digest", item_digest, ref.key


def sample_digests(reader: Reader, size: int, refs: List[records.ItemRef]
                   ) -> Iterator[Tuple[Tuple[int, bytes], records.ItemRef]]:
    """Items of one size → ((size, sha256 of head+tail), ref); nothing for a lone item."""
    if len(refs) < 2:
        return
    for ref in refs:
        sample = reader.sample(ref, size)
        if sample is not None:
            yield (size, hashlib.sha256(sample).digest()), ref


def full_digests(reader: Reader, refs: List[records.ItemRef]) -> Iterator[Tuple[bytes, str]]:
    """Items with one sample → (sha256 of the whole item, key); nothing for a lone item."""
    if len(refs) < 2:
        return
    for ref in refs:
        try:
            item_digest = digest(reader.read(ref))
        except records.Rejected:
            continue  # the writer reports it
        if item_digest is not None:
            yield item_digest, ref.key


def duplicates_of(group: Tuple[bytes, Iterable[str]]) -> Iterator[Tuple[str, str]]:
    """Keys with one digest → (duplicate key, kept key); the smallest key is kept."""
    keys = sorted(group[1])
    for key in keys[1:]:
        yield key, keys[0]


def duplicate_reject(duplicate: str, kept: str) -> records.Reject:
    return records.Reject(duplicate, records.DUPLICATE_CONTENT, f"same bytes as {kept}")


# ---- the reports ----

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


def write_reports(stats: List[Dict[str, Any]], rejects: List[records.Reject],
                  info: Dict[str, Any], rejects_path: str, summary_path: str) -> None:
    """rejects.jsonl, then summary.json last and atomically: the summary is the
    completion marker readers check."""
    reject_dicts = [r.to_json_dict() for r in rejects]
    labels_lib.write_rejects(reject_dicts, rejects_path)
    summary = build_summary(info, stats, reject_dicts)
    with fileio.open_file(summary_path + ".tmp", "w") as f:
        f.write(json.dumps(summary, indent=1, sort_keys=True) + "\n")
    fileio.replace(summary_path + ".tmp", summary_path)
