"""slim.losses against tf_slim 1.1's in graph mode: label smoothing, per-example weights,
the collection, and get_total_loss with the model's regularization losses."""
import numpy as np
import tensorflow as tf
import tf_keras

from tests.trainer.nets import oracle
from trainer import slim

RNG = np.random.default_rng(7)
LOGITS = RNG.normal(size=(4, 5)).astype(np.float32)
ONEHOT = np.eye(5, dtype=np.float32)[[0, 3, 1, 4]]
WEIGHTS = np.array([1.0, 0.0, 2.0, 0.5], np.float32)


def _tf_slim_values():
    tf_slim = oracle.import_tf_slim()
    with tf.Graph().as_default():
        weighted = tf_slim.losses.softmax_cross_entropy(tf.constant(LOGITS), tf.constant(ONEHOT),
                                                        weights=tf.constant(WEIGHTS),
                                                        label_smoothing=0.1)
        plain = tf_slim.losses.softmax_cross_entropy(tf.constant(LOGITS), tf.constant(ONEHOT))
        none = tf_slim.losses.softmax_cross_entropy(tf.constant(LOGITS), tf.constant(ONEHOT),
                                                    weights=tf.zeros([4]))
        total = tf_slim.losses.get_total_loss(add_regularization_losses=False)
        with tf.compat.v1.Session() as session:
            return session.run([weighted, plain, none, total])


def test_softmax_cross_entropy_and_total_loss_match_tf_slim():
    ref_weighted, ref_plain, ref_none, ref_total = _tf_slim_values()
    inputs = tf_keras.Input((3,))
    with slim.name_store():
        model = tf_keras.Model(inputs, slim.fully_connected(
            inputs, 2, weights_regularizer=slim.l2_regularizer(0.5),
            biases_regularizer=slim.l2_regularizer(0.25)))

    @tf.function
    def losses():  # a fresh graph: the collection holds this trace's losses only
        weighted = slim.losses.softmax_cross_entropy(LOGITS, ONEHOT, weights=WEIGHTS,
                                                     label_smoothing=0.1)
        plain = slim.losses.softmax_cross_entropy(LOGITS, ONEHOT)
        none = slim.losses.softmax_cross_entropy(LOGITS, ONEHOT, weights=tf.zeros([4]))
        return (weighted, plain, none, slim.losses.get_total_loss(add_regularization_losses=False),
                slim.losses.get_total_loss(model=model), len(slim.losses.get_losses()))

    weighted, plain, none, total, with_reg, count = losses()
    np.testing.assert_allclose([weighted, plain, none, total],
                               [ref_weighted, ref_plain, ref_none, ref_total], rtol=1e-6)
    assert int(count) == 3 and len(model.losses) == 2
    kernel = model.weights[0].numpy()
    np.testing.assert_allclose(with_reg - total, 0.5 * 0.5 * np.sum(kernel ** 2), rtol=1e-5)
