"""Transform's preprocessing_fn: encoded image → the net's eval-time input.

The Transform graph is embedded in the exported SavedModel (serving_default and
the tf.Example signature call it through ``tft_layer``), so serving applies the
very same decode + resize + slim preprocessing as evaluation. Training applies the
same function with ``is_training=True`` (slim's random distortions), see
trainer/training/data.py.
"""
from __future__ import annotations

from typing import Any, Dict, Optional

import tensorflow as tf

from schemas import features
from trainer.config import TRAIN_CONFIG_KEY, TrainConfig
from trainer.preprocessing.image_ops import image_spec_for, preprocess_encoded_batch


def preprocessing_fn(inputs: Dict[str, tf.Tensor],
                     custom_config: Optional[Dict[str, Any]] = None) -> Dict[str, tf.Tensor]:
    """TFT preprocessing_fn; ``custom_config['train_config']`` is the Trainer's TrainConfig
    dict, so the image spec is derived here exactly as training derives it."""
    if not custom_config or TRAIN_CONFIG_KEY not in custom_config:
        raise ValueError(f"Transform custom_config must hold {TRAIN_CONFIG_KEY!r} "
                         "(see pipeline/pipeline.py).")
    spec = image_spec_for(TrainConfig.from_dict(custom_config[TRAIN_CONFIG_KEY]))
    outputs = {features.IMAGE_XF: preprocess_encoded_batch(inputs[features.ENCODED], spec)}
    if features.LABEL in inputs:
        outputs[features.LABEL_XF] = tf.reshape(inputs[features.LABEL], [-1])
    return outputs
