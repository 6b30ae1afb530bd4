"""slim's vgg_preprocessing (used by VGG, ResNet, AlexNet v2, OverFeat).

Train: aspect-preserving bilinear resize so the smaller side is a random
integer in [256, 512], random crop to (height, width), random left-right flip,
RGB mean subtraction. Eval: aspect-preserving resize of the smaller side to 256,
central crop, mean subtraction. Values stay on the 0..255 scale (no [-1, 1]).

The resize is TF1's ``resize_bilinear(align_corners=False)`` (no half-pixel
centres), as slim's, so numbers match the released VGG/ResNet v1 evaluations.
"""
from __future__ import annotations

from typing import Sequence

import tensorflow as tf

R_MEAN = 123.68
G_MEAN = 116.78
B_MEAN = 103.94
RESIZE_SIDE_MIN = 256
RESIZE_SIDE_MAX = 512
# tf.image.rgb_to_grayscale weights, used to give a grayscale image the matching mean.
_GRAY_WEIGHTS = (0.2989, 0.5870, 0.1140)


def smallest_size_at_least(height: tf.Tensor, width: tf.Tensor,
                           smallest_side: tf.Tensor) -> tuple:
    """New (height, width) with the smaller side == ``smallest_side`` (rounded with rint)."""
    height = tf.cast(height, tf.float32)
    width = tf.cast(width, tf.float32)
    smallest_side = tf.cast(smallest_side, tf.float32)
    scale = tf.where(height > width, smallest_side / width, smallest_side / height)
    return (tf.cast(tf.math.rint(height * scale), tf.int32),
            tf.cast(tf.math.rint(width * scale), tf.int32))


def aspect_preserving_resize(image: tf.Tensor, smallest_side) -> tf.Tensor:
    """Bilinear resize of an HxWxC image (TF1 pixel centres); returns float32."""
    shape = tf.shape(image)
    new_height, new_width = smallest_size_at_least(shape[0], shape[1], smallest_side)
    # The op behind TF1's resize_bilinear(align_corners=False), without its deprecation.
    resized = tf.raw_ops.ResizeBilinear(images=image[tf.newaxis],
                                        size=tf.stack([new_height, new_width]),
                                        align_corners=False, half_pixel_centers=False)
    return resized[0]


def _crop(image: tf.Tensor, offset_height, offset_width, crop_height: int,
          crop_width: int) -> tf.Tensor:
    shape = tf.shape(image)
    with tf.control_dependencies([tf.debugging.assert_greater_equal(
            shape[:2], tf.constant([crop_height, crop_width]),
            message="Crop size greater than the image size.")]):
        cropped = tf.slice(image, tf.stack([offset_height, offset_width, 0]),
                           tf.stack([crop_height, crop_width, shape[2]]))
    return tf.reshape(cropped, tf.stack([crop_height, crop_width, shape[2]]))


def random_crop(image: tf.Tensor, crop_height: int, crop_width: int) -> tf.Tensor:
    """slim ``_random_crop``: offsets uniform in [0, size - crop]."""
    shape = tf.shape(image)
    offset_height = tf.random.uniform([], maxval=shape[0] - crop_height + 1, dtype=tf.int32)
    offset_width = tf.random.uniform([], maxval=shape[1] - crop_width + 1, dtype=tf.int32)
    return _crop(image, offset_height, offset_width, crop_height, crop_width)


def central_crop(image: tf.Tensor, crop_height: int, crop_width: int) -> tf.Tensor:
    """slim ``_central_crop``: offsets (size - crop) // 2."""
    shape = tf.shape(image)
    return _crop(image, (shape[0] - crop_height) // 2, (shape[1] - crop_width) // 2,
                 crop_height, crop_width)


def mean_image_subtraction(image: tf.Tensor, means: Sequence[float]) -> tf.Tensor:
    """Subtracts one mean per channel.

    Raises:
      ValueError: the image rank is not 3 or the channel count differs from ``means``.
    """
    if image.shape.rank != 3:
        raise ValueError("Input must be of size [height, width, C>0]")
    if image.shape[-1] != len(means):
        raise ValueError("len(means) must match the number of channels")
    return image - tf.constant(means, image.dtype)


def _channel_means(use_grayscale: bool) -> Sequence[float]:
    # slim subtracts the 3 RGB means even after rgb_to_grayscale and fails; a grayscale
    # image gets the grayscale value of the mean colour instead.
    if use_grayscale:
        return [sum(w * m for w, m in zip(_GRAY_WEIGHTS, (R_MEAN, G_MEAN, B_MEAN)))]
    return [R_MEAN, G_MEAN, B_MEAN]


def preprocess_for_train(image: tf.Tensor, output_height: int, output_width: int,
                         resize_side_min: int = RESIZE_SIDE_MIN,
                         resize_side_max: int = RESIZE_SIDE_MAX,
                         use_grayscale: bool = False) -> tf.Tensor:
    """Random-scale resize, random crop, flip, mean subtraction (0..255 scale)."""
    resize_side = tf.random.uniform([], minval=resize_side_min, maxval=resize_side_max + 1,
                                    dtype=tf.int32)
    image = random_crop(aspect_preserving_resize(image, resize_side), output_height, output_width)
    image = tf.image.random_flip_left_right(_as_float(image, output_height, output_width, use_grayscale))
    return mean_image_subtraction(image, _channel_means(use_grayscale))


def preprocess_for_eval(image: tf.Tensor, output_height: int, output_width: int,
                        resize_side: int = RESIZE_SIDE_MIN,
                        use_grayscale: bool = False) -> tf.Tensor:
    """Aspect-preserving resize to ``resize_side``, central crop, mean subtraction."""
    image = central_crop(aspect_preserving_resize(image, resize_side), output_height, output_width)
    image = _as_float(image, output_height, output_width, use_grayscale)
    return mean_image_subtraction(image, _channel_means(use_grayscale))


def _as_float(image: tf.Tensor, output_height: int, output_width: int, use_grayscale: bool) -> tf.Tensor:
    """A cropped RGB image as float32 (0..255), in gray when asked (slim's order: cast, then gray)."""
    image.set_shape([output_height, output_width, 3])
    image = tf.cast(image, tf.float32)
    return tf.image.rgb_to_grayscale(image) if use_grayscale else image


def preprocess_image(image: tf.Tensor, output_height: int, output_width: int,
                     is_training: bool = False, resize_side_min: int = RESIZE_SIDE_MIN,
                     resize_side_max: int = RESIZE_SIDE_MAX,
                     use_grayscale: bool = False) -> tf.Tensor:
    """slim ``vgg_preprocessing.preprocess_image`` on one HxWx3 image (any dtype).

    ``resize_side_min`` is the eval resize side; training samples the side from
    [resize_side_min, resize_side_max].
    """
    if is_training:
        return preprocess_for_train(image, output_height, output_width, resize_side_min,
                                    resize_side_max, use_grayscale)
    return preprocess_for_eval(image, output_height, output_width, resize_side_min,
                               use_grayscale)
