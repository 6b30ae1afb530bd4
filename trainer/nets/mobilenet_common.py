"""Shared MobileNet machinery (slim nets/mobilenet/{mobilenet,conv_blocks}.py).

slim's ``mobilenet_base`` walks a list of ``op(...)`` definitions, applies the
depth multiplier (``_make_divisible``), plans strides/atrous rates for
``output_stride`` and names every layer by slim's default scopes (``Conv``,
``Conv_1``, ``expanded_conv``, ``expanded_conv_1`` ...). A Keras model creates
its layers up front, so :class:`MobilenetV2Family` runs that bookkeeping once at
construction (channel counts are static) and ``forward`` only executes it.
MobileNet V2 and V3 are conv-def tables over this class.
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import tensorflow as tf
import tf_keras

from trainer.nets import layers
from trainer.nets.base import SlimModel
from trainer.nets.registry import NetSpec

EndPoints = Dict[str, tf.Tensor]
Activation = Optional[Callable[[tf.Tensor], tf.Tensor]]

def mobilenet_spec(name: str, model: Callable[..., SlimModel], *, scope: str, kwargs: Tuple[str, ...],
                   num_classes: int = 1001, **defaults) -> NetSpec:
    """The registry record of a MobileNet nets_factory key: ``model`` with slim's partial
    ``defaults``, 224 px, inception preprocessing, 1001-class released checkpoints."""
    return NetSpec(name=name, builder=functools.partial(model, spec_name=name, **defaults),
                   default_image_size=224, num_classes=num_classes, preprocessing="inception",
                   scope=scope, logits_scopes=(f"{scope}/Logits",), checkpoint_num_classes=1001,
                   kwargs=kwargs)


# mobilenet.training_scope() defaults (what nets_factory applies to v2/v3).
TRAINING_SCOPE_STDDEV = 0.09
TRAINING_SCOPE_BN_DECAY = 0.997
TRAINING_SCOPE_DROPOUT_KEEP_PROB = 0.8


def make_divisible(value: float, divisor: int, min_value: Optional[int] = None) -> int:
    """slim ``_make_divisible``: round to a multiple of ``divisor``, never >10% down."""
    if min_value is None:
        min_value = divisor
    new_value = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new_value < 0.9 * value:
        new_value += divisor
    return int(new_value)


def fixed_padding(inputs: tf.Tensor, kernel_size: int, rate: int = 1) -> tf.Tensor:
    """slim ``_fixed_padding``: pad so that a VALID conv gives SAME's output size."""
    effective = kernel_size + (kernel_size - 1) * (rate - 1)
    pad_total = effective - 1
    pad_beg = pad_total // 2
    pad_end = pad_total - pad_beg
    return tf.pad(inputs, [[0, 0], [pad_beg, pad_end], [pad_beg, pad_end], [0, 0]])


def hard_swish(x: tf.Tensor) -> tf.Tensor:
    """mobilenet_v3.hard_swish: x * relu6(x + 3) * (1 / 6).

    Python constants (not slim's np.float32) so that float16 inputs work too;
    in float32 they are the same numbers.
    """
    return x * tf.nn.relu6(x + 3.0) * (1.0 / 6.0)


def hard_sigmoid_gate(x: tf.Tensor) -> tf.Tensor:
    """The squeeze-excite gating of mobilenet_v3.py: relu6(x + 3) * 0.16667 (sic)."""
    return tf.nn.relu6(x + 3) * 0.16667


class _Default:
    """Marks "use the conv defs' default activation"."""

    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT = _Default()


@dataclasses.dataclass(frozen=True)
class ConvDef:
    """``op(slim.conv2d, ...)``: conv (+BN unless ``batch_norm=False``, then biases)."""

    num_outputs: int
    kernel_size: int
    stride: int = 1
    activation: Union[Activation, _Default] = DEFAULT
    batch_norm: bool = True


@dataclasses.dataclass(frozen=True)
class ExpandedConvDef:
    """``op(ops.expanded_conv, ...)``: 1x1 expand -> depthwise -> (SE) -> 1x1 project.

    ``expansion`` is the factor of ``expand_input_by_factor(expansion,
    expansion_divisible_by)``; ``activation`` is slim's ``inner_activation_fn``
    (DEFAULT keeps the conv defs' default).
    """

    num_outputs: int
    expansion: float = 6.0
    stride: int = 1
    kernel_size: int = 3
    activation: Union[Activation, _Default] = DEFAULT
    squeeze_excite: bool = False
    residual: bool = True
    expansion_divisible_by: int = 8
    fused: bool = False  # mobilenet_v3.mbv3_fused: a k x k strided 'expand', no depthwise


@dataclasses.dataclass(frozen=True)
class PoolDef:
    """``op(reduce_to_1x1, default_size=7, stride=1, padding='VALID')`` of mobilenet_v3."""

    default_size: int = 7


OpDef = Union[ConvDef, ExpandedConvDef, PoolDef]


def reduce_to_1x1(inputs: tf.Tensor, default_size: int) -> tf.Tensor:
    """mobilenet_v3.reduce_to_1x1: avg pool with the full (square) map, else default_size."""
    height, width = inputs.shape[1], inputs.shape[2]
    kernel = height if (height is not None and width == height) else default_size
    return layers.avg_pool2d(inputs, kernel, stride=1, padding="VALID")


class SqueezeExcite(tf_keras.layers.Layer):
    """conv_blocks.squeeze_excite with mobilenet_v3's settings (factor 4, relu, hard gate).

    Two 1x1 convs with biases and no BN, scopes ``<block>/squeeze_excite/Conv`` and
    ``<block>/squeeze_excite/Conv_1`` (slim's default conv2d scope names).
    """

    def __init__(self, scope: str, channels: int, sc: layers.ArgScope, squeeze_factor: int = 4,
                 divisible_by: int = 8):
        super().__init__(name=scope.replace("/", "__"))
        squeeze_channels = make_divisible(channels / squeeze_factor, divisible_by)
        self.squeeze = sc.conv2d(squeeze_channels, 1, scope=f"{scope}/Conv", batch_norm=None,
                                 activation=tf.nn.relu)
        self.excite = sc.conv2d(channels, 1, scope=f"{scope}/Conv_1", batch_norm=None,
                                activation=hard_sigmoid_gate)

    def call(self, inputs, training=None):
        pooled = tf.reduce_mean(inputs, axis=[1, 2], keepdims=True)
        gate = self.excite(self.squeeze(pooled, training=training), training=training)
        return inputs * gate


class ExpandedConv(tf_keras.layers.Layer):
    """conv_blocks.expanded_conv as used by MobileNet V2/V3 (depthwise at 'expansion').

    ``stride`` is the stride slim passes after output_stride planning; it also
    decides the residual, as in slim (``stride == 1`` and equal depths).
    """

    def __init__(self, scope: str, in_channels: int, inner_size: int, num_outputs: int,
                 kernel_size: int, stride: int, rate: int, activation: Activation,
                 squeeze_excite: bool, residual: bool, use_explicit_padding: bool,
                 sc: layers.ArgScope, fused: bool = False):
        super().__init__(name=scope.replace("/", "__"))
        if fused and use_explicit_padding:
            raise ValueError("Fused expanded convs (MobilenetEdgeTPU) take no explicit padding.")
        self.scope = scope
        self.kernel_size = kernel_size
        self.rate = rate
        self.use_explicit_padding = use_explicit_padding
        # slim only expands when the expansion is wider than the input. A fused
        # block (depthwise_location=None) does the k x k, strided work in 'expand'.
        expand_kernel, expand_stride = (kernel_size, stride) if fused else (1, 1)
        self.expand = (sc.conv2d(inner_size, expand_kernel, scope=f"{scope}/expand",
                                 stride=expand_stride, activation=activation)
                       if inner_size > in_channels else None)
        self.depthwise = None if fused else sc.separable_conv2d(
            None, kernel_size, scope=f"{scope}/depthwise", depth_multiplier=1, stride=stride,
            rate=rate, activation=activation,
            padding="VALID" if use_explicit_padding else "SAME")
        depth = inner_size if self.expand is not None else in_channels
        self.squeeze_excite = (SqueezeExcite(f"{scope}/squeeze_excite", depth, sc)
                               if squeeze_excite else None)
        self.project = sc.conv2d(num_outputs, 1, scope=f"{scope}/project", activation=None)
        self.add_residual = residual and stride == 1 and num_outputs == in_channels

    def call(self, inputs, training=None):
        return self.forward(inputs, training)[0]

    def forward(self, inputs: tf.Tensor, training: bool) -> Tuple[tf.Tensor, EndPoints]:
        """Returns the block output and slim's ``*_output`` tensors of this block."""
        outputs = {}
        net = inputs
        if self.expand is not None:
            net = outputs["expansion_output"] = self.expand(net, training=training)
        if self.depthwise is not None:
            if self.use_explicit_padding:
                net = fixed_padding(net, self.kernel_size, self.rate)
            net = outputs["depthwise_output"] = self.depthwise(net, training=training)
        if self.squeeze_excite is not None:
            net = self.squeeze_excite(net, training=training)
        net = self.project(net, training=training)
        if self.add_residual:
            net = net + inputs
        outputs["output"] = net
        return net, outputs


@dataclasses.dataclass(frozen=True)
class _Step:
    """One planned op: its layer (None for the pool), padding and end-point name."""

    end_point: str
    layer: Optional[tf_keras.layers.Layer]
    pad_kernel: int = 0
    pad_rate: int = 1
    pool_size: int = 0


class MobilenetV2Family(SlimModel):
    """slim ``mobilenet.mobilenet`` over a conv-def table (MobileNet V2 and V3).

    End points: ``layer_1`` … ``layer_N`` (one per op), ``layer_k/output``,
    ``layer_k/depthwise_output`` and ``layer_k/expansion_output`` of expanded
    convs, ``global_pool``, ``Logits``, ``Predictions``.
    """

    # v2 finegrain divides the last op's depth by the multiplier; v3 exempts it.
    FINEGRAIN_DIVIDES = True

    def __init__(self, *, spec_name: str, scope: str, conv_defs: Sequence[OpDef],
                 default_activation: Activation, num_classes: int = 1001,
                 is_training: bool = False, weight_decay: float = 0.0,
                 depth_multiplier: float = 1.0, finegrain_classification_mode: bool = False,
                 min_depth: int = 8, divisible_by: int = 8, output_stride: Optional[int] = None,
                 use_explicit_padding: bool = False,
                 dropout_keep_prob: float = TRAINING_SCOPE_DROPOUT_KEEP_PROB):
        super().__init__(spec_name=spec_name, scope=scope, num_classes=num_classes,
                         is_training=is_training, default_image_size=224)
        if depth_multiplier <= 0:
            raise ValueError("multiplier is not greater than zero.")
        if output_stride is not None and (output_stride == 0 or
                                          (output_stride > 1 and output_stride % 2)):
            raise ValueError("Output stride must be None, 1 or a multiple of 2.")
        # training_scope(): truncated normal(0.09), BN center+scale (from the conv
        # defs) with decay 0.997, L2 on conv2d weights only (not depthwise).
        self.arg_scope = layers.ArgScope(
            weight_decay=weight_decay,
            batch_norm=layers.BatchNormParams(decay=TRAINING_SCOPE_BN_DECAY, epsilon=0.001,
                                              center=True, scale=True),
            activation=default_activation,
            weights_initializer=layers.FreshInitializer(
                tf_keras.initializers.TruncatedNormal(stddev=TRAINING_SCOPE_STDDEV)),
            regularize_depthwise=False,
            padding="VALID" if use_explicit_padding else "SAME")
        self._steps = tuple(self._plan(conv_defs, depth_multiplier,
                                       finegrain_classification_mode, min_depth, divisible_by,
                                       output_stride, use_explicit_padding))
        # A list attribute is what Keras tracks (the steps only describe the plan).
        self.blocks = [step.layer for step in self._steps if step.layer is not None]
        self.dropout = tf_keras.layers.Dropout(1.0 - dropout_keep_prob)
        self.logits_conv = (self.arg_scope.conv2d(
            num_classes, 1, scope=f"{scope}/Logits/Conv2d_1c_1x1", activation=None,
            batch_norm=None) if num_classes else None)

    def _plan(self, conv_defs, multiplier, finegrain, min_depth, divisible_by, output_stride,
              use_explicit_padding) -> List[_Step]:
        """slim mobilenet_base's loop: depths, strides, rates and scope names."""
        sc = self.arg_scope
        steps = []
        counters: Dict[str, int] = {}
        channels = 3
        current_stride, rate = 1, 1

        def scope_name(base: str) -> str:
            index = counters.get(base, 0)
            counters[base] = index + 1
            return f"{self.scope}/{base}" if index == 0 else f"{self.scope}/{base}_{index}"

        for i, opdef in enumerate(conv_defs):
            end_point = f"layer_{i + 1}"
            last = i == len(conv_defs) - 1
            if isinstance(opdef, PoolDef):
                steps.append(_Step(end_point, None, pool_size=opdef.default_size))
                continue
            num_outputs = float(opdef.num_outputs)
            if finegrain and last and self.FINEGRAIN_DIVIDES and multiplier < 1:
                num_outputs /= multiplier
            if not (finegrain and last and not self.FINEGRAIN_DIVIDES):
                num_outputs = make_divisible(num_outputs * multiplier, divisible_by, min_depth)
            num_outputs = int(num_outputs)
            stride = opdef.stride
            if output_stride is not None and current_stride == output_stride:
                layer_stride, layer_rate = 1, rate
                rate *= stride
            else:
                layer_stride, layer_rate = stride, 1
                current_stride *= stride
            activation = sc.activation if opdef.activation is DEFAULT else opdef.activation
            if isinstance(opdef, ConvDef):
                # slim never dilates a 1x1 conv.
                conv_rate = layer_rate if opdef.kernel_size != 1 else 1
                layer = sc.conv2d(num_outputs, opdef.kernel_size, scope=scope_name("Conv"),
                                  stride=layer_stride, rate=conv_rate, activation=activation,
                                  batch_norm=sc.batch_norm if opdef.batch_norm else None)
                pad_kernel = opdef.kernel_size if use_explicit_padding else 0
                steps.append(_Step(end_point, layer, pad_kernel=pad_kernel, pad_rate=layer_rate))
            else:
                inner = make_divisible(channels * opdef.expansion, opdef.expansion_divisible_by)
                layer = ExpandedConv(
                    scope_name("expanded_conv"), in_channels=channels, inner_size=inner,
                    num_outputs=num_outputs, kernel_size=opdef.kernel_size, stride=layer_stride,
                    rate=layer_rate, activation=activation, squeeze_excite=opdef.squeeze_excite,
                    residual=opdef.residual, use_explicit_padding=use_explicit_padding, sc=sc,
                    fused=opdef.fused)
                steps.append(_Step(end_point, layer))
            channels = num_outputs
        self.num_features = channels
        return steps

    def forward(self, inputs, training):
        end_points: EndPoints = {}
        net = inputs
        for step in self._steps:
            if step.layer is None:
                net = reduce_to_1x1(net, step.pool_size)
            elif isinstance(step.layer, ExpandedConv):
                net, outputs = step.layer.forward(net, training)
                for name, tensor in outputs.items():
                    end_points[f"{step.end_point}/{name}"] = tensor
            else:
                if step.pad_kernel:
                    net = fixed_padding(net, step.pad_kernel, step.pad_rate)
                net = step.layer(net, training=training)
            end_points[step.end_point] = net
        # Logits: avg pool over the whole map, dropout, 1x1 conv with biases, squeeze.
        net = end_points["global_pool"] = layers.global_avg_pool(net)
        if not self.num_classes:
            return net, end_points
        net = self.dropout(net, training=training)
        logits = layers.spatial_squeeze(self.logits_conv(net, training=training))
        end_points["Logits"] = logits
        end_points["Predictions"] = tf.nn.softmax(logits)
        return logits, end_points
