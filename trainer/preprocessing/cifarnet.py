"""slim's cifarnet_preprocessing.

Train: to float (0..255 scale), zero-pad 4 pixels, random crop to
(height, width), random left-right flip, random brightness (max delta 63),
random contrast in [0.2, 1.8], per-image standardization. Eval: crop or pad to
(height, width) around the centre, per-image standardization.
"""
from __future__ import annotations

import tensorflow as tf

PADDING = 4
BRIGHTNESS_MAX_DELTA = 63
CONTRAST_RANGE = (0.2, 1.8)


def _to_float(image: tf.Tensor, use_grayscale: bool) -> tf.Tensor:
    # slim's tf.to_float: a cast, no rescaling to [0, 1].
    image = tf.cast(image, tf.float32)
    return tf.image.rgb_to_grayscale(image) if use_grayscale else image


def preprocess_for_train(image: tf.Tensor, output_height: int, output_width: int,
                         padding: int = PADDING, use_grayscale: bool = False) -> tf.Tensor:
    """Pad, random crop, flip, brightness/contrast jitter, standardization."""
    image = _to_float(image, use_grayscale)
    if padding > 0:
        image = tf.pad(image, [[padding, padding], [padding, padding], [0, 0]])
    # slim crops to [h, w, 3]; the channel count is taken from the image so that
    # use_grayscale works (slim's fixed 3 fails there).
    channels = image.shape[-1] if image.shape[-1] is not None else tf.shape(image)[-1]
    distorted = tf.image.random_crop(image, tf.stack([output_height, output_width, channels]))
    distorted = tf.image.random_flip_left_right(distorted)
    distorted = tf.image.random_brightness(distorted, max_delta=BRIGHTNESS_MAX_DELTA)
    distorted = tf.image.random_contrast(distorted, *CONTRAST_RANGE)
    return tf.image.per_image_standardization(distorted)


def preprocess_for_eval(image: tf.Tensor, output_height: int, output_width: int,
                        use_grayscale: bool = False) -> tf.Tensor:
    """Central crop-or-pad to (height, width), standardization.

    slim passes (width, height) to resize_image_with_crop_or_pad, which only
    matters for non-square outputs; here the target is (height, width) as asked.
    """
    image = _to_float(image, use_grayscale)
    image = tf.image.resize_with_crop_or_pad(image, output_height, output_width)
    return tf.image.per_image_standardization(image)


def preprocess_image(image: tf.Tensor, output_height: int, output_width: int,
                     is_training: bool = False, use_grayscale: bool = False,
                     padding: int = PADDING) -> tf.Tensor:
    """slim ``cifarnet_preprocessing.preprocess_image`` on one HxWxC image (any dtype)."""
    if is_training:
        return preprocess_for_train(image, output_height, output_width, padding, use_grayscale)
    return preprocess_for_eval(image, output_height, output_width, use_grayscale)
