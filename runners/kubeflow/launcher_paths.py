"""What a step's ExecutorInput needs before TFX's v2 executor can run it on open-source KFP 2.x.

Two facts read from kubeflow/pipelines ``backend/src/v2`` (see docs/kubeflow.md for versions):

* The driver resolves an upstream artifact from ML Metadata with its schema left empty
  (``metadata/client.go``: ``Schema: ""``), so every input artifact arrives typed
  ``{"instanceSchema": ""}``. TFX 1.16 YAML-loads that schema to find the artifact's class and
  fails. The component's own input spec (``--json_serialized_inputs_spec_args``, compiled into
  every spec-2.1 step) declares each input's type: :func:`complete_input_types` copies it in.
* The launcher downloads each input artifact to ``LocalPathForURI(uri)`` before the command
  runs and uploads each output's local path afterwards (``component/launcher_v2.go``). TF's
  filesystems cannot open ``minio://`` (KFP's default store) or, without a plugin, ``s3://``;
  :func:`localize_uris` points the executor at the launcher's local copies instead, and
  :func:`restore_uris` puts the store URIs back into the executor output, because the launcher
  merges a reported URI over its own (``mergeRuntimeArtifacts``) before uploading.
"""
from __future__ import annotations

import os
from typing import Any, Dict, Iterator, Mapping, MutableMapping, Optional

# The schemes the launcher syncs through local paths (LocalPathForURI) that TF cannot open itself.
# gs:// stays remote: tf.io.gfile and Beam read it directly, so the executor keeps the real URI.
LOCAL_SYNC_SCHEMES = {"minio://": "minio", "s3://": "s3"}
LAUNCHER_PREFIXES = {"gs://": "gcs", **LOCAL_SYNC_SCHEMES}
# Where the launcher's local paths are rooted: "/" in a pod. Some KFP versions prefix them with
# ARTIFACT_LOCAL_PATH "for local debugging"; the task-by-task runner sets TFSLIM_KFP_LOCAL_ROOT so
# each emulated pod gets its own directory.
LOCAL_ROOT_ENV = "TFSLIM_KFP_LOCAL_ROOT"
KFP_LOCAL_ROOT_ENV = "ARTIFACT_LOCAL_PATH"

RuntimeArtifact = MutableMapping[str, Any]


def launcher_local_root(environ: Mapping[str, str] = os.environ) -> str:
    """The directory the launcher's ``/minio``, ``/s3`` and ``/gcs`` paths live under."""
    return environ.get(LOCAL_ROOT_ENV) or environ.get(KFP_LOCAL_ROOT_ENV) or "/"


def local_path_for_uri(uri: str, root: str = "/") -> Optional[str]:
    """KFP launcher's ``LocalPathForURI`` (gs→/gcs, minio→/minio, s3→/s3) under ``root``; None otherwise."""
    for prefix, mount in LAUNCHER_PREFIXES.items():
        if uri.startswith(prefix):
            return os.path.join(root, mount, uri[len(prefix):])
    return None


def needs_local_sync(uri: str) -> bool:
    """Whether the executor must use the launcher's local copy of ``uri`` (TF cannot open it)."""
    return uri.startswith(tuple(LOCAL_SYNC_SCHEMES))


def _has_type(artifact: Mapping[str, Any]) -> bool:
    kind = artifact.get("type") or {}
    return bool(kind.get("schemaTitle") or (kind.get("instanceSchema") or "").strip())


def _artifacts(lists: Mapping[str, Any]) -> Iterator[tuple]:
    for key, listed in lists.items():
        for artifact in listed.get("artifacts", []):
            yield key, artifact


def complete_input_types(invocation: MutableMapping[str, Any],
                         inputs_spec: Optional[Mapping[str, Any]]) -> Dict[str, int]:
    """Gives every untyped input artifact its declared type; returns key → artifacts completed.

    Raises:
      ValueError: an input has no type and the component spec does not declare one.
    """
    declared = (inputs_spec or {}).get("artifacts", {})
    completed: Dict[str, int] = {}
    for key, artifact in _artifacts(invocation.get("inputs", {}).get("artifacts", {})):
        if _has_type(artifact):
            continue
        artifact_type = declared.get(key, {}).get("artifactType")
        if not artifact_type:
            raise ValueError(
                f"Input artifact {key!r} arrived without a type and the step has no "
                "--json_serialized_inputs_spec_args declaring it; compile with pipeline spec 2.1 "
                "(--target kfp) for open-source KFP.")
        artifact["type"] = dict(artifact_type)
        completed[key] = completed.get(key, 0) + 1
    return completed


def localize_uris(invocation: MutableMapping[str, Any], root: str = "/") -> int:
    """Replaces minio:// and s3:// artifact URIs by the launcher's local paths, in place.

    Outputs get their parent directories, as the launcher's ``prepareOutputFolders`` makes them.
    Returns how many URIs were replaced (:func:`restore_uris` maps them back).
    """
    replaced = 0
    sections = (invocation.get("inputs", {}).get("artifacts", {}),
                invocation.get("outputs", {}).get("artifacts", {}))
    for index, lists in enumerate(sections):
        for _, artifact in _artifacts(lists):
            uri = artifact.get("uri", "")
            if not needs_local_sync(uri):
                continue
            artifact["uri"] = local_path_for_uri(uri, root)
            replaced += 1
            if index == 1:
                os.makedirs(os.path.dirname(artifact["uri"].rstrip("/")), exist_ok=True)
    return replaced


def store_prefixes(root: str = "/") -> Dict[str, str]:
    """The launcher's local prefix of each synced store (``/minio/``) → its URI prefix (``minio://``)."""
    return {os.path.join(root, mount) + "/": prefix for prefix, mount in LOCAL_SYNC_SCHEMES.items()}


def _store_uri(value: Any, local_prefixes: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        for local, scheme in local_prefixes.items():
            if value.startswith(local):
                return scheme + value[len(local):]
    return value


def restore_uris(executor_output: MutableMapping[str, Any], root: str = "/") -> int:
    """Maps the launcher's local paths back to store URIs in an ExecutorOutput's artifacts, in place.

    Both the URI (the launcher merges it over its own before uploading) and string metadata
    (e.g. the Evaluator's ``current_model``, recorded in ML Metadata) are mapped, so nothing
    downstream sees a path that existed only in this pod. Returns how many values changed.
    """
    local_prefixes = store_prefixes(root)
    changed = 0
    for _, artifact in _artifacts(executor_output.get("artifacts", {})):
        for field, container in (("uri", artifact), *((k, artifact.get("metadata", {}))
                                                       for k in list(artifact.get("metadata", {})))):
            if field not in container:
                continue
            new = _store_uri(container[field], local_prefixes)
            if new != container[field]:
                container[field] = new
                changed += 1
    return changed
