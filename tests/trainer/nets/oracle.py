"""The tf-slim 1.1.0 reference nets as a numerical oracle (test-only dependency).

``slim_reference(build, images, checkpoint_prefix)`` builds slim's graph in
compat.v1 graph mode, gives every variable a random value (BatchNorm statistics
included, so BN is not an identity), saves a name-based checkpoint with a TF1
Saver and returns slim's outputs on ``images``. A test then restores that
checkpoint into the zoo model with ``restore_slim_checkpoint`` and compares.
"""
from __future__ import annotations

import importlib
import sys
from typing import Callable, Dict, Sequence, Tuple

import numpy as np
import tensorflow as tf


def import_tf_slim():
    """Imports tf_slim on TF 2.16, which moved tf_keras' legacy layers under src/."""
    for name in ("legacy_tf_layers", "legacy_tf_layers.base", "legacy_tf_layers.core",
                 "legacy_tf_layers.convolutional", "legacy_tf_layers.normalization",
                 "legacy_tf_layers.pooling", "legacy_tf_layers.variable_scope_shim"):
        try:
            module = importlib.import_module(f"tf_keras.src.{name}")
        except ImportError:
            continue
        sys.modules.setdefault(f"tf_keras.{name}", module)
    import tf_slim  # pylint: disable=import-outside-toplevel
    return tf_slim


def build_without_autograph(build: Callable, *args, **kwargs):
    """Calls ``build`` in graph mode without AutoGraph, for tests that only build slim's
    graph: slim's nets have no tensor-dependent Python control flow, and converting every
    layer call (what a v1 graph does by default) costs several times the build itself
    (inception_v3's graph: 17 s -> 5 s CPU)."""
    return tf.autograph.experimental.do_not_convert(build)(*args, **kwargs)


def _random_value(name: str, shape, rng: np.random.Generator) -> np.ndarray:
    if name.endswith("moving_variance"):
        return rng.uniform(0.5, 1.5, shape).astype(np.float32)
    if name.endswith("gamma"):
        return rng.uniform(0.5, 1.5, shape).astype(np.float32)
    if name.endswith(("moving_mean", "beta", "biases")):
        return (0.1 * rng.standard_normal(shape)).astype(np.float32)
    return None  # keep slim's own initializer for weights


def slim_reference(build: Callable[[tf.Tensor], Tuple[tf.Tensor, Dict[str, tf.Tensor]]],
                   images: np.ndarray, checkpoint_prefix: str,
                   seed: int = 0) -> Tuple[np.ndarray, Dict[str, np.ndarray]]:
    """Builds slim's graph with ``build(images_placeholder)`` and saves its weights.

    Args:
      build: called inside a fresh graph; returns slim's (logits, end_points),
        e.g. ``lambda x: tf_slim.nets.inception.inception_v3(x, 10, is_training=False)``
        under the right arg_scope.
      images: float32 NHWC input.
      checkpoint_prefix: where the TF1 Saver writes the checkpoint.

    Returns:
      (logits, end_points) as numpy arrays.
    """
    rng = np.random.default_rng(seed)
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.set_random_seed(seed)
        inputs = tf.compat.v1.placeholder(tf.float32, images.shape)
        logits, end_points = build(inputs)
        variables = tf.compat.v1.global_variables()
        with tf.compat.v1.Session(graph=graph) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            # One run feeding every initializer: a var.load per variable re-prunes the
            # whole graph each time, which dominates the oracle's cost on deep nets.
            feeds = {}
            for var in variables:
                value = _random_value(var.op.name, var.shape.as_list(), rng)
                if value is not None:
                    feeds[var.initializer.inputs[1]] = value
            if feeds:
                sess.run([var.initializer for var in variables
                          if var.initializer.inputs[1] in feeds], feeds)
            tf.compat.v1.train.Saver(var_list=variables).save(sess, checkpoint_prefix,
                                                              write_meta_graph=False)
            out_logits, out_end_points = sess.run([logits, end_points], {inputs: images})
    return out_logits, out_end_points


def assert_close(reference: np.ndarray, actual: np.ndarray, what: str, rel: float = 1e-4) -> None:
    """max |a - r| <= rel * max |r| (the issue's parity bar)."""
    reference = np.asarray(reference)
    actual = np.asarray(actual)
    assert reference.shape == actual.shape, f"{what}: shape {actual.shape} != {reference.shape}"
    scale = float(np.max(np.abs(reference))) or 1.0
    err = float(np.max(np.abs(reference - actual)))
    assert err <= rel * scale, f"{what}: max abs diff {err:.3g} > {rel} x {scale:.3g}"


def compare_end_points(reference: Dict[str, np.ndarray], actual: Dict[str, tf.Tensor],
                       names: Sequence[str], rel: float = 1e-4) -> None:
    for name in names:
        assert name in actual, f"end point {name!r} missing; have {sorted(actual)}"
        assert_close(reference[name], np.asarray(actual[name]), f"end point {name}", rel)
