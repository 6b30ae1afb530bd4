"""Shared ResNet machinery (slim nets/resnet_utils.py): blocks, conv2d_same,
stride/atrous planning of ``stack_blocks_dense``, the arg scope and the
network skeleton that resnet_v1 and resnet_v2 specialise.

slim decides strides and atrous rates while it builds the graph; a Keras model
creates its layers up front, so :func:`plan_blocks` runs slim's
``stack_blocks_dense`` bookkeeping once at construction (same errors, same
per-unit stride/rate) and :class:`ResNet` then only executes the plan.
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import tensorflow as tf
import tf_keras

from trainer.nets import layers
from trainer.nets.base import SlimModel
from trainer.nets.registry import NetSpec

EndPoints = Dict[str, tf.Tensor]


@dataclasses.dataclass(frozen=True)
class UnitArgs:
    """Arguments of one bottleneck unit (slim's per-unit dict) and, once
    :func:`plan_blocks` has run, the stride and atrous ``rate`` it actually uses."""

    depth: int
    depth_bottleneck: int
    stride: int
    rate: int = 1


@dataclasses.dataclass(frozen=True)
class Block:
    """slim's ``resnet_utils.Block`` without the unit function (the net supplies it);
    ``subsample`` is the stride :func:`plan_blocks` applies after the block's end point."""

    scope: str
    units: Tuple[UnitArgs, ...]
    subsample: int = 1


def resnet_block(scope: str, base_depth: int, num_units: int, stride: int) -> Block:
    """slim's resnet_v1_block / resnet_v2_block: the block stride sits on its last unit."""
    unit = UnitArgs(depth=base_depth * 4, depth_bottleneck=base_depth, stride=1)
    last = dataclasses.replace(unit, stride=stride)
    return Block(scope, tuple([unit] * (num_units - 1) + [last]))


def subsample(inputs: tf.Tensor, factor: int) -> tf.Tensor:
    """slim ``subsample``: a 1x1 max pool with stride ``factor`` (identity for 1)."""
    if factor == 1:
        return inputs
    return layers.max_pool2d(inputs, 1, stride=factor, padding="SAME")


class Conv2dSame(tf_keras.layers.Layer):
    """slim ``conv2d_same``: SAME conv for stride 1, else explicit pad + VALID conv.

    The explicit padding (``pad_beg = (k_eff - 1) // 2``) is what makes a
    strided conv on an even-sized input equal "stride-1 conv then subsample";
    TF's own SAME padding would pad the other side (ResnetUtilsTest.testConv2DSameEven).
    """

    def __init__(self, arg_scope: layers.ArgScope, num_outputs: int, kernel_size: int, stride: int,
                 scope: str, rate: int = 1, **conv_kwargs):
        super().__init__(name=scope.replace("/", "__") + "__same")
        self.stride = stride
        effective = kernel_size + (kernel_size - 1) * (rate - 1)
        self.pad_beg = (effective - 1) // 2
        self.pad_end = effective - 1 - self.pad_beg
        self.conv = arg_scope.conv2d(num_outputs, kernel_size, scope=scope, stride=stride, rate=rate,
                                     padding="SAME" if stride == 1 else "VALID", **conv_kwargs)

    def call(self, inputs, training=None):
        if self.stride > 1:
            inputs = tf.pad(inputs, [[0, 0], [self.pad_beg, self.pad_end],
                                     [self.pad_beg, self.pad_end], [0, 0]])
        return self.conv(inputs, training=training)


class Bottleneck(tf_keras.layers.Layer):
    """slim's ``resnet_v1.bottleneck`` / ``resnet_v2.bottleneck``; ``scope`` is
    ``<net>/blockN/unit_M``, subclasses set ``NAME`` and ``PREACTIVATION``.

    v1: BN after every conv, ReLU after the addition. v2 (full pre-activation): a
    ``preact`` BN+ReLU feeds the projection shortcut and conv1, the shortcut and
    conv3 have biases and no BN, and nothing follows the addition. Returns
    ``(output, end_points)`` with the shortcut/conv1-3 outputs and the unit output
    under ``<scope>/<NAME>[/...]``.
    """

    NAME: str
    PREACTIVATION: bool

    def __init__(self, arg_scope: layers.ArgScope, scope: str, depth_in: int, unit: UnitArgs):
        scope = f"{scope}/{self.NAME}"
        super().__init__(name=scope.replace("/", "__"))
        self.scope = scope
        self.stride = unit.stride
        depth, bottleneck = unit.depth, unit.depth_bottleneck
        linear = {"activation": None}  # shortcut and conv3
        if self.PREACTIVATION:
            self.preact = layers.BatchNorm(f"{scope}/preact", arg_scope.batch_norm,
                                           activation=tf.nn.relu)
            linear["batch_norm"] = None
        self.shortcut = (None if depth == depth_in else
                         arg_scope.conv2d(depth, 1, stride=unit.stride, scope=f"{scope}/shortcut",
                                          **linear))
        self.conv1 = arg_scope.conv2d(bottleneck, 1, scope=f"{scope}/conv1")
        self.conv2 = Conv2dSame(arg_scope, bottleneck, 3, stride=unit.stride, rate=unit.rate,
                                scope=f"{scope}/conv2")
        self.conv3 = arg_scope.conv2d(depth, 1, scope=f"{scope}/conv3", **linear)

    def call(self, inputs, training=None):
        end_points = {}
        preact = self.preact(inputs, training=training) if self.PREACTIVATION else inputs
        if self.shortcut is None:
            # The identity shortcut takes the unit input, not the pre-activation.
            shortcut = subsample(inputs, self.stride)
        else:
            shortcut = end_points[f"{self.scope}/shortcut"] = self.shortcut(preact, training=training)
        residual = end_points[f"{self.scope}/conv1"] = self.conv1(preact, training=training)
        residual = end_points[f"{self.scope}/conv2"] = self.conv2(residual, training=training)
        residual = end_points[f"{self.scope}/conv3"] = self.conv3(residual, training=training)
        output = shortcut + residual
        if not self.PREACTIVATION:
            output = tf.nn.relu(output)
        end_points[self.scope] = output
        return output, end_points


def plan_blocks(blocks: Sequence[Block], output_stride: Optional[int] = None,
                store_non_strided_activations: bool = False) -> List[Block]:
    """slim ``stack_blocks_dense``'s stride/rate bookkeeping, done once up front: the
    blocks with each unit's actual stride and rate and each block's ``subsample``.

    Once the running stride reaches ``output_stride`` every later stride is
    replaced by stride 1 and folded into the atrous rate.

    Raises:
      ValueError: 'The target output_stride cannot be reached.' as slim.
    """
    current_stride, rate = 1, 1
    unreachable = ValueError("The target output_stride cannot be reached.")
    plans = []
    for block in blocks:
        block_stride = 1
        units = []
        for i, unit in enumerate(block.units):
            stride = unit.stride
            if store_non_strided_activations and i == len(block.units) - 1:
                # The last unit runs at stride 1; its stride moves to the block's end.
                block_stride, stride = stride, 1
            if output_stride is not None and current_stride == output_stride:
                units.append(dataclasses.replace(unit, stride=1, rate=rate))
                rate *= stride
            else:
                units.append(dataclasses.replace(unit, stride=stride, rate=1))
                current_stride *= stride
                if output_stride is not None and current_stride > output_stride:
                    raise unreachable
        factor = 1
        if output_stride is not None and current_stride == output_stride:
            rate *= block_stride
        else:
            factor = block_stride
            current_stride *= block_stride
            if output_stride is not None and current_stride > output_stride:
                raise unreachable
        plans.append(Block(block.scope, tuple(units), factor))
    if output_stride is not None and current_stride != output_stride:
        raise unreachable
    return plans


def resnet_arg_scope(weight_decay: float = 0.0001, batch_norm_decay: float = 0.997,
                     batch_norm_epsilon: float = 1e-5, batch_norm_scale: bool = True,
                     activation_fn: Callable = tf.nn.relu,
                     use_batch_norm: bool = True) -> layers.ArgScope:
    """slim ``resnet_arg_scope``: BN (with gamma) after every conv, He-normal init, L2."""
    bn = layers.BatchNormParams(decay=batch_norm_decay, epsilon=batch_norm_epsilon, center=True,
                                scale=batch_norm_scale)
    # slim.variance_scaling_initializer(): factor 2, FAN_IN, truncated normal; a fresh
    # draw per variable (one shared unseeded instance would repeat its values).
    init = layers.FreshInitializer(tf_keras.initializers.VarianceScaling(
        scale=2.0, mode="fan_in", distribution="truncated_normal"))
    return layers.ArgScope(weight_decay=weight_decay, batch_norm=bn if use_batch_norm else None,
                           activation=activation_fn, weights_initializer=init)


# unit_builder(arg_scope, scope, depth_in, planned unit) -> layer returning (output, end_points)
UnitBuilder = Callable[[layers.ArgScope, str, int, UnitArgs], tf_keras.layers.Layer]


class ResNet(SlimModel):
    """The slim ``resnet_v1`` / ``resnet_v2`` generator with the root block included.

    Subclasses pass the unit builder, the root conv's arg scope and whether a
    final ``postnorm`` BN+ReLU follows the blocks (v2).

    End points (slim names): ``<scope>/conv1``, every unit's convs and output
    (``<scope>/block1/unit_1/bottleneck_v1/conv1`` ...), ``<scope>/blockN``,
    ``global_pool``, ``<scope>/logits``, ``<scope>/spatial_squeeze``, ``predictions``.
    """

    def __init__(self, *, spec_name: str, scope: str, blocks: Sequence[Block],
                 unit_builder: UnitBuilder, root_arg_scope: Optional[layers.ArgScope] = None,
                 postnorm: bool = False, num_classes: int = 1000, is_training: bool = False,
                 weight_decay: float = 0.0001, global_pool: bool = True,
                 output_stride: Optional[int] = None, spatial_squeeze: bool = True,
                 store_non_strided_activations: bool = False):
        super().__init__(spec_name=spec_name, scope=scope, num_classes=num_classes,
                         is_training=is_training, default_image_size=224)
        self.global_pool = global_pool
        self.spatial_squeeze = spatial_squeeze
        self.output_stride = output_stride
        sc = resnet_arg_scope(weight_decay=weight_decay)
        if output_stride is not None:
            if output_stride % 4 != 0:
                raise ValueError("The output_stride needs to be a multiple of 4.")
            output_stride //= 4  # the root block (conv1 + pool1) has stride 4
        self.conv1 = Conv2dSame(root_arg_scope or sc, 64, 7, stride=2, scope=f"{scope}/conv1")
        self.plans = plan_blocks(blocks, output_stride, store_non_strided_activations)
        self.units: List[List[tf_keras.layers.Layer]] = []
        depth_in = 64
        for plan in self.plans:
            block_units = []
            for index, unit in enumerate(plan.units):
                block_units.append(unit_builder(sc, f"{scope}/{plan.scope}/unit_{index + 1}",
                                                depth_in, unit))
                depth_in = unit.depth
            self.units.append(block_units)
        self.num_features = depth_in
        self.postnorm = (layers.BatchNorm(f"{scope}/postnorm", sc.batch_norm, activation=tf.nn.relu)
                         if postnorm else None)
        self.logits = (sc.conv2d(num_classes, 1, scope=f"{scope}/logits", activation=None,
                                 batch_norm=None) if num_classes else None)

    def forward(self, inputs, training):
        end_points: EndPoints = {}
        net = end_points[f"{self.scope}/conv1"] = self.conv1(inputs, training=training)
        net = layers.max_pool2d(net, 3, stride=2, padding="SAME")
        for plan, block_units in zip(self.plans, self.units):
            for unit in block_units:
                net, unit_end_points = unit(net, training=training)
                end_points.update(unit_end_points)
            end_points[f"{self.scope}/{plan.scope}"] = net
            net = subsample(net, plan.subsample)
        if self.postnorm is not None:
            net = self.postnorm(net, training=training)
        if self.global_pool:
            net = end_points["global_pool"] = layers.global_avg_pool(net)
        if not self.num_classes:
            return net, end_points
        net = end_points[f"{self.scope}/logits"] = self.logits(net, training=training)
        if self.spatial_squeeze:
            net = end_points[f"{self.scope}/spatial_squeeze"] = layers.spatial_squeeze(net)
        end_points["predictions"] = tf.nn.softmax(net)
        return net, end_points


def resnet_spec(name: str, builder: Callable[..., SlimModel], checkpoint_num_classes: int,
                kwargs: Tuple[str, ...]) -> NetSpec:
    """The registry record of ``resnet_v1_<depth>`` / ``resnet_v2_<depth>``: 224 px, 1000
    classes (slim's default is None), vgg preprocessing, logits ``<name>/logits``."""
    return NetSpec(name=name, builder=builder, default_image_size=224, num_classes=1000,
                   preprocessing="vgg", scope=name, logits_scopes=(f"{name}/logits",),
                   checkpoint_num_classes=checkpoint_num_classes, kwargs=kwargs)
