"""AlexNet v2, the "One weird trick" variant without LRN (slim nets/alexnet.py).

FC layers are convolutions (fc6 5x5 VALID); fc6-fc8 use truncated_normal(0.005)
weights, biases start at 0.1 except fc8's zeros.
"""
from __future__ import annotations

import tensorflow as tf
import tf_keras

from trainer.nets import layers
from trainer.nets.base import SlimModel
from trainer.nets.registry import NetSpec, register
from trainer.nets.vgg import ConvFCHead

SCOPE = "alexnet_v2"


def alexnet_v2_arg_scope(weight_decay: float = 0.0005) -> layers.ArgScope:
    """slim ``alexnet_v2_arg_scope``: ReLU, L2, biases 0.1, SAME convs, VALID pools."""
    return layers.ArgScope(weight_decay=weight_decay, activation=tf.nn.relu, padding="SAME")


class AlexNetV2(SlimModel):
    """slim's alexnet_v2 (current signature with ``global_pool`` and num_classes=0).

    End points ``alexnet_v2/conv1`` … ``conv5``, ``pool1/2/5``, ``fc6``, ``fc7``,
    ``global_pool``, ``alexnet_v2/fc8``.
    """

    def __init__(self, num_classes: int = 1000, is_training: bool = False,
                 weight_decay: float = 0.0005, dropout_keep_prob: float = 0.5,
                 spatial_squeeze: bool = True, global_pool: bool = False):
        super().__init__(spec_name=SCOPE, scope=SCOPE, num_classes=num_classes,
                         is_training=is_training, default_image_size=224)
        bias_01 = tf_keras.initializers.Constant(0.1)
        sc = alexnet_v2_arg_scope(weight_decay)
        self.conv1 = sc.conv2d(64, 11, stride=4, padding="VALID", biases_initializer=bias_01,
                               scope=f"{SCOPE}/conv1")
        self.conv2 = sc.conv2d(192, 5, biases_initializer=bias_01, scope=f"{SCOPE}/conv2")
        self.conv3 = sc.conv2d(384, 3, biases_initializer=bias_01, scope=f"{SCOPE}/conv3")
        self.conv4 = sc.conv2d(384, 3, biases_initializer=bias_01, scope=f"{SCOPE}/conv4")
        self.conv5 = sc.conv2d(256, 3, biases_initializer=bias_01, scope=f"{SCOPE}/conv5")
        fc_sc = sc.replace(weights_initializer=layers.FreshInitializer(
            tf_keras.initializers.TruncatedNormal(stddev=0.005)))
        self.head = ConvFCHead(SCOPE, fc_sc, 4096, 5, 4096, num_classes, dropout_keep_prob,
                               global_pool=global_pool, spatial_squeeze=spatial_squeeze,
                               fc_biases_initializer=bias_01)

    def forward(self, inputs, training):
        end_points = {}
        net = end_points[f"{SCOPE}/conv1"] = self.conv1(inputs, training=training)
        net = end_points[f"{SCOPE}/pool1"] = layers.max_pool2d(net, 3, 2)
        net = end_points[f"{SCOPE}/conv2"] = self.conv2(net, training=training)
        net = end_points[f"{SCOPE}/pool2"] = layers.max_pool2d(net, 3, 2)
        net = end_points[f"{SCOPE}/conv3"] = self.conv3(net, training=training)
        net = end_points[f"{SCOPE}/conv4"] = self.conv4(net, training=training)
        net = end_points[f"{SCOPE}/conv5"] = self.conv5(net, training=training)
        net = end_points[f"{SCOPE}/pool5"] = layers.max_pool2d(net, 3, 2)
        net, head_end_points = self.head(net, training=training)
        end_points.update(head_end_points)
        return net, end_points


register(NetSpec(name=SCOPE, builder=AlexNetV2, default_image_size=224, num_classes=1000,
                 preprocessing="vgg", scope=SCOPE, logits_scopes=(f"{SCOPE}/fc8",),
                 checkpoint_num_classes=1000,
                 kwargs=("dropout_keep_prob", "spatial_squeeze", "global_pool"),
                 # conv1 11x11/4 VALID and three 3x3/2 VALID pools must leave 5x5 for fc6.
                 min_image_size=195))
