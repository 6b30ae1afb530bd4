"""slim inception_preprocessing: eval math against a numpy reference, train output contract."""
import numpy as np
import pytest
import tensorflow as tf

from trainer import preprocessing
from trainer.preprocessing import inception


def _image(height: int = 90, width: int = 120) -> np.ndarray:
    return np.random.default_rng(7).integers(0, 256, (height, width, 3)).astype(np.uint8)


def _reference_eval(image: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """slim eval without TF: /255, central_crop(0.875), TF1 bilinear resize, (x-0.5)*2."""
    x = image.astype(np.float64) / 255.0
    h, w = x.shape[:2]
    # tf.image.central_crop: offset = side // int(1 / ((1 - 0.875) / 2)) = side // 16.
    top, left = h // 16, w // 16
    x = x[top:h - top, left:w - left]
    h, w = x.shape[:2]
    # resize_bilinear(align_corners=False), no half-pixel centres: src = dst * in / out.
    ys, xs = np.arange(out_h) * (h / out_h), np.arange(out_w) * (w / out_w)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    dy, dx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    top_row = x[y0][:, x0] * (1 - dx) + x[y0][:, x1] * dx
    bottom_row = x[y1][:, x0] * (1 - dx) + x[y1][:, x1] * dx
    out = top_row * (1 - dy) + bottom_row * dy
    return ((out - 0.5) * 2.0).astype(np.float32)


@pytest.mark.parametrize("out_h,out_w", [(64, 64), (37, 50), (150, 200)])
def test_eval_matches_reference_math(out_h, out_w):
    image = _image()
    fn = preprocessing.get_preprocessing("inception_v3", is_training=False)
    got = fn(tf.constant(image), out_h, out_w).numpy()
    assert got.shape == (out_h, out_w, 3) and got.dtype == np.float32
    # float32 interpolation in TF vs float64 here: ~1e-5; a half-pixel-centre
    # resize (tf.image.resize) would be off by ~1e-1.
    np.testing.assert_allclose(got, _reference_eval(image, out_h, out_w), atol=5e-5)


def test_eval_uint8_vs_float_input_pitfall():
    image = _image()
    from_uint8 = inception.preprocess_image(tf.constant(image), 32, 32)
    from_unit_float = inception.preprocess_image(tf.constant(image / 255.0, tf.float32), 32, 32)
    np.testing.assert_allclose(from_uint8, from_unit_float, atol=1e-6)
    # As in slim, float32 input is taken to be in [0, 1] already: 0..255 floats are
    # not rescaled and come out far outside [-1, 1].
    unscaled = inception.preprocess_image(tf.constant(image, tf.float32), 32, 32)
    assert float(tf.reduce_max(unscaled)) > 100.0


def test_eval_without_crop_is_plain_resize():
    image = _image(64, 64)
    got = inception.preprocess_image(tf.constant(image), 64, 64, crop_image=False)
    np.testing.assert_allclose(got, (image / 255.0 - 0.5) * 2.0, atol=1e-6)


@pytest.mark.parametrize("fast_mode", [True, False])
def test_train_output_shape_range_and_randomness(fast_mode):
    tf.random.set_seed(11)
    image = tf.constant(_image())
    fn = preprocessing.get_preprocessing("inception", is_training=True)
    outputs = [fn(image, 48, 40, fast_mode=fast_mode).numpy() for _ in range(4)]
    for out in outputs:
        assert out.shape == (48, 40, 3) and out.dtype == np.float32
        assert out.min() >= -1.0 and out.max() <= 1.0
    assert not all(np.array_equal(outputs[0], o) for o in outputs[1:])


def test_train_crop_respects_bbox_and_runs_in_tf_data():
    # A white 20x20 object box on a black image: slim's crop keeps at least 10%
    # (min_object_covered) of the box, i.e. >= 40 of its 400 pixels.
    image = np.zeros((100, 100, 3), np.uint8)
    image[40:60, 40:60] = 255
    bbox = tf.constant([[[0.4, 0.4, 0.6, 0.6]]], tf.float32)
    crops = tf.data.Dataset.from_tensors(tf.constant(image)).repeat(20).map(
        lambda x: inception.distorted_bounding_box_crop(x, bbox)[0])
    for crop in crops:
        assert int(tf.reduce_sum(tf.cast(crop[..., 0] == 255, tf.int32))) >= 40
        area = crop.shape[0] * crop.shape[1] / 100.0 ** 2
        assert 0.05 - 1e-6 <= area <= 1.0
    train = tf.data.Dataset.from_tensors(tf.constant(image)).repeat(3).map(
        lambda x: inception.preprocess_image(x, 24, 24, is_training=True, bbox=bbox))
    for out in train:
        assert out.shape == (24, 24, 3) and out.dtype == tf.float32


def test_grayscale_and_distort_color_validation():
    image = tf.constant(_image())
    gray = preprocessing.get_preprocessing("inception", is_training=True, use_grayscale=True)
    assert gray(image, 16, 16).shape == (16, 16, 1)
    gray = preprocessing.get_preprocessing("inception", is_training=False, use_grayscale=True)
    assert gray(image, 16, 16).shape == (16, 16, 1)
    with pytest.raises(ValueError, match="color_ordering"):
        inception.distort_color(tf.zeros([4, 4, 3]), color_ordering=4, fast_mode=False)
