"""MobileNet V2 (slim nets/mobilenet/mobilenet_v2.py): scope ``MobilenetV2``.

``Conv`` (32, stride 2) -> 17 ``expanded_conv*`` blocks (the first with
expansion 1, so it has no ``expand`` conv) -> ``Conv_1`` (1280) -> ``Logits``.
nets_factory's ``mobilenet_v2_050`` / ``_035`` set
``finegrain_classification_mode`` so ``Conv_1`` stays 1280 wide.
"""
from __future__ import annotations

from typing import Optional

import tensorflow as tf

from trainer.nets import mobilenet_common as common

_E = common.ExpandedConvDef

# V2_DEF spec; every conv/depthwise uses BN + ReLU6, the project conv is linear.
V2_DEF = (
    common.ConvDef(32, 3, stride=2),
    _E(16, expansion=1, expansion_divisible_by=1),
    _E(24, stride=2), _E(24),
    _E(32, stride=2), _E(32), _E(32),
    _E(64, stride=2), _E(64), _E(64), _E(64),
    _E(96), _E(96), _E(96),
    _E(160, stride=2), _E(160), _E(160),
    _E(320),
    common.ConvDef(1280, 1),
)


class MobilenetV2(common.MobilenetV2Family):
    """slim ``mobilenet_v2.mobilenet`` under ``mobilenet_v2.training_scope``."""

    FINEGRAIN_DIVIDES = True

    def __init__(self, num_classes: int = 1001, is_training: bool = False,
                 weight_decay: float = 0.0, depth_multiplier: float = 1.0,
                 finegrain_classification_mode: bool = False, min_depth: Optional[int] = None,
                 divisible_by: Optional[int] = None, output_stride: Optional[int] = None,
                 use_explicit_padding: bool = False,
                 dropout_keep_prob: float = common.TRAINING_SCOPE_DROPOUT_KEEP_PROB,
                 spec_name: str = "mobilenet_v2"):
        super().__init__(
            spec_name=spec_name, scope="MobilenetV2", conv_defs=V2_DEF,
            default_activation=tf.nn.relu6, num_classes=num_classes, is_training=is_training,
            weight_decay=weight_decay, depth_multiplier=depth_multiplier,
            finegrain_classification_mode=finegrain_classification_mode,
            # None means slim's depth_multiplier defaults (min_depth=8, divisible_by=8).
            min_depth=8 if min_depth is None else min_depth,
            divisible_by=8 if divisible_by is None else divisible_by,
            output_stride=output_stride, use_explicit_padding=use_explicit_padding,
            dropout_keep_prob=dropout_keep_prob)


_KWARGS = ("depth_multiplier", "finegrain_classification_mode", "min_depth", "divisible_by",
           "output_stride", "use_explicit_padding", "dropout_keep_prob")


NETS = tuple(common.mobilenet_spec(name, MobilenetV2, scope="MobilenetV2", kwargs=_KWARGS, **defaults)
             for name, defaults in (
                 ("mobilenet_v2", {}),
                 ("mobilenet_v2_140", {"depth_multiplier": 1.4}),
                 ("mobilenet_v2_050", {"depth_multiplier": 0.5, "finegrain_classification_mode": True}),
                 ("mobilenet_v2_035", {"depth_multiplier": 0.35, "finegrain_classification_mode": True})))
