"""ResNet v2, full pre-activation (slim nets/resnet_v2.py): resnet_v2_50/101/152/200.

Each unit starts with a ``preact`` BN+ReLU; conv1 (root), the projection
shortcut and conv3 have biases and no BN; a ``postnorm`` BN+ReLU follows the
last block.
"""
from __future__ import annotations

from typing import Optional

import tensorflow as tf
import tf_keras

from trainer.nets import layers, resnet_utils
from trainer.nets.registry import NetSpec, register
from trainer.nets.resnet_v1 import UNITS


class BottleneckV2(tf_keras.layers.Layer):
    """slim ``resnet_v2.bottleneck``; ``scope`` is ``<net>/blockN/unit_M``."""

    def __init__(self, arg_scope: layers.ArgScope, scope: str, depth_in: int,
                 plan: resnet_utils.UnitPlan):
        scope = f"{scope}/bottleneck_v2"
        super().__init__(name=scope.replace("/", "__"))
        self.scope = scope
        self.stride = plan.stride
        depth, bottleneck = plan.args.depth, plan.args.depth_bottleneck
        self.preact = layers.BatchNorm(f"{scope}/preact", arg_scope.batch_norm,
                                       activation=tf.nn.relu)
        self.shortcut = (None if depth == depth_in else
                         arg_scope.conv2d(depth, 1, stride=plan.stride, activation=None,
                                          batch_norm=None, scope=f"{scope}/shortcut"))
        self.conv1 = arg_scope.conv2d(bottleneck, 1, scope=f"{scope}/conv1")
        self.conv2 = resnet_utils.Conv2dSame(arg_scope, bottleneck, 3, stride=plan.stride,
                                             rate=plan.rate, scope=f"{scope}/conv2")
        self.conv3 = arg_scope.conv2d(depth, 1, activation=None, batch_norm=None,
                                      scope=f"{scope}/conv3")

    def call(self, inputs, training=None):
        end_points = {}
        preact = self.preact(inputs, training=training)
        if self.shortcut is None:
            # The identity shortcut takes the unit input, not the pre-activation.
            shortcut = resnet_utils.subsample(inputs, self.stride)
        else:
            shortcut = end_points[f"{self.scope}/shortcut"] = self.shortcut(preact, training=training)
        residual = end_points[f"{self.scope}/conv1"] = self.conv1(preact, training=training)
        residual = end_points[f"{self.scope}/conv2"] = self.conv2(residual, training=training)
        residual = end_points[f"{self.scope}/conv3"] = self.conv3(residual, training=training)
        output = end_points[self.scope] = shortcut + residual
        return output, end_points


class ResNetV2(resnet_utils.ResNet):
    """resnet_v2_<depth>; scope ``resnet_v2_<depth>``."""

    def __init__(self, depth: int = 50, num_classes: int = 1000, is_training: bool = False,
                 weight_decay: float = 0.0001, global_pool: bool = True,
                 output_stride: Optional[int] = None, spatial_squeeze: bool = True):
        name = f"resnet_v2_{depth}"
        units = UNITS[depth]
        blocks = [resnet_utils.resnet_block(f"block{i + 1}", base, units[i],
                                            stride=2 if i < 3 else 1)
                  for i, base in enumerate((64, 128, 256, 512))]
        # conv1 has no BN/activation: the first unit's preact does that (slim, Appendix of [2]).
        root = resnet_utils.resnet_arg_scope(weight_decay=weight_decay).replace(
            activation=None, batch_norm=None)
        super().__init__(spec_name=name, scope=name, blocks=blocks, unit_builder=BottleneckV2,
                         root_arg_scope=root, postnorm=True, num_classes=num_classes,
                         is_training=is_training, weight_decay=weight_decay,
                         global_pool=global_pool, output_stride=output_stride,
                         spatial_squeeze=spatial_squeeze)


def _builder(depth: int):
    def build(**kwargs) -> ResNetV2:
        return ResNetV2(depth=depth, **kwargs)
    build.__name__ = f"resnet_v2_{depth}"
    build.__doc__ = f"Builds slim's resnet_v2_{depth}."
    return build


for _depth in UNITS:
    _name = f"resnet_v2_{_depth}"
    # The released v2 checkpoints have a background class (1001 outputs).
    register(NetSpec(name=_name, builder=_builder(_depth), default_image_size=224,
                     num_classes=1000, preprocessing="vgg", scope=_name,
                     logits_scopes=(f"{_name}/logits",), checkpoint_num_classes=1001,
                     kwargs=("global_pool", "output_stride", "spatial_squeeze")))
