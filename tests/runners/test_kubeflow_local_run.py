"""pipeline.kubeflow_local_step plays the KFP launcher for EVERY task of the JSON that `python -m
pipeline.kubeflow_runner` writes: DAG order, output URIs under a local pipeline root, each step's
ExecutorOutput read back and passed downstream. On digits it ends with a pushed model.

Also: a step counts as succeeded only on exit 0 or TFX's exact shutdown abort after the
executor wrote its output; any other crash fails it.
"""
from __future__ import annotations

import os
import textwrap

import pytest

from pipeline import kubeflow_local_step as local_step

pytestmark = pytest.mark.xdist_group("kubeflow")

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
    if end == "message_then_exception":
        sys.stderr.write("pure virtual method called\\n")
        raise RuntimeError("executor failed")
    if end == "message_then_exit_1":
        sys.stderr.write("pure virtual method called\\nterminate called without an active exception\\n")
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


@pytest.mark.parametrize("end,ok,crashed", [
    ("exit_0", True, False),
    ("abort_after_output", True, True),
    ("no_output", False, None),
    ("message_then_exception", False, None),
    ("message_then_exit_1", False, None)])
def test_only_the_exact_shutdown_abort_counts_as_success(tmp_path, monkeypatch, end, ok, crashed):
    monkeypatch.setenv("END", end)
    if not ok:
        with pytest.raises(local_step.StepFailed, match="Step exited"):
            local_step.run_step(fake_job(), "Step", str(tmp_path), {})
        return
    result = local_step.run_step(fake_job(), "Step", str(tmp_path), {})
    assert result.succeeded and result.crashed_at_exit is crashed
    # Keys the executor did not report keep the URI the launcher assigned.
    assert result.outputs["out"][0]["uri"] == os.path.join(str(tmp_path), "Step", "out")


def test_known_exit_crash_is_exact():
    tail = "log\npure virtual method called\nterminate called without an active exception\n"
    assert local_step.is_known_exit_crash(-6, tail, output_written=True)
    assert local_step.is_known_exit_crash(134, tail, output_written=True)
    assert not local_step.is_known_exit_crash(-6, tail, output_written=False)
    assert not local_step.is_known_exit_crash(-11, tail, output_written=True)
    assert not local_step.is_known_exit_crash(1, tail, output_written=True)
    assert not local_step.is_known_exit_crash(-6, tail + "Traceback ...\n", output_written=True)


@pytest.mark.e2e
def test_compiled_json_runs_task_by_task_to_a_pushed_model(kfp_local_run):
    job, root, serving, results = (kfp_local_run[key] for key in ("job", "root", "serving", "results"))
    assert list(results) == local_step.task_order(job)
    assert set(results) == set(job["pipelineSpec"]["root"]["dag"]["tasks"])
    assert all(result.succeeded for result in results.values())
    # Each step's inputs are the artifacts its producer reported, under the pipeline root.
    trainer_in = results["Trainer"].executor_input["inputs"]["artifacts"]
    assert trainer_in["examples"]["artifacts"] == results["ImageExampleGen"].outputs["examples"]
    assert trainer_in["transform_graph"]["artifacts"] == results["Transform"].outputs["transform_graph"]
    (model,) = results["Trainer"].outputs["model"]
    assert model["uri"].startswith(root) and os.path.isfile(os.path.join(model["uri"], "Format-Serving",
                                                                          "saved_model.pb"))
    (blessing,) = results["Evaluator"].outputs["blessing"]
    assert os.path.exists(os.path.join(blessing["uri"], "BLESSED"))
    (pushed,) = results["Pusher"].outputs["pushed_model"]
    assert pushed["metadata"]["pushed"] == 1
    destination = pushed["metadata"]["pushed_destination"]
    assert destination.startswith(str(serving / "lenet"))
    assert os.path.isfile(os.path.join(destination, "saved_model.pb"))
    assert os.path.isfile(serving / "models.config")
