"""NASNet-A cifar / mobile / large (slim nets/nasnet/nasnet.py).

There is no top variable scope: the variables live under ``conv0`` (or
``l1_stem_3x3`` for cifar), ``cell_stem_0/1``, ``cell_N``, ``reduction_cell_N``,
``aux_N/aux_logits`` and ``final_layer/FC``. End points: ``Stem``, ``Cell_N``,
``Reduction_Cell_N``, ``AuxLogits`` (training graph only), ``global_pool``,
``Logits``, ``Predictions``.

Drop path (cifar/large) follows slim's schedule when ``current_step`` is set
(a callable or tensor giving the global step, e.g. ``lambda:
optimizer.iterations``): keep probability shrinks with cell depth and with
``min(1, step / total_training_steps)``. Without it the fully ramped
probability (ratio 1) is used, i.e. slim's value after burn-in. Evaluation never
drops paths, as slim's eval graph.
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Callable, Union

import tensorflow as tf
import tf_keras

from trainer.nets import nasnet_utils as utils
from trainer.nets.base import SlimModel
from trainer.nets.registry import NetSpec

StepSource = Union[None, tf.Tensor, tf.Variable, Callable[[], tf.Tensor]]


@dataclasses.dataclass(frozen=True, kw_only=True)
class NasNetConfig:
    """slim's HParams of a NASNet / PNASNet configuration (defaults: the ImageNet ones)."""

    # Architecture.
    stem_multiplier: float
    num_cells: int
    num_conv_filters: int
    filter_scaling_rate: float = 2.0
    num_reduction_layers: int = 2
    skip_reduction_layer_input: int
    use_aux_head: int = 1
    # Regularization and its schedule.
    drop_path_keep_prob: float
    dense_dropout_keep_prob: float = 0.5
    total_training_steps: int = 250000
    # Arg scope (weight decay is the factory's; these are the BN settings).
    batch_norm_decay: float = 0.9997
    batch_norm_epsilon: float = 1e-3


CIFAR = NasNetConfig(stem_multiplier=3.0, num_cells=18, num_conv_filters=32, drop_path_keep_prob=0.6,
                     skip_reduction_layer_input=0, dense_dropout_keep_prob=1.0,
                     total_training_steps=937500, batch_norm_decay=0.9, batch_norm_epsilon=1e-5)
MOBILE = NasNetConfig(stem_multiplier=1.0, num_cells=12, num_conv_filters=44, drop_path_keep_prob=1.0,
                      skip_reduction_layer_input=0)
LARGE = NasNetConfig(stem_multiplier=3.0, num_cells=18, num_conv_filters=168, drop_path_keep_prob=0.7,
                     skip_reduction_layer_input=1)


class _StepHolder:
    """Keeps the step source out of Keras' tracking (it is the optimizer's variable)."""

    def __init__(self, source: StepSource = None):
        self.source = source


class NasNetBase(SlimModel):
    """Stem, final layer, aux head and drop-path schedule shared by NASNet and PNASNet."""

    def __init__(self, *, spec_name: str, config: NasNetConfig, stem_type: str,
                 num_classes: int, is_training: bool, weight_decay: float,
                 default_image_size: int, total_num_cells: int,
                 current_step: StepSource = None):
        super().__init__(spec_name=spec_name, scope="", num_classes=num_classes,
                         is_training=is_training, default_image_size=default_image_size)
        self.config = config
        self.stem_type = stem_type
        self.total_num_cells = total_num_cells
        self.reduction_indices = utils.calc_reduction_layers(config.num_cells,
                                                             config.num_reduction_layers)
        # slim's _update_hparams: the eval graph never drops paths.
        self.drop_path_keep_prob = config.drop_path_keep_prob if is_training else 1.0
        self._step = _StepHolder(current_step)
        self.sc = utils.nasnet_arg_scope(weight_decay, config.batch_norm_decay,
                                         config.batch_norm_epsilon)
        if stem_type == "imagenet":
            self.stem_conv = self.sc.conv2d(int(32 * config.stem_multiplier), 3, "conv0",
                                            stride=2, padding="VALID")
            self.stem_bn = self.sc.batch_norm("conv0_bn")
        else:
            self.stem_conv = self.sc.conv2d(int(config.num_conv_filters *
                                                config.stem_multiplier), 3, "l1_stem_3x3")
            self.stem_bn = self.sc.batch_norm("l1_stem_bn")
        self.aux_cell = (self.reduction_indices[1] - 1
                         if len(self.reduction_indices) >= 2 else None)
        self.aux_head = (utils.AuxHead(f"aux_{self.aux_cell}", num_classes, self.sc)
                         if (config.use_aux_head and self.aux_cell is not None and num_classes
                             and is_training) else None)
        self.dropout = tf_keras.layers.Dropout(1.0 - config.dense_dropout_keep_prob)
        self.final_fc = (self.sc.fully_connected(num_classes, "final_layer/FC")
                         if num_classes else None)

    @property
    def current_step(self) -> StepSource:
        """The global step driving drop path: a tensor/variable or a callable."""
        return self._step.source

    @current_step.setter
    def current_step(self, source: StepSource) -> None:
        self._step.source = source

    def _time_ratio(self):
        source = self._step.source
        if source is None:
            return 1.0
        step = source() if callable(source) else source
        ratio = tf.cast(step, tf.float32) / float(self.config.total_training_steps)
        return tf.minimum(1.0, ratio)

    def _cell(self, spec: utils.CellSpec, scope: str, filter_scaling: float, stride: int,
              cell_num: int) -> utils.Cell:
        return utils.Cell(scope, spec, self.config.num_conv_filters, filter_scaling, stride,
                          cell_num, self.total_num_cells, self.drop_path_keep_prob, self.sc)

    def _stem_cells(self, spec: utils.CellSpec):
        """The two ``cell_stem_k`` of slim's _imagenet_stem (filter scaling 1/4, 1/2)."""
        rate = self.config.filter_scaling_rate
        scaling = 1.0 / (rate ** 2)
        cells = []
        for cell_num in range(2):
            cells.append(self._cell(spec, f"cell_stem_{cell_num}", scaling, 2, cell_num))
            scaling *= rate
        return cells

    def _stem(self, inputs, training, time_ratio):
        net = self.stem_bn(self.stem_conv(inputs), training=training)
        cell_outputs = [None, net]
        if self.stem_type == "imagenet":
            for cell in self.stem_cells:
                net = cell(net, prev_layer=cell_outputs[-2], training=training,
                           time_ratio=time_ratio)
                cell_outputs.append(net)
        return net, cell_outputs

    def _maybe_aux(self, cell_num: int, net, end_points, training: bool) -> None:
        if self.aux_head is None or cell_num != self.aux_cell:
            return
        if training:
            end_points["AuxLogits"] = self.aux_head(tf.nn.relu(net), training=True)
        elif not self.aux_head.built:
            # Create the aux variables on an eval first call too, so that a
            # checkpoint restore right after ensure_built() covers them.
            self.aux_head(tf.nn.relu(net), training=False)

    def _final_layer(self, net, end_points, training):
        net = end_points["global_pool"] = tf.reduce_mean(tf.nn.relu(net), axis=[1, 2])
        if not self.num_classes:
            return net, end_points
        net = self.dropout(net, training=training)
        logits = end_points["Logits"] = self.final_fc(net, training=training)
        end_points["Predictions"] = tf.nn.softmax(logits)
        return logits, end_points


class NasNet(NasNetBase):
    """slim build_nasnet_{cifar,mobile,large} (NASNet-A normal + reduction cells)."""

    def __init__(self, config: NasNetConfig = MOBILE, stem_type: str = "imagenet",
                 num_classes: int = 1001, is_training: bool = False, weight_decay: float = 4e-5,
                 default_image_size: int = 224, current_step: StepSource = None,
                 spec_name: str = "nasnet_mobile"):
        # Cells + 2 reduction cells (+ 2 stem cells on ImageNet) for drop path.
        total = config.num_cells + 2 + (2 if stem_type == "imagenet" else 0)
        super().__init__(spec_name=spec_name, config=config, stem_type=stem_type,
                         num_classes=num_classes, is_training=is_training,
                         weight_decay=weight_decay, default_image_size=default_image_size,
                         total_num_cells=total, current_step=current_step)
        self.stem_cells = (self._stem_cells(utils.NASNET_A_REDUCTION)
                           if stem_type == "imagenet" else [])
        rate = config.filter_scaling_rate
        filter_scaling = 1.0
        true_cell_num = 2 if stem_type == "imagenet" else 0
        self.body = []  # reduction and normal cells in execution order
        for cell_num in range(config.num_cells):
            if cell_num in self.reduction_indices:
                filter_scaling *= rate
                index = self.reduction_indices.index(cell_num)
                self.body.append(self._cell(utils.NASNET_A_REDUCTION, f"reduction_cell_{index}",
                                            filter_scaling, 2, true_cell_num))
                true_cell_num += 1
            self.body.append(self._cell(utils.NASNET_A_NORMAL, f"cell_{cell_num}",
                                        filter_scaling, 1, true_cell_num))
            true_cell_num += 1

    def forward(self, inputs, training):
        end_points = {}
        time_ratio = self._time_ratio() if training else 1.0
        net, cell_outputs = self._stem(inputs, training, time_ratio)
        end_points["Stem"] = net
        skip = self.config.skip_reduction_layer_input
        cells = iter(self.body)
        prev_layer = None
        for cell_num in range(self.config.num_cells):
            # slim takes the normal cell's previous layer before (skip) or after
            # (no skip) the reduction cell that may precede it.
            if skip:
                prev_layer = cell_outputs[-2]
            if cell_num in self.reduction_indices:
                index = self.reduction_indices.index(cell_num)
                net = next(cells)(net, prev_layer=cell_outputs[-2], training=training,
                                  time_ratio=time_ratio)
                end_points[f"Reduction_Cell_{index}"] = net
                cell_outputs.append(net)
            if not skip:
                prev_layer = cell_outputs[-2]
            net = next(cells)(net, prev_layer=prev_layer, training=training,
                              time_ratio=time_ratio)
            end_points[f"Cell_{cell_num}"] = net
            self._maybe_aux(cell_num, net, end_points, training)
            cell_outputs.append(net)
        return self._final_layer(net, end_points, training)


def nasnet_spec(name: str, model: Callable[..., SlimModel], config: NasNetConfig, size: int, *,
                num_classes: int = 1001, preprocessing: str = "inception", weight_decay: float = 4e-5,
                min_image_size: int = 67, **model_kwargs) -> NetSpec:
    """The registry record of a NASNet / PNASNet key; ``num_classes`` and ``weight_decay`` are
    the builder's defaults (slim's build_* functions). ``min_image_size``: the training
    graph's aux head needs a 5x5 map where it attaches (stride 16 on ImageNet)."""
    aux_cell = utils.calc_reduction_layers(config.num_cells, config.num_reduction_layers)[1] - 1
    builder = functools.partial(model, config=config, num_classes=num_classes, weight_decay=weight_decay,
                                default_image_size=size, spec_name=name, **model_kwargs)
    return NetSpec(name=name, builder=builder, default_image_size=size, num_classes=num_classes,
                   preprocessing=preprocessing, scope="",
                   logits_scopes=("final_layer/FC", f"aux_{aux_cell}/aux_logits/FC"),
                   checkpoint_num_classes=num_classes, kwargs=("current_step",),
                   min_image_size=min_image_size)


NETS = (
    # On cifar the aux head attaches at stride 2.
    nasnet_spec("nasnet_cifar", NasNet, CIFAR, 32, num_classes=10, preprocessing="cifarnet",
                weight_decay=5e-4, min_image_size=9, stem_type="cifar"),
    nasnet_spec("nasnet_mobile", NasNet, MOBILE, 224, stem_type="imagenet"),
    nasnet_spec("nasnet_large", NasNet, LARGE, 331, weight_decay=5e-5, stem_type="imagenet"),
)
