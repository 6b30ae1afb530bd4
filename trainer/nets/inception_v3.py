"""Inception V3 (slim nets/inception_v3.py), aux head included."""
from __future__ import annotations

from typing import Callable, List, Sequence

from trainer.nets import inception_utils as iu
from trainer.nets import layers

SCOPE = "InceptionV3"
C, P, F = iu.Conv, iu.Pool, iu.Fork


def _avg_proj(depth: int) -> List[iu.Op]:
    return [P("AvgPool_0a_3x3", "avg", 3), C("Conv2d_0b_1x1", depth, 1)]


def _mixed_5(name: str, d: Callable[[int], int]) -> List[Sequence[iu.Op]]:
    # slim quirk: Mixed_5c's 5x5 tower is named Conv2d_0b_1x1 / Conv_1_0c_5x5.
    tower_5x5 = ([C("Conv2d_0b_1x1", d(48), 1), C("Conv_1_0c_5x5", d(64), 5)]
                 if name == "Mixed_5c" else
                 [C("Conv2d_0a_1x1", d(48), 1), C("Conv2d_0b_5x5", d(64), 5)])
    return [
        [C("Conv2d_0a_1x1", d(64), 1)],
        tower_5x5,
        [C("Conv2d_0a_1x1", d(64), 1), C("Conv2d_0b_3x3", d(96), 3),
         C("Conv2d_0c_3x3", d(96), 3)],
        _avg_proj(d(32) if name == "Mixed_5b" else d(64)),
    ]


def _mixed_6a(d: Callable[[int], int]) -> List[Sequence[iu.Op]]:
    # slim quirk: the 3x3 stride-2 convs are named Conv2d_1a_1x1.
    return [
        [C("Conv2d_1a_1x1", d(384), 3, stride=2, padding="VALID")],
        [C("Conv2d_0a_1x1", d(64), 1), C("Conv2d_0b_3x3", d(96), 3),
         C("Conv2d_1a_1x1", d(96), 3, stride=2, padding="VALID")],
        [P("MaxPool_1a_3x3", "max", 3, stride=2, padding="VALID")],
    ]


def _mixed_6(width: int, d: Callable[[int], int]) -> List[Sequence[iu.Op]]:
    """Mixed_6b..6e: factorized 7x7 towers; ``width`` is the inner depth."""
    return [
        [C("Conv2d_0a_1x1", d(192), 1)],
        [C("Conv2d_0a_1x1", d(width), 1), C("Conv2d_0b_1x7", d(width), (1, 7)),
         C("Conv2d_0c_7x1", d(192), (7, 1))],
        [C("Conv2d_0a_1x1", d(width), 1), C("Conv2d_0b_7x1", d(width), (7, 1)),
         C("Conv2d_0c_1x7", d(width), (1, 7)), C("Conv2d_0d_7x1", d(width), (7, 1)),
         C("Conv2d_0e_1x7", d(192), (1, 7))],
        _avg_proj(d(192)),
    ]


def _mixed_7a(d: Callable[[int], int]) -> List[Sequence[iu.Op]]:
    return [
        [C("Conv2d_0a_1x1", d(192), 1), C("Conv2d_1a_3x3", d(320), 3, stride=2, padding="VALID")],
        [C("Conv2d_0a_1x1", d(192), 1), C("Conv2d_0b_1x7", d(192), (1, 7)),
         C("Conv2d_0c_7x1", d(192), (7, 1)),
         C("Conv2d_1a_3x3", d(192), 3, stride=2, padding="VALID")],
        [P("MaxPool_1a_3x3", "max", 3, stride=2, padding="VALID")],
    ]


def _mixed_7(name: str, d: Callable[[int], int]) -> List[Sequence[iu.Op]]:
    # slim quirk: Mixed_7b's Branch_1 3x1 conv is Conv2d_0b_3x1, Mixed_7c's is Conv2d_0c_3x1.
    b1_3x1 = "Conv2d_0b_3x1" if name == "Mixed_7b" else "Conv2d_0c_3x1"
    return [
        [C("Conv2d_0a_1x1", d(320), 1)],
        [C("Conv2d_0a_1x1", d(384), 1),
         F((C("Conv2d_0b_1x3", d(384), (1, 3)), C(b1_3x1, d(384), (3, 1))))],
        [C("Conv2d_0a_1x1", d(448), 1), C("Conv2d_0b_3x3", d(384), 3),
         F((C("Conv2d_0c_1x3", d(384), (1, 3)), C("Conv2d_0d_3x1", d(384), (3, 1))))],
        _avg_proj(d(192)),
    ]


class InceptionV3(iu.InceptionNet):
    """slim ``inception_v3``: end points Conv2d_1a_3x3 … Mixed_7c, AuxLogits, PreLogits, Logits.

    Works at any input of at least 107x107 (75x75 without the aux head); the
    aux head's ``Conv2d_2a_{k}x{k}`` and the final ``AvgPool_1a_{k}x{k}`` shrink
    their kernels for small inputs exactly as slim does.

    2048 pooled features, an 8x8 pool, the aux head on ``Mixed_6e`` (arguments:
    :class:`~inception_utils.InceptionNet`).
    """

    def __init__(self, num_classes: int = 1000, is_training: bool = False,
                 weight_decay: float = 0.0, dropout_keep_prob: float = 0.8,
                 min_depth: int = 16, depth_multiplier: float = 1.0,
                 spatial_squeeze: bool = True, create_aux_logits: bool = True,
                 global_pool: bool = False):
        super().__init__(spec_name="inception_v3", scope=SCOPE, num_classes=num_classes,
                         is_training=is_training, default_image_size=299,
                         spatial_squeeze=spatial_squeeze, global_pool=global_pool)
        d = iu.depth_fn(depth_multiplier, min_depth)
        sc = iu.inception_arg_scope(weight_decay=weight_decay)

        # Stem: slim's arg_scope here is stride 1, padding VALID.
        stem = [C("Conv2d_1a_3x3", d(32), 3, stride=2), C("Conv2d_2a_3x3", d(32), 3),
                C("Conv2d_2b_3x3", d(64), 3, padding="SAME"),
                P("MaxPool_3a_3x3", "max", 3, stride=2), C("Conv2d_3b_1x1", d(80), 1),
                C("Conv2d_4a_3x3", d(192), 3), P("MaxPool_5a_3x3", "max", 3, stride=2)]
        for op in stem:
            self.add_stage(op.scope, op, sc, padding="VALID")
        modules = {
            "Mixed_5b": _mixed_5("Mixed_5b", d), "Mixed_5c": _mixed_5("Mixed_5c", d),
            "Mixed_5d": _mixed_5("Mixed_5d", d), "Mixed_6a": _mixed_6a(d),
            "Mixed_6b": _mixed_6(128, d), "Mixed_6c": _mixed_6(160, d),
            "Mixed_6d": _mixed_6(160, d), "Mixed_6e": _mixed_6(192, d),
            "Mixed_7a": _mixed_7a(d), "Mixed_7b": _mixed_7("Mixed_7b", d),
            "Mixed_7c": _mixed_7("Mixed_7c", d),
        }
        for name, branches in modules.items():
            self.add_stage(name, iu.Mixed(f"{SCOPE}/{name}", branches, sc), sc)

        self.aux = None
        if create_aux_logits and num_classes:
            aux = f"{SCOPE}/AuxLogits"
            self.aux = [
                sc.conv2d(d(128), 1, scope=f"{aux}/Conv2d_1b_1x1"),
                iu.InputSizedConv2D(
                    f"{aux}/Conv2d_2a", max_kernel=(5, 5), name_kernel=True,
                    make=lambda kernel, scope: sc.conv2d(
                        d(768), kernel, scope=scope, padding="VALID",
                        weights_initializer=iu.trunc_normal(0.01))),
                sc.conv2d(num_classes, 1, scope=f"{aux}/Conv2d_2b_1x1", activation=None,
                          batch_norm=None, weights_initializer=iu.trunc_normal(0.001)),
            ]
        self.add_logits(sc, dropout_keep_prob, "Conv2d_1c_1x1")

    def forward(self, inputs, training):
        net, end_points = self.run_stages(inputs, training)
        if self.aux is not None:
            aux = layers.avg_pool2d(end_points["Mixed_6e"], 5, stride=3, padding="VALID")
            for conv in self.aux:
                aux = conv(aux, training=training)
            if self.spatial_squeeze:
                aux = layers.spatial_squeeze(aux)
            end_points["AuxLogits"] = aux
        return self.conv_head(net, end_points, training, "AvgPool_1a",
                              lambda net: iu.reduced_avg_pool(net, (8, 8)))


NETS = (iu.inception_spec("inception_v3", InceptionV3, scope=SCOPE, default_image_size=299,
                          num_classes=1000,
                          kwargs=("dropout_keep_prob", "min_depth", "depth_multiplier", "spatial_squeeze",
                                  "create_aux_logits", "global_pool"),
                          # The aux head's 5x5/3 VALID pool needs a 5x5 Mixed_6e.
                          min_image_size=107),)
