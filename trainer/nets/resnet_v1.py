"""ResNet v1 (slim nets/resnet_v1.py): resnet_v1_50/101/152/200.

Bottleneck with BN after every conv; projection shortcut only where the depth
changes; the block stride sits on the last unit of blocks 1-3.
"""
from __future__ import annotations

import functools
from typing import Optional


from trainer.nets import resnet_utils


class BottleneckV1(resnet_utils.Bottleneck):
    """slim ``resnet_v1.bottleneck``: BN after every conv, ReLU after the addition."""

    NAME = "bottleneck_v1"
    PREACTIVATION = False


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


_KWARGS = ("global_pool", "output_stride", "spatial_squeeze", "store_non_strided_activations",
           "min_base_depth", "depth_multiplier")
# The released v1 checkpoints are Caffe conversions with 1000 classes.
NETS = tuple(resnet_utils.resnet_spec(f"resnet_v1_{depth}", functools.partial(ResNetV1, depth=depth),
                                      checkpoint_num_classes=1000, kwargs=_KWARGS)
             for depth in UNITS)
