"""ResNet v1/v2 against slim: resnet_utils goldens (resnet_v1_test.py), end points,
variable names, atrous == dense, and numerical parity with tf_slim.nets."""
import importlib
import shutil

import numpy as np
import pytest
import tensorflow as tf

from tests.trainer.nets import oracle
from trainer import nets
from trainer.nets import layers, resnet_utils


@pytest.fixture
def ckpt_prefix(tmp_path):
    yield str(tmp_path / "slim" / "model.ckpt")
    shutil.rmtree(tmp_path / "slim", ignore_errors=True)


def _test_input(n: int) -> tf.Tensor:
    """slim's create_test_input(1, n, n, 1): pixel (i, j) = i + j."""
    return tf.constant((np.arange(n)[:, None] + np.arange(n)[None, :]).reshape(1, n, n, 1),
                       tf.float32)


def _conv_layers_with_test_kernel(x):
    kernel = (np.arange(3)[:, None] + np.arange(3)[None, :]).reshape(3, 3, 1, 1)
    sc = layers.ArgScope()  # slim.conv2d defaults: relu, biases, no BN
    dense = sc.conv2d(1, 3, scope="Conv")
    same = resnet_utils.Conv2dSame(sc, 1, 3, stride=2, scope="Conv")
    plain = sc.conv2d(1, 3, stride=2, scope="Conv")
    for layer, conv in ((dense, dense.conv), (same, same.conv.conv), (plain, plain.conv)):
        layer(x)
        conv.kernel.assign(kernel.astype(np.float32))
    return dense, same, plain


def test_subsample_golden():
    x = tf.reshape(tf.range(9.0), [1, 3, 3, 1])
    np.testing.assert_array_equal(resnet_utils.subsample(x, 2)[0, :, :, 0], [[0, 2], [6, 8]])
    x = tf.reshape(tf.range(16.0), [1, 4, 4, 1])
    np.testing.assert_array_equal(resnet_utils.subsample(x, 2)[0, :, :, 0], [[0, 2], [8, 10]])


def test_conv2d_same_even_golden():
    x = _test_input(4)
    dense, same, plain = _conv_layers_with_test_kernel(x)
    y1 = dense(x)
    np.testing.assert_array_equal(y1[0, :, :, 0], [[14, 28, 43, 26], [28, 48, 66, 37],
                                                   [43, 66, 84, 46], [26, 37, 46, 22]])
    y2 = resnet_utils.subsample(y1, 2)
    np.testing.assert_array_equal(y2[0, :, :, 0], [[14, 43], [43, 84]])
    np.testing.assert_array_equal(same(x), y2)
    # TF's own SAME padding with stride 2 pads the other side: different numbers.
    np.testing.assert_array_equal(plain(x)[0, :, :, 0], [[48, 37], [37, 22]])


def test_conv2d_same_odd_all_methods_agree():
    x = _test_input(5)
    dense, same, plain = _conv_layers_with_test_kernel(x)
    y2 = resnet_utils.subsample(dense(x), 2)
    np.testing.assert_array_equal(y2[0, :, :, 0], [[14, 43, 34], [43, 84, 55], [34, 55, 30]])
    np.testing.assert_array_equal(same(x), y2)
    np.testing.assert_array_equal(plain(x), y2)


def test_plan_blocks_moves_strides_into_atrous_rates():
    from trainer.nets.resnet_v1 import resnet_v1_blocks
    blocks = resnet_v1_blocks(50)
    dense = resnet_utils.plan_blocks(blocks)
    assert [[u.stride for u in b.units] for b in dense] == [[1, 1, 2], [1, 1, 1, 2],
                                                            [1] * 5 + [2], [1, 1, 1]]
    # output_stride 8 → 2 after the root block: block1 keeps its stride, later ones go atrous.
    atrous = resnet_utils.plan_blocks(blocks, output_stride=2)
    assert [[u.stride for u in b.units] for b in atrous] == [[1, 1, 2], [1] * 4, [1] * 6, [1] * 3]
    assert [[u.rate for u in b.units] for b in atrous] == [[1, 1, 1], [1, 1, 1, 1],
                                                           [2] * 6, [4] * 3]
    with pytest.raises(ValueError, match="cannot be reached"):
        resnet_utils.plan_blocks(blocks, output_stride=16)
    with pytest.raises(ValueError, match="multiple of 4"):
        nets.create_model("resnet_v1_50", output_stride=6)


def test_resnet_v1_50_end_points_and_block_shapes():
    model = nets.create_model("resnet_v1_50", num_classes=10)
    logits, end_points = model(tf.zeros([1, 224, 224, 3]), training=False)
    assert logits.shape == (1, 10)
    expected = {"resnet_v1_50/conv1", "resnet_v1_50/logits", "resnet_v1_50/spatial_squeeze",
                "global_pool", "predictions"}
    for block, units in enumerate((3, 4, 6, 3), start=1):
        expected.add(f"resnet_v1_50/block{block}")
        expected.add(f"resnet_v1_50/block{block}/unit_1/bottleneck_v1/shortcut")
        for unit in range(1, units + 1):
            unit_scope = f"resnet_v1_50/block{block}/unit_{unit}/bottleneck_v1"
            expected.add(unit_scope)
            expected.update(f"{unit_scope}/conv{i}" for i in (1, 2, 3))
    assert set(end_points) == expected
    shapes = {name: end_points[name].shape.as_list() for name in end_points}
    assert shapes["resnet_v1_50/conv1"] == [1, 112, 112, 64]
    assert shapes["resnet_v1_50/block1"] == [1, 28, 28, 256]
    assert shapes["resnet_v1_50/block2"] == [1, 14, 14, 512]
    assert shapes["resnet_v1_50/block3"] == [1, 7, 7, 1024]
    assert shapes["resnet_v1_50/block4"] == [1, 7, 7, 2048]
    assert shapes["global_pool"] == [1, 1, 1, 2048]
    assert shapes["resnet_v1_50/logits"] == [1, 1, 1, 10]
    assert shapes["predictions"] == [1, 10]
    variables = model.slim_variables()
    assert len(variables) == 267
    assert variables["resnet_v1_50/logits/weights"].shape == (1, 1, 2048, 10)
    assert "resnet_v1_50/block1/unit_1/bottleneck_v1/conv2/BatchNorm/gamma" in variables
    assert "resnet_v1_50/block1/unit_2/bottleneck_v1/shortcut/weights" not in variables


def test_resnet_v2_variable_names():
    model = nets.create_model("resnet_v2_50", num_classes=5)
    model.ensure_built(32)
    variables = model.slim_variables()
    assert len(variables) == 272
    unit = "resnet_v2_50/block1/unit_1/bottleneck_v2"
    for name in ("resnet_v2_50/conv1/weights", "resnet_v2_50/conv1/biases",
                 f"{unit}/preact/gamma", f"{unit}/preact/moving_variance",
                 f"{unit}/shortcut/biases", f"{unit}/conv1/BatchNorm/gamma", f"{unit}/conv3/biases",
                 "resnet_v2_50/postnorm/beta", "resnet_v2_50/postnorm/gamma",
                 "resnet_v2_50/logits/biases"):
        assert name in variables, name
    for name in ("resnet_v2_50/conv1/BatchNorm/beta", f"{unit}/conv3/BatchNorm/beta",
                 f"{unit}/shortcut/BatchNorm/beta"):
        assert name not in variables, name


def test_registry_and_prelogits():
    for version, ckpt_classes in (("v1", 1000), ("v2", 1001)):
        for depth in (50, 101, 152, 200):
            spec = nets.get_spec(f"resnet_{version}_{depth}")
            assert (spec.default_image_size, spec.preprocessing) == (224, "vgg")
            assert spec.checkpoint_num_classes == ckpt_classes
            assert spec.logits_scopes == (f"resnet_{version}_{depth}/logits",)
    model = nets.create_model("resnet_v2_50", num_classes=0)
    features, end_points = model(tf.zeros([2, 64, 64, 3]))
    assert features.shape == (2, 1, 1, 2048)
    assert "predictions" not in end_points and "resnet_v2_50/logits" not in end_points


def _small_v1(**kwargs):
    # depth_multiplier keeps slim's structure (and root conv) at a fraction of the cost.
    return nets.create_model("resnet_v1_50", num_classes=0, global_pool=False,
                             depth_multiplier=0.125, min_base_depth=1, **kwargs)


def _randomize(model, seed=0):
    rng = np.random.default_rng(seed)
    for name, var in sorted(model.slim_variables().items()):
        shape = var.shape.as_list()
        if name.endswith(("moving_variance", "gamma")):
            var.assign(rng.uniform(0.5, 1.5, shape).astype(np.float32))
        elif name.endswith(("moving_mean", "beta", "biases")):
            var.assign(0.1 * rng.standard_normal(shape).astype(np.float32))


def test_fully_convolutional_spatial_sizes():
    for output_stride, sizes in ((None, (41, 21, 11, 11)), (8, (41, 41, 41, 41))):
        model = _small_v1(output_stride=output_stride)
        _, end_points = model(tf.zeros([1, 321, 321, 3]))
        assert tuple(end_points[f"resnet_v1_50/block{b}"].shape[1] for b in (1, 2, 3, 4)) == sizes


def _plain_and_variant(size: int, **variant_kwargs):
    """A small resnet_v1_50 with random weights and a variant of it holding the same weights."""
    plain = _small_v1()
    plain.ensure_built(size)
    _randomize(plain)
    variant = _small_v1(**variant_kwargs)
    variant.ensure_built(size)
    for name, var in variant.slim_variables().items():
        var.assign(plain.slim_variables()[name])
    return plain, variant


@pytest.mark.parametrize("output_stride", [8, 16])
def test_atrous_equals_dense(output_stride):
    images = tf.random.stateless_uniform([2, 81, 81, 3], seed=(1, 2))
    dense, atrous = _plain_and_variant(81, output_stride=output_stride)
    expected = dense(images, training=False)[0]
    output = resnet_utils.subsample(atrous(images, training=False)[0], 32 // output_stride)
    assert expected.shape == (2, 3, 3, 256)
    oracle.assert_close(expected.numpy(), output.numpy(), f"output_stride={output_stride}")


def test_store_non_strided_activations():
    images = tf.random.stateless_uniform([1, 64, 64, 3], seed=(3, 4))
    plain, wide = _plain_and_variant(64, store_non_strided_activations=True)
    expected, plain_eps = plain(images, training=False)
    output, wide_eps = wide(images, training=False)
    oracle.assert_close(expected.numpy(), output.numpy(), "final features")
    assert plain_eps["resnet_v1_50/block1"].shape[1] == 8
    assert wide_eps["resnet_v1_50/block1"].shape[1] == 16


def _parity(version: str, depth: int, images: np.ndarray, prefix: str, **kwargs):
    tf_slim = oracle.import_tf_slim()
    module = importlib.import_module(f"tf_slim.nets.resnet_{version}")
    slim_fn = getattr(module, f"resnet_{version}_{depth}")

    def build(x):
        with tf_slim.arg_scope(module.resnet_arg_scope()):
            return slim_fn(x, 6, is_training=False, **kwargs)

    ref_logits, ref_end_points = oracle.slim_reference(build, images, prefix)
    # tf_slim's copy predates spatial_squeeze: its logits are [B, 1, 1, C].
    model = nets.create_model(f"resnet_{version}_{depth}", num_classes=6, spatial_squeeze=False,
                              **kwargs)
    model.ensure_built(images.shape[1])
    report = nets.restore_slim_checkpoint(model, prefix)
    assert not report.missing and not report.unused
    logits, end_points = model(images, training=False)
    oracle.assert_close(ref_logits, logits.numpy(), "logits")
    assert set(ref_end_points) <= set(end_points)
    oracle.compare_end_points(ref_end_points, end_points, sorted(ref_end_points))


def test_resnet_v1_50_parity(ckpt_prefix):
    images = np.random.default_rng(0).standard_normal((2, 64, 64, 3)).astype(np.float32)
    _parity("v1", 50, images, ckpt_prefix)


def test_resnet_v2_50_atrous_parity(ckpt_prefix):
    images = np.random.default_rng(1).standard_normal((2, 65, 65, 3)).astype(np.float32)
    _parity("v2", 50, images, ckpt_prefix, global_pool=False, output_stride=16)


@pytest.mark.slow
def test_resnet_v1_101_parity(ckpt_prefix):
    images = np.random.default_rng(2).standard_normal((1, 64, 64, 3)).astype(np.float32)
    _parity("v1", 101, images, ckpt_prefix)


# The rest of tf_slim's ResNets. 32x32 keeps the forward pass trivial (block4 is
# 1x1); the time goes to building, initialising and saving slim's variables.
@pytest.mark.slow
@pytest.mark.parametrize("version,depth", [("v1", 152), ("v1", 200), ("v2", 101),
                                           ("v2", 152), ("v2", 200)])
def test_deep_resnet_parity(version, depth, ckpt_prefix):
    images = np.random.default_rng(depth).standard_normal((1, 32, 32, 3)).astype(np.float32)
    _parity(version, depth, images, ckpt_prefix)
