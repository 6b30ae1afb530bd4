"""Inception V2 / BN-Inception (slim nets/inception_v2.py)."""
from __future__ import annotations

from typing import Callable, List, Sequence

from trainer.nets import inception_utils as iu

SCOPE = "InceptionV2"

# Mixed modules: (b0 1x1, b1 1x1, b1 3x3, b2 1x1, b2 3x3 (x2), b3 pool, b3 pool-proj 1x1).
_MODULES = {
    "Mixed_3b": (64, 64, 64, 64, 96, "avg", 32),
    "Mixed_3c": (64, 64, 96, 64, 96, "avg", 64),
    "Mixed_4b": (224, 64, 96, 96, 128, "avg", 128),
    "Mixed_4c": (192, 96, 128, 96, 128, "avg", 128),
    "Mixed_4d": (160, 128, 160, 128, 160, "avg", 96),
    "Mixed_4e": (96, 128, 192, 160, 192, "avg", 96),
    "Mixed_5b": (352, 192, 320, 160, 224, "avg", 128),
    "Mixed_5c": (352, 192, 320, 192, 224, "max", 128),  # slim pools Mixed_5c with max
}
# Reduction modules: (b0 1x1, b0 3x3/2, b1 1x1, b1 3x3, b1 3x3/2).
_REDUCTIONS = {"Mixed_4a": (128, 160, 64, 96, 96), "Mixed_5a": (128, 192, 192, 256, 256)}


def _module(name: str, depth: Callable[[int], int]) -> List[Sequence[iu.Op]]:
    *convs, pool, proj = _MODULES[name]
    d = [depth(x) for x in convs]
    return [
        [iu.Conv("Conv2d_0a_1x1", d[0], 1)],
        [iu.Conv("Conv2d_0a_1x1", d[1], 1, stddev=0.09), iu.Conv("Conv2d_0b_3x3", d[2], 3)],
        [iu.Conv("Conv2d_0a_1x1", d[3], 1, stddev=0.09), iu.Conv("Conv2d_0b_3x3", d[4], 3),
         iu.Conv("Conv2d_0c_3x3", d[4], 3)],
        [iu.Pool(f"{pool.capitalize()}Pool_0a_3x3", pool, 3),
         iu.Conv("Conv2d_0b_1x1", depth(proj), 1, stddev=0.1)],
    ]


def _reduction(name: str, depth: Callable[[int], int]) -> List[Sequence[iu.Op]]:
    d = [depth(x) for x in _REDUCTIONS[name]]
    return [
        [iu.Conv("Conv2d_0a_1x1", d[0], 1, stddev=0.09),
         iu.Conv("Conv2d_1a_3x3", d[1], 3, stride=2)],
        [iu.Conv("Conv2d_0a_1x1", d[2], 1, stddev=0.09), iu.Conv("Conv2d_0b_3x3", d[3], 3),
         iu.Conv("Conv2d_1a_3x3", d[4], 3, stride=2)],
        [iu.Pool("MaxPool_1a_3x3", "max", 3, stride=2)],
    ]


class InceptionV2(iu.InceptionNet):
    """slim ``inception_v2``: end points Conv2d_1a_7x7 … Mixed_5c, PreLogits, Logits.

    ``Conv2d_1a_7x7`` is a separable conv (``depthwise_weights`` +
    ``pointwise_weights`` + ``biases``): slim's inception arg_scope covers conv2d
    only, so that layer has no BatchNorm and no weight decay (as in the released
    checkpoint, tensorflow/models#4843).

    1024 pooled features, a 7x7 pool (arguments: :class:`~inception_utils.InceptionNet`).
    """

    def __init__(self, num_classes: int = 1000, is_training: bool = False,
                 weight_decay: float = 0.0, dropout_keep_prob: float = 0.8,
                 min_depth: int = 16, depth_multiplier: float = 1.0,
                 spatial_squeeze: bool = True, global_pool: bool = False):
        super().__init__(spec_name="inception_v2", scope=SCOPE, num_classes=num_classes,
                         is_training=is_training, default_image_size=224,
                         spatial_squeeze=spatial_squeeze, global_pool=global_pool)
        depth = iu.depth_fn(depth_multiplier, min_depth)
        sc = iu.inception_arg_scope(weight_decay=weight_decay)

        # in_channels * depthwise_multiplier <= out_channels keeps the separable
        # conv from being over-parameterized (slim's comment).
        self.add_stage("Conv2d_1a_7x7", sc.separable_conv2d(
            depth(64), 7, scope=f"{SCOPE}/Conv2d_1a_7x7",
            depth_multiplier=min(int(depth(64) / 3), 8), stride=2,
            weights_initializer=iu.trunc_normal(1.0), batch_norm=None, weight_decay=0.0), sc)
        self.add_stage("MaxPool_2a_3x3", iu.Pool("MaxPool_2a_3x3", "max", 3, stride=2), sc)
        self.add_stage("Conv2d_2b_1x1", iu.Conv("Conv2d_2b_1x1", depth(64), 1, stddev=0.1), sc)
        self.add_stage("Conv2d_2c_3x3", iu.Conv("Conv2d_2c_3x3", depth(192), 3), sc)
        self.add_stage("MaxPool_3a_3x3", iu.Pool("MaxPool_3a_3x3", "max", 3, stride=2), sc)
        for name in ("Mixed_3b", "Mixed_3c", "Mixed_4a", "Mixed_4b", "Mixed_4c", "Mixed_4d",
                     "Mixed_4e", "Mixed_5a", "Mixed_5b", "Mixed_5c"):
            branches = _reduction(name, depth) if name in _REDUCTIONS else _module(name, depth)
            self.add_stage(name, iu.Mixed(f"{SCOPE}/{name}", branches, sc), sc)
        self.add_logits(sc, dropout_keep_prob, "Conv2d_1c_1x1")

    def forward(self, inputs, training):
        net, end_points = self.run_stages(inputs, training)
        return self.conv_head(net, end_points, training, "AvgPool_1a",
                              lambda net: iu.reduced_avg_pool(net, (7, 7)))


NETS = (iu.inception_spec("inception_v2", InceptionV2, scope=SCOPE, default_image_size=224,
                          num_classes=1000,
                          kwargs=("dropout_keep_prob", "min_depth", "depth_multiplier", "spatial_squeeze",
                                  "global_pool"),
                          # The head pool shrinks to the feature map, so any size works; slim's
                          # docstring states "any size greater 32x32".
                          min_image_size=32, aux_logits=False),)
