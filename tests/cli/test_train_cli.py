"""`tfslim train` with slim's flag names: the seed's fine-tuning command shape on local paths."""
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests.trainer import helpers
from trainer import nets

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TFSLIM = os.path.join(os.path.dirname(sys.executable), "tfslim")
CLASSES = {0: "zero", 1: "one", 2: "two", 3: "three", 4: "four"}


def tfslim_train(*args, timeout=420):
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    env.update(TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run([TFSLIM, "train", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def write_five_classes(root, size=None, channels=1, per_split=(60, 20)):
    images, labels = helpers.digits(size, channels)
    keep = np.flatnonzero(labels < 5)
    train, test = keep[:per_split[0]], keep[per_split[0]:sum(per_split)]
    helpers.write_split(str(root), "mydigits", "train", images[train], labels[train], CLASSES)
    helpers.write_split(str(root), "mydigits", "validation", images[test], labels[test], CLASSES)
    return str(root)


def checkpoint_values(path, names):
    reader = tf.train.load_checkpoint(path)
    keys = {k.split("/.ATTRIBUTES")[0].replace("slim_names/by_name/", "").replace(".S", "/"): k
            for k in reader.get_variable_to_shape_map()}
    return {n: reader.get_tensor(keys[n]) for n in names}


def test_fine_tune_command_shape_with_lenet(tmp_path):
    dataset_dir = write_five_classes(tmp_path / "data")
    net = nets.create_model("lenet", num_classes=10)
    net.ensure_built(28, 1)
    ckpt = nets.save_slim_checkpoint(net, str(tmp_path / "ckpt" / "lenet.ckpt"))
    train_dir, export_dir = tmp_path / "train", tmp_path / "export"
    out = tfslim_train(
        f"--train_dir={train_dir}", f"--dataset_dir={dataset_dir}", "--dataset_name=mydigits",
        "--dataset_split_name=train", "--model_name=lenet", "--use_grayscale",
        f"--checkpoint_path={ckpt}", "--checkpoint_exclude_scopes=LeNet/fc4",
        "--trainable_scopes=LeNet/fc4", "--max_number_of_steps=4", "--batch_size=8",
        "--learning_rate=0.01", "--optimizer=rmsprop", "--log_every_n_steps=2",
        f"--export_dir={export_dir}", "--eval_split_name=validation")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "mydigits/train: 60 images in 2 file(s), 5 classes" in out.stdout
    assert "restored 6, excluded 2, missing 0" in out.stdout
    assert "global step 4/4 (100%)" in out.stdout and "Eval: {" in out.stdout
    frozen = ["LeNet/conv1/weights", "LeNet/conv2/biases", "LeNet/fc3/weights"]
    after = checkpoint_values(tf.train.latest_checkpoint(str(train_dir)), frozen + ["LeNet/fc4/weights"])
    before = checkpoint_values(ckpt, frozen)
    for name in frozen:
        np.testing.assert_array_equal(after[name], before[name], err_msg=name)
    assert after["LeNet/fc4/weights"].shape == (1024, 5)
    with open(export_dir / "assets.extra" / "labels.txt") as f:
        assert f.read().splitlines() == [f"{k}:{v}" for k, v in CLASSES.items()]
    serve = tf.saved_model.load(str(export_dir)).signatures["serving_default"]
    images, _ = helpers.digits()
    labels = serve(image_bytes=tf.constant([helpers.encode_png(images[0])]))["labels"].numpy()
    assert labels[0].decode() in CLASSES.values()


@pytest.mark.parametrize("flag,message", [
    ("--num_ps_tasks=2", "parameter servers are not supported"),
    ("--quantize_delay=100", "quantization-aware training"),
    ("--sync_replicas", "SyncReplicasOptimizer does not exist in TF2"),
    ("--replicas_to_aggregate=4", "all-reduce aggregates every replica"),
    ("--master=grpc://10.0.0.1:2222", "TF2 has no session master"),
    ("--task=1", "task index comes from TF_CONFIG"),
])
def test_unsupported_slim_flags_say_why(tmp_path, flag, message):
    out = tfslim_train(f"--dataset_dir={tmp_path}", "--max_number_of_steps=1", flag, timeout=120)
    assert out.returncode == 1 and message in out.stderr


def test_missing_max_steps_and_split(tmp_path):
    out = tfslim_train(f"--dataset_dir={tmp_path}", timeout=120)
    assert out.returncode == 1 and "--max_number_of_steps is required" in out.stderr
    out = tfslim_train(f"--dataset_dir={tmp_path}", "--dataset_name=flowers",
                       "--max_number_of_steps=1", "--model_name=lenet", timeout=300)
    assert out.returncode == 1 and "split name train was not recognized" in out.stderr


@pytest.mark.slow
def test_inception_v3_fine_tuning_example(tmp_path):
    """The seed's example: new logits and aux logits, everything else frozen (at 107 px)."""
    dataset_dir = write_five_classes(tmp_path / "data", size=32, channels=3, per_split=(16, 4))
    net = nets.create_model("inception_v3", num_classes=1001)
    net.ensure_built(107, 3)
    ckpt = nets.save_slim_checkpoint(net, str(tmp_path / "ckpt" / "inception_v3.ckpt"))
    del net
    train_dir = tmp_path / "train"
    out = tfslim_train(
        f"--train_dir={train_dir}", f"--dataset_dir={dataset_dir}", "--dataset_name=mydigits",
        "--dataset_split_name=train", "--model_name=inception_v3", f"--checkpoint_path={ckpt}",
        "--checkpoint_exclude_scopes=InceptionV3/Logits,InceptionV3/AuxLogits",
        "--trainable_scopes=InceptionV3/Logits,InceptionV3/AuxLogits",
        "--train_image_size=107", "--batch_size=4", "--max_number_of_steps=2",
        "--log_every_n_steps=1")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "Fine-tuning from" in out.stdout and "missing 0" in out.stdout
    names = ["InceptionV3/Mixed_7c/Branch_3/Conv2d_0b_1x1/weights",
             "InceptionV3/Conv2d_1a_3x3/BatchNorm/beta",
             "InceptionV3/Logits/Conv2d_1c_1x1/weights",
             "InceptionV3/AuxLogits/Conv2d_2b_1x1/weights"]
    after = checkpoint_values(tf.train.latest_checkpoint(str(train_dir)), names)
    before = checkpoint_values(ckpt, names[:2])
    for name in names[:2]:
        np.testing.assert_array_equal(after[name], before[name], err_msg=name)
    assert after[names[2]].shape[-1] == 5 and after[names[3]].shape[-1] == 5


def test_train_reads_a_pipeline_examples_artifact(tmp_path):
    """`tfslim train --dataset_dir=<Examples artifact>`: Split-<name>/ GZIP shards + labels.txt,
    found by the same split-finder `tfslim eval` and the Trainer's run_fn use."""
    from tests.pipeline import helpers as pipeline_helpers  # pylint: disable=import-outside-toplevel

    uri = pipeline_helpers.write_examples_artifact(str(tmp_path / "Examples" / "1"), train=24, eval_=8)
    out = tfslim_train(f"--train_dir={tmp_path / 'train'}", f"--dataset_dir={uri}",
                       "--dataset_split_name=train", "--eval_split_name=eval", "--model_name=lenet",
                       "--use_grayscale", "--max_number_of_steps=2", "--batch_size=4",
                       "--log_every_n_steps=1")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "/train: 24 images in 1 file(s), 10 classes" in out.stdout
    assert "global step 2/2 (100%)" in out.stdout
