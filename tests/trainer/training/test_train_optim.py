"""slim's optimizers and learning-rate decay, checked against tf.compat.v1.train step by step."""
import numpy as np
import pytest
import tensorflow as tf

from trainer.training import optim
from trainer.config import OPTIMIZERS, TrainConfig

# Non-default slim parameters, so a parameter that is dropped or swapped shows up.
SLIM_PARAMS = dict(adadelta_rho=0.8, adagrad_initial_accumulator_value=0.3, adam_beta1=0.8,
                   adam_beta2=0.99, opt_epsilon=0.5, ftrl_learning_rate_power=-0.6,
                   ftrl_initial_accumulator_value=0.2, ftrl_l1=0.01, ftrl_l2=0.02, momentum=0.7,
                   rmsprop_momentum=0.8, rmsprop_decay=0.85)
LR, DECAY_STEPS, FACTOR, STEPS = 0.1, 2, 0.5, 6
W0 = np.array([[0.5, -1.0], [2.0, 0.25]], np.float32)
TARGET = np.array([[1.0, 0.0], [-1.0, 3.0]], np.float32)


def _loss(w):
    return tf.reduce_sum(tf.square(w * w - TARGET)) + tf.reduce_sum(w)


def _tf1_trajectory(name: str) -> list:
    """slim's _configure_optimizer + exponential_decay(staircase=True) in a TF1 graph."""
    c = TrainConfig(**SLIM_PARAMS)
    graph = tf.Graph()
    with graph.as_default():
        v1 = tf.compat.v1
        step = v1.train.get_or_create_global_step()
        lr = v1.train.exponential_decay(LR, step, DECAY_STEPS, FACTOR, staircase=True)
        w = v1.get_variable("w", initializer=W0)
        opt = {
            "adadelta": lambda: v1.train.AdadeltaOptimizer(lr, rho=c.adadelta_rho, epsilon=c.opt_epsilon),
            "adagrad": lambda: v1.train.AdagradOptimizer(
                lr, initial_accumulator_value=c.adagrad_initial_accumulator_value),
            "adam": lambda: v1.train.AdamOptimizer(lr, beta1=c.adam_beta1, beta2=c.adam_beta2,
                                                   epsilon=c.opt_epsilon),
            "ftrl": lambda: v1.train.FtrlOptimizer(
                lr, learning_rate_power=c.ftrl_learning_rate_power,
                initial_accumulator_value=c.ftrl_initial_accumulator_value,
                l1_regularization_strength=c.ftrl_l1, l2_regularization_strength=c.ftrl_l2),
            "momentum": lambda: v1.train.MomentumOptimizer(lr, momentum=c.momentum, name="Momentum"),
            "sgd": lambda: v1.train.GradientDescentOptimizer(lr),
            "rmsprop": lambda: v1.train.RMSPropOptimizer(lr, decay=c.rmsprop_decay,
                                                         momentum=c.rmsprop_momentum,
                                                         epsilon=c.opt_epsilon),
        }[name]()
        train_op = opt.minimize(_loss(w), global_step=step)
        with v1.Session(graph=graph) as sess:
            sess.run(v1.global_variables_initializer())
            out = []
            for _ in range(STEPS):
                sess.run(train_op)
                out.append(sess.run(w))
    return out


def _our_trajectory(name: str) -> list:
    config = TrainConfig(optimizer=name, learning_rate=LR, learning_rate_decay_factor=FACTOR,
                         learning_rate_decay_type="exponential", num_epochs_per_decay=1.0,
                         batch_size=1, **SLIM_PARAMS)
    schedule = optim.learning_rate_schedule(config, num_samples_per_epoch=DECAY_STEPS)
    opt = optim.build_optimizer(config, schedule)
    w = tf.Variable(W0)
    out = []
    for _ in range(STEPS):
        with tf.GradientTape() as tape:
            loss = _loss(w)
        opt.apply_gradients([(tape.gradient(loss, w), w)])
        out.append(w.numpy())
    return out


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_matches_tf1_slim(name):
    expected = _tf1_trajectory(name)
    got = _our_trajectory(name)
    for step, (a, b) in enumerate(zip(got, expected), 1):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6, err_msg=f"{name} step {step}")
    # The trajectory actually moved (a no-op optimizer would match a no-op oracle).
    assert np.abs(expected[-1] - W0).max() > 1e-3


def test_unknown_optimizer_and_decay_are_errors():
    with pytest.raises(ValueError, match="optimizer"):  # the config model refuses them ...
        TrainConfig(optimizer="nadam")
    # ... and the optimizer factory too, for a config built without validation.
    with pytest.raises(ValueError, match="Optimizer \\[nadam\\] was not recognized"):
        optim.build_optimizer(TrainConfig.model_construct(optimizer="nadam"), 0.1)
    with pytest.raises(ValueError, match="learning_rate_decay_type \\[cosine\\]"):
        optim.learning_rate_schedule(TrainConfig.model_construct(learning_rate_decay_type="cosine"), 100)


def test_decay_steps_use_the_global_batch():
    # 1000 images, 2 epochs per decay, global batch 50 → 40 steps, whatever the replica count.
    config = TrainConfig(batch_size=50, num_epochs_per_decay=2.0, num_clones=4)
    assert optim.decay_steps(config, 1000) == 40
    assert optim.learning_rate_schedule(config, 1000).decay_steps == 40


def _rates(config, num_samples, steps):
    schedule = optim.learning_rate_schedule(config, num_samples)
    return np.array([float(schedule(s)) for s in steps])


def test_exponential_decay_is_staircase():
    config = TrainConfig(learning_rate=0.1, learning_rate_decay_factor=0.5, batch_size=10,
                         num_epochs_per_decay=1.0)
    rates = _rates(config, 30, [0, 2, 3, 5, 6, 9])  # decay every 3 steps
    np.testing.assert_allclose(rates, [0.1, 0.1, 0.05, 0.05, 0.025, 0.0125], rtol=1e-6)


def test_polynomial_decay_reaches_end_learning_rate_at_the_last_step():
    # decay_steps == max_number_of_steps: 100 images / batch 10 * 2 epochs = 20 steps.
    config = TrainConfig(learning_rate=0.1, end_learning_rate=0.001, batch_size=10,
                         learning_rate_decay_type="polynomial", num_epochs_per_decay=2.0,
                         max_number_of_steps=20)
    rates = _rates(config, 100, [0, 10, 20, 25])
    np.testing.assert_allclose(rates, [0.1, 0.0505, 0.001, 0.001], rtol=1e-5)


def test_fixed_and_warmup():
    fixed = TrainConfig(learning_rate=0.2, learning_rate_decay_type="fixed", batch_size=10)
    np.testing.assert_allclose(_rates(fixed, 100, [0, 1000]), [0.2, 0.2], rtol=1e-6)
    # slim master: lr = min(lr * step / (warmup_epochs * steps_per_epoch), decayed lr).
    warm = fixed.replace(warmup_epochs=2.0)  # 10 steps per epoch → 20 warmup steps
    np.testing.assert_allclose(_rates(warm, 100, [0, 5, 10, 20, 40]),
                               [0.0, 0.05, 0.1, 0.2, 0.2], rtol=1e-6)


def test_schedule_round_trips_through_keras_config():
    config = TrainConfig(learning_rate_decay_type="polynomial", batch_size=8)
    schedule = optim.learning_rate_schedule(config, 64)
    again = optim.SlimLearningRate.from_config(schedule.get_config())
    assert float(again(5)) == pytest.approx(float(schedule(5)))
