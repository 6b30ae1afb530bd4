"""slim.losses: weighted losses collected per graph, and the total with regularization.

As in slim a loss is added to the ``losses`` collection of the current graph: inside a
``tf.function`` (a training step) that is the function's own graph, so each trace starts
empty; in eager code it is the process-wide default graph. The layers' regularization
losses live in the tf_keras model (``model.losses``), so :func:`get_regularization_losses`
and :func:`get_total_loss` take the model.
"""
from __future__ import annotations

from typing import List, Optional

import tensorflow as tf

from trainer.slim import variables

LOSSES = tf.compat.v1.GraphKeys.LOSSES


def add_loss(loss: tf.Tensor, loss_collection: Optional[str] = LOSSES) -> None:
    if loss_collection:
        tf.compat.v1.add_to_collection(loss_collection, loss)


def get_losses(scope: Optional[str] = None, loss_collection: str = LOSSES) -> List[tf.Tensor]:
    return tf.compat.v1.get_collection(loss_collection, scope)


def get_regularization_losses(model=None) -> List[tf.Tensor]:
    """One loss per regularized weight of ``model`` (its ``losses``) plus those of
    :func:`trainer.slim.variable`."""
    losses = list(model.losses) if model is not None else []
    return losses + variables.variable_regularization_losses()


def get_total_loss(add_regularization_losses: bool = True, name: str = "total_loss",
                   model=None) -> tf.Tensor:
    """The sum of the collected losses (+ the regularization losses of ``model``)."""
    losses = list(get_losses())
    if add_regularization_losses:
        losses += [tf.cast(loss, tf.float32) for loss in get_regularization_losses(model)]
    if not losses:
        raise ValueError("No losses: add one with a trainer.slim.losses function or add_loss.")
    return tf.add_n(losses, name=name)


def compute_weighted_loss(losses: tf.Tensor, weights=1.0, scope: Optional[str] = None,
                          loss_collection: Optional[str] = LOSSES) -> tf.Tensor:
    """slim's weighted mean: sum(losses * weights) / number of non-zero weights (0 if none)."""
    with tf.name_scope(scope or "weighted_loss"):
        losses = tf.cast(losses, tf.float32)
        weights = tf.broadcast_to(tf.cast(weights, tf.float32), tf.shape(losses))
        total = tf.reduce_sum(losses * weights)
        present = tf.reduce_sum(tf.cast(tf.not_equal(weights, 0.0), tf.float32))
        loss = tf.math.divide_no_nan(total, present, name="value")
    add_loss(loss, loss_collection)
    return loss


def softmax_cross_entropy(logits: tf.Tensor, onehot_labels: tf.Tensor, weights=1.0,
                          label_smoothing: float = 0.0, scope: Optional[str] = None,
                          loss_collection: Optional[str] = LOSSES) -> tf.Tensor:
    """slim.losses.softmax_cross_entropy(logits, onehot_labels, weights, label_smoothing).

    Smoothing: ``onehot * (1 - ls) + ls / num_classes``; ``weights`` a scalar or one per example.
    """
    with tf.name_scope(scope or "softmax_cross_entropy_loss"):
        labels = tf.cast(onehot_labels, tf.float32)
        if label_smoothing > 0:
            num_classes = tf.cast(tf.shape(labels)[-1], tf.float32)
            labels = labels * (1.0 - label_smoothing) + label_smoothing / num_classes
        losses = tf.nn.softmax_cross_entropy_with_logits(labels=labels,
                                                         logits=tf.cast(logits, tf.float32))
    return compute_weighted_loss(losses, weights, scope, loss_collection)


def sparse_softmax_cross_entropy(logits: tf.Tensor, labels: tf.Tensor, weights=1.0,
                                 scope: Optional[str] = None,
                                 loss_collection: Optional[str] = LOSSES) -> tf.Tensor:
    with tf.name_scope(scope or "sparse_softmax_cross_entropy_loss"):
        losses = tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.cast(labels, tf.int64), logits=tf.cast(logits, tf.float32))
    return compute_weighted_loss(losses, weights, scope, loss_collection)


def mean_squared_error(predictions: tf.Tensor, labels: tf.Tensor, weights=1.0,
                       scope: Optional[str] = None,
                       loss_collection: Optional[str] = LOSSES) -> tf.Tensor:
    """slim.losses.mean_squared_error (the README's sum_of_squares)."""
    with tf.name_scope(scope or "mean_squared_error"):
        losses = tf.square(tf.cast(predictions, tf.float32) - tf.cast(labels, tf.float32))
    return compute_weighted_loss(losses, weights, scope, loss_collection)


sum_of_squares = mean_squared_error
