"""MobileNet V3 minimalistic and MobilenetEdgeTPU (slim mobilenet_v3.py).

Minimalistic: numerical parity with tf_keras.applications.MobileNetV3*(
minimalistic=True), an independent implementation of the same graphs. EdgeTPU
has no oracle: the bar is slim's mobilenet_v3_test (``layer_24`` is [1,7,7,1280]
at 224, scope ``MobilenetEdgeTPU``) and the multiply-accumulate counts of slim's
mobilenet README (990M for dm=1, 624M for dm=0.75), which pin every layer's
kernel, stride and width; the V3 large rows (217M, 209M minimalistic) check the
counter itself.
"""
import pytest
import tensorflow as tf
import tf_keras

from tests.trainer.nets.test_mobilenet import _check_against_keras
from trainer import nets


@pytest.mark.parametrize("name,keras_fn", [
    ("mobilenet_v3_small_minimalistic", tf_keras.applications.MobileNetV3Small),
    ("mobilenet_v3_large_minimalistic", tf_keras.applications.MobileNetV3Large)])
def test_minimalistic_matches_keras(name, keras_fn):
    model = nets.create_model(name)
    kmodel = keras_fn(input_shape=(96, 96, 3), weights=None, classes=1001, minimalistic=True,
                      include_preprocessing=False, classifier_activation=None)
    _check_against_keras(model, kmodel, 96)
    names = set(model.slim_variables())
    assert not [n for n in names if "squeeze_excite" in n]
    assert "MobilenetV3/Conv_2/biases" in names


def _macs(model, size=224):
    """Multiply-accumulates of every conv in the traced graph (no compute)."""
    fn = tf.function(lambda x: model(x, training=False)[0], autograph=False)
    graph = fn.get_concrete_function(tf.TensorSpec([1, size, size, 3])).graph
    total = 0
    for op in graph.get_operations():
        if op.type in ("Conv2D", "DepthwiseConv2dNative"):
            _, height, width, _ = op.outputs[0].shape.as_list()
            kh, kw, cin, cout = op.inputs[1].shape.as_list()  # cout: multiplier if depthwise
            total += height * width * kh * kw * cin * cout
    return total


@pytest.mark.parametrize("name,mmacs", [
    ("mobilenet_edgetpu", 990), ("mobilenet_edgetpu_075", 624),
    ("mobilenet_v3_large", 217), ("mobilenet_v3_large_minimalistic", 209)])
def test_multiply_accumulates_match_slim_readme(name, mmacs):
    assert abs(_macs(nets.create_model(name)) / 1e6 - mmacs) < 1.0


def test_edgetpu_end_points_and_names():
    model = nets.create_model("mobilenet_edgetpu")
    logits, end_points = model(tf.zeros([1, 224, 224, 3]))
    assert end_points["layer_24"].shape == (1, 7, 7, 1280)
    assert "layer_25" not in end_points and logits.shape == (1, 1001)
    # Fused blocks: the k x k strided conv is 'expand', there is no depthwise.
    assert "layer_3/expansion_output" in end_points
    assert "layer_3/depthwise_output" not in end_points
    assert end_points["layer_3/expansion_output"].shape == (1, 56, 56, 128)
    assert "layer_11/depthwise_output" in end_points
    shapes = {k: v.shape.as_list() for k, v in model.slim_variables().items()}
    assert shapes["MobilenetEdgeTPU/Conv/weights"] == [3, 3, 3, 32]
    # 32 -> 32 at factor 1: slim skips the expansion, leaving a 1x1 projection.
    assert "MobilenetEdgeTPU/expanded_conv/expand/weights" not in shapes
    assert shapes["MobilenetEdgeTPU/expanded_conv/project/weights"] == [1, 1, 32, 16]
    assert shapes["MobilenetEdgeTPU/expanded_conv_1/expand/weights"] == [3, 3, 16, 128]
    assert shapes["MobilenetEdgeTPU/expanded_conv_9/depthwise/depthwise_weights"] == \
        [3, 3, 384, 1]
    assert shapes["MobilenetEdgeTPU/Conv_1/weights"] == [1, 1, 192, 1280]
    assert "MobilenetEdgeTPU/Conv_1/BatchNorm/gamma" in shapes
    assert not [n for n in shapes if "squeeze_excite" in n or n.startswith("MobilenetV3")]


def test_edgetpu_075_keeps_the_head_wide():
    model = nets.create_model("mobilenet_edgetpu_075")
    _, end_points = model(tf.zeros([1, 64, 64, 3]))
    assert end_points["layer_1"].shape[-1] == 24
    assert end_points["layer_24"].shape[-1] == 1280  # finegrain_classification_mode


def test_registry_facts():
    for name, scope in (("mobilenet_v3_small_minimalistic", "MobilenetV3"),
                        ("mobilenet_v3_large_minimalistic", "MobilenetV3"),
                        ("mobilenet_edgetpu", "MobilenetEdgeTPU"),
                        ("mobilenet_edgetpu_075", "MobilenetEdgeTPU")):
        spec = nets.get_spec(name)
        assert (spec.default_image_size, spec.num_classes, spec.preprocessing) == \
            (224, 1001, "inception")
        assert spec.scope == scope and spec.logits_scopes == (f"{scope}/Logits",)
