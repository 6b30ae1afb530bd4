"""Inception V4 (slim nets/inception_v4.py), aux head included."""
from __future__ import annotations

from typing import List, Sequence

from trainer.nets import inception_utils as iu

SCOPE = "InceptionV4"
C, P, F = iu.Conv, iu.Pool, iu.Fork
Branches = List[Sequence[iu.Op]]

# Stem modules (inside slim's stride-1/SAME arg_scope, VALID where slim says so).
_MIXED_3A: Branches = [
    [P("MaxPool_0a_3x3", "max", 3, stride=2, padding="VALID")],
    [C("Conv2d_0a_3x3", 96, 3, stride=2, padding="VALID")],
]
_MIXED_4A: Branches = [
    [C("Conv2d_0a_1x1", 64, 1), C("Conv2d_1a_3x3", 96, 3, padding="VALID")],
    [C("Conv2d_0a_1x1", 64, 1), C("Conv2d_0b_1x7", 64, (1, 7)), C("Conv2d_0c_7x1", 64, (7, 1)),
     C("Conv2d_1a_3x3", 96, 3, padding="VALID")],
]
_MIXED_5A: Branches = [
    [C("Conv2d_1a_3x3", 192, 3, stride=2, padding="VALID")],
    [P("MaxPool_1a_3x3", "max", 3, stride=2, padding="VALID")],
]
# block_inception_a / block_reduction_a / block_inception_b / block_reduction_b /
# block_inception_c of slim.
_INCEPTION_A = iu.inception_a(96, (64, 96), (64, 96, 96), 96)
_REDUCTION_A = iu.reduction_a(k=192, l=224, m=256, n=384)
_INCEPTION_B: Branches = [
    [C("Conv2d_0a_1x1", 384, 1)],
    [C("Conv2d_0a_1x1", 192, 1), C("Conv2d_0b_1x7", 224, (1, 7)), C("Conv2d_0c_7x1", 256, (7, 1))],
    [C("Conv2d_0a_1x1", 192, 1), C("Conv2d_0b_7x1", 192, (7, 1)), C("Conv2d_0c_1x7", 224, (1, 7)),
     C("Conv2d_0d_7x1", 224, (7, 1)), C("Conv2d_0e_1x7", 256, (1, 7))],
    [P("AvgPool_0a_3x3", "avg", 3), C("Conv2d_0b_1x1", 128, 1)],
]
_REDUCTION_B: Branches = [
    [C("Conv2d_0a_1x1", 192, 1), C("Conv2d_1a_3x3", 192, 3, stride=2, padding="VALID")],
    [C("Conv2d_0a_1x1", 256, 1), C("Conv2d_0b_1x7", 256, (1, 7)), C("Conv2d_0c_7x1", 320, (7, 1)),
     C("Conv2d_1a_3x3", 320, 3, stride=2, padding="VALID")],
    [P("MaxPool_1a_3x3", "max", 3, stride=2, padding="VALID")],
]
_INCEPTION_C: Branches = [
    [C("Conv2d_0a_1x1", 256, 1)],
    [C("Conv2d_0a_1x1", 384, 1),
     F((C("Conv2d_0b_1x3", 256, (1, 3)), C("Conv2d_0c_3x1", 256, (3, 1))))],
    [C("Conv2d_0a_1x1", 384, 1), C("Conv2d_0b_3x1", 448, (3, 1)), C("Conv2d_0c_1x3", 512, (1, 3)),
     F((C("Conv2d_0d_1x3", 256, (1, 3)), C("Conv2d_0e_3x1", 256, (3, 1))))],
    [P("AvgPool_0a_3x3", "avg", 3), C("Conv2d_0b_1x1", 256, 1)],
]


def _modules():
    """(end point, branches) of inception_v4_base after the three stem convs."""
    yield "Mixed_3a", _MIXED_3A
    yield "Mixed_4a", _MIXED_4A
    yield "Mixed_5a", _MIXED_5A
    for idx in range(4):
        yield "Mixed_5" + "bcde"[idx], _INCEPTION_A
    yield "Mixed_6a", _REDUCTION_A
    for idx in range(7):
        yield "Mixed_6" + "bcdefgh"[idx], _INCEPTION_B
    yield "Mixed_7a", _REDUCTION_B
    for idx in range(3):
        yield "Mixed_7" + "bcd"[idx], _INCEPTION_C


class InceptionV4(iu.InceptionNet):
    """slim ``inception_v4``: end points Conv2d_1a_3x3 … Mixed_7d, AuxLogits,
    global_pool, PreLogitsFlatten, Logits, Predictions.

    The logits are fully connected (``Logits/Logits``, ``AuxLogits/Aux_logits``)
    so they are always ``[B, C]``; the final pool covers the whole feature map.

    1536 pooled features, the aux head on ``Mixed_6h`` (arguments:
    :class:`~inception_utils.InceptionNet`).
    """

    def __init__(self, num_classes: int = 1001, is_training: bool = False,
                 weight_decay: float = 0.0, dropout_keep_prob: float = 0.8,
                 create_aux_logits: bool = True):
        super().__init__(spec_name="inception_v4", scope=SCOPE, num_classes=num_classes,
                         is_training=is_training, default_image_size=299)
        sc = iu.inception_arg_scope(weight_decay=weight_decay)
        for op in (C("Conv2d_1a_3x3", 32, 3, stride=2, padding="VALID"),
                   C("Conv2d_2a_3x3", 32, 3, padding="VALID"), C("Conv2d_2b_3x3", 64, 3)):
            self.add_stage(op.scope, op, sc)
        for name, branches in _modules():
            self.add_stage(name, iu.Mixed(f"{SCOPE}/{name}", branches, sc), sc)

        # slim.fully_connected keeps its default xavier init under inception_arg_scope.
        fc = sc.replace(weights_initializer="glorot_uniform")
        self.aux = (iu.AuxHead(f"{SCOPE}/AuxLogits", sc, fc, num_classes, "Conv2d_2a", "Aux_logits")
                    if create_aux_logits and num_classes else None)
        self.add_logits(fc, dropout_keep_prob, "Logits", fully_connected=True)

    def forward(self, inputs, training):
        net, end_points = self.run_stages(inputs, training)
        return self.fc_head(net, end_points, training, aux_input="Mixed_6h", dropout_first=True)


NETS = (iu.inception_spec("inception_v4", InceptionV4, scope=SCOPE, default_image_size=299,
                          num_classes=1001, kwargs=("dropout_keep_prob", "create_aux_logits"),
                          # The aux head's 5x5/3 VALID pool needs a 5x5 Mixed_6h.
                          min_image_size=107),)
