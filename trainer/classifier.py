"""Wraps a zoo net with slim's training loss so it trains with ``model.fit``."""
from __future__ import annotations

from typing import List, Sequence

import tensorflow as tf
import tf_keras

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


class Classifier(tf_keras.Model):
    """net + slim loss: softmax CE (label smoothing), 0.4 x AuxLogits CE, L2 regularization.

    Losses are divided by the number of replicas because gradients are summed
    across replicas (the per-replica batch is global_batch / replicas).
    """

    def __init__(self, net: SlimModel, num_classes: int, label_smoothing: float = 0.0,
                 aux_loss_weight: float = 0.4, trainable_scopes: Sequence[str] = ()):
        super().__init__(name="classifier")
        self.net = net
        self.num_classes = num_classes
        self.label_smoothing = label_smoothing
        self.aux_loss_weight = aux_loss_weight
        self.trainable_scopes = tuple(trainable_scopes)
        self._train_vars = None
        self.loss_tracker = tf_keras.metrics.Mean(name="loss")
        self.reg_tracker = tf_keras.metrics.Mean(name="regularization_loss")
        self.accuracy = tf_keras.metrics.SparseCategoricalAccuracy(name="accuracy")
        self.top5 = tf_keras.metrics.SparseTopKCategoricalAccuracy(
            k=min(5, num_classes), name="recall_5")

    @property
    def metrics(self):
        return [self.loss_tracker, self.reg_tracker, self.accuracy, self.top5]

    def call(self, images, training=None):
        return self.net(images, training=training)[0]

    def _cross_entropy(self, labels, logits):
        onehot = tf.one_hot(labels, self.num_classes, dtype=tf.float32)
        if self.label_smoothing:
            onehot = onehot * (1.0 - self.label_smoothing) + self.label_smoothing / self.num_classes
        return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(onehot, tf.cast(logits, tf.float32)))

    def classification_loss(self, labels, logits, end_points):
        loss = self._cross_entropy(labels, logits)
        if "AuxLogits" in end_points and self.aux_loss_weight:
            loss += self.aux_loss_weight * self._cross_entropy(labels, end_points["AuxLogits"])
        return loss

    def trainable_for_step(self) -> List[tf.Variable]:
        if self._train_vars is None:
            self._train_vars = select_trainable(self.net, self.trainable_scopes)
        return self._train_vars

    def train_step(self, data):
        images, labels = data
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        with tf.GradientTape() as tape:
            logits, end_points = self.net(images, training=True)
            loss = self.classification_loss(labels, logits, end_points)
            reg = tf.add_n([tf.cast(l, tf.float32) for l in self.net.losses]) if self.net.losses \
                else tf.constant(0.0)
            total = (loss + reg) / replicas
            scaled = self.optimizer.get_scaled_loss(total) \
                if hasattr(self.optimizer, "get_scaled_loss") else total
        variables = self.trainable_for_step()
        grads = tape.gradient(scaled, variables)
        if hasattr(self.optimizer, "get_unscaled_gradients"):
            grads = self.optimizer.get_unscaled_gradients(grads)
        self.optimizer.apply_gradients(zip(grads, variables))
        self.loss_tracker.update_state(loss + reg)
        self.reg_tracker.update_state(reg)
        self.accuracy.update_state(labels, logits)
        self.top5.update_state(labels, logits)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        images, labels = data
        logits, end_points = self.net(images, training=False)
        loss = self._cross_entropy(labels, logits)
        self.loss_tracker.update_state(loss)
        self.accuracy.update_state(labels, logits)
        self.top5.update_state(labels, logits)
        return {m.name: m.result() for m in self.metrics}
