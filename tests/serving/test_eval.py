"""Checkpoint restore for inference (project + EMA, slim), the eval metrics, and `tfslim eval`'s loop."""
import glob
import os

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from tests.pipeline import helpers
from tests.serving.cli import run_tfslim
from trainer import eval_lib, model_io, nets


def _lenet():
    net = nets.create_model("lenet", num_classes=10)
    net.ensure_built(28, 1)
    return net


@pytest.fixture(scope="module")
def ema_checkpoint(tmp_path_factory):
    """A train_dir checkpoint after one Adam step with EMA: (dir, weights after, EMA values)."""
    tf_keras.utils.set_random_seed(3)
    net = _lenet()
    optimizer = tf_keras.optimizers.Adam(0.1, use_ema=True, ema_momentum=0.5)
    before = [v.numpy() for v in net.trainable_variables]
    optimizer.apply_gradients([(tf.ones_like(v), v) for v in net.trainable_variables])
    after = [v.numpy() for v in net.trainable_variables]
    ema = [0.5 * b + 0.5 * a for b, a in zip(before, after)]  # tf_keras: avg = m*avg + (1-m)*w
    train_dir = str(tmp_path_factory.mktemp("train"))
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(net=net, optimizer=optimizer), train_dir,
                                         max_to_keep=2, checkpoint_name="model.ckpt")
    manager.save(checkpoint_number=optimizer.iterations)
    return train_dir, after, ema


def test_project_checkpoint_restores_weights_or_moving_averages(ema_checkpoint):
    train_dir, after, ema = ema_checkpoint
    net = _lenet()
    path = model_io.restore_for_inference(net, train_dir)
    assert path.endswith("model.ckpt-1") and model_io.checkpoint_step(path) == 1
    assert model_io.is_object_based(path)
    for var, value in zip(net.trainable_variables, after):
        np.testing.assert_allclose(var.numpy(), value, rtol=1e-6)
    net = _lenet()
    model_io.restore_for_inference(net, train_dir, use_moving_averages=True)
    for var, value in zip(net.trainable_variables, ema):
        np.testing.assert_allclose(var.numpy(), value, rtol=1e-5, atol=1e-7)
    assert not np.allclose(ema[0], after[0])  # the two really differ


def test_slim_checkpoint_and_missing_moving_averages(tmp_path):
    source = _lenet()
    prefix = nets.save_slim_checkpoint(source, str(tmp_path / "lenet.ckpt"))
    assert not model_io.is_object_based(prefix)
    net = _lenet()
    model_io.restore_for_inference(net, prefix)
    np.testing.assert_array_equal(net.trainable_variables[0].numpy(), source.trainable_variables[0].numpy())
    plain = tf.train.Checkpoint(net=_lenet()).save(str(tmp_path / "plain" / "ckpt"))
    with pytest.raises(ValueError, match="holds no moving averages"):
        model_io.restore_for_inference(_lenet(), plain, use_moving_averages=True)


def test_saved_model_and_checkpoint_paths_give_the_same_metrics(lenet_model_dir, examples_uri, tmp_path):
    pattern = [os.path.join(examples_uri, "Split-eval", "*")]
    by_saved_model = eval_lib.evaluate_saved_model(lenet_model_dir, pattern, batch_size=10)
    # The fixture's net, rebuilt from its own variables through a slim checkpoint.
    loaded = tf.saved_model.load(lenet_model_dir)
    net = _lenet()
    for var in net.variables:
        (match,) = [v for v in loaded.net_variables if v.name == var.name]
        var.assign(match)
    by_net = eval_lib.evaluate_net(net, helpers.LENET_GRAY, pattern, batch_size=7)
    assert by_saved_model.num_examples == by_net.num_examples == 24
    assert by_saved_model.accuracy == pytest.approx(by_net.accuracy)
    assert by_saved_model.recall_5 == pytest.approx(by_net.recall_5)
    assert by_saved_model.recall_5 >= by_saved_model.accuracy
    limited = eval_lib.evaluate_saved_model(lenet_model_dir, pattern, batch_size=10, max_num_batches=2)
    assert limited.num_examples == 20


def test_split_file_patterns_layouts(tmp_path):
    (tmp_path / "Split-eval").mkdir()
    (tmp_path / "Split-eval" / "data-00000-of-00001.gz").write_bytes(b"")
    (tmp_path / "flowers_validation-00000-of-00005.tfrecord").write_bytes(b"")
    (tmp_path / "mnist_test.tfrecord").write_bytes(b"")
    assert eval_lib.split_file_patterns(str(tmp_path), "x", "eval") == [f"{tmp_path}/Split-eval/*"]
    assert eval_lib.split_file_patterns(str(tmp_path), "flowers", "validation") == \
        [f"{tmp_path}/flowers_validation-*"]
    assert eval_lib.split_file_patterns(str(tmp_path), "mnist", "test") == [f"{tmp_path}/mnist_test.tfrecord*"]
    with pytest.raises(FileNotFoundError, match="--dataset_split_name"):
        eval_lib.split_file_patterns(str(tmp_path), "flowers", "train")


def test_eval_cli_loop_writes_accuracy_and_recall_5(ema_checkpoint, examples_uri, tmp_path):
    train_dir, _, _ = ema_checkpoint
    eval_dir = str(tmp_path / "eval")
    result = run_tfslim("eval", f"--checkpoint_path={train_dir}", "--model_name=lenet", "--use_grayscale",
                        f"--dataset_dir={examples_uri}", "--dataset_split_name=eval", "--batch_size=8",
                        f"--eval_dir={eval_dir}", "--eval_interval_secs=1", "--timeout=2",
                        "--moving_average_decay=0.5")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "eval/Accuracy[" in result.stdout and "eval/Recall_5[" in result.stdout
    assert "on 24 examples" in result.stdout and "@ step 1)" in result.stdout
    tags = set()
    for path in glob.glob(os.path.join(eval_dir, "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            tags |= {(v.tag, event.step) for v in event.summary.value}
    assert {("eval/Accuracy", 1), ("eval/Recall_5", 1)} <= tags
