"""MobileNet V1/V2/V3 against slim's test figures and tf_keras.applications.

tf-slim's pip package has no MobileNet, so the bar is (a) the golden figures of
slim's mobilenet_v1_test.py / mobilenet_v2_test.py / mobilenet_v3_test.py and
the mobilenet_v1.py docstring, and (b) a numerical oracle: tf_keras.applications'
MobileNet / MobileNetV2 / MobileNetV3 are independent implementations of the
same graphs (at input sizes divisible by 32 their explicit padding equals TF's
SAME), so their random weights and random BN statistics, copied in layer order
into our models, must give the same logits.
"""
import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from tests.trainer.nets.oracle import assert_close
from trainer import nets
from trainer.nets import layers

_ROLE = {"weights": 0, "depthwise_weights": 0, "biases": 1, "gamma": 2, "beta": 3,
         "moving_mean": 4, "moving_variance": 5}


def _num_elements(variables):
    return sum(int(np.prod(v.shape)) for v in variables)


def _ordered_by_layer(model):
    """Our variables in layer order; per layer kernel, bias, gamma, beta, mean, var."""
    groups = {}
    for name, var in model.slim_variables().items():
        layer_scope = name.rsplit("/", 1)[0].replace("/BatchNorm", "")
        groups.setdefault(layer_scope, []).append((_ROLE[name.rsplit("/", 1)[1]], var))
    return [var for group in groups.values() for _, var in sorted(group, key=lambda x: x[0])]


def _keras_ordered(kmodel, rng):
    """Keras weights in layer order, BN statistics and biases randomised first."""
    out = []
    for layer in kmodel.layers:
        if isinstance(layer, tf_keras.layers.BatchNormalization):
            n = layer.gamma.shape
            layer.gamma.assign(rng.uniform(0.5, 1.5, n))
            layer.beta.assign(0.1 * rng.standard_normal(n))
            layer.moving_mean.assign(0.1 * rng.standard_normal(n))
            layer.moving_variance.assign(rng.uniform(0.5, 1.5, n))
            out += [layer.gamma, layer.beta, layer.moving_mean, layer.moving_variance]
        elif isinstance(layer, (tf_keras.layers.Conv2D, tf_keras.layers.DepthwiseConv2D,
                                tf_keras.layers.Dense)):
            for weight in layer.weights:
                if "bias" in weight.name:
                    weight.assign(0.1 * rng.standard_normal(weight.shape))
            out += layer.weights
    return out


def _check_against_keras(model, kmodel, size, rel=1e-4):
    images = tf.random.uniform([2, size, size, 3], -1.0, 1.0, seed=3)
    model(images[:1], training=False)
    ours = _ordered_by_layer(model)
    theirs = _keras_ordered(kmodel, np.random.default_rng(0))
    assert len(ours) == len(theirs)
    for mine, keras_var in zip(ours, theirs):
        value = keras_var.numpy()
        if value.ndim == 2:  # Dense kernel vs slim's 1x1 logits conv
            value = value.reshape([1, 1] + list(value.shape))
        assert list(value.shape) == mine.shape.as_list(), (keras_var.name, mine.name)
        mine.assign(value)
    expected = kmodel(images, training=False).numpy().reshape([2, -1])
    logits, _ = model(images, training=False)
    assert_close(expected, logits.numpy(), "logits vs tf_keras.applications", rel=rel)


# ---------------------------------------------------------------- MobileNet V1

_V1_SHAPES_224 = {  # grouped by spatial size
    "Conv2d_0": [112, 112, 32], "Conv2d_1_depthwise": [112, 112, 32], "Conv2d_1_pointwise": [112, 112, 64],
    "Conv2d_2_depthwise": [56, 56, 64], "Conv2d_2_pointwise": [56, 56, 128], "Conv2d_3_depthwise": [56, 56, 128],
    "Conv2d_3_pointwise": [56, 56, 128],
    "Conv2d_4_depthwise": [28, 28, 128], "Conv2d_4_pointwise": [28, 28, 256], "Conv2d_5_depthwise": [28, 28, 256],
    "Conv2d_5_pointwise": [28, 28, 256],
    "Conv2d_6_depthwise": [14, 14, 256], "Conv2d_6_pointwise": [14, 14, 512], "Conv2d_7_depthwise": [14, 14, 512],
    "Conv2d_7_pointwise": [14, 14, 512], "Conv2d_8_depthwise": [14, 14, 512], "Conv2d_8_pointwise": [14, 14, 512],
    "Conv2d_9_depthwise": [14, 14, 512], "Conv2d_9_pointwise": [14, 14, 512], "Conv2d_10_depthwise": [14, 14, 512],
    "Conv2d_10_pointwise": [14, 14, 512], "Conv2d_11_depthwise": [14, 14, 512], "Conv2d_11_pointwise": [14, 14, 512],
    "Conv2d_12_depthwise": [7, 7, 512], "Conv2d_12_pointwise": [7, 7, 1024], "Conv2d_13_depthwise": [7, 7, 1024],
    "Conv2d_13_pointwise": [7, 7, 1024],
}


def _base_end_points(end_points):
    return {k: v.shape.as_list()[1:] for k, v in end_points.items() if k.startswith("Conv2d_")}


@pytest.mark.parametrize("explicit", [False, True])
def test_v1_end_points_and_shapes_at_224(explicit):
    model = nets.create_model("mobilenet_v1", use_explicit_padding=explicit)
    logits, end_points = model(tf.zeros([1, 224, 224, 3]))
    assert _base_end_points(end_points) == _V1_SHAPES_224
    assert end_points["AvgPool_1a"].shape == (1, 1, 1, 1024)
    assert logits.shape == (1, 1000) and end_points["Predictions"].shape == (1, 1000)
    assert model.default_image_size == 224


def test_v1_parameter_count_matches_slim_test_and_docstring():
    model = nets.create_model("mobilenet_v1", num_classes=0)
    model(tf.zeros([1, 64, 64, 3]))
    variables = model.slim_variables()
    base = {k: v for k, v in variables.items() if "/Logits/" not in k}
    assert base == variables  # num_classes=0: no logits layer
    # testModelHasExpectedNumberOfParameters counts under plain slim.batch_norm
    # (no gamma); the released net adds gamma (scale=True) to every BN.
    no_gamma = [v for k, v in base.items() if not k.endswith("gamma")]
    assert _num_elements(no_gamma) == 3217920
    gammas = [v for k, v in base.items() if k.endswith("gamma")]
    assert _num_elements(gammas) == 32832 // 3
    kernels = [v for k, v in base.items() if k.endswith("weights")]
    assert _num_elements(kernels) == 3185088  # docstring table total


def test_v1_depth_multiplier_075_at_128():
    model = nets.create_model("mobilenet_v1_075", num_classes=0)
    _, end_points = model(tf.zeros([1, 128, 128, 3]))
    expected = {k: [s[0] * 128 // 224, s[1] * 128 // 224, int(s[2] * 0.75)]
                for k, s in _V1_SHAPES_224.items()}
    assert _base_end_points(end_points) == expected
    assert end_points["Conv2d_0"].shape == (1, 64, 64, 24)
    assert end_points["Conv2d_13_pointwise"].shape == (1, 4, 4, 768)
    kernels = [v for k, v in model.slim_variables().items() if k.endswith("weights")]
    assert _num_elements(kernels) == 1800144  # docstring's 75% table


@pytest.mark.parametrize("output_stride,from_layer,size", [(16, 12, 14), (8, 6, 28)])
def test_v1_output_stride(output_stride, from_layer, size):
    model = nets.create_model("mobilenet_v1", num_classes=0, output_stride=output_stride)
    _, end_points = model(tf.zeros([1, 224, 224, 3]))
    for name, shape in _V1_SHAPES_224.items():
        layer = int(name.split("_")[1])
        got = end_points[name].shape.as_list()[1:]
        if layer >= from_layer:
            assert got == [size, size, shape[2]], name
        else:
            assert got == shape, name


def test_v1_sizes_global_pool_and_squeeze():
    model = nets.create_model("mobilenet_v1", num_classes=0, global_pool=True)
    _, end_points = model(tf.zeros([1, 250, 300, 3]))
    assert end_points["Conv2d_13_pointwise"].shape == (1, 8, 10, 1024)
    assert end_points["global_pool"].shape == (1, 1, 1, 1024)
    small = nets.create_model("mobilenet_v1", num_classes=25, spatial_squeeze=False)
    logits, end_points = small(tf.zeros([1, 112, 112, 3]))
    assert end_points["Conv2d_13_pointwise"].shape == (1, 4, 4, 1024)
    assert logits.shape == (1, 1, 1, 25)
    with pytest.raises(ValueError):
        nets.create_model("mobilenet_v1", depth_multiplier=0.0)


def test_v1_checkpoint_names():
    model = nets.create_model("mobilenet_v1", num_classes=1001)
    model(tf.zeros([1, 32, 32, 3]))
    names = set(model.slim_variables())
    for name in ("MobilenetV1/Conv2d_0/weights", "MobilenetV1/Conv2d_0/BatchNorm/gamma",
                 "MobilenetV1/Conv2d_0/BatchNorm/moving_variance",
                 "MobilenetV1/Conv2d_1_depthwise/depthwise_weights",
                 "MobilenetV1/Conv2d_13_pointwise/weights",
                 "MobilenetV1/Logits/Conv2d_1c_1x1/biases"):
        assert name in names
    assert model.slim_variables()["MobilenetV1/Logits/Conv2d_1c_1x1/weights"].shape == \
        (1, 1, 1024, 1001)
    assert not any(n.endswith("depthwise/biases") for n in names)


def test_v1_matches_keras_mobilenet():
    model = nets.create_model("mobilenet_v1_050", num_classes=1001)
    kmodel = tf_keras.applications.MobileNet(input_shape=(128, 128, 3), alpha=0.5, weights=None,
                                             classes=1001, classifier_activation=None)
    _check_against_keras(model, kmodel, 128)


# ---------------------------------------------------------------- MobileNet V2


def test_v2_logits_end_points_and_names():
    model = nets.create_model("mobilenet_v2")
    logits, end_points = model(tf.zeros([1, 224, 224, 3]))
    assert logits.shape == (1, 1001) and end_points["Predictions"].shape == (1, 1001)
    assert end_points["layer_19"].shape == (1, 7, 7, 1280)
    assert end_points["global_pool"].shape == (1, 1, 1, 1280)
    for i in range(2, 17):
        assert f"layer_{i}/depthwise_output" in end_points
    assert "layer_2/expansion_output" not in end_points  # first block has no expand
    variables = model.slim_variables()
    for name in ("MobilenetV2/Conv/weights", "MobilenetV2/Conv/BatchNorm/gamma",
                 "MobilenetV2/expanded_conv/depthwise/depthwise_weights",
                 "MobilenetV2/expanded_conv/project/weights",
                 "MobilenetV2/expanded_conv_1/expand/weights",
                 "MobilenetV2/expanded_conv_16/project/BatchNorm/moving_mean",
                 "MobilenetV2/Conv_1/BatchNorm/gamma",
                 "MobilenetV2/Logits/Conv2d_1c_1x1/biases"):
        assert name in variables, name
    assert "MobilenetV2/expanded_conv/expand/weights" not in variables
    assert "MobilenetV2/expanded_conv_17/project/weights" not in variables
    assert variables["MobilenetV2/Conv_1/weights"].shape == (1, 1, 320, 1280)
    # 3.54M variables with BN statistics (= tf_keras MobileNetV2 at 1001
    # classes); 3.51M trainable ("3.4 M parameters" in slim's docstring).
    assert _num_elements(variables.values()) == 3540265
    trainable = [v for k, v in variables.items() if "moving_" not in k]
    assert _num_elements(trainable) == 3506153


@pytest.mark.parametrize("size,out", [(224, 7), (192, 6), (160, 5), (128, 4), (96, 3)])
def test_v2_image_sizes(size, out):
    model = nets.create_model("mobilenet_v2", num_classes=0)
    features, end_points = model(tf.zeros([1, size, size, 3]))
    assert end_points["layer_18/output"].shape[1:3] == (out, out)
    assert features.shape == (1, 1, 1, 1280)


def _conv_widths(model, channels=3):
    model(tf.zeros([1, 64, 64, channels]))
    return {v.shape[-1] for k, v in model.slim_variables().items() if k.endswith("/weights")}


def test_v2_depth_arguments_as_slim_tests():
    assert _conv_widths(nets.create_model("mobilenet_v2", divisible_by=16, min_depth=32)) == \
        {32, 64, 96, 160, 192, 320, 384, 576, 960, 1280, 1001}
    assert _conv_widths(nets.create_model("mobilenet_v2", depth_multiplier=0.1,
                                          min_depth=32)) == {32, 192, 128, 1001}
    assert _conv_widths(nets.create_model("mobilenet_v2", depth_multiplier=0.01,
                                          finegrain_classification_mode=True)) == \
        {8, 48, 1001, 1280}


@pytest.mark.parametrize("name,conv_1", [("mobilenet_v2_140", 1792), ("mobilenet_v2_050", 1280),
                                         ("mobilenet_v2_035", 1280)])
def test_v2_multiplier_variants(name, conv_1):
    model = nets.create_model(name)
    logits, end_points = model(tf.zeros([1, 96, 96, 3]))
    assert logits.shape == (1, 1001)
    assert end_points["layer_19"].shape[-1] == conv_1


@pytest.mark.parametrize("output_stride,size", [(16, 14), (8, 28)])
@pytest.mark.parametrize("explicit", [False, True])
def test_v2_output_stride(output_stride, size, explicit):
    model = nets.create_model("mobilenet_v2", num_classes=0, output_stride=output_stride,
                              use_explicit_padding=explicit, depth_multiplier=0.35)
    _, end_points = model(tf.zeros([1, 224, 224, 3]))
    assert end_points["layer_19"].shape[1:3] == (size, size)


def test_v2_matches_keras_mobilenet_v2():
    model = nets.create_model("mobilenet_v2", num_classes=1001)
    kmodel = tf_keras.applications.MobileNetV2(input_shape=(96, 96, 3), weights=None,
                                               classes=1001, classifier_activation=None)
    _check_against_keras(model, kmodel, 96)


def test_v2_training_mode_updates_bn_and_weight_decay():
    model = nets.create_model("mobilenet_v2_035", is_training=True, weight_decay=0.00004,
                              num_classes=5)
    images = tf.random.uniform([4, 64, 64, 3], seed=1)
    model(images)
    mean = model.slim_variables()["MobilenetV2/Conv/BatchNorm/moving_mean"]
    assert np.any(mean.numpy() != 0.0)
    # L2 on conv weights only (training_scope: none on depthwise weights).
    conv_kernels = [v for k, v in model.slim_variables().items() if k.endswith("/weights")]
    expected = 0.00004 * sum(float(tf.nn.l2_loss(v)) for v in conv_kernels)
    np.testing.assert_allclose(float(tf.add_n(model.losses)), expected, rtol=1e-5)


def test_v2_save_restore_round_trip(tmp_path):
    model = nets.create_model("mobilenet_v2_035", num_classes=7)
    images = tf.random.uniform([2, 64, 64, 3], seed=2)
    model(images)
    for var in model.slim_variables().values():
        var.assign(tf.random.uniform(var.shape, 0.5, 1.5, seed=4))
    expected = model(images)[0].numpy()
    prefix = nets.save_slim_checkpoint(model, str(tmp_path / "mnv2.ckpt"))
    restored = nets.create_model("mobilenet_v2_035", num_classes=7)
    report = nets.restore_slim_checkpoint(restored, prefix)
    assert not report.missing and not report.unused
    assert len(report.restored) == len(model.slim_variables())
    np.testing.assert_array_equal(restored(images)[0].numpy(), expected)


# ---------------------------------------------------------------- MobileNet V3


def test_v3_large_and_small_end_points():
    large = nets.create_model("mobilenet_v3_large")
    logits, end_points = large(tf.zeros([1, 224, 224, 3]))
    assert logits.shape == (1, 1001)
    assert end_points["layer_17"].shape == (1, 7, 7, 960)
    assert end_points["layer_19"].shape == (1, 1, 1, 1280)
    assert "layer_20" not in end_points
    small = nets.create_model("mobilenet_v3_small")
    logits, end_points = small(tf.zeros([1, 224, 224, 3]))
    assert end_points["layer_15"].shape == (1, 1, 1, 1024)
    assert logits.shape == (1, 1001)


def test_v3_variable_names_and_counts():
    model = nets.create_model("mobilenet_v3_large")
    model(tf.zeros([1, 64, 64, 3]))
    variables = model.slim_variables()
    for name in ("MobilenetV3/Conv/BatchNorm/gamma",
                 "MobilenetV3/expanded_conv/depthwise/depthwise_weights",
                 "MobilenetV3/expanded_conv_3/squeeze_excite/Conv/weights",
                 "MobilenetV3/expanded_conv_3/squeeze_excite/Conv/biases",
                 "MobilenetV3/expanded_conv_3/squeeze_excite/Conv_1/weights",
                 "MobilenetV3/expanded_conv_14/project/BatchNorm/beta",
                 "MobilenetV3/Conv_1/BatchNorm/moving_variance",
                 "MobilenetV3/Conv_2/weights", "MobilenetV3/Conv_2/biases",
                 "MobilenetV3/Logits/Conv2d_1c_1x1/weights"):
        assert name in variables, name
    assert "MobilenetV3/expanded_conv/expand/weights" not in variables
    assert "MobilenetV3/expanded_conv_2/squeeze_excite/Conv/weights" not in variables
    assert "MobilenetV3/Conv_2/BatchNorm/beta" not in variables
    assert variables["MobilenetV3/expanded_conv_3/squeeze_excite/Conv/weights"].shape == \
        (1, 1, 72, 24)
    # Equal to tf_keras.applications MobileNetV3Large/Small at 1001 classes.
    assert _num_elements(variables.values()) == 5508713
    small = nets.create_model("mobilenet_v3_small")
    small(tf.zeros([1, 64, 64, 3]))
    assert _num_elements(small.slim_variables().values()) == 2555993


@pytest.mark.parametrize("name,keras_fn", [
    ("mobilenet_v3_small", tf_keras.applications.MobileNetV3Small),
    ("mobilenet_v3_large", tf_keras.applications.MobileNetV3Large)])
def test_v3_matches_keras_mobilenet_v3(name, keras_fn):
    model = nets.create_model(name)
    kmodel = keras_fn(input_shape=(96, 96, 3), weights=None, classes=1001,
                      include_preprocessing=False, classifier_activation=None)
    # slim gates squeeze-excite with relu6(x + 3) * 0.16667, Keras with / 6: the
    # difference stays far below the parity bar.
    _check_against_keras(model, kmodel, 96)


def test_v3_hard_swish_and_gate():
    x = tf.constant([-4.0, -3.0, -1.0, 0.0, 1.5, 3.0, 5.0])
    from trainer.nets import mobilenet_common as common
    np.testing.assert_allclose(common.hard_swish(x).numpy(),
                               x.numpy() * np.clip(x.numpy() + 3, 0, 6) / 6, rtol=1e-6)
    np.testing.assert_allclose(common.hard_sigmoid_gate(x).numpy(),
                               np.clip(x.numpy() + 3, 0, 6) * 0.16667, rtol=1e-6)


def test_registry_facts():
    for name in ("mobilenet_v1", "mobilenet_v1_075", "mobilenet_v1_050", "mobilenet_v1_025"):
        spec = nets.get_spec(name)
        assert (spec.num_classes, spec.checkpoint_num_classes) == (1000, 1001)
        assert spec.logits_scopes == ("MobilenetV1/Logits",)
    for name in ("mobilenet_v2", "mobilenet_v2_140", "mobilenet_v2_050", "mobilenet_v2_035",
                 "mobilenet_v3_small", "mobilenet_v3_large"):
        spec = nets.get_spec(name)
        assert spec.num_classes == 1001 and spec.default_image_size == 224
        assert spec.preprocessing == "inception"
    assert isinstance(layers.FreshInitializer("zeros"), tf_keras.initializers.Initializer)
