"""How each Kubeflow backend shapes a step's ExecutorInput, for the task-by-task runner.

``kfp`` follows open-source KFP 2.x's driver and launcher (kubeflow/pipelines ``backend/src/v2``
at 7b70c7b9, 2026-08; the same shapes since KFP 2.0's v2 engine):

* an upstream artifact is read back from ML Metadata (``metadata/converter.go``
  ``toRuntimeArtifact``): ``name`` is the MLMD id as a decimal string, ``type`` is
  ``{"instanceSchema": ""}`` (``client.go``: ``Schema: ""``), ``metadata`` holds the custom
  properties the launcher recorded: the executor's reported metadata (numbers as doubles,
  booleans as 0/1) plus ``display_name`` and ``store_session_info`` (``RecordArtifact``);
* an output artifact is named after its output key, typed from ``outputDefinitions``
  (``driver.go`` ``provisionOutputs``);
* parameters are typed ``parameterValues``, the component's declared defaults added for
  those the run does not set (``launcher_v2.go`` ``addDefaultParams``);
* resolver tasks do not exist there (the OSS compiler rejects them).

``vertex`` follows what TFX's Kubeflow V2 runner is tested against on Vertex AI Pipelines
(its launcher is not open source): typed artifacts with Vertex ML Metadata resource names, the
``parameters`` form for spec 2.0, ExampleGen's ``preCacheCheck`` hook before its executor, and
resolver tasks answered by a metadata query (newest LIVE artifact matching the filter).
"""
from __future__ import annotations

import json
import os
import re
from typing import Any, Dict, List, Mapping, Optional

BACKENDS = ("kfp", "vertex")
VERTEX_ARTIFACT_PREFIX = "projects/local/locations/local/metadataStores/default/artifacts/"
_PLACEHOLDER = re.compile(r"\{\{\$\.inputs\.artifacts\['([^']+)'\]\.metadata\['([^']+)'\]\}\}")
_CLAUSE = re.compile(r'^\s*([A-Za-z_][\w.]*)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s"]+)\s*$')

Record = Dict[str, Any]  # an artifact as the backend's metadata store holds it


def schema_title(artifact_type: Mapping[str, Any]) -> str:
    """The title of an ArtifactTypeSchema in JSON form (schemaTitle or instanceSchema's ``title:``)."""
    if artifact_type.get("schemaTitle"):
        return artifact_type["schemaTitle"]
    for line in (artifact_type.get("instanceSchema") or "").splitlines():
        if line.startswith("title:"):
            return line.split(":", 1)[1].strip()
    return ""


class MetadataStore:
    """The artifacts every run under one root published, kept in a JSON file (the backend's MLMD)."""

    def __init__(self, path: str):
        self.path = path
        self.records: List[Record] = []
        if os.path.exists(path):
            with open(path) as f:
                self.records = json.load(f)

    def next_id(self) -> int:
        return 1 + max((record["id"] for record in self.records), default=0)

    def publish(self, record: Record) -> Record:
        """Adds ``record`` (with an ``id`` from :meth:`next_id` unless it has one) and saves."""
        record = dict(record, id=record.get("id") or self.next_id(), state="LIVE")
        self.records.append(record)
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        with open(self.path, "w") as f:
            json.dump(self.records, f, indent=1)
        return record

    def query(self, expression: str) -> List[Record]:
        """Records matching a Vertex ML Metadata filter of ``field=value`` clauses joined by AND,
        newest first (the fields TFX's resolver queries use: schema_title, state, name, metadata.K.*)."""
        clauses = []
        for clause in expression.split(" AND "):
            match = _CLAUSE.match(clause)
            if not match:
                raise ValueError(f"Unsupported metadata filter clause {clause.strip()!r} in {expression!r}")
            field, value = match.groups()
            clauses.append((field, json.loads(value) if value.startswith('"') else value))
        found = [record for record in self.records if all(_matches(record, f, v) for f, v in clauses)]
        return sorted(found, key=lambda record: record["id"], reverse=True)


def _matches(record: Record, field: str, value: str) -> bool:
    if field == "schema_title":
        return record["schema_title"] == value
    if field == "state":
        return record["state"] == value
    if field == "name":
        return record["name"] == value
    if field.startswith("metadata."):
        _, key, kind = field.split(".", 2)
        got = record["metadata"].get(key)
        if kind == "number_value":
            return isinstance(got, (int, float)) and float(got) == float(value)
        return str(got) == str(value)
    raise ValueError(f"Unsupported metadata filter field {field!r}")


class Backend:
    """The ExecutorInput shapes of one backend (see the module docstring)."""

    name = ""
    runs_pre_cache_check = False

    def __init__(self, store: MetadataStore):
        self.store = store

    def input_artifact(self, record: Record) -> Dict[str, Any]:
        raise NotImplementedError

    def output_artifact(self, key: str, artifact_type: Mapping[str, Any], uri: str) -> Dict[str, Any]:
        raise NotImplementedError

    def recorded_metadata(self, key: str, metadata: Mapping[str, Any]) -> Dict[str, Any]:
        """What the backend stores for an output artifact's reported metadata."""
        return dict(metadata)

    def publish(self, producer: str, key: str, artifact: Mapping[str, Any],
                artifact_type: Mapping[str, Any]) -> Record:
        """Records an output artifact (launcher's artifact merged with the executor's report)."""
        return self.store.publish({
            "id": self._id_of(artifact), "name": artifact.get("name", ""), "producer": producer, "key": key,
            "type": dict(artifact_type), "schema_title": schema_title(artifact_type),
            "uri": artifact["uri"], "metadata": self.recorded_metadata(key, artifact.get("metadata", {}))})

    def _id_of(self, artifact: Mapping[str, Any]) -> Optional[int]:
        return None

    def parameters(self, schema_version: str, definitions: Mapping[str, Any],
                   values: Dict[str, Any]) -> Dict[str, Any]:
        """ExecutorInput.inputs' parameter field for compiled constants ``values``."""
        if schema_version >= "2.1.0":
            return {"parameterValues": values}
        legacy = {}
        for name, value in values.items():
            kind = definitions.get(name, {}).get("type")
            if isinstance(value, dict):  # already {"stringValue": ...} etc.
                legacy[name] = value
            elif kind == "INT":
                legacy[name] = {"intValue": str(int(float(value)))}
            elif kind == "DOUBLE":
                legacy[name] = {"doubleValue": float(value)}
            else:
                legacy[name] = {"stringValue": str(value)}
        return {"parameters": legacy}

    def resolve(self, task_name: str, queries: Mapping[str, Any],
                inputs: Mapping[str, List[Record]]) -> Dict[str, List[Record]]:
        raise NotImplementedError


class KfpBackend(Backend):
    """Open-source KFP 2.x's driver and launcher."""

    name = "kfp"

    def input_artifact(self, record: Record) -> Dict[str, Any]:
        return {"name": str(record["id"]), "type": {"instanceSchema": ""}, "uri": record["uri"],
                "metadata": dict(record["metadata"])}

    def output_artifact(self, key: str, artifact_type: Mapping[str, Any], uri: str) -> Dict[str, Any]:
        return {"name": key, "type": dict(artifact_type), "uri": uri}

    def recorded_metadata(self, key: str, metadata: Mapping[str, Any]) -> Dict[str, Any]:
        # toMLMDArtifact + RecordArtifact, read back by toRuntimeArtifact.
        recorded = {k: (int(v) if isinstance(v, bool) else v) for k, v in metadata.items()
                    if k != "_kfp_workspace"}
        recorded.setdefault("display_name", key)
        recorded.setdefault("store_session_info", json.dumps({"Provider": "minio", "Params": {}}))
        return recorded

    def parameters(self, schema_version: str, definitions: Mapping[str, Any],
                   values: Dict[str, Any]) -> Dict[str, Any]:
        if schema_version < "2.1.0":
            raise ValueError("Open-source KFP 2.x fills only spec 2.1 parameterValues: compile with "
                             "--target kfp (or --pipeline_spec_2_1).")
        with_defaults = {name: definition["defaultValue"] for name, definition in definitions.items()
                         if "defaultValue" in definition}
        with_defaults.update(values)
        return {"parameterValues": with_defaults}

    def resolve(self, task_name: str, queries: Mapping[str, Any],
                inputs: Mapping[str, List[Record]]) -> Dict[str, List[Record]]:
        raise ValueError(f"Task {task_name!r} is a resolver, which open-source KFP 2.x does not run "
                         "(\"resolver executors not implemented\"): compile with --target kfp.")


class VertexBackend(Backend):
    """Vertex AI Pipelines, as TFX's Kubeflow V2 runner is tested against it."""

    name = "vertex"
    runs_pre_cache_check = True

    def __init__(self, store: MetadataStore):
        super().__init__(store)
        self._next_id = store.next_id()

    def input_artifact(self, record: Record) -> Dict[str, Any]:
        return {"name": record["name"], "type": dict(record["type"]), "uri": record["uri"],
                "metadata": dict(record["metadata"])}

    def output_artifact(self, key: str, artifact_type: Mapping[str, Any], uri: str) -> Dict[str, Any]:
        # Vertex creates the output's metadata resource (its id) before the executor runs.
        reserved = self._next_id = max(self._next_id, self.store.next_id())
        self._next_id += 1
        return {"name": f"{VERTEX_ARTIFACT_PREFIX}{reserved}", "type": dict(artifact_type), "uri": uri}

    def _id_of(self, artifact: Mapping[str, Any]) -> Optional[int]:
        name = artifact.get("name", "")
        return int(name[len(VERTEX_ARTIFACT_PREFIX):]) if name.startswith(VERTEX_ARTIFACT_PREFIX) else None

    def resolve(self, task_name: str, queries: Mapping[str, Any],
                inputs: Mapping[str, List[Record]]) -> Dict[str, List[Record]]:
        """The newest LIVE artifact per output query, or none (a first run has no blessed model)."""
        out: Dict[str, List[Record]] = {}
        for key, query in queries.items():
            expression = query["filter"]
            missing = False

            def fill(match: "re.Match[str]") -> str:
                nonlocal missing
                listed = inputs.get(match.group(1)) or []
                if not listed or match.group(2) not in listed[0]["metadata"]:
                    missing = True
                    return ""
                return str(listed[0]["metadata"][match.group(2)])

            expression = _PLACEHOLDER.sub(fill, expression)
            out[key] = [] if missing else self.store.query(expression)[:1]
        return out


def make_backend(name: str, store: MetadataStore) -> Backend:
    """The backend called ``name`` (one of BACKENDS) over ``store``."""
    if name not in BACKENDS:
        raise ValueError(f"--backend {name!r} is not one of {', '.join(BACKENDS)}")
    return KfpBackend(store) if name == "kfp" else VertexBackend(store)
