"""slim's preprocessing_factory: net name → preprocessing function.

``get_preprocessing(name, is_training)`` returns
``fn(image, output_height, output_width, **kwargs) -> float32 image`` exactly as
slim's factory does; every function works eagerly and inside tf.data/tf.function.
"""
from __future__ import annotations

import importlib
from typing import Callable

import tensorflow as tf

# The preprocessing functions of this package (slim's preprocessing_factory modules).
# Any other name is a net name, resolved through the net registry (NetSpec.preprocessing),
# the one home of the net → preprocessing mapping.
PREPROCESSING_MODULES = ("cifarnet", "inception", "lenet", "vgg")


def module_name(name: str) -> str:
    """Preprocessing name (a module above or a zoo net name) → module name.

    Raises:
      ValueError: unknown name (slim's message), listing the known ones.
    """
    if name in PREPROCESSING_MODULES:
        return name
    from trainer import nets  # pylint: disable=import-outside-toplevel,cyclic-import

    try:
        return nets.get_spec(name).preprocessing
    except ValueError:
        raise ValueError(f"Preprocessing name [{name}] was not recognized; known: "
                         f"{', '.join(sorted(PREPROCESSING_MODULES + tuple(nets.list_models())))}") from None


def get_preprocessing(name: str, is_training: bool = False,
                      use_grayscale: bool = False) -> Callable[..., tf.Tensor]:
    """Returns ``fn(image, output_height, output_width, **kwargs)`` for ``name``.

    Raises:
      ValueError: unknown name (slim's message), listing the known ones.
    """
    module = importlib.import_module(f"{__name__}.{module_name(name)}")

    def preprocessing_fn(image, output_height, output_width, **kwargs):
        return module.preprocess_image(image, output_height, output_width, is_training=is_training,
                                       use_grayscale=use_grayscale, **kwargs)

    return preprocessing_fn
