"""Run configs: YAML/JSON → PipelineConfig, --set overrides, fail-fast checks, facts from data."""
import json
import os

import pytest

from pipeline import run_config
from pipeline.run_config import ConfigError


def _photos(root, classes=("cat", "dog", "fox")):
    for name in classes:
        os.makedirs(os.path.join(root, name), exist_ok=True)
        with open(os.path.join(root, name, "a.png"), "wb") as f:
            f.write(b"x")
    return str(root)


def _write(tmp_path, values, name="run.yaml"):
    import yaml
    path = tmp_path / name
    path.write_text(json.dumps(values) if name.endswith(".json") else yaml.safe_dump(values))
    return str(path)


@pytest.mark.parametrize("name", ["demo", "smoke", "photos", "finetune"])
def test_shipped_configs_build(name, tmp_path):
    config = run_config.load(name, data_root=_photos(tmp_path / "data"))
    assert config.num_classes == 3  # from the class folders, not the file
    assert config.serving_model_name == config.train.model_name


def test_photos_config_is_colour_at_the_nets_facts(tmp_path):
    config = run_config.load("photos", data_root=_photos(tmp_path / "data"))
    assert config.train.image_channels == 3 and config.train.model_name == "mobilenet_v1_025"
    from trainer.training import train_lib
    assert train_lib.image_spec_for(config.train).preprocessing_name == "inception"


def test_overrides_are_typed_by_the_field(tmp_path):
    config = run_config.load("demo", ["train.learning_rate=0.01", "train_steps=7",
                                      "train.checkpoint_exclude_scopes=A/Logits,A/Aux",
                                      "enable_cache=true", "pipeline_name=007", "eval_steps=none"],
                             data_root=_photos(tmp_path / "data"))
    assert config.train.learning_rate == 0.01 and isinstance(config.train.learning_rate, float)
    assert config.train_steps == 7 and config.enable_cache is True
    assert config.train.checkpoint_exclude_scopes == ("A/Logits", "A/Aux")
    assert config.pipeline_name == "007" and config.eval_steps is None


def test_json_file_reads_the_same(tmp_path):
    path = _write(tmp_path, {"train": {"model_name": "cifarnet"}, "train_steps": 5}, "run.json")
    config = run_config.load(path, data_root=_photos(tmp_path / "data"))
    assert config.train.model_name == "cifarnet" and config.train_steps == 5


def test_changing_model_name_drops_the_other_nets_settings(tmp_path):
    data = _photos(tmp_path / "data")
    config = run_config.load("demo", ["train.model_name=mobilenet_v1_025"], data_root=data)
    assert config.train.image_channels == 3  # the demo's grayscale does not carry over
    assert config.serving_model_name == "mobilenet_v1_025"
    # ... unless the override sets it too (then it is checked).
    with pytest.raises(ConfigError, match="image_channels: 1 channel, but mobilenet_v1_025's 'inception'"):
        run_config.load("demo", ["train.model_name=mobilenet_v1_025", "train.image_channels=1"],
                        data_root=data)


@pytest.mark.parametrize("values, message", [
    ({"train": {"optimiser": "adam"}}, r"unknown key 'train.optimiser'; did you mean train.optimizer\?"),
    ({"train_step": 5}, r"unknown key 'train_step'; did you mean train_steps\?"),
    ({"train": {"optimizer": "adamw"}}, r"train.optimizer: 'adamw' is not one of .*did you mean 'adam'"),
    ({"train": {"learning_rate_decay_type": "cosine"}}, "train.learning_rate_decay_type: 'cosine'"),
    ({"source": "folders"}, "source: 'folders' is not one of"),
    ({"train": {"model_name": "mobilenet_v9"}}, "train.model_name: unknown network 'mobilenet_v9'"),
    ({"train": {"model_name": "inception_v3", "image_channels": 1}},
     "image_channels: 1 channel, but inception_v3's 'inception' preprocessing needs 3 "),
    ({"train": {"model_name": "vgg_16", "image_channels": 1}}, "vgg_16's 'vgg' preprocessing"),
    ({"train": {"model_name": "lenet", "checkpoint_path": "/no/such/model.ckpt"}},
     "train.checkpoint_path: /no/such/model.ckpt does not exist"),
    ({"train": {"model_name": "lenet", "checkpoint_path": "inception_v9"}},
     "train.checkpoint_path: 'inception_v9' is not in the checkpoint table; did you mean"),
    ({"train": {"model_name": "lenet", "checkpoint_path": "inception_v3"}},
     "is a inception_v3 checkpoint but train.model_name is lenet"),
    ({"train": {"model_name": "lenet", "labels_offset": 1}},
     "train.labels_offset: 1 would give class folder 'cat' \\(label 0\\) the label -1"),
    ({"train": {"model_name": "lenet", "labels_offset": 2}}, "labels_offset: 2 leaves 1 class"),
    ({"train": {"learning_rate": "fast"}}, "train.learning_rate: expected a number, got 'fast'"),
    ({"train_steps": 1.5}, "train_steps: expected an integer, got 1.5"),
    ({"train_steps": 0}, "^train_steps: must be >= 1, got 0$"),
    ({"enable_cache": "maybe"}, "^enable_cache: expected true or false, got 'maybe'$"),
    ({"train": {"trainable_scopes": {"a": 1}}}, r"^train.trainable_scopes: expected a list \(YAML \[a, b\] or a,b\)"),
    ({"train": {"image_channels": 2}}, "^train.image_channels: 2 is not one of 1, 3$"),
    ({"run_parameters": ["batch_size"]}, "^run_parameters: 'batch_size' cannot be a run parameter; use some of"),
    ({"accuracy_threshold": 90}, "accuracy_threshold: 90.0 is a top-1 fraction"),
    ({"train": ["lenet"]}, "train: expected a mapping"),
    ({"infer_root": "/no/such/photos"}, "infer_root: /no/such/photos is not a directory; give the folder"),
])
def test_bad_configs_name_the_key_and_the_fix(tmp_path, values, message):
    path = _write(tmp_path, values)
    with pytest.raises(ConfigError, match=message) as info:
        run_config.load(path, data_root=_photos(tmp_path / "data"))
    assert "\n" not in str(info.value)


def test_infer_root_is_optional_and_may_be_an_object_store(tmp_path):
    data = _photos(tmp_path / "data")
    assert run_config.load("smoke", data_root=data).infer_root is None
    assert run_config.load("smoke", ["infer_root=gs://bucket/new"], data_root=data).infer_root == "gs://bucket/new"
    assert run_config.load("smoke", [f"infer_root={data}"], data_root=data).infer_root == data


def test_bad_override_syntax_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        run_config.load("demo", ["train.learning_rate"], data_root=_photos(tmp_path / "data"))
    with pytest.raises(ConfigError, match="no such file"):
        run_config.load(str(tmp_path / "nope.yaml"))
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        run_config.load(str(bad))


def test_labels_offset_with_an_empty_background_folder(tmp_path):
    data = _photos(tmp_path / "data", classes=("bird", "cat"))
    os.makedirs(os.path.join(data, "0_background"))
    config = run_config.load(None, ["train.model_name=lenet", "train.image_channels=1",
                                    "train.labels_offset=1"], data_root=data)
    assert config.num_classes == 3 and config.train.labels_offset == 1


def test_schema_label_domain_follows_the_data(tmp_path):
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2
    from runners.local import with_dataset_schema

    data = _photos(tmp_path / "data", classes=tuple("abcdefgh"))
    config = with_dataset_schema(run_config.load("photos", data_root=data,
                                                 pipeline_root=str(tmp_path / "root")))
    schema = text_format.Parse(open(config.schema_file).read(), schema_pb2.Schema())
    label = next(f for f in schema.feature if f.name == "image/class/label")
    assert (label.int_domain.min, label.int_domain.max) == (0, 7)


def test_hints(tmp_path):
    data = _photos(tmp_path / "data")
    slim_defaults = run_config.load(None, ["train.model_name=mobilenet_v1_025", "train_steps=300",
                                           "train.batch_norm_decay=0.9997"], data_root=data)
    lines = run_config.hints(slim_defaults)
    assert any("rmsprop with opt_epsilon=1" in line for line in lines), lines
    assert any("batch_norm_decay=0.9997 needs ~998" in line for line in lines), lines
    assert run_config.hints(run_config.load("photos", data_root=data)) == []


def test_cli_refuses_a_bad_config_before_any_component_runs(tmp_path):
    from tests.serving.cli import run_tfslim

    path = _write(tmp_path, {"train": {"optimiser": "adam"}})
    root = tmp_path / "root"
    result = run_tfslim("run", f"--config={path}", f"--data_dir={_photos(tmp_path / 'data')}",
                        f"--pipeline_root={root}", "--set", "train.learning_rate=0.1")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == \
        "error: unknown key 'train.optimiser'; did you mean train.optimizer?"
    assert "Traceback" not in result.stderr and "Unable to register" not in result.stderr
    assert "FutureWarning" not in result.stderr
    assert not root.exists()  # no component ran (the schema is written before the first one)


def test_a_config_name_beside_an_image_folder_of_the_same_name(tmp_path, monkeypatch):
    """``--config photos`` run from a folder that holds the user's ``photos/`` images resolves
    to configs/photos.yaml; a directory given as a config is a one-line error."""
    data = _photos(tmp_path / "photos")
    monkeypatch.chdir(tmp_path)
    assert run_config.load("photos", data_root=data).train.model_name == "mobilenet_v1_025"
    with pytest.raises(ConfigError, match="no such file"):
        run_config.load(str(tmp_path / "photos") + "/")
