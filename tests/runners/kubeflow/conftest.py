"""Shared, expensive fixtures of the Kubeflow tests: compiled pipelines and task-by-task runs.

Modules using them carry ``pytest.mark.xdist_group("kubeflow")`` so that under
``pytest -n 2 --dist loadgroup`` they share one worker and compile once.
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict

import pytest

from runners.kubeflow.settings import KubeflowSettings

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BUCKET = "gs://tfslim-test"
IMAGE = "registry.example/tfslim-tfx:test"
# Dataflow args for the heavy components only (never executed here).
HEAVY_ARGS = ("--runner=DataflowRunner", "--project=tfslim-test", "--region=europe-west4",
              f"--temp_location={BUCKET}/tmp")


def settings(**changes: Any) -> KubeflowSettings:
    """Test settings: smoke preset on a fake bucket; ``changes`` override."""
    base = dict(pipeline_root=f"{BUCKET}/root", data_root=f"{BUCKET}/digits",
                serving_dir=f"{BUCKET}/serving", image=IMAGE, config="smoke")
    base.update(changes)
    return KubeflowSettings(**base)


def _compile(tmp_path_factory, name: str, kfp_settings: KubeflowSettings) -> Dict[str, Any]:
    from runners.kubeflow import runner  # pylint: disable=import-outside-toplevel

    path = os.path.join(tmp_path_factory.mktemp("compiled"), f"{name}.json")
    runner.compile_pipeline(kfp_settings, path)
    with open(path) as f:  # read back what was written, not the in-memory dict
        return json.load(f)


@pytest.fixture(scope="session")
def kfp_job(tmp_path_factory) -> Dict[str, Any]:
    """OSS KFP target, no extra settings."""
    return _compile(tmp_path_factory, "kfp", settings())


@pytest.fixture(scope="session")
def kfp_heavy_job(tmp_path_factory) -> Dict[str, Any]:
    """OSS KFP target with Dataflow args for heavy components, container env and Trainer resources."""
    return _compile(tmp_path_factory, "kfp-heavy", settings(
        heavy_beam_pipeline_args=HEAVY_ARGS, container_env=("S3_ENDPOINT=minio.kubeflow:9000",),
        trainer_cpu=4.0, trainer_memory_gb=16.0, trainer_gpus=2))


@pytest.fixture(scope="session")
def vertex_job(tmp_path_factory) -> Dict[str, Any]:
    return _compile(tmp_path_factory, "vertex", settings(target="vertex"))


MINIO_ROOT = "minio://mlpipeline/v2/artifacts"  # OSS KFP's default pipeline root
RUN_OVERRIDES = {"train_steps": "60", "learning_rate": "0.002"}  # compiled: 100 steps at 0.001


def _local_run(tmp_path_factory, backend: str) -> Dict[str, Any]:
    """`python -m runners.kubeflow.runner` for ``backend``'s target, then every task of the JSON
    run as that backend's driver and launcher run it (runners.kubeflow.local_step), on 100 digits."""
    from absl import flags  # pylint: disable=import-outside-toplevel

    from runners import digits  # pylint: disable=import-outside-toplevel
    from runners.kubeflow import local_step  # pylint: disable=import-outside-toplevel
    from runners.kubeflow import runner  # pylint: disable=import-outside-toplevel

    tmp = tmp_path_factory.mktemp(f"{backend}-local-run")
    data = str(tmp / "digits")
    written = digits.write_digits(data, per_class=10)
    job_path = tmp / "tfslim-digits.json"
    # kfp: KFP's default MinIO root, its buckets a local directory the emulated launcher syncs.
    root, store = (MINIO_ROOT, str(tmp / "minio")) if backend == "kfp" else (str(tmp / "root"), None)
    # `python -m runners.kubeflow.runner` with these flags, in this process (one TFX import less).
    fv = flags.FlagValues()
    runner.define_flags(fv)
    fv(["runners.kubeflow.runner", f"--output_file={job_path}",
        f"--pipeline_root={root if backend == 'kfp' else 'gs://b/root'}",
        "--data_root=gs://b/digits", "--serving_dir=gs://b/serving", "--image=registry.example/tfslim-tfx:1",
        f"--target={backend}", "--config=smoke", "--train_steps=100", f"--image_project_dir={REPO}"])
    runner.compile_pipeline(runner.settings_from_flags(fv), fv.output_file)
    job = local_step.load_job(str(job_path))
    serving = tmp / "serving"
    # The run's arguments, as a KFP run passes them: the data and serving dir (compiled as
    # gs:// defaults) and, for kfp, other train settings than compiled, all without a recompile.
    parameters = {"data_root": data, "serving_dir": str(serving)}
    if backend == "kfp":
        parameters.update(RUN_OVERRIDES)
    launcher = local_step.Launcher(job, root, backend=backend, store_dir=store, timeout=1200,
                                   parameters=parameters)
    results = launcher.run(local_step.task_order(job))

    def local(uri: str) -> str:
        """Where an artifact URI of this run is on this machine (the store stand-in for minio://)."""
        return launcher.store_path(uri) or uri

    return {"job": job, "root": root, "store": store, "serving": serving, "written": written,
            "results": results, "launcher": launcher, "local": local}


@pytest.fixture(scope="session")
def kfp_local_run(tmp_path_factory) -> Dict[str, Any]:
    """The `--target kfp` JSON run as OSS KFP 2.x runs it, on a minio:// root.

    One run serves the launcher tests (tests/runners/kubeflow/test_step.py) and the end-to-end
    test (test_kubeflow_local_run.py): each task is a subprocess paying TFX's import, so the
    suite runs each compiled pipeline once.
    """
    return _local_run(tmp_path_factory, "kfp")


@pytest.fixture(scope="session")
def vertex_local_run(tmp_path_factory) -> Dict[str, Any]:
    """The `--target vertex` JSON run as Vertex AI Pipelines runs it (resolver tasks included)."""
    return _local_run(tmp_path_factory, "vertex")
