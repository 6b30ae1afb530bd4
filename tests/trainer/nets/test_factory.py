"""Every registered network builds through the factory and classifies (slim nets_factory_test).

The parametrization comes from ``nets.list_models()`` at collection time, so a
family registered later is tested without touching this file. Nets are built
at their smallest supported input (``NetSpec.min_image_size``) to stay fast.
"""
import numpy as np
import pytest
import tensorflow as tf

from trainer import nets

# Many parameters (>= ~40M) or many FLOPs even at their smallest input.
HEAVY = {
    "inception_v4", "inception_resnet_v2", "nasnet_large", "pnasnet_large",
    "resnet_v1_152", "resnet_v1_200", "resnet_v2_152", "resnet_v2_200",
    "vgg_a", "vgg_16", "vgg_19", "overfeat", "i3d",
}
NUM_CLASSES = 7


def _cases():
    return [pytest.param(name, marks=pytest.mark.slow) if name in HEAVY else name
            for name in nets.list_models()]


@pytest.mark.parametrize("name", _cases())
def test_network_builds_and_returns_logits(name):
    spec = nets.get_spec(name)
    size = spec.min_image_size or spec.default_image_size
    model = nets.create_model(name, num_classes=NUM_CLASSES)
    assert model.default_image_size == spec.default_image_size

    # slim's nets_factory_test feeds the video nets 10 frames at half their default size.
    shape = [2, 10, size // 2, size // 2, 3] if spec.video else [2, size, size, 3]
    logits, end_points = model(tf.random.uniform(shape, seed=1), training=False)

    assert logits.shape == (2, NUM_CLASSES)
    assert np.all(np.isfinite(logits.numpy()))
    assert end_points, "no end points"
    variables = model.slim_variables()
    if spec.scope:
        assert all(n.startswith(spec.scope + "/") for n in variables), spec.scope
    # Fine-tuning excludes logits_scopes: the main one must name real variables.
    assert any(n.startswith(spec.logits_scopes[0]) for n in variables), spec.logits_scopes
