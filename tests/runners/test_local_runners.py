"""`local_runner.py --runner local` and `--runner beam` end to end on a small digits subset.

Both runners run the same create_pipeline on the same 100 PNGs (smoke preset, 20 steps) and
must produce the same examples and a pushed model; the Beam run's DirectRunner flags must
reach every Beam executor. The gate is real: the smoke runs must clear a top-1 of 0.5 (they
measured 1.0 on the 16 eval digits; chance is 0.1), and a rerun of the local pipeline with
an unreachable bar (cached up to the Trainer, so only the Evaluator and what follows rerun)
must come out not blessed and not pushed.
"""
from __future__ import annotations

import glob
import os
from typing import Dict, List

import pytest
from absl import flags
from absl.testing import flagsaver

import local_runner
from pipeline import digits
from pipeline.local import run_local

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local-runners")]

FLAGS = flags.FLAGS
# Well under what the smoke run reaches (1.0 measured), well over chance (0.1).
ACCURACY_THRESHOLD = 0.5
NODES = {"ImageExampleGen", "StatisticsGen", "ImportSchemaGen", "ExampleValidator", "Transform", "Trainer",
         "latest_blessed_model_resolver", "Evaluator", "ServingSmokeTest", "Pusher", "RunReport"}
BEAM_FLAGS = ["--direct_num_workers=2", "--direct_running_mode=multi_threading"]


def config_from_argv(argv: List[str]):
    """local_runner's PipelineConfig for a command line (flags restored afterwards)."""
    with flagsaver.flagsaver():
        FLAGS.unparse_flags()
        FLAGS(["local_runner.py"] + argv)
        return local_runner.config_from_flags()


@pytest.fixture(scope="module")
def runs(tmp_path_factory, monkeypatch_module):
    """Runs both runners; records the Beam args each Beam executor built its pipeline with."""
    from tfx.dsl.components.base import base_beam_executor  # pylint: disable=import-outside-toplevel

    seen: Dict[str, Dict[str, List[str]]] = {"local": {}, "beam": {}, "unreachable": {}}
    current = {"runner": None}
    original = base_beam_executor.BaseBeamExecutor._make_beam_pipeline  # pylint: disable=protected-access

    def spy(self):
        executor = f"{type(self).__module__}.{type(self).__name__}"
        seen[current["runner"]][executor] = list(self._beam_pipeline_args)  # pylint: disable=protected-access
        return original(self)

    monkeypatch_module.setattr(base_beam_executor.BaseBeamExecutor, "_make_beam_pipeline", spy)
    data = str(tmp_path_factory.mktemp("digits") / "raw")
    written = digits.write_digits(data, per_class=10)
    out = {}
    for runner in ("local", "beam"):
        root = tmp_path_factory.mktemp(runner)
        argv = ["--config=smoke", f"--runner={runner}", f"--data_dir={data}",
                f"--pipeline_root={root / 'pipeline_root'}", f"--serving_dir={root / 'serving'}",
                "--train_steps=20", f"--accuracy_threshold={ACCURACY_THRESHOLD}"]
        config = config_from_argv(argv + (BEAM_FLAGS if runner == "beam" else []))
        # Caching only matters for the local rerun below; the first runs find nothing cached.
        config = config.replace(enable_cache=True)
        current["runner"] = runner
        summary = run_local(config, runner=runner)
        out[runner] = (config, summary, node_states(summary.metadata_path))
    # Same pipeline, same data, same MLMD; a top-1 bar no model can clear (> 1).
    config = out["local"][0].replace(accuracy_threshold=1.01)
    current["runner"] = "unreachable"
    summary = run_local(config, runner="local")
    out["unreachable"] = (config, summary, node_states(summary.metadata_path))
    return written, out, seen


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def node_states(metadata_path: str) -> Dict[str, str]:
    """Node id → state of its last execution, from the run's MLMD."""
    from ml_metadata.metadata_store import metadata_store  # pylint: disable=import-outside-toplevel
    from ml_metadata.proto import metadata_store_pb2  # pylint: disable=import-outside-toplevel
    from tfx import v1 as tfx  # pylint: disable=import-outside-toplevel

    connection = tfx.orchestration.metadata.sqlite_metadata_connection_config(metadata_path)
    store = metadata_store.MetadataStore(connection)
    states = {}
    for context in store.get_contexts_by_type("node"):
        executions = store.get_executions_by_context(context.id)
        if executions:
            last = max(executions, key=lambda e: e.id)
            state = metadata_store_pb2.Execution.State.Name(last.last_known_state)
            states[context.name.split(".", 1)[1]] = state
    return states


def split_counts(pipeline_root: str) -> Dict[str, int]:
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    (examples,) = glob.glob(os.path.join(pipeline_root, "ImageExampleGen", "examples", "*"))
    return {split: sum(1 for _ in tf.data.TFRecordDataset(
        sorted(glob.glob(os.path.join(examples, f"Split-{split}", "*.gz"))), compression_type="GZIP"))
        for split in ("train", "eval")}


@pytest.mark.parametrize("runner", ["local", "beam"])
def test_runner_pushes_a_model(runs, runner):
    written, out, _ = runs
    config, summary, states = out[runner]
    assert states == {node: "COMPLETE" for node in NODES}
    assert summary.metrics["sparse_categorical_accuracy"] >= ACCURACY_THRESHOLD
    assert summary.blessed is True and summary.pushed is True
    destination = summary.pushed_destination
    assert destination.startswith(os.path.join(config.serving_dir, "lenet"))
    assert os.path.isfile(os.path.join(destination, "saved_model.pb"))
    counts = split_counts(config.pipeline_root)
    assert sum(counts.values()) == written == 100
    assert summary.metrics["example_count"] == counts["eval"]


def test_a_model_below_the_bar_is_not_blessed_or_pushed(runs):
    _, out, _ = runs
    first_config, first, _ = out["local"]
    config, summary, states = out["unreachable"]
    # The Trainer's model was reused from the first run; the Evaluator judged it again.
    assert states["Trainer"] == "CACHED" and states["ImageExampleGen"] == "CACHED"
    assert states["Evaluator"] == "COMPLETE" and states["Pusher"] == "COMPLETE"
    assert summary.metrics["sparse_categorical_accuracy"] == first.metrics["sparse_categorical_accuracy"]
    assert summary.metrics["sparse_categorical_accuracy"] < config.accuracy_threshold
    assert summary.blessed is False and summary.pushed is False and summary.pushed_destination is None
    # Nothing new under the serving directory: still only the first run's version.
    versions = os.listdir(os.path.join(first_config.serving_dir, "lenet"))
    assert [v for v in versions if v.isdigit()] == [os.path.basename(first.pushed_destination)]


def test_both_runners_make_the_same_examples(runs):
    _, out, _ = runs
    assert split_counts(out["local"][0].pipeline_root) == split_counts(out["beam"][0].pipeline_root)


def test_beam_args_pass_through(runs):
    _, out, seen = runs
    assert out["beam"][0].beam_pipeline_args == ("--direct_running_mode=multi_threading",
                                                 "--direct_num_workers=2")
    # The executors that build Beam pipelines here (Transform has no analyzers to run).
    beam_executors = {"components.image_example_gen.executor.Executor",
                      "tfx.components.statistics_gen.executor.Executor",
                      "tfx.components.evaluator.executor.Executor"}
    assert beam_executors <= set(seen["beam"]) and beam_executors <= set(seen["local"])
    for args in seen["beam"].values():
        assert args[:2] == ["--direct_running_mode=multi_threading", "--direct_num_workers=2"]
    for args in seen["local"].values():
        assert args[:2] == ["--direct_running_mode=in_memory", "--direct_num_workers=1"]
