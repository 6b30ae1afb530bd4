"""ResNet v1 (slim nets/resnet_v1.py): resnet_v1_50/101/152/200.

Bottleneck with BN after every conv; projection shortcut only where the depth
changes; the block stride sits on the last unit of blocks 1-3.
"""
from __future__ import annotations

from typing import Optional

import tensorflow as tf
import tf_keras

from trainer.nets import layers, resnet_utils
from trainer.nets.registry import NetSpec, register


class BottleneckV1(tf_keras.layers.Layer):
    """slim ``resnet_v1.bottleneck``; ``scope`` is ``<net>/blockN/unit_M``.

    Returns ``(output, end_points)`` with the shortcut/conv1-3 outputs and the
    unit output under ``<scope>/bottleneck_v1[/...]``.
    """

    def __init__(self, arg_scope: layers.ArgScope, scope: str, depth_in: int,
                 plan: resnet_utils.UnitPlan):
        scope = f"{scope}/bottleneck_v1"
        super().__init__(name=scope.replace("/", "__"))
        self.scope = scope
        self.stride = plan.stride
        depth, bottleneck = plan.args.depth, plan.args.depth_bottleneck
        self.shortcut = (None if depth == depth_in else
                         arg_scope.conv2d(depth, 1, stride=plan.stride, activation=None,
                                          scope=f"{scope}/shortcut"))
        self.conv1 = arg_scope.conv2d(bottleneck, 1, scope=f"{scope}/conv1")
        self.conv2 = resnet_utils.Conv2dSame(arg_scope, bottleneck, 3, stride=plan.stride,
                                             rate=plan.rate, scope=f"{scope}/conv2")
        self.conv3 = arg_scope.conv2d(depth, 1, activation=None, scope=f"{scope}/conv3")

    def call(self, inputs, training=None):
        end_points = {}
        if self.shortcut is None:
            shortcut = resnet_utils.subsample(inputs, self.stride)
        else:
            shortcut = end_points[f"{self.scope}/shortcut"] = self.shortcut(inputs, training=training)
        residual = end_points[f"{self.scope}/conv1"] = self.conv1(inputs, training=training)
        residual = end_points[f"{self.scope}/conv2"] = self.conv2(residual, training=training)
        residual = end_points[f"{self.scope}/conv3"] = self.conv3(residual, training=training)
        output = end_points[self.scope] = tf.nn.relu(shortcut + residual)
        return output, end_points


# (units in blocks 1-4) per depth, from slim's resnet_v1_N functions.
UNITS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3), 200: (3, 24, 36, 3)}


def resnet_v1_blocks(depth: int, min_base_depth: int = 8,
                     depth_multiplier: float = 1) -> list:
    """slim's block list for resnet_v1_<depth> with its depth_func."""
    def depth_func(d):
        return max(int(d * depth_multiplier), min_base_depth)
    units = UNITS[depth]
    return [resnet_utils.resnet_block(f"block{i + 1}", depth_func(base), units[i],
                                      stride=2 if i < 3 else 1)
            for i, base in enumerate((64, 128, 256, 512))]


class ResNetV1(resnet_utils.ResNet):
    """resnet_v1_<depth>; scope ``resnet_v1_<depth>``."""

    def __init__(self, depth: int = 50, num_classes: int = 1000, is_training: bool = False,
                 weight_decay: float = 0.0001, global_pool: bool = True,
                 output_stride: Optional[int] = None, spatial_squeeze: bool = True,
                 store_non_strided_activations: bool = False, min_base_depth: int = 8,
                 depth_multiplier: float = 1):
        name = f"resnet_v1_{depth}"
        super().__init__(spec_name=name, scope=name,
                         blocks=resnet_v1_blocks(depth, min_base_depth, depth_multiplier),
                         unit_builder=BottleneckV1, num_classes=num_classes,
                         is_training=is_training, weight_decay=weight_decay,
                         global_pool=global_pool, output_stride=output_stride,
                         spatial_squeeze=spatial_squeeze,
                         store_non_strided_activations=store_non_strided_activations)


def _builder(depth: int):
    def build(**kwargs) -> ResNetV1:
        return ResNetV1(depth=depth, **kwargs)
    build.__name__ = f"resnet_v1_{depth}"
    build.__doc__ = f"Builds slim's resnet_v1_{depth}."
    return build


for _depth in UNITS:
    _name = f"resnet_v1_{_depth}"
    # slim's num_classes default is None; 1000 matches the released (Caffe-converted) checkpoints.
    register(NetSpec(name=_name, builder=_builder(_depth), default_image_size=224,
                     num_classes=1000, preprocessing="vgg", scope=_name,
                     logits_scopes=(f"{_name}/logits",), checkpoint_num_classes=1000,
                     kwargs=("global_pool", "output_stride", "spatial_squeeze",
                             "store_non_strided_activations", "min_base_depth",
                             "depth_multiplier")))
