"""`tfslim train` flags are generated from TrainConfig: one home for defaults and enum choices.

Each check runs in a fresh interpreter: a subcommand's flags live in absl's global FLAGS and
would collide with another subcommand's (tfslim imports only the chosen one).
"""
import subprocess
import sys

import pytest

from tests.cli_probe import run_probed

_DEFAULTS_AND_CHOICES = """
from absl import flags
from cli import train
from trainer.config import ENUM_FIELDS, TrainConfig
fields = TrainConfig.model_fields
for name in train.TRAIN_CONFIG_FLAGS:
    flag = flags.FLAGS[name]
    default = fields[name].default
    assert flag.default == (",".join(default) or None if isinstance(default, tuple) else default), name
    assert fields[name].description in flag.help, name
    if name in ENUM_FIELDS:
        assert sorted(flag.parser.enum_values) == sorted(ENUM_FIELDS[name]), name
assert len(train.TRAIN_CONFIG_FLAGS) > 40
print("ok")
"""

_ROUND_TRIP = """
from absl import flags
from cli import train
from trainer.config import TrainConfig
flags.FLAGS(["tfslim", "--dataset_dir=/d", "--max_number_of_steps=1"])
print(train.config_from_flags() == TrainConfig(max_number_of_steps=1))
flags.FLAGS(["tfslim", "--dataset_dir=/d", "--max_number_of_steps=1", "--optimizer=adam", "--use_grayscale",
             "--model_name=lenet", "--checkpoint_exclude_scopes=LeNet/fc4, LeNet/fc3"])
config = train.config_from_flags()
print(config.optimizer, config.image_channels, ",".join(config.checkpoint_exclude_scopes))
"""


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.split()


def test_every_train_flag_has_the_config_default_and_choices():
    assert _run(_DEFAULTS_AND_CHOICES) == ["ok"]


def test_flags_round_trip_to_the_default_config():
    assert _run(_ROUND_TRIP) == ["True", "adam", "1", "LeNet/fc4,LeNet/fc3"]


@pytest.mark.parametrize("flags, message", [
    (["--model_name=resnet_50"],
     "--model_name: unknown network 'resnet_50'; did you mean 'resnet_v2_50'? `tfslim models` lists them"),
    (["--model_name=inception_v3", "--use_grayscale"],
     "--use_grayscale: 1 channel, but inception_v3's 'inception' preprocessing needs 3 (colour distortion / "
     "RGB means); drop --use_grayscale or use a net with lenet/cifarnet preprocessing"),
    (["--model_name=lenet", "--preprocessing_name=inceptoin"],
     "--preprocessing_name: unknown 'inceptoin'; use one of cifarnet, inception, lenet, vgg or a net's name"),
    (["--model_name=lenet", "--checkpoint_path=/no/such/model.ckpt"],
     "--checkpoint_path: /no/such/model.ckpt does not exist; give a checkpoint prefix"),
    (["--model_name=lenet", "--checkpoint_path=inception_v3"],
     "--checkpoint_path: 'inception_v3' is a inception_v3 checkpoint but --model_name is lenet; set "
     "--model_name=inception_v3"),
    (["--model_name=lenet", "--labels_offset=-1"], "--labels_offset: -1 is negative"),
])
def test_net_aware_checks_answer_in_one_line_before_tensorflow_loads(tmp_path, flags, message):
    """The run config's checks (pipeline/train_checks.py), spelled as flags; exit status 2."""
    out, loaded = run_probed("train", f"--dataset_dir={tmp_path}", "--max_number_of_steps=1", *flags)
    assert out.returncode == 2, out.stderr[-2000:]
    lines = [line for line in out.stderr.splitlines() if line.strip() and not line.startswith("LOADED")]
    assert len(lines) == 1 and lines[0].startswith(f"tfslim train: {message}"), out.stderr[-2000:]
    assert loaded == []

