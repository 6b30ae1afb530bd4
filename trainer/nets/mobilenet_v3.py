"""MobileNet V3 and MobilenetEdgeTPU (slim nets/mobilenet/mobilenet_v3.py).

small/large and their minimalistic variants (no squeeze-excite, no hard-swish,
no 5x5 depthwise) live under scope ``MobilenetV3``; the EdgeTPU variant
(``edge_tpu``: fused k x k expansions instead of depthwise in the early blocks,
no 1x1 head before the pool) under ``MobilenetEdgeTPU``.

Hard-swish activations, squeeze-excite blocks (``expanded_conv_k/squeeze_excite/
{Conv,Conv_1}``) and a head of ``Conv_1`` (BN) -> 7x7 avg pool -> ``Conv_2``
(biases, no BN) -> ``Logits``. End points run ``layer_1`` … ``layer_19``
(large) / ``layer_15`` (small).
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Sequence, Tuple

import tensorflow as tf

from trainer.nets import mobilenet_common as common
from trainer.nets.registry import NetSpec

_HS = common.hard_swish
_RELU = tf.nn.relu


def _mbv3(ef: float, n: int, k: int, s: int = 1, act=_RELU, se: bool = False,
          residual: bool = True, fused: bool = False):
    """mobilenet_v3.mbv3_op / mbv3_op_se / mbv3_fused."""
    return common.ExpandedConvDef(n, expansion=ef, stride=s, kernel_size=k, activation=act,
                                  squeeze_excite=se, residual=residual, fused=fused)


def _head(expanded: int, features: int) -> Tuple[common.OpDef, ...]:
    """v3's head: 1x1 conv (BN, hard-swish), 7x7 avg pool, 1x1 conv with biases and no BN."""
    return (common.ConvDef(expanded, 1, activation=_HS), common.PoolDef(default_size=7),
            common.ConvDef(features, 1, activation=_HS, batch_norm=False))


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
    *_head(960, 1280),
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
    *_head(576, 1024),
)



def _minimalistic(conv_defs: Sequence[common.OpDef]) -> Tuple[common.OpDef, ...]:
    """slim's V3_*_MINIMALISTIC: the same depths with ReLU everywhere, 3x3 kernels and no SE."""
    ops = []
    for op in conv_defs:
        if isinstance(op, common.ConvDef):
            op = dataclasses.replace(op, activation=common.DEFAULT)
        elif isinstance(op, common.ExpandedConvDef):
            op = dataclasses.replace(op, activation=_RELU, kernel_size=3, squeeze_excite=False)
        ops.append(op)
    return tuple(ops)


V3_LARGE_MINIMALISTIC = _minimalistic(V3_LARGE)
V3_SMALL_MINIMALISTIC = _minimalistic(V3_SMALL)

V3_EDGETPU = (
    common.ConvDef(32, 3, stride=2),
    _mbv3(1, 16, 3, fused=True),
    _mbv3(8, 32, 3, s=2, fused=True),
    _mbv3(4, 32, 3, fused=True),
    _mbv3(4, 32, 3, fused=True),
    _mbv3(4, 32, 3, fused=True),
    _mbv3(8, 48, 3, s=2, fused=True),
    _mbv3(4, 48, 3, fused=True),
    _mbv3(4, 48, 3, fused=True),
    _mbv3(4, 48, 3, fused=True),
    _mbv3(8, 96, 3, s=2),
    _mbv3(4, 96, 3),
    _mbv3(4, 96, 3),
    _mbv3(4, 96, 3),
    _mbv3(8, 96, 3, residual=False),
    _mbv3(4, 96, 3),
    _mbv3(4, 96, 3),
    _mbv3(4, 96, 3),
    _mbv3(8, 160, 5, s=2),
    _mbv3(4, 160, 5),
    _mbv3(4, 160, 5),
    _mbv3(4, 160, 5),
    _mbv3(8, 192, 3),
    common.ConvDef(1280, 1),
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
                 spec_name: str = "mobilenet_v3_large", scope: str = "MobilenetV3"):
        super().__init__(
            spec_name=spec_name, scope=scope, conv_defs=conv_defs,
            default_activation=tf.nn.relu, num_classes=num_classes, is_training=is_training,
            weight_decay=weight_decay, depth_multiplier=depth_multiplier,
            finegrain_classification_mode=finegrain_classification_mode,
            dropout_keep_prob=dropout_keep_prob)


_KWARGS = ("depth_multiplier", "finegrain_classification_mode", "dropout_keep_prob")


def _spec(name: str, conv_defs: Sequence[common.OpDef], scope: str = "MobilenetV3", **defaults) -> NetSpec:
    """One nets_factory key: mobilenet_v3.mobilenet over ``conv_defs`` with slim's partials."""
    return common.mobilenet_spec(name, functools.partial(MobilenetV3, conv_defs=conv_defs, scope=scope),
                                 scope=scope, kwargs=_KWARGS, **defaults)


NETS = (
    _spec("mobilenet_v3_small", V3_SMALL),
    _spec("mobilenet_v3_large", V3_LARGE),
    _spec("mobilenet_v3_small_minimalistic", V3_SMALL_MINIMALISTIC),
    _spec("mobilenet_v3_large_minimalistic", V3_LARGE_MINIMALISTIC),
    _spec("mobilenet_edgetpu", V3_EDGETPU, scope="MobilenetEdgeTPU"),
    _spec("mobilenet_edgetpu_075", V3_EDGETPU, scope="MobilenetEdgeTPU", depth_multiplier=0.75,
          finegrain_classification_mode=True),
)
