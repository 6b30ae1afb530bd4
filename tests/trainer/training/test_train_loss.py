"""slim's training loss: label smoothing, 0.4 x AuxLogits, L2 weight decay, trainable scopes."""
import numpy as np
import pytest
import tensorflow as tf

from trainer import nets
from trainer.training.classifier import Classifier, select_trainable
from trainer.config import TrainConfig

RNG = np.random.RandomState(0)
LOGITS = RNG.randn(6, 5).astype(np.float32)
AUX = RNG.randn(6, 5).astype(np.float32)
LABELS = np.array([0, 1, 2, 3, 4, 0])


def _tf1_softmax_ce(logits, labels, label_smoothing=0.0, weights=1.0):
    """tf.compat.v1.losses.softmax_cross_entropy, what slim's train_image_classifier called."""
    graph = tf.Graph()
    with graph.as_default():
        onehot = tf.one_hot(labels, logits.shape[-1])
        loss = tf.compat.v1.losses.softmax_cross_entropy(onehot, tf.constant(logits),
                                                         label_smoothing=label_smoothing,
                                                         weights=weights)
        with tf.compat.v1.Session(graph=graph) as sess:
            return float(sess.run(loss))


@pytest.fixture(scope="module")
def lenet():
    net = nets.create_model("lenet", num_classes=5, is_training=True, weight_decay=0.01)
    net.ensure_built(28, 1)
    return net


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.3])
def test_label_smoothing_matches_slim(lenet, smoothing):
    clf = Classifier(lenet, 5, label_smoothing=smoothing)
    got = float(clf.classification_loss(tf.constant(LABELS), tf.constant(LOGITS), {}))
    assert got == pytest.approx(_tf1_softmax_ce(LOGITS, LABELS, smoothing), rel=1e-5)


def test_label_smoothing_changes_the_loss(lenet):
    plain = float(Classifier(lenet, 5).classification_loss(LABELS, tf.constant(LOGITS), {}))
    smooth = float(Classifier(lenet, 5, label_smoothing=0.2).classification_loss(
        LABELS, tf.constant(LOGITS), {}))
    assert abs(plain - smooth) > 1e-3


def test_aux_logits_weigh_0_4(lenet):
    clf = Classifier(lenet, 5, label_smoothing=0.1)
    got = float(clf.classification_loss(LABELS, tf.constant(LOGITS), {"AuxLogits": tf.constant(AUX)}))
    want = _tf1_softmax_ce(LOGITS, LABELS, 0.1) + _tf1_softmax_ce(AUX, LABELS, 0.1, weights=0.4)
    assert got == pytest.approx(want, rel=1e-5)
    assert TrainConfig().aux_loss_weight == 0.4


def test_weight_decay_is_slim_l2_on_weights_only(lenet):
    clf = Classifier(lenet, 5)
    variables = lenet.slim_variables()
    # slim's l2_regularizer(wd) = wd * sum(w^2) / 2 on conv and fc weights; biases are not decayed.
    want = sum(0.01 * 0.5 * float(tf.reduce_sum(tf.square(v)))
               for name, v in variables.items() if name.endswith("/weights"))
    assert float(clf.regularization_loss()) == pytest.approx(want, rel=1e-5)
    undecayed = nets.create_model("lenet", num_classes=5, weight_decay=0.0)
    undecayed.ensure_built(28, 1)
    assert float(Classifier(undecayed, 5).regularization_loss()) == 0.0


def test_trainable_scopes_select_by_slim_prefix(lenet):
    chosen = select_trainable(lenet, ("LeNet/fc4", "LeNet/conv1"))
    by_ref = {v.ref(): n for n, v in lenet.slim_variables().items()}
    assert sorted(by_ref[v.ref()] for v in chosen) == [
        "LeNet/conv1/biases", "LeNet/conv1/weights", "LeNet/fc4/biases", "LeNet/fc4/weights"]
    assert len(select_trainable(lenet, ())) == 8
    with pytest.raises(ValueError, match="match no trainable variable"):
        select_trainable(lenet, ("InceptionV3/Logits",))
