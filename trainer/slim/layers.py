"""slim's layer functions on tf_keras symbolic tensors, with slim's names and defaults.

Each function adds tf_keras layers to the graph being built from ``tf_keras.Input`` and
returns the output tensor, so a slim-style net function builds a functional model. The
layers with variables create them under slim's full names (``conv1/conv1_1/weights``,
``.../BatchNorm/moving_mean``, ``fc/fc_2/biases``): ``var.name`` is the slim name and
``SlimLayer.slim_variables`` maps it, so slim checkpoints restore by name. Regularizers
add one loss per weight to the layer's (and so the model's) ``losses``.

``is_training`` (batch_norm, dropout): ``False`` always runs in inference mode (slim's
frozen batch norm); ``True`` (slim's default) follows Keras' ``training`` flag when the
model is called with one (``fit`` trains, ``evaluate``/``predict`` infer) and trains
otherwise.
"""
from __future__ import annotations

import numbers
from typing import Callable, Dict, Optional, Sequence

import tensorflow as tf
import tf_keras

from trainer.nets.layers import FreshInitializer, SlimLayer, _pair
from trainer.slim import variables
from trainer.slim.arg_scope import add_arg_scope


def _initializer(value):
    """slim draws each variable independently; a shared unseeded Keras instance would not."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, tf_keras.initializers.Initializer):
        return FreshInitializer(value)
    return value  # a TF1 initializer (tf.compat.v1.*_initializer) draws anew on every call


def xavier_initializer():
    """slim's default weights initializer (initializers.xavier_initializer = Glorot uniform)."""
    return tf_keras.initializers.GlorotUniform()


def resolve_training(is_training, training) -> bool:
    """The mode a batch_norm/dropout runs in; see the module docstring."""
    if is_training is False or (isinstance(is_training, (bool, int)) and not is_training):
        return False
    if training is None:
        return True
    static = tf.get_static_value(training)
    if static is None:
        raise ValueError("trainer.slim layers need a Python bool `training` (or a constant).")
    return bool(static)


def _check_supported(data_format=None, reuse=None) -> None:
    if data_format not in (None, "NHWC"):
        raise ValueError(f"data_format={data_format!r}: only NHWC is supported.")
    if reuse:
        raise ValueError("reuse=True is not supported: call the same tf_keras layer again to "
                         "share its variables.")


class _WeightsLayer(SlimLayer):
    """A slim op with variables created under its full slim scope."""

    def __init__(self, scope: str, trainable: bool = True, **kwargs):
        super().__init__(scope, trainable=trainable, **kwargs)
        self._slim_vars: Dict[str, tf.Variable] = {}

    def _weight(self, name: str, shape, initializer, regularizer=None, trainable: bool = True,
                **kwargs) -> tf.Variable:
        with tf.name_scope(self.scope + "/"):  # absolute: the variable is named as in slim
            var = self.add_weight(name=name, shape=shape, initializer=_initializer(initializer),
                                  regularizer=regularizer, trainable=trainable, **kwargs)
        self._slim_vars[f"{self.scope}/{name}"] = var
        return var

    def slim_variables(self) -> Dict[str, tf.Variable]:
        return dict(self._slim_vars)


class _Conv(_WeightsLayer):
    """convolution (+ biases); depthwise/separable when ``depthwise`` is set."""

    def __init__(self, scope, num_outputs, kernel_size, stride, padding, rate, weights_initializer,
                 weights_regularizer, biases_initializer, biases_regularizer, use_biases,
                 trainable, depthwise=False, depth_multiplier=1, pointwise_initializer=None):
        super().__init__(scope, trainable=trainable)
        self.num_outputs, self.kernel_size = num_outputs, _pair(kernel_size)
        self.stride, self.padding, self.rate = _pair(stride), padding.upper(), _pair(rate)
        self.init = (weights_initializer, pointwise_initializer or weights_initializer,
                     biases_initializer)
        self.regs = (weights_regularizer, biases_regularizer)
        self.use_biases, self.depthwise, self.depth_multiplier = use_biases, depthwise, depth_multiplier

    def build(self, input_shape):
        channels = int(input_shape[-1])
        kh, kw = self.kernel_size
        if self.depthwise:
            self.kernel = self._weight("depthwise_weights", [kh, kw, channels, self.depth_multiplier],
                                       self.init[0], self.regs[0], self.trainable)
            outputs = channels * self.depth_multiplier
            self.pointwise = None
            if self.num_outputs is not None:
                self.pointwise = self._weight("pointwise_weights", [1, 1, outputs, self.num_outputs],
                                              self.init[1], self.regs[0], self.trainable)
                outputs = self.num_outputs
        else:
            self.kernel = self._weight("weights", [kh, kw, channels, self.num_outputs],
                                       self.init[0], self.regs[0], self.trainable)
            outputs = self.num_outputs
        self.bias = (self._weight("biases", [outputs], self.init[2], self.regs[1], self.trainable)
                     if self.use_biases else None)
        super().build(input_shape)

    def call(self, inputs):
        strides = [1, *self.stride, 1]
        if not self.depthwise:
            net = tf.nn.convolution(inputs, self.kernel, strides=self.stride, padding=self.padding,
                                    dilations=self.rate)
        elif self.pointwise is not None:
            net = tf.nn.separable_conv2d(inputs, self.kernel, self.pointwise, strides,
                                         self.padding, dilations=self.rate)
        else:
            net = tf.nn.depthwise_conv2d(inputs, self.kernel, strides, self.padding,
                                         dilations=self.rate)
        return tf.nn.bias_add(net, self.bias) if self.bias is not None else net


class _Dense(_WeightsLayer):
    """slim.fully_connected's matmul over the last axis (+ biases)."""

    def __init__(self, scope, num_outputs, weights_initializer, weights_regularizer,
                 biases_initializer, biases_regularizer, use_biases, trainable):
        super().__init__(scope, trainable=trainable)
        self.num_outputs, self.use_biases = num_outputs, use_biases
        self.init = (weights_initializer, biases_initializer)
        self.regs = (weights_regularizer, biases_regularizer)

    def build(self, input_shape):
        self.kernel = self._weight("weights", [int(input_shape[-1]), self.num_outputs],
                                   self.init[0], self.regs[0], self.trainable)
        self.bias = (self._weight("biases", [self.num_outputs], self.init[1], self.regs[1],
                                  self.trainable) if self.use_biases else None)
        super().build(input_shape)

    def call(self, inputs):
        net = (tf.matmul(inputs, self.kernel) if inputs.shape.rank == 2
               else tf.tensordot(inputs, self.kernel, [[inputs.shape.rank - 1], [0]]))
        return tf.nn.bias_add(net, self.bias) if self.bias is not None else net


class _BatchNorm(_WeightsLayer):
    """slim.batch_norm (its non-fused path): batch moments in training, moving ones else."""

    def __init__(self, scope, decay, center, scale, epsilon, param_initializers,
                 param_regularizers, is_training, trainable):
        super().__init__(scope, trainable=trainable, autocast=False)  # statistics in float32
        self.decay, self.center, self.scale, self.epsilon = decay, center, scale, epsilon
        self.inits = dict(param_initializers or {})
        self.regs = dict(param_regularizers or {})
        self.is_training = is_training

    def build(self, input_shape):
        shape = [int(input_shape[-1])]
        self.beta = (self._weight("beta", shape, self.inits.get("beta", "zeros"),
                                  self.regs.get("beta"), self.trainable) if self.center else None)
        self.gamma = (self._weight("gamma", shape, self.inits.get("gamma", "ones"),
                                   self.regs.get("gamma"), self.trainable) if self.scale else None)
        stats = dict(trainable=False, synchronization=tf.VariableSynchronization.ON_READ,
                     aggregation=tf.VariableAggregation.MEAN)
        self.moving_mean = self._weight("moving_mean", shape,
                                        self.inits.get("moving_mean", "zeros"), **stats)
        self.moving_variance = self._weight("moving_variance", shape,
                                            self.inits.get("moving_variance", "ones"), **stats)
        super().build(input_shape)

    def call(self, inputs, training=None):
        net = tf.cast(inputs, tf.float32)
        if resolve_training(self.is_training, training):
            mean, variance = tf.nn.moments(net, list(range(inputs.shape.rank - 1)))
            self.moving_mean.assign_sub((self.moving_mean - mean) * (1.0 - self.decay))
            self.moving_variance.assign_sub((self.moving_variance - variance) * (1.0 - self.decay))
        else:
            mean, variance = self.moving_mean, self.moving_variance
        net = tf.nn.batch_normalization(net, mean, variance, self.beta, self.gamma, self.epsilon)
        return tf.cast(net, inputs.dtype)


class _Dropout(tf_keras.layers.Dropout):
    """Keras dropout that honours slim's ``is_training``."""

    def __init__(self, rate, is_training, **kwargs):
        super().__init__(rate, **kwargs)
        self.is_training = is_training

    def call(self, inputs, training=None):
        return super().call(inputs, training=resolve_training(self.is_training, training))


def _normalize_and_activate(outputs, scope: str, normalizer_fn, normalizer_params, activation_fn):
    """slim: the normalizer runs inside the layer's scope (``conv1/BatchNorm``), then the activation."""
    if normalizer_fn is not None:
        with variables.open_scope(scope):
            outputs = normalizer_fn(outputs, **(normalizer_params or {}))
    if activation_fn is not None:
        outputs = activation_fn(outputs)
    return outputs


def _convolution(inputs, full, num_outputs, kernel_size, stride, padding, rate, activation_fn,
                 normalizer_fn, normalizer_params, weights_initializer, weights_regularizer,
                 biases_initializer, biases_regularizer, trainable, **conv_kwargs):
    """conv2d/separable_conv2d in scope ``full``: biases only without a normalizer."""
    layer = _Conv(full, num_outputs, kernel_size, stride, padding, rate,
                  weights_initializer or xavier_initializer(), weights_regularizer,
                  biases_initializer, biases_regularizer,
                  normalizer_fn is None and biases_initializer is not None, trainable,
                  **conv_kwargs)
    return _normalize_and_activate(layer(inputs), full, normalizer_fn, normalizer_params,
                                   activation_fn)


@add_arg_scope
def conv2d(inputs, num_outputs, kernel_size, stride=1, padding="SAME", data_format=None, rate=1,
           activation_fn=tf.nn.relu, normalizer_fn=None, normalizer_params=None,
           weights_initializer=None, weights_regularizer=None, biases_initializer="zeros",
           biases_regularizer=None, reuse=None, variables_collections=None,
           outputs_collections=None, trainable=True, scope=None):
    """slim.conv2d: conv (+ biases unless a normalizer) (+ normalizer) (+ activation); scope 'Conv'."""
    del variables_collections, outputs_collections
    _check_supported(data_format, reuse)
    return _convolution(inputs, variables.layer_scope(scope, "Conv"), num_outputs, kernel_size,
                        stride, padding, rate, activation_fn, normalizer_fn, normalizer_params,
                        weights_initializer, weights_regularizer, biases_initializer,
                        biases_regularizer, trainable)


convolution2d = conv2d


@add_arg_scope
def separable_conv2d(inputs, num_outputs, kernel_size, depth_multiplier=1, stride=1,
                     padding="SAME", data_format=None, rate=1, activation_fn=tf.nn.relu,
                     normalizer_fn=None, normalizer_params=None, weights_initializer=None,
                     pointwise_initializer=None, weights_regularizer=None,
                     biases_initializer="zeros", biases_regularizer=None, reuse=None,
                     variables_collections=None, outputs_collections=None, trainable=True,
                     scope=None):
    """slim.separable_conv2d: depthwise (+ pointwise unless ``num_outputs`` is None); scope
    'SeparableConv2d'; ``weights_regularizer`` on both kernels."""
    del variables_collections, outputs_collections
    _check_supported(data_format, reuse)
    return _convolution(inputs, variables.layer_scope(scope, "SeparableConv2d"), num_outputs,
                        kernel_size, stride, padding, rate, activation_fn, normalizer_fn,
                        normalizer_params, weights_initializer, weights_regularizer,
                        biases_initializer, biases_regularizer, trainable, depthwise=True,
                        depth_multiplier=depth_multiplier,
                        pointwise_initializer=pointwise_initializer)


@add_arg_scope
def fully_connected(inputs, num_outputs, activation_fn=tf.nn.relu, normalizer_fn=None,
                    normalizer_params=None, weights_initializer=None, weights_regularizer=None,
                    biases_initializer="zeros", biases_regularizer=None, reuse=None,
                    variables_collections=None, outputs_collections=None, trainable=True,
                    scope=None):
    """slim.fully_connected over the last axis; scope 'fully_connected'."""
    del variables_collections, outputs_collections
    _check_supported(reuse=reuse)
    full = variables.layer_scope(scope, "fully_connected")
    layer = _Dense(full, num_outputs, weights_initializer or xavier_initializer(),
                   weights_regularizer, biases_initializer, biases_regularizer,
                   normalizer_fn is None and biases_initializer is not None, trainable)
    return _normalize_and_activate(layer(inputs), full, normalizer_fn, normalizer_params,
                                   activation_fn)


@add_arg_scope
def batch_norm(inputs, decay=0.999, center=True, scale=False, epsilon=0.001, activation_fn=None,
               param_initializers=None, param_regularizers=None, updates_collections=None,
               is_training=True, reuse=None, variables_collections=None,
               outputs_collections=None, trainable=True, batch_weights=None, fused=None,
               data_format=None, zero_debias_moving_mean=False, scope=None, renorm=False,
               renorm_clipping=None, renorm_decay=0.99, adjustment=None):
    """slim.batch_norm (scope 'BatchNorm'); the moving statistics update in training mode.

    Not supported: batch_weights, zero_debias_moving_mean, renorm, adjustment.
    ``updates_collections``/``fused`` change nothing here (updates run in the step).
    """
    del updates_collections, variables_collections, outputs_collections, fused, renorm_clipping
    del renorm_decay
    _check_supported(data_format, reuse)
    if batch_weights is not None or zero_debias_moving_mean or renorm or adjustment is not None:
        raise ValueError("batch_norm: batch_weights, zero_debias_moving_mean, renorm and "
                         "adjustment are not supported.")
    full = variables.layer_scope(scope, "BatchNorm")
    layer = _BatchNorm(full, decay, center, scale, epsilon, param_initializers,
                       param_regularizers, is_training, trainable)
    outputs = layer(inputs)
    return activation_fn(outputs) if activation_fn is not None else outputs


@add_arg_scope
def dropout(inputs, keep_prob=0.5, noise_shape=None, is_training=True, outputs_collections=None,
            scope=None, seed=None):
    """slim.dropout: keeps ``keep_prob`` of the units when training."""
    del outputs_collections, scope
    return _Dropout(1.0 - keep_prob, is_training, noise_shape=noise_shape, seed=seed)(inputs)


@add_arg_scope
def max_pool2d(inputs, kernel_size, stride=2, padding="VALID", data_format=None,
               outputs_collections=None, scope=None):
    """slim.max_pool2d (stride 2, VALID by default)."""
    del outputs_collections, scope
    _check_supported(data_format)
    return tf_keras.layers.MaxPooling2D(_pair(kernel_size), _pair(stride), padding.lower())(inputs)


@add_arg_scope
def avg_pool2d(inputs, kernel_size, stride=2, padding="VALID", data_format=None,
               outputs_collections=None, scope=None):
    """slim.avg_pool2d (stride 2, VALID by default)."""
    del outputs_collections, scope
    _check_supported(data_format)
    return tf_keras.layers.AveragePooling2D(_pair(kernel_size), _pair(stride),
                                            padding.lower())(inputs)


@add_arg_scope
def flatten(inputs, outputs_collections=None, scope=None):
    """slim.flatten: [B, ...] -> [B, k]."""
    del outputs_collections, scope
    return tf_keras.layers.Flatten()(inputs)


@add_arg_scope
def one_hot_encoding(labels, num_classes, on_value=1.0, off_value=0.0, outputs_collections=None,
                     scope=None):
    """slim.one_hot_encoding."""
    del outputs_collections, scope
    return tf.one_hot(labels, num_classes, on_value=on_value, off_value=off_value)


def softmax(logits, scope=None):
    """slim.softmax: softmax over the last axis (slim's nets' ``prediction_fn``)."""
    del scope
    return tf.nn.softmax(logits)


def _layer_name(layer: Callable) -> str:
    if hasattr(layer, "__name__"):
        return layer.__name__
    if hasattr(layer, "func"):  # functools.partial
        return layer.func.__name__
    return "repeat"


def repeat(inputs, repetitions: int, layer: Callable, *args, **kwargs):
    """slim.repeat: ``layer`` ``repetitions`` times in scope ``<scope>/<scope>_<i>``."""
    scope = kwargs.pop("scope", None)
    with variables.child_scope(scope, "Repeat"):
        scope = scope or _layer_name(layer)
        outputs = inputs
        for i in range(repetitions):
            kwargs["scope"] = f"{scope}_{i + 1}"
            outputs = layer(outputs, *args, **kwargs)
    return outputs


def stack(inputs, layer: Callable, stack_args: Sequence, **kwargs):
    """slim.stack: ``layer`` once per entry of ``stack_args``, scopes ``<scope>/<scope>_<i>``."""
    scope = kwargs.pop("scope", None)
    if not isinstance(stack_args, (list, tuple)):
        raise ValueError("stack_args need to be a list or tuple")
    with variables.child_scope(scope, "Stack"):
        scope = scope or _layer_name(layer)
        outputs = inputs
        for i, layer_args in enumerate(stack_args):
            kwargs["scope"] = f"{scope}_{i + 1}"
            if not isinstance(layer_args, (list, tuple)):
                layer_args = [layer_args]
            outputs = layer(outputs, *layer_args, **kwargs)
    return outputs


def l2_regularizer(scale: float, scope: Optional[str] = None) -> Callable:
    """slim.l2_regularizer: ``scale * tf.nn.l2_loss(w)`` (= scale/2 * sum(w^2))."""
    if isinstance(scale, numbers.Integral):
        raise ValueError(f"scale cannot be an integer: {scale}")
    if isinstance(scale, numbers.Real):
        if scale < 0.0:
            raise ValueError(f"Setting a scale less than 0 on a regularizer: {scale:g}")
        if scale == 0.0:
            return lambda _: None

    def l2(weights):
        with tf.name_scope(scope or "l2_regularizer"):
            return tf.multiply(tf.cast(scale, weights.dtype.base_dtype), tf.nn.l2_loss(weights),
                               name="value")

    return l2
