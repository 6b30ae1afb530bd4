"""I3D and S3D-G against slim's test figures and an inflated tf_slim Inception V1.

tf_slim has no video nets, so parity rests on (a) the end-point shapes of slim's
i3d_test.py / s3dg_test.py and (b) the inflation identity the I3D paper builds
on: put each Inception V1 kernel at the centre of its temporal extent (zeros
elsewhere; S3D-G's temporal convs the identity at the centre, biases zero) and a
clip of identical frames gives exactly Inception V1's logits. tf_slim's
inception_v1 is the oracle; its checkpoint names map one to one onto the video
nets' names (slim's I3D keeps Inception V1's names for that reason).
"""
import numpy as np
import pytest
import tensorflow as tf

from tests.trainer.nets import oracle
from trainer import nets
from trainer.nets import layers
from trainer.nets.s3dg import SelfGating

# s3dg_test.testBuildAndCheckAllEndPointsUptoMixed5c (batch 5, 64 frames, 224).
SHAPES_64x224 = {
    "Conv2d_1a_7x7": [5, 32, 112, 112, 64], "MaxPool_2a_3x3": [5, 32, 56, 56, 64],
    "Conv2d_2b_1x1": [5, 32, 56, 56, 64], "Conv2d_2c_3x3": [5, 32, 56, 56, 192],
    "MaxPool_3a_3x3": [5, 32, 28, 28, 192], "Mixed_3b": [5, 32, 28, 28, 256],
    "Mixed_3c": [5, 32, 28, 28, 480], "MaxPool_4a_3x3": [5, 16, 14, 14, 480],
    "Mixed_4b": [5, 16, 14, 14, 512], "Mixed_4c": [5, 16, 14, 14, 512],
    "Mixed_4d": [5, 16, 14, 14, 512], "Mixed_4e": [5, 16, 14, 14, 528],
    "Mixed_4f": [5, 16, 14, 14, 832], "MaxPool_5a_2x2": [5, 8, 7, 7, 832],
    "Mixed_5b": [5, 8, 7, 7, 832], "Mixed_5c": [5, 8, 7, 7, 1024],
}


def _traced_shapes(model, shape):
    """End-point shapes from tracing the graph only (no 64-frame compute on CPU)."""
    out = {}

    def run(x):
        logits, end_points = model(x, training=False)
        out.update({k: v.shape.as_list() for k, v in end_points.items()})
        return logits

    tf.function(run, autograph=False).get_concrete_function(tf.TensorSpec(shape, tf.float32))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", ["i3d", "s3dg"])
def test_end_point_shapes_match_slim_tests(name):
    shapes = _traced_shapes(nets.create_model(name), [5, 64, 224, 224, 3])
    assert {k: v for k, v in shapes.items() if k in SHAPES_64x224} == SHAPES_64x224
    assert set(shapes) == set(SHAPES_64x224) | {"Logits", "Predictions"}
    assert shapes["Logits"] == shapes["Predictions"] == [5, 1000]
    # testTenFrames / testHalfSizeImages; nets_factory_test's (5, 10, 112, 112) at 400.
    assert _traced_shapes(nets.create_model(name), [5, 10, 224, 224, 3])["Mixed_5c"] == \
        [5, 2, 7, 7, 1024]
    assert _traced_shapes(nets.create_model(name), [5, 64, 112, 112, 3])["Mixed_5c"] == \
        [5, 8, 4, 4, 1024]
    assert _traced_shapes(nets.create_model(name, num_classes=400),
                          [5, 10, 112, 112, 3])["Logits"] == [5, 400]


# Variable shapes under InceptionV1/ (None: the variable must not exist).
_I3D_VARIABLES = {
    "Conv2d_1a_7x7/weights": [7, 7, 7, 3, 64], "Conv2d_2c_3x3/weights": [3, 3, 3, 64, 192],
    "Mixed_5b/Branch_2/Conv2d_0b_3x3/weights": [3, 3, 3, 32, 128], "Logits/Conv2d_0c_1x1/biases": [400],
}
_S3DG_VARIABLES = {
    "Conv2d_1a_7x7/weights": [3, 7, 7, 3, 64], "Conv2d_2c_3x3/weights": [1, 3, 3, 64, 192],
    "Conv2d_2c_3x3/temporal/weights": [3, 1, 1, 192, 192], "Conv2d_2c_3x3/temporal/biases": [192],
    "Conv2d_2c_3x3/self_gating/transformer_W/weights": [1, 1, 1, 192, 192],
    "Mixed_4f/Branch_3/Conv2d_0b_1x1/self_gating/transformer_W/weights": [1, 1, 1, 128, 128],
    "Conv2d_2c_3x3/BatchNorm/beta": [192], "Conv2d_2c_3x3/temporal/BatchNorm/beta": None,
    # The gate follows a branch's last conv only.
    "Mixed_3b/Branch_1/Conv2d_0a_1x1/self_gating/transformer_W/weights": None,
}


@pytest.mark.parametrize("name, expected, forbidden", [
    ("i3d", _I3D_VARIABLES, ("gamma", "temporal", "gating")),  # plain 3-D convs, no gating
    ("s3dg", _S3DG_VARIABLES, ("gamma",)),
])
def test_variable_names_are_slims(name, expected, forbidden):
    model = nets.create_model(name, num_classes=400)
    model.ensure_built(32)
    shapes = {k.removeprefix("InceptionV1/"): v.shape.as_list() for k, v in model.slim_variables().items()}
    assert {k: shapes.get(k) for k in expected} == expected
    assert not [n for n in shapes if any(word in n for word in forbidden)]
    with pytest.raises(ValueError, match="5-D video"):
        model(tf.zeros([1, 32, 32, 3]))


def _inflate(name, value, my_shape):
    """A 2-D slim value as the centre tap of its 3-D counterpart."""
    if len(my_shape) != 5:
        return value
    kernel = np.zeros(my_shape, np.float32)
    kernel[my_shape[0] // 2] = value.reshape(my_shape[1:])
    return kernel


def _identity_temporal(shape):
    kernel = np.zeros(shape, np.float32)
    for channel in range(shape[3]):
        kernel[shape[0] // 2, 0, 0, channel, channel] = 1.0
    return kernel


@pytest.mark.slow
@pytest.mark.parametrize("name,kwargs", [("i3d", {}), ("s3dg", {"gating_startat": None})])
def test_static_clip_matches_inflated_tf_slim_inception_v1(name, kwargs, tmp_path):
    oracle.import_tf_slim()
    import tf_slim  # pylint: disable=import-outside-toplevel
    from tf_slim.nets import inception  # pylint: disable=import-outside-toplevel

    # 224: tf_slim's inception_v1 has a fixed 7x7 VALID pool (no global_pool).
    images = np.random.default_rng(2).uniform(-1, 1, (1, 224, 224, 3)).astype(np.float32)

    def build(x):
        with tf_slim.arg_scope(inception.inception_v1_arg_scope()):
            return inception.inception_v1(x, num_classes=7, is_training=False)

    prefix = str(tmp_path / "v1.ckpt")
    ref_logits, ref_end_points = oracle.slim_reference(build, images, prefix)
    reader = tf.train.load_checkpoint(prefix)

    model = nets.create_model(name, num_classes=7, **kwargs)
    clip = np.repeat(images[:, None], 4, axis=1)  # 4 identical frames
    model.ensure_built(32)
    for var_name, var in model.slim_variables().items():
        shape = var.shape.as_list()
        if "/temporal/" in var_name:
            var.assign(_identity_temporal(shape) if var_name.endswith("weights")
                       else np.zeros(shape, np.float32))
            continue
        # slim's 2-D inception_v1 names Mixed_5b's second Branch_2 conv "0a".
        slim_name = var_name.replace("Mixed_5b/Branch_2/Conv2d_0b_3x3",
                                     "Mixed_5b/Branch_2/Conv2d_0a_3x3")
        var.assign(_inflate(var_name, reader.get_tensor(slim_name), shape))
    logits, end_points = model(clip, training=False)
    oracle.assert_close(ref_logits, logits.numpy(), f"{name} logits")
    # Every frame of an end point is Inception V1's map at that point.
    for point in ("Conv2d_2c_3x3", "Mixed_3c", "Mixed_4f", "Mixed_5c"):
        for frame in range(end_points[point].shape[1]):
            oracle.assert_close(ref_end_points[point], end_points[point][:, frame].numpy(),
                                f"{name} {point} frame {frame}")


def test_self_gating_against_numpy():
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 1, (2, 3, 4, 4, 5)).astype(np.float32)
    gate = SelfGating("InceptionV1/Mixed_3b/Branch_0/Conv2d_0a_1x1", 5, layers.ArgScope())
    gate(x)
    w = rng.standard_normal((5, 5)).astype(np.float32)
    gate.transform.conv.kernel.assign(w.reshape(1, 1, 1, 5, 5))
    expected = x / (1.0 + np.exp(-(x.mean(axis=(1, 2, 3)) @ w)))[:, None, None, None, :]
    np.testing.assert_allclose(gate(x).numpy(), expected, rtol=1e-5)
    assert list(layers.collect_slim_variables(gate)) == [
        "InceptionV1/Mixed_3b/Branch_0/Conv2d_0a_1x1/self_gating/transformer_W/weights"]


def test_registry_facts():
    for name in ("i3d", "s3dg"):
        spec = nets.get_spec(name)
        assert (spec.default_image_size, spec.num_classes, spec.scope) == \
            (224, 1000, "InceptionV1")
    model = nets.create_model("s3dg", num_classes=0, temporal_conv_startat="Mixed_4b")
    features, _ = model(tf.zeros([1, 4, 64, 64, 3]))
    assert features.shape == (1, 1, 1, 1024)
    with pytest.raises(ValueError, match="first_temporal_kernel_size"):
        nets.create_model("i3d", first_temporal_kernel_size=2)
