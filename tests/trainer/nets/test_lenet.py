"""LeNet against slim's definition (the architecture facts of nets/lenet.py) and checkpoint IO."""
import numpy as np
import pytest
import tensorflow as tf

from trainer import nets


def test_lenet_end_points_and_variables():
    model = nets.create_model("lenet", num_classes=10)
    logits, end_points = model(tf.zeros([5, 28, 28, 1]), training=False)
    assert logits.shape == (5, 10)
    assert end_points["pool2"].shape == (5, 7, 7, 64)
    assert end_points["Predictions"].shape == (5, 10)
    assert sorted(model.slim_variables()) == sorted(
        f"LeNet/{layer}/{kind}" for layer in ("conv1", "conv2", "fc3", "fc4")
        for kind in ("weights", "biases"))


def test_lenet_prelogits_when_num_classes_zero():
    model = nets.create_model("lenet", num_classes=0)
    features, end_points = model(tf.zeros([2, 28, 28, 1]))
    assert features.shape == (2, 1024)
    assert "Logits" not in end_points


def test_round_trip_and_mismatch_message(tmp_path):
    model = nets.create_model("lenet", num_classes=10)
    images = tf.random.uniform([3, 28, 28, 1], seed=1)
    expected = model(images)[0].numpy()
    prefix = nets.save_slim_checkpoint(model, str(tmp_path / "lenet.ckpt"))
    restored = nets.create_model("lenet", num_classes=10)
    restored(tf.zeros([1, 28, 28, 1]))
    report = nets.restore_slim_checkpoint(restored, prefix)
    assert len(report.restored) == 8 and not report.missing
    np.testing.assert_array_equal(restored(images)[0].numpy(), expected)

    wider = nets.create_model("lenet", num_classes=11)
    wider(tf.zeros([1, 28, 28, 1]))
    with pytest.raises(nets.CheckpointMismatchError, match=r"LeNet/fc4/biases.*\[10\].*\[11\]"):
        nets.restore_slim_checkpoint(wider, prefix)
    report = nets.restore_slim_checkpoint(wider, prefix, exclude_scopes=["LeNet/fc4"])
    assert sorted(report.excluded) == ["LeNet/fc4/biases", "LeNet/fc4/weights"]
