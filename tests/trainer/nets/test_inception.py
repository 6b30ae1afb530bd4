"""Inception v1/v2/v3/v4 and Inception-ResNet-v2 against slim.

Numerical parity with tf_slim.nets.inception (v1, v2, v3) through restored
slim checkpoints; the golden shape tables and parameter counts of slim's
inception_v3/v4/inception_resnet_v2 unit tests; the fine-tuning restore path.
"""
import shutil

import numpy as np
import pytest
import tensorflow as tf

from tests.trainer.nets import oracle
from trainer import nets


@pytest.fixture
def ckpt_prefix(tmp_path):
    yield str(tmp_path / "ckpt" / "model.ckpt")
    shutil.rmtree(tmp_path / "ckpt", ignore_errors=True)


def _count(variables) -> int:
    return sum(int(np.prod(v.shape)) for v in variables)


# (net, input size, end points compared). Sizes are small but keep slim's
# small-input logic in play: v2 at 128 pools 4x4 (AvgPool_1a_4x4); v3 at 160
# has a 2x2 aux map, so the checkpoint holds AuxLogits/Conv2d_2a_2x2.
PARITY = [
    ("inception_v1", 224, ["Conv2d_1a_7x7", "MaxPool_3a_3x3", "Mixed_3b", "Mixed_4f",
                           "Mixed_5c", "Predictions"]),
    ("inception_v2", 128, ["Conv2d_1a_7x7", "Mixed_3b", "Mixed_4a", "Mixed_5c",
                           "Predictions"]),
    ("inception_v3", 160, ["Conv2d_4a_3x3", "Mixed_5c", "Mixed_6a", "Mixed_6e", "Mixed_7b",
                           "Mixed_7c", "AuxLogits", "PreLogits", "Predictions"]),
]


@pytest.mark.parametrize("name,size,end_points", PARITY, ids=[p[0] for p in PARITY])
def test_parity_with_tf_slim(name, size, end_points, ckpt_prefix):
    oracle.import_tf_slim()
    from tf_slim.nets import inception  # pylint: disable=import-outside-toplevel
    import tf_slim  # pylint: disable=import-outside-toplevel

    images = np.random.default_rng(1).uniform(-1, 1, (2, size, size, 3)).astype(np.float32)

    def build(x):
        with tf_slim.arg_scope(getattr(inception, f"{name}_arg_scope")()):
            return getattr(inception, name)(x, num_classes=10, is_training=False)

    ref_logits, ref_end_points = oracle.slim_reference(build, images, ckpt_prefix)

    model = nets.create_model(name, num_classes=10)
    model(tf.zeros([1, size, size, 3]), training=False)
    report = nets.restore_slim_checkpoint(model, ckpt_prefix)
    ckpt_names = set(tf.train.load_checkpoint(ckpt_prefix).get_variable_to_shape_map())
    assert not report.missing and not report.unused
    assert sorted(report.restored) == sorted(model.slim_variables()) == sorted(ckpt_names)

    logits, got = model(images, training=False)
    oracle.assert_close(ref_logits, logits.numpy(), f"{name} logits")
    oracle.compare_end_points(ref_end_points, got, end_points)
    # Every slim end point exists here (we add AvgPool_1a/PreLogits as newer slim).
    assert set(ref_end_points) <= set(got)


def test_inception_v2_first_layer_is_separable_without_batch_norm():
    # slim's inception arg_scope covers conv2d only (tensorflow/models#4843).
    model = nets.create_model("inception_v2", num_classes=10, weight_decay=4e-5)
    model(tf.zeros([1, 64, 64, 3]))
    names = {n: v.shape.as_list() for n, v in model.slim_variables().items()}
    first = {n: s for n, s in names.items() if n.startswith("InceptionV2/Conv2d_1a_7x7/")}
    assert first == {"InceptionV2/Conv2d_1a_7x7/depthwise_weights": [7, 7, 3, 8],
                     "InceptionV2/Conv2d_1a_7x7/pointwise_weights": [1, 1, 24, 64],
                     "InceptionV2/Conv2d_1a_7x7/biases": [64]}
    conv_weights = [n for n in names if n.endswith("/weights")]
    assert len(model.losses) == len(conv_weights)  # no L2 on the separable conv


V3_BASE_SHAPES = {  # slim inception_v3_test testBuildAndCheckAllEndPointsUptoMixed7c
    "Conv2d_1a_3x3": [149, 149, 32], "Conv2d_2a_3x3": [147, 147, 32],
    "Conv2d_2b_3x3": [147, 147, 64], "MaxPool_3a_3x3": [73, 73, 64],
    "Conv2d_3b_1x1": [73, 73, 80], "Conv2d_4a_3x3": [71, 71, 192],
    "MaxPool_5a_3x3": [35, 35, 192], "Mixed_5b": [35, 35, 256], "Mixed_5c": [35, 35, 288],
    "Mixed_5d": [35, 35, 288], "Mixed_6a": [17, 17, 768], "Mixed_6b": [17, 17, 768],
    "Mixed_6c": [17, 17, 768], "Mixed_6d": [17, 17, 768], "Mixed_6e": [17, 17, 768],
    "Mixed_7a": [8, 8, 1280], "Mixed_7b": [8, 8, 2048], "Mixed_7c": [8, 8, 2048],
}


def test_inception_v3_golden_end_points_and_parameter_count():
    model = nets.create_model("inception_v3", num_classes=0, weight_decay=4e-5)
    features, end_points = model(tf.zeros([1, 299, 299, 3]), training=False)
    assert features.shape == (1, 1, 1, 2048)
    assert set(end_points) == set(V3_BASE_SHAPES) | {"AvgPool_1a"}
    for name, shape in V3_BASE_SHAPES.items():
        assert end_points[name].shape.as_list() == [1] + shape, name
    variables = model.slim_variables()
    # testModelHasExpectedNumberOfParameters: base model variables (no gamma).
    assert _count(variables.values()) == 21_802_784
    assert not [n for n in variables if n.endswith("gamma")]
    assert len(model.losses) == len([n for n in variables if n.endswith("/weights")])


def test_inception_v3_fine_tune_restore_excluding_logits(ckpt_prefix):
    source = nets.create_model("inception_v3", num_classes=1001)
    logits, end_points = source(tf.zeros([1, 299, 299, 3]), training=False)
    assert logits.shape == (1, 1001) and end_points["AuxLogits"].shape == (1, 1001)
    assert end_points["PreLogits"].shape == (1, 1, 1, 2048)
    assert end_points["Predictions"].shape == (1, 1001)
    assert source.slim_variables()["InceptionV3/AuxLogits/Conv2d_2a_5x5/weights"].shape == (
        5, 5, 128, 768)
    nets.save_slim_checkpoint(source, ckpt_prefix)

    spec = nets.get_spec("inception_v3")
    assert spec.checkpoint_num_classes == 1001
    target = nets.create_model("inception_v3", num_classes=5)
    target.ensure_built()
    with pytest.raises(nets.CheckpointMismatchError, match=r"\[1001\].*\[5\]"):
        nets.restore_slim_checkpoint(target, ckpt_prefix)
    fresh = {n: v.numpy() for n, v in target.slim_variables().items()
             if n.startswith(spec.logits_scopes)}
    report = nets.restore_slim_checkpoint(target, ckpt_prefix, exclude_scopes=spec.logits_scopes)

    assert sorted(report.excluded) == sorted(fresh)
    assert {n.split("/")[1] for n in fresh} == {"Logits", "AuxLogits"}
    assert not report.missing and not report.unused
    source_vars = source.slim_variables()
    assert sorted(report.restored) == sorted(set(source_vars) - set(fresh))
    for name in report.restored[::25]:
        np.testing.assert_array_equal(target.slim_variables()[name].numpy(),
                                      source_vars[name].numpy())
    for name, value in fresh.items():  # excluded heads keep their fresh initial values
        np.testing.assert_array_equal(target.slim_variables()[name].numpy(), value)
    assert target.slim_variables()["InceptionV3/Logits/Conv2d_1c_1x1/weights"].shape == (
        1, 1, 2048, 5)
    logits, end_points = target(tf.zeros([2, 299, 299, 3]), training=False)
    assert logits.shape == (2, 5) and end_points["AuxLogits"].shape == (2, 5)


def test_inception_v3_small_input_depth_multiplier_and_training_mode():
    model = nets.create_model("inception_v3", num_classes=3, depth_multiplier=0.5)
    images = tf.random.uniform([2, 107, 107, 3], seed=3)
    logits, end_points = model(images, training=False)
    assert logits.shape == (2, 3)
    assert end_points["Conv2d_1a_3x3"].shape[-1] == 16
    assert end_points["Mixed_7c"].shape.as_list() == [2, 2, 2, 1024]
    assert end_points["Mixed_6e"].shape.as_list() == [2, 5, 5, 384]
    variables = model.slim_variables()
    assert "InceptionV3/AuxLogits/Conv2d_2a_1x1/weights" in variables
    # Same-shaped convs get independent initial draws (one shared arg-scope
    # initializer instance must not repeat its values).
    assert not np.array_equal(variables["InceptionV3/Mixed_6b/Branch_0/Conv2d_0a_1x1/weights"],
                              variables["InceptionV3/Mixed_6c/Branch_0/Conv2d_0a_1x1/weights"])
    # Training mode updates BatchNorm moving stats with slim's decay 0.9997.
    mean = variables["InceptionV3/Conv2d_1a_3x3/BatchNorm/moving_mean"]
    before = mean.numpy().copy()
    _, end_points = model(images, training=True)
    batch_conv = model.stages[0].conv(images)
    batch_mean = tf.reduce_mean(batch_conv, axis=[0, 1, 2]).numpy()
    np.testing.assert_allclose(mean.numpy(), 0.9997 * before + 0.0003 * batch_mean,
                               rtol=1e-5, atol=1e-6)
    for bad in (0.0, -0.1):
        with pytest.raises(ValueError, match="depth_multiplier"):
            nets.create_model("inception_v3", depth_multiplier=bad)


def test_inception_v1_global_pool_and_unsqueezed_logits():
    model = nets.create_model("inception_v1", num_classes=4, global_pool=True,
                              spatial_squeeze=False)
    logits, end_points = model(tf.zeros([1, 256, 320, 3]))
    assert end_points["Mixed_5c"].shape.as_list() == [1, 8, 10, 1024]
    assert end_points["global_pool"].shape.as_list() == [1, 1, 1, 1024]
    assert logits.shape == (1, 1, 1, 4)


V4_SHAPES = {  # slim inception_v4_test testAllEndPointsShapes (batch 1, 10 classes)
    "Conv2d_1a_3x3": [149, 149, 32], "Conv2d_2a_3x3": [147, 147, 32],
    "Conv2d_2b_3x3": [147, 147, 64], "Mixed_3a": [73, 73, 160], "Mixed_4a": [71, 71, 192],
    "Mixed_5a": [35, 35, 384], "Mixed_5b": [35, 35, 384], "Mixed_5c": [35, 35, 384],
    "Mixed_5d": [35, 35, 384], "Mixed_5e": [35, 35, 384], "Mixed_6a": [17, 17, 1024],
    "Mixed_6b": [17, 17, 1024], "Mixed_6c": [17, 17, 1024], "Mixed_6d": [17, 17, 1024],
    "Mixed_6e": [17, 17, 1024], "Mixed_6f": [17, 17, 1024], "Mixed_6g": [17, 17, 1024],
    "Mixed_6h": [17, 17, 1024], "Mixed_7a": [8, 8, 1536], "Mixed_7b": [8, 8, 1536],
    "Mixed_7c": [8, 8, 1536], "Mixed_7d": [8, 8, 1536], "AuxLogits": [10],
    "global_pool": [1, 1, 1536], "PreLogitsFlatten": [1536], "Logits": [10],
    "Predictions": [10],
}


@pytest.mark.slow
def test_inception_v4_golden_end_points_and_names():
    model = nets.create_model("inception_v4", num_classes=10)
    _, end_points = model(tf.zeros([1, 299, 299, 3]), training=False)
    assert set(end_points) == set(V4_SHAPES)
    for name, shape in V4_SHAPES.items():
        assert end_points[name].shape.as_list() == [1] + shape, name
    shapes = {n: v.shape.as_list() for n, v in model.slim_variables().items()}
    # Names as listed from the released checkpoint (tensorflow/models#929).
    for name in ("InceptionV4/Mixed_7d/Branch_2/Conv2d_0e_3x1/BatchNorm/moving_mean",
                 "InceptionV4/Mixed_7b/Branch_3/Conv2d_0b_1x1/BatchNorm/beta",
                 "InceptionV4/Mixed_7c/Branch_1/Conv2d_0a_1x1/weights"):
        assert name in shapes
    assert shapes["InceptionV4/AuxLogits/Conv2d_2a/weights"] == [5, 5, 128, 768]
    assert shapes["InceptionV4/AuxLogits/Aux_logits/weights"] == [768, 10]
    assert shapes["InceptionV4/Logits/Logits/weights"] == [1536, 10]
    assert not [n for n in shapes if n.endswith(("gamma", "Conv2d_0a_1x1/biases"))]
    # slim's tests and the paper give no parameter count. Intel's Open Model Zoo lists slim's
    # inception_v4 checkpoint (frozen to Predictions, so without the aux head; BN folded, so
    # conv weights + beta) at 42.648 MParams, which is the 1000-class count: the 10-class
    # trainable variables without AuxLogits plus 990 more logits rows (1536 weights + bias).
    trainable = sum(int(np.prod(v.shape)) for n, v in model.slim_variables().items()
                    if v.trainable and "/AuxLogits/" not in n)
    assert trainable == 42_649_769 - 991 * 1537  # the 1001-class figure the README gives
    assert round((trainable + 990 * 1537) / 1e6, 3) == 42.648


IRV2_SHAPES = {  # slim inception_resnet_v2_test (batch 1, 10 classes)
    "Conv2d_1a_3x3": [149, 149, 32], "Conv2d_2a_3x3": [147, 147, 32],
    "Conv2d_2b_3x3": [147, 147, 64], "MaxPool_3a_3x3": [73, 73, 64],
    "Conv2d_3b_1x1": [73, 73, 80], "Conv2d_4a_3x3": [71, 71, 192],
    "MaxPool_5a_3x3": [35, 35, 192], "Mixed_5b": [35, 35, 320], "Mixed_6a": [17, 17, 1088],
    "PreAuxLogits": [17, 17, 1088], "Mixed_7a": [8, 8, 2080], "Conv2d_7b_1x1": [8, 8, 1536],
    "AuxLogits": [10], "global_pool": [1, 1, 1536], "PreLogitsFlatten": [1536],
    "Logits": [10], "Predictions": [10],
}


@pytest.mark.slow
def test_inception_resnet_v2_golden_end_points_names_and_count():
    model = nets.create_model("inception_resnet_v2", num_classes=10, weight_decay=4e-5)
    _, end_points = model(tf.zeros([1, 299, 299, 3]), training=False)
    assert set(end_points) == set(IRV2_SHAPES)
    for name, shape in IRV2_SHAPES.items():
        assert end_points[name].shape.as_list() == [1] + shape, name
    variables = model.slim_variables()
    shapes = {n: v.shape.as_list() for n, v in variables.items()}
    for name in ("InceptionResnetV2/Repeat/block35_10/Branch_2/Conv2d_0c_3x3/weights",
                 "InceptionResnetV2/Repeat_1/block17_20/Branch_1/Conv2d_0b_1x7/BatchNorm/beta",
                 "InceptionResnetV2/Repeat_2/block8_9/Conv2d_1x1/biases",
                 "InceptionResnetV2/Block8/Conv2d_1x1/biases",
                 "InceptionResnetV2/Conv2d_7b_1x1/BatchNorm/moving_variance"):
        assert name in shapes
    assert not [n for n in shapes if "block35_11" in n or "block17_21" in n or "block8_10" in n]
    assert shapes["InceptionResnetV2/AuxLogits/Conv2d_2a_5x5/weights"] == [5, 5, 128, 768]
    assert shapes["InceptionResnetV2/AuxLogits/Logits/weights"] == [768, 10]
    assert shapes["InceptionResnetV2/Logits/Logits/weights"] == [1536, 10]
    assert not [n for n in shapes if n.endswith("gamma")]
    # Base (up to Conv2d_7b_1x1) = tf_keras.applications.InceptionResNetV2 without
    # top, a port of the same slim graph: 54,336,736 values.
    base = [v for n, v in variables.items()
            if not n.startswith(("InceptionResnetV2/Logits", "InceptionResnetV2/AuxLogits"))]
    assert _count(base) == 54_336_736
    # inception_resnet_v2_arg_scope puts L2 on biases as well as weights.
    regularized = [n for n in shapes if n.endswith(("/weights", "/biases"))]
    assert len(model.losses) == len(regularized)


def _creation_order(variable: tf.Variable) -> int:
    # Eager variables end their _unique_id in a process-wide counter (ops.uid()).
    return int(variable._unique_id.rsplit("_", 1)[1])  # pylint: disable=protected-access


@pytest.mark.slow
def test_inception_resnet_v2_parity_with_keras_applications_port():
    """tf_slim has no inception_resnet_v2; tf_keras.applications' InceptionResNetV2
    is a port of the same slim graph (built in the same layer order), so equal
    weights must give equal Conv2d_7b_1x1 features."""
    import tf_keras  # pylint: disable=import-outside-toplevel

    size = 107
    model = nets.create_model("inception_resnet_v2", num_classes=0)
    model(tf.zeros([1, size, size, 3]))
    reference = tf_keras.applications.InceptionResNetV2(include_top=False, weights=None,
                                                        input_shape=(size, size, 3))
    ours = sorted(model.variables, key=_creation_order)
    theirs = sorted(reference.variables, key=_creation_order)
    assert [v.shape for v in ours] == [v.shape for v in theirs]
    rng = np.random.default_rng(0)
    for mine, other in zip(ours, theirs):
        if "moving_variance" in other.name:  # random BN statistics: BN is not an identity
            value = rng.uniform(0.5, 1.5, other.shape)
        elif any(k in other.name for k in ("moving_mean", "beta", "bias")):
            value = 0.1 * rng.standard_normal(other.shape)
        else:
            value = other.numpy()
        other.assign(value.astype(np.float32))
        mine.assign(value.astype(np.float32))
    images = np.random.default_rng(1).uniform(-1, 1, (2, size, size, 3)).astype(np.float32)
    _, end_points = model(images, training=False)
    oracle.assert_close(reference(images, training=False).numpy(),
                        end_points["Conv2d_7b_1x1"].numpy(), "Conv2d_7b_1x1")
