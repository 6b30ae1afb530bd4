"""VGG, AlexNet v2 and OverFeat against slim: vgg_test.py goldens (variable names,
end points, fully convolutional shapes) and numerical parity with tf_slim.nets."""
import importlib
import shutil

import numpy as np
import pytest
import tensorflow as tf

from tests.trainer.nets import oracle
from trainer import nets


@pytest.fixture
def ckpt_prefix(tmp_path):
    # VGG checkpoints are ~0.5 GB: remove them as soon as the test is done.
    yield str(tmp_path / "slim" / "model.ckpt")
    shutil.rmtree(tmp_path / "slim", ignore_errors=True)


def _vgg_variable_names(scope, repeats):
    names = set()
    for block, count in enumerate(repeats, start=1):
        for i in range(1, count + 1):
            names.update({f"{scope}/conv{block}/conv{block}_{i}/weights",
                          f"{scope}/conv{block}/conv{block}_{i}/biases"})
    for fc in ("fc6", "fc7", "fc8"):
        names.update({f"{scope}/{fc}/weights", f"{scope}/{fc}/biases"})
    return names


@pytest.mark.parametrize("name,repeats,count", [("vgg_16", (2, 2, 3, 3, 3), 32),
                                                ("vgg_19", (2, 2, 4, 4, 4), 38)])
def test_vgg_model_variables(name, repeats, count):
    # fc_conv_padding='SAME' lets a 32x32 input build the same variables cheaply.
    model = nets.create_model(name, num_classes=1000, fc_conv_padding="SAME")
    model(tf.zeros([1, 32, 32, 3]))
    variables = model.slim_variables()
    assert len(variables) == count
    assert set(variables) == _vgg_variable_names(name, repeats)
    assert variables[f"{name}/fc6/weights"].shape == (7, 7, 512, 4096)
    assert variables[f"{name}/fc8/weights"].shape == (1, 1, 4096, 1000)


def test_vgg_16_end_points_and_shapes():
    model = nets.create_model("vgg_16", num_classes=10)
    logits, end_points = model(tf.zeros([1, 224, 224, 3]), training=False)
    assert logits.shape == (1, 10)
    expected = {"vgg_16/fc6", "vgg_16/fc7", "vgg_16/fc8"}
    for block, count in enumerate((2, 2, 3, 3, 3), start=1):
        expected.add(f"vgg_16/pool{block}")
        expected.update(f"vgg_16/conv{block}/conv{block}_{i}" for i in range(1, count + 1))
    assert set(end_points) == expected
    assert end_points["vgg_16/conv1/conv1_1"].shape == (1, 224, 224, 64)
    assert end_points["vgg_16/pool5"].shape == (1, 7, 7, 512)
    assert end_points["vgg_16/fc7"].shape == (1, 1, 1, 4096)
    assert end_points["vgg_16/fc8"].shape == (1, 10)


def test_vgg_fully_convolutional_global_pool_and_prelogits():
    images = tf.zeros([1, 256, 256, 3])
    dense = nets.create_model("vgg_a", num_classes=10, spatial_squeeze=False)
    assert dense(images)[0].shape == (1, 2, 2, 10)
    pooled = nets.create_model("vgg_a", num_classes=10, spatial_squeeze=False, global_pool=True)
    logits, end_points = pooled(images)
    assert logits.shape == (1, 1, 1, 10) and end_points["global_pool"].shape == (1, 1, 1, 4096)
    features, end_points = nets.create_model("vgg_a", num_classes=0)(tf.zeros([1, 224, 224, 3]))
    assert features.shape == (1, 1, 1, 4096)
    assert "vgg_a/fc8" not in end_points


def test_alexnet_shapes_variables_and_dropout():
    model = nets.create_model("alexnet_v2", num_classes=10)
    logits, end_points = model(tf.zeros([2, 224, 224, 3]), training=False)
    assert logits.shape == (2, 10)
    assert end_points["alexnet_v2/pool5"].shape == (2, 5, 5, 256)
    assert sorted(model.slim_variables()) == sorted(
        f"alexnet_v2/{layer}/{kind}" for layer in ("conv1", "conv2", "conv3", "conv4", "conv5",
                                                     "fc6", "fc7", "fc8")
        for kind in ("weights", "biases"))
    # No BatchNorm and no random op in eval mode: dropout_keep_prob=1 training == eval.
    kept = nets.create_model("alexnet_v2", num_classes=10, dropout_keep_prob=1.0)
    images = tf.random.stateless_uniform([1, 224, 224, 3], seed=(0, 1))
    np.testing.assert_allclose(kept(images, training=True)[0], kept(images, training=False)[0])


def test_registry():
    for name, size in (("vgg_a", 224), ("vgg_16", 224), ("vgg_19", 224), ("alexnet_v2", 224),
                       ("overfeat", 231)):
        spec = nets.get_spec(name)
        assert (spec.default_image_size, spec.num_classes, spec.checkpoint_num_classes) == (
            size, 1000, 1000)
        assert spec.preprocessing == "vgg" and spec.logits_scopes == (f"{name}/fc8",)
    assert "fc_conv_padding" in nets.get_spec("vgg_16").kwargs


def _parity(module_name, fn_name, arg_scope_name, size, prefix, **kwargs):
    tf_slim = oracle.import_tf_slim()
    module = importlib.import_module(f"tf_slim.nets.{module_name}")
    images = np.random.default_rng(0).standard_normal((1, size, size, 3)).astype(np.float32)

    def build(x):
        with tf_slim.arg_scope(getattr(module, arg_scope_name)()):
            return getattr(module, fn_name)(x, 6, is_training=False, **kwargs)

    ref_logits, ref_end_points = oracle.slim_reference(build, images, prefix)
    model = nets.create_model(fn_name, num_classes=6, **kwargs)
    model.ensure_built(size)
    report = nets.restore_slim_checkpoint(model, prefix)
    assert not report.missing and not report.unused
    logits, end_points = model(images, training=False)
    oracle.assert_close(ref_logits, logits.numpy(), "logits")
    assert set(ref_end_points) == set(end_points)
    oracle.compare_end_points(ref_end_points, end_points, sorted(ref_end_points))


def test_vgg_a_parity(ckpt_prefix):
    _parity("vgg", "vgg_a", "vgg_arg_scope", 224, ckpt_prefix)


def test_alexnet_v2_parity(ckpt_prefix):
    _parity("alexnet", "alexnet_v2", "alexnet_v2_arg_scope", 224, ckpt_prefix)


@pytest.mark.slow
def test_vgg_16_parity(ckpt_prefix):
    _parity("vgg", "vgg_16", "vgg_arg_scope", 224, ckpt_prefix)


@pytest.mark.slow
def test_vgg_19_parity(ckpt_prefix):
    _parity("vgg", "vgg_19", "vgg_arg_scope", 224, ckpt_prefix)


@pytest.mark.slow
def test_overfeat_parity(ckpt_prefix):
    _parity("overfeat", "overfeat", "overfeat_arg_scope", 231, ckpt_prefix)
