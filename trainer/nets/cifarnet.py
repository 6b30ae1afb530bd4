"""CifarNet (slim nets/cifarnet.py): two 5x5 convs with LRN, fc3 384, fc4 192, logits."""
from __future__ import annotations

from typing import Callable

import tensorflow as tf
import tf_keras

from trainer.nets import layers
from trainer.nets.base import SlimModel
from trainer.nets.registry import NetSpec

SCOPE = "CifarNet"


def local_response_norm(inputs: tf.Tensor) -> tf.Tensor:
    """slim's ``norm1``/``norm2``: tf.nn.lrn(radius 4, bias 1, alpha 0.001/9, beta 0.75)."""
    return tf.nn.lrn(inputs, 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75)


def _truncated_normal(stddev: float) -> tf_keras.initializers.Initializer:
    # A fresh draw per variable: one shared unseeded instance would repeat its values.
    return layers.FreshInitializer(tf_keras.initializers.TruncatedNormal(stddev=stddev))


class CifarNet(SlimModel):
    """slim's cifarnet; end points conv1, pool1, conv2, pool2, Flatten, fc3, fc4,
    Logits, Predictions.

    cifarnet_arg_scope: convs truncated_normal(5e-2) with no weight decay; FC
    layers truncated_normal(0.04), biases 0.1 and L2; the logits layer
    truncated_normal(1/192), zero biases and no L2.
    """

    def __init__(self, num_classes: int = 10, is_training: bool = False,
                 weight_decay: float = 0.004, dropout_keep_prob: float = 0.5,
                 prediction_fn: Callable[[tf.Tensor], tf.Tensor] = tf.nn.softmax):
        super().__init__(spec_name="cifarnet", scope=SCOPE, num_classes=num_classes,
                         is_training=is_training, default_image_size=32)
        self.prediction_fn = prediction_fn
        conv_sc = layers.ArgScope(weights_initializer=_truncated_normal(5e-2))
        fc_sc = layers.ArgScope(weight_decay=weight_decay,
                                weights_initializer=_truncated_normal(0.04))
        bias_01 = tf_keras.initializers.Constant(0.1)
        self.conv1 = conv_sc.conv2d(64, 5, scope=f"{SCOPE}/conv1")
        self.conv2 = conv_sc.conv2d(64, 5, scope=f"{SCOPE}/conv2")
        self.fc3 = fc_sc.fully_connected(384, biases_initializer=bias_01, scope=f"{SCOPE}/fc3")
        self.flatten = tf_keras.layers.Flatten()
        self.dropout3 = tf_keras.layers.Dropout(1.0 - dropout_keep_prob)
        self.fc4 = fc_sc.fully_connected(192, biases_initializer=bias_01, scope=f"{SCOPE}/fc4")
        self.logits = (fc_sc.fully_connected(
            num_classes, activation=None, weight_decay=0.0,
            weights_initializer=_truncated_normal(1 / 192.0),
            scope=f"{SCOPE}/logits") if num_classes else None)

    def forward(self, inputs, training):
        end_points = {}
        net = end_points["conv1"] = self.conv1(inputs, training=training)
        net = end_points["pool1"] = layers.max_pool2d(net, 2, 2)
        net = local_response_norm(net)
        net = end_points["conv2"] = self.conv2(net, training=training)
        net = local_response_norm(net)
        net = end_points["pool2"] = layers.max_pool2d(net, 2, 2)
        net = end_points["Flatten"] = self.flatten(net)
        net = end_points["fc3"] = self.fc3(net, training=training)
        net = self.dropout3(net, training=training)
        net = end_points["fc4"] = self.fc4(net, training=training)
        if not self.num_classes:
            return net, end_points
        logits = end_points["Logits"] = self.logits(net, training=training)
        end_points["Predictions"] = self.prediction_fn(logits)
        return logits, end_points


NETS = (NetSpec(name="cifarnet", builder=CifarNet, default_image_size=32, num_classes=10,
                preprocessing="cifarnet", scope=SCOPE, logits_scopes=(f"{SCOPE}/logits",),
                checkpoint_num_classes=10, kwargs=("dropout_keep_prob", "prediction_fn"),
                # two VALID 2x2 max pools.
                min_image_size=4),)
