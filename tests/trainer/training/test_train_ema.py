"""--moving_average_decay: slim's ExponentialMovingAverage(num_updates=global_step) semantics."""
import numpy as np
import pytest
import tensorflow as tf

from trainer.training.ema import MovingAverages

VALUES = [np.array([1.0, -2.0], np.float32) * k for k in (0.5, 1.5, -1.0, 3.0, 2.0, 0.0)]
START = np.array([0.25, 0.75], np.float32)


def _tf1_shadows(decay: float) -> list:
    graph = tf.Graph()
    with graph.as_default():
        v1 = tf.compat.v1
        var = v1.get_variable("w", initializer=START)
        step = v1.placeholder(tf.int64, [])
        value = v1.placeholder(tf.float32, [2])
        ema = v1.train.ExponentialMovingAverage(decay, num_updates=step)
        assign = var.assign(value)
        with tf.control_dependencies([assign]):
            update = ema.apply([var])
        with v1.Session(graph=graph) as sess:
            sess.run(v1.global_variables_initializer())
            out = []
            for k, val in enumerate(VALUES):
                sess.run(update, {step: k, value: val})
                out.append(sess.run(ema.average(var)))
    return out


@pytest.mark.parametrize("decay", [0.9, 0.9999])
def test_matches_tf1_exponential_moving_average(decay):
    var = tf.Variable(START)
    averages = MovingAverages({"Net/w": var}, decay)
    got = []
    for k, val in enumerate(VALUES):
        var.assign(val)
        averages.apply(k)
        got.append(averages.values()["Net/w"].numpy())
    np.testing.assert_allclose(got, _tf1_shadows(decay), rtol=1e-6, atol=1e-7)
    # The shadow lags the variable: it is not a copy of it.
    assert np.abs(got[-1] - VALUES[-1]).max() > 1e-3


def test_warmup_decay_follows_global_step():
    averages = MovingAverages({"a": tf.Variable(0.0)}, 0.9999)
    assert float(averages.decay_at(0)) == pytest.approx(0.1)
    assert float(averages.decay_at(90)) == pytest.approx(0.91)
    assert float(averages.decay_at(10 ** 7)) == pytest.approx(0.9999)


def test_reset_and_copy_to_variables():
    var = tf.Variable([1.0, 2.0])
    averages = MovingAverages({"a": var}, 0.5)
    var.assign([3.0, 4.0])
    averages.apply(100)  # decay 0.5 → shadow = [2, 3]
    averages.copy_to_variables()
    np.testing.assert_allclose(var.numpy(), [2.0, 3.0])
    var.assign([7.0, 8.0])
    averages.reset()
    np.testing.assert_allclose(averages.values()["a"].numpy(), [7.0, 8.0])


def test_shadows_are_checkpointed_by_slim_name(tmp_path):
    var = tf.Variable([1.0, 2.0])
    averages = MovingAverages({"LeNet/fc4/weights": var}, 0.5)
    path = tf.train.Checkpoint(ema=averages).write(str(tmp_path / "ckpt"))
    keys = [k for k, _ in tf.train.list_variables(path)]
    assert "ema/shadows/LeNet.Sfc4.Sweights/.ATTRIBUTES/VARIABLE_VALUE" in keys
    # The averaged variable itself is not a dependency of the EMA module.
    assert not any("_refs" in k for k in keys)
