"""slim's preprocessing_factory: net name → preprocessing function.

``get_preprocessing(name, is_training)`` returns
``fn(image, output_height, output_width, **kwargs) -> float32 image`` exactly as
slim's factory does; every function works eagerly and inside tf.data/tf.function.
"""
from __future__ import annotations

import importlib
from typing import Callable, Dict

import tensorflow as tf

# preprocessing name → module in this package. Mirrors slim's factory map and
# fills its holes (alexnet_v2, overfeat, mobilenet_v1_0xx, mobilenet_v2_050,
# nasnet_cifar had no entry in slim; they get the family's obvious choice).
_INCEPTION = ["inception", "inception_v1", "inception_v2", "inception_v3", "inception_v4",
              "inception_resnet_v2", "mobilenet_v1", "mobilenet_v1_075", "mobilenet_v1_050",
              "mobilenet_v1_025", "mobilenet_v2", "mobilenet_v2_035", "mobilenet_v2_050",
              "mobilenet_v2_140", "mobilenet_v3_small", "mobilenet_v3_large",
              "mobilenet_v3_small_minimalistic", "mobilenet_v3_large_minimalistic",
              "mobilenet_edgetpu", "mobilenet_edgetpu_075", "nasnet_mobile",
              "nasnet_large", "pnasnet_mobile", "pnasnet_large",
              # slim has no entry for the video nets; each frame gets Inception's.
              "i3d", "s3dg"]
_VGG = ["vgg", "vgg_a", "vgg_16", "vgg_19", "resnet_v1_50", "resnet_v1_101", "resnet_v1_152",
        "resnet_v1_200", "resnet_v2_50", "resnet_v2_101", "resnet_v2_152", "resnet_v2_200",
        "alexnet_v2", "overfeat"]
PREPROCESSING_MODULES: Dict[str, str] = {
    **{n: "inception" for n in _INCEPTION},
    **{n: "vgg" for n in _VGG},
    "cifarnet": "cifarnet", "nasnet_cifar": "cifarnet",
    "lenet": "lenet",
}


def get_preprocessing(name: str, is_training: bool = False,
                      use_grayscale: bool = False) -> Callable[..., tf.Tensor]:
    """Returns ``fn(image, output_height, output_width, **kwargs)`` for ``name``.

    Raises:
      ValueError: unknown name (slim's message), listing the known ones.
    """
    if name not in PREPROCESSING_MODULES:
        raise ValueError(f"Preprocessing name [{name}] was not recognized; known: "
                         f"{', '.join(sorted(PREPROCESSING_MODULES))}")
    module = importlib.import_module(f"{__name__}.{PREPROCESSING_MODULES[name]}")

    def preprocessing_fn(image, output_height, output_width, **kwargs):
        return module.preprocess_image(image, output_height, output_width, is_training=is_training,
                                       use_grayscale=use_grayscale, **kwargs)

    return preprocessing_fn
