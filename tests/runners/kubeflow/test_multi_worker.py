"""--trainer_workers / --trainer_gpus_per_worker compile the Trainer into a multi-worker Vertex
training job (worker_pool_specs through tfx.extensions.google_cloud_ai_platform); --image is required."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from runners.kubeflow import runner
from tests.runners.kubeflow.conftest import IMAGE, settings
from tests.runners.kubeflow.test_compile import REPO, protos, task_parameters

pytestmark = pytest.mark.xdist_group("kubeflow")

VERTEX_EXECUTOR = "runners.kubeflow.vertex_training.VertexTrainerExecutor"


@pytest.fixture(scope="module")
def multi_worker_job(tmp_path_factory):
    path = tmp_path_factory.mktemp("compiled") / "vertex-mw.json"
    runner.compile_pipeline(settings(target="vertex", trainer_workers=3, trainer_gpus_per_worker=2,
                                     trainer_gpu_type="NVIDIA_L4", trainer_machine_type="g2-standard-24",
                                     vertex_project="tfslim-test", vertex_region="europe-west4"), str(path))
    return json.loads(path.read_text())


def test_trainer_compiles_to_vertex_worker_pools(multi_worker_job, vertex_job):
    _, spec, deployment = protos(multi_worker_job)
    args = list(deployment.executors["Trainer_executor"].container.args)
    assert args[args.index("--executor_class_path") + 1] == VERTEX_EXECUTOR
    custom = json.loads(task_parameters(spec, "Trainer")["custom_config"])
    assert custom["ai_platform_enable_vertex"] is True
    assert custom["ai_platform_vertex_region"] == "europe-west4"
    training = custom["ai_platform_training_args"]
    assert training["project"] == "tfslim-test"
    machine = {"machine_type": "g2-standard-24", "accelerator_type": "NVIDIA_L4", "accelerator_count": 2}
    assert training["worker_pool_specs"] == [
        {"machine_spec": machine, "replica_count": 1, "container_spec": {"image_uri": IMAGE}},
        {"machine_spec": machine, "replica_count": 2, "container_spec": {"image_uri": IMAGE}}]
    # The run_fn and its training options are unchanged; each replica runs them with TF_CONFIG.
    _, plain_spec, plain_deployment = protos(vertex_job)
    plain = json.loads(task_parameters(plain_spec, "Trainer")["custom_config"])
    assert custom["train_config"] == plain["train_config"]
    assert task_parameters(spec, "Trainer")["run_fn"] == task_parameters(plain_spec, "Trainer")["run_fn"]
    plain_args = list(plain_deployment.executors["Trainer_executor"].container.args)
    assert plain_args[plain_args.index("--executor_class_path") + 1] == \
        "components.run_parameters.TrainerExecutor"
    # Each Vertex replica runs that executor too, so run parameters reach the training job.
    from runners.kubeflow.vertex_training import VertexTrainerExecutor  # pylint: disable=import-outside-toplevel
    from components.run_parameters import TrainerExecutor  # pylint: disable=import-outside-toplevel

    assert VertexTrainerExecutor(VertexTrainerExecutor.Context())._GetExecutorClass() is TrainerExecutor


@pytest.mark.parametrize("changes,message", [
    (dict(trainer_workers=2), "--target vertex"),
    (dict(target="vertex", trainer_workers=2), "--vertex_project and --vertex_region"),
    (dict(target="vertex", trainer_workers=0, vertex_project="p", vertex_region="r"), ">= 1"),
    (dict(target="vertex", trainer_workers=2, trainer_gpus=1, vertex_project="p", vertex_region="r"),
     "--trainer_gpus_per_worker"),
    (dict(image=""), "--image is required")])
def test_bad_multi_worker_settings_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        settings(**changes)


def test_cli_requires_image(tmp_path):
    out = subprocess.run([sys.executable, "-m", "runners.kubeflow.runner", f"--output_file={tmp_path / 'j.json'}",
                          "--pipeline_root=gs://b/r", "--data_root=gs://b/d", "--serving_dir=gs://b/s"],
                         capture_output=True, text=True, timeout=300, check=False, cwd=REPO)
    assert out.returncode != 0 and "--image" in out.stderr and not (tmp_path / "j.json").exists()
