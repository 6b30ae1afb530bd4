"""tf.distribute: 2 CPU replicas == 1 device with the same global batch; 2-worker training.

Each run is a `tfslim train` process: logical CPU devices and the multi-worker
runtime can only be configured before TensorFlow starts, which has long happened
inside the pytest process.
"""
import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests.trainer import helpers
from trainer import nets

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
TFSLIM = os.path.join(os.path.dirname(sys.executable), "tfslim")
pytestmark = pytest.mark.slow


def tfslim_train(args, env=None):
    full = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    full.update(TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2", **(env or {}))
    return subprocess.Popen([TFSLIM, "train"] + args, cwd=ROOT, env=full, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def finish(proc, timeout=420):
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out[-4000:]
    return out


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory):
    return helpers.digits_dataset_dir(tmp_path_factory, train_limit=200, test_limit=40)


@pytest.fixture(scope="module")
def init_ckpt(tmp_path_factory):
    net = nets.create_model("lenet", num_classes=10)
    net.ensure_built(28, 1)
    return nets.save_slim_checkpoint(net, str(tmp_path_factory.mktemp("init") / "lenet.ckpt"))


def common_args(dataset_dir, train_dir, steps):
    return [f"--dataset_dir={dataset_dir}", "--dataset_name=digits", "--model_name=lenet",
            "--use_grayscale", f"--train_dir={train_dir}", "--batch_size=16",
            f"--max_number_of_steps={steps}", "--optimizer=momentum", "--learning_rate=0.002",
            "--learning_rate_decay_type=fixed", "--weight_decay=0.0004", "--seed=11",
            "--dropout_keep_prob=1.0", "--log_every_n_steps=1"]


def raw_weights(train_dir):
    reader = tf.train.load_checkpoint(train_dir)
    return {k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map()
            if k.startswith("slim_names/")}


def test_two_cpu_replicas_match_one_device(dataset_dir, init_ckpt, tmp_path):
    runs = {"one": ["--strategy=one_device"],
            "two": ["--strategy=mirrored", "--num_clones=2", "--clone_on_cpu"]}
    procs = {name: tfslim_train(common_args(dataset_dir, tmp_path / name, 6) + extra
                                + [f"--checkpoint_path={init_ckpt}"])
             for name, extra in runs.items()}
    outs = {name: finish(proc) for name, proc in procs.items()}
    assert "on 2 replica(s)" in outs["two"] and "on 1 replica(s)" in outs["one"]
    one, two = raw_weights(tmp_path / "one"), raw_weights(tmp_path / "two")
    start = tf.train.load_checkpoint(init_ckpt)
    assert len(one) == 8 and one.keys() == two.keys()
    # Compare what training changed: a replica-scaling bug would make the two updates differ
    # by 2x (relative error 0.5 or more). Summation order across replicas differs in the last
    # bits, and over six steps that can flip a ReLU near zero and move a single weight by ~1%,
    # so the bar is on the whole tensor's relative error, not on every element.
    for key in one:
        name = key.split("/")[2].replace(".S", "/")
        step_one = one[key] - start.get_tensor(name)
        step_two = two[key] - start.get_tensor(name)
        size = np.linalg.norm(step_one)
        assert size > 1e-5, name
        assert np.linalg.norm(step_two - step_one) <= 1e-2 * size, name


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_multi_worker_trains_and_only_the_chief_exports(dataset_dir, tmp_path):
    workers = [f"127.0.0.1:{p}" for p in _free_ports(2)]
    train_dir, export_dir = tmp_path / "train", tmp_path / "export"
    procs = []
    for index in range(2):
        tf_config = json.dumps({"cluster": {"worker": workers},
                                "task": {"type": "worker", "index": index}})
        procs.append(tfslim_train(
            common_args(dataset_dir, train_dir, 6)
            + ["--strategy=multi_worker", "--worker_replicas=2", "--save_interval_steps=3",
               "--moving_average_decay=0.9", f"--export_dir={export_dir}",
               "--eval_split_name=validation"],
            env={"TF_CONFIG": tf_config}))
    chief, other = [finish(p) for p in procs]
    assert "on 2 replica(s)" in chief and "global step 6/6" in chief
    assert "[worker 1] global step 6/6" in other
    assert "Exported the serving SavedModel" in chief and "Not the chief" in other
    assert (export_dir / "saved_model.pb").exists() and (export_dir / "assets.extra").exists()
    # The chief keeps the checkpoints; the other worker's scratch copies are gone.
    assert tf.train.latest_checkpoint(str(train_dir)).endswith("model.ckpt-6")
    assert (train_dir / "model.ckpt-3.index").exists()
    assert not any(p.name.startswith("workertemp") for p in train_dir.iterdir())
    loaded = tf.saved_model.load(str(export_dir))
    images, _ = helpers.digits()
    out = loaded.signatures["serving_default"](
        image_bytes=tf.constant([helpers.encode_png(images[0])]))
    assert out["scores"].shape == (1, 10)
