"""The library README's examples (tests/trainer/slim/readme_examples.py) against tf_slim 1.1.

The same file runs twice: as written (``from trainer import slim``, a tf_keras functional
model) and with that import line swapped for ``import tf_slim as slim`` (a TF1 graph, the
oracle of tests/nets). The tf_slim graph's checkpoint restores into our model with no name
map and nothing missing or left over; logits and every regularization loss agree.
"""
import os

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from tests.trainer.nets import oracle
from tests.trainer.slim import readme_examples
from trainer import slim

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "readme_examples.py")
OUR_IMPORT = "from trainer import slim\n"


def tf_slim_examples() -> dict:
    """readme_examples.py executed with tf_slim as ``slim`` (only the import line differs)."""
    oracle.import_tf_slim()
    with open(EXAMPLES) as f:
        source = f.read()
    assert source.count(OUR_IMPORT) == 1
    namespace = {"__name__": "readme_examples_tf_slim"}
    exec(compile(source.replace(OUR_IMPORT, "import tf_slim as slim\n"), EXAMPLES, "exec"),  # pylint: disable=exec-used
         namespace)
    return namespace


@pytest.mark.parametrize("example,size", [("vgg16", 32), ("layer_and_scope_examples", 44),
                                          ("normalized_separable", 16)])
def test_example_matches_tf_slim(example, size, tmp_path):
    reference = tf_slim_examples()
    ref_slim = reference["slim"]
    images = np.random.default_rng(3).uniform(-1, 1, (2, size, size, 3)).astype(np.float32)
    prefix = str(tmp_path / "ckpt" / "model.ckpt")

    def build(x):
        with ref_slim.arg_scope([ref_slim.dropout], is_training=False):
            logits = reference[example](x)
        regs = tf.compat.v1.losses.get_regularization_losses()
        return logits, {"regularization": tf.stack(regs)}

    ref_logits, ref_out = oracle.slim_reference(build, images, prefix)
    names = sorted(tf.train.load_checkpoint(prefix).get_variable_to_shape_map())

    inputs = tf_keras.Input(images.shape[1:])
    with slim.name_store():
        model = tf_keras.Model(inputs, getattr(readme_examples, example)(inputs))
    assert sorted(v.name[:-2] for v in model.weights) == names  # slim's names, as variable names
    report = slim.assign_from_checkpoint_fn(prefix, model.weights)()
    assert sorted(report.restored) == names and not report.missing and not report.unused
    oracle.assert_close(ref_logits, model(images, training=False).numpy(), f"{example} logits")
    assert len(model.losses) == len(ref_out["regularization"])  # one per regularized weight
    np.testing.assert_allclose(sorted(float(loss) for loss in model.losses),
                               sorted(ref_out["regularization"]), rtol=1e-5)


def test_readme_nested_arg_scope_fails_as_in_tf_slim():
    """The README's snippet passes stride twice (positionally and from the scope)."""
    reference = tf_slim_examples()
    with tf.Graph().as_default():
        with pytest.raises(TypeError, match="multiple values for argument 'stride'"):
            reference["nested_arg_scope"](tf.compat.v1.placeholder(tf.float32, [1, 32, 32, 3]))
    with slim.name_store(), pytest.raises(TypeError, match="multiple values for argument 'stride'"):
        readme_examples.nested_arg_scope(tf_keras.Input((32, 32, 3)))
