"""`local_runner.py --runner local` and `--runner beam` end to end on a digits subset with bad
files mixed in.

Both runners run the same create_pipeline on the same 300 PNGs plus five bad files (smoke
preset, 200 steps) and must produce the same examples and a pushed model; the Beam run's
DirectRunner flags must reach every Beam executor. The gate is real: the smoke runs must clear
a top-1 of 0.5 (chance is 0.1), and a rerun of the local pipeline with an unreachable bar
(cached up to the Trainer, so only the Evaluator and what follows rerun) must come out not
blessed and not pushed.

The Beam run also tunes: its config (smoke's, with slim's default Adam epsilon 1.0) searches
train.opt_epsilon in {1.0, 1e-8} with two 60-step trials; the Tuner must pick 1e-8, the Trainer
must train with it (its recipe.json), and the report and its Metrics artifact must show it.

The bad files: four that ingestion rejects with their reasons (a cut PNG, a text file, a
decompression-bomb header, garbage pixel data behind valid CRCs; the last two used to pass
ingestion and stop the pipeline at the Trainer), and a JPEG that passes ingestion's checks
but TF cannot decode, named so that it lands in the eval split, where the Evaluator and the
report must skip and count it.

The local run also has an ``infer_root`` (six new digits and a text file): its BatchPredict step
must write one JSON line per file, the serving signature's top-1 for each digit and an error
line for the text file; in the rerun whose model is not blessed it must score nothing.
"""
from __future__ import annotations

import glob
import json
import os
from typing import Dict, List

import pytest
from absl import flags
from absl.testing import flagsaver

from runners import local_cli
from ingestion import planning
from runners import digits
from pipeline import run_config
from runners.local import run_local
from schemas import features, labels as labels_lib
from tests.ingestion.hostile import corpus
from tests.pipeline import helpers

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local-runners")]

FLAGS = flags.FLAGS
# Well under what the smoke run reaches, well over chance (0.1).
ACCURACY_THRESHOLD = 0.5
NODES = {"ImageExampleGen", "StatisticsGen", "ImportSchemaGen", "ExampleValidator", "Transform", "Trainer",
         "latest_blessed_model_resolver", "Evaluator", "ServingSmokeTest", "Pusher", "RunReport"}
BEAM_FLAGS = ["--direct_num_workers=2", "--direct_running_mode=multi_threading"]
INFER_DIGITS = 6  # new digits (not in the training data) under the local run's infer_root


def config_from_argv(argv: List[str]):
    """local_runner's PipelineConfig for a command line (flags restored afterwards)."""
    with flagsaver.flagsaver():
        FLAGS.unparse_flags()
        FLAGS(["local_runner.py"] + argv)
        return local_cli.config_from_flags()


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
    written = digits.write_digits(data, per_class=30)
    write_bad_files(data)
    out = {}
    for runner in ("local", "beam"):
        root = tmp_path_factory.mktemp(runner)
        smoke = helpers.tuned_smoke_config(root) if runner == "beam" else "smoke"
        argv = [f"--config={smoke}", f"--runner={runner}", f"--data_dir={data}",
                f"--pipeline_root={root / 'pipeline_root'}", f"--serving_dir={root / 'serving'}",
                f"--accuracy_threshold={ACCURACY_THRESHOLD}"]
        config = config_from_argv(argv + (BEAM_FLAGS if runner == "beam" else []))
        if runner == "local":
            config = config.replace(infer_root=write_infer_root(str(root / "infer")))
        # Caching only matters for the local rerun below; the first runs find nothing cached.
        config = config.replace(enable_cache=True)
        current["runner"] = runner
        summary = run_local(config, runner=runner)
        out[runner] = (config, summary, node_states(summary.metadata_path))
    # Same pipeline, same data, same MLMD; a top-1 bar no model can clear (> 1). The config's own
    # check refuses such a bar (it is a user's mistake), so the test sets it past validation.
    config = out["local"][0].model_copy(update={"accuracy_threshold": 1.01})
    current["runner"] = "unreachable"
    summary = run_local(config, runner="local")
    out["unreachable"] = (config, summary, node_states(summary.metadata_path))
    return written, out, seen


def write_infer_root(folder: str) -> str:
    """``INFER_DIGITS`` digit PNGs (sklearn's, after those training used) and a text file."""
    os.makedirs(folder)
    for index, (pixels, label) in enumerate(helpers.digit_images(INFER_DIGITS, start=1750)):
        with open(os.path.join(folder, f"{index}-is-{label}.png"), "wb") as f:
            f.write(helpers.encode(pixels))
    with open(os.path.join(folder, "notes.png"), "w") as f:
        f.write("not an image\n")
    return folder


def undecodable_name() -> str:
    """The relative path of the undecodable JPEG: one the split hash puts into eval."""
    config = run_config.load("smoke", check_net=False)
    total = config.train_buckets + config.eval_buckets
    return next(key for key in (f"4/no-dqt-{index}.jpg" for index in range(1000))
                if planning.tfx_hash_bucket(key, total) >= config.train_buckets)


def write_bad_files(data: str) -> None:
    """The four files ingestion must reject and the one it keeps that TF cannot decode."""
    three = os.path.join(data, "3")
    good = open(os.path.join(three, sorted(os.listdir(three))[0]), "rb").read()
    with open(os.path.join(three, "truncated.png"), "wb") as f:
        f.write(good[: len(good) // 2])
    with open(os.path.join(data, "5", "notes.png"), "w") as f:
        f.write("this is a text file, not a PNG\n")
    with open(os.path.join(data, "7", "bomb.png"), "wb") as f:
        f.write(corpus.bomb_png())
    with open(os.path.join(data, "8", "garbage.png"), "wb") as f:
        f.write(corpus.garbage_pixels_png())
    # Passes ingestion's marker walk (verify_decode is off), but TF cannot decode it.
    assert not run_config.load("smoke", check_net=False).verify_decode
    with open(os.path.join(data, undecodable_name()), "wb") as f:
        f.write(corpus.jpeg_without_quantization_tables())


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
    extra = {"Tuner"} if runner == "beam" else {"BatchPredict"}
    assert states == {node: "COMPLETE" for node in NODES | extra}
    assert summary.metrics["sparse_categorical_accuracy"] >= ACCURACY_THRESHOLD
    assert summary.blessed is True and summary.pushed is True
    destination = summary.pushed_destination
    assert destination.startswith(os.path.join(config.serving_dir, "lenet"))
    assert os.path.isfile(os.path.join(destination, "saved_model.pb"))
    counts = split_counts(config.pipeline_root)
    assert sum(counts.values()) == written + 1 == 301  # the undecodable JPEG is kept
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
    # BatchPredict ran again (a new blessing) and scored nothing.
    assert states["BatchPredict"] == "COMPLETE"
    predictions = latest_artifact(summary.metadata_path, "components.BatchPredictions")
    assert predictions.custom_properties["blessed"].int_value == 0
    assert os.listdir(predictions.uri) == ["summary.json"]
    skipped = json.load(open(os.path.join(predictions.uri, "summary.json")))
    assert skipped == {"infer_root": config.infer_root, "blessed": False,
                       "skipped": "not blessed by the Evaluator; nothing scored"}


def test_batch_predict_scores_infer_root_with_the_pushed_model(runs):
    """One JSON line per file of infer_root: the serving signature's answer, or the reason."""
    from serving import predict  # pylint: disable=import-outside-toplevel

    _, out, _ = runs
    config, summary, _ = out["local"]
    # The first run's (the unreachable rerun's, in the same MLMD, is newer).
    predictions = first_artifact(summary.metadata_path, "components.BatchPredictions")
    assert predictions.uri.startswith(config.pipeline_root)
    shards = sorted(glob.glob(os.path.join(predictions.uri, "predictions.jsonl-*-of-*")))
    assert shards, os.listdir(predictions.uri)
    lines = [json.loads(line) for shard in shards for line in open(shard)]
    by_name = {os.path.relpath(line["path"], config.infer_root): line for line in lines}
    assert len(lines) == len(by_name) == INFER_DIGITS + 1
    assert by_name.pop("notes.png") == {"path": os.path.join(config.infer_root, "notes.png"),
                                        "error": "not an image: no known image signature"}
    names = sorted(by_name)
    serving_fn = predict.load_serving_fn(os.path.dirname(summary.pushed_destination))
    ranked = predict.top_k(serving_fn, [open(os.path.join(config.infer_root, n), "rb").read() for n in names])
    assert [by_name[n]["labels"][0] for n in names] == [row[0][0] for row in ranked]
    assert all(len(by_name[n]["labels"]) == len(by_name[n]["scores"]) == 5 for n in names)
    written = json.load(open(os.path.join(predictions.uri, "summary.json")))
    assert written["blessed"] is True and (written["files"], written["errors"]) == (INFER_DIGITS + 1, 1)
    assert predictions.custom_properties["files"].int_value == INFER_DIGITS + 1


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
                      "components.run_parameters.EvaluatorExecutor"}  # TFX's Evaluator executor
    assert beam_executors <= set(seen["beam"]) and beam_executors <= set(seen["local"])
    assert "components.batch_predict.executor.Executor" in seen["local"]  # infer_root is set there
    for args in seen["beam"].values():
        assert args[:2] == ["--direct_running_mode=multi_threading", "--direct_num_workers=2"]
    for args in seen["local"].values():
        assert args[:2] == ["--direct_running_mode=in_memory", "--direct_num_workers=1"]


def test_pushed_model_answers_new_digits(runs):
    _, out, _ = runs
    config, summary, _ = out["local"]
    from serving import predict  # pylint: disable=import-outside-toplevel

    version_dir = summary.pushed_destination
    assert os.path.dirname(version_dir) == os.path.join(config.serving_dir, "lenet")
    assert os.path.basename(version_dir).isdigit()  # TF Serving's <model>/<version>/ layout
    serving_fn = predict.load_serving_fn(os.path.dirname(version_dir))
    items = helpers.digit_images(20, start=1700)
    ranked = predict.top_k(serving_fn, [helpers.encode(p) for p, _ in items])
    hits = sum(r[0][0] == str(label) for r, (_, label) in zip(ranked, items))
    assert hits >= 14, ranked  # 200 steps on 300 digits


@pytest.mark.parametrize("runner", ["local", "beam"])
def test_bad_files_are_reported_not_dropped(runs, runner):
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    _, out, _ = runs
    _, summary, _ = out[runner]
    from ml_metadata.metadata_store import metadata_store  # pylint: disable=import-outside-toplevel
    from tfx import v1 as tfx  # pylint: disable=import-outside-toplevel
    store = metadata_store.MetadataStore(
        tfx.orchestration.metadata.sqlite_metadata_connection_config(summary.metadata_path))
    examples_uri = max(store.get_artifacts_by_type("Examples"), key=lambda a: a.id).uri
    with open(labels_lib.rejects_path(examples_uri)) as f:
        rejects = {json.loads(line)["path"]: json.loads(line)["reason"] for line in f}
    assert rejects == {"3/truncated.png": "truncated", "5/notes.png": "not an image",
                       "7/bomb.png": "too large", "8/garbage.png": "corrupt"}, rejects
    records = tf.data.TFRecordDataset(
        tf.io.gfile.glob(os.path.join(examples_uri, "Split-eval", "*")), "GZIP")
    eval_names = {tf.train.Example.FromString(r.numpy()).features.feature[features.FILENAME]
                  .bytes_list.value[0].decode() for r in records}
    assert undecodable_name() in eval_names  # kept by ingestion, not rejected


@pytest.mark.parametrize("runner", ["local", "beam"])
def test_the_evaluator_and_the_report_skip_the_undecodable_image(runs, runner):
    _, out, _ = runs
    _, summary, _ = out[runner]
    assert summary.blessed is True and summary.pushed  # it did not stop the pipeline
    metrics = summary.metrics
    assert metrics["example_count"] - metrics["weighted_example_count"] == 1
    assert summary.skipped == 1
    assert "skipped:       1 held-out image(s) that could not be decoded" in summary.lines()
    page = open(summary.report_path, encoding="utf-8").read()
    assert "Skipped at evaluation: image could not be decoded (1)" in page and undecodable_name() in page


def artifacts(metadata_path: str, type_name: str):
    """The MLMD artifacts of ``type_name`` in a run's store, oldest first."""
    from ml_metadata.metadata_store import metadata_store  # pylint: disable=import-outside-toplevel
    from tfx import v1 as tfx  # pylint: disable=import-outside-toplevel

    store = metadata_store.MetadataStore(
        tfx.orchestration.metadata.sqlite_metadata_connection_config(metadata_path))
    return sorted(store.get_artifacts_by_type(type_name), key=lambda a: a.id)


def latest_artifact(metadata_path: str, type_name: str):
    """The newest MLMD artifact of ``type_name`` in a run's store."""
    return artifacts(metadata_path, type_name)[-1]


def first_artifact(metadata_path: str, type_name: str):
    return artifacts(metadata_path, type_name)[0]


def test_the_tuner_picks_adams_epsilon_and_the_trainer_uses_it(runs):
    from components.tuning.executor import TRIALS_FILE  # pylint: disable=import-outside-toplevel
    from trainer.config import RECIPE_FILE  # pylint: disable=import-outside-toplevel

    _, out, _ = runs
    config, summary, _ = out["beam"]
    assert config.train.opt_epsilon == 1.0 and config.tuner.max_trials == 2
    best = json.load(open(os.path.join(latest_artifact(summary.metadata_path, "HyperParameters").uri,
                                       "best_hyperparameters.txt")))
    assert best["values"] == {"train.opt_epsilon": 1e-8}
    record = json.load(open(os.path.join(latest_artifact(summary.metadata_path, "TunerResults").uri,
                                         TRIALS_FILE)))
    by_value = {t["values"]["train.opt_epsilon"]: t for t in record["trials"]}
    assert set(by_value) == {1.0, 1e-8}  # both values tried, each for 60 steps on the eval split
    assert all(t["status"] == "COMPLETED" and t["steps"] == 60 for t in record["trials"])
    assert by_value[1e-8]["objective"] > by_value[1.0]["objective"] + 0.3
    assert record["best_trial"] == by_value[1e-8]["trial_id"]
    # The Trainer trained with the winner, not the config's 1.0.
    recipe = json.load(open(os.path.join(latest_artifact(summary.metadata_path, "ModelRun").uri,
                                         RECIPE_FILE)))
    assert recipe["tuned"] == {"train.opt_epsilon": 1e-8}
    assert recipe["train_config"]["opt_epsilon"] == 1e-8 and recipe["train_config"]["max_number_of_steps"] == 200
    # The report's table and verdict, and the Metrics artifact's winning value.
    page = open(summary.report_path, encoding="utf-8").read()
    assert "Hyperparameter search (2 trials)" in page
    assert f"Trial {record['best_trial']} won with train.opt_epsilon = 1e-08" in page
    metrics = latest_artifact(summary.metadata_path, "system.Metrics")
    assert metrics.custom_properties["tuner.train.opt_epsilon"].string_value == "1e-08"
    assert summary.lines()[-1] == "tuned:         train.opt_epsilon=1e-08"  # what `tfslim run` prints
    # The untuned run has neither.
    _, local, _ = out["local"]
    assert "Hyperparameter search" not in open(local.report_path, encoding="utf-8").read()


@pytest.mark.parametrize("runner,verdict", [("beam", 1.0), ("unreachable", 0.0)])
def test_the_runs_record_the_kfp_ui_artifacts(runs, runner, verdict):
    """system.Metrics / system.ClassificationMetrics / system.HTML in MLMD, in kfp's metadata format,
    as the task-by-task Kubeflow run reports them (tests/runners/kubeflow/test_local_run.py).
    The local runner's store ends with the rerun whose model misses the bar ("unreachable")."""
    from components.run_report.artifacts import ConfusionMatrix  # pylint: disable=import-outside-toplevel

    _, out, _ = runs
    _, summary, _ = out[runner]
    matrix = ConfusionMatrix()
    matrix.set_mlmd_artifact(latest_artifact(summary.metadata_path, "system.ClassificationMetrics"))
    drawn = matrix.get_json_value_custom_property("confusionMatrix")
    assert [spec["displayName"] for spec in drawn["annotationSpecs"]] == [str(d) for d in range(10)]
    metrics = latest_artifact(summary.metadata_path, "system.Metrics").custom_properties
    # The matrix is the Evaluator's over every decodable held-out record.
    assert sum(sum(row["row"]) for row in drawn["rows"]) == metrics["eval_examples"].double_value
    assert metrics["eval_examples"].double_value == summary.metrics["weighted_example_count"]
    assert metrics["blessed"].double_value == verdict and metrics["pushed"].double_value == verdict
    assert summary.blessed is bool(verdict)
    assert latest_artifact(summary.metadata_path, "system.HTML").uri
