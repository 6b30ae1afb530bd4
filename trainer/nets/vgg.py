"""Oxford VGG (slim nets/vgg.py): vgg_a (11 layers), vgg_16, vgg_19.

The fully connected layers are convolutions (``fc6`` 7x7 VALID, ``fc7`` and
``fc8`` 1x1), there is no BatchNorm and biases start at zero. :class:`ConvFCHead`
is the fc6..fc8 head shared with alexnet_v2 and overfeat.
"""
from __future__ import annotations

from typing import Dict, Sequence, Tuple

import tensorflow as tf
import tf_keras

from trainer.nets import layers
from trainer.nets.base import SlimModel
from trainer.nets.registry import NetSpec, register


def vgg_arg_scope(weight_decay: float = 0.0005) -> layers.ArgScope:
    """slim ``vgg_arg_scope``: ReLU, L2 on weights, zero biases, SAME convs."""
    return layers.ArgScope(weight_decay=weight_decay, activation=tf.nn.relu, padding="SAME")


class ConvFCHead(tf_keras.layers.Layer):
    """fc6 (k x k conv) → dropout6 → fc7 (1x1) → [global_pool] → dropout7 → fc8 (1x1).

    Mirrors the common tail of slim's vgg_*, alexnet_v2 and overfeat: end points
    ``<scope>/fc6``, ``<scope>/fc7``, ``global_pool`` and ``<scope>/fc8`` (squeezed
    when ``spatial_squeeze``); with ``num_classes`` 0 the fc7 (or pooled)
    features are returned.

    Args:
      arg_scope: arg scope of fc6-fc8 (alexnet/overfeat pass one with their
        truncated_normal(0.005) weights initializer).
      fc_biases_initializer: biases of fc6/fc7 (fc8's are always zeros).
    """

    def __init__(self, scope: str, arg_scope: layers.ArgScope, fc6_depth: int, fc6_kernel: int,
                 fc7_depth: int, num_classes: int, dropout_keep_prob: float,
                 fc_conv_padding: str = "VALID", global_pool: bool = False,
                 spatial_squeeze: bool = True, fc_biases_initializer="zeros"):
        super().__init__(name=f"{scope}__head")
        self.scope = scope
        self.num_classes = num_classes
        self.global_pool = global_pool
        self.spatial_squeeze = spatial_squeeze
        self.fc6 = arg_scope.conv2d(fc6_depth, fc6_kernel, padding=fc_conv_padding,
                                    biases_initializer=fc_biases_initializer, scope=f"{scope}/fc6")
        self.dropout6 = tf_keras.layers.Dropout(1.0 - dropout_keep_prob)
        self.fc7 = arg_scope.conv2d(fc7_depth, 1, biases_initializer=fc_biases_initializer,
                                    scope=f"{scope}/fc7")
        self.dropout7 = tf_keras.layers.Dropout(1.0 - dropout_keep_prob)
        self.fc8 = (arg_scope.conv2d(num_classes, 1, activation=None, batch_norm=None,
                                     biases_initializer="zeros", scope=f"{scope}/fc8")
                    if num_classes else None)

    def call(self, inputs, training=None) -> Tuple[tf.Tensor, Dict[str, tf.Tensor]]:
        end_points = {}
        net = end_points[f"{self.scope}/fc6"] = self.fc6(inputs, training=training)
        net = self.dropout6(net, training=training)
        net = end_points[f"{self.scope}/fc7"] = self.fc7(net, training=training)
        if self.global_pool:
            net = end_points["global_pool"] = layers.global_avg_pool(net)
        if not self.num_classes:
            return net, end_points
        net = self.dropout7(net, training=training)
        net = self.fc8(net, training=training)
        if self.spatial_squeeze:
            net = tf.squeeze(net, [1, 2], name="fc8/squeezed")
        end_points[f"{self.scope}/fc8"] = net
        return net, end_points


# Convs per block (64, 128, 256, 512, 512 channels) for each configuration.
CONFIGS: Dict[str, Sequence[int]] = {
    "vgg_a": (1, 1, 2, 2, 2),
    "vgg_16": (2, 2, 3, 3, 3),
    "vgg_19": (2, 2, 4, 4, 4),
}
_DEPTHS = (64, 128, 256, 512, 512)


class VGG(SlimModel):
    """slim's vgg_a / vgg_16 / vgg_19 (scope = the name).

    End points: ``<scope>/convB/convB_i`` (slim.repeat naming), ``<scope>/poolB``,
    then the :class:`ConvFCHead` ones. No ``Predictions`` (slim sets none).
    """

    def __init__(self, name: str = "vgg_16", num_classes: int = 1000, is_training: bool = False,
                 weight_decay: float = 0.0005, dropout_keep_prob: float = 0.5,
                 spatial_squeeze: bool = True, fc_conv_padding: str = "VALID",
                 global_pool: bool = False):
        super().__init__(spec_name=name, scope=name, num_classes=num_classes,
                         is_training=is_training, default_image_size=224)
        sc = vgg_arg_scope(weight_decay)
        self.blocks = [[sc.conv2d(depth, 3, scope=f"{name}/conv{b + 1}/conv{b + 1}_{i + 1}")
                        for i in range(repeats)]
                       for b, (depth, repeats) in enumerate(zip(_DEPTHS, CONFIGS[name]))]
        self.head = ConvFCHead(name, sc, 4096, 7, 4096, num_classes, dropout_keep_prob,
                               fc_conv_padding=fc_conv_padding, global_pool=global_pool,
                               spatial_squeeze=spatial_squeeze)

    def forward(self, inputs, training):
        end_points = {}
        net = inputs
        for b, convs in enumerate(self.blocks):
            for conv in convs:
                net = end_points[conv.scope] = conv(net, training=training)
            net = end_points[f"{self.scope}/pool{b + 1}"] = layers.max_pool2d(net, 2, 2)
        net, head_end_points = self.head(net, training=training)
        end_points.update(head_end_points)
        return net, end_points


def _builder(name: str):
    def build(**kwargs) -> VGG:
        return VGG(name=name, **kwargs)
    build.__name__ = name
    build.__doc__ = f"Builds slim's {name}."
    return build


for _name in CONFIGS:
    register(NetSpec(name=_name, builder=_builder(_name), default_image_size=224,
                     num_classes=1000, preprocessing="vgg", scope=_name,
                     logits_scopes=(f"{_name}/fc8",), checkpoint_num_classes=1000,
                     kwargs=("dropout_keep_prob", "spatial_squeeze", "fc_conv_padding",
                             "global_pool"),
                     # fc6 is a VALID 7x7 conv on pool5 (input / 32).
                     min_image_size=224))
