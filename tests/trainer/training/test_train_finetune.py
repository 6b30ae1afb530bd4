"""Fine-tuning: --checkpoint_path (slim or TF2, file or directory), exclude/trainable scopes,
--ignore_missing_vars."""
import os

import numpy as np
import pytest
import tensorflow as tf

from tests.trainer import helpers
from trainer.training import data, finetune, train_lib
from trainer import nets
from trainer.config import TrainConfig


@pytest.fixture(scope="module")
def split(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("digits"))
    helpers.write_digits(root, train_limit=120, test_limit=10)
    return data.dataset_split(root, "digits", "train")


@pytest.fixture(scope="module")
def slim_ckpt(tmp_path_factory):
    """A slim-format lenet checkpoint (10 classes) and its values."""
    net = nets.create_model("lenet", num_classes=10)
    net.ensure_built(28, 1)
    prefix = nets.save_slim_checkpoint(net, str(tmp_path_factory.mktemp("slim") / "lenet.ckpt"))
    return prefix, {k: v.numpy() for k, v in net.slim_variables().items()}


def config_for(train_dir, **changes) -> TrainConfig:
    return TrainConfig(model_name="lenet", image_channels=1, batch_size=8, optimizer="sgd",
                       learning_rate=0.01, learning_rate_decay_type="fixed", weight_decay=0.001,
                       train_dir=str(train_dir), log_every_n_steps=100, seed=5, **changes)


def _state(config, num_classes=10):
    spec = train_lib.image_spec_for(config)
    state = train_lib.create_state(config, num_classes, spec, 100, tf.distribute.get_strategy(),
                                   config.train_dir)
    return state, train_lib.restore_or_initialize(state, config)


def _values(net):
    return {k: v.numpy() for k, v in net.slim_variables().items()}


def test_trainable_scopes_leave_frozen_weights_bit_identical(split, slim_ckpt, tmp_path):
    prefix, before = slim_ckpt
    config = config_for(tmp_path / "t", max_number_of_steps=4, checkpoint_path=prefix,
                        trainable_scopes=("LeNet/fc4",))
    result = train_lib.train(config, split.files, 10)
    after = _values(result.net)
    for name in before:
        if name.startswith("LeNet/fc4"):
            assert np.abs(after[name] - before[name]).max() > 0, name
        else:
            np.testing.assert_array_equal(after[name], before[name], err_msg=name)
    assert sorted(result.restore_report.restored) == sorted(before)


def test_exclude_scopes_leave_logits_freshly_initialized(slim_ckpt, tmp_path):
    prefix, before = slim_ckpt
    config = config_for(tmp_path / "e", max_number_of_steps=1, checkpoint_path=prefix,
                        checkpoint_exclude_scopes=("LeNet/fc4",))
    state, report = _state(config, num_classes=7)  # a new class count: logits must be excluded
    got = _values(state.net)
    assert report.excluded == ["LeNet/fc4/biases", "LeNet/fc4/weights"]
    assert got["LeNet/fc4/weights"].shape == (1024, 7)
    np.testing.assert_array_equal(got["LeNet/fc4/biases"], np.zeros(7))  # slim's zero init
    for name in ("LeNet/conv1/weights", "LeNet/conv2/biases", "LeNet/fc3/weights"):
        np.testing.assert_array_equal(got[name], before[name])


def test_mismatched_logits_without_exclusion_name_the_fix(slim_ckpt, tmp_path):
    prefix, _ = slim_ckpt
    config = config_for(tmp_path / "m", max_number_of_steps=1, checkpoint_path=prefix)
    with pytest.raises(nets.CheckpointMismatchError, match="LeNet/fc4"):
        _state(config, num_classes=7)


def test_ignore_missing_vars(slim_ckpt, tmp_path):
    prefix, before = slim_ckpt
    reader = tf.train.load_checkpoint(prefix)
    names = sorted(n for n in reader.get_variable_to_shape_map() if not n.startswith("LeNet/conv2"))
    partial = str(tmp_path / "partial.ckpt")
    tf.raw_ops.SaveV2(prefix=partial, tensor_names=names, shape_and_slices=[""] * len(names),
                      tensors=[reader.get_tensor(n) for n in names])
    config = config_for(tmp_path / "i", max_number_of_steps=1, checkpoint_path=partial)
    with pytest.raises(ValueError, match="ignore_missing_vars"):
        _state(config)
    state, report = _state(config.replace(ignore_missing_vars=True,
                                          train_dir=str(tmp_path / "i2")))
    assert report.missing == ["LeNet/conv2/biases", "LeNet/conv2/weights"]
    np.testing.assert_array_equal(_values(state.net)["LeNet/fc3/weights"], before["LeNet/fc3/weights"])


def test_fine_tune_from_a_tf2_train_dir(split, slim_ckpt, tmp_path):
    prefix, _ = slim_ckpt
    first = config_for(tmp_path / "first", max_number_of_steps=3, checkpoint_path=prefix,
                       moving_average_decay=0.5)
    train_lib.train(first, split.files, 10)
    reader = tf.train.load_checkpoint(first.train_dir)
    keys = finetune.slim_tensor_keys(first.train_dir)
    assert keys["global_step"].startswith("optimizer/")
    assert reader.get_tensor(keys["global_step"]) == 3
    raw = {n: reader.get_tensor(k) for n, k in keys.items() if n.startswith("LeNet/")
           and not n.endswith("ExponentialMovingAverage")}
    # Directory and file prefix both work; a new class count with the logits excluded.
    for source in (first.train_dir, tf.train.latest_checkpoint(first.train_dir)):
        config = config_for(tmp_path / f"second{len(source)}", max_number_of_steps=1,
                            checkpoint_path=source, checkpoint_exclude_scopes=("LeNet/fc4",))
        state, report = _state(config, num_classes=4)
        assert report.checkpoint == tf.train.latest_checkpoint(first.train_dir)
        got = _values(state.net)
        for name in ("LeNet/conv1/weights", "LeNet/fc3/biases"):
            np.testing.assert_array_equal(got[name], raw[name])  # the raw weights, not the EMA
        assert state.step == 0  # fine-tuning starts a new run


def test_tf2_checkpoint_converts_to_slim_format(split, tmp_path):
    config = config_for(tmp_path / "c", max_number_of_steps=2, moving_average_decay=0.9)
    result = train_lib.train(config, split.files, 10)
    prefix = finetune.to_slim_checkpoint(config.train_dir, str(tmp_path / "slim" / "model.ckpt"))
    shapes = tf.train.load_checkpoint(prefix).get_variable_to_shape_map()
    assert "LeNet/fc4/weights/ExponentialMovingAverage" in shapes and "global_step" in shapes
    net = nets.create_model("lenet", num_classes=10)
    net.ensure_built(28, 1)
    nets.restore_slim_checkpoint(net, prefix, use_moving_averages=True)
    np.testing.assert_array_equal(net.slim_variables()["LeNet/fc4/weights"].numpy(),
                                  result.net.slim_variables()["LeNet/fc4/weights"].numpy())
    assert os.path.exists(prefix + ".index")
