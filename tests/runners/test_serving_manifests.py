"""The TF Serving manifests: restricted pod security, batching from a parameters file, a
readiness probe that follows the model name, and a GPU overlay.

No kubectl/kustomize (>= 4.1) here, so the two kustomize features used — `replacements`
with a delimiter and JSON 6902 patches — are applied by the small functions below,
with kustomize's semantics for the forms these files use.
"""
from __future__ import annotations

import copy
import os
import re
from typing import Any, Dict, List

import pytest
import yaml

from pipeline.configs import PipelineConfig

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVING = os.path.join(REPO, "kubeflow", "serving")


def load(*parts: str) -> Dict[str, Any]:
    with open(os.path.join(SERVING, *parts)) as f:
        return yaml.safe_load(f)


def container_of(deployment: Dict[str, Any]) -> Dict[str, Any]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def config_map_data(kustomization: Dict[str, Any]) -> Dict[str, str]:
    (generator,) = kustomization["configMapGenerator"]
    data = dict(literal.split("=", 1) for literal in generator.get("literals", []))
    for name in generator.get("files", []):
        with open(os.path.join(SERVING, name)) as f:
            data[os.path.basename(name)] = f.read()
    return data


def _select(node: Any, field_path: str) -> List[Any]:
    """(parent, key) of kustomize fieldPath a.b.[name=x].c in ``node``."""
    parts = re.findall(r"\[[^\]]+\]|[^.\[\]]+", field_path)
    parent, key = None, None
    for part in parts:
        if parent is not None:
            node = parent[key]
        if part.startswith("["):
            name, value = part[1:-1].split("=", 1)
            index = next(i for i, item in enumerate(node) if item.get(name) == value)
            parent, key = node, index
        else:
            parent, key = node, part
    return [parent, key]


def apply_replacements(kustomization: Dict[str, Any], resources: Dict[str, Any]) -> Dict[str, Any]:
    out = copy.deepcopy(resources)
    data = config_map_data(kustomization)
    for replacement in kustomization["replacements"]:
        source = replacement["source"]
        assert source["kind"] == "ConfigMap" and source["name"] == kustomization["configMapGenerator"][0]["name"]
        value = data[source["fieldPath"].split(".", 1)[1]]
        for target in replacement["targets"]:
            resource = out[(target["select"]["kind"], target["select"]["name"])]
            for field_path in target["fieldPaths"]:
                parent, key = _select(resource, field_path)
                options = target.get("options", {})
                if "delimiter" in options:
                    pieces = parent[key].split(options["delimiter"])
                    pieces[options["index"]] = value
                    parent[key] = options["delimiter"].join(pieces)
                else:
                    parent[key] = value
    return out


def apply_json6902(resource: Dict[str, Any], operations: List[Dict[str, Any]]) -> Dict[str, Any]:
    out = copy.deepcopy(resource)
    for op in operations:
        keys = [k.replace("~1", "/").replace("~0", "~") for k in op["path"].split("/")[1:]]
        parent = out
        for key in keys[:-1]:
            parent = parent[int(key)] if isinstance(parent, list) else parent[key]
        last = keys[-1]
        if op["op"] == "replace":
            assert last in parent, op["path"]
        else:
            assert op["op"] == "add", op
        parent[last] = op["value"]
    return out


@pytest.fixture(scope="module")
def base():
    kustomization = load("kustomization.yaml")
    resources = {}
    for name in kustomization["resources"]:
        doc = load(name)
        resources[(doc["kind"], doc["metadata"]["name"])] = doc
    return kustomization, resources


def test_pod_runs_with_restricted_security(base):
    _, resources = base
    deployment = resources[("Deployment", "tfslim-serving")]
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    container = container_of(deployment)
    assert container["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                            "capabilities": {"drop": ["ALL"]}}
    # With a read-only root, the only writable path is an emptyDir at /tmp.
    volumes = {v["name"]: v for v in pod["volumes"]}
    writable = [m for m in container["volumeMounts"] if not m.get("readOnly")]
    assert [m["mountPath"] for m in writable] == ["/tmp"] and "emptyDir" in volumes[writable[0]["name"]]


def test_batching_is_on_with_a_valid_parameters_file(base):
    kustomization, resources = base
    deployment = resources[("Deployment", "tfslim-serving")]
    container = container_of(deployment)
    args = dict(a.lstrip("-").split("=", 1) for a in container["args"])
    assert args["enable_batching"] == "true"
    mount_dir, name = os.path.split(args["batching_parameters_file"])
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == mount_dir]
    (volume,) = [v for v in deployment["spec"]["template"]["spec"]["volumes"] if v["name"] == mount["name"]]
    assert volume["configMap"]["name"] == kustomization["configMapGenerator"][0]["name"]
    params = batching_parameters(config_map_data(kustomization)[name])
    assert params["max_batch_size"] == [max(params["allowed_batch_sizes"])] == [64]
    assert params["batch_timeout_micros"][0] > 0
    assert params["allowed_batch_sizes"] == sorted(params["allowed_batch_sizes"])


# tensorflow_serving.servables.tensorflow.BatchingParameters (not in tensorflow-serving-api):
# its wrapper fields are `name { value: N }`, the repeated one `allowed_batch_sizes: N`.
BATCHING_FIELDS = {"max_batch_size", "batch_timeout_micros", "max_enqueued_batches", "num_batch_threads",
                   "thread_pool_name", "allowed_batch_sizes", "pad_variable_length_inputs",
                   "enable_large_batch_splitting"}


def batching_parameters(text: str) -> Dict[str, List[Any]]:
    """Field → values of a BatchingParameters text proto; unknown fields or syntax fail."""
    out: Dict[str, List[Any]] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"(\w+)\s*(?:\{\s*value:\s*(\S+)\s*\}|:\s*(\S+))", line)
        assert match and match.group(1) in BATCHING_FIELDS, f"not a BatchingParameters field: {line!r}"
        raw = match.group(2) or match.group(3)
        out.setdefault(match.group(1), []).append(int(raw) if raw.isdigit() else raw)
    return out


@pytest.mark.parametrize("model_name", [PipelineConfig().serving_model_name, "mobilenet_v1"])
def test_readiness_probe_follows_the_model_name(base, model_name):
    kustomization, resources = base
    changed = copy.deepcopy(kustomization)
    changed["configMapGenerator"][0]["literals"] = [f"MODEL_NAME={model_name}"]
    rendered = apply_replacements(changed, resources)
    probe = container_of(rendered[("Deployment", "tfslim-serving")])["readinessProbe"]
    assert probe["httpGet"]["path"] == f"/v1/models/{model_name}"
    # The shipped name is the pipeline's default served model.
    assert config_map_data(kustomization)["MODEL_NAME"] == PipelineConfig().serving_model_name


def test_gpu_overlay_requests_a_gpu_with_the_gpu_image(base):
    _, resources = base
    overlay = load("gpu", "kustomization.yaml")
    assert overlay["resources"] == [".."]
    (patch,) = overlay["patches"]
    assert patch["target"] == {"kind": "Deployment", "name": "tfslim-serving"}
    deployment = apply_json6902(resources[("Deployment", "tfslim-serving")], yaml.safe_load(patch["patch"]))
    container = container_of(deployment)
    cpu_image = container_of(resources[("Deployment", "tfslim-serving")])["image"]
    assert container["image"] == cpu_image + "-gpu"
    gpus = container["resources"]
    assert gpus["requests"]["nvidia.com/gpu"] == gpus["limits"]["nvidia.com/gpu"] == "1"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True  # hardening kept
