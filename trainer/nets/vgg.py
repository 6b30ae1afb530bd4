"""Oxford VGG (slim nets/vgg.py): vgg_a (11 layers), vgg_16, vgg_19.

The fully connected layers are convolutions (``fc6`` 7x7 VALID, ``fc7`` and
``fc8`` 1x1), there is no BatchNorm and biases start at zero. :class:`ConvFCHead`
is the fc6..fc8 head shared with alexnet_v2 and overfeat, :class:`FiveConvNet` their
common body and :func:`conv_fc_spec` the registry record of all five nets.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Dict, Mapping, Sequence, Tuple

import tensorflow as tf
import tf_keras

from trainer.nets import layers
from trainer.nets.base import SlimModel
from trainer.nets.registry import NetSpec


def vgg_arg_scope(weight_decay: float = 0.0005) -> layers.ArgScope:
    """slim ``vgg_arg_scope``: ReLU, L2 on weights, zero biases, SAME convs.

    slim's ``overfeat_arg_scope`` sets the same, ``alexnet_v2_arg_scope`` too but for
    biases of 0.1 (:attr:`FiveConvNet.CONV_BIASES`); their VALID pools are the pools' default.
    """
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


class FiveConvNet(SlimModel):
    """slim's alexnet_v2 and overfeat: conv1 … conv5, max pools after conv1, conv2 and
    conv5, then :class:`ConvFCHead` with truncated_normal(0.005) weights and biases 0.1
    (fc8 zeros). Subclasses set the class attributes below.

    End points ``<scope>/conv1`` … ``conv5``, ``pool1/2/5``, ``fc6``, ``fc7``,
    ``global_pool``, ``<scope>/fc8``.
    """

    SCOPE: str
    DEFAULT_IMAGE_SIZE: int
    # (depth, kernel, other slim.conv2d arguments) of conv1 … conv5.
    CONVS: Sequence[Tuple[int, int, Mapping[str, Any]]]
    CONV_BIASES: Any  # biases_initializer of conv1 … conv5
    POOL_KERNEL: int  # the pools' kernel; their stride is 2
    FC6: Tuple[int, int]  # (depth, kernel) of fc6; fc7 is 4096 wide

    def __init__(self, num_classes: int = 1000, is_training: bool = False,
                 weight_decay: float = 0.0005, dropout_keep_prob: float = 0.5,
                 spatial_squeeze: bool = True, global_pool: bool = False):
        super().__init__(spec_name=self.SCOPE, scope=self.SCOPE, num_classes=num_classes,
                         is_training=is_training, default_image_size=self.DEFAULT_IMAGE_SIZE)
        sc = vgg_arg_scope(weight_decay)
        for index, (depth, kernel, conv_kwargs) in enumerate(self.CONVS, start=1):
            setattr(self, f"conv{index}", sc.conv2d(depth, kernel, biases_initializer=self.CONV_BIASES,
                                                    scope=f"{self.SCOPE}/conv{index}", **conv_kwargs))
        fc_sc = sc.replace(weights_initializer=layers.FreshInitializer(
            tf_keras.initializers.TruncatedNormal(stddev=0.005)))
        self.head = ConvFCHead(self.SCOPE, fc_sc, self.FC6[0], self.FC6[1], 4096, num_classes,
                               dropout_keep_prob, global_pool=global_pool,
                               spatial_squeeze=spatial_squeeze,
                               fc_biases_initializer=tf_keras.initializers.Constant(0.1))

    def forward(self, inputs, training):
        end_points = {}
        net = inputs
        for index in range(1, len(self.CONVS) + 1):
            conv = getattr(self, f"conv{index}")
            net = end_points[conv.scope] = conv(net, training=training)
            if index in (1, 2, 5):
                net = end_points[f"{self.scope}/pool{index}"] = layers.max_pool2d(
                    net, self.POOL_KERNEL, 2)
        net, head_end_points = self.head(net, training=training)
        end_points.update(head_end_points)
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


def conv_fc_spec(name: str, builder: Callable[..., SlimModel], default_image_size: int,
                 min_image_size: int, kwargs: Tuple[str, ...] = ()) -> NetSpec:
    """The registry record of a net with the :class:`ConvFCHead` (vgg, alexnet_v2, overfeat):
    1000 classes as the released checkpoints, vgg preprocessing, logits ``<name>/fc8``."""
    return NetSpec(name=name, builder=builder, default_image_size=default_image_size,
                   num_classes=1000, preprocessing="vgg", scope=name, logits_scopes=(f"{name}/fc8",),
                   checkpoint_num_classes=1000,
                   kwargs=("dropout_keep_prob", "spatial_squeeze", "global_pool") + kwargs,
                   min_image_size=min_image_size)


# fc6 is a VALID 7x7 conv on pool5 (input / 32).
NETS = tuple(conv_fc_spec(name, functools.partial(VGG, name=name), 224, min_image_size=224,
                          kwargs=("fc_conv_padding",))
             for name in CONFIGS)
