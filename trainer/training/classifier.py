"""Wraps a zoo net with slim's training loss so it trains with ``model.fit``."""
from __future__ import annotations

from typing import Callable, Dict, List, Optional, Sequence

import tensorflow as tf
import tf_keras

from trainer.training.ema import MovingAverages
from trainer.nets import SlimModel


def select_trainable(net: SlimModel, trainable_scopes: Sequence[str]) -> List[tf.Variable]:
    """slim's --trainable_scopes: trainable variables whose slim name starts with a scope.

    An empty list of scopes means every trainable variable.
    """
    trainable = net.trainable_variables
    if not trainable_scopes:
        return list(trainable)
    by_ref = {v.ref(): name for name, v in net.slim_variables().items()}
    chosen = [v for v in trainable
              if any(by_ref.get(v.ref(), v.name).startswith(s) for s in trainable_scopes)]
    if not chosen:
        raise ValueError(f"--trainable_scopes {list(trainable_scopes)} match no trainable variable "
                         f"of {net.spec_name}; scopes start with {net.scope or 'cell_/final_layer'}.")
    return chosen


def smoothed_onehot(labels: tf.Tensor, num_classes: int, label_smoothing: float) -> tf.Tensor:
    """slim's softmax_cross_entropy label smoothing: ``onehot * (1 - ls) + ls / num_classes``."""
    onehot = tf.one_hot(labels, num_classes, dtype=tf.float32)
    if label_smoothing:
        onehot = onehot * (1.0 - label_smoothing) + label_smoothing / num_classes
    return onehot


class Classifier(tf_keras.Model):
    """net + slim loss: softmax CE (label smoothing), 0.4 x AuxLogits CE, L2 regularization.

    ``train_step`` returns this step's values, averaged over all replicas:
    ``total_loss``, ``loss`` (cross entropy incl. the aux term),
    ``regularization_loss``, ``accuracy`` (this batch) and ``learning_rate``
    (the rate this step used). Losses are divided by the number of replicas
    before the gradient because the all-reduce sums replica gradients (each
    replica sees global_batch / replicas images).
    """

    def __init__(self, net: SlimModel, num_classes: int, label_smoothing: float = 0.0,
                 aux_loss_weight: float = 0.4, trainable_scopes: Sequence[str] = (),
                 learning_rate_fn: Optional[Callable[[tf.Tensor], tf.Tensor]] = None,
                 moving_averages: Optional[MovingAverages] = None):
        super().__init__(name="classifier")
        self.net = net
        self.num_classes = num_classes
        self.label_smoothing = label_smoothing
        self.aux_loss_weight = aux_loss_weight
        self.trainable_scopes = tuple(trainable_scopes)
        self.learning_rate_fn = learning_rate_fn
        self.moving_averages = moving_averages
        self._train_vars = None
        # train_step all-reduces what it returns and metric results are already global,
        # so Keras must take one replica's value ("auto" would sum them over replicas).
        self.distribute_reduction_method = "first"
        self.loss_tracker = tf_keras.metrics.Mean(name="loss")
        self.accuracy = tf_keras.metrics.SparseCategoricalAccuracy(name="accuracy")
        self.top5 = tf_keras.metrics.SparseTopKCategoricalAccuracy(
            k=min(5, num_classes), name="recall_5")

    @property
    def metrics(self):
        return [self.loss_tracker, self.accuracy, self.top5]

    def call(self, images, training=None):
        return self.net(images, training=training)[0]

    def _cross_entropy(self, labels, logits):
        onehot = smoothed_onehot(labels, self.num_classes, self.label_smoothing)
        return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(onehot, tf.cast(logits, tf.float32)))

    def classification_loss(self, labels, logits, end_points) -> tf.Tensor:
        """Cross entropy of the logits plus ``aux_loss_weight`` x that of end_points['AuxLogits']."""
        loss = self._cross_entropy(labels, logits)
        if "AuxLogits" in end_points and self.aux_loss_weight:
            loss += self.aux_loss_weight * self._cross_entropy(labels, end_points["AuxLogits"])
        return loss

    def regularization_loss(self) -> tf.Tensor:
        """Sum of the net's L2 terms (slim's REGULARIZATION_LOSSES)."""
        losses = self.net.losses
        if not losses:
            return tf.constant(0.0)
        return tf.add_n([tf.cast(loss, tf.float32) for loss in losses])

    def trainable_for_step(self) -> List[tf.Variable]:
        if self._train_vars is None:
            self._train_vars = select_trainable(self.net, self.trainable_scopes)
        return self._train_vars

    def train_step(self, data) -> Dict[str, tf.Tensor]:
        images, labels = data
        ctx = tf.distribute.get_replica_context()
        replicas = ctx.num_replicas_in_sync
        step = tf.identity(self.optimizer.iterations)  # the step this update is for
        variables = self.trainable_for_step()
        with tf.GradientTape() as tape:
            logits, end_points = self.net(images, training=True)
            loss = self.classification_loss(labels, logits, end_points)
            reg = self.regularization_loss()
            scaled = (loss + reg) / replicas
            if hasattr(self.optimizer, "get_scaled_loss"):
                scaled = self.optimizer.get_scaled_loss(scaled)
        grads = tape.gradient(scaled, variables)
        if hasattr(self.optimizer, "get_unscaled_gradients"):
            grads = self.optimizer.get_unscaled_gradients(grads)
        self.optimizer.apply_gradients(zip(grads, variables))
        if self.moving_averages is not None:
            self.moving_averages.apply(step)
        self.loss_tracker.update_state(loss + reg)
        self.accuracy.update_state(labels, logits)
        self.top5.update_state(labels, logits)
        correct = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(logits, -1, output_type=tf.int64),
                                                 tf.cast(labels, tf.int64)), tf.float32))
        count = tf.cast(tf.shape(labels)[0], tf.float32)
        loss_mean, reg_mean = ctx.all_reduce("MEAN", [loss, reg])
        correct, count = ctx.all_reduce("SUM", [correct, count])
        logs = {"total_loss": loss_mean + reg_mean, "loss": loss_mean,
                "regularization_loss": reg_mean, "accuracy": correct / tf.maximum(count, 1.0)}
        if self.learning_rate_fn is not None:
            logs["learning_rate"] = tf.cast(self.learning_rate_fn(step), tf.float32)
        return logs

    def test_step(self, data) -> Dict[str, tf.Tensor]:
        images, labels = data
        logits, _ = self.net(images, training=False)
        loss = self._cross_entropy(labels, logits)
        self.loss_tracker.update_state(loss)
        self.accuracy.update_state(labels, logits)
        self.top5.update_state(labels, logits)
        return {m.name: m.result() for m in self.metrics}
