"""trainer.slim layer behaviour tf_slim's graph tests cannot show: default-name numbering per
model build, batch_norm/dropout modes under Keras' training flag, variables, the plugin error."""
import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from trainer import slim
from trainer.config import NET_MODULES_ENV
from trainer.nets import registry


def test_default_scopes_number_per_build_and_fc_takes_any_rank():
    for _ in range(2):  # a second model restarts at Conv, as a new slim graph would
        inputs = tf_keras.Input((8, 8, 3))
        with slim.name_store():
            net = slim.conv2d(inputs, 4, [3, 3])
            net = slim.conv2d(net, 4, 3, normalizer_fn=slim.batch_norm)
            with tf.compat.v1.variable_scope("block"):
                net = slim.stack(net, slim.fully_connected, [5, 6])
            labels = slim.one_hot_encoding(tf_keras.Input((), dtype=tf.int32), 3)
        names = sorted(v.name for v in tf_keras.Model(inputs, net).weights)
        assert names == ["Conv/biases:0", "Conv/weights:0", "Conv_1/BatchNorm/beta:0",
                         "Conv_1/BatchNorm/moving_mean:0", "Conv_1/BatchNorm/moving_variance:0",
                         "Conv_1/weights:0", "block/Stack/fully_connected_1/biases:0",
                         "block/Stack/fully_connected_1/weights:0",
                         "block/Stack/fully_connected_2/biases:0",
                         "block/Stack/fully_connected_2/weights:0"]  # tf_slim 1.1's names
        assert net.shape.as_list() == [None, 8, 8, 6] and labels.shape.as_list() == [None, 3]


def _batch_norm_model(is_training):
    inputs = tf_keras.Input((4,))
    with slim.name_store():
        outputs = slim.dropout(slim.batch_norm(inputs, decay=0.5, is_training=is_training),
                               0.5, is_training=is_training)
    return tf_keras.Model(inputs, outputs)


def test_is_training_true_follows_keras_training_false_is_frozen():
    x = np.random.default_rng(0).normal(2.0, 3.0, (64, 4)).astype(np.float32)
    model = _batch_norm_model(True)
    mean = model.weights[1]
    assert mean.name == "BatchNorm/moving_mean:0"
    inferred = model(x, training=False).numpy()
    np.testing.assert_allclose(inferred, x / np.sqrt(1.0 + 0.001), rtol=1e-5)  # moving stats, no dropout
    np.testing.assert_allclose(mean.numpy(), 0.0)
    trained = model(x, training=True).numpy()
    np.testing.assert_allclose(mean.numpy(), 0.5 * x.mean(axis=0), rtol=1e-5)  # slim's update
    assert (trained == 0).mean() > 0.3  # dropout on
    frozen = _batch_norm_model(False)
    np.testing.assert_allclose(frozen(x, training=True).numpy(), x / np.sqrt(1.001), rtol=1e-5)
    np.testing.assert_allclose(frozen.weights[1].numpy(), 0.0)


def test_variable_and_model_variable():
    with slim.name_store(), tf.compat.v1.variable_scope("block"):
        weights = slim.model_variable("weights", shape=[10, 10, 3, 3],
                                      initializer=tf.compat.v1.truncated_normal_initializer(stddev=0.1),
                                      regularizer=slim.l2_regularizer(0.05), device="/CPU:0")
        my_var = slim.variable("my_var", shape=[20, 1], initializer=tf.compat.v1.zeros_initializer())
        assert [v.name for v in slim.get_variables()] == ["block/weights:0", "block/my_var:0"]
        assert slim.get_model_variables() == [weights]
        (loss,) = slim.losses.get_regularization_losses()
        np.testing.assert_allclose(loss, 0.05 * 0.5 * np.sum(weights.numpy() ** 2), rtol=1e-5)
    assert my_var.shape == (20, 1)


def test_l2_regularizer_checks_and_unknown_plugin_module(monkeypatch):
    with pytest.raises(ValueError, match="scale cannot be an integer"):
        slim.l2_regularizer(1)
    with pytest.raises(ValueError, match="less than 0"):
        slim.l2_regularizer(-0.1)
    assert slim.l2_regularizer(0.0)(tf.ones([2])) is None
    monkeypatch.setenv(NET_MODULES_ENV, "no_such_module_here")
    monkeypatch.setattr(registry, "_LOADED", False)
    with pytest.raises(ValueError, match="TFSLIM_NET_MODULES: cannot import 'no_such_module_here'"):
        registry.list_models()


def test_restore_with_a_name_map_exclusions_and_ignore_missing_vars(tmp_path):
    inputs = tf_keras.Input((4,))
    with slim.name_store():
        model = tf_keras.Model(inputs, slim.fully_connected(slim.fully_connected(inputs, 3, scope="a"),
                                                            2, scope="b"))
    variables = slim.get_variables_to_restore(model)
    assert sorted(variables) == ["a/biases", "a/weights", "b/biases", "b/weights"]
    assert sorted(slim.get_variables_to_restore(model, exclude=["b"])) == ["a/biases", "a/weights"]
    assert [v.name for v in slim.get_model_variables("a", model=model)] == ["a/biases:0", "a/weights:0"]
    prefix = str(tmp_path / "old.ckpt")
    saved = {"old/fc/weights": np.full((4, 3), 0.5, np.float32), "old/fc/biases": np.ones(3, np.float32)}
    tf.raw_ops.SaveV2(prefix=prefix, tensor_names=list(saved), shape_and_slices=["", ""],
                      tensors=[tf.constant(v) for v in saved.values()])
    name_map = {"old/fc/weights": variables["a/weights"], "old/fc/biases": variables["a/biases"],
                "b/weights": variables["b/weights"]}
    with pytest.raises(ValueError, match="1 model variables are not in checkpoint"):
        slim.assign_from_checkpoint_fn(prefix, name_map)()
    report = slim.assign_from_checkpoint_fn(prefix, name_map, ignore_missing_vars=True)()
    assert report.missing == ["b/weights"] and sorted(report.restored) == sorted(saved)
    np.testing.assert_array_equal(variables["a/weights"].numpy(), saved["old/fc/weights"])
