"""Inception V1 / GoogLeNet (slim nets/inception_v1.py), with BatchNorm as in slim."""
from __future__ import annotations

from typing import List, Sequence

from trainer.nets import inception_utils as iu
from trainer.nets import layers

SCOPE = "InceptionV1"
_STD = 0.01  # inception_v1_base wraps every conv in trunc_normal(0.01)

# Mixed module depths: (b0 1x1, b1 1x1, b1 3x3, b2 1x1, b2 3x3, b3 pool-proj 1x1).
_MODULES = {
    "Mixed_3b": (64, 96, 128, 16, 32, 32),
    "Mixed_3c": (128, 128, 192, 32, 96, 64),
    "Mixed_4b": (192, 96, 208, 16, 48, 64),
    "Mixed_4c": (160, 112, 224, 24, 64, 64),
    "Mixed_4d": (128, 128, 256, 24, 64, 64),
    "Mixed_4e": (112, 144, 288, 32, 64, 64),
    "Mixed_4f": (256, 160, 320, 32, 128, 128),
    "Mixed_5b": (256, 160, 320, 32, 128, 128),
    "Mixed_5c": (384, 192, 384, 48, 128, 128),
}


def _module(name: str) -> List[Sequence[iu.Op]]:
    d = _MODULES[name]
    # slim quirk: Mixed_5b's second Branch_2 conv is also named "0a".
    b2_3x3 = "Conv2d_0a_3x3" if name == "Mixed_5b" else "Conv2d_0b_3x3"
    return [
        [iu.Conv("Conv2d_0a_1x1", d[0], 1, stddev=_STD)],
        [iu.Conv("Conv2d_0a_1x1", d[1], 1, stddev=_STD),
         iu.Conv("Conv2d_0b_3x3", d[2], 3, stddev=_STD)],
        [iu.Conv("Conv2d_0a_1x1", d[3], 1, stddev=_STD), iu.Conv(b2_3x3, d[4], 3, stddev=_STD)],
        [iu.Pool("MaxPool_0a_3x3", "max", 3), iu.Conv("Conv2d_0b_1x1", d[5], 1, stddev=_STD)],
    ]


class InceptionV1(iu.InceptionNet):
    """slim ``inception_v1``: end points Conv2d_1a_7x7 … Mixed_5c, Logits, Predictions;
    1024 pooled features, a fixed 7x7 pool (arguments: :class:`~inception_utils.InceptionNet`)."""

    def __init__(self, num_classes: int = 1000, is_training: bool = False,
                 weight_decay: float = 0.0, dropout_keep_prob: float = 0.8,
                 spatial_squeeze: bool = True, global_pool: bool = False):
        super().__init__(spec_name="inception_v1", scope=SCOPE, num_classes=num_classes,
                         is_training=is_training, default_image_size=224,
                         spatial_squeeze=spatial_squeeze, global_pool=global_pool)
        sc = iu.inception_arg_scope(weight_decay=weight_decay)
        stem = {
            "Conv2d_1a_7x7": iu.Conv("Conv2d_1a_7x7", 64, 7, stride=2, stddev=_STD),
            "MaxPool_2a_3x3": iu.Pool("MaxPool_2a_3x3", "max", 3, stride=2),
            "Conv2d_2b_1x1": iu.Conv("Conv2d_2b_1x1", 64, 1, stddev=_STD),
            "Conv2d_2c_3x3": iu.Conv("Conv2d_2c_3x3", 192, 3, stddev=_STD),
            "MaxPool_3a_3x3": iu.Pool("MaxPool_3a_3x3", "max", 3, stride=2),
        }
        for name, op in stem.items():
            self.add_stage(name, op, sc)
        for name in ("Mixed_3b", "Mixed_3c"):
            self.add_stage(name, iu.Mixed(f"{SCOPE}/{name}", _module(name), sc), sc)
        self.add_stage("MaxPool_4a_3x3", iu.Pool("MaxPool_4a_3x3", "max", 3, stride=2), sc)
        for name in ("Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_4f"):
            self.add_stage(name, iu.Mixed(f"{SCOPE}/{name}", _module(name), sc), sc)
        self.add_stage("MaxPool_5a_2x2", iu.Pool("MaxPool_5a_2x2", "max", 2, stride=2), sc)
        for name in ("Mixed_5b", "Mixed_5c"):
            self.add_stage(name, iu.Mixed(f"{SCOPE}/{name}", _module(name), sc), sc)
        self.add_logits(sc, dropout_keep_prob, "Conv2d_0c_1x1")

    def forward(self, inputs, training):
        net, end_points = self.run_stages(inputs, training)
        return self.conv_head(net, end_points, training, "AvgPool_0a_7x7",
                              lambda net: layers.avg_pool2d(net, 7, stride=1, padding="VALID"),
                              prelogits_key=None)


NETS = (iu.inception_spec("inception_v1", InceptionV1, scope=SCOPE, default_image_size=224,
                          num_classes=1000, kwargs=("dropout_keep_prob", "spatial_squeeze", "global_pool"),
                          # The fixed 7x7 VALID pool needs a 7x7 Mixed_5c: ceil(s / 32) >= 7.
                          min_image_size=193, aux_logits=False),)
