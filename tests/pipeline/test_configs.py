"""Presets and the label-range schema the local runners write."""
import pytest
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from pipeline import configs
from pipeline.local import with_dataset_schema


def test_presets_and_unknown_preset():
    demo = configs.preset("demo")
    assert demo.train.model_name == "lenet" and demo.num_classes == 10
    assert configs.preset("smoke", train_steps=7).train_steps == 7
    with pytest.raises(ValueError, match="known: \\['demo', 'smoke'\\]"):
        configs.preset("nope")


def test_dataset_schema_bounds_the_label(tmp_path):
    config = with_dataset_schema(configs.preset("smoke", pipeline_root=str(tmp_path)))
    with open(config.schema_file) as f:
        schema = text_format.Parse(f.read(), schema_pb2.Schema())
    label = next(f for f in schema.feature if f.name == "image/class/label")
    assert (label.int_domain.min, label.int_domain.max) == (0, 9)
    unbounded = configs.preset("smoke", pipeline_root=str(tmp_path), num_classes=None)
    assert with_dataset_schema(unbounded).schema_file is None
