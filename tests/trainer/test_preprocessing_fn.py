"""Transform's preprocessing_fn: the same numbers as the training/serving image function."""
import numpy as np
import pytest
import tensorflow as tf

from tests.pipeline import helpers
from schemas import features
from trainer.preprocessing.image_ops import preprocess_encoded
from trainer.preprocessing_fn import preprocessing_fn


def _bilinear_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Half-pixel-centre bilinear resampling (tf.image.resize's convention) as a matrix."""
    matrix = np.zeros((n_out, n_in))
    for out in range(n_out):
        x = (out + 0.5) * n_in / n_out - 0.5
        low = int(np.floor(x))
        weight = x - low
        matrix[out, min(max(low, 0), n_in - 1)] += 1.0 - weight
        matrix[out, min(max(low + 1, 0), n_in - 1)] += weight
    return matrix


def test_preprocessing_fn_matches_numpy_and_slims_lenet_constants():
    """Independent of the code under test: numpy resampling and slim's (x - 128) / 128."""
    items = helpers.digit_images(3)
    encoded = tf.constant([[helpers.encode(p)] for p, _ in items])
    labels = tf.constant([[label] for _, label in items], tf.int64)
    out = preprocessing_fn({features.ENCODED: encoded, features.LABEL: labels},
                           helpers.transform_config(helpers.LENET_GRAY))
    assert out[features.IMAGE_XF].shape == (3, 28, 28, 1)
    np.testing.assert_array_equal(out[features.LABEL_XF].numpy(), [label for _, label in items])
    resample = _bilinear_matrix(8, 28)
    for i, (pixels, _) in enumerate(items):
        # PNG is lossless: the 8x8 digit is resized to fit 28x28 (the spec's
        # resize_to_fit), then slim's lenet preprocessing scales it.
        upscaled = resample @ pixels.astype(np.float64) @ resample.T
        np.testing.assert_allclose(out[features.IMAGE_XF][i, ..., 0].numpy(),
                                   (upscaled - 128.0) / 128.0, atol=1e-5)


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
