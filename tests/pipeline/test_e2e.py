"""The whole pipeline on a small digits subset with bad files mixed in (LocalDagRunner)."""
import json
import os

import pytest
import tensorflow as tf

from components.image_example_gen import planning
from schemas import features, labels as labels_lib
from pipeline import configs, digits
from pipeline.local import run_local
from tests.hostile import corpus
from tests.pipeline import helpers
from serving import predict

pytestmark = pytest.mark.e2e


def _undecodable_name(config: configs.PipelineConfig) -> str:
    """The relative path of the undecodable JPEG: one the split hash puts into eval."""
    total = config.train_buckets + config.eval_buckets
    return next(key for key in (f"4/no-dqt-{index}.jpg" for index in range(1000))
                if planning.tfx_hash_bucket(key, total) >= config.train_buckets)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    data = str(root / "digits")
    written = digits.write_digits(data, per_class=30)
    good = open(os.path.join(data, "3", sorted(os.listdir(os.path.join(data, "3")))[0]), "rb").read()
    with open(os.path.join(data, "3", "truncated.png"), "wb") as f:
        f.write(good[: len(good) // 2])
    with open(os.path.join(data, "5", "notes.png"), "w") as f:
        f.write("this is a text file, not a PNG\n")
    # Both pass every CRC; before ingestion checked sizes and pixel streams, they reached
    # the Trainer and stopped the pipeline there.
    with open(os.path.join(data, "7", "bomb.png"), "wb") as f:
        f.write(corpus.bomb_png())
    with open(os.path.join(data, "8", "garbage.png"), "wb") as f:
        f.write(corpus.garbage_pixels_png())
    config = configs.preset("smoke", data_root=data, pipeline_root=str(root / "pipeline_root"),
                            serving_dir=str(root / "serving"))
    # Passes ingestion's marker walk (verify_decode is off), but TF cannot decode it: kept,
    # and named so that it hashes into the eval split, where the Evaluator must skip it.
    assert not config.verify_decode
    with open(os.path.join(data, _undecodable_name(config)), "wb") as f:
        f.write(corpus.jpeg_without_quantization_tables())
    summary = run_local(config)
    return config, summary, written


def test_pipeline_pushes_a_model_that_answers(run):
    config, summary, _ = run
    assert summary.blessed is True and summary.pushed
    version_dir = summary.pushed_destination
    assert os.path.dirname(version_dir) == os.path.join(config.serving_dir, "lenet")
    assert os.path.basename(version_dir).isdigit()  # TF Serving's <model>/<version>/ layout
    serving_fn = predict.load_serving_fn(os.path.dirname(version_dir))
    items = helpers.digit_images(20, start=1700)
    ranked = predict.top_k(serving_fn, [helpers.encode(p) for p, _ in items])
    hits = sum(r[0][0] == str(label) for r, (_, label) in zip(ranked, items))
    assert hits >= 14, ranked  # a few hundred steps on 300 digits
    assert summary.metrics["sparse_categorical_accuracy"] >= config.accuracy_threshold
    assert summary.metrics["example_count"] > 0


def test_bad_files_are_reported_not_dropped(run):
    config, summary, written = run
    from ml_metadata.metadata_store import metadata_store
    from tfx import v1 as tfx
    store = metadata_store.MetadataStore(
        tfx.orchestration.metadata.sqlite_metadata_connection_config(summary.metadata_path))
    examples_uri = max(store.get_artifacts_by_type("Examples"), key=lambda a: a.id).uri
    with open(labels_lib.rejects_path(examples_uri)) as f:
        rejects = {json.loads(line)["path"]: json.loads(line)["reason"] for line in f}
    assert rejects == {"3/truncated.png": "truncated", "5/notes.png": "not an image",
                       "7/bomb.png": "too large", "8/garbage.png": "corrupt"}, rejects
    count = sum(1 for split in ("train", "eval") for _ in tf.data.TFRecordDataset(
        tf.io.gfile.glob(os.path.join(examples_uri, f"Split-{split}", "*")), "GZIP"))
    assert count == written + 1  # every good file converted, the four bad ones rejected
    eval_names = {example.features.feature[features.FILENAME].bytes_list.value[0].decode()
                  for example in map(tf.train.Example.FromString, (r.numpy() for r in tf.data.TFRecordDataset(
                      tf.io.gfile.glob(os.path.join(examples_uri, "Split-eval", "*")), "GZIP")))}
    assert _undecodable_name(config) in eval_names  # kept by ingestion, not rejected


def test_the_evaluator_and_the_report_skip_the_undecodable_image(run):
    config, summary, _ = run
    assert summary.blessed is True and summary.pushed  # it did not stop the pipeline
    metrics = summary.metrics
    assert metrics["example_count"] - metrics["weighted_example_count"] == 1
    assert summary.skipped == 1
    assert "skipped:       1 held-out image(s) that could not be decoded" in summary.lines()
    page = open(summary.report_path, encoding="utf-8").read()
    assert "Skipped at evaluation: image could not be decoded (1)" in page and _undecodable_name(config) in page
