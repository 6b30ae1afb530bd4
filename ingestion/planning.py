"""Launcher-side planning: list the source, assign splits, cut each split into shards.

The plan holds only ItemRefs (paths/indices), never image bytes. Everything here is a
pure function of the source listing, so the same input always gives the same shards
(byte-identical output), whatever the runner or the number of workers.

Split strategies:
- ``HashSplit``: TFX's output_config hash buckets, computed exactly as TFX's
  ``_PartitionFn`` does with ``partition_feature_name='image/filename'`` (sha256 of the
  serialized Feature holding the relative path), so a path always lands in the same
  split regardless of its content or of the other files.
- ``ShuffleSplit``: slim's flowers split: sort the paths, ``random.Random(seed)
  .shuffle``, the first ``validation_size`` are validation.
- ``NativeSplit``: the splits the source defines (cifar10 train/test, TFX input splits).
"""
from __future__ import annotations

import bisect
import dataclasses
import hashlib
import math
import operator
import pickle
import random
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

from ingestion.formats import example as example_lib
from ingestion import records
from schemas import fileio
from ingestion.sources.base import Source

# Shards of about this many items when the shard count is automatic (the TFX component).
AUTO_SHARD_ITEMS = 1000


@dataclasses.dataclass(frozen=True)
class ShardSpec:
    """One output file's worth of work: its split, position and items in write order."""
    split: str
    index: int
    num_shards: int
    items: Tuple[records.ItemRef, ...]


@dataclasses.dataclass(frozen=True)
class ShardTask:
    """A ShardSpec whose items live in a file on shared storage (``plan_path``).

    Beam pickles every element list given to ``beam.Create`` into the job graph (dill +
    bz2: slow, and too large for Dataflow's graph limit at ImageNet scale), so the
    pipeline carries these small tasks and workers load their shard's items."""
    split: str
    index: int
    num_shards: int
    plan_path: str
    count: int

    def load(self) -> ShardSpec:
        with fileio.open_file(self.plan_path, "rb") as f:
            items = pickle.loads(f.read())
        return ShardSpec(self.split, self.index, self.num_shards,
                         tuple(records.ItemRef(*fields) for fields in items))


def resolve_shard(element: Union[ShardSpec, ShardTask]) -> ShardSpec:
    """The ShardSpec of a pipeline element (loading a ShardTask's items)."""
    return element.load() if isinstance(element, ShardTask) else element


# ItemRef → its field values in declaration order (ItemRef(*fields) rebuilds it).
_fields = operator.attrgetter(*(field.name for field in dataclasses.fields(records.ItemRef)))


def write_shard_tasks(shards: Sequence[ShardSpec], directory: str) -> List[ShardTask]:
    """Writes each shard's items to ``directory/<split>-<index>.items`` (pickled tuples)."""
    fileio.makedirs(directory)
    tasks = []
    for shard in shards:
        path = f"{directory}/{shard.split}-{shard.index:05d}.items"
        # Plain field tuples: dataclasses.astuple deep-copies each field (~30 us an item).
        payload = pickle.dumps([_fields(item) for item in shard.items],
                               protocol=pickle.HIGHEST_PROTOCOL)
        with fileio.open_file(path, "wb") as f:
            f.write(payload)
        tasks.append(ShardTask(shard.split, shard.index, shard.num_shards, path, len(shard.items)))
    return tasks


@dataclasses.dataclass(frozen=True)
class HashSplit:
    """Named splits with hash-bucket counts (TFX SplitConfig semantics) over the items
    of ``selector`` ('*': the whole source)."""
    splits: Tuple[Tuple[str, int], ...]
    selector: str = "*"

    @classmethod
    def from_fraction(cls, validation_fraction: float, train: str = "train",
                      validation: str = "validation") -> "HashSplit":
        """train/validation with ``validation_fraction`` of 10,000 buckets."""
        if not 0.0 <= validation_fraction < 1.0:
            raise ValueError(f"validation_fraction must be in [0, 1), got {validation_fraction}")
        val = int(round(validation_fraction * 10000))
        return cls(((train, 10000 - val), (validation, val)))

    @property
    def names(self) -> List[str]:
        return [name for name, _ in self.splits]


@dataclasses.dataclass(frozen=True)
class ShuffleSplit:
    """slim's split: seeded shuffle of the sorted keys, first N → validation."""
    validation_size: int
    seed: int = 0
    train: str = "train"
    validation: str = "validation"
    selector: str = "*"

    @property
    def names(self) -> List[str]:
        return [self.train, self.validation]


@dataclasses.dataclass(frozen=True)
class NativeSplit:
    """Output split name → source selector (native split name or sub-directory)."""
    selectors: Tuple[Tuple[str, str], ...]

    @property
    def names(self) -> List[str]:
        return [name for name, _ in self.selectors]


SplitStrategy = Union[HashSplit, ShuffleSplit, NativeSplit]


@dataclasses.dataclass
class Plan:
    """Everything the Beam stage needs; built once on the launcher."""
    dataset_name: str
    source: Source
    labels: Dict[int, str]
    split_names: List[str]
    shards: List[ShardSpec]
    rejects: List[records.Reject]
    dedupe: bool

    @property
    def num_items(self) -> int:
        return sum(len(s.items) for s in self.shards)

    @property
    def num_inputs(self) -> int:
        """Every input accounted for: items to convert + inputs rejected while listing."""
        return self.num_items + len(self.rejects)

    def split_sizes(self) -> Dict[str, int]:
        sizes = {name: 0 for name in self.split_names}
        for shard in self.shards:
            sizes[shard.split] += len(shard.items)
        return sizes


def tfx_hash_bucket(key: str, total_buckets: int) -> int:
    """The bucket TFX's _PartitionFn gives an example whose partition feature holds ``key``."""
    feature = example_lib.encode_feature(example_lib.BYTES, (encode_key(key),))
    digest = hashlib.sha256(feature).hexdigest()
    return int(digest, 16) % total_buckets


def encode_key(key: str) -> bytes:
    """UTF-8, keeping undecodable file-name bytes as they were (surrogateescape)."""
    return key.encode("utf-8", "surrogateescape")


def _hash_order(key: str) -> bytes:
    return hashlib.sha256(encode_key(key)).digest()


def assign_hash(items: Sequence[records.ItemRef],
                strategy: HashSplit) -> Dict[str, List[records.ItemRef]]:
    """Items → splits by TFX hash buckets of the key."""
    bounds, total = [], 0
    for _, count in strategy.splits:
        total += count
        bounds.append(total)
    out: Dict[str, List[records.ItemRef]] = {name: [] for name in strategy.names}
    for item in items:
        index = bisect.bisect(bounds, tfx_hash_bucket(item.key, total))
        out[strategy.splits[index][0]].append(item)
    return out


def assign_shuffle(items: Sequence[records.ItemRef],
                   strategy: ShuffleSplit) -> Dict[str, List[records.ItemRef]]:
    """slim's flowers semantics; the shuffled order is kept as the write order."""
    ordered = sorted(items, key=lambda item: item.key)
    random.Random(strategy.seed).shuffle(ordered)
    if strategy.validation_size > len(ordered):
        raise ValueError(f"validation_size {strategy.validation_size} exceeds the "
                         f"{len(ordered)} images found")
    return {strategy.train: ordered[strategy.validation_size:],
            strategy.validation: ordered[:strategy.validation_size]}


def cut_shards(split: str, items: Sequence[records.ItemRef], num_shards: int) -> List[ShardSpec]:
    """Contiguous, balanced ranges: shard i holds items [i*n//k, (i+1)*n//k)."""
    n = len(items)
    return [ShardSpec(split, i, num_shards, tuple(items[i * n // num_shards:(i + 1) * n // num_shards]))
            for i in range(num_shards)]


def auto_num_shards(num_items: int) -> int:
    """About AUTO_SHARD_ITEMS per shard, at least 1."""
    return max(1, math.ceil(num_items / AUTO_SHARD_ITEMS))


def scan_items(source: Source, selector: str, rejects: List[records.Reject],
               split: str = "") -> List[records.ItemRef]:
    """The source's items for ``selector``; listing rejects are appended to ``rejects``."""
    items = []
    for entry in source.scan(selector):
        if isinstance(entry, records.Reject):
            rejects.append(entry)
        else:
            items.append(dataclasses.replace(entry, split=split) if split else entry)
    return items


def make_plan(source: Source, strategy: SplitStrategy,
              num_shards: Optional[Union[int, Callable[[int], int]]] = None,
              dataset_name: str = "", dedupe: Optional[bool] = None) -> Plan:
    """Lists ``source`` and builds the Plan.

    num_shards: shards per split: an int, a function of the split's size, or None for
      ``auto_num_shards``.
    dedupe: reject inputs whose bytes equal an earlier (by key) input's; None uses the
      source's default.
    """
    rejects: List[records.Reject] = []
    if isinstance(strategy, NativeSplit):
        labels = source.class_names([selector for _, selector in strategy.selectors])
        by_split = {name: scan_items(source, selector, rejects, name)
                    for name, selector in strategy.selectors}
    else:
        labels = source.class_names([strategy.selector])
        items = scan_items(source, strategy.selector, rejects)
        by_split = (assign_hash(items, strategy) if isinstance(strategy, HashSplit)
                    else assign_shuffle(items, strategy))
    seen = set()
    for items in by_split.values():
        for item in items:
            if item.key in seen:
                raise ValueError(f"{source.name}: two inputs share the key {item.key!r}")
            seen.add(item.key)
    if not isinstance(strategy, ShuffleSplit) and source.random_access:
        # Mix classes across shards deterministically (a seeded shuffle by key).
        by_split = {name: sorted(items, key=lambda item: _hash_order(item.key))
                    for name, items in by_split.items()}
    shard_count = num_shards if num_shards is not None else auto_num_shards
    shards: List[ShardSpec] = []
    for name in strategy.names:
        items = by_split[name]
        count = shard_count(len(items)) if callable(shard_count) else int(shard_count)
        if count < 1:
            raise ValueError(f"num_shards must be >= 1, got {count}")
        shards.extend(cut_shards(name, items, count))
    return Plan(dataset_name=dataset_name or source.name, source=source,
                labels=dict(enumerate(labels)), split_names=list(strategy.names), shards=shards,
                rejects=sorted(rejects, key=lambda r: r.path),
                dedupe=source.dedupe_default if dedupe is None else dedupe)
