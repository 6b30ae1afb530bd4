"""slim's troubleshooting case, a loss that goes NaN/Inf: lenet at a learning rate of 1e6 stops
at that step with one message, keeps the last good checkpoint, and fails the Trainer's run_fn."""
import os
import re

import numpy as np
import pytest
import tensorflow as tf

from tests.cli.test_train_cli import tfslim_train, write_five_classes

# SGD at 1e6 overflows lenet's weights within a few steps (slim's default rmsprop, whose
# epsilon of 1.0 damps the step, stays finite but huge for the first ~20 steps).
DIVERGING = {"learning_rate": 1e6, "optimizer": "sgd", "learning_rate_decay_type": "fixed"}
MESSAGE = re.compile(r"Training stopped: the loss became (nan|inf|-inf) at step (\d+) \(last finite "
                     r"loss \S+ at step (\d+)\)\. Last good checkpoint kept: (\S+)\. Likely causes: "
                     r"a learning rate too high \(--learning_rate=1e\+06\)")


def _check_kept_checkpoint(train_dir: str, stopped_at: int, kept: str) -> None:
    """Nothing was saved from the non-finite step on, and what is kept holds finite weights."""
    assert kept == tf.train.latest_checkpoint(train_dir)
    steps = sorted(int(p.rsplit("-", 1)[1].split(".")[0])
                   for p in tf.io.gfile.glob(os.path.join(train_dir, "model.ckpt-*.index")))
    assert steps and max(steps) < stopped_at, (steps, stopped_at)
    reader = tf.train.load_checkpoint(kept)
    for key in reader.get_variable_to_shape_map():
        value = reader.get_tensor(key)
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            assert np.isfinite(value).all(), key


def test_cli_stops_at_the_non_finite_step_with_one_message(tmp_path):
    dataset_dir = write_five_classes(tmp_path / "data", per_split=(40, 8))
    train_dir = str(tmp_path / "train")
    out = tfslim_train(f"--train_dir={train_dir}", f"--dataset_dir={dataset_dir}",
                       "--dataset_name=mydigits", "--model_name=lenet", "--use_grayscale",
                       "--max_number_of_steps=30", "--batch_size=8", "--save_interval_steps=1",
                       "--log_every_n_steps=1",
                       *[f"--{key}={value}" for key, value in DIVERGING.items()])
    assert out.returncode == 1, out.stdout[-2000:] + out.stderr[-2000:]
    assert "Traceback" not in out.stderr
    (line,) = [text for text in out.stderr.splitlines() if "Training stopped" in text]
    assert line.startswith("tfslim train: ")
    match = MESSAGE.search(line)
    assert match, line
    stopped_at, last_finite = int(match.group(2)), int(match.group(3))
    assert last_finite == stopped_at - 1
    assert f"global step {stopped_at + 1}/" not in out.stdout  # stopped at that step
    _check_kept_checkpoint(train_dir, stopped_at, match.group(4))


def test_run_fn_fails_the_trainer_with_the_message(tmp_path):
    """The TFX Trainer runs this run_fn; its exception (and message) is the component's failure."""
    from tfx.components.trainer.fn_args_utils import FnArgs

    from pipeline import run_config
    from tests.pipeline import helpers
    from trainer.run_fn import TRAIN_CONFIG_KEY, run_fn
    from trainer.training.train_lib import NonFiniteLossError

    examples = helpers.write_examples_artifact(str(tmp_path / "examples"), train=48, eval_=8)
    train = run_config.load("demo", check_net=False).train.replace(batch_size=8, save_interval_steps=1, **DIVERGING)
    fn_args = FnArgs(
        train_files=[os.path.join(examples, "Split-train", "*")],
        eval_files=[os.path.join(examples, "Split-eval", "*")], train_steps=30, eval_steps=None,
        transform_output=str(tmp_path / "transform"), serving_model_dir=str(tmp_path / "serving"),
        model_run_dir=str(tmp_path / "model_run"), custom_config={TRAIN_CONFIG_KEY: train.to_dict()})
    with pytest.raises(NonFiniteLossError) as failure:
        run_fn(fn_args)
    match = MESSAGE.search(str(failure.value))
    assert match, str(failure.value)
    _check_kept_checkpoint(os.path.join(fn_args.model_run_dir, "train"), int(match.group(2)),
                           match.group(4))
    assert not os.path.exists(fn_args.serving_model_dir)
