"""Real-data accuracy: the sklearn digits (1,797 real handwritten 8x8 scans), 80/20 stratified
hold-out, through the same TFRecord reader, preprocessing and trainer as `tfslim train`."""
import re

import numpy as np
import pytest

from tests.trainer import helpers
from trainer.training import data, train_lib
from trainer import nets
from trainer.config import TrainConfig

pytestmark = pytest.mark.slow


def _train_and_eval(root, config, **digits_kwargs):
    sizes = helpers.write_digits(str(root), **digits_kwargs)
    split = data.dataset_split(str(root), "digits", "train")
    assert split.num_samples == sizes["train"]
    result = train_lib.train(config, split.files, split.num_classes,
                             eval_files=data.find_split_files(str(root), "digits", "validation"))
    return result.history["eval_accuracy"]


def _adam(model_name, train_dir, steps, **changes) -> TrainConfig:
    return TrainConfig(model_name=model_name, batch_size=32, optimizer="adam", learning_rate=0.002,
                       opt_epsilon=1e-8, learning_rate_decay_type="exponential",
                       learning_rate_decay_factor=0.5, num_epochs_per_decay=4.0,
                       max_number_of_steps=steps, train_dir=str(train_dir),
                       log_every_n_steps=100, seed=1, **changes)


def test_lenet_reaches_98_percent_on_held_out_digits(tmp_path):
    # 800 steps (~18 epochs): over seeds 1-5 held-out top-1 was 98.3-99.2% (500 steps: 98.05-99.2%,
    # one image above the bar at worst).
    config = _adam("lenet", tmp_path / "train", 800, image_channels=1, weight_decay=0.0)
    accuracy = _train_and_eval(tmp_path / "data", config)
    assert accuracy >= 0.98, accuracy


def test_cifarnet_reaches_97_percent_on_digits_upscaled_to_32(tmp_path):
    nets.get_spec("cifarnet")  # fails here, naming the known nets, if cifarnet is not registered
    # --preprocessing_name=lenet, as a slim user training on digits would pick: cifarnet's own
    # training preprocessing flips left-right, which is wrong for digits (a mirrored 2 is
    # close to a 5). Measured over seeds 1-3 on 2 cores: with the flip 96.9-98.1% held-out
    # (CI failed once at 96.94%), with lenet's flip-free preprocessing 98.6-99.2% at 800
    # steps; at 500 steps 98.3-99.4% over seeds 1, 2, 3, 4 and 42 (~40% less test time).
    config = _adam("cifarnet", tmp_path / "train", 500, weight_decay=0.004,
                   preprocessing_name="lenet")
    accuracy = _train_and_eval(tmp_path / "data", config, size=32, channels=3)
    assert accuracy >= 0.97, accuracy


def test_mobilenet_v1_025_at_96px_trains_and_improves_the_loss(tmp_path, capsys):
    nets.get_spec("mobilenet_v1_025")
    helpers.write_digits(str(tmp_path / "data"), size=96, channels=3, train_limit=400,
                         test_limit=10)
    split = data.dataset_split(str(tmp_path / "data"), "digits", "train")
    config = TrainConfig(model_name="mobilenet_v1_025", train_image_size=96, batch_size=16,
                         optimizer="adam", learning_rate=0.01, opt_epsilon=1e-8,
                         learning_rate_decay_type="fixed", max_number_of_steps=150,
                         train_dir=str(tmp_path / "train"), log_every_n_steps=1, seed=1)
    result = train_lib.train(config, split.files, split.num_classes)
    xent = [float(x) for x in re.findall(r"\(xent ([0-9.]+),", capsys.readouterr().out)]
    assert len(xent) == 150 and result.steps == 150
    # Inception preprocessing crops as little as 5% of the image, so single steps are noisy:
    # compare 20-step means (their noise is ~0.1; chance level is ln(10) = 2.3).
    first, last = np.mean(xent[:20]), np.mean(xent[-20:])
    assert last < first - 0.3, (first, last)
