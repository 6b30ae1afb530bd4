"""Speed options, labels_offset, dataset discovery and the seconds-based cadences."""
import json
import os

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from tests.trainer import helpers
from trainer.training import callbacks as cb
from trainer.training import data, train_lib
from trainer import nets
from trainer.config import TrainConfig


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory):
    return helpers.digits_dataset_dir(tmp_path_factory, train_limit=96, test_limit=10)


@pytest.fixture(scope="module")
def split(dataset_dir):
    return data.dataset_split(dataset_dir, "digits", "train")


@pytest.fixture(scope="module")
def init_ckpt(tmp_path_factory):
    net = nets.create_model("lenet", num_classes=10)
    net.ensure_built(28, 1)
    return nets.save_slim_checkpoint(net, str(tmp_path_factory.mktemp("init") / "lenet.ckpt"))


def config_for(train_dir, **changes) -> TrainConfig:
    return TrainConfig(model_name="lenet", image_channels=1, batch_size=8, optimizer="adam",
                       learning_rate=0.001, opt_epsilon=1e-8, learning_rate_decay_type="fixed",
                       weight_decay=0.0, train_dir=str(train_dir), log_every_n_steps=100, seed=7,
                       dropout_keep_prob=1.0, **changes)


def test_mixed_bfloat16_computes_in_bfloat16_and_exports_float32(split, tmp_path):
    config = config_for(tmp_path, max_number_of_steps=3, mixed_precision="mixed_bfloat16")
    result = train_lib.train(config, split.files, 10)
    trained = result.classifier.net
    assert trained.fc4.compute_dtype == "bfloat16" and trained.fc4.variable_dtype == "float32"
    logits, _ = trained(tf.zeros([1, 28, 28, 1]), training=False)
    assert logits.dtype == tf.bfloat16
    assert np.isfinite(result.history["total_loss"][-1])
    # The export copy computes in float32; the process-wide policy is restored.
    assert result.net(tf.zeros([1, 28, 28, 1]), training=False)[0].dtype == tf.float32
    assert tf_keras.mixed_precision.global_policy().name == "float32"


def test_mixed_float16_uses_loss_scaling(split, tmp_path):
    config = config_for(tmp_path, max_number_of_steps=2, mixed_precision="mixed_float16")
    result = train_lib.train(config, split.files, 10)
    assert isinstance(result.classifier.optimizer, tf_keras.mixed_precision.LossScaleOptimizer)
    assert result.classifier.net.conv1.compute_dtype == "float16"
    assert result.steps == 2


def test_jit_compile_matches_the_uncompiled_step(split, init_ckpt, tmp_path):
    weights = {}
    for jit in (False, True):
        # SGD: the update is linear in the gradient, so float reassociation under XLA stays tiny
        # (Adam's first steps divide by ~|g| and magnify it).
        config = config_for(tmp_path / str(jit), max_number_of_steps=3, checkpoint_path=init_ckpt,
                            jit_compile=jit).replace(optimizer="sgd", learning_rate=0.01)
        result = train_lib.train(config, split.files, 10)
        # Keras turns the flag off when XLA is unavailable; it stayed on, so the step ran in XLA.
        assert result.classifier.jit_compile is jit
        weights[jit] = result.net.slim_variables()["LeNet/fc3/weights"].numpy()
    start = tf.train.load_checkpoint(init_ckpt).get_tensor("LeNet/fc3/weights")
    assert np.abs(weights[False] - start).max() > 1e-5
    np.testing.assert_allclose(weights[True], weights[False], atol=1e-5)


def test_labels_offset_shifts_stored_labels(tmp_path):
    images, labels = helpers.digits()
    names = {0: "background", **{i + 1: str(i) for i in range(10)}}
    helpers.write_split(str(tmp_path), "shifted", "train", images[:20], labels[:20],
                        class_names=names, label_shift=1)
    split = data.dataset_split(str(tmp_path), "shifted", "train")
    assert split.num_classes == 11 and split.num_samples == 20
    spec = train_lib.image_spec_for(TrainConfig(model_name="lenet", image_channels=1))
    ds = data.make_dataset(split.files, spec, 20, is_training=False, labels_offset=1)
    _, got = next(iter(ds))
    assert sorted(got.numpy().tolist()) == sorted(labels[:20].tolist())


def test_missing_split_names_what_was_tried(dataset_dir):
    with pytest.raises(FileNotFoundError, match="split name test was not recognized") as err:
        data.find_split_files(dataset_dir, "digits", "test")
    assert "digits_test-*" in str(err.value) and "tfslim convert" in str(err.value)


def test_split_size_and_classes_come_from_the_files(tmp_path):
    images, labels = helpers.digits()
    helpers.write_split(str(tmp_path), "d", "train", images[:12], labels[:12])
    os.remove(tmp_path / "labels.txt")
    split = data.dataset_split(str(tmp_path), "d", "train")
    assert split.num_samples == 12 and split.num_classes == int(labels[:12].max()) + 1
    # The converter's summary wins over counting (it is what `tfslim convert` wrote).
    (tmp_path / "d_summary.json").write_text(json.dumps({"splits": {"train": {"count": 99}}}))
    assert data.dataset_split(str(tmp_path), "d", "train").num_samples == 99


class _FakeManager:
    def __init__(self):
        self.saved = []

    def save(self, checkpoint_number):
        self.saved.append(checkpoint_number)


class _FakeOptimizer:
    iterations = tf.Variable(0, dtype=tf.int64)


def test_save_interval_secs(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(cb.time, "monotonic", lambda: clock[0])
    manager = _FakeManager()
    saver = cb.CheckpointSaver(manager, _FakeOptimizer(), every_secs=60)
    saver.on_train_begin()
    for batch, now in enumerate([110, 150, 161, 170, 230]):
        clock[0] = now
        saver.on_train_batch_end(batch)
    assert manager.saved == [3, 5]  # due at 160 s (step 3) and 60 s after that (step 5)


def test_save_summaries_secs(monkeypatch, tmp_path):
    clock = [0.0]
    monkeypatch.setattr(cb.time, "monotonic", lambda: clock[0])
    writer = cb.SummaryWriter(str(tmp_path), _FakeOptimizer(), every_secs=30, total_steps=10)
    writer.on_train_begin()
    for batch in range(10):
        clock[0] = 10.0 * (batch + 1)
        writer.on_train_batch_end(batch, {"total_loss": float(batch)})
    writer.on_train_end()
    steps = [e.step for p in tf.io.gfile.glob(str(tmp_path / "events.*"))
             for e in tf.compat.v1.train.summary_iterator(p)
             if any(v.tag == "total_loss" for v in e.summary.value)]
    assert steps == [3, 6, 9, 10]  # every 30 s, plus the last step


def test_config_round_trip_and_validation():
    config = TrainConfig(model_name="lenet", max_number_of_steps=5,
                         checkpoint_exclude_scopes=("A/Logits",))
    again = TrainConfig.from_dict(config.to_dict())
    assert again == config
    assert TrainConfig.from_dict({"trainable_scopes": "A/Logits, A/AuxLogits"}).trainable_scopes \
        == ("A/Logits", "A/AuxLogits")
    with pytest.raises(ValueError, match="Unknown training option"):
        TrainConfig.from_dict({"num_epochs": 3})
    for bad, match in [({"optimizer": "lamb"}, "optimizer"),  # the model's Literal types
                       ({"max_number_of_steps": None}, "max_number_of_steps"),
                       ({"moving_average_decay": 1.5}, "moving_average_decay"),
                       ({"strategy": "tpu"}, "strategy")]:
        with pytest.raises(ValueError, match=match):
            config.replace(**bad).validate()


@pytest.mark.parametrize("tf_config,chief,scratch", [
    (None, True, False),
    ({"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 0}}, True, False),
    ({"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 1}}, False, True),
    ({"cluster": {"chief": ["a:1"], "worker": ["b:2"]}, "task": {"type": "worker", "index": 0}},
     False, True),
    ({"cluster": {"chief": ["a:1"], "worker": ["b:2"]}, "task": {"type": "chief", "index": 0}},
     True, False),
])
def test_chief_rules(monkeypatch, tf_config, chief, scratch):
    from trainer.training import distribute
    if tf_config is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", json.dumps(tf_config))
    assert distribute.is_chief() is chief
    assert ("workertemp_" in distribute.worker_dir("/runs/x")) is scratch


class _Resolver:
    def __init__(self, cluster, task_type, task_id):
        self.cluster, self.task_type, self.task_id = cluster, task_type, task_id

    def cluster_spec(self):
        return tf.train.ClusterSpec(self.cluster)


class _Strategy:
    def __init__(self, cluster, task_type, task_id):
        self.cluster_resolver = _Resolver(cluster, task_type, task_id)


@pytest.mark.parametrize("cluster,task,files,shard", [
    ({"worker": ["a:1", "b:2"]}, ("worker", 1), 4, (2, 1)),
    ({"chief": ["a:1"], "worker": ["b:2", "c:3"]}, ("worker", 0), 3, (3, 1)),
    ({"chief": ["a:1"], "worker": ["b:2"]}, ("chief", 0), 5, (2, 0)),
    ({"worker": ["a:1", "b:2"]}, ("worker", 0), 1, None),  # fewer files than workers: by data
])
def test_multi_worker_reads_its_own_files(cluster, task, files, shard):
    from trainer.training import distribute
    strategy = _Strategy(cluster, *task)
    assert distribute.input_shard(files, strategy) == shard
    ds = distribute.shard_inputs(tf.data.Dataset.range(4).ignore_errors(), files, strategy)
    policy = ds.options().experimental_distribute.auto_shard_policy
    # FILE/AUTO would fail on ignore_errors(): shards are explicit or by data.
    assert policy == (tf.data.experimental.AutoShardPolicy.OFF if shard
                      else tf.data.experimental.AutoShardPolicy.DATA)
