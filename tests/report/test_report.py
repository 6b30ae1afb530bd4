"""The HTML report from real artifacts: an exported lenet, an Examples artifact, events, anomalies."""
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from schemas import labels as labels_lib
from report import ReportInputs, sources, write_report
from tests.pipeline import helpers
from trainer.export import saved_model as export
from trainer.training import train_lib
from trainer.config import TrainConfig


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    examples = helpers.write_examples_artifact(str(root / "examples"), train=10, eval_=40)
    # Ingestion keeps it, TF cannot decode it: skipped, counted and named, like the Evaluator does.
    helpers.add_undecodable_eval_record(examples, position=7)
    with open(labels_lib.rejects_path(examples), "w") as f:
        f.write(json.dumps({"path": "3/truncated.png", "reason": "decode_error",
                            "detail": "Truncated PNG"}) + "\n")
    with open(labels_lib.summary_path(examples), "w") as f:
        json.dump({"splits": {"train": 10, "eval": 40}, "rejects": {"decode_error": 1}}, f)
    config = TrainConfig(model_name="lenet", image_channels=1)
    spec = train_lib.image_spec_for(config)
    net = train_lib.build_net(config, 10, spec, is_training=False)
    model_dir = export.export_saved_model(net, spec, [str(i) for i in range(10)],
                                          str(root / "model"))
    logdir = str(root / "train")
    writer = tf.summary.create_file_writer(logdir)
    with writer.as_default():
        for step in range(0, 100, 10):
            tf.summary.scalar("total_loss", 2.3 - step / 100, step=step)
            tf.summary.scalar("accuracy", step / 100, step=step)
            tf.summary.scalar("learning_rate", 0.01, step=step)
    writer.flush()
    from tensorflow_metadata.proto.v0 import anomalies_pb2
    anomalies = anomalies_pb2.Anomalies()
    info = anomalies.anomaly_info["image/class/label"]
    info.severity = anomalies_pb2.AnomalyInfo.ERROR
    info.description = "Unexpectedly large value: 12."
    os.makedirs(root / "anomalies" / "Split-eval")
    (root / "anomalies" / "Split-eval" / "SchemaDiff.pb").write_bytes(anomalies.SerializeToString())
    return root, examples, model_dir, logdir


UNDECODABLE_NAME = helpers.UNDECODABLE_NAME


def test_report_has_every_section_and_the_right_numbers(artifacts):
    root, examples, model_dir, logdir = artifacts
    path = str(root / "out" / "report.html")
    summary = write_report(ReportInputs(
        title="digits", saved_model_dir=model_dir, dataset_dir=examples,
        eval_files=sources.eval_files(examples), blessed=False, pushed=False,
        accuracy_threshold=0.9, train_logdir=logdir, anomalies_uri=str(root / "anomalies")), path)
    page = open(path, encoding="utf-8").read()
    assert summary.num_eval == 40 and summary.num_rejects == 1 and summary.num_anomalies == 1
    assert np.asarray(summary.confusion).sum() == 40
    assert summary.num_skipped == 1 and summary.metrics()["skipped"] == 1.0
    assert "Skipped at evaluation: image could not be decoded (1)" in page and UNDECODABLE_NAME in page
    predictions = sources.predict_examples(model_dir, sources.eval_files(examples))
    assert predictions.skipped == [UNDECODABLE_NAME] and UNDECODABLE_NAME not in predictions.filenames
    assert summary.top1 == pytest.approx(float(np.mean(predictions.labels == predictions.predicted)))
    for text in ("Confusion matrix", "Per-class precision and recall", "Worst misclassified",
                 "Training curves", "3/truncated.png", "Truncated PNG", "image/class/label",
                 "Unexpectedly large value: 12.", "not blessed", "not pushed"):
        assert text in page, text
    assert page.count("data:image/png;base64,") == 4  # matrix, per-class, worst grid, curves


def test_scalars_and_labels_offset(artifacts):
    root, examples, model_dir, logdir = artifacts
    curves = sources.read_scalars(logdir)
    assert set(curves) == {"loss", "accuracy", "learning rate"}
    assert curves["accuracy"][-1] == (90, pytest.approx(0.9))
    shifted = sources.predict_examples(model_dir, sources.eval_files(examples), labels_offset=1)
    plain = sources.predict_examples(model_dir, sources.eval_files(examples))
    assert (shifted.labels == plain.labels - 1).all()


def test_tfslim_eval_writes_the_report_for_a_checkpoint(artifacts, tmp_path):
    from tests.serving.cli import run_tfslim
    from trainer import nets

    root, examples, _, _ = artifacts
    net = nets.create_model("lenet", num_classes=10)
    net.ensure_built(28, 1)
    prefix = nets.save_slim_checkpoint(net, str(tmp_path / "ckpt" / "model.ckpt"))
    result = run_tfslim("eval", f"--checkpoint_path={prefix}", f"--dataset_dir={examples}",
                        "--dataset_split_name=eval", "--model_name=lenet", "--use_grayscale",
                        f"--eval_dir={tmp_path / 'eval'}", f"--report={tmp_path / 'report'}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"report: {tmp_path / 'report' / 'report.html'}" in result.stdout
    page = (tmp_path / "report" / "report.html").read_text()
    assert "40 held-out images" in page and "Confusion matrix" in page


@pytest.mark.slow
def test_the_matrix_is_the_evaluators_over_the_whole_eval_split(artifacts):
    """More held-out images (41, one undecodable) than the re-scoring bound (10): the matrix and
    per-class figures come from TFMA's output over all of them, and the KFP artifacts carry it."""
    import tensorflow_model_analysis as tfma  # pylint: disable=import-outside-toplevel

    from components.run_report.executor import kfp_confusion_matrix, kfp_metrics
    from pipeline.configs import PipelineConfig
    from pipeline.pipeline import eval_config

    root, examples, model_dir, logdir = artifacts
    config = tfma.utils.update_eval_config_with_defaults(eval_config(PipelineConfig(accuracy_threshold=0.0)),
                                                         has_baseline=False, rubber_stamp=True)
    output = str(root / "evaluation")
    (spec,) = config.model_specs  # as TFX's Evaluator sets it up (tests/pipeline/test_eval_undecodable.py)
    tfma.run_model_analysis(eval_shared_model=[tfma.default_eval_shared_model(
                                model_dir, model_name=spec.name, eval_config=config)],
                            eval_config=config, data_location=sources.eval_files(examples)[0],
                            output_path=output)
    path = str(root / "out-tfma" / "report.html")
    summary = write_report(ReportInputs(
        title="digits", saved_model_dir=model_dir, dataset_dir=examples, eval_files=sources.eval_files(examples),
        evaluation_uri=output, train_logdir=logdir, max_examples=10), path)
    # The grid re-scored the first 10 records; one of them is the undecodable one.
    assert summary.matrix_source == "evaluator" and summary.num_scored == 9
    assert np.asarray(summary.confusion).sum() == summary.num_eval == 40  # every decodable record
    assert summary.num_skipped == 1
    page = open(path, encoding="utf-8").read()
    assert "over all 40 decodable held-out images" in page and "Among the 9 held-out images" in page
    # The same matrix as the Kubeflow UI reads it (kfp's ClassificationMetrics format).
    drawn = kfp_confusion_matrix(summary.class_names, summary.confusion)["confusionMatrix"]
    assert [spec["displayName"] for spec in drawn["annotationSpecs"]] == summary.class_names
    assert sum(sum(row["row"]) for row in drawn["rows"]) == 40
    metrics = kfp_metrics(summary.metrics())
    assert metrics["eval_examples"] == 40 and metrics["skipped"] == 1 and "top1" in metrics
    assert metrics["train_loss"] == pytest.approx(2.3 - 0.9)
