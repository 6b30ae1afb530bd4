"""NASNet-A and PNASNet against slim's test figures and tf_keras' NASNet port.

tf-slim's pip package has no NASNet, so the bar is the end-point tables of
slim's nasnet_test.py / pnasnet_test.py, the variable-name checks of those
tests, parameter counts (tf_keras.applications' NASNet is a port of slim's
graphs whose released weights were converted from slim's checkpoints, so its
variable shapes must equal ours), and one numerical oracle: Keras' NASNetMobile
with its reduction-cell pools switched to slim's SAME pooling (Keras zero-pads
them; everything else already matches slim) must give our logits once its
random weights and BN statistics are copied in by name.
"""
import re

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from tests.trainer.nets.oracle import assert_close
from trainer import nets
from trainer.nets import nasnet_utils


def _shapes(end_points):
    return {k: v.shape.as_list()[1:] for k, v in end_points.items()}


def _training_call_at_96(name):
    """A large net's training call on one 96x96 image: model, logits, end points, their shapes."""
    model = nets.create_model(name, is_training=True)
    logits, end_points = model(tf.random.uniform([1, 96, 96, 3]), training=True)
    return model, logits, end_points, _shapes(end_points)


def _num_elements(variables):
    return sum(int(np.prod(v.shape)) for v in variables)


def test_reduction_layers_and_registry():
    assert nasnet_utils.calc_reduction_layers(12, 2) == [4, 8]
    assert nasnet_utils.calc_reduction_layers(18, 2) == [6, 12]
    assert nasnet_utils.calc_reduction_layers(9, 2) == [3, 6]
    expected = {"nasnet_cifar": (32, 10, "cifarnet", "aux_11"),
                "nasnet_mobile": (224, 1001, "inception", "aux_7"),
                "nasnet_large": (331, 1001, "inception", "aux_11"),
                "pnasnet_mobile": (224, 1001, "inception", "aux_5"),
                "pnasnet_large": (331, 1001, "inception", "aux_7")}
    for name, (size, classes, preprocessing, aux) in expected.items():
        spec = nets.get_spec(name)
        assert (spec.default_image_size, spec.num_classes, spec.preprocessing) == \
            (size, classes, preprocessing)
        assert spec.scope == ""
        assert spec.logits_scopes == ("final_layer/FC", f"{aux}/aux_logits/FC")


# NASNets take seconds to build on CPU: the training-graph models are shared.
@pytest.fixture(scope="module")
def cifar_model():
    return nets.create_model("nasnet_cifar", is_training=True, weight_decay=5e-4,
                             current_step=tf.constant(0))


@pytest.fixture(scope="module")
def mobile_model():
    return nets.create_model("nasnet_mobile", is_training=True)


def test_nasnet_cifar_end_points_at_32(cifar_model):
    model = cifar_model
    logits, end_points = model(tf.random.uniform([1, 32, 32, 3]), training=True)
    expected = {"Stem": [32, 32, 96], "Reduction_Cell_0": [16, 16, 256],
                "Reduction_Cell_1": [8, 8, 512], "global_pool": [768], "AuxLogits": [10],
                "Logits": [10], "Predictions": [10]}
    for i in range(18):
        expected[f"Cell_{i}"] = [[32, 32, 192], [16, 16, 384], [8, 8, 768]][i // 6]
    assert _shapes(end_points) == expected
    assert logits.shape == (1, 10)
    variables = model.slim_variables()
    assert variables["l1_stem_3x3/weights"].shape == (3, 3, 3, 96)
    # nasnet_cifar_arg_scope: L2 on conv, separable (depthwise too) and FC weights.
    kernels = [v for k, v in variables.items() if k.endswith("weights")]
    assert any(k.endswith("depthwise_weights") for k in variables)
    expected = 5e-4 * sum(float(tf.nn.l2_loss(v)) for v in kernels)
    np.testing.assert_allclose(float(tf.add_n(model.losses)), expected, rtol=1e-4)
    # The eval graph has no aux head and never drops paths.
    eval_model = nets.create_model("nasnet_cifar", num_classes=0)
    features, end_points = eval_model(tf.zeros([1, 32, 32, 3]))
    assert features.shape == (1, 768)
    assert "AuxLogits" not in end_points and "Predictions" not in end_points


_MOBILE_SHAPES = {
    "Stem": [28, 28, 88], "Reduction_Cell_0": [14, 14, 352], "Reduction_Cell_1": [7, 7, 704],
    "global_pool": [1056], "AuxLogits": [1001], "Logits": [1001], "Predictions": [1001],
    **{f"Cell_{i}": [[28, 28, 264], [14, 14, 528], [7, 7, 1056]][i // 4] for i in range(12)}}


def test_nasnet_mobile_end_points_names_and_counts(mobile_model):
    model = mobile_model
    _, end_points = model(tf.random.uniform([1, 224, 224, 3]), training=True)
    assert _shapes(end_points) == _MOBILE_SHAPES
    variables = model.slim_variables()
    for name in ("conv0/weights", "conv0_bn/gamma", "cell_stem_0/1x1/weights",
                 "cell_stem_0/comb_iter_0/left/separable_5x5_1/depthwise_weights",
                 "cell_stem_0/comb_iter_0/left/bn_sep_5x5_2/moving_variance",
                 "cell_stem_1/path1_conv/weights", "cell_stem_1/final_path_bn/beta",
                 "cell_0/comb_iter_4/left/separable_3x3_2/pointwise_weights",
                 "reduction_cell_1/comb_iter_4/left/bn_sep_3x3_1/gamma",
                 "cell_11/beginning_bn/moving_mean", "aux_7/aux_logits/proj/weights",
                 "aux_7/aux_logits/aux_bn0/gamma", "aux_7/aux_logits/Conv/weights",
                 "aux_7/aux_logits/FC/biases", "final_layer/FC/weights"):
        assert name in variables, name
    assert variables["final_layer/FC/weights"].shape == (1056, 1001)
    assert variables["aux_7/aux_logits/Conv/weights"].shape == (4, 4, 128, 768)  # 14x14 map
    assert not [n for n in variables if n.endswith("biases") and "FC" not in n]
    # Without the aux head: exactly tf_keras NASNetMobile at 1001 classes.
    body = [v for k, v in variables.items() if not k.startswith("aux_7/")]
    assert _num_elements(body) == 5327773 and len(body) == 1126


def _keras_name(slim_name):
    """slim NASNet-A mobile variable name -> tf_keras NASNetMobile weight name."""
    scope, var = slim_name.rsplit("/", 1)
    var = {"weights": "kernel", "depthwise_weights": "depthwise_kernel",
           "pointwise_weights": "pointwise_kernel", "biases": "bias"}.get(var, var)
    fixed = {"conv0": "stem_conv1", "conv0_bn": "stem_bn1", "final_layer/FC": "predictions"}
    if scope in fixed:
        return f"{fixed[scope]}/{var}"
    cell, *rest = scope.split("/")
    if cell.startswith("cell_stem_"):
        kind, block = "reduction", f"stem_{int(cell[-1]) + 1}"
    elif cell.startswith("reduction_cell_"):
        kind, block = "reduction", f"reduce_{4 * (int(cell[-1]) + 1)}"
    else:
        index = int(cell.split("_")[1])
        kind, block = "normal", str(index if index < 4 else index + 1)
    layer = {"1x1": f"{kind}_conv_1", "beginning_bn": f"{kind}_bn_1",
             "path1_conv": "adjust_conv_1", "path2_conv": "adjust_conv_2",
             "final_path_bn": "adjust_bn", "prev_1x1": "adjust_conv_projection",
             "prev_bn": "adjust_bn"}.get("/".join(rest))
    if layer is None:
        comb, side, op = rest
        branch = {"normal": {"0left": "left1", "0right": "right1", "1left": "left2",
                             "1right": "right2", "4left": "left5"},
                  "reduction": {"0left": "left1", "0right": "right1", "1right": "right2",
                                "2right": "right3", "4left": "left4"}}[kind][comb[-1] + side]
        number = op[-1]
        bn = "_bn" if op.startswith("bn_sep") else ""
        layer = f"separable_conv_{number}{bn}_{kind}_{branch}"
    return f"{layer}_{block}/{var}"


def test_nasnet_mobile_matches_keras_port_with_same_pooling(mobile_model):
    size = 96
    kmodel = tf_keras.applications.NASNetMobile(input_shape=(size, size, 3), weights=None,
                                                classes=1001, classifier_activation=None)
    rng = np.random.default_rng(0)
    keras_vars = {w.name[:-2]: w for w in kmodel.weights}
    model = mobile_model
    images = tf.random.uniform([2, size, size, 3], -1.0, 1.0, seed=5)
    model(images[:1], training=False)  # builds the (training-graph) model if needed
    ours = {k: v for k, v in model.slim_variables().items() if not k.startswith("aux_7/")}
    assert len(ours) == len(keras_vars)
    for name, var in ours.items():
        keras_var = keras_vars[_keras_name(name)]
        if name.endswith(("gamma", "moving_variance")):
            keras_var.assign(rng.uniform(0.5, 1.5, keras_var.shape))
        elif name.endswith(("beta", "moving_mean", "biases")):
            keras_var.assign(0.1 * rng.standard_normal(keras_var.shape))
        var.assign(keras_var)
    logits = model(images, training=False)[0].numpy()
    # Why the reference is patched: slim's reduction cells pool with SAME padding
    # (nasnet_utils: max/avg pool 3x3 stride 2 'SAME', with avg pools counting only
    # real pixels), while the Keras port zero-pads first ('reduction_pad_1') and
    # pools VALID, so near the borders it max-pools / averages padded zeros. Unpatched,
    # the two graphs genuinely differ; the patch touches only those pools.
    unpatched = kmodel(images, training=False).numpy()
    for layer in kmodel.layers:
        if re.match(r"reduction_pad_1_", layer.name):
            layer.padding = ((0, 0), (0, 0))
        if re.match(r"reduction_(left2|left3|right5)_", layer.name):
            layer.padding = "same"
    expected = kmodel(images, training=False).numpy()
    assert_close(expected, logits, "logits vs patched tf_keras NASNetMobile")
    with pytest.raises(AssertionError, match="max abs diff"):
        assert_close(unpatched, logits, "logits vs unpatched tf_keras NASNetMobile")


def test_pnasnet_mobile_end_points_and_layers():
    model = nets.create_model("pnasnet_mobile", is_training=True)
    _, end_points = model(tf.random.uniform([1, 224, 224, 3]), training=True)
    expected = {"Stem": [28, 28, 135], "global_pool": [1080], "AuxLogits": [1001],
                "Predictions": [1001], "Logits": [1001],
                **{f"Cell_{i}": [[28, 28, 270], [14, 14, 540], [7, 7, 1080]][i // 3]
                   for i in range(9)}}
    assert _shapes(end_points) == expected and len(end_points) == 14
    variables = model.slim_variables()
    # pnasnet_test.testBuildNonExistingLayerMobileModel.
    assert "cell_stem_0/1x1/weights" in variables
    assert "cell_stem_1/comb_iter_0/right/1x1/weights" not in variables
    assert "cell_stem_0/comb_iter_0/right/1x1/weights" in variables  # 32 -> 13 filters
    # 54 filters / 4 = 13 in cell_stem_0: the odd factorized reduction of
    # cell_stem_1 (27 filters) gives path2 the extra filter.
    assert variables["cell_stem_1/path1_conv/weights"].shape[-1] == 13
    assert variables["cell_stem_1/path2_conv/weights"].shape[-1] == 14
    assert not any(n.startswith("reduction_cell") for n in variables)
    trainable = [v for k, v in variables.items()
                 if "moving_" not in k and not k.startswith("aux_")]
    assert abs(_num_elements(trainable) - 5.1e6) < 0.05e6  # "5.1M" (PNAS paper)


def test_drop_path_schedule():
    keep = nasnet_utils.drop_path_keep_prob(0.6, cell_num=5, total_num_cells=20,
                                            time_ratio=0.5)
    assert keep == pytest.approx(1 - 0.5 * (0.3 * 0.4))
    assert nasnet_utils.drop_path_keep_prob(0.7, 3, 22, 0.0) == pytest.approx(1.0)
    net = tf.ones([64, 2, 2, 3])
    dropped = nasnet_utils.drop_path(net, 0.5).numpy()
    per_example = dropped.reshape([64, -1])
    assert set(np.unique(per_example)) <= {0.0, 2.0}
    assert np.all(per_example.min(axis=1) == per_example.max(axis=1))
    assert 0 < np.count_nonzero(per_example[:, 0]) < 64


def test_drop_path_follows_current_step(cifar_model):
    model = cifar_model
    model.current_step = tf.constant(0)
    images = tf.random.uniform([2, 32, 32, 3], seed=7)
    # Step 0: keep probability 1 everywhere (and dense dropout is off for cifar).
    first, second = model(images)[0].numpy(), model(images)[0].numpy()
    np.testing.assert_allclose(first, second, rtol=1e-5, atol=1e-6)
    model.current_step = lambda: tf.constant(937500)  # fully ramped: paths drop
    outputs = [model(images)[0].numpy() for _ in range(3)]
    assert any(np.abs(o - first).max() > 1e-3 for o in outputs)
    eval_logits = model(images, training=False)[0].numpy()
    np.testing.assert_array_equal(eval_logits, model(images, training=False)[0].numpy())


def test_nasnet_save_restore_round_trip(tmp_path):
    model = nets.create_model("nasnet_mobile", is_training=True, num_classes=5)
    images = tf.random.uniform([2, 72, 72, 3], seed=2)
    model(images, training=True)  # builds the aux head too
    rng = np.random.default_rng(1)
    for var in model.slim_variables().values():
        var.assign(rng.uniform(0.5, 1.5, var.shape))
    expected = model(images, training=False)[0].numpy()
    prefix = nets.save_slim_checkpoint(model, str(tmp_path / "nasnet.ckpt"))
    restored = nets.create_model("nasnet_mobile", is_training=True, num_classes=5)
    restored.ensure_built(image_size=72)  # an eval call still creates aux_7
    report = nets.restore_slim_checkpoint(restored, prefix)
    assert not report.missing and not report.unused
    assert any(n.startswith("aux_7/") for n in report.restored)
    np.testing.assert_array_equal(restored(images, training=False)[0].numpy(), expected)


@pytest.mark.slow
def test_nasnet_large_small_input():
    model, logits, end_points, shapes = _training_call_at_96("nasnet_large")
    assert shapes["Stem"] == [12, 12, 336]
    assert shapes["Cell_5"] == [12, 12, 1008] and shapes["Reduction_Cell_0"] == [6, 6, 1344]
    assert shapes["Cell_11"] == [6, 6, 2016] and shapes["Reduction_Cell_1"] == [3, 3, 2688]
    assert shapes["Cell_17"] == [3, 3, 4032] and shapes["global_pool"] == [4032]
    assert shapes["AuxLogits"] == [1001] and logits.shape == (1, 1001)
    variables = model.slim_variables()
    body = [v for k, v in variables.items() if not k.startswith("aux_11/")]
    assert _num_elements(body) == 88953851  # = tf_keras NASNetLarge at 1001 classes
    assert "aux_11/aux_logits/FC/weights" in variables


@pytest.mark.slow
def test_pnasnet_large_small_input():
    model, logits, end_points, shapes = _training_call_at_96("pnasnet_large")
    assert shapes["Stem"] == [12, 12, 540]
    assert [shapes[f"Cell_{i}"] for i in (3, 4, 7, 8, 11)] == \
        [[12, 12, 1080], [6, 6, 2160], [6, 6, 2160], [3, 3, 4320], [3, 3, 4320]]
    assert shapes["global_pool"] == [4320] and shapes["AuxLogits"] == [1001]
    assert logits.shape == (1, 1001) and len(end_points) == 17
    variables = model.slim_variables()
    assert "cell_stem_1/comb_iter_0/right/1x1/weights" not in variables
    trainable = [v for k, v in variables.items()
                 if "moving_" not in k and not k.startswith("aux_")]
    assert abs(_num_elements(trainable) - 86.1e6) < 0.05e6  # "86.1M" (PNAS paper)
