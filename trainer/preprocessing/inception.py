"""slim's inception_preprocessing, in TF2 ops that run eagerly and inside tf.data.

Train: random crop around ``bbox`` (sample_distorted_bounding_box with slim's
constants), resize, random left-right flip, random colour distortion, then
scale to [-1, 1]. Eval: central crop of 87.5% of the image, bilinear resize
(``align_corners=False``, TF1 pixel centres as slim's ``resize_bilinear``),
scale to [-1, 1].

Input range pitfall kept from slim: a non-float32 image (e.g. uint8 from
``decode_jpeg``) is converted to [0, 1] with ``convert_image_dtype``, but a
float32 image is assumed to be in [0, 1] already and is *not* rescaled. Feed
decoded uint8 images, or float32 divided by 255.
"""
from __future__ import annotations

from typing import Callable, Optional, Tuple

import tensorflow as tf

# sample_distorted_bounding_box arguments of slim's distorted_bounding_box_crop.
MIN_OBJECT_COVERED = 0.1
ASPECT_RATIO_RANGE = (0.75, 1.33)
AREA_RANGE = (0.05, 1.0)
MAX_ATTEMPTS = 100
CENTRAL_FRACTION = 0.875
BRIGHTNESS_MAX_DELTA = 32.0 / 255.0
SATURATION_RANGE = (0.5, 1.5)
HUE_MAX_DELTA = 0.2
CONTRAST_RANGE = (0.5, 1.5)


def apply_with_random_selector(x: tf.Tensor, func: Callable[[tf.Tensor, int], tf.Tensor],
                               num_cases: int) -> tf.Tensor:
    """``func(x, sel)`` with ``sel`` drawn uniformly from [0, num_cases); only one case runs."""
    if num_cases == 1:
        return func(x, 0)
    sel = tf.random.uniform([], maxval=num_cases, dtype=tf.int32)
    return tf.switch_case(sel, [lambda case=case: func(x, case) for case in range(num_cases)])


def distort_color(image: tf.Tensor, color_ordering: int = 0, fast_mode: bool = True) -> tf.Tensor:
    """slim's distort_color on a [0, 1] image; result clipped to [0, 1].

    fast_mode: brightness and saturation only (ordering 0 or 1); otherwise also
    hue and contrast in one of four orderings (0-3).

    Raises:
      ValueError: color_ordering outside [0, 3].
    """
    def brightness(im):
        return tf.image.random_brightness(im, max_delta=BRIGHTNESS_MAX_DELTA)

    def saturation(im):
        return tf.image.random_saturation(im, *SATURATION_RANGE)

    def hue(im):
        return tf.image.random_hue(im, max_delta=HUE_MAX_DELTA)

    def contrast(im):
        return tf.image.random_contrast(im, *CONTRAST_RANGE)

    if fast_mode:
        orders = {0: (brightness, saturation), 1: (saturation, brightness)}
    else:
        orders = {0: (brightness, saturation, hue, contrast),
                  1: (saturation, brightness, contrast, hue),
                  2: (contrast, hue, brightness, saturation),
                  3: (hue, saturation, contrast, brightness)}
    if color_ordering not in orders:
        raise ValueError("color_ordering must be in [0, 3]")
    for op in orders[color_ordering]:
        image = op(image)
    # The random_* ops do not necessarily clamp.
    return tf.clip_by_value(image, 0.0, 1.0)


def distorted_bounding_box_crop(image: tf.Tensor, bbox: tf.Tensor,
                                min_object_covered: float = MIN_OBJECT_COVERED,
                                aspect_ratio_range: Tuple[float, float] = ASPECT_RATIO_RANGE,
                                area_range: Tuple[float, float] = AREA_RANGE,
                                max_attempts: int = MAX_ATTEMPTS) -> Tuple[tf.Tensor, tf.Tensor]:
    """Random crop covering ``min_object_covered`` of one of ``bbox`` ([1, N, 4] ymin,xmin,ymax,xmax).

    Returns (cropped image, the crop box [1, 1, 4]); with no boxes the whole
    image is the reference (``use_image_if_no_bounding_boxes``).
    """
    begin, size, distort_bbox = tf.image.sample_distorted_bounding_box(
        tf.shape(image), bounding_boxes=bbox, min_object_covered=min_object_covered,
        aspect_ratio_range=aspect_ratio_range, area_range=area_range,
        max_attempts=max_attempts, use_image_if_no_bounding_boxes=True)
    return tf.slice(image, begin, size), distort_bbox


def _to_unit_float(image: tf.Tensor) -> tf.Tensor:
    # slim's pitfall, kept on purpose: only non-float32 inputs are rescaled.
    if image.dtype != tf.float32:
        image = tf.image.convert_image_dtype(image, dtype=tf.float32)
    return image


def _resize(image: tf.Tensor, height: int, width: int, method: int) -> tf.Tensor:
    # TF1 resize_images (method 0 bilinear, 1 nearest, 2 bicubic, 3 area) with
    # TF1 pixel centres, as slim; tf.image.resize would use half-pixel centres.
    return tf.compat.v1.image.resize_images(image, [height, width], method=method)


def preprocess_for_train(image: tf.Tensor, height: int, width: int,
                         bbox: Optional[tf.Tensor] = None, fast_mode: bool = True,
                         random_crop: bool = True, use_grayscale: bool = False) -> tf.Tensor:
    """slim's preprocess_for_train: a randomly distorted [height, width, C] image in [-1, 1].

    Args:
      image: [H, W, 3] image (see the module note on input range).
      height, width: output size.
      bbox: [1, N, 4] boxes (ymin, xmin, ymax, xmax in [0, 1]); None = whole image.
      fast_mode: bilinear resize and brightness/saturation only; otherwise a
        random one of four resize methods and four colour orderings with hue
        and contrast.
      random_crop: crop with the distorted bounding box (slim's ``crop_image``).
      use_grayscale: convert to one channel after the colour distortion.
    """
    if bbox is None:
        bbox = tf.constant([0.0, 0.0, 1.0, 1.0], dtype=tf.float32, shape=[1, 1, 4])
    image = _to_unit_float(image)
    if random_crop:
        image, _ = distorted_bounding_box_crop(image, bbox)
        # The dynamic slice loses the static channel count.
        image.set_shape([None, None, 3])
    num_cases = 1 if fast_mode else 4
    image = apply_with_random_selector(
        image, lambda x, method: _resize(x, height, width, method), num_cases)
    image = tf.image.random_flip_left_right(image)
    image = apply_with_random_selector(
        image, lambda x, ordering: distort_color(x, ordering, fast_mode), num_cases)
    if use_grayscale:
        image = tf.image.rgb_to_grayscale(image)
    return (image - 0.5) * 2.0


def preprocess_for_eval(image: tf.Tensor, height: Optional[int], width: Optional[int],
                        central_fraction: Optional[float] = CENTRAL_FRACTION,
                        central_crop: bool = True, use_grayscale: bool = False) -> tf.Tensor:
    """slim's preprocess_for_eval: central crop, bilinear resize, scale to [-1, 1].

    Args:
      image: [H, W, C] image (see the module note on input range).
      height, width: output size; falsy skips the resize.
      central_fraction: fraction of each side kept by the central crop.
      central_crop: apply the central crop (slim's ``crop_image``).
      use_grayscale: convert to one channel first.
    """
    image = _to_unit_float(image)
    if use_grayscale:
        image = tf.image.rgb_to_grayscale(image)
    if central_crop and central_fraction:
        image = tf.image.central_crop(image, central_fraction=central_fraction)
    if height and width:
        image = _resize(image, height, width, method=0)  # slim: resize_bilinear
    return (image - 0.5) * 2.0


def preprocess_image(image: tf.Tensor, output_height: int, output_width: int,
                     is_training: bool = False, use_grayscale: bool = False,
                     bbox: Optional[tf.Tensor] = None, fast_mode: bool = True,
                     crop_image: bool = True) -> tf.Tensor:
    """slim's inception_preprocessing.preprocess_image (the factory entry point).

    Args:
      image: [H, W, 3] image; uint8 (or any non-float32) is scaled to [0, 1],
        float32 must already be in [0, 1].
      output_height, output_width: output size.
      is_training: distort for training, else the eval crop/resize.
      use_grayscale: one-channel output.
      bbox: [1, N, 4] object boxes for the training crop (None = whole image).
      fast_mode: cheaper training distortions (slim default True).
      crop_image: random crop (train) / central crop (eval).

    Returns:
      float32 [output_height, output_width, C] in [-1, 1].
    """
    if is_training:
        return preprocess_for_train(image, output_height, output_width, bbox, fast_mode,
                                    random_crop=crop_image, use_grayscale=use_grayscale)
    return preprocess_for_eval(image, output_height, output_width, central_crop=crop_image,
                               use_grayscale=use_grayscale)
