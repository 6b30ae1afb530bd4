"""ResNet v2, full pre-activation (slim nets/resnet_v2.py): resnet_v2_50/101/152/200.

Each unit starts with a ``preact`` BN+ReLU; conv1 (root), the projection
shortcut and conv3 have biases and no BN; a ``postnorm`` BN+ReLU follows the
last block.
"""
from __future__ import annotations

import functools
from typing import Optional


from trainer.nets import resnet_utils
from trainer.nets.resnet_v1 import UNITS, resnet_v1_blocks


class BottleneckV2(resnet_utils.Bottleneck):
    """slim ``resnet_v2.bottleneck``: full pre-activation (``preact`` BN+ReLU first)."""

    NAME = "bottleneck_v2"
    PREACTIVATION = True


class ResNetV2(resnet_utils.ResNet):
    """resnet_v2_<depth>; scope ``resnet_v2_<depth>``."""

    def __init__(self, depth: int = 50, num_classes: int = 1000, is_training: bool = False,
                 weight_decay: float = 0.0001, global_pool: bool = True,
                 output_stride: Optional[int] = None, spatial_squeeze: bool = True):
        name = f"resnet_v2_{depth}"
        blocks = resnet_v1_blocks(depth)  # slim's resnet_v2_block lays units out the same way
        # conv1 has no BN/activation: the first unit's preact does that (slim, Appendix of [2]).
        root = resnet_utils.resnet_arg_scope(weight_decay=weight_decay).replace(
            activation=None, batch_norm=None)
        super().__init__(spec_name=name, scope=name, blocks=blocks, unit_builder=BottleneckV2,
                         root_arg_scope=root, postnorm=True, num_classes=num_classes,
                         is_training=is_training, weight_decay=weight_decay,
                         global_pool=global_pool, output_stride=output_stride,
                         spatial_squeeze=spatial_squeeze)


_KWARGS = ("global_pool", "output_stride", "spatial_squeeze")
# The released v2 checkpoints have a background class (1001 outputs).
NETS = tuple(resnet_utils.resnet_spec(f"resnet_v2_{depth}", functools.partial(ResNetV2, depth=depth),
                                      checkpoint_num_classes=1001, kwargs=_KWARGS)
             for depth in UNITS)
