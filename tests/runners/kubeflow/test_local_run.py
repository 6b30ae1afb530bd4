"""runners.kubeflow.local_step plays each backend's driver and launcher for EVERY task of the JSON
that `python -m runners.kubeflow.runner` writes: DAG order, input artifacts as the backend's
metadata store hands them back, output URIs under the pipeline root, each step's executor output
merged and passed downstream. On digits both end with a pushed model:

- ``--backend kfp``: open-source KFP 2.x, on its default minio:// root (untyped input artifacts,
  MLMD ids as names, the launcher's download/upload through the pods' /minio paths);
- ``--backend vertex``: Vertex AI Pipelines, with its latest-blessed-model resolver tasks.

A step counts as succeeded only on exit 0, as KFP's launcher counts it.
"""
from __future__ import annotations

import json
import re
import os
import subprocess
import sys
import textwrap

import pytest

from runners.kubeflow import local_step
from schemas.labels import summary_path
from tests.runners.kubeflow.conftest import RUN_OVERRIDES

pytestmark = pytest.mark.xdist_group("kubeflow")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

# A stand-in executor: writes its ExecutorOutput (or not), then ends as told in $END.
FAKE_EXECUTOR = textwrap.dedent("""
    import json, os, sys
    invocation = json.loads(sys.argv[1])
    end = os.environ["END"]
    if end != "no_output":
        with open(invocation["outputs"]["outputFile"], "w") as f:
            json.dump({"artifacts": {}}, f)
    if end in ("abort_after_output", "no_output"):
        sys.stderr.write("pure virtual method called\\nterminate called without an active exception\\n")
        sys.stderr.flush()
        os.abort()
    if end == "exit_1":
        sys.exit(1)
""")


def fake_job():
    return {"pipelineSpec": {
        "schemaVersion": "2.1.0",
        "root": {"dag": {"tasks": {"Step": {"componentRef": {"name": "comp-step"}}}}},
        "components": {"comp-step": {"executorLabel": "exec-step", "outputDefinitions": {
            "artifacts": {"out": {"artifactType": {"schemaTitle": "system.Artifact"}}}}}},
        "deploymentSpec": {"executors": {"exec-step": {"container": {
            "image": "x", "command": ["python", "-c", FAKE_EXECUTOR], "args": ["{{$}}"]}}}}}}


@pytest.mark.parametrize("end,ok", [
    ("exit_0", True), ("no_output_exit_0", True),
    ("abort_after_output", False), ("no_output", False), ("exit_1", False)])
def test_a_step_succeeds_only_on_exit_0(tmp_path, monkeypatch, end, ok):
    """KFP's launcher fails a task on any non-zero exit, whatever it wrote (TFX's shutdown abort
    included); a missing executor output reads as an empty one."""
    monkeypatch.setenv("END", "exit_0" if end == "no_output_exit_0" else end)
    launcher = local_step.Launcher(fake_job(), str(tmp_path), backend="kfp")
    if not ok:
        with pytest.raises(local_step.StepFailed, match="Step exited"):
            launcher.run_step("Step", {})
        return
    result = launcher.run_step("Step", {})
    assert result.succeeded and result.returncode == 0
    # Keys the executor did not report keep the URI the launcher assigned.
    assert result.outputs["out"][0]["uri"] == os.path.join(str(tmp_path), "run-1", "Step", "out")


def test_entrypoint_exits_1_with_the_error_on_stderr(tmp_path):
    """A step whose work fails exits non-zero, its error last on stderr (what KFP shows for the task)."""
    invocation = {"inputs": {}, "outputs": {"artifacts": {}, "outputFile": str(tmp_path / "out.json")}}
    run = subprocess.run([sys.executable, "-m", "runners.kubeflow.entrypoint", "--executor_class_path",
                          "components.no_such_module.Executor", "--json_serialized_invocation_args",
                          json.dumps(invocation)], cwd=REPO, capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, TF_USE_LEGACY_KERAS="1"))
    assert run.returncode == 1, run.stderr[-2000:]
    assert run.stderr.strip().splitlines()[-1].startswith("tfslim step failed:")
    assert "no_such_module" in run.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "out.json").exists()


def _pushed(results, serving, local):
    assert all(result.succeeded for result in results.values())
    (model,) = results["Trainer"].outputs["model"]
    assert os.path.isfile(os.path.join(local(model["uri"]), "Format-Serving", "saved_model.pb"))
    (blessing,) = results["Evaluator"].outputs["blessing"]
    assert os.path.exists(os.path.join(local(blessing["uri"]), "BLESSED"))
    (pushed,) = results["Pusher"].outputs["pushed_model"]
    assert pushed["metadata"]["pushed"] == 1
    destination = pushed["metadata"]["pushed_destination"]
    assert destination.startswith(str(serving / "lenet"))
    assert os.path.isfile(os.path.join(destination, "saved_model.pb"))
    assert os.path.isfile(serving / "models.config")
    return model, blessing


@pytest.mark.e2e
def test_kfp_backend_runs_the_compiled_json_on_a_minio_root_to_a_pushed_model(kfp_local_run):
    job, results, local = (kfp_local_run[key] for key in ("job", "results", "local"))
    assert list(results) == local_step.task_order(job)
    assert set(results) == set(job["pipelineSpec"]["root"]["dag"]["tasks"])
    model, blessing = _pushed(results, kfp_local_run["serving"], local)
    # Every artifact is recorded under the minio:// root, and what a step wrote in its pod was
    # uploaded to the store (Transform writes no analyzer cache here: the launcher skips it).
    launcher = kfp_local_run["launcher"]
    for task, result in results.items():
        for artifacts in result.outputs.values():
            for artifact in artifacts:
                assert artifact["uri"].startswith("minio://mlpipeline/v2/artifacts/"), artifact
                in_pod = local_step.paths.local_path_for_uri(
                    artifact["uri"], os.path.join(launcher.work_dir, "pods", "run-1", task))
                assert os.path.exists(local(artifact["uri"])) == os.path.exists(in_pod), artifact["uri"]
    assert os.path.isdir(local(results["Transform"].outputs["transform_graph"][0]["uri"]))
    # What the OSS driver hands a consumer: untyped, named by MLMD id, launcher metadata added.
    trainer_in = results["Trainer"].executor_input["inputs"]["artifacts"]
    (examples_in,) = trainer_in["examples"]["artifacts"]
    (examples,) = results["ImageExampleGen"].outputs["examples"]
    assert examples_in["type"] == {"instanceSchema": ""} and examples_in["name"] == str(examples["id"])
    assert examples_in["uri"] == examples["uri"] and examples_in["metadata"]["display_name"] == "examples"
    # The Evaluator's blessing names the model by its MLMD id and its store URI (never a pod path).
    assert blessing["metadata"]["current_model_id"] == str(model["id"])
    assert blessing["metadata"]["current_model"] == model["uri"]
    # What the KFP UI draws: typed system.* outputs with kfp-format metadata.
    report = results["RunReport"].outputs
    assert {key: artifacts[0]["schema_title"] for key, artifacts in report.items()} == {
        "report": "system.HTML", "metrics": "system.Metrics", "confusion_matrix": "system.ClassificationMetrics"}
    matrix = report["confusion_matrix"][0]["metadata"]["confusionMatrix"]
    assert [spec["displayName"] for spec in matrix["annotationSpecs"]] == [str(d) for d in range(10)]
    eval_count = json.load(open(summary_path(local(examples["uri"]))))["splits"]["eval"]["count"]
    assert sum(sum(row["row"]) for row in matrix["rows"]) == eval_count  # the whole eval split
    metrics = report["metrics"][0]["metadata"]
    assert metrics["eval_examples"] == eval_count and metrics["skipped"] == 0
    assert metrics["blessed"] == 1 and metrics["pushed"] == 1 and 0 <= metrics["top1"] <= 1
    assert "train_loss" in metrics and "top5" in metrics
    # The report's header names the model and data by their store URIs, not a pod's local copy.
    with open(local(report["report"][0]["uri"]), encoding="utf-8") as f:
        model_shown, data_shown = re.search(r"Model: (\S+); data: (\S+)</p>", f.read()).groups()
    assert data_shown == examples["uri"] and model_shown.startswith(model["uri"]), (model_shown, data_shown)


@pytest.mark.e2e
def test_run_parameters_change_the_run_without_a_recompile(kfp_local_run):
    """The compiled defaults (gs:// data, 100 steps at 0.001) replaced by the run's arguments."""
    from report import sources  # pylint: disable=import-outside-toplevel

    job, results, local = (kfp_local_run[key] for key in ("job", "results", "local"))
    declared = job["pipelineSpec"]["root"]["inputDefinitions"]["parameters"]
    assert {"data_root", "train_steps", "learning_rate", "accuracy_threshold", "serving_dir"} <= set(declared)
    assert declared["train_steps"]["defaultValue"] == 100 and declared["data_root"]["defaultValue"] == "gs://b/digits"
    tasks = job["pipelineSpec"]["root"]["dag"]["tasks"]
    assert tasks["Trainer"]["inputs"]["parameters"]["train_steps"] == {"componentInputParameter": "train_steps"}
    # The ingested data is the run's data_root ...
    (examples,) = results["ImageExampleGen"].outputs["examples"]
    assert results["ImageExampleGen"].executor_input["inputs"]["parameterValues"]["input_base"] == \
        os.path.dirname(kfp_local_run["serving"]) + "/digits"
    with open(summary_path(local(examples["uri"]))) as f:
        assert json.load(f)["converted"] == kfp_local_run["written"] == 100
    # ... and the model trained the run's steps at the run's learning rate (its TensorBoard scalars).
    (model_run,) = results["Trainer"].outputs["model_run"]
    scalars = sources.read_scalars(local(model_run["uri"]))
    assert scalars["loss"][-1][0] == int(RUN_OVERRIDES["train_steps"])
    assert scalars["learning rate"][-1][1] == pytest.approx(float(RUN_OVERRIDES["learning_rate"]))


@pytest.mark.e2e
def test_vertex_backend_runs_the_compiled_json_with_its_resolvers(vertex_local_run):
    job, results, local = (vertex_local_run[key] for key in ("job", "results", "local"))
    resolvers = [name for name in local_step.task_order(job) if "resolver" in name]
    assert len(resolvers) == 2 and list(results) == local_step.task_order(job)
    model, blessing = _pushed(results, vertex_local_run["serving"], local)
    # A first run has no blessed model: the resolvers return none and the Evaluator has no baseline.
    assert all(not artifacts for name in resolvers for artifacts in results[name].outputs.values())
    assert results["Evaluator"].executor_input["inputs"]["artifacts"]["baseline_model"] == {"artifacts": []}
    # Vertex names artifacts by resource; the ExampleGen driver hook ran before its executor.
    assert blessing["metadata"]["current_model_id"] == model["name"]
    driver = results["ImageExampleGen"].driver_output["parameterValues"]
    assert driver["span"] == 0 and "input_fingerprint" in driver
    # The next run's resolvers find this run's blessed model through the metadata store.
    again = local_step.Launcher(job, vertex_local_run["root"], backend="vertex", run_id="run-2").run(resolvers)
    (found_blessing,) = again[resolvers[0]].outputs["model_blessing"]
    (baseline,) = again[resolvers[1]].outputs["model"]
    assert found_blessing["name"] == blessing["name"] and baseline["uri"] == model["uri"]
