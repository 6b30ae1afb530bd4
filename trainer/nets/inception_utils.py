"""Pieces shared by the Inception family (slim ``nets/inception_utils.py`` and more).

slim writes every Inception module out by hand: a ``Mixed_*`` scope holding
``Branch_0..3``, each branch a chain of convs/pools whose outputs are
concatenated on channels. Here a module is *data* (:class:`Conv`, :class:`Pool`,
:class:`Fork` inside branches) turned into layers by :class:`Mixed`, so each net
file reads like slim's table of depths and scope names, with its naming quirks
spelt out where they occur.
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import tensorflow as tf
import tf_keras

from trainer.nets import layers
from trainer.nets.base import SlimModel
from trainer.nets.registry import NetSpec

IntOrPair = Union[int, Sequence[int]]


def variance_scaling() -> tf_keras.initializers.Initializer:
    """slim.variance_scaling_initializer() defaults: factor 2, FAN_IN, truncated normal.

    Wrapped in FreshInitializer: the arg scope shares one instance across all
    convs, and an unseeded tf_keras instance would repeat the same draw.
    """
    return layers.FreshInitializer(
        tf_keras.initializers.VarianceScaling(2.0, "fan_in", "truncated_normal"))


def trunc_normal(stddev: float) -> tf_keras.initializers.Initializer:
    """slim's ``trunc_normal(stddev)`` = truncated_normal_initializer(0.0, stddev)."""
    return layers.FreshInitializer(tf_keras.initializers.TruncatedNormal(mean=0.0, stddev=stddev))


def inception_arg_scope(weight_decay: float = 0.00004, use_batch_norm: bool = True,
                        batch_norm_decay: float = 0.9997, batch_norm_epsilon: float = 0.001,
                        batch_norm_scale: bool = False,
                        activation: Optional[Callable] = tf.nn.relu,
                        regularize_biases: bool = False) -> layers.ArgScope:
    """slim ``inception_utils.inception_arg_scope`` as an :class:`layers.ArgScope`.

    conv2d: variance-scaling init, ReLU, BatchNorm without gamma (``scale=False``
    unless ``batch_norm_scale``), L2 on weights. ``regularize_biases`` is the one
    difference of ``inception_resnet_v2_arg_scope``, which also puts L2 on biases.
    slim applies this scope to conv2d/fully_connected only; separable convs are
    outside it (see inception_v2's ``Conv2d_1a_7x7``).
    """
    batch_norm = (layers.BatchNormParams(decay=batch_norm_decay, epsilon=batch_norm_epsilon,
                                         center=True, scale=batch_norm_scale)
                  if use_batch_norm else None)
    return layers.ArgScope(weight_decay=weight_decay, batch_norm=batch_norm, activation=activation,
                           weights_initializer=variance_scaling(),
                           regularize_biases=regularize_biases, padding="SAME")


def depth_fn(depth_multiplier: float, min_depth: int) -> Callable[[int], int]:
    """slim's ``depth = lambda d: max(int(d * depth_multiplier), min_depth)``.

    Raises:
      ValueError: ``depth_multiplier <= 0`` (slim's message).
    """
    if depth_multiplier <= 0:
        raise ValueError("depth_multiplier is not greater than zero.")
    return lambda d: max(int(d * depth_multiplier), min_depth)


@dataclasses.dataclass(frozen=True)
class Conv:
    """One slim.conv2d of a module: ``scope`` is relative to its branch (or net)."""

    scope: str
    depth: int
    kernel: IntOrPair
    _: dataclasses.KW_ONLY
    stride: int = 1
    padding: Optional[str] = None  # None: the enclosing arg_scope's padding
    stddev: Optional[float] = None  # trunc_normal(stddev) initializer override


@dataclasses.dataclass(frozen=True)
class Pool:
    """slim.max_pool2d / avg_pool2d (no variables; the scope only names the op)."""

    scope: str
    kind: str  # 'max' or 'avg'
    kernel: int
    stride: int = 1
    padding: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class Fork:
    """Convs applied to the same input whose outputs are concatenated (v3 Mixed_7b/7c)."""

    convs: Tuple[Conv, ...]


Op = Union[Conv, Pool, Fork]


class PoolLayer(tf_keras.layers.Layer):
    """A variable-free pooling step, a Layer so that stages are uniform."""

    def __init__(self, spec: Pool, padding: str, **kwargs):
        super().__init__(**kwargs)
        self.kind = spec.kind
        self.kernel = spec.kernel
        self.stride = spec.stride
        self.padding = spec.padding or padding

    def call(self, inputs, training=None):  # pylint: disable=unused-argument
        pool = layers.max_pool2d if self.kind == "max" else layers.avg_pool2d
        return pool(inputs, self.kernel, self.stride, self.padding)


def make_conv(spec: Conv, prefix: str, sc: layers.ArgScope, padding: str) -> layers.Conv2D:
    """The slim.conv2d ``spec`` under ``prefix`` with ``sc``'s defaults."""
    kw = {}
    if spec.stddev is not None:
        kw["weights_initializer"] = trunc_normal(spec.stddev)
    return sc.conv2d(spec.depth, spec.kernel, scope=f"{prefix}/{spec.scope}", stride=spec.stride,
                     padding=spec.padding or padding, **kw)


class Chain(tf_keras.layers.Layer):
    """Ops run one after the other: a branch of a module."""

    def __init__(self, ops: Sequence[Op], prefix: str, sc: layers.ArgScope, padding: str,
                 **kwargs):
        super().__init__(**kwargs)
        self.steps: List[Union[tf_keras.layers.Layer, List[tf_keras.layers.Layer]]] = []
        for op in ops:
            if isinstance(op, Conv):
                self.steps.append(make_conv(op, prefix, sc, padding))
            elif isinstance(op, Pool):
                self.steps.append(PoolLayer(op, padding))
            else:
                self.steps.append([make_conv(c, prefix, sc, padding) for c in op.convs])

    def call(self, inputs, training=None):
        net = inputs
        for step in self.steps:
            if isinstance(step, (list, tuple)):
                net = tf.concat([conv(net, training=training) for conv in step], axis=3)
            else:
                net = step(net, training=training)
        return net


class Mixed(tf_keras.layers.Layer):
    """An Inception module: ``<scope>/Branch_i`` chains concatenated on channels."""

    def __init__(self, scope: str, branches: Sequence[Sequence[Op]], sc: layers.ArgScope,
                 padding: str = "SAME", **kwargs):
        super().__init__(name=scope.replace("/", "__"), **kwargs)
        self.scope = scope
        self.branches = [Chain(ops, f"{scope}/Branch_{i}", sc, padding)
                         for i, ops in enumerate(branches)]

    def call(self, inputs, training=None):
        return tf.concat([branch(inputs, training=training) for branch in self.branches], axis=3)


def make_stage(op: Union[Op, tf_keras.layers.Layer], prefix: str, sc: layers.ArgScope,
               padding: str) -> tf_keras.layers.Layer:
    """A stem op (Conv/Pool spec) as a layer; ready layers pass through."""
    if isinstance(op, Conv):
        return make_conv(op, prefix, sc, padding)
    if isinstance(op, Pool):
        return PoolLayer(op, padding)
    if isinstance(op, tf_keras.layers.Layer):
        return op
    raise TypeError(f"Cannot make a stage from {op!r}")


class InputSizedConv2D(layers.SlimLayer):
    """A slim.conv2d whose kernel is fixed by its input's static size when first called.

    slim builds the aux heads with ``kernel = min(kernel, input H/W)`` (inception_v3's
    ``_reduced_kernel_size_for_small_input``) or ``kernel = input H/W`` (v4 and
    inception_resnet_v2), and inception_v3 even writes the kernel into the scope
    (``Conv2d_2a_{k}x{k}``). The conv is therefore created in ``build`` from the
    input shape, so variable shapes *and* names follow slim at any input size.

    Args:
      scope: full slim scope; with ``name_kernel`` the suffix ``_{kh}x{kw}`` is added.
      make: ``make(kernel, full_scope) -> layers.Conv2D``.
      max_kernel: upper bound of the kernel (None: the whole input).
      name_kernel: append the kernel size to the scope (inception_v3).
    """

    def __init__(self, scope: str, make: Callable[[Tuple[int, int], str], layers.Conv2D],
                 max_kernel: Optional[Tuple[int, int]] = None, name_kernel: bool = False,
                 **kwargs):
        super().__init__(scope, **kwargs)
        self._make = make
        self.max_kernel = max_kernel
        self.name_kernel = name_kernel
        self.conv: Optional[layers.Conv2D] = None

    def build(self, input_shape):
        height, width = input_shape[1], input_shape[2]
        if self.max_kernel is None:
            if height is None or width is None:
                raise ValueError(f"{self.scope} needs a static input height and width "
                                 "(slim uses the feature map size as kernel); pass "
                                 "create_aux_logits=False for inputs of unknown size.")
            kernel = (int(height), int(width))
        elif height is None or width is None:
            kernel = self.max_kernel  # slim assumes a large enough input
        else:
            kernel = (min(int(height), self.max_kernel[0]), min(int(width), self.max_kernel[1]))
        scope = f"{self.scope}_{kernel[0]}x{kernel[1]}" if self.name_kernel else self.scope
        self.conv = self._make(kernel, scope)
        super().build(input_shape)

    def call(self, inputs, training=None):
        return self.conv(inputs, training=training)

    def slim_variables(self) -> Dict[str, tf.Variable]:
        return {}  # the inner Conv2D reports its own variables


class AuxHead(tf_keras.layers.Layer):
    """The aux classifier of inception_v4 and inception_resnet_v2 under ``scope``
    (``<net>/AuxLogits``): 5x5/3 VALID average pool, 1x1 conv to 128, a VALID conv to 768
    whose kernel is the whole remaining map, flatten, fully connected logits.

    The two nets differ only in names and the fully-connected arg scope: ``conv_name`` is
    the 768 conv's scope suffix, ``logits_name`` the logits layer's.
    """

    def __init__(self, scope: str, conv_sc: layers.ArgScope, fc_sc: layers.ArgScope,
                 num_classes: int, conv_name: str, logits_name: str):
        super().__init__(name=scope.replace("/", "__"))
        self.convs = [
            conv_sc.conv2d(128, 1, scope=f"{scope}/Conv2d_1b_1x1"),
            InputSizedConv2D(f"{scope}/{conv_name}", make=lambda kernel, full: conv_sc.conv2d(
                768, kernel, scope=full, padding="VALID")),
        ]
        self.logits = fc_sc.fully_connected(num_classes, scope=f"{scope}/{logits_name}",
                                            activation=None)

    def call(self, inputs, training=None):
        net = layers.avg_pool2d(inputs, 5, stride=3, padding="VALID")
        for conv in self.convs:
            net = conv(net, training=training)
        return self.logits(flatten(net), training=training)


class InceptionNet(SlimModel):
    """Base of the Inception nets: a list of stages, each optionally an end point, and a head.

    Subclasses call :meth:`add_stage` in slim's order in ``__init__``, then
    :meth:`add_logits`; ``forward`` starts with :meth:`run_stages` and ends with
    :meth:`conv_head` (v1-v3) or :meth:`fc_head` (v4, inception_resnet_v2).

    The nets share these arguments:
      num_classes: outputs; 0 returns the pooled features (and builds no aux head).
      is_training: default BatchNorm/dropout mode.
      weight_decay: L2 scale of the net's arg scope.
      dropout_keep_prob: keep probability before the logits.
      spatial_squeeze (v1-v3): squeeze logits (and aux logits) to ``[B, C]``.
      global_pool (v1-v3): average over all positions instead of slim's fixed pool.
      min_depth (v2, v3): smallest conv depth when ``depth_multiplier < 1``.
      depth_multiplier (v2, v3): scales every conv depth; must be > 0.
      create_aux_logits (v3, v4, inception_resnet_v2): build the auxiliary head (v4 and
        inception_resnet_v2 need a static input size of at least 107 for it).
    """

    def __init__(self, *, spatial_squeeze: bool = True, global_pool: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.spatial_squeeze = spatial_squeeze
        self.global_pool = global_pool
        self.stages: List[tf_keras.layers.Layer] = []
        self.stage_end_points: List[Optional[str]] = []

    def add_stage(self, end_point: Optional[str], op: Union[Op, tf_keras.layers.Layer],
                  sc: layers.ArgScope, padding: str = "SAME") -> None:
        """Appends ``op`` (a Conv/Pool spec under the net scope, or a layer)."""
        self.stages.append(make_stage(op, self.scope, sc, padding))
        self.stage_end_points.append(end_point)

    def add_logits(self, sc: layers.ArgScope, dropout_keep_prob: float, name: str,
                   fully_connected: bool = False) -> None:
        """The dropout and the logits layer ``<scope>/Logits/<name>`` (none without classes):
        a 1x1 conv with biases, or slim.fully_connected."""
        self.dropout = tf_keras.layers.Dropout(1.0 - dropout_keep_prob)
        scope = f"{self.scope}/Logits/{name}"
        if not self.num_classes:
            self.logits = None
        elif fully_connected:
            self.logits = sc.fully_connected(self.num_classes, scope=scope, activation=None)
        else:
            self.logits = sc.conv2d(self.num_classes, 1, scope=scope, activation=None, batch_norm=None)

    def run_stages(self, inputs: tf.Tensor, training: bool) -> Tuple[tf.Tensor, Dict[str, tf.Tensor]]:
        end_points: Dict[str, tf.Tensor] = {}
        net = inputs
        for end_point, stage in zip(self.stage_end_points, self.stages):
            net = stage(net, training=training)
            if end_point:
                end_points[end_point] = net
        return net, end_points

    def conv_head(self, net: tf.Tensor, end_points: Dict[str, tf.Tensor], training: bool,
                  pool_end_point: str, pool: Callable[[tf.Tensor], tf.Tensor],
                  prelogits_key: Optional[str] = "PreLogits") -> Tuple[tf.Tensor, Dict[str, tf.Tensor]]:
        """slim's head of inception v1-v3: ``global_pool`` or the net's own ``pool`` →
        dropout → 1x1 conv ``Logits`` → SpatialSqueeze → softmax ``Predictions``.

        inception_v1 records no ``PreLogits`` end point (``prelogits_key=None``), as in slim.
        """
        if self.global_pool:
            net = end_points["global_pool"] = layers.global_avg_pool(net)
        else:
            net = end_points[pool_end_point] = pool(net)
        if not self.num_classes:
            return net, end_points
        net = self.dropout(net, training=training)
        if prelogits_key:
            end_points[prelogits_key] = net
        logits = self.logits(net, training=training)
        if self.spatial_squeeze:
            logits = layers.spatial_squeeze(logits)
        return self._predictions(logits, end_points)

    def fc_head(self, net: tf.Tensor, end_points: Dict[str, tf.Tensor], training: bool,
                aux_input: str, dropout_first: bool) -> Tuple[tf.Tensor, Dict[str, tf.Tensor]]:
        """slim's head of inception_v4 and inception_resnet_v2: ``AuxLogits`` from the
        ``aux`` head (when built) on end point ``aux_input``; ``global_pool`` over the
        whole map (reduce_mean when unknown) → dropout and flatten (``PreLogitsFlatten``;
        v4 drops out before flattening, inception_resnet_v2 after) → fully connected
        ``Logits`` → softmax."""
        if self.aux is not None:
            end_points["AuxLogits"] = self.aux(end_points[aux_input], training=training)
        net = end_points["global_pool"] = layers.global_avg_pool(net)
        if not self.num_classes:
            return net, end_points
        if dropout_first:
            net = flatten(self.dropout(net, training=training))
        else:
            net = self.dropout(flatten(net), training=training)
        end_points["PreLogitsFlatten"] = net
        return self._predictions(self.logits(net, training=training), end_points)

    @staticmethod
    def _predictions(logits: tf.Tensor, end_points: Dict[str, tf.Tensor]
                     ) -> Tuple[tf.Tensor, Dict[str, tf.Tensor]]:
        end_points["Logits"] = logits
        end_points["Predictions"] = tf.nn.softmax(logits)
        return logits, end_points


def inception_a(b0: int, b1: Tuple[int, int], b2: Tuple[int, int, int], pool_proj: int, *,
                b1_kernel: int = 3, b0_scope: str = "Conv2d_0a_1x1") -> List[Sequence[Op]]:
    """The 35x35 module of inception_v4 (``block_inception_a``) and inception_resnet_v2
    (``Mixed_5b``): 1x1 | 1x1 → kxk | 1x1 → 3x3 → 3x3 | 3x3 avg pool → 1x1 projection."""
    return [
        [Conv(b0_scope, b0, 1)],
        [Conv("Conv2d_0a_1x1", b1[0], 1), Conv(f"Conv2d_0b_{b1_kernel}x{b1_kernel}", b1[1], b1_kernel)],
        [Conv("Conv2d_0a_1x1", b2[0], 1), Conv("Conv2d_0b_3x3", b2[1], 3), Conv("Conv2d_0c_3x3", b2[2], 3)],
        [Pool("AvgPool_0a_3x3", "avg", 3), Conv("Conv2d_0b_1x1", pool_proj, 1)],
    ]


def reduction_a(k: int, l: int, m: int, n: int) -> List[Sequence[Op]]:  # noqa: E741 (the paper's names)
    """The 35x35 → 17x17 reduction of inception_v4 (``block_reduction_a``) and
    inception_resnet_v2 (``Mixed_6a``) with the filter counts k, l, m, n of the
    Inception-v4 paper (Table 1): a 3x3/2 conv to n; 1x1 k → 3x3 l → 3x3/2 m; a 3x3/2 max pool.
    """
    return [
        [Conv("Conv2d_1a_3x3", n, 3, stride=2, padding="VALID")],
        [Conv("Conv2d_0a_1x1", k, 1), Conv("Conv2d_0b_3x3", l, 3),
         Conv("Conv2d_1a_3x3", m, 3, stride=2, padding="VALID")],
        [Pool("MaxPool_1a_3x3", "max", 3, stride=2, padding="VALID")],
    ]


def inception_spec(name: str, builder: Callable[..., SlimModel], *, scope: str, default_image_size: int,
                   num_classes: int, kwargs: Tuple[str, ...], min_image_size: int,
                   aux_logits: bool = True) -> NetSpec:
    """The registry record of an Inception net: inception preprocessing, 1001-class
    released checkpoints, logits scopes ``<scope>/Logits`` (and ``<scope>/AuxLogits``)."""
    logits_scopes = (f"{scope}/Logits", f"{scope}/AuxLogits") if aux_logits else (f"{scope}/Logits",)
    return NetSpec(name=name, builder=builder, default_image_size=default_image_size,
                   num_classes=num_classes, preprocessing="inception", scope=scope,
                   logits_scopes=logits_scopes, checkpoint_num_classes=1001, kwargs=kwargs,
                   min_image_size=min_image_size)


def reduced_avg_pool(net: tf.Tensor, kernel: Tuple[int, int]) -> tf.Tensor:
    """slim's ``AvgPool_1a_{k}x{k}``: VALID avg pool, kernel shrunk for small inputs.

    The stride is slim.avg_pool2d's default 2 (the head is outside the stride-1
    arg_scope); it only matters for inputs larger than the default size.
    """
    return layers.avg_pool2d(net, layers.reduced_kernel_size_for_small_input(net, kernel),
                             stride=2, padding="VALID")


def flatten(net: tf.Tensor) -> tf.Tensor:
    """slim.flatten: [B, ...] -> [B, prod(...)] (static inner dims, as in slim)."""
    return tf.reshape(net, [-1, net.shape[1:].num_elements()])
