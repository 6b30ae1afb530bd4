"""Blessing, pushing and serving across two pipeline runs (LocalDagRunner, digits subset).

Run 1 trains LeNet briefly: the Evaluator and the serving smoke test bless it, the
Pusher writes version v1 and models.config. Run 2 trains 1 step: the Evaluator
(absolute bound and change vs the run-1 baseline) refuses it, nothing is pushed and
models.config still serves v1. The trained model is then evaluated with `tfslim eval`
(same top-1 as the Evaluator) and exported with `tfslim export --tflite`.
"""
import glob
import os
import re

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_model_analysis as tfma
from ml_metadata.metadata_store import metadata_store
from tfx import v1 as tfx

from serving import models_config
from runners import digits
from pipeline import run_config
from runners.local import run_local
from tests.serving.cli import run_tfslim
from serving import predict
from trainer.training import eval_lib
from trainer.export import tflite_export
from trainer import nets
from trainer.preprocessing.image_ops import ImageSpec
from trainer.export.model_io import restore_for_inference
from serving import signatures

# One worker runs the whole module under `pytest -n 2 --dist loadgroup`, so the two
# pipeline runs (module fixtures) happen once.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("serving-e2e")]

LENET = ImageSpec(preprocessing_name="lenet", image_size=28, channels=1)


def _store(summary):
    return metadata_store.MetadataStore(
        tfx.orchestration.metadata.sqlite_metadata_connection_config(summary.metadata_path))


def _latest_uri(summary, type_name):
    return max(_store(summary).get_artifacts_by_type(type_name), key=lambda a: a.id)


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    root = tmp_path_factory.mktemp("push_e2e")
    data = str(root / "digits")
    digits.write_digits(data, per_class=20)
    config = run_config.load("smoke", check_net=False, data_root=data, pipeline_root=str(root / "pipeline_root"),
                            serving_dir=str(root / "serving"), train_steps=120)
    summary = run_local(config)
    paths = {"examples": _latest_uri(summary, "Examples").uri,
             "train_dir": glob.glob(os.path.join(config.pipeline_root, "Trainer", "model_run", "*", "train"))[0],
             "evaluation": _latest_uri(summary, "ModelEvaluation").uri,
             "infra_blessing": _latest_uri(summary, "InfraBlessing")}
    return config, summary, paths


@pytest.fixture(scope="module")
def second(first):
    config, _, _ = first
    # One training step: clearly worse. (The smoke test is off here to keep the test
    # short; Pusher's need for both blessings is covered in test_push.py.)
    return run_local(config.replace(train_steps=1, serving_smoke_test=False))


def _versions(config):
    return sorted(os.listdir(os.path.join(config.serving_dir, config.serving_model_name)))


def test_first_run_is_blessed_by_both_and_pushed(first):
    config, summary, paths = first
    assert summary.blessed is True and summary.pushed, summary
    assert paths["infra_blessing"].custom_properties["blessed"].int_value == 1
    (version,) = _versions(config)
    assert summary.pushed_destination == os.path.join(config.serving_dir, "lenet", version)
    config_path = models_config.models_config_path(config.serving_dir)
    assert models_config.served_version(config_path, "lenet") == int(version)
    metrics = summary.metrics
    assert metrics["sparse_categorical_accuracy"] >= config.accuracy_threshold
    assert metrics["top_5_accuracy"] >= metrics["sparse_categorical_accuracy"]


def test_evaluator_reports_per_class_metrics_confusion_matrix_and_label_slices(first):
    _, _, paths = first
    result = tfma.load_eval_result(paths["evaluation"])
    overall = dict(result.slicing_metrics)[()][""]
    assert {f"classId:{c}" for c in range(10)} <= set(overall)
    assert set(overall["classId:3"]) == {"precision", "recall"}
    label_slices = [key for key, _ in result.slicing_metrics if key and key[0][0] == "image/class/label"]
    assert len(label_slices) == 10
    (plot_key, plots), = [(k, p) for k, p in result.plots if k == ()]
    matrix = plots[""][""]["multiClassConfusionMatrixAtThresholds"]["matrices"][0]["entries"]
    total = sum(e.get("numWeightedExamples", 0) for e in matrix)
    assert total == overall[""]["example_count"]["doubleValue"]
    # Recall of a class = its diagonal entry / its row (what the per-class metric reports).
    row3 = [e for e in matrix if e.get("actualClassId", 0) == 3]
    hits3 = sum(e.get("numWeightedExamples", 0) for e in row3 if e.get("predictedClassId", 0) == 3)
    assert overall["classId:3"]["recall"]["doubleValue"] == pytest.approx(
        hits3 / sum(e.get("numWeightedExamples", 0) for e in row3))


def test_clearly_worse_model_is_not_blessed_and_not_pushed(first, second):
    config, summary1, _ = first
    assert second.blessed is False and not second.pushed, second
    assert second.metrics["sparse_categorical_accuracy"] < summary1.metrics["sparse_categorical_accuracy"]
    validation = tfma.load_validation_result(_latest_uri(second, "ModelEvaluation").uri)
    assert not validation.validation_ok
    (version,) = _versions(config)  # still only the first version
    assert models_config.served_version(models_config.models_config_path(config.serving_dir), "lenet") == \
        int(version)
    assert predict.latest_version_dir(os.path.join(config.serving_dir, "lenet")).endswith(version)


def test_eval_cli_reproduces_evaluator_top1(first):
    config, summary, paths = first
    result = run_tfslim("eval", f"--checkpoint_path={os.path.join(config.serving_dir, 'lenet')}",
                        f"--dataset_dir={paths['examples']}", "--dataset_split_name=eval",
                        f"--eval_dir={os.path.join(config.pipeline_root, 'eval_cli')}")
    assert result.returncode == 0, result.stderr[-2000:]
    accuracy, recall5 = map(float, re.search(r"eval/Accuracy\[([\d.]+)\] eval/Recall_5\[([\d.]+)\]",
                                             result.stdout).groups())
    assert abs(accuracy - summary.metrics["sparse_categorical_accuracy"]) <= 0.005
    assert abs(recall5 - summary.metrics["top_5_accuracy"]) <= 0.005
    # From the Trainer's checkpoint (zoo net + tf.data preprocessing): the same top-1.
    net = nets.create_model("lenet", num_classes=10)
    net.ensure_built(28, 1)
    restore_for_inference(net, paths["train_dir"])
    by_checkpoint = eval_lib.evaluate_net(net, LENET, [os.path.join(paths["examples"], "Split-eval", "*")])
    assert abs(by_checkpoint.accuracy - summary.metrics["sparse_categorical_accuracy"]) <= 0.005


def test_tflite_float_and_int8_from_the_trained_checkpoint(first, tmp_path):
    _, _, paths = first
    out = str(tmp_path / "export" / "1")
    result = run_tfslim("export", "--model_name=lenet", "--use_grayscale", f"--checkpoint_path={paths['train_dir']}",
                        f"--dataset_dir={paths['examples']}", f"--output_dir={out}", "--tflite",
                        "--num_calibration_images=64")
    assert result.returncode == 0, result.stderr[-2000:]
    splits = [os.path.join(paths["examples"], f"Split-{s}", "*") for s in ("train", "eval")]
    images, labels = [], []
    for batch, batch_labels in tflite_export_data(splits):
        images.append(batch)
        labels.append(batch_labels)
    images, labels = np.concatenate(images), np.concatenate(labels)
    saved = tf.saved_model.load(out).signatures[signatures.SERVING_TENSORS]
    saved_top1 = saved(images=tf.constant(images))["classes"].numpy()
    with open(os.path.join(out, "tflite", "model_float.tflite"), "rb") as f:
        float_top1 = tflite_export.predict(f.read(), images).argmax(axis=1)
    with open(os.path.join(out, "tflite", "model_int8.tflite"), "rb") as f:
        int8_top1 = tflite_export.predict(f.read(), images).argmax(axis=1)
    assert np.array_equal(float_top1, saved_top1)
    float_acc, int8_acc = np.mean(float_top1 == labels), np.mean(int8_top1 == labels)
    assert len(labels) == 200 and float_acc > 0.5
    assert abs(int8_acc - float_acc) <= 0.01, (float_acc, int8_acc)


def tflite_export_data(patterns):
    from trainer.training import data  # pylint: disable=import-outside-toplevel

    for images, labels in data.make_dataset(patterns, LENET, batch_size=100, is_training=False):
        yield images.numpy(), labels.numpy()
