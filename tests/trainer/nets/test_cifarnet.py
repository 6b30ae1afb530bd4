"""CifarNet against slim's nets/cifarnet.py (not in tf_slim, so no oracle run):
end points, shapes, variable names, initial biases, weight decay placement and
the layer order (pool → LRN → conv → LRN → pool) recomputed with raw TF ops."""
import numpy as np
import tensorflow as tf

from trainer import nets


def _model(**kwargs):
    model = nets.create_model("cifarnet", weight_decay=0.004, **kwargs)
    model.ensure_built()
    return model


def test_end_points_and_shapes():
    model = _model()
    logits, end_points = model(tf.zeros([3, 32, 32, 3]), training=False)
    shapes = {name: tuple(value.shape) for name, value in end_points.items()}
    assert shapes == {"conv1": (3, 32, 32, 64), "pool1": (3, 16, 16, 64),
                      "conv2": (3, 16, 16, 64), "pool2": (3, 8, 8, 64), "Flatten": (3, 4096),
                      "fc3": (3, 384), "fc4": (3, 192), "Logits": (3, 10),
                      "Predictions": (3, 10)}
    assert logits.shape == (3, 10)
    np.testing.assert_allclose(tf.reduce_sum(end_points["Predictions"], 1), np.ones(3), rtol=1e-6)


def test_variables_initial_biases_and_weight_decay():
    model = _model()
    variables = model.slim_variables()
    assert {name: tuple(v.shape) for name, v in variables.items()} == {
        "CifarNet/conv1/weights": (5, 5, 3, 64), "CifarNet/conv1/biases": (64,),
        "CifarNet/conv2/weights": (5, 5, 64, 64), "CifarNet/conv2/biases": (64,),
        "CifarNet/fc3/weights": (4096, 384), "CifarNet/fc3/biases": (384,),
        "CifarNet/fc4/weights": (384, 192), "CifarNet/fc4/biases": (192,),
        "CifarNet/logits/weights": (192, 10), "CifarNet/logits/biases": (10,)}
    np.testing.assert_array_equal(variables["CifarNet/fc3/biases"], np.full(384, 0.1, np.float32))
    np.testing.assert_array_equal(variables["CifarNet/logits/biases"], np.zeros(10))
    np.testing.assert_array_equal(variables["CifarNet/conv1/biases"], np.zeros(64))
    # trunc_normal(1/192) for logits vs 0.04 for fc layers: |w| <= 2 stddev.
    assert np.abs(variables["CifarNet/logits/weights"].numpy()).max() <= 2 / 192.0
    # cifarnet_arg_scope regularizes fc3/fc4 only (convs and logits have no L2).
    expected = sum(0.004 * 0.5 * np.sum(np.square(variables[f"CifarNet/{fc}/weights"].numpy()))
                   for fc in ("fc3", "fc4"))
    assert len(model.losses) == 2
    np.testing.assert_allclose(float(tf.add_n(model.losses)), expected, rtol=1e-5)


def test_forward_matches_slim_layer_order():
    model = _model()
    v = {name.split("/", 1)[1]: var for name, var in model.slim_variables().items()}
    images = tf.random.stateless_uniform([2, 32, 32, 3], seed=(5, 6))

    def conv(x, layer):
        return tf.nn.relu(tf.nn.conv2d(x, v[f"{layer}/weights"], 1, "SAME") + v[f"{layer}/biases"])

    def lrn(x):
        return tf.nn.lrn(x, 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75)

    net = lrn(tf.nn.max_pool2d(conv(images, "conv1"), 2, 2, "VALID"))
    net = tf.nn.max_pool2d(lrn(conv(net, "conv2")), 2, 2, "VALID")
    net = tf.reshape(net, [2, -1])
    net = tf.nn.relu(net @ v["fc3/weights"] + v["fc3/biases"])
    net = tf.nn.relu(net @ v["fc4/weights"] + v["fc4/biases"])
    expected = net @ v["logits/weights"] + v["logits/biases"]
    np.testing.assert_allclose(model(images, training=False)[0], expected, rtol=1e-4, atol=1e-5)


def test_prelogits_dropout_and_registry():
    features, end_points = _model(num_classes=0)(tf.zeros([2, 32, 32, 3]))
    assert features.shape == (2, 192) and "Logits" not in end_points
    model = _model(dropout_keep_prob=0.5)
    images = tf.random.stateless_uniform([4, 32, 32, 3], seed=(7, 8))
    fc4_train = model(images, training=True)[1]["fc4"]
    fc4_eval = model(images, training=False)[1]["fc4"]
    assert not np.allclose(fc4_train, fc4_eval)  # dropout3 is active only in training
    spec = nets.get_spec("cifarnet")
    assert (spec.default_image_size, spec.num_classes, spec.preprocessing, spec.scope) == (
        32, 10, "cifarnet", "CifarNet")
