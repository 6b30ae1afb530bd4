"""lenet_preprocessing against numpy (the factory's unknown-name error: test_registry_preprocessing)."""
import numpy as np
import pytest
import tensorflow as tf

from trainer import preprocessing


@pytest.mark.parametrize("height,width", [(8, 8), (40, 33)])
def test_lenet_crops_or_pads_then_scales(height, width):
    pixels = np.random.default_rng(height).integers(0, 256, (height, width, 1)).astype(np.uint8)
    out = preprocessing.get_preprocessing("lenet")(tf.constant(pixels), 28, 28).numpy()
    # resize_with_crop_or_pad: centre crop a larger side, zero-pad a smaller one.
    canvas = np.zeros((max(height, 28), max(width, 28), 1), np.float32)
    top, left = (canvas.shape[0] - height) // 2, (canvas.shape[1] - width) // 2
    canvas[top:top + height, left:left + width] = pixels
    ct, cl = (canvas.shape[0] - 28) // 2, (canvas.shape[1] - 28) // 2
    expected = (canvas[ct:ct + 28, cl:cl + 28] - 128.0) / 128.0
    assert out.dtype == np.float32 and out.shape == (28, 28, 1)
    np.testing.assert_array_equal(out, expected)
    # Training applies no distortion in slim's lenet preprocessing.
    train = preprocessing.get_preprocessing("lenet", is_training=True)(tf.constant(pixels), 28, 28)
    np.testing.assert_array_equal(train.numpy(), expected)
