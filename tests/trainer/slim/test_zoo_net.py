"""A net written with trainer.slim in the zoo: slim's own lenet.py (tests/trainer/slim/slim_lenet.py)
equals the zoo's LeNet weight for weight, and registered through TFSLIM_NET_MODULES it
trains, checkpoints and exports with `tfslim train` like a built-in net."""
import os

import numpy as np
import tensorflow as tf

from tests.trainer.slim.slim_lenet import lenet, lenet_arg_scope
from tests.cli.test_train_cli import ROOT, checkpoint_values, tfslim_train, write_five_classes
from trainer import nets, slim


def _slim_lenet(num_classes, weight_decay):
    return slim.SlimFunctionNet(lenet, spec_name="slim_lenet", scope="LeNet",
                                num_classes=num_classes, is_training=False, default_image_size=28,
                                weight_decay=weight_decay, arg_scope_fn=lenet_arg_scope)


def test_slim_lenet_restores_the_zoo_lenets_checkpoint_and_computes_the_same(tmp_path):
    zoo = nets.create_model("lenet", num_classes=10, weight_decay=0.01)
    zoo.ensure_built(28, 1)
    ckpt = nets.save_slim_checkpoint(zoo, str(tmp_path / "lenet.ckpt"))
    ours = _slim_lenet(10, weight_decay=0.01)
    ours.ensure_built(28, 1)
    assert sorted(ours.slim_variables()) == sorted(zoo.slim_variables())
    report = nets.restore_slim_checkpoint(ours, ckpt)
    assert not report.missing and not report.unused
    images = np.random.default_rng(0).uniform(-1, 1, (4, 28, 28, 1)).astype(np.float32)
    (zoo_logits, zoo_points), (our_logits, our_points) = zoo(images), ours(images)
    np.testing.assert_allclose(our_logits, zoo_logits, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(our_points["Predictions"], zoo_points["Predictions"], atol=1e-6)
    assert len(ours.losses) == len(zoo.losses) == 4  # weights only, as slim's arg_scope
    np.testing.assert_allclose(float(tf.add_n(ours.losses)), float(tf.add_n(zoo.losses)), rtol=1e-5)


PLUGIN = """from tests.trainer.slim.slim_lenet import lenet, lenet_arg_scope
from trainer import slim

slim.register_net("slim_lenet", lenet, default_image_size=28, num_classes=10, scope="LeNet",
                  preprocessing="lenet", logits_scopes=("LeNet/fc4",), arg_scope_fn=lenet_arg_scope)
"""


def test_tfslim_train_runs_a_registered_slim_net(tmp_path, monkeypatch):
    (tmp_path / "my_nets.py").write_text(PLUGIN)
    monkeypatch.setenv("TFSLIM_NET_MODULES", "my_nets")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), ROOT]))
    dataset_dir = write_five_classes(tmp_path / "data", per_split=(32, 8))
    train_dir, export_dir = tmp_path / "train", tmp_path / "export"
    out = tfslim_train(f"--train_dir={train_dir}", f"--dataset_dir={dataset_dir}",
                       "--dataset_name=mydigits", "--model_name=slim_lenet", "--use_grayscale",
                       "--max_number_of_steps=3", "--batch_size=8", "--log_every_n_steps=1",
                       "--weight_decay=0.001", f"--export_dir={export_dir}")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "Training slim_lenet (5 classes, 28px)" in out.stdout
    assert "global step 3/3 (100%)" in out.stdout and "reg 0.0000" not in out.stdout
    values = checkpoint_values(tf.train.latest_checkpoint(str(train_dir)),
                               ["LeNet/conv1/weights", "LeNet/fc4/weights"])
    assert values["LeNet/fc4/weights"].shape == (1024, 5)
    serve = tf.saved_model.load(str(export_dir)).signatures["serving_default"]
    images = np.zeros((1, 28, 28, 1), np.uint8)
    from tests.trainer import helpers  # pylint: disable=import-outside-toplevel
    scores = serve(image_bytes=tf.constant([helpers.encode_png(images[0])]))["scores"].numpy()
    assert scores.shape == (1, 5)
