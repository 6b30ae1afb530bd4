"""MobileNet V3 small/large (slim nets/mobilenet/mobilenet_v3.py): scope ``MobilenetV3``.

Hard-swish activations, squeeze-excite blocks (``expanded_conv_k/squeeze_excite/
{Conv,Conv_1}``) and a head of ``Conv_1`` (BN) -> 7x7 avg pool -> ``Conv_2``
(biases, no BN) -> ``Logits``. End points run ``layer_1`` … ``layer_19``
(large) / ``layer_15`` (small).
"""
from __future__ import annotations

import functools
from typing import Sequence

import tensorflow as tf

from trainer.nets import mobilenet_common as common
from trainer.nets.registry import NetSpec, register

_HS = common.hard_swish
_RELU = tf.nn.relu


def _mbv3(ef: float, n: int, k: int, s: int = 1, act=_RELU, se: bool = False):
    """mobilenet_v3.mbv3_op / mbv3_op_se."""
    return common.ExpandedConvDef(n, expansion=ef, stride=s, kernel_size=k, activation=act,
                                  squeeze_excite=se)


V3_LARGE = (
    common.ConvDef(16, 3, stride=2, activation=_HS),
    _mbv3(1, 16, 3),
    _mbv3(4, 24, 3, s=2),
    _mbv3(3, 24, 3),
    _mbv3(3, 40, 5, s=2, se=True),
    _mbv3(3, 40, 5, se=True),
    _mbv3(3, 40, 5, se=True),
    _mbv3(6, 80, 3, s=2, act=_HS),
    _mbv3(2.5, 80, 3, act=_HS),
    _mbv3(184 / 80., 80, 3, act=_HS),
    _mbv3(184 / 80., 80, 3, act=_HS),
    _mbv3(6, 112, 3, act=_HS, se=True),
    _mbv3(6, 112, 3, act=_HS, se=True),
    _mbv3(6, 160, 5, s=2, act=_HS, se=True),
    _mbv3(6, 160, 5, act=_HS, se=True),
    _mbv3(6, 160, 5, act=_HS, se=True),
    common.ConvDef(960, 1, activation=_HS),
    common.PoolDef(default_size=7),
    common.ConvDef(1280, 1, activation=_HS, batch_norm=False),
)

V3_SMALL = (
    common.ConvDef(16, 3, stride=2, activation=_HS),
    _mbv3(1, 16, 3, s=2, se=True),
    _mbv3(72. / 16, 24, 3, s=2),
    _mbv3(88. / 24, 24, 3),
    _mbv3(4, 40, 5, s=2, act=_HS, se=True),
    _mbv3(6, 40, 5, act=_HS, se=True),
    _mbv3(6, 40, 5, act=_HS, se=True),
    _mbv3(3, 48, 5, act=_HS, se=True),
    _mbv3(3, 48, 5, act=_HS, se=True),
    _mbv3(6, 96, 5, s=2, act=_HS, se=True),
    _mbv3(6, 96, 5, act=_HS, se=True),
    _mbv3(6, 96, 5, act=_HS, se=True),
    common.ConvDef(576, 1, activation=_HS),
    common.PoolDef(default_size=7),
    common.ConvDef(1024, 1, activation=_HS, batch_norm=False),
)


class MobilenetV3(common.MobilenetV2Family):
    """slim ``mobilenet_v3.mobilenet`` under ``mobilenet_v3.training_scope``.

    slim's v3 takes no min_depth/divisible_by, and its ``output_stride`` /
    ``use_explicit_padding`` paths fail on the avg-pool op, so neither is offered.
    """

    # v3's finegrain mode leaves the last op's depth unmultiplied.
    FINEGRAIN_DIVIDES = False

    def __init__(self, conv_defs: Sequence[common.OpDef] = V3_LARGE, num_classes: int = 1001,
                 is_training: bool = False, weight_decay: float = 0.0,
                 depth_multiplier: float = 1.0, finegrain_classification_mode: bool = False,
                 dropout_keep_prob: float = common.TRAINING_SCOPE_DROPOUT_KEEP_PROB,
                 spec_name: str = "mobilenet_v3_large"):
        super().__init__(
            spec_name=spec_name, scope="MobilenetV3", conv_defs=conv_defs,
            default_activation=tf.nn.relu, num_classes=num_classes, is_training=is_training,
            weight_decay=weight_decay, depth_multiplier=depth_multiplier,
            finegrain_classification_mode=finegrain_classification_mode,
            dropout_keep_prob=dropout_keep_prob)


_KWARGS = ("depth_multiplier", "finegrain_classification_mode", "dropout_keep_prob")

for _name, _defs in (("mobilenet_v3_small", V3_SMALL), ("mobilenet_v3_large", V3_LARGE)):
    register(NetSpec(name=_name,
                     builder=functools.partial(MobilenetV3, conv_defs=_defs, spec_name=_name),
                     default_image_size=224, num_classes=1001, preprocessing="inception",
                     scope="MobilenetV3", logits_scopes=("MobilenetV3/Logits",),
                     checkpoint_num_classes=1001, kwargs=_KWARGS))
