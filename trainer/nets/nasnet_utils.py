"""NASNet-A / PNASNet cells (slim nets/nasnet/nasnet_utils.py).

slim decides inside a cell, from the static shapes it meets, whether the
previous hidden state needs a factorized reduction or a 1x1 projection, and
which ops need a 1x1 conv to match filters. A NASNet therefore cannot list its
layers before it sees an input size, so :class:`ScopedLayers` creates each slim
layer the first time its scope is reached (as slim's variable scopes do) and
reuses it afterwards; the variables are the same for every later call.
"""
from __future__ import annotations

import dataclasses
from typing import Callable, List, Sequence, Union

import tensorflow as tf
import tf_keras

from trainer.nets import layers

TimeRatio = Union[float, tf.Tensor]


def calc_reduction_layers(num_cells: int, num_reduction_layers: int) -> List[int]:
    """slim calc_reduction_layers: the cell indices that are preceded by a reduction."""
    return [int(float(pool_num) / (num_reduction_layers + 1) * num_cells)
            for pool_num in range(1, num_reduction_layers + 1)]


def nasnet_arg_scope(weight_decay: float, batch_norm_decay: float,
                     batch_norm_epsilon: float) -> "NasNetScope":
    """slim nasnet_{cifar,mobile,large}_arg_scope.

    conv2d / separable_conv2d: no activation, no biases, no normalizer (cells call
    slim.batch_norm explicitly); variance_scaling(FAN_OUT) init; L2 on conv,
    separable (depthwise too) and FC weights; BN with scale=True.
    """
    conv = layers.ArgScope(
        weight_decay=weight_decay, batch_norm=None, activation=None,
        weights_initializer=layers.FreshInitializer(tf_keras.initializers.VarianceScaling(
            scale=2.0, mode="fan_out", distribution="truncated_normal")),
        regularize_depthwise=True)
    bn = layers.BatchNormParams(decay=batch_norm_decay, epsilon=batch_norm_epsilon,
                                center=True, scale=True)
    return NasNetScope(conv=conv, bn=bn)


@dataclasses.dataclass(frozen=True)
class NasNetScope:
    """The conv and batch-norm settings a NASNet arg scope fixes."""

    conv: layers.ArgScope
    bn: layers.BatchNormParams

    def conv2d(self, num_outputs: int, kernel_size, scope: str, **kw) -> layers.Conv2D:
        return self.conv.conv2d(num_outputs, kernel_size, scope=scope, use_bias=False, **kw)

    def separable_conv2d(self, num_outputs: int, kernel_size: int, scope: str,
                         stride: int) -> layers.SeparableConv2D:
        return self.conv.separable_conv2d(num_outputs, kernel_size, scope=scope,
                                          depth_multiplier=1, stride=stride, use_bias=False)

    def batch_norm(self, scope: str) -> layers.BatchNorm:
        return layers.BatchNorm(scope, self.bn)

    def fully_connected(self, num_outputs: int, scope: str) -> layers.FullyConnected:
        return self.conv.fully_connected(num_outputs, scope=scope, activation=None)


class ScopedLayers(tf_keras.layers.Layer):
    """A Keras layer whose slim sub-layers are created on first use of their scope."""

    def __init__(self, name: str, **kwargs):
        super().__init__(name=name.replace("/", "__") or "nasnet", **kwargs)
        self.scoped = {}

    def get(self, scope: str, factory: Callable[[], tf_keras.layers.Layer]):
        """The layer of ``scope``, made by ``factory`` the first time."""
        if scope not in self.scoped:
            self.scoped[scope] = factory()
        return self.scoped[scope]


def _width(net: tf.Tensor) -> int:
    # slim compares int(shape[2]) (the width in NHWC) and calls it "height".
    return int(net.shape[2])


def _channels(net: tf.Tensor) -> int:
    return int(net.shape[3])


def factorized_reduction(owner: ScopedLayers, sc: NasNetScope, scope: str, net: tf.Tensor,
                         output_filters: int, stride: int, training: bool) -> tf.Tensor:
    """slim factorized_reduction: two shifted strided 1x1 paths, concatenated, BN."""
    prefix = f"{scope}/" if scope else ""
    if stride == 1:
        net = owner.get(f"{prefix}path_conv",
                        lambda: sc.conv2d(output_filters, 1, f"{prefix}path_conv"))(net)
        return owner.get(f"{prefix}path_bn", lambda: sc.batch_norm(f"{prefix}path_bn"))(
            net, training=training)
    half = int(output_filters / 2)
    path1 = layers.avg_pool2d(net, 1, stride=stride, padding="VALID")
    path1 = owner.get(f"{prefix}path1_conv",
                      lambda: sc.conv2d(half, 1, f"{prefix}path1_conv"))(path1)
    # Shift by one pixel (pad bottom/right, drop top/left) before striding.
    path2 = tf.pad(net, [[0, 0], [0, 1], [0, 1], [0, 0]])[:, 1:, 1:, :]
    path2 = layers.avg_pool2d(path2, 1, stride=stride, padding="VALID")
    # An odd number of filters gives the extra one to the second path.
    second = half + int(output_filters % 2)
    path2 = owner.get(f"{prefix}path2_conv",
                      lambda: sc.conv2d(second, 1, f"{prefix}path2_conv"))(path2)
    final = tf.concat([path1, path2], axis=3)
    return owner.get(f"{prefix}final_path_bn",
                     lambda: sc.batch_norm(f"{prefix}final_path_bn"))(final, training=training)


def drop_path_keep_prob(keep_prob: float, cell_num: int, total_num_cells: int,
                        time_ratio: TimeRatio) -> TimeRatio:
    """slim _apply_drop_path ('v3'): scale the drop rate by depth, then by progress."""
    layer_ratio = (cell_num + 1) / float(total_num_cells)
    keep_prob = 1 - layer_ratio * (1 - keep_prob)
    return 1 - time_ratio * (1 - keep_prob)


def drop_path(net: tf.Tensor, keep_prob: TimeRatio) -> tf.Tensor:
    """slim drop_path: keep or drop each example's whole state, rescaled by 1/keep."""
    batch_size = tf.shape(net)[0]
    random_tensor = keep_prob + tf.random.uniform([batch_size, 1, 1, 1], dtype=tf.float32)
    binary_tensor = tf.cast(tf.floor(random_tensor), net.dtype)
    keep_prob_inv = tf.cast(1.0 / keep_prob, net.dtype)
    return net * keep_prob_inv * binary_tensor


@dataclasses.dataclass(frozen=True)
class CellSpec:
    """A NASNet-style cell: 5 combinations of two ops on chosen hidden states."""

    operations: Sequence[str]
    used_hiddenstates: Sequence[int]
    hiddenstate_indices: Sequence[int]


# slim's operation names: two stacked separable convs, pools, identity.
SEP3, SEP5, SEP7 = "separable_3x3_2", "separable_5x5_2", "separable_7x7_2"
AVG, MAX, NONE = "avg_pool_3x3", "max_pool_3x3", "none"

NASNET_A_NORMAL = CellSpec(operations=(SEP5, SEP3, SEP5, SEP3, AVG, NONE, AVG, AVG, SEP3, NONE),
                           used_hiddenstates=(1, 0, 0, 0, 0, 0, 0),
                           hiddenstate_indices=(0, 1, 1, 1, 0, 1, 1, 1, 0, 0))
NASNET_A_REDUCTION = CellSpec(operations=(SEP5, SEP7, MAX, SEP7, AVG, SEP5, NONE, AVG, SEP3, MAX),
                              used_hiddenstates=(1, 1, 1, 0, 0, 0, 0),
                              hiddenstate_indices=(0, 1, 0, 1, 0, 1, 3, 2, 2, 0))
PNASNET_NORMAL = CellSpec(operations=(SEP5, MAX, SEP7, MAX, SEP5, SEP3, SEP3, MAX, SEP3, NONE),
                          used_hiddenstates=(1, 1, 0, 0, 0, 0, 0),
                          hiddenstate_indices=(1, 1, 0, 0, 0, 0, 4, 0, 1, 0))


def _separable_info(operation: str):
    """'separable_3x3_4' -> (kernel 3, 4 layers) as slim's _operation_to_info."""
    parts = operation.split("_")
    num_layers = 1 if "x" in parts[-1] else int(parts[-1])
    kernel = int(operation.split("x")[0][-1])
    return kernel, num_layers


class Cell(ScopedLayers):
    """slim NasNetABaseCell.__call__ for one cell (scope ``cell_N`` etc.).

    ``drop_path_keep_prob`` is the configured keep probability (1.0 disables
    drop path, as slim's eval graph); slim scales it down by the cell's depth
    (``cell_num + 1`` over ``total_num_cells``) and by the training progress,
    which the caller passes as ``time_ratio`` (min(1, step / total steps)).
    """

    def __init__(self, scope: str, spec: CellSpec, num_conv_filters: int,
                 filter_scaling: float, stride: int, cell_num: int, total_num_cells: int,
                 drop_path_keep_prob: float, sc: NasNetScope):
        super().__init__(scope)
        self.scope = scope
        self.spec = spec
        self.filter_size = int(num_conv_filters * filter_scaling)
        self.stride = stride
        self.cell_num = cell_num
        self.total_num_cells = total_num_cells
        self.drop_path_keep_prob = drop_path_keep_prob
        self.sc = sc

    def _conv_bn(self, scope: str, bn_scope: str, net, num_outputs: int, stride: int, training):
        net = self.get(scope, lambda: self.sc.conv2d(num_outputs, 1, scope, stride=stride))(net)
        return self.get(bn_scope, lambda: self.sc.batch_norm(bn_scope))(net, training=training)

    def _reduce_prev_layer(self, prev_layer, curr_layer, training):
        if prev_layer is None:
            return curr_layer
        if _width(curr_layer) != _width(prev_layer):
            return factorized_reduction(self, self.sc, self.scope, tf.nn.relu(prev_layer),
                                        self.filter_size, 2, training)
        if self.filter_size != _channels(prev_layer):
            return self._conv_bn(f"{self.scope}/prev_1x1", f"{self.scope}/prev_bn",
                                 tf.nn.relu(prev_layer), self.filter_size, 1, training)
        return prev_layer

    def _apply_op(self, scope: str, net, operation: str, stride: int, from_original: bool,
                  training: bool, time_ratio: TimeRatio):
        if stride > 1 and not from_original:
            stride = 1
        input_filters = _channels(net)
        filters = self.filter_size
        if "separable" in operation:
            kernel, num_layers = _separable_info(operation)
            for layer_num in range(1, num_layers + 1):
                sep = f"{scope}/separable_{kernel}x{kernel}_{layer_num}"
                bn = f"{scope}/bn_sep_{kernel}x{kernel}_{layer_num}"
                net = self.get(sep, lambda s=sep, st=stride: self.sc.separable_conv2d(
                    filters, kernel, s, stride=st))(tf.nn.relu(net))
                net = self.get(bn, lambda b=bn: self.sc.batch_norm(b))(net, training=training)
                stride = 1
        elif operation == "none":
            if stride > 1 or input_filters != filters:
                net = self._conv_bn(f"{scope}/1x1", f"{scope}/bn_1", tf.nn.relu(net), filters,
                                    stride, training)
        elif "pool" in operation:
            pooling_type = operation.split("_")[0]
            size = int(operation.split("_")[-1].split("x")[0])
            pool = {"avg": layers.avg_pool2d, "max": layers.max_pool2d}.get(pooling_type)
            if pool is None:
                raise NotImplementedError(f"Unimplemented pooling type: {pooling_type}")
            net = pool(net, size, stride=stride, padding="SAME")
            if input_filters != filters:
                net = self._conv_bn(f"{scope}/1x1", f"{scope}/bn_1", net, filters, 1, training)
        else:
            raise ValueError(f"Unimplemented operation {operation}")
        if operation != "none":
            net = self._drop_path(net, training, time_ratio)
        return net

    def _drop_path(self, net, training: bool, time_ratio: TimeRatio):
        if not training or self.drop_path_keep_prob >= 1.0:
            return net
        return drop_path(net, drop_path_keep_prob(self.drop_path_keep_prob, self.cell_num,
                                                  self.total_num_cells, time_ratio))

    def _combine_unused_states(self, states, training):
        final_width = _width(states[-1])
        final_filters = _channels(states[-1])
        for idx, used in enumerate(self.spec.used_hiddenstates):
            should_reduce = (final_filters != _channels(states[idx]) or
                             final_width != _width(states[idx]))
            if should_reduce and not used:
                stride = 2 if final_width != _width(states[idx]) else 1
                states[idx] = factorized_reduction(
                    self, self.sc, f"{self.scope}/cell_output/reduction_{idx}", states[idx],
                    final_filters, stride, training)
        return tf.concat([h for h, used in zip(states, self.spec.used_hiddenstates) if not used],
                         axis=3)

    def call(self, inputs, prev_layer=None, training=None, time_ratio: TimeRatio = 1.0):
        training = bool(training)
        prev_layer = self._reduce_prev_layer(prev_layer, inputs, training)
        net = self._conv_bn(f"{self.scope}/1x1", f"{self.scope}/beginning_bn",
                            tf.nn.relu(inputs), self.filter_size, 1, training)
        states = [net, prev_layer]
        ops, indices = self.spec.operations, self.spec.hiddenstate_indices
        for iteration in range(5):
            scope = f"{self.scope}/comb_iter_{iteration}"
            left_idx, right_idx = indices[2 * iteration], indices[2 * iteration + 1]
            h1 = self._apply_op(f"{scope}/left", states[left_idx], ops[2 * iteration],
                                self.stride, left_idx < 2, training, time_ratio)
            h2 = self._apply_op(f"{scope}/right", states[right_idx], ops[2 * iteration + 1],
                                self.stride, right_idx < 2, training, time_ratio)
            states.append(h1 + h2)
        return self._combine_unused_states(states, training)


class AuxHead(ScopedLayers):
    """slim _build_aux_head (scope ``aux_N``); its 768-filter conv spans the whole map."""

    def __init__(self, scope: str, num_classes: int, sc: NasNetScope):
        super().__init__(scope)
        self.scope = f"{scope}/aux_logits"
        self.num_classes = num_classes
        self.sc = sc

    def call(self, inputs, training=None):
        s, sc = self.scope, self.sc
        net = layers.avg_pool2d(inputs, 5, stride=3, padding="VALID")
        net = self.get(f"{s}/proj", lambda: sc.conv2d(128, 1, f"{s}/proj"))(net)
        net = tf.nn.relu(self.get(f"{s}/aux_bn0", lambda: sc.batch_norm(f"{s}/aux_bn0"))(
            net, training=training))
        shape = (int(net.shape[1]), int(net.shape[2]))
        net = self.get(f"{s}/Conv", lambda: sc.conv2d(768, shape, f"{s}/Conv",
                                                      padding="VALID"))(net)
        net = tf.nn.relu(self.get(f"{s}/aux_bn1", lambda: sc.batch_norm(f"{s}/aux_bn1"))(
            net, training=training))
        net = tf.reshape(net, [tf.shape(net)[0], net.shape[1] * net.shape[2] * net.shape[3]])
        return self.get(f"{s}/FC", lambda: sc.fully_connected(self.num_classes, f"{s}/FC"))(net)
