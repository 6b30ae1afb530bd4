"""train_lib.train end to end on real digits: checkpoints, progress, summaries, EMA, export.

One shared run (module fixture) with most options on; the tests read what it left.
"""
import contextlib
import glob
import io
import os

import numpy as np
import pytest
import tensorflow as tf

from tests.trainer import helpers
from trainer.training import data, train_lib
from trainer.export import saved_model as export
from trainer import nets
from trainer.config import TrainConfig
from trainer.preprocessing.image_ops import preprocess_encoded_batch
from serving import signatures

STEPS = 24


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory):
    return helpers.digits_dataset_dir(tmp_path_factory, train_limit=240, test_limit=60)


def base_config(train_dir: str, **changes) -> TrainConfig:
    return TrainConfig(model_name="lenet", image_channels=1, batch_size=16, optimizer="momentum",
                       learning_rate=0.02, learning_rate_decay_factor=0.5, num_epochs_per_decay=1.0,
                       weight_decay=0.0005, train_dir=train_dir, seed=3,
                       **changes)


@pytest.fixture(scope="module")
def run(dataset_dir, tmp_path_factory):
    split = data.dataset_split(dataset_dir, "digits", "train")
    config = base_config(str(tmp_path_factory.mktemp("train")), max_number_of_steps=STEPS,
                         moving_average_decay=0.9, save_interval_steps=10, log_every_n_steps=5,
                         label_smoothing=0.1)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = train_lib.train(config, split.files, split.num_classes,
                                 eval_files=data.find_split_files(dataset_dir, "digits", "validation"))
    return config, result, out.getvalue()


def test_steps_history_and_eval(run):
    config, result, _ = run
    assert result.steps == STEPS
    assert set(result.history) >= {"total_loss", "loss", "regularization_loss", "accuracy",
                                   "learning_rate", "eval_accuracy", "eval_recall_5"}
    assert result.history["regularization_loss"][-1] > 0


def test_eval_measures_the_returned_net(run, dataset_dir):
    _, result, _ = run
    eval_ds = data.make_dataset(data.find_split_files(dataset_dir, "digits", "validation"),
                                result.image_spec, 16, is_training=False)
    correct = total = 0
    for images, labels in eval_ds:
        predicted = np.argmax(result.net(images, training=False)[0].numpy(), axis=-1)
        correct += int(np.sum(predicted == labels.numpy()))
        total += len(labels)
    assert total == 60
    assert result.history["eval_accuracy"] == pytest.approx(correct / total, abs=1e-6)


def test_checkpoints_every_save_interval_steps_and_at_the_end(run):
    config, _, _ = run
    steps = sorted(int(p.split("-")[-1].split(".")[0])
                   for p in glob.glob(os.path.join(config.train_dir, "model.ckpt-*.index")))
    assert steps == [10, 20, STEPS]


def test_progress_lines_every_n_steps(run):
    _, _, out = run
    logged = [int(line.split()[2].split("/")[0]) for line in out.splitlines()
              if line.startswith("global step ")]
    assert logged == [5, 10, 15, 20, STEPS]
    line = [text for text in out.splitlines() if text.startswith(f"global step {STEPS}/{STEPS}")][0]
    for part in ("(100%)", "loss = ", "accuracy = ", "lr = ", "sec/step", "images/s", "ETA"):
        assert part in line


def _events(train_dir):
    scalars, images = {}, set()
    for path in glob.glob(os.path.join(train_dir, "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                tensor = tf.make_ndarray(value.tensor) if value.HasField("tensor") else None
                if value.metadata.plugin_data.plugin_name == "images":
                    images.add(value.tag)
                elif tensor is not None:
                    scalars.setdefault(value.tag, {})[event.step] = float(tensor)
    return scalars, images


def test_tensorboard_summaries(run):
    config, result, _ = run
    scalars, images = _events(config.train_dir)
    for tag in ("total_loss", "losses/cross_entropy", "regularization_loss", "learning_rate",
                "accuracy", "global_step/sec"):
        assert tag in scalars, sorted(scalars)
    assert images == {"input_images"}
    # First step and last step are written; the rate is the one the last step used.
    assert {1, STEPS} <= set(scalars["total_loss"])
    schedule = result.classifier.learning_rate_fn
    assert scalars["learning_rate"][STEPS] == pytest.approx(float(schedule(STEPS - 1)))
    assert scalars["learning_rate"][STEPS] < config.learning_rate  # 240 images / 16 = 15 steps per decay


def test_ema_weights_differ_from_raw_and_are_the_results(run):
    config, result, _ = run
    reader = tf.train.load_checkpoint(config.train_dir)
    key = "LeNet.Sfc4.Sweights/.ATTRIBUTES/VARIABLE_VALUE"
    raw = reader.get_tensor("slim_names/by_name/" + key)
    shadow = reader.get_tensor("ema/shadows/" + key)
    assert np.abs(raw - shadow).max() > 1e-4
    np.testing.assert_array_equal(result.net.slim_variables()["LeNet/fc4/weights"].numpy(), shadow)
    np.testing.assert_array_equal(result.classifier.net.slim_variables()["LeNet/fc4/weights"].numpy(),
                                  shadow)


def test_exported_model_serves_the_ema_weights(run, tmp_path):
    config, result, _ = run
    images, _ = helpers.digits()
    pngs = [helpers.encode_png(im) for im in images[:8]]
    loaded = tf.saved_model.load(export.export_saved_model(
        result.net, result.image_spec, [str(i) for i in range(10)], str(tmp_path / "model")))
    served = loaded.signatures[signatures.SERVING_DEFAULT](image_bytes=tf.constant(pngs))["scores"].numpy()
    inputs = preprocess_encoded_batch(tf.constant(pngs), result.image_spec)
    ema_scores = tf.nn.softmax(result.net(inputs, training=False)[0]).numpy()
    np.testing.assert_allclose(served, ema_scores, atol=1e-5)
    raw_net = nets.create_model("lenet", num_classes=10)
    raw_net.ensure_built(28, 1)
    reader = tf.train.load_checkpoint(config.train_dir)
    for name, var in raw_net.slim_variables().items():
        var.assign(reader.get_tensor(f"slim_names/by_name/{name.replace('/', '.S')}"
                                     "/.ATTRIBUTES/VARIABLE_VALUE"))
    raw_scores = tf.nn.softmax(raw_net(inputs, training=False)[0]).numpy()
    assert np.abs(raw_scores - served).max() > 1e-4


def test_result_net_is_plain_float32_inference_copy(run):
    _, result, _ = run
    assert result.net.is_training is False
    assert all(v.dtype == tf.float32 for v in result.net.variables)
    assert result.net is not result.classifier.net


def test_rerun_with_more_steps_resumes_and_ignores_checkpoint_path(run, dataset_dir, capsys):
    config, _, _ = run
    split = data.dataset_split(dataset_dir, "digits", "train")
    more = config.replace(max_number_of_steps=STEPS + 2, checkpoint_path="/nonexistent/ckpt")
    result = train_lib.train(more, split.files, split.num_classes)
    out = capsys.readouterr().out
    assert f"Resuming from {os.path.join(config.train_dir, f'model.ckpt-{STEPS}')}" in out
    assert result.steps == STEPS + 2 and result.restore_report is None
    assert f"global step {STEPS + 2}/{STEPS + 2}" in out


def test_train_dir_of_another_model_is_an_error(run, dataset_dir):
    config, _, _ = run
    split = data.dataset_split(dataset_dir, "digits", "train")
    with pytest.raises(ValueError, match="another model or class count"):
        train_lib.train(config.replace(max_number_of_steps=STEPS + 5), split.files, 7)
