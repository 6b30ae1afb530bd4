"""run_fn on a few steps with the real Transform graph, and the exported serving signatures."""
import os

import numpy as np
import pytest
import tensorflow as tf
from tfx.components.trainer.fn_args_utils import FnArgs

from pipeline import run_config
from tests.pipeline import helpers
from serving import predict
from trainer.run_fn import TRAIN_CONFIG_KEY, run_fn
from serving import signatures


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("run_fn")
    examples = helpers.write_examples_artifact(str(root / "examples"), train=300, eval_=60)
    transform = helpers.write_transform_graph(str(root / "transform"))
    fn_args = FnArgs(
        train_files=[os.path.join(examples, "Split-train", "*")],
        eval_files=[os.path.join(examples, "Split-eval", "*")],
        train_steps=150, eval_steps=None,
        transform_output=transform, transform_graph_path=transform,
        serving_model_dir=str(root / "model" / "Format-Serving"),
        model_run_dir=str(root / "model_run"),
        custom_config={TRAIN_CONFIG_KEY: run_config.load("demo", check_net=False).train.to_dict()})
    run_fn(fn_args)
    return fn_args


def test_run_fn_trains_and_checkpoints(exported):
    train_dir = os.path.join(exported.model_run_dir, "train")
    assert tf.train.latest_checkpoint(train_dir).endswith("model.ckpt-150")
    assert tf.io.gfile.glob(os.path.join(train_dir, "events.out.tfevents.*")) or \
        tf.io.gfile.glob(os.path.join(train_dir, "train", "events.out.tfevents.*"))


def test_serving_default_on_png_and_jpeg_bytes(exported):
    serving_fn = predict.load_serving_fn(exported.serving_model_dir)
    items = helpers.digit_images(40, start=1000)
    images = [helpers.encode(p, "PNG" if i % 2 else "JPEG") for i, (p, _) in enumerate(items)]
    out = serving_fn(**{signatures.IMAGE_INPUT: tf.constant(images)})
    scores = out["scores"].numpy()
    assert scores.shape == (40, 10)
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, atol=1e-5)
    labels = [label for _, label in items]
    accuracy = float(np.mean(out["classes"].numpy() == labels))
    assert accuracy >= 0.7, accuracy  # 150 steps on 300 digits: well above chance (0.1)
    assert [label.decode() for label in out["labels"].numpy()] == [str(c) for c in out["classes"].numpy()]
    assert out["top_k_labels"].shape == (40, 5)


def test_examples_signature_agrees_with_image_signature(exported):
    loaded = tf.saved_model.load(exported.serving_model_dir)
    from ingestion.formats import example as example_lib, image_codec
    pixels, label = helpers.digit_images(1, start=1500)[0]
    png = helpers.encode(pixels)
    serialized = example_lib.encode_example(image_codec.normalize(png), label, str(label), "x.png")
    by_example = loaded.signatures[signatures.SERVING_EXAMPLES](examples=tf.constant([serialized]))
    by_image = loaded.signatures[signatures.SERVING_DEFAULT](image_bytes=tf.constant([png]))
    np.testing.assert_allclose(by_example["scores"].numpy(), by_image["scores"].numpy(), atol=1e-6)


def test_labels_asset_written(exported):
    path = os.path.join(exported.serving_model_dir, "assets.extra", "labels.txt")
    with open(path) as f:
        assert f.read().splitlines()[:2] == ["0:0", "1:1"]


def test_undecodable_image_names_its_batch_index_through_the_transform_graph(exported):
    """The Transform layer decodes the batch in one op; the per-element check still names
    the index, for image bytes and for tf.Examples (the Evaluator's signature)."""
    from ingestion.formats import example as example_lib, image_codec
    from tests.ingestion.hostile import corpus
    loaded = tf.saved_model.load(exported.serving_model_dir)
    png = helpers.encode(helpers.digit_images(1, start=1500)[0][0])
    bad = corpus.garbage_pixels_png()
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"could not be decoded.*\] \[1\]"):
        loaded.signatures[signatures.SERVING_DEFAULT](image_bytes=tf.constant([png, bad]))
    examples = [example_lib.encode_example(image_codec.EncodedImage(data, "png", 8, 8, False), 0, "0", f"{i}.png")
                for i, data in enumerate([png, bad])]
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"could not be decoded.*\] \[1\]"):
        loaded.signatures[signatures.SERVING_EXAMPLES](examples=tf.constant(examples))
    assert loaded.signatures[signatures.SERVING_DEFAULT](image_bytes=tf.constant([png]))["scores"].shape == (1, 10)
