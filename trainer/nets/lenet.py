"""LeNet (slim nets/lenet.py): conv 5x5x32, pool, conv 5x5x64, pool, fc 1024, fc logits."""
from __future__ import annotations

import tensorflow as tf
import tf_keras

from trainer.nets import layers
from trainer.nets.base import SlimModel
from trainer.nets.registry import NetSpec


class LeNet(SlimModel):
    """slim's lenet; scope ``LeNet``; end points conv1 … fc3, Logits, Predictions."""

    def __init__(self, num_classes: int = 10, is_training: bool = False, weight_decay: float = 0.0,
                 dropout_keep_prob: float = 0.5):
        super().__init__(spec_name="lenet", scope="LeNet", num_classes=num_classes,
                         is_training=is_training, default_image_size=28)
        # lenet_arg_scope: truncated_normal(0.1) weights, relu, L2(weight_decay).
        sc = layers.ArgScope(weight_decay=weight_decay,
                             weights_initializer=layers.FreshInitializer(
                                 tf_keras.initializers.TruncatedNormal(stddev=0.1)))
        self.conv1 = sc.conv2d(32, 5, scope="LeNet/conv1")
        self.conv2 = sc.conv2d(64, 5, scope="LeNet/conv2")
        self.fc3 = sc.fully_connected(1024, scope="LeNet/fc3")
        self.dropout3 = tf_keras.layers.Dropout(1.0 - dropout_keep_prob)
        self.fc4 = (sc.fully_connected(num_classes, activation=None, scope="LeNet/fc4")
                    if num_classes else None)

    def forward(self, inputs, training):
        end_points = {}
        net = end_points["conv1"] = self.conv1(inputs, training=training)
        net = end_points["pool1"] = layers.max_pool2d(net, 2, 2)
        net = end_points["conv2"] = self.conv2(net, training=training)
        net = end_points["pool2"] = layers.max_pool2d(net, 2, 2)
        net = end_points["Flatten"] = tf_keras.layers.Flatten()(net)
        net = end_points["fc3"] = self.fc3(net, training=training)
        if not self.num_classes:
            return net, end_points
        net = end_points["dropout3"] = self.dropout3(net, training=training)
        logits = end_points["Logits"] = self.fc4(net, training=training)
        end_points["Predictions"] = tf.nn.softmax(logits)
        return logits, end_points


NETS = (NetSpec(name="lenet", builder=LeNet, default_image_size=28, num_classes=10,
                preprocessing="lenet", scope="LeNet", logits_scopes=("LeNet/fc4",),
                checkpoint_num_classes=10, kwargs=("dropout_keep_prob",)),)
