"""Base class of every zoo network."""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import tensorflow as tf
import tf_keras

from trainer.nets import layers


class SlimModel(tf_keras.Model):
    """A slim network as a tf_keras Model.

    ``model(images, training=...)`` returns ``(logits, end_points)`` where
    ``end_points`` is keyed by slim's end-point names. With ``num_classes=0`` the
    "logits" are slim's pre-logits features. ``training=None`` falls back to the
    ``is_training`` the model was created with (slim's constructor argument).
    """

    def __init__(self, *, spec_name: str, scope: str, num_classes: int, is_training: bool,
                 default_image_size: int, **kwargs):
        super().__init__(name=spec_name, **kwargs)
        self.spec_name = spec_name
        self.scope = scope
        self.num_classes = num_classes
        self.is_training = is_training
        self.default_image_size = default_image_size

    def _training(self, training: Optional[bool]) -> bool:
        return self.is_training if training is None else bool(training)

    def call(self, inputs, training=None) -> Tuple[tf.Tensor, Dict[str, tf.Tensor]]:
        return self.forward(inputs, self._training(training))

    def forward(self, inputs: tf.Tensor, training: bool) -> Tuple[tf.Tensor, Dict[str, tf.Tensor]]:
        """Family-specific forward pass; ``training`` is already resolved."""
        raise NotImplementedError

    def slim_variables(self) -> Dict[str, tf.Variable]:
        """{slim checkpoint name: variable} for every model variable (built model)."""
        return layers.collect_slim_variables(self)

    def ensure_built(self, image_size: Optional[int] = None, channels: int = 3) -> None:
        """Builds the variables by calling the model once on zeros if needed."""
        if not self.built or not self.variables:
            size = image_size or self.default_image_size
            self(tf.zeros([1, size, size, channels]), training=False)
