"""Transform's preprocessing_fn: encoded image → the net's eval-time input.

The Transform graph is embedded in the exported SavedModel (serving_default and
the tf.Example signature call it through ``tft_layer``), so serving applies the
very same decode + resize + slim preprocessing as evaluation. Training applies the
same function with ``is_training=True`` (slim's random distortions), see
trainer/data.py.
"""
from __future__ import annotations

from typing import Any, Dict, Optional

import tensorflow as tf

from schemas import features
from trainer.image_ops import ImageSpec, preprocess_encoded_batch

IMAGE_SPEC_KEY = "image_spec"


def preprocessing_fn(inputs: Dict[str, tf.Tensor],
                     custom_config: Optional[Dict[str, Any]] = None) -> Dict[str, tf.Tensor]:
    """TFT preprocessing_fn; ``custom_config['image_spec']`` is an ImageSpec dict."""
    if not custom_config or IMAGE_SPEC_KEY not in custom_config:
        raise ValueError("Transform custom_config must hold 'image_spec' (see pipeline/pipeline.py).")
    spec = ImageSpec.from_dict(custom_config[IMAGE_SPEC_KEY])
    outputs = {features.IMAGE_XF: preprocess_encoded_batch(inputs[features.ENCODED], spec)}
    if features.LABEL in inputs:
        outputs[features.LABEL_XF] = tf.reshape(inputs[features.LABEL], [-1])
    return outputs
