"""vgg_preprocessing and cifarnet_preprocessing against slim's math computed by hand."""
import numpy as np
import pytest
import tensorflow as tf

from trainer import preprocessing
from trainer.preprocessing import cifarnet, vgg

MEANS = np.array([123.68, 116.78, 103.94])


def _image(height, width, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def _resize_bilinear_tf1(image, out_h, out_w):
    """TF1 resize_bilinear(align_corners=False): source = dst * in/out, no half-pixel shift.

    Source positions in float32 like the kernel: at 0..255 pixel values their
    rounding alone moves results by ~1e-2.
    """
    in_h, in_w = image.shape[:2]
    ys = np.arange(out_h, dtype=np.float32) * np.float32(in_h / out_h)
    xs = np.arange(out_w, dtype=np.float32) * np.float32(in_w / out_w)
    y0 = np.floor(ys).astype(int)
    x0 = np.floor(xs).astype(int)
    y1 = np.minimum(y0 + 1, in_h - 1)
    x1 = np.minimum(x0 + 1, in_w - 1)
    dy = (ys - y0).astype(np.float64)[:, None, None]
    dx = (xs - x0).astype(np.float64)[None, :, None]
    img = image.astype(np.float64)
    top = img[y0][:, x0] * (1 - dx) + img[y0][:, x1] * dx
    bottom = img[y1][:, x0] * (1 - dx) + img[y1][:, x1] * dx
    return top * (1 - dy) + bottom * dy


@pytest.mark.parametrize("shape,resized", [((300, 400), (256, 341)), ((400, 300), (341, 256))])
def test_vgg_eval_equals_hand_computed(shape, resized):
    image = _image(*shape)
    # smaller side → 256, the other rint(side * 256 / smaller): 400 * 256 / 300 = 341.33 → 341.
    big = _resize_bilinear_tf1(image, *resized)
    top, left = (resized[0] - 224) // 2, (resized[1] - 224) // 2
    expected = big[top:top + 224, left:left + 224] - MEANS
    actual = preprocessing.get_preprocessing("vgg_16", is_training=False)(image, 224, 224)
    assert actual.dtype == tf.float32 and actual.shape == (224, 224, 3)
    np.testing.assert_allclose(actual.numpy(), expected, atol=1e-3)


def test_vgg_eval_grayscale_and_graph_mode():
    image = _image(260, 270, seed=1)
    gray = vgg.preprocess_image(image, 224, 224, use_grayscale=True)
    assert gray.shape == (224, 224, 1)
    rgb_plus_means = vgg.preprocess_image(image, 224, 224).numpy() + MEANS
    expected_gray = tf.image.rgb_to_grayscale(rgb_plus_means).numpy() - MEANS @ [0.2989, 0.587, 0.114]
    np.testing.assert_allclose(gray.numpy(), expected_gray, atol=1e-2)
    # Unknown spatial size, as inside tf.data.
    fn = tf.function(lambda x: vgg.preprocess_image(x, 224, 224),
                     input_signature=[tf.TensorSpec([None, None, 3], tf.uint8)])
    np.testing.assert_allclose(fn(image), vgg.preprocess_image(image, 224, 224), atol=1e-4)


def test_vgg_train_shape_and_constant_image():
    fn = preprocessing.get_preprocessing("resnet_v1_50", is_training=True)
    out = fn(_image(300, 350, seed=2), 224, 224)
    assert out.shape == (224, 224, 3) and out.dtype == tf.float32
    assert out.numpy().min() >= -MEANS.max() - 1e-3 and out.numpy().max() <= 255 - MEANS.min()
    # Whatever scale, crop and flip are drawn, a constant colour stays constant (0..255 scale).
    colour = np.array([200, 100, 50], np.uint8)
    out = fn(np.tile(colour, (300, 350, 1)), 224, 224)
    np.testing.assert_allclose(out.numpy(), np.broadcast_to(colour - MEANS, (224, 224, 3)),
                               atol=1e-3)


def _standardize(x):
    return (x - x.mean()) / max(x.std(), 1.0 / np.sqrt(x.size))


def test_cifarnet_eval_equals_hand_computed():
    fn = preprocessing.get_preprocessing("cifarnet", is_training=False)
    big = _image(36, 36, seed=3)  # cropped around the centre: offset (36 - 32) // 2 = 2
    np.testing.assert_allclose(fn(big, 32, 32).numpy(),
                               _standardize(big[2:34, 2:34].astype(np.float64)), atol=1e-4)
    small = _image(28, 28, seed=4)  # zero-padded by 2 on every side
    padded = np.pad(small.astype(np.float64), [(2, 2), (2, 2), (0, 0)])
    np.testing.assert_allclose(fn(small, 32, 32).numpy(), _standardize(padded), atol=1e-4)


def test_cifarnet_train_shape_and_standardized():
    out = cifarnet.preprocess_image(_image(32, 32, seed=5), 32, 32, is_training=True).numpy()
    assert out.shape == (32, 32, 3)
    assert abs(out.mean()) < 1e-4 and abs(out.std() - 1.0) < 1e-3
    gray = cifarnet.preprocess_image(_image(32, 32, seed=6), 32, 32, is_training=True,
                                     use_grayscale=True)
    assert gray.shape == (32, 32, 1)
