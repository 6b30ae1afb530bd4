"""Shared, expensive fixtures for the runner tests: compiled Kubeflow pipelines.

Modules using them carry ``pytest.mark.xdist_group("kubeflow")`` so that under
``pytest -n 2 --dist loadgroup`` they share one worker and compile once.
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict

import pytest

from pipeline.kubeflow_settings import KubeflowSettings

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
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
    from pipeline import kubeflow_runner as runner  # pylint: disable=import-outside-toplevel

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


@pytest.fixture(scope="session")
def kfp_local_run(tmp_path_factory) -> Dict[str, Any]:
    """The JSON that `python -m pipeline.kubeflow_runner` writes, run task by task on 100 digits.

    One run serves the launcher tests (tests/runners/test_kubeflow_step.py) and the end-to-end
    test (test_kubeflow_local_run.py): each task is a subprocess paying TFX's import, so the
    suite runs the compiled pipeline once.
    """
    from absl import flags  # pylint: disable=import-outside-toplevel

    from pipeline import digits  # pylint: disable=import-outside-toplevel
    from pipeline import kubeflow_local_step as local_step  # pylint: disable=import-outside-toplevel
    from pipeline import kubeflow_runner as runner  # pylint: disable=import-outside-toplevel

    tmp = tmp_path_factory.mktemp("kfp-local-run")
    data = str(tmp / "digits")
    written = digits.write_digits(data, per_class=10)
    job_path = tmp / "tfslim-digits.json"
    # `python -m pipeline.kubeflow_runner` with these flags, in this process (one TFX import less).
    fv = flags.FlagValues()
    runner.define_flags(fv)
    fv(["pipeline.kubeflow_runner", f"--output_file={job_path}", "--pipeline_root=gs://b/root",
        "--data_root=gs://b/digits", "--serving_dir=gs://b/serving", "--image=registry.example/tfslim-tfx:1",
        "--target=kfp", "--config=smoke", "--train_steps=100", f"--image_project_dir={REPO}"])
    runner.compile_pipeline(runner.settings_from_flags(fv), fv.output_file)
    job = local_step.load_job(str(job_path))
    serving = tmp / "serving"
    overrides = {"ImageExampleGen": {"input_base": data},
                 "Pusher": {"push_destination": json.dumps(
                     {"filesystem": {"base_directory": str(serving / "lenet")}})}}
    root = str(tmp / "root")
    results = local_step.run_pipeline(job, root, overrides, timeout=1200)
    return {"job": job, "root": root, "serving": serving, "written": written, "results": results}


@pytest.fixture(scope="module")
def portable_beam(tmp_path_factory):
    """A Beam job service + SDK worker pool (pipeline.portable_beam) on free loopback ports,
    for the tests of one module; stopped by PID afterwards, also when a test fails."""
    from pipeline.portable_beam import portable_services  # pylint: disable=import-outside-toplevel

    with portable_services(str(tmp_path_factory.mktemp("beam-services"))) as services:
        yield services
