"""Simulated Kubeflow steps: the compiled ExampleGen and StatisticsGen invocations, run as OSS
KFP's driver and launcher run them (container command + args, ExecutorInput JSON for {{$}},
a minio:// root synced through each pod's /minio paths).

The closest this machine gets to a cluster: no Argo, MLMD server or real object store.
"""
from __future__ import annotations

import glob
import json
import os

import pytest

from schemas.labels import labels_path, read_label_file
from runners.kubeflow import local_step

pytestmark = [pytest.mark.xdist_group("kubeflow"), pytest.mark.e2e]


@pytest.fixture(scope="module")
def steps(kfp_local_run):
    """ImageExampleGen → StatisticsGen, from the one kfp-backend run of the compiled pipeline
    (tests/runners/kubeflow/conftest.py), each step a subprocess as KFP runs it."""
    return kfp_local_run["written"], kfp_local_run["results"]


def count_records(pattern: str) -> int:
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    files = sorted(glob.glob(pattern))
    assert files, pattern
    return sum(1 for _ in tf.data.TFRecordDataset(files, compression_type="GZIP"))


def test_executor_input_is_what_the_launcher_passes(steps, kfp_local_run):
    _, results = steps
    invocation = results["ImageExampleGen"].executor_input
    # Spec 2.1: typed parameterValues (the OSS driver's form), ints as numbers.
    assert invocation["inputs"]["parameterValues"]["output_file_format"] == 5
    output = invocation["outputs"]["artifacts"]["examples"]["artifacts"][0]
    assert output["type"]["instanceSchema"].startswith("title: tfx.Examples")
    assert output["uri"] == "minio://mlpipeline/v2/artifacts/run-1/ImageExampleGen/examples"
    # The driver puts the executor output under the task's local root (LocalPathForURI).
    assert invocation["outputs"]["outputFile"].endswith(
        "/minio/mlpipeline/v2/artifacts/run-1/ImageExampleGen/output_metadata.json")
    container = local_step.container_spec(kfp_local_run["job"], "ImageExampleGen")
    command = local_step.command_line(container, invocation)
    assert command[1:3] == ["-m", "runners.kubeflow.entrypoint"]
    assert json.loads(command[command.index("--json_serialized_invocation_args") + 1]) == invocation
    # StatisticsGen got ExampleGen's artifact as the executor reported it (with split names).
    examples_in = results["StatisticsGen"].executor_input["inputs"]["artifacts"]["examples"]["artifacts"][0]
    assert examples_in["uri"] == output["uri"]
    assert json.loads(examples_in["metadata"]["split_names"]) == ["train", "eval"]
    # OSS KFP runs no lifecycle hook: the executor resolves span and fingerprint itself.
    assert results["ImageExampleGen"].driver_output is None


def test_example_gen_writes_splits_and_labels(steps, kfp_local_run):
    written, results = steps
    result = results["ImageExampleGen"]
    assert result.succeeded
    (examples,) = result.outputs["examples"]
    uri = kfp_local_run["local"](examples["uri"])
    train = count_records(os.path.join(uri, "Split-train", "*.gz"))
    eval_ = count_records(os.path.join(uri, "Split-eval", "*.gz"))
    assert train + eval_ == written == 100
    assert 0 < eval_ < train  # 4:1 hash buckets
    labels = read_label_file(labels_path(uri))
    assert labels == {d: str(d) for d in range(10)}


def test_statistics_gen_writes_statistics_per_split(steps, kfp_local_run):
    _, results = steps
    from tensorflow_metadata.proto.v0 import statistics_pb2  # pylint: disable=import-outside-toplevel

    local = kfp_local_run["local"]
    examples_uri = local(results["ImageExampleGen"].outputs["examples"][0]["uri"])
    (statistics,) = results["StatisticsGen"].outputs["statistics"]
    assert json.loads(statistics["metadata"]["split_names"]) == ["train", "eval"]
    for split in ("train", "eval"):
        path = os.path.join(local(statistics["uri"]), f"Split-{split}", "FeatureStats.pb")
        with open(path, "rb") as f:
            stats = statistics_pb2.DatasetFeatureStatisticsList.FromString(f.read())
        (dataset,) = stats.datasets
        assert dataset.num_examples == count_records(os.path.join(examples_uri, f"Split-{split}", "*.gz"))
        names = {feature.path.step[0] for feature in dataset.features}
        assert {"image/encoded", "image/class/label"} <= names
