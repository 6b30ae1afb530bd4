"""Slim-style layers for tf_keras whose variables carry TF-Slim checkpoint names.

Every layer here is given the *full* slim scope it lives in (for example
``InceptionV3/Mixed_5b/Branch_1/Conv2d_0b_5x5``) and reports its variables under
slim's names through :meth:`SlimLayer.slim_variables` (``weights``, ``biases``,
``BatchNorm/beta``, ``depthwise_weights`` ...). That explicit map, rather than
Keras' automatic variable names (which depend on creation order and get ``_1``
suffixes), is what makes original slim checkpoints restorable by name.

The compute is delegated to stock ``tf_keras`` layers (Conv2D, DepthwiseConv2D,
SeparableConv2D, Dense, BatchNormalization) so that mixed precision, XLA and
distribution strategies behave exactly as they do for keras.applications.
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Dict, Optional, Sequence, Tuple, Union

import tensorflow as tf
import tf_keras

IntOrPair = Union[int, Sequence[int]]
IntOrTriple = Union[int, Sequence[int]]


def _pair(value: IntOrPair) -> Tuple[int, int]:
    if isinstance(value, int):
        return (value, value)
    return (int(value[0]), int(value[1]))


def slim_l2(weight_decay: float) -> Optional[tf_keras.regularizers.Regularizer]:
    """slim.l2_regularizer(scale) == scale * tf.nn.l2_loss(w) == scale/2 * sum(w**2)."""
    if not weight_decay:
        return None
    return tf_keras.regularizers.L2(0.5 * float(weight_decay))


def _triple(value: IntOrTriple) -> Tuple[int, int, int]:
    if isinstance(value, int):
        return (value, value, value)
    return (int(value[0]), int(value[1]), int(value[2]))


@dataclasses.dataclass(frozen=True)
class BatchNormParams:
    """slim.batch_norm arguments that change variables or numerics."""

    decay: float = 0.999
    epsilon: float = 0.001
    center: bool = True
    scale: bool = False


@dataclasses.dataclass(frozen=True)
class ArgScope:
    """What a slim ``*_arg_scope`` sets for conv/fc layers of a family.

    Families build their layers through :meth:`conv2d`, :meth:`separable_conv2d`
    and :meth:`fully_connected` so that defaults live in one place, as in slim.
    """

    weight_decay: float = 0.0
    batch_norm: Optional[BatchNormParams] = None
    activation: Optional[Callable[[tf.Tensor], tf.Tensor]] = tf.nn.relu
    weights_initializer: Union[str, tf_keras.initializers.Initializer] = "glorot_uniform"
    regularize_biases: bool = False
    regularize_depthwise: bool = False
    padding: str = "SAME"

    def replace(self, **changes) -> "ArgScope":
        return dataclasses.replace(self, **changes)

    def _defaults(self, kw: Dict, *fields: str) -> Dict:
        """``kw`` over this scope's activation, initializer, weight decay and ``fields``."""
        names = ("activation", "weights_initializer", "weight_decay") + fields
        return {**{name: getattr(self, name) for name in names}, **kw}

    def conv2d(self, num_outputs: int, kernel_size: IntOrPair, scope: str, **kw) -> "Conv2D":
        return Conv2D(num_outputs, kernel_size, scope=scope,
                      **self._defaults(kw, "batch_norm", "padding", "regularize_biases"))

    def separable_conv2d(self, num_outputs: Optional[int], kernel_size: IntOrPair, scope: str,
                         depth_multiplier: int = 1, **kw) -> "SeparableConv2D":
        return SeparableConv2D(num_outputs, kernel_size, scope=scope, depth_multiplier=depth_multiplier,
                               **self._defaults(kw, "batch_norm", "padding", "regularize_depthwise"))

    def fully_connected(self, num_outputs: int, scope: str, **kw) -> "FullyConnected":
        # slim's arg scopes leave fully_connected without a normalizer.
        return FullyConnected(num_outputs, scope=scope,
                              **self._defaults({"batch_norm": None, **kw}, "regularize_biases"))


class SlimLayer(tf_keras.layers.Layer):
    """A layer that knows its slim scope and names its variables the slim way."""

    def __init__(self, scope: str, **kwargs):
        # Keras layer names may not contain '/', and must be unique per model.
        super().__init__(name=scope.replace("/", "__"), **kwargs)
        self.scope = scope

    def slim_variables(self) -> Dict[str, tf.Variable]:
        """Returns {full slim variable name: variable} for this layer only."""
        raise NotImplementedError


class _NormalizedLayer(SlimLayer):
    """Core op (conv/dense) → optional BatchNorm → optional activation, as slim's layers.

    Subclasses hand their core op to :meth:`_set_core`, which stores it as ``CORE``
    (``conv`` / ``dense``) and adds the BatchNorm after it.
    """

    CORE = "conv"
    bn: Optional[tf_keras.layers.BatchNormalization]

    def __init__(self, scope: str, activation: Optional[Callable] = tf.nn.relu,
                 batch_norm: Optional[BatchNormParams] = None, use_bias: Optional[bool] = None,
                 **kwargs):
        super().__init__(scope, **kwargs)
        self.activation = activation
        self.batch_norm_params = batch_norm
        # slim: biases only where there is no normalizer, unless said otherwise.
        self.use_bias = (batch_norm is None) if use_bias is None else use_bias

    def _kernel_args(self, weights_initializer, biases_initializer, weight_decay: float,
                     regularize_biases: bool) -> Dict:
        """Keras arguments of a core op's kernel and biases: slim's initializers and L2."""
        return {"use_bias": self.use_bias, "kernel_initializer": weights_initializer,
                "bias_initializer": biases_initializer, "kernel_regularizer": slim_l2(weight_decay),
                "bias_regularizer": slim_l2(weight_decay) if regularize_biases else None}

    def _set_core(self, core: tf_keras.layers.Layer) -> None:
        # Core first, then BatchNorm: the order the layer creates (and lists) its variables.
        setattr(self, self.CORE, core)
        params = self.batch_norm_params
        self.bn = _batch_norm_layer(params) if params is not None else None

    def _core(self) -> tf_keras.layers.Layer:
        return getattr(self, self.CORE)

    def _weights(self) -> Dict[str, tf.Variable]:
        """{slim suffix: variable} of the core op's kernels."""
        return {"weights": self._core().kernel}

    def call(self, inputs, training=None):
        net = self._core()(inputs)
        if self.bn is not None:
            net = self.bn(net, training=training)
        if self.activation is not None:
            net = self.activation(net)
        return net

    def slim_variables(self) -> Dict[str, tf.Variable]:
        out = {f"{self.scope}/{suffix}": var for suffix, var in self._weights().items()}
        if self.use_bias:
            out[f"{self.scope}/biases"] = self._core().bias
        if self.bn is not None:
            out.update(_batch_norm_variables(self.scope, self.bn))
        return out


def _batch_norm_layer(params: BatchNormParams) -> tf_keras.layers.BatchNormalization:
    return tf_keras.layers.BatchNormalization(
        momentum=params.decay, epsilon=params.epsilon, center=params.center,
        scale=params.scale, name="BatchNorm")


def _batch_norm_variables(scope: str, bn: tf_keras.layers.BatchNormalization) -> Dict[str, tf.Variable]:
    out = {f"{scope}/BatchNorm/moving_mean": bn.moving_mean,
           f"{scope}/BatchNorm/moving_variance": bn.moving_variance}
    if bn.center:
        out[f"{scope}/BatchNorm/beta"] = bn.beta
    if bn.scale:
        out[f"{scope}/BatchNorm/gamma"] = bn.gamma
    return out


class Conv2D(_NormalizedLayer):
    """slim.conv2d: conv (+ biases when no normalizer) (+ BatchNorm) (+ activation).

    ``padding`` is TF's 'SAME'/'VALID' (identical to Keras 'same'/'valid').
    ``rate`` is the atrous rate (slim's ``rate``).
    """

    def __init__(self, num_outputs: int, kernel_size: IntOrPair, scope: str, stride: IntOrPair = 1,
                 padding: str = "SAME", rate: IntOrPair = 1, weights_initializer="glorot_uniform",
                 biases_initializer="zeros", weight_decay: float = 0.0,
                 regularize_biases: bool = False, **kwargs):
        super().__init__(scope, **kwargs)  # activation, batch_norm, use_bias
        self._set_core(tf_keras.layers.Conv2D(
            num_outputs, _pair(kernel_size), strides=_pair(stride), padding=padding.lower(),
            dilation_rate=_pair(rate), name="conv",
            **self._kernel_args(weights_initializer, biases_initializer, weight_decay, regularize_biases)))


class Conv3D(Conv2D):
    """slim.conv3d (NDHWC): conv (+ biases when no normalizer) (+ BatchNorm) (+ activation).

    ``kernel_size`` and ``stride`` are ``[time, height, width]`` (or one int). The
    variables are named as Conv2D's (``weights``, ``biases``, ``BatchNorm/...``).
    """

    def __init__(self, num_outputs: int, kernel_size: IntOrTriple, scope: str,  # pylint: disable=super-init-not-called
                 stride: IntOrTriple = 1, padding: str = "SAME",
                 weights_initializer="glorot_uniform", weight_decay: float = 0.0, **kwargs):
        _NormalizedLayer.__init__(self, scope, **kwargs)  # Conv2D's would build a 2-D conv
        self._set_core(tf_keras.layers.Conv3D(
            num_outputs, _triple(kernel_size), strides=_triple(stride), padding=padding.lower(),
            name="conv", **self._kernel_args(weights_initializer, "zeros", weight_decay, False)))


class SeparableConv2D(_NormalizedLayer):
    """slim.separable_conv2d.

    With ``num_outputs=None`` it is a depthwise conv only (``depthwise_weights``),
    otherwise depthwise + pointwise (``depthwise_weights`` + ``pointwise_weights``).
    """

    def __init__(self, num_outputs: Optional[int], kernel_size: IntOrPair, scope: str,
                 depth_multiplier: int = 1, stride: IntOrPair = 1, padding: str = "SAME",
                 rate: IntOrPair = 1, weights_initializer="glorot_uniform", biases_initializer="zeros",
                 weight_decay: float = 0.0, regularize_depthwise: bool = False, **kwargs):
        super().__init__(scope, **kwargs)  # activation, batch_norm, use_bias
        use_bias = self.use_bias
        depthwise_reg = slim_l2(weight_decay) if regularize_depthwise else None
        if num_outputs is None:
            core = tf_keras.layers.DepthwiseConv2D(
                _pair(kernel_size), strides=_pair(stride), padding=padding.lower(),
                depth_multiplier=depth_multiplier, dilation_rate=_pair(rate), use_bias=use_bias,
                depthwise_initializer=weights_initializer, bias_initializer=biases_initializer,
                depthwise_regularizer=depthwise_reg, name="conv")
        else:
            core = tf_keras.layers.SeparableConv2D(
                num_outputs, _pair(kernel_size), strides=_pair(stride), padding=padding.lower(),
                depth_multiplier=depth_multiplier, dilation_rate=_pair(rate), use_bias=use_bias,
                depthwise_initializer=weights_initializer, pointwise_initializer=weights_initializer,
                bias_initializer=biases_initializer, depthwise_regularizer=depthwise_reg,
                pointwise_regularizer=slim_l2(weight_decay), name="conv")
        self._set_core(core)

    def _weights(self) -> Dict[str, tf.Variable]:
        out = {"depthwise_weights": self.conv.depthwise_kernel}
        if isinstance(self.conv, tf_keras.layers.SeparableConv2D):
            out["pointwise_weights"] = self.conv.pointwise_kernel
        return out


class FullyConnected(_NormalizedLayer):
    """slim.fully_connected on a [B, F] input."""

    CORE = "dense"

    def __init__(self, num_outputs: int, scope: str, weights_initializer="glorot_uniform",
                 biases_initializer="zeros", weight_decay: float = 0.0,
                 regularize_biases: bool = False, **kwargs):
        super().__init__(scope, **kwargs)  # activation, batch_norm, use_bias
        self._set_core(tf_keras.layers.Dense(num_outputs, name="dense", **self._kernel_args(
            weights_initializer, biases_initializer, weight_decay, regularize_biases)))


class BatchNorm(SlimLayer):
    """A standalone slim.batch_norm (e.g. resnet_v2 ``preact``/``postnorm``).

    Its variables are ``<scope>/{beta,gamma,moving_mean,moving_variance}`` — no
    extra ``BatchNorm`` level, as slim names a batch_norm called with ``scope=``.
    """

    def __init__(self, scope: str, params: BatchNormParams, activation: Optional[Callable] = None,
                 **kwargs):
        super().__init__(scope, **kwargs)
        self.activation = activation
        self.bn = _batch_norm_layer(params)

    def call(self, inputs, training=None):
        net = self.bn(inputs, training=training)
        return self.activation(net) if self.activation is not None else net

    def slim_variables(self) -> Dict[str, tf.Variable]:
        return {k.replace("/BatchNorm/", "/"): v
                for k, v in _batch_norm_variables(self.scope, self.bn).items()}


def max_pool2d(inputs: tf.Tensor, kernel_size: IntOrPair, stride: IntOrPair = 2,
               padding: str = "VALID") -> tf.Tensor:
    """slim.max_pool2d (default padding VALID, stride 2)."""
    return tf.nn.max_pool2d(inputs, _pair(kernel_size), _pair(stride), padding)


def avg_pool2d(inputs: tf.Tensor, kernel_size: IntOrPair, stride: IntOrPair = 2,
               padding: str = "VALID") -> tf.Tensor:
    """slim.avg_pool2d (default padding VALID, stride 2)."""
    return tf.nn.avg_pool2d(inputs, _pair(kernel_size), _pair(stride), padding)


def global_avg_pool(inputs: tf.Tensor) -> tf.Tensor:
    """Mean over H, W keeping dims: slim's ``global_pool`` end point [B,1,1,C]."""
    return tf.reduce_mean(inputs, axis=[1, 2], keepdims=True)


def reduced_kernel_size_for_small_input(inputs: tf.Tensor, kernel_size: IntOrPair) -> Tuple[int, int]:
    """slim's _reduced_kernel_size_for_small_input: min(kernel, static spatial size)."""
    kh, kw = _pair(kernel_size)
    shape = inputs.shape
    if shape[1] is None or shape[2] is None:
        return kh, kw
    return min(int(shape[1]), kh), min(int(shape[2]), kw)


def spatial_squeeze(logits: tf.Tensor) -> tf.Tensor:
    """tf.squeeze(logits, [1, 2]) as slim's ``SpatialSqueeze``."""
    return tf.squeeze(logits, [1, 2], name="SpatialSqueeze")


def collect_slim_variables(layer: tf_keras.layers.Layer) -> Dict[str, tf.Variable]:
    """All slim-named variables of ``layer`` and its nested SlimLayers."""
    out: Dict[str, tf.Variable] = {}
    for sub in layer._flatten_layers(include_self=True, recursive=True):  # pylint: disable=protected-access
        if isinstance(sub, SlimLayer) and sub.built:
            for name, var in sub.slim_variables().items():
                if name in out and out[name] is not var:
                    raise ValueError(f"Two variables share the slim name {name!r}; "
                                     "check the scopes given to the layers.")
                out[name] = var
    return out


class FreshInitializer(tf_keras.initializers.Initializer):
    """Draws every variable from a new copy of ``base``.

    An unseeded tf_keras initializer *instance* returns the same values on every
    call, so one instance shared through an :class:`ArgScope` would give every
    same-shaped variable identical weights. Wrapping it restores slim's
    behaviour (an independent draw per variable).
    """

    def __init__(self, base: tf_keras.initializers.Initializer):
        self.base = tf_keras.initializers.get(base)

    def __call__(self, shape, dtype=None, **kwargs):
        fresh = type(self.base).from_config(self.base.get_config())
        return fresh(shape, dtype=dtype, **kwargs)

    def get_config(self):
        return {"base": tf_keras.initializers.serialize(self.base)}

    @classmethod
    def from_config(cls, config):
        return cls(tf_keras.initializers.deserialize(config["base"]))
