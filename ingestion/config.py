"""Executor settings carried in the component's ``custom_config`` (a Struct in the Any).

Keys: ``source`` (folder | flowers | cifar10 | mnist | imagenet | tfrecord; default
folder), ``num_shards`` (per split; default about one shard per 1,000 images),
``dedupe`` (reject byte-identical duplicates; default per source), ``source_options``
(a dict the source reads, e.g. ImageNet's ``synsets_file``).
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any, Dict, Mapping, Optional

from google.protobuf import any_pb2, json_format, struct_pb2
from tfx.proto import example_gen_pb2
from tfx.types import standard_component_specs
from tfx.utils import proto_utils

DEFAULT_SOURCE = "folder"


@dataclasses.dataclass(frozen=True)
class IngestOptions:
    """What the executor needs beyond TFX's input/output configs."""
    source: str = DEFAULT_SOURCE
    num_shards: Optional[int] = None
    dedupe: Optional[bool] = None
    source_options: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"source": self.source, "source_options": dict(self.source_options)}
        if self.num_shards is not None:
            out["num_shards"] = self.num_shards
        if self.dedupe is not None:
            out["dedupe"] = self.dedupe
        return out

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "IngestOptions":
        unknown = set(values) - {"source", "num_shards", "dedupe", "source_options"}
        if unknown:
            raise ValueError(f"unknown ImageExampleGen custom_config keys: {sorted(unknown)}")
        num_shards = values.get("num_shards")
        return cls(source=str(values.get("source", DEFAULT_SOURCE)),
                   num_shards=None if num_shards is None else int(num_shards),
                   dedupe=values.get("dedupe"),
                   source_options=dict(values.get("source_options") or {}))


def to_custom_config(options: IngestOptions) -> example_gen_pb2.CustomConfig:
    """IngestOptions → CustomConfig (a google.protobuf.Struct packed in the Any)."""
    struct = struct_pb2.Struct()
    struct.update(options.to_dict())
    packed = any_pb2.Any()
    packed.Pack(struct)
    return example_gen_pb2.CustomConfig(custom_config=packed)


def from_exec_properties(exec_properties: Mapping[str, Any]) -> IngestOptions:
    """Reads the options from the executor's exec_properties (JSON CustomConfig or None)."""
    raw = exec_properties.get(standard_component_specs.CUSTOM_CONFIG_KEY)
    if not raw:
        return IngestOptions()
    if isinstance(raw, dict):  # a caller passing the options directly
        return IngestOptions.from_dict(raw)
    custom = example_gen_pb2.CustomConfig()
    proto_utils.json_to_proto(raw, custom)
    if not custom.HasField("custom_config"):
        return IngestOptions()
    struct = struct_pb2.Struct()
    if not custom.custom_config.Unpack(struct):
        raise ValueError(f"ImageExampleGen custom_config must pack a Struct, got "
                         f"{custom.custom_config.type_url}")
    return IngestOptions.from_dict(json.loads(json_format.MessageToJson(struct)))
