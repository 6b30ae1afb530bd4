"""The video nets I3D and S3D-G (slim nets/i3d.py, nets/s3dg.py, nets/i3d_utils.py).

Both are Inception V1 inflated to 3-D over a 5-D input ``[batch, frames, height,
width, 3]`` and keep Inception V1's scope and layer names (``InceptionV1/Mixed_3b/
Branch_1/Conv2d_0b_3x3/weights`` with a ``[t, 3, 3, in, out]`` kernel), so the
released checkpoints restore by name. I3D uses full 3-D convolutions from
``Conv2d_2c_3x3`` on (first kernel ``[7, 7, 7]``). S3D-G splits them into a
spatial ``[1, k, k]`` conv (BatchNorm) and a temporal ``[t, 1, 1]`` conv
(``<scope>/temporal``, biases, no BatchNorm) and gates every branch output with
``self_gating/transformer_W``. Logits: a ``[2, 7, 7]`` average pool (shrunk for
small inputs), a 1x1x1 conv with biases, then the mean over time.
"""
from __future__ import annotations

import functools
from typing import Dict, Optional, Sequence

import tensorflow as tf
import tf_keras

from trainer.nets import layers
from trainer.nets.base import SlimModel
from trainer.nets.registry import NetSpec

SCOPE = "InceptionV1"
EndPoints = Dict[str, tf.Tensor]

# Mixed module depths: (b0 1x1, b1 1x1, b1 3x3, b2 1x1, b2 3x3, b3 pool-proj 1x1).
_MODULES = (
    ("Mixed_3b", (64, 96, 128, 16, 32, 32)),
    ("Mixed_3c", (128, 128, 192, 32, 96, 64)),
    ("MaxPool_4a_3x3", ((3, 3, 3), (2, 2, 2))),
    ("Mixed_4b", (192, 96, 208, 16, 48, 64)),
    ("Mixed_4c", (160, 112, 224, 24, 64, 64)),
    ("Mixed_4d", (128, 128, 256, 24, 64, 64)),
    ("Mixed_4e", (112, 144, 288, 32, 64, 64)),
    ("Mixed_4f", (256, 160, 320, 32, 128, 128)),
    ("MaxPool_5a_2x2", ((2, 2, 2), (2, 2, 2))),
    ("Mixed_5b", (256, 160, 320, 32, 128, 128)),
    ("Mixed_5c", (384, 192, 384, 48, 128, 128)),
)
# Blocks in order; temporal_conv_startat / gating_startat name one of them.
BLOCKS = ("Conv2d_2c_3x3",) + tuple(name for name, _ in _MODULES if name.startswith("Mixed"))


class SelfGating(tf_keras.layers.Layer):
    """s3dg.self_gating: x * sigmoid(W · mean_{t,h,w}(x)), W a 1x1x1 conv, no bias.

    slim pools with an ``[t, w, h]`` VALID window, i.e. the full mean for the
    square inputs it accepts; a mean over all positions is the same number.
    """

    def __init__(self, scope: str, channels: int, sc: layers.ArgScope):
        super().__init__(name=f"{scope}/self_gating".replace("/", "__"))
        self.transform = layers.Conv3D(channels, 1, scope=f"{scope}/self_gating/transformer_W",
                                       activation=None, batch_norm=None, use_bias=False,
                                       weights_initializer=sc.weights_initializer,
                                       weight_decay=sc.weight_decay)

    def call(self, inputs, training=None):
        pooled = tf.reduce_mean(inputs, axis=[1, 2, 3], keepdims=True)
        return inputs * tf.sigmoid(self.transform(pooled, training=training))


class SpatioTemporalConv(tf_keras.layers.Layer):
    """i3d_utils.conv3d_spatiotemporal (+ the block's self-gating when given).

    Separable with a temporal kernel > 1: ``scope`` is a ``[1, k, k]`` conv with
    BatchNorm and ``scope/temporal`` a ``[t, 1, 1]`` conv with biases, both relu.
    """

    def __init__(self, scope: str, num_outputs: int, kernel_size: Sequence[int], stride: int,
                 separable: bool, gating: bool, sc: layers.ArgScope):
        super().__init__(name=scope.replace("/", "__"))
        t, kh, kw = kernel_size
        common = dict(activation=tf.nn.relu, weights_initializer=sc.weights_initializer,
                      weight_decay=sc.weight_decay)
        if separable and t != 1:
            self.convs = [
                layers.Conv3D(num_outputs, (1, kh, kw), scope=scope, stride=(1, stride, stride),
                              batch_norm=sc.batch_norm, **common),
                layers.Conv3D(num_outputs, (t, 1, 1), scope=f"{scope}/temporal",
                              stride=(stride, 1, 1), batch_norm=None, **common)]
        else:
            self.convs = [layers.Conv3D(num_outputs, kernel_size, scope=scope, stride=stride,
                                        batch_norm=sc.batch_norm, **common)]
        self.gating = SelfGating(scope, num_outputs, sc) if gating else None

    def call(self, inputs, training=None):
        net = inputs
        for conv in self.convs:
            net = conv(net, training=training)
        return self.gating(net, training=training) if self.gating is not None else net


def _max_pool3d(inputs: tf.Tensor, kernel: Sequence[int], stride: Sequence[int]) -> tf.Tensor:
    return tf.nn.max_pool3d(inputs, list(kernel), list(stride), "SAME")


class InceptionBlock3D(tf_keras.layers.Layer):
    """i3d_utils.inception_block_v1_3d: four branches concatenated on channels."""

    def __init__(self, scope: str, depths: Sequence[int], temporal_kernel: int, separable: bool,
                 gating: bool, sc: layers.ArgScope):
        super().__init__(name=scope.replace("/", "__"))
        conv = functools.partial(SpatioTemporalConv, separable=separable, gating=gating, sc=sc,
                                 stride=1)
        b0, b1a, b1b, b2a, b2b, b3 = depths
        self.branch_0 = [conv(f"{scope}/Branch_0/Conv2d_0a_1x1", b0, (1, 1, 1))]
        self.branch_1 = [conv(f"{scope}/Branch_1/Conv2d_0a_1x1", b1a, (1, 1, 1), gating=False),
                         conv(f"{scope}/Branch_1/Conv2d_0b_3x3", b1b, (temporal_kernel, 3, 3))]
        self.branch_2 = [conv(f"{scope}/Branch_2/Conv2d_0a_1x1", b2a, (1, 1, 1), gating=False),
                         conv(f"{scope}/Branch_2/Conv2d_0b_3x3", b2b, (temporal_kernel, 3, 3))]
        self.branch_3 = [conv(f"{scope}/Branch_3/Conv2d_0b_1x1", b3, (1, 1, 1))]

    def call(self, inputs, training=None):
        outputs = []
        for index, branch in enumerate((self.branch_0, self.branch_1, self.branch_2,
                                        self.branch_3)):
            net = _max_pool3d(inputs, (3, 3, 3), (1, 1, 1)) if index == 3 else inputs
            for conv in branch:
                net = conv(net, training=training)
            outputs.append(net)
        return tf.concat(outputs, axis=4)


class S3DG(SlimModel):
    """slim ``s3dg.s3dg`` (and, with I3D's settings, ``i3d.i3d``) on ``[B, T, H, W, 3]``.

    End points: Conv2d_1a_7x7, MaxPool_2a_3x3, Conv2d_2b_1x1, Conv2d_2c_3x3,
    MaxPool_3a_3x3, Mixed_3b … Mixed_5c, Logits, Predictions.

    Args:
      num_classes: outputs; 0 returns the pooled features averaged over time,
        ``[B, 1, 1, 1024]``.
      is_training: default BatchNorm/dropout mode.
      weight_decay: L2 scale of ``s3dg_arg_scope`` / ``i3d_arg_scope``.
      dropout_keep_prob: keep probability before the logits.
      spatial_squeeze: squeeze logits to ``[B, C]``.
      first_temporal_kernel_size: time extent of ``Conv2d_1a_7x7`` (1, 3, 5 or 7).
      temporal_conv_startat: first block with a temporal kernel of 3 (earlier
        blocks use ``[1, k, k]``); a name not in :data:`BLOCKS` means none.
      gating_startat: first block with self-gating; None or unknown means none.
      min_depth, depth_multiplier: slim's depth(d) = max(int(d * m), min_depth).
      separable: split 3-D convs into spatial + temporal (S3D-G) or not (I3D).
    """

    def __init__(self, num_classes: int = 1000, is_training: bool = False,
                 weight_decay: float = 0.0, dropout_keep_prob: float = 0.8,
                 spatial_squeeze: bool = True, first_temporal_kernel_size: int = 3,
                 temporal_conv_startat: Optional[str] = "Conv2d_2c_3x3",
                 gating_startat: Optional[str] = "Conv2d_2c_3x3", min_depth: int = 16,
                 depth_multiplier: float = 1.0, separable: bool = True,
                 spec_name: str = "s3dg"):
        super().__init__(spec_name=spec_name, scope=SCOPE, num_classes=num_classes,
                         is_training=is_training, default_image_size=224)
        if first_temporal_kernel_size not in (1, 3, 5, 7):
            raise ValueError("first_temporal_kernel_size can only be 1, 3, 5 or 7.")
        if depth_multiplier <= 0:
            raise ValueError("depth_multiplier is not greater than zero.")
        self.spatial_squeeze = spatial_squeeze
        # s3dg_arg_scope / i3d_arg_scope: relu + slim.batch_norm (no gamma), eps 1e-3,
        # decay 0.999; s3dg_base wraps conv3d in trunc_normal(0.01).
        sc = layers.ArgScope(
            weight_decay=weight_decay,
            batch_norm=layers.BatchNormParams(decay=0.999, epsilon=0.001),
            weights_initializer=layers.FreshInitializer(
                tf_keras.initializers.TruncatedNormal(stddev=0.01)))

        def depth(d: int) -> int:
            return max(int(d * depth_multiplier), min_depth)

        def switched_on(start: Optional[str], block: str) -> bool:
            # slim switches a feature on at ``start``; an unknown name never matches.
            return start in BLOCKS and BLOCKS.index(block) >= BLOCKS.index(start)

        conv = functools.partial(SpatioTemporalConv, separable=separable, sc=sc)
        self.conv_1a = conv(f"{SCOPE}/Conv2d_1a_7x7", depth(64),
                            (first_temporal_kernel_size, 7, 7), stride=2, separable=False,
                            gating=False)
        self.conv_2b = conv(f"{SCOPE}/Conv2d_2b_1x1", depth(64), (1, 1, 1), stride=1,
                            gating=False)
        t = 3 if switched_on(temporal_conv_startat, "Conv2d_2c_3x3") else 1
        self.conv_2c = conv(f"{SCOPE}/Conv2d_2c_3x3", depth(192), (t, 3, 3), stride=1,
                            gating=switched_on(gating_startat, "Conv2d_2c_3x3"))
        self.mixed = []
        for name, spec in _MODULES:
            if name.startswith("Mixed"):
                t = 3 if switched_on(temporal_conv_startat, name) else 1
                self.mixed.append(InceptionBlock3D(
                    f"{SCOPE}/{name}", [depth(d) for d in spec], t, separable,
                    switched_on(gating_startat, name), sc))
        self.dropout = tf_keras.layers.Dropout(1.0 - dropout_keep_prob)
        self.logits_conv = (layers.Conv3D(
            num_classes, 1, scope=f"{SCOPE}/Logits/Conv2d_0c_1x1", activation=None,
            batch_norm=None, weights_initializer=sc.weights_initializer,
            weight_decay=weight_decay) if num_classes else None)

    def forward(self, inputs, training):
        if inputs.shape.rank != 5:
            raise ValueError(f"{self.spec_name} takes a 5-D video batch [batch, frames, height, "
                             f"width, channels]; got shape {inputs.shape}.")
        end_points: EndPoints = {}
        net = end_points["Conv2d_1a_7x7"] = self.conv_1a(inputs, training=training)
        net = end_points["MaxPool_2a_3x3"] = _max_pool3d(net, (1, 3, 3), (1, 2, 2))
        net = end_points["Conv2d_2b_1x1"] = self.conv_2b(net, training=training)
        net = end_points["Conv2d_2c_3x3"] = self.conv_2c(net, training=training)
        net = end_points["MaxPool_3a_3x3"] = _max_pool3d(net, (1, 3, 3), (1, 2, 2))
        blocks = iter(self.mixed)
        for name, spec in _MODULES:
            if name.startswith("MaxPool"):
                net = _max_pool3d(net, *spec)
            else:
                net = next(blocks)(net, training=training)
            end_points[name] = net
        # Logits: i3d_utils.reduced_kernel_size_3d([2, 7, 7]), VALID average pool.
        shape = net.shape
        kernel = [2, 7, 7] if None in shape[1:4] else [min(shape[1], 2), min(shape[2], 7),
                                                       min(shape[3], 7)]
        net = tf.nn.avg_pool3d(net, kernel, [1, 1, 1], "VALID")
        if not self.num_classes:
            return tf.reduce_mean(net, axis=1), end_points
        net = self.dropout(net, training=training)
        logits = tf.reduce_mean(self.logits_conv(net, training=training), axis=1)
        if self.spatial_squeeze:
            logits = layers.spatial_squeeze(logits)
        end_points["Logits"] = logits
        end_points["Predictions"] = tf.nn.softmax(logits)
        return logits, end_points

    def ensure_built(self, image_size: Optional[int] = None, channels: int = 3,
                     num_frames: int = 2) -> None:
        """Builds the variables on a short clip (the time extent changes no shape)."""
        if not self.built or not self.variables:
            size = image_size or self.default_image_size
            self(tf.zeros([1, num_frames, size, size, channels]), training=False)


_KWARGS = ("dropout_keep_prob", "spatial_squeeze", "first_temporal_kernel_size",
           "temporal_conv_startat", "gating_startat", "min_depth", "depth_multiplier")


def _spec(name: str, **settings) -> NetSpec:
    return NetSpec(name=name, builder=functools.partial(S3DG, spec_name=name, **settings),
                   default_image_size=224, num_classes=1000,
                   # slim's preprocessing_factory has no entry for the video nets; the
                   # frames are inception-preprocessed one by one in this project.
                   preprocessing="inception", scope=SCOPE,
                   logits_scopes=(f"{SCOPE}/Logits",), checkpoint_num_classes=400,
                   kwargs=_KWARGS, video=True)


NETS = (
    # i3d.i3d_base: s3dg_base with a 7-frame first kernel, plain 3-D convs, no gating.
    _spec("i3d", first_temporal_kernel_size=7, gating_startat=None, separable=False),
    _spec("s3dg"),
)
