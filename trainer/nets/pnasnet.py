"""PNASNet-5 mobile / large (slim nets/nasnet/pnasnet.py).

One cell type (``PNasNetNormalCell``) everywhere: the ImageNet stem's
``cell_stem_0/1`` and ``cell_N``, with stride 2 at the reduction indices (no
``reduction_cell_N`` scopes, no ``Reduction_Cell_N`` end points). Same arg
scope, aux head, final layer and drop-path schedule as NASNet.
"""
from __future__ import annotations

from trainer.nets import nasnet_utils as utils
from trainer.nets.nasnet import NasNetBase, NasNetConfig, StepSource, nasnet_spec

LARGE = NasNetConfig(stem_multiplier=3.0, num_cells=12, num_conv_filters=216, drop_path_keep_prob=0.6,
                     skip_reduction_layer_input=1)
MOBILE = NasNetConfig(stem_multiplier=1.0, num_cells=9, num_conv_filters=54, drop_path_keep_prob=1.0,
                      skip_reduction_layer_input=1)


class PNasNet(NasNetBase):
    """slim build_pnasnet_{mobile,large}."""

    def __init__(self, config: NasNetConfig = MOBILE, num_classes: int = 1001,
                 is_training: bool = False, weight_decay: float = 4e-5,
                 default_image_size: int = 224, current_step: StepSource = None,
                 spec_name: str = "pnasnet_mobile"):
        # No reduction cells in PNAS: the cells plus the two stem cells.
        super().__init__(spec_name=spec_name, config=config, stem_type="imagenet",
                         num_classes=num_classes, is_training=is_training,
                         weight_decay=weight_decay, default_image_size=default_image_size,
                         total_num_cells=config.num_cells + 2, current_step=current_step)
        self.stem_cells = self._stem_cells(utils.PNASNET_NORMAL)
        filter_scaling = 1.0
        self.body = []
        for cell_num in range(config.num_cells):
            is_reduction = cell_num in self.reduction_indices
            if is_reduction:
                filter_scaling *= config.filter_scaling_rate
            # true_cell_num counts the two stem cells.
            self.body.append(self._cell(utils.PNASNET_NORMAL, f"cell_{cell_num}",
                                        filter_scaling, 2 if is_reduction else 1,
                                        cell_num + 2))

    def forward(self, inputs, training):
        end_points = {}
        time_ratio = self._time_ratio() if training else 1.0
        net, cell_outputs = self._stem(inputs, training, time_ratio)
        end_points["Stem"] = net
        prev_layer = None
        for cell_num, cell in enumerate(self.body):
            is_reduction = cell_num in self.reduction_indices
            if self.config.skip_reduction_layer_input or not is_reduction:
                prev_layer = cell_outputs[-2]
            net = cell(net, prev_layer=prev_layer, training=training, time_ratio=time_ratio)
            end_points[f"Cell_{cell_num}"] = net
            cell_outputs.append(net)
            self._maybe_aux(cell_num, net, end_points, training)
        return self._final_layer(net, end_points, training)


NETS = (
    nasnet_spec("pnasnet_mobile", PNasNet, MOBILE, 224),
    nasnet_spec("pnasnet_large", PNasNet, LARGE, 331),
)
