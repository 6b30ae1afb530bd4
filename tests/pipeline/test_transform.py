"""Transform's preprocessing_fn: the same numbers as the training/serving image function."""
import numpy as np
import pytest
import tensorflow as tf

from tests.pipeline import helpers
from schemas import features
from trainer.image_ops import preprocess_encoded
from trainer.transform import preprocessing_fn


def test_preprocessing_fn_matches_image_ops_eagerly():
    items = helpers.digit_images(3)
    encoded = tf.constant([[helpers.encode(p)] for p, _ in items])
    labels = tf.constant([[l] for _, l in items], tf.int64)
    out = preprocessing_fn({features.ENCODED: encoded, features.LABEL: labels},
                           helpers.transform_config(helpers.LENET_GRAY))
    assert out[features.IMAGE_XF].shape == (3, 28, 28, 1)
    np.testing.assert_array_equal(out[features.LABEL_XF].numpy(), [l for _, l in items])
    for i, (pixels, _) in enumerate(items):
        expected = preprocess_encoded(tf.constant(helpers.encode(pixels)), helpers.LENET_GRAY, False)
        np.testing.assert_allclose(out[features.IMAGE_XF][i].numpy(), expected.numpy(), atol=1e-6)
    # lenet preprocessing: (x - 128) / 128 of the 28x28 upscaled digit, black background = -1.
    assert out[features.IMAGE_XF].numpy().min() == pytest.approx(-1.0)
    assert out[features.IMAGE_XF].numpy().max() <= 1.0


def test_preprocessing_fn_requires_image_spec():
    with pytest.raises(ValueError, match="train_config"):
        preprocessing_fn({features.ENCODED: tf.constant([[b""]])}, {})


def test_transform_graph_serves_without_label(tmp_path):
    """The graph written by tf.Transform runs on image bytes alone (as serving does)."""
    import tensorflow_transform as tft

    out_dir = helpers.write_transform_graph(str(tmp_path / "transform"))
    layer = tft.TFTransformOutput(out_dir).transform_features_layer()
    pixels, _ = helpers.digit_images(1, start=5)[0]
    jpeg = helpers.encode(pixels, "JPEG")
    result = layer({features.ENCODED: tf.constant([[jpeg]])})
    assert features.LABEL_XF not in result
    expected = preprocess_encoded(tf.constant(jpeg), helpers.LENET_GRAY, False)
    np.testing.assert_allclose(result[features.IMAGE_XF][0].numpy(), expected.numpy(), atol=1e-5)
