"""Beam's portable path (job service + SDK worker pool, as Flink/Spark/Dataflow Runner v2 run
Python): `tfslim convert` and the whole pipeline, with every Beam job run by SDK workers in
other processes that the worker pool started.
"""
from __future__ import annotations

import filecmp
import os
import subprocess
import sys
from typing import Dict, List

import pytest

from runners import digits
from runners.local import run_local
from tests.runners.test_local_runners import NODES, config_from_argv, node_states

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("portable-beam")]

TFSLIM = os.path.join(os.path.dirname(sys.executable), "tfslim")
# The executors of this pipeline that build a Beam pipeline. Transform does not: its
# preprocessing_fn has no analyzers and nothing is materialized, so TFX runs it in place.
BEAM_EXECUTORS = {"components.image_example_gen.executor.Executor",
                  "tfx.components.statistics_gen.executor.Executor",
                  "components.run_parameters.EvaluatorExecutor"}


def convert(source: str, dataset_dir: str, beam_args: List[str]) -> None:
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2")
    out = subprocess.run([TFSLIM, "convert", "--dataset_name=folder", f"--source={source}",
                          f"--dataset_dir={dataset_dir}"] + beam_args,
                         env=env, capture_output=True, text=True, timeout=600, check=False)
    assert out.returncode == 0, (out.stdout + out.stderr)[-4000:]


def test_worker_pool_and_job_service_stop_by_pid(tmp_path):
    """The context manager stops both services (and their SDK workers), also on an error."""
    from runners.portable_beam import portable_services  # pylint: disable=import-outside-toplevel

    with pytest.raises(RuntimeError, match="boom"):
        with portable_services(str(tmp_path)) as services:
            processes = list(services.processes)
            assert all(p.poll() is None for p in processes)
            raise RuntimeError("boom")
    assert all(p.poll() is not None for p in processes)
    for process in processes:
        with pytest.raises(ProcessLookupError):
            os.killpg(process.pid, 0)  # nothing of its process group is left


def test_convert_on_the_portable_runner_is_byte_identical(portable_beam, tmp_path):
    source = str(tmp_path / "raw")
    digits.write_digits(source, per_class=3)
    jobs_before = len(portable_beam.completed_jobs())
    convert(source, str(tmp_path / "direct"), [])
    convert(source, str(tmp_path / "portable"), portable_beam.beam_args())
    assert portable_beam.completed_jobs()[jobs_before:] == ["DONE"]
    names = sorted(os.listdir(tmp_path / "direct"))
    assert sorted(os.listdir(tmp_path / "portable")) == names
    assert sum(n.endswith(".tfrecord") for n in names) >= 2 and "labels.txt" in names
    match, mismatch, errors = filecmp.cmpfiles(tmp_path / "direct", tmp_path / "portable", names, shallow=False)
    assert (mismatch, errors) == ([], []) and match == names


def test_pipeline_on_the_portable_runner_is_blessed_and_pushed(portable_beam, tmp_path, monkeypatch):
    from tfx.dsl.components.base import base_beam_executor  # pylint: disable=import-outside-toplevel

    seen: Dict[str, List[str]] = {}
    original = base_beam_executor.BaseBeamExecutor._make_beam_pipeline  # pylint: disable=protected-access

    def spy(self):
        executor = f"{type(self).__module__}.{type(self).__name__}"
        seen[executor] = list(self._beam_pipeline_args)  # pylint: disable=protected-access
        return original(self)

    monkeypatch.setattr(base_beam_executor.BaseBeamExecutor, "_make_beam_pipeline", spy)
    data = str(tmp_path / "raw")
    digits.write_digits(data, per_class=10)
    argv = ["--config=smoke", "--runner=beam", f"--data_dir={data}",
            f"--pipeline_root={tmp_path / 'pipeline_root'}", f"--serving_dir={tmp_path / 'serving'}",
            "--train_steps=20", "--accuracy_threshold=0.0"]
    config = config_from_argv(argv + [f"--beam_pipeline_arg={a}" for a in portable_beam.beam_args()])
    jobs_before = len(portable_beam.completed_jobs())
    summary = run_local(config, runner="beam")
    assert node_states(summary.metadata_path) == {node: "COMPLETE" for node in NODES}
    assert summary.blessed is True and summary.pushed is True
    assert os.path.isfile(os.path.join(summary.pushed_destination, "saved_model.pb"))
    # Every Beam pipeline of the run went to the job service and finished there.
    assert set(seen) == BEAM_EXECUTORS
    for executor, args in seen.items():
        assert set(portable_beam.beam_args()) <= set(args), executor
    assert portable_beam.completed_jobs()[jobs_before:] == ["DONE"] * len(BEAM_EXECUTORS)
