"""OverFeat, the "fast" model (slim nets/overfeat.py).

FC layers are convolutions (fc6 6x6 VALID on pool5, 3072 then 4096 channels);
the head uses truncated_normal(0.005) weights with biases 0.1 (fc8 zeros).
"""
from __future__ import annotations

from trainer.nets.vgg import FiveConvNet, conv_fc_spec

SCOPE = "overfeat"


class OverFeat(FiveConvNet):
    """slim's overfeat; default input 231, 2x2/2 pools, zero conv biases (arguments and
    end points: :class:`FiveConvNet`)."""

    SCOPE = SCOPE
    DEFAULT_IMAGE_SIZE = 231
    CONVS = ((64, 11, {"stride": 4, "padding": "VALID"}), (256, 5, {"padding": "VALID"}),
             (512, 3, {}), (1024, 3, {}), (1024, 3, {}))
    CONV_BIASES = "zeros"
    POOL_KERNEL = 2
    FC6 = (3072, 6)


# conv1 11x11/4 VALID, conv2 5x5 VALID and three 2x2 pools must leave 6x6.
NETS = (conv_fc_spec(SCOPE, OverFeat, 231, min_image_size=231),)
