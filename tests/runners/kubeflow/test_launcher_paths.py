"""runners.kubeflow.launcher_paths: what the container entrypoint does to the ExecutorInput that
open-source KFP 2.x's driver sends, checked against TFX 1.16's own artifact parser."""
from __future__ import annotations

import argparse
import json
import os

import pytest

from runners.kubeflow import entrypoint as kubeflow_entrypoint
from runners.kubeflow import launcher_paths as paths
from schemas import fileio

pytestmark = pytest.mark.xdist_group("kubeflow")

EXAMPLES_SCHEMA = "title: tfx.Examples\ntype: object\n"


def oss_invocation(root: str = "minio://mlpipeline/v2/artifacts") -> dict:
    """An ExecutorInput in the OSS driver's shape: the upstream artifact untyped, named by MLMD id."""
    return {
        "inputs": {"artifacts": {"examples": {"artifacts": [{
            "name": "17", "type": {"instanceSchema": ""}, "uri": f"{root}/run/ImageExampleGen/examples",
            "metadata": {"split_names": '["train", "eval"]', "span": 0.0, "display_name": "examples"}}]}},
            "parameterValues": {"exclude_splits": "[]"}},
        "outputs": {"artifacts": {"statistics": {"artifacts": [{
            "name": "statistics", "type": {"instanceSchema": "title: tfx.ExampleStatistics\ntype: object\n"},
            "uri": f"{root}/run/StatisticsGen/statistics"}]}},
            "outputFile": "/tmp/x/output_metadata.json"}}


SPEC = {"artifacts": {"examples": {"artifactType": {"instanceSchema": EXAMPLES_SCHEMA}}}}


def test_local_path_for_uri_is_the_launchers():
    assert paths.local_path_for_uri("gs://b/k/x") == "/gcs/b/k/x"
    assert paths.local_path_for_uri("minio://mlpipeline/v2/a") == "/minio/mlpipeline/v2/a"
    assert paths.local_path_for_uri("s3://b/k", "/pod") == "/pod/s3/b/k"
    assert paths.local_path_for_uri("/data/x") is None
    assert paths.needs_local_sync("minio://b/k") and paths.needs_local_sync("s3://b/k")
    assert not paths.needs_local_sync("gs://b/k")  # TF opens gs:// itself
    assert paths.launcher_local_root({}) == "/"
    assert paths.launcher_local_root({"ARTIFACT_LOCAL_PATH": "/debug"}) == "/debug"
    assert paths.launcher_local_root({paths.LOCAL_ROOT_ENV: "/pod", "ARTIFACT_LOCAL_PATH": "/x"}) == "/pod"


def test_untyped_inputs_get_the_declared_type_and_then_parse_in_tfx():
    from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_entrypoint_utils as utils
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2

    def parse(invocation):
        message = json_format.ParseDict(invocation, pipeline_spec_pb2.ExecutorInput(), ignore_unknown_fields=True)
        return utils.parse_raw_artifact_dict(message.inputs.artifacts, {})

    invocation = oss_invocation()
    # TFX 1.16 alone: the driver's empty schema YAML-loads as None (the failure seen on OSS KFP).
    with pytest.raises(AttributeError, match="'NoneType' object has no attribute 'get'"):
        parse(invocation)
    assert paths.complete_input_types(invocation, SPEC) == {"examples": 1}
    (examples,) = parse(invocation)["examples"]
    assert examples.type_name == "Examples" and examples.split_names == '["train", "eval"]'
    assert examples.span == 0
    # Typed inputs (Vertex, or a later KFP) are left alone; a missing declaration is one clear error.
    assert paths.complete_input_types(invocation, SPEC) == {}
    untyped = oss_invocation()
    with pytest.raises(ValueError, match="'examples' arrived without a type.*spec 2.1"):
        paths.complete_input_types(untyped, None)


def test_minio_uris_become_the_pods_local_paths_and_back(tmp_path):
    invocation = oss_invocation()
    pod = str(tmp_path / "pod")
    assert paths.localize_uris(invocation, pod) == 2
    (examples,) = invocation["inputs"]["artifacts"]["examples"]["artifacts"]
    (statistics,) = invocation["outputs"]["artifacts"]["statistics"]["artifacts"]
    assert examples["uri"] == f"{pod}/minio/mlpipeline/v2/artifacts/run/ImageExampleGen/examples"
    assert statistics["uri"] == f"{pod}/minio/mlpipeline/v2/artifacts/run/StatisticsGen/statistics"
    assert os.path.isdir(os.path.dirname(statistics["uri"]))  # prepareOutputFolders
    reported = {"artifacts": {"statistics": {"artifacts": [{
        "uri": statistics["uri"], "metadata": {"current_model": f"{pod}/minio/b/model", "n": 3.0,
                                               "other": "/elsewhere"}}]}}}
    assert paths.restore_uris(reported, pod) == 2
    (back,) = reported["artifacts"]["statistics"]["artifacts"]
    assert back["uri"] == "minio://mlpipeline/v2/artifacts/run/StatisticsGen/statistics"
    assert back["metadata"] == {"current_model": "minio://b/model", "n": 3.0, "other": "/elsewhere"}
    # gs:// and local roots are left for TF to open.
    for root in ("gs://b/root", str(tmp_path / "local")):
        assert paths.localize_uris(oss_invocation(root), pod) == 0


def test_entrypoint_prepares_the_invocation_it_hands_tfx(tmp_path, monkeypatch):
    monkeypatch.delenv(fileio.STORE_PREFIXES_ENV, raising=False)
    args = argparse.Namespace(json_serialized_invocation_args=json.dumps(oss_invocation()),
                              json_serialized_inputs_spec_args=json.dumps(SPEC))
    assert kubeflow_entrypoint.prepare_invocation(args, str(tmp_path)) == 2
    prepared = json.loads(args.json_serialized_invocation_args)
    (examples,) = prepared["inputs"]["artifacts"]["examples"]["artifacts"]
    assert examples["type"] == {"instanceSchema": EXAMPLES_SCHEMA}
    assert examples["uri"].startswith(str(tmp_path / "minio"))
    # What the step writes for a person (the report's header) names the store, not the pod's copy.
    original = oss_invocation()["inputs"]["artifacts"]["examples"]["artifacts"][0]["uri"]
    assert fileio.display_uri(examples["uri"]) == original
    assert fileio.display_uri("/data/elsewhere") == "/data/elsewhere"
