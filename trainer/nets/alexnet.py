"""AlexNet v2, the "One weird trick" variant without LRN (slim nets/alexnet.py).

FC layers are convolutions (fc6 5x5 VALID); fc6-fc8 use truncated_normal(0.005)
weights, biases start at 0.1 except fc8's zeros.
"""
from __future__ import annotations

import tf_keras

from trainer.nets.vgg import FiveConvNet, conv_fc_spec

SCOPE = "alexnet_v2"


class AlexNetV2(FiveConvNet):
    """slim's alexnet_v2 (current signature with ``global_pool`` and num_classes=0):
    3x3/2 pools, every conv's biases 0.1 (arguments and end points: :class:`FiveConvNet`)."""

    SCOPE = SCOPE
    DEFAULT_IMAGE_SIZE = 224
    CONVS = ((64, 11, {"stride": 4, "padding": "VALID"}), (192, 5, {}), (384, 3, {}),
             (384, 3, {}), (256, 3, {}))
    CONV_BIASES = tf_keras.initializers.Constant(0.1)
    POOL_KERNEL = 3
    FC6 = (4096, 5)


# conv1 11x11/4 VALID and three 3x3/2 VALID pools must leave 5x5 for fc6.
NETS = (conv_fc_spec(SCOPE, AlexNetV2, 224, min_image_size=195),)
