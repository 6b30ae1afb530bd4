"""Inception-ResNet-v2 (slim nets/inception_resnet_v2.py), aux head included."""
from __future__ import annotations

from typing import Callable, List, Optional, Sequence

import tensorflow as tf
import tf_keras

from trainer.nets import inception_utils as iu
from trainer.nets import layers

SCOPE = "InceptionResnetV2"
C, P = iu.Conv, iu.Pool
Branches = List[Sequence[iu.Op]]

_MIXED_5B = iu.inception_a(96, (48, 64), (64, 96, 96), 64, b1_kernel=5, b0_scope="Conv2d_1x1")
_MIXED_6A = iu.reduction_a(k=256, l=256, m=384, n=384)
_MIXED_7A: Branches = [
    [C("Conv2d_0a_1x1", 256, 1), C("Conv2d_1a_3x3", 384, 3, stride=2, padding="VALID")],
    [C("Conv2d_0a_1x1", 256, 1), C("Conv2d_1a_3x3", 288, 3, stride=2, padding="VALID")],
    [C("Conv2d_0a_1x1", 256, 1), C("Conv2d_0b_3x3", 288, 3),
     C("Conv2d_1a_3x3", 320, 3, stride=2, padding="VALID")],
    [P("MaxPool_1a_3x3", "max", 3, stride=2, padding="VALID")],
]
# Residual towers of block35 / block17 / block8 (slim), and their channel counts.
_BLOCK35: Branches = [
    [C("Conv2d_1x1", 32, 1)],
    [C("Conv2d_0a_1x1", 32, 1), C("Conv2d_0b_3x3", 32, 3)],
    [C("Conv2d_0a_1x1", 32, 1), C("Conv2d_0b_3x3", 48, 3), C("Conv2d_0c_3x3", 64, 3)],
]
_BLOCK17: Branches = [
    [C("Conv2d_1x1", 192, 1)],
    [C("Conv2d_0a_1x1", 128, 1), C("Conv2d_0b_1x7", 160, (1, 7)), C("Conv2d_0c_7x1", 192, (7, 1))],
]
_BLOCK8: Branches = [
    [C("Conv2d_1x1", 192, 1)],
    [C("Conv2d_0a_1x1", 192, 1), C("Conv2d_0b_1x3", 224, (1, 3)), C("Conv2d_0c_3x1", 256, (3, 1))],
]


class ResidualBlock(tf_keras.layers.Layer):
    """slim's block35/block17/block8: ``act(net + scale * Conv2d_1x1(concat(towers)))``.

    The ``Conv2d_1x1`` projection has biases and neither BatchNorm nor activation.
    With ``relu6`` slim clips the scaled residual to [-6, 6] first.
    """

    def __init__(self, scope: str, towers: Branches, channels: int, scale: float,
                 activation: Optional[Callable], sc: layers.ArgScope, **kwargs):
        super().__init__(name=scope.replace("/", "__"), **kwargs)
        self.scale = scale
        self.activation = activation
        self.towers = iu.Mixed(scope, towers, sc)
        self.up = sc.conv2d(channels, 1, scope=f"{scope}/Conv2d_1x1", batch_norm=None,
                            activation=None)

    def call(self, inputs, training=None):
        scaled_up = self.up(self.towers(inputs, training=training), training=training) * self.scale
        if self.activation is tf.nn.relu6:
            scaled_up = tf.clip_by_value(scaled_up, -6.0, 6.0)
        net = inputs + scaled_up
        return self.activation(net) if self.activation is not None else net


class InceptionResnetV2(iu.InceptionNet):
    """slim ``inception_resnet_v2``: end points Conv2d_1a_3x3 … Mixed_6a,
    PreAuxLogits, Mixed_7a, Conv2d_7b_1x1, AuxLogits, global_pool,
    PreLogitsFlatten, Logits, Predictions.

    Repeated blocks live under slim.repeat's scopes ``Repeat/block35_{1..10}``,
    ``Repeat_1/block17_{1..20}``, ``Repeat_2/block8_{1..9}``, then ``Block8``.

    1536 pooled features; weight_decay puts L2 on weights *and biases*
    (inception_resnet_v2_arg_scope); the aux head sits on ``PreAuxLogits``. Arguments:
    :class:`~inception_utils.InceptionNet`'s and
      activation_fn: activation after each residual addition (slim's kwarg).
    """

    def __init__(self, num_classes: int = 1001, is_training: bool = False,
                 weight_decay: float = 0.0, dropout_keep_prob: float = 0.8,
                 create_aux_logits: bool = True, activation_fn: Callable = tf.nn.relu):
        super().__init__(spec_name="inception_resnet_v2", scope=SCOPE, num_classes=num_classes,
                         is_training=is_training, default_image_size=299)
        # inception_resnet_v2_arg_scope: like inception_arg_scope but L2 on biases
        # too, and no initializer override (slim's xavier default).
        sc = iu.inception_arg_scope(weight_decay=weight_decay, regularize_biases=True).replace(
            weights_initializer="glorot_uniform")
        stem = [C("Conv2d_1a_3x3", 32, 3, stride=2, padding="VALID"),
                C("Conv2d_2a_3x3", 32, 3, padding="VALID"), C("Conv2d_2b_3x3", 64, 3),
                P("MaxPool_3a_3x3", "max", 3, stride=2, padding="VALID"),
                C("Conv2d_3b_1x1", 80, 1, padding="VALID"),
                C("Conv2d_4a_3x3", 192, 3, padding="VALID"),
                P("MaxPool_5a_3x3", "max", 3, stride=2, padding="VALID")]
        for op in stem:
            self.add_stage(op.scope, op, sc)
        self.add_stage("Mixed_5b", iu.Mixed(f"{SCOPE}/Mixed_5b", _MIXED_5B, sc), sc)
        self._repeat("Repeat", "block35", 10, _BLOCK35, 320, 0.17, activation_fn, sc)
        self.add_stage("Mixed_6a", iu.Mixed(f"{SCOPE}/Mixed_6a", _MIXED_6A, sc), sc)
        self._repeat("Repeat_1", "block17", 20, _BLOCK17, 1088, 0.10, activation_fn, sc,
                     end_point="PreAuxLogits")
        self.add_stage("Mixed_7a", iu.Mixed(f"{SCOPE}/Mixed_7a", _MIXED_7A, sc), sc)
        self._repeat("Repeat_2", "block8", 9, _BLOCK8, 2080, 0.20, activation_fn, sc)
        self.add_stage(None, ResidualBlock(f"{SCOPE}/Block8", _BLOCK8, 2080, 1.0, None, sc), sc)
        self.add_stage("Conv2d_7b_1x1", C("Conv2d_7b_1x1", 1536, 1), sc)

        self.aux = (iu.AuxHead(f"{SCOPE}/AuxLogits", sc, sc, num_classes, "Conv2d_2a_5x5", "Logits")
                    if create_aux_logits and num_classes else None)
        self.add_logits(sc, dropout_keep_prob, "Logits", fully_connected=True)

    def _repeat(self, repeat_scope: str, block: str, count: int, towers: Branches, channels: int,
                scale: float, activation: Optional[Callable], sc: layers.ArgScope,
                end_point: Optional[str] = None) -> None:
        """slim.repeat: scopes ``<repeat_scope>/<block>_{1..count}``."""
        for i in range(1, count + 1):
            self.add_stage(end_point if i == count else None, ResidualBlock(
                f"{SCOPE}/{repeat_scope}/{block}_{i}", towers, channels, scale, activation, sc), sc)

    def forward(self, inputs, training):
        net, end_points = self.run_stages(inputs, training)
        # slim names the aux head's 5x5/3 average pool "Conv2d_1a_3x3" here (no variables).
        return self.fc_head(net, end_points, training, aux_input="PreAuxLogits", dropout_first=False)


NETS = (iu.inception_spec("inception_resnet_v2", InceptionResnetV2, scope=SCOPE, default_image_size=299,
                          num_classes=1001,
                          kwargs=("dropout_keep_prob", "create_aux_logits", "activation_fn"),
                          # The aux head's 5x5/3 VALID pool needs a 5x5 PreAuxLogits.
                          min_image_size=107),)
