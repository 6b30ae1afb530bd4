"""`tfslim train` flags are generated from TrainConfig: one home for defaults and enum choices.

Each check runs in a fresh interpreter: a subcommand's flags live in absl's global FLAGS and
would collide with another subcommand's (tfslim imports only the chosen one).
"""
import subprocess
import sys

_DEFAULTS_AND_CHOICES = """
import dataclasses
from absl import flags
from cli import train
from trainer.config import ENUM_FIELDS, TrainConfig
fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
for name in train.TRAIN_CONFIG_FLAGS:
    flag = flags.FLAGS[name]
    assert flag.default == fields[name].default, name
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
flags.FLAGS(["tfslim", "--dataset_dir=/d", "--max_number_of_steps=1", "--optimizer=adam", "--use_grayscale"])
config = train.config_from_flags()
print(config.optimizer, config.image_channels)
"""


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.split()


def test_every_train_flag_has_the_config_default_and_choices():
    assert _run(_DEFAULTS_AND_CHOICES) == ["ok"]


def test_flags_round_trip_to_the_default_config():
    assert _run(_ROUND_TRIP) == ["True", "adam", "1"]
