"""MobileNet V1 (slim nets/mobilenet_v1.py): scope ``MobilenetV1``.

``Conv2d_0`` (3x3/2) then 13 depthwise-separable pairs ``Conv2d_k_depthwise`` /
``Conv2d_k_pointwise``, every conv followed by BN (with gamma) and ReLU6; the
head is ``Logits/AvgPool_1a`` -> ``Dropout_1b`` -> ``Logits/Conv2d_1c_1x1``.
nets_factory's ``mobilenet_v1_075/_050/_025`` are depth multipliers.
"""
from __future__ import annotations

import collections
from typing import Optional, Sequence

import tensorflow as tf
import tf_keras

from trainer.nets import layers
from trainer.nets.base import SlimModel
from trainer.nets.mobilenet_common import fixed_padding, mobilenet_spec

Conv = collections.namedtuple("Conv", ["kernel", "stride", "depth"])
DepthSepConv = collections.namedtuple("DepthSepConv", ["kernel", "stride", "depth"])

# slim's _CONV_DEFS.
CONV_DEFS = (
    Conv(kernel=3, stride=2, depth=32),
    DepthSepConv(kernel=3, stride=1, depth=64),
    DepthSepConv(kernel=3, stride=2, depth=128),
    DepthSepConv(kernel=3, stride=1, depth=128),
    DepthSepConv(kernel=3, stride=2, depth=256),
    DepthSepConv(kernel=3, stride=1, depth=256),
    DepthSepConv(kernel=3, stride=2, depth=512),
    DepthSepConv(kernel=3, stride=1, depth=512),
    DepthSepConv(kernel=3, stride=1, depth=512),
    DepthSepConv(kernel=3, stride=1, depth=512),
    DepthSepConv(kernel=3, stride=1, depth=512),
    DepthSepConv(kernel=3, stride=1, depth=512),
    DepthSepConv(kernel=3, stride=2, depth=1024),
    DepthSepConv(kernel=3, stride=1, depth=1024),
)


def mobilenet_v1_arg_scope(weight_decay: float = 0.00004, stddev: float = 0.09,
                           regularize_depthwise: bool = False,
                           batch_norm_decay: float = 0.9997,
                           batch_norm_epsilon: float = 0.001) -> layers.ArgScope:
    """slim mobilenet_v1_arg_scope: truncated normal, ReLU6, BN with center and scale."""
    return layers.ArgScope(
        weight_decay=weight_decay,
        batch_norm=layers.BatchNormParams(decay=batch_norm_decay, epsilon=batch_norm_epsilon,
                                          center=True, scale=True),
        activation=tf.nn.relu6,
        weights_initializer=layers.FreshInitializer(
            tf_keras.initializers.TruncatedNormal(stddev=stddev)),
        regularize_depthwise=regularize_depthwise)


class MobilenetV1(SlimModel):
    """slim ``mobilenet_v1`` (classification) over ``mobilenet_v1_base``.

    ``output_stride`` and ``use_explicit_padding`` are ``mobilenet_v1_base``
    arguments that slim's classification function does not forward; they are
    accepted here so that dense-prediction users get the base's behaviour.
    """

    def __init__(self, num_classes: int = 1000, is_training: bool = False,
                 weight_decay: float = 0.0, dropout_keep_prob: float = 0.999,
                 min_depth: int = 8, depth_multiplier: float = 1.0,
                 conv_defs: Optional[Sequence] = None, spatial_squeeze: bool = True,
                 global_pool: bool = False, output_stride: Optional[int] = None,
                 use_explicit_padding: bool = False, spec_name: str = "mobilenet_v1"):
        super().__init__(spec_name=spec_name, scope="MobilenetV1", num_classes=num_classes,
                         is_training=is_training, default_image_size=224)
        if depth_multiplier <= 0:
            raise ValueError("depth_multiplier is not greater than zero.")
        if output_stride is not None and output_stride not in (8, 16, 32):
            raise ValueError("Only allowed output_stride values are 8, 16, 32.")
        self.spatial_squeeze = spatial_squeeze
        self.global_pool = global_pool
        self.use_explicit_padding = use_explicit_padding
        padding = "VALID" if use_explicit_padding else "SAME"
        sc = mobilenet_v1_arg_scope(weight_decay=weight_decay).replace(padding=padding)

        def depth(d: int) -> int:
            return max(int(d * depth_multiplier), min_depth)

        # (end point, layer, kernel, rate): the rate matters for explicit padding.
        self._plan = []
        current_stride, rate = 1, 1
        for i, conv_def in enumerate(conv_defs or CONV_DEFS):
            base = f"MobilenetV1/Conv2d_{i}"
            if output_stride is not None and current_stride == output_stride:
                layer_stride, layer_rate = 1, rate
                rate *= conv_def.stride
            else:
                layer_stride, layer_rate = conv_def.stride, 1
                current_stride *= conv_def.stride
            if isinstance(conv_def, Conv):
                # slim uses conv_def.stride here, not the output_stride-adjusted one.
                layer = sc.conv2d(depth(conv_def.depth), conv_def.kernel, scope=base,
                                  stride=conv_def.stride)
                self._plan.append((f"Conv2d_{i}", layer, conv_def.kernel, 1))
            elif isinstance(conv_def, DepthSepConv):
                dw = sc.separable_conv2d(None, conv_def.kernel, scope=f"{base}_depthwise",
                                         depth_multiplier=1, stride=layer_stride,
                                         rate=layer_rate)
                pw = sc.conv2d(depth(conv_def.depth), 1, scope=f"{base}_pointwise")
                self._plan.append((f"Conv2d_{i}_depthwise", dw, conv_def.kernel, layer_rate))
                self._plan.append((f"Conv2d_{i}_pointwise", pw, 1, 1))
            else:
                raise ValueError(f"Unknown convolution type {type(conv_def).__name__} "
                                 f"for layer {i}")
        self.base_layers = [entry[1] for entry in self._plan]
        self.dropout = tf_keras.layers.Dropout(1.0 - dropout_keep_prob)
        self.logits_conv = (sc.conv2d(num_classes, 1, scope="MobilenetV1/Logits/Conv2d_1c_1x1",
                                      activation=None, batch_norm=None, padding="SAME")
                            if num_classes else None)

    def forward(self, inputs, training):
        if inputs.shape.rank != 4:
            raise ValueError(f"Invalid input tensor rank, expected 4, was: {inputs.shape.rank}")
        end_points = {}
        net = inputs
        for end_point, layer, kernel, rate in self._plan:
            if self.use_explicit_padding and kernel > 1:
                net = fixed_padding(net, kernel, rate)
            net = end_points[end_point] = layer(net, training=training)
        if self.global_pool:
            net = end_points["global_pool"] = layers.global_avg_pool(net)
        else:
            kernel = layers.reduced_kernel_size_for_small_input(net, 7)
            net = end_points["AvgPool_1a"] = layers.avg_pool2d(net, kernel, stride=2,
                                                               padding="VALID")
        if not self.num_classes:
            return net, end_points
        net = self.dropout(net, training=training)
        logits = self.logits_conv(net, training=training)
        if self.spatial_squeeze:
            logits = layers.spatial_squeeze(logits)
        end_points["Logits"] = logits
        end_points["Predictions"] = tf.nn.softmax(logits)
        return logits, end_points


_KWARGS = ("dropout_keep_prob", "min_depth", "depth_multiplier", "conv_defs", "spatial_squeeze",
           "global_pool", "output_stride", "use_explicit_padding")

# slim's function defaults to 1000 classes; the released checkpoints have 1001.
NETS = tuple(mobilenet_spec(name, MobilenetV1, scope="MobilenetV1", kwargs=_KWARGS, num_classes=1000,
                            depth_multiplier=multiplier)
             for name, multiplier in (("mobilenet_v1", 1.0), ("mobilenet_v1_075", 0.75),
                                      ("mobilenet_v1_050", 0.5), ("mobilenet_v1_025", 0.25)))
