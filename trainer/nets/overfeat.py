"""OverFeat, the "fast" model (slim nets/overfeat.py).

FC layers are convolutions (fc6 6x6 VALID on pool5, 3072 then 4096 channels);
the head uses truncated_normal(0.005) weights with biases 0.1 (fc8 zeros).
"""
from __future__ import annotations

import tensorflow as tf
import tf_keras

from trainer.nets import layers
from trainer.nets.base import SlimModel
from trainer.nets.registry import NetSpec, register
from trainer.nets.vgg import ConvFCHead

SCOPE = "overfeat"


def overfeat_arg_scope(weight_decay: float = 0.0005) -> layers.ArgScope:
    """slim ``overfeat_arg_scope``: ReLU, L2, zero biases, SAME convs, VALID pools."""
    return layers.ArgScope(weight_decay=weight_decay, activation=tf.nn.relu, padding="SAME")


class OverFeat(SlimModel):
    """slim's overfeat; default input 231. End points ``overfeat/conv1`` …
    ``pool5``, ``fc6``, ``fc7``, ``global_pool``, ``overfeat/fc8``."""

    def __init__(self, num_classes: int = 1000, is_training: bool = False,
                 weight_decay: float = 0.0005, dropout_keep_prob: float = 0.5,
                 spatial_squeeze: bool = True, global_pool: bool = False):
        super().__init__(spec_name=SCOPE, scope=SCOPE, num_classes=num_classes,
                         is_training=is_training, default_image_size=231)
        sc = overfeat_arg_scope(weight_decay)
        self.conv1 = sc.conv2d(64, 11, stride=4, padding="VALID", scope=f"{SCOPE}/conv1")
        self.conv2 = sc.conv2d(256, 5, padding="VALID", scope=f"{SCOPE}/conv2")
        self.conv3 = sc.conv2d(512, 3, scope=f"{SCOPE}/conv3")
        self.conv4 = sc.conv2d(1024, 3, scope=f"{SCOPE}/conv4")
        self.conv5 = sc.conv2d(1024, 3, scope=f"{SCOPE}/conv5")
        fc_sc = sc.replace(weights_initializer=layers.FreshInitializer(
            tf_keras.initializers.TruncatedNormal(stddev=0.005)))
        self.head = ConvFCHead(SCOPE, fc_sc, 3072, 6, 4096, num_classes, dropout_keep_prob,
                               global_pool=global_pool, spatial_squeeze=spatial_squeeze,
                               fc_biases_initializer=tf_keras.initializers.Constant(0.1))

    def forward(self, inputs, training):
        end_points = {}
        net = end_points[f"{SCOPE}/conv1"] = self.conv1(inputs, training=training)
        net = end_points[f"{SCOPE}/pool1"] = layers.max_pool2d(net, 2, 2)
        net = end_points[f"{SCOPE}/conv2"] = self.conv2(net, training=training)
        net = end_points[f"{SCOPE}/pool2"] = layers.max_pool2d(net, 2, 2)
        net = end_points[f"{SCOPE}/conv3"] = self.conv3(net, training=training)
        net = end_points[f"{SCOPE}/conv4"] = self.conv4(net, training=training)
        net = end_points[f"{SCOPE}/conv5"] = self.conv5(net, training=training)
        net = end_points[f"{SCOPE}/pool5"] = layers.max_pool2d(net, 2, 2)
        net, head_end_points = self.head(net, training=training)
        end_points.update(head_end_points)
        return net, end_points


register(NetSpec(name=SCOPE, builder=OverFeat, default_image_size=231, num_classes=1000,
                 preprocessing="vgg", scope=SCOPE, logits_scopes=(f"{SCOPE}/fc8",),
                 checkpoint_num_classes=1000,
                 kwargs=("dropout_keep_prob", "spatial_squeeze", "global_pool"),
                 # conv1 11x11/4 VALID, conv2 5x5 VALID and three 2x2 pools must leave 6x6.
                 min_image_size=231))
