"""Presets are run-config files; the label-range schema the local runners write."""
import os

import pytest
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from pipeline import run_config
from runners.local import with_dataset_schema
from pipeline.run_config import ConfigError


def _digits_tree(root):
    for label in range(10):
        os.makedirs(os.path.join(root, str(label)), exist_ok=True)
    return str(root)


def test_presets_and_unknown_preset(tmp_path):
    demo = run_config.load("demo", check_net=False, data_root=_digits_tree(tmp_path / "d"))
    assert demo.train.model_name == "lenet" and demo.num_classes == 10
    assert run_config.load("smoke", check_net=False, train_steps=7).train_steps == 7
    with pytest.raises(ConfigError, match="named configs: demo, finetune, photos, smoke"):
        run_config.load("nope", check_net=False)


def test_dataset_schema_bounds_the_label(tmp_path):
    config = with_dataset_schema(run_config.load("smoke", check_net=False, pipeline_root=str(tmp_path),
                                                data_root=_digits_tree(tmp_path / "d")))
    with open(config.schema_file) as f:
        schema = text_format.Parse(f.read(), schema_pb2.Schema())
    label = next(f for f in schema.feature if f.name == "image/class/label")
    assert (label.int_domain.min, label.int_domain.max) == (0, 9)
    unknown = run_config.load("smoke", check_net=False, pipeline_root=str(tmp_path), data_root=str(tmp_path / "none"))
    assert unknown.num_classes is None and with_dataset_schema(unknown).schema_file is None


def test_verify_decode_reaches_the_example_gen(tmp_path):
    """`verify_decode: true` in a run config makes ImageExampleGen decode every kept image."""
    from ingestion import config as ingest_config  # pylint: disable=import-outside-toplevel
    from ingestion.formats.integrity import Limits  # pylint: disable=import-outside-toplevel
    from pipeline.pipeline import create_pipeline  # pylint: disable=import-outside-toplevel

    def limits(verify):
        config = run_config.load("smoke", check_net=False, pipeline_root=str(tmp_path),
                                 data_root=_digits_tree(tmp_path / "d"), verify_decode=verify)
        (example_gen,) = [c for c in create_pipeline(config).components if c.id == "ImageExampleGen"]
        options = ingest_config.from_exec_properties(example_gen.exec_properties)
        return Limits.from_options(options.source_options)

    assert limits(True).verify_decode and not limits(False).verify_decode
