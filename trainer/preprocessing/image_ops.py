"""Decode encoded image bytes and apply a net's slim preprocessing.

This is the one function training, the Transform graph (and therefore serving)
and `tfslim eval/predict` all call, so they cannot drift apart.
"""
from __future__ import annotations

import dataclasses
from typing import Optional

import tensorflow as tf

from trainer import preprocessing

# slim's lenet/cifarnet preprocessing only crops or pads; images of another size
# (e.g. 8x8 digits for a 28x28 LeNet) are first resized so they fill the input.
_CROP_OR_PAD_PREPROCESSORS = ("lenet", "cifarnet")


@dataclasses.dataclass(frozen=True)
class ImageSpec:
    """How encoded images become network input.

    Attributes:
      preprocessing_name: slim preprocessing_factory name (e.g. 'lenet', 'inception').
      image_size: output height = width.
      channels: decoded channels (1 = grayscale like slim's mnist, 3 = RGB).
      resize_to_fit: for crop/pad preprocessors (lenet, cifarnet), resize images whose
        size differs from ``image_size`` first (bilinear); a no-op on MNIST/CIFAR.
    """

    preprocessing_name: str
    image_size: int
    channels: int = 3
    resize_to_fit: bool = True

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "ImageSpec":
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in fields})


def image_spec_for_net(model_name: str, preprocessing_name: Optional[str] = None,
                       image_size: Optional[int] = None, channels: int = 3,
                       resize_to_fit: bool = True) -> ImageSpec:
    """The net's preprocessing and input size, with slim's fallbacks to the net's defaults
    (its registry entry) for whatever is not given."""
    from trainer import nets  # pylint: disable=import-outside-toplevel  # the zoo only when asked

    spec = nets.get_spec(model_name)
    return ImageSpec(preprocessing_name=preprocessing_name or spec.preprocessing,
                     image_size=image_size or spec.default_image_size,
                     channels=channels, resize_to_fit=resize_to_fit)


def image_spec_for(config) -> ImageSpec:
    """The ImageSpec of a TrainConfig (model_name, preprocessing_name, train_image_size,
    image_channels, resize_to_fit): what training, Transform and serving apply."""
    return image_spec_for_net(config.model_name, config.preprocessing_name, config.train_image_size,
                              config.image_channels, config.resize_to_fit)


def decode_image(encoded: tf.Tensor, channels: int) -> tf.Tensor:
    """Decodes JPEG/PNG/GIF/BMP bytes to uint8 [H, W, channels] (first GIF frame).

    Raises InvalidArgumentError (at run time) naming the problem for bytes that are
    not a supported image.
    """
    def decode(wanted: int) -> tf.Tensor:
        return tf.io.decode_image(encoded, channels=wanted, expand_animations=False, dtype=tf.uint8)

    if channels == 1:
        # GIF and BMP have no grayscale decode (channels=1 is an error there): decode RGB
        # and convert. JPEG/PNG keep libjpeg/libpng's own grayscale output.
        rgb_only = tf.logical_or(tf.equal(tf.strings.substr(encoded, 0, 4), b"GIF8"),
                                 tf.equal(tf.strings.substr(encoded, 0, 2), b"BM"))
        image = tf.cond(rgb_only, lambda: tf.image.rgb_to_grayscale(decode(3)), lambda: decode(1))
    else:
        image = decode(channels)
    image.set_shape([None, None, channels])
    return image


def preprocess_decoded(image: tf.Tensor, spec: ImageSpec, is_training: bool,
                       bbox: Optional[tf.Tensor] = None) -> tf.Tensor:
    """slim preprocessing of one decoded uint8 image → float32 [size, size, channels]."""
    fn = preprocessing.get_preprocessing(spec.preprocessing_name, is_training=is_training)
    size = spec.image_size
    kwargs = {}
    if preprocessing.module_name(spec.preprocessing_name) in _CROP_OR_PAD_PREPROCESSORS:
        if spec.resize_to_fit:
            image = tf.image.resize(tf.cast(image, tf.float32), [size, size], method="bilinear")
    elif bbox is not None:
        kwargs["bbox"] = bbox
    out = fn(image, size, size, **kwargs)
    out = tf.cast(out, tf.float32)
    out.set_shape([size, size, spec.channels])
    return out


def preprocess_encoded(encoded: tf.Tensor, spec: ImageSpec, is_training: bool) -> tf.Tensor:
    """decode_image + preprocess_decoded for one encoded image (scalar string)."""
    return preprocess_decoded(decode_image(encoded, spec.channels), spec, is_training)


def preprocess_encoded_batch(encoded: tf.Tensor, spec: ImageSpec) -> tf.Tensor:
    """Eval-mode preprocessing of a [B] batch of encoded images → [B, size, size, C].

    decode_* cannot batch, so this maps over the batch (as TFX's cifar10 example).
    """
    encoded = tf.reshape(encoded, [-1])
    return tf.map_fn(lambda b: preprocess_encoded(b, spec, is_training=False), encoded,
                     fn_output_signature=tf.TensorSpec([spec.image_size, spec.image_size,
                                                        spec.channels], tf.float32))
