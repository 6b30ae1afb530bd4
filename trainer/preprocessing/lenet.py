"""slim's lenet_preprocessing (train == eval): to_float, crop/pad, (x - 128) / 128."""
from __future__ import annotations

import tensorflow as tf


def preprocess_image(image: tf.Tensor, output_height: int, output_width: int,
                     is_training: bool = False, use_grayscale: bool = False) -> tf.Tensor:
    """Preprocesses one HxWxC image the way slim's lenet_preprocessing does."""
    del is_training  # LeNet has no train-time distortion.
    image = tf.cast(image, tf.float32)
    if use_grayscale:
        image = tf.image.rgb_to_grayscale(image)
    image = tf.image.resize_with_crop_or_pad(image, output_height, output_width)
    return (image - 128.0) / 128.0
