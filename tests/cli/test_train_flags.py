"""`tfslim train` flags are generated from TrainConfig: one home for defaults and enum choices."""
import dataclasses
import subprocess
import sys

from absl import flags

from cli import train
from trainer.config import ENUM_FIELDS, TrainConfig


def test_every_train_flag_has_the_config_default_and_choices():
    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    for name in train.TRAIN_CONFIG_FLAGS:
        flag = flags.FLAGS[name]
        assert flag.default == fields[name].default, name
        if name in ENUM_FIELDS:
            assert sorted(flag.parser.enum_values) == sorted(ENUM_FIELDS[name]), name


def test_flags_round_trip_to_the_default_config():
    code = ("from absl import flags; from cli import train; import dataclasses; "
            "flags.FLAGS(['tfslim', '--dataset_dir=/d', '--max_number_of_steps=1']); "
            "c = train.config_from_flags(); "
            "d = dataclasses.replace(__import__('trainer.config').config.TrainConfig(), max_number_of_steps=1); "
            "print(c == d)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "True", out.stderr[-2000:]
