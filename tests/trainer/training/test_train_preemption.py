"""Preemption: SIGKILL a training process mid-run; the rerun resumes from the last checkpoint
with the step, the optimizer slots and the EMA shadows restored, losing at most one save interval."""
import os
import re
import signal
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests.trainer import helpers
from trainer.training import data, train_lib
from trainer.config import TrainConfig

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
TFSLIM = os.path.join(os.path.dirname(sys.executable), "tfslim")
INTERVAL = 5
KILL_AFTER = 12
pytestmark = pytest.mark.slow


def config_for(dataset_dir, train_dir, steps) -> TrainConfig:
    # The same options as the CLI call below.
    return TrainConfig(model_name="lenet", image_channels=1, batch_size=8, optimizer="rmsprop",
                       learning_rate=0.001, weight_decay=0.0004, moving_average_decay=0.99,
                       save_interval_steps=INTERVAL, log_every_n_steps=1, train_dir=str(train_dir),
                       max_number_of_steps=steps)


@pytest.fixture(scope="module")
def killed_run(tmp_path_factory):
    """Starts `tfslim train` for 100000 steps and SIGKILLs it after step KILL_AFTER is logged."""
    root = tmp_path_factory.mktemp("preempt")
    dataset_dir = str(root / "data")
    helpers.write_digits(dataset_dir, train_limit=120, test_limit=10)
    train_dir = root / "train"
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("TF_CONFIG", None)
    proc = subprocess.Popen(
        [TFSLIM, "train", f"--dataset_dir={dataset_dir}", "--dataset_name=digits",
         "--model_name=lenet", "--use_grayscale", f"--train_dir={train_dir}", "--batch_size=8",
         "--optimizer=rmsprop", "--learning_rate=0.001", "--weight_decay=0.0004",
         "--moving_average_decay=0.99", f"--save_interval_steps={INTERVAL}",
         "--log_every_n_steps=1", "--max_number_of_steps=100000"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    last_logged, lines = 0, []
    try:
        for line in proc.stdout:
            lines.append(line)
            match = re.match(r"global step (\d+)/", line)
            if match:
                last_logged = int(match.group(1))
                if last_logged >= KILL_AFTER:
                    proc.send_signal(signal.SIGKILL)
                    break
    finally:
        proc.kill()
        proc.wait(timeout=60)
    assert last_logged >= KILL_AFTER, "".join(lines)[-3000:]
    assert proc.returncode == -signal.SIGKILL
    return dataset_dir, train_dir, last_logged


def test_at_most_one_save_interval_is_lost(killed_run):
    _, train_dir, last_logged = killed_run
    saved = int(tf.train.latest_checkpoint(str(train_dir)).rsplit("-", 1)[1])
    assert saved % INTERVAL == 0
    assert last_logged - INTERVAL < saved  # at most one interval behind the last logged step


def test_restore_brings_back_step_slots_and_ema(killed_run):
    dataset_dir, train_dir, _ = killed_run
    latest = tf.train.latest_checkpoint(str(train_dir))
    saved = int(latest.rsplit("-", 1)[1])
    reader = tf.train.load_checkpoint(latest)
    config = config_for(dataset_dir, train_dir, saved + 3)
    spec = train_lib.image_spec_for(config)
    state = train_lib.create_state(config, 10, spec, 120, tf.distribute.get_strategy(),
                                   str(train_dir))
    train_lib.restore_or_initialize(state, config)
    assert state.step == saved
    # RMSProp slots: every optimizer variable equals its checkpointed value (not the fresh init).
    slot_keys = sorted((int(k.split("/")[2]), k) for k in reader.get_variable_to_shape_map()
                       if k.startswith("optimizer/_variables/"))
    assert len(slot_keys) == 16  # velocity + momentum for 8 weights
    for index, key in slot_keys:
        value = reader.get_tensor(key)
        np.testing.assert_array_equal(state.optimizer.variables[index].numpy(), value, err_msg=key)
    velocity = [state.optimizer.variables[i].numpy() for i, _ in slot_keys]
    assert any(np.abs(v - 1.0).max() > 1e-6 for v in velocity)  # moved away from the ones init
    # EMA shadows restored, and distinct from the raw weights.
    for name, shadow in state.moving_averages.shadows.items():
        key = f"ema/shadows/{name.replace('/', '.S')}/.ATTRIBUTES/VARIABLE_VALUE"
        np.testing.assert_array_equal(shadow.numpy(), reader.get_tensor(key), err_msg=name)
    raw = state.net.slim_variables()["LeNet/fc3/weights"].numpy()
    assert np.abs(state.moving_averages.shadows["LeNet/fc3/weights"].numpy() - raw).max() > 0


def test_rerun_resumes_and_finishes(killed_run, capsys):
    dataset_dir, train_dir, _ = killed_run
    latest = tf.train.latest_checkpoint(str(train_dir))
    saved = int(latest.rsplit("-", 1)[1])
    split = data.dataset_split(dataset_dir, "digits", "train")
    result = train_lib.train(config_for(dataset_dir, train_dir, saved + 3), split.files, 10)
    out = capsys.readouterr().out
    assert f"Resuming from {latest} at step {saved}" in out
    logged = [int(m) for m in re.findall(r"global step (\d+)/", out)]
    assert logged == [saved + 1, saved + 2, saved + 3]
    assert result.steps == saved + 3
    assert tf.train.latest_checkpoint(str(train_dir)).endswith(f"model.ckpt-{saved + 3}")
