"""Checkpoint restore for inference (project + EMA, slim), the eval metrics, and `tfslim eval`'s loop."""
import glob
import os
import re
import shutil

import numpy as np
import pytest
import tensorflow as tf

from tests.pipeline import helpers
from tests.serving.cli import start_tfslim
from pipeline import run_config
from trainer.training import eval_lib, finetune, train_lib
from trainer.export import model_io
from trainer import nets


def _lenet():
    net = nets.create_model("lenet", num_classes=10)
    net.ensure_built(28, 1)
    return net


@pytest.fixture(scope="module")
def ema_checkpoint(examples_uri, tmp_path_factory):
    """A real train_dir (train_lib, 3 steps, EMA): (dir, raw weights, EMA weights) by slim name."""
    train_dir = str(tmp_path_factory.mktemp("train"))
    demo = run_config.load("demo", check_net=False).train
    config = demo.replace(max_number_of_steps=3, moving_average_decay=0.5, learning_rate=0.05,
                          train_dir=train_dir, log_every_n_steps=1, batch_size=8)
    result = train_lib.train(config, [os.path.join(examples_uri, "Split-train", "*")], 10)
    path = tf.train.latest_checkpoint(train_dir)
    reader, keys = tf.train.load_checkpoint(path), finetune.slim_tensor_keys(path)
    raw = {name: reader.get_tensor(keys[name]) for name in result.net.slim_variables()}
    ema = {name: var.numpy() for name, var in result.net.slim_variables().items()}
    return train_dir, raw, ema


def _assert_weights(net, expected):
    for name, var in net.slim_variables().items():
        np.testing.assert_allclose(var.numpy(), expected[name], rtol=1e-5, atol=1e-7, err_msg=name)


def test_project_checkpoint_restores_weights_or_moving_averages(ema_checkpoint):
    train_dir, raw, ema = ema_checkpoint
    net = _lenet()
    path = model_io.restore_for_inference(net, train_dir)
    assert path.endswith("model.ckpt-3") and model_io.checkpoint_step(path) == 3
    assert finetune.is_object_checkpoint(path)
    _assert_weights(net, raw)
    net = _lenet()
    model_io.restore_for_inference(net, train_dir, use_moving_averages=True)
    _assert_weights(net, ema)
    assert not np.allclose(ema["LeNet/fc4/weights"], raw["LeNet/fc4/weights"])  # they really differ


def test_slim_checkpoint_and_missing_moving_averages(tmp_path):
    source = _lenet()
    prefix = nets.save_slim_checkpoint(source, str(tmp_path / "lenet.ckpt"))
    assert not finetune.is_object_checkpoint(prefix)
    net = _lenet()
    model_io.restore_for_inference(net, prefix)
    np.testing.assert_array_equal(net.trainable_variables[0].numpy(), source.trainable_variables[0].numpy())
    with pytest.raises(ValueError, match="holds no moving averages"):
        model_io.restore_for_inference(_lenet(), prefix, use_moving_averages=True)


def test_saved_model_and_checkpoint_paths_give_the_same_metrics(lenet_model_dir, examples_uri, tmp_path):
    pattern = [os.path.join(examples_uri, "Split-eval", "*")]
    by_saved_model = eval_lib.evaluate_saved_model(lenet_model_dir, pattern, batch_size=10)
    # The fixture's net, rebuilt from its own variables through a slim checkpoint.
    loaded = tf.saved_model.load(lenet_model_dir)
    net = _lenet()
    for var in net.variables:
        (match,) = [v for v in loaded.net_variables if v.name == var.name]
        var.assign(match)
    by_net = eval_lib.evaluate_net(net, helpers.LENET_GRAY, pattern, batch_size=7)
    assert by_saved_model.num_examples == by_net.num_examples == 24
    assert by_saved_model.accuracy == pytest.approx(by_net.accuracy)
    assert by_saved_model.recall_5 == pytest.approx(by_net.recall_5)
    assert by_saved_model.recall_5 >= by_saved_model.accuracy
    limited = eval_lib.evaluate_saved_model(lenet_model_dir, pattern, batch_size=10, max_num_batches=2)
    assert limited.num_examples == 20


def test_saved_model_eval_skips_and_counts_an_undecodable_record(lenet_model_dir, examples_uri, tmp_path):
    """As the Evaluator does (eval_examples, weight 0): same numbers as without the record."""
    clean = eval_lib.evaluate_saved_model(lenet_model_dir, [os.path.join(examples_uri, "Split-eval", "*")],
                                          batch_size=10)
    with_bad = helpers.write_examples_artifact(str(tmp_path / "examples"), train=40, eval_=24)
    helpers.add_undecodable_eval_record(with_bad, position=5)
    result = eval_lib.evaluate_saved_model(lenet_model_dir, [os.path.join(with_bad, "Split-eval", "*")],
                                           batch_size=10)
    assert (result.num_examples, result.skipped, clean.skipped) == (24, 1, 0)
    assert (result.accuracy, result.recall_5) == (clean.accuracy, clean.recall_5)
    assert "on 24 examples, 1 undecodable skipped" in result.summary()


def _write_later_checkpoint(train_dir: str, ema, step: int) -> str:
    """A checkpoint at ``step`` (slim names + EMA shadows), made the directory's latest."""
    net = _lenet()
    for name, var in net.slim_variables().items():
        var.assign(ema[name])
    extra = {"global_step": tf.constant(step, tf.int64)}
    extra.update({f"{name}/ExponentialMovingAverage": value for name, value in ema.items()})
    prefix = nets.save_slim_checkpoint(net, os.path.join(train_dir, f"model.ckpt-{step}"), extra=extra)
    tf.compat.v1.train.update_checkpoint_state(train_dir, prefix)
    return prefix


def test_eval_cli_loop_evaluates_a_checkpoint_that_arrives_while_it_waits(ema_checkpoint, examples_uri,
                                                                          tmp_path):
    source_dir, _, ema = ema_checkpoint
    train_dir = str(tmp_path / "train")
    shutil.copytree(source_dir, train_dir)  # the module's fixture stays as it was
    eval_dir = str(tmp_path / "eval")
    stderr_file = open(tmp_path / "stderr.txt", "w+", encoding="utf-8")  # pylint: disable=consider-using-with
    process = start_tfslim("eval", f"--checkpoint_path={train_dir}", "--model_name=lenet", "--use_grayscale",
                           f"--dataset_dir={examples_uri}", "--dataset_split_name=eval", "--batch_size=8",
                           f"--eval_dir={eval_dir}", "--eval_interval_secs=1", "--timeout=15",
                           "--moving_average_decay=0.5", stderr=stderr_file)
    try:
        seen = []
        for line in process.stdout:  # blocks until the loop has reported step 3
            seen.append(line)
            if "@ step 3)" in line:
                break
        assert any("@ step 3)" in line for line in seen), "".join(seen)
        assert process.poll() is None, "the loop stopped before a new checkpoint could arrive"
        _write_later_checkpoint(train_dir, ema, step=7)
        stdout, _ = process.communicate(timeout=240)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        stderr_file.seek(0)
        stderr = stderr_file.read()
        stderr_file.close()
    stdout = "".join(seen) + stdout
    assert process.returncode == 0, stderr[-2000:]
    assert "eval/Accuracy[" in stdout and "eval/Recall_5[" in stdout
    assert "on 24 examples" in stdout and "@ step 7)" in stdout
    assert "evaluated 2." in stderr
    # A progress bar on stderr (no summary.json here: it counts up).
    assert re.search(r"eval: [^\r\n]*\b24(img|/24)", stderr), stderr[-2000:]
    tags = set()
    for path in glob.glob(os.path.join(eval_dir, "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            tags |= {(v.tag, event.step) for v in event.summary.value}
    assert {("eval/Accuracy", 3), ("eval/Recall_5", 3), ("eval/Accuracy", 7), ("eval/Recall_5", 7)} <= tags


def test_progress_bar_total_is_the_split_capped_by_max_num_batches():
    assert eval_lib.progress_bar(False, 50, 8, 2).total == 16
    assert eval_lib.progress_bar(False, 10, 8, 5).total == 10
    assert eval_lib.progress_bar(False, 50, 8, None).total == 50
    assert eval_lib.progress_bar(False, None, 8, None).total is None
