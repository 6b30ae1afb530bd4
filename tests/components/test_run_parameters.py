"""components.run_parameters: a Kubeflow run parameter lands where TFX's own executor reads it."""
import json

import pytest
from tfx.proto import trainer_pb2
from tfx.types import standard_component_specs as specs
from tfx.utils import proto_utils

from components import run_parameters
from pipeline import configs, run_config
from pipeline.pipeline import eval_config


def test_trainer_parameters_replace_steps_and_learning_rate():
    compiled = {specs.TRAIN_ARGS_KEY: proto_utils.proto_to_json(trainer_pb2.TrainArgs(num_steps=100)),
                specs.CUSTOM_CONFIG_KEY: json.dumps({"train_config": {"learning_rate": 0.001, "batch_size": 32}})}
    assert run_parameters.apply_trainer_parameters(dict(compiled)) == compiled  # no parameters: unchanged
    applied = run_parameters.apply_trainer_parameters({**compiled, "train_steps": 60, "learning_rate": 0.002})
    train_args = proto_utils.json_to_proto(applied[specs.TRAIN_ARGS_KEY], trainer_pb2.TrainArgs())
    assert train_args.num_steps == 60
    assert json.loads(applied[specs.CUSTOM_CONFIG_KEY])["train_config"] == {"learning_rate": 0.002,
                                                                            "batch_size": 32}


def test_evaluator_parameter_replaces_the_top1_bound():
    import tensorflow_model_analysis as tfma  # pylint: disable=import-outside-toplevel

    config = configs.PipelineConfig(accuracy_threshold=0.9)
    compiled = {specs.EVAL_CONFIG_KEY: proto_utils.proto_to_json(eval_config(config))}
    applied = run_parameters.apply_evaluator_parameters({**compiled, "accuracy_threshold": 0.42})
    parsed = proto_utils.json_to_proto(applied[specs.EVAL_CONFIG_KEY], tfma.EvalConfig())
    bounds = [t.threshold.value_threshold.lower_bound.value for spec in parsed.metrics_specs
              for metric in spec.metrics if metric.class_name == "SparseCategoricalAccuracy"
              for t in metric.per_slice_thresholds]
    assert bounds == [pytest.approx(0.42)]
    with pytest.raises(ValueError, match="no SparseCategoricalAccuracy"):
        run_parameters.apply_evaluator_parameters({specs.EVAL_CONFIG_KEY: "{}", "accuracy_threshold": 0.5})


def test_run_config_names_the_parameters():
    assert configs.PipelineConfig().run_parameters == configs.RUN_PARAMETER_KEYS
    config = run_config.load("smoke", ["run_parameters=[learning_rate, data_root]"], check_net=False)
    assert config.run_parameters == ("train.learning_rate", "data_root")
    with pytest.raises(run_config.ConfigError, match="run_parameters: 'batch_size' cannot be a run parameter"):
        run_config.load("smoke", ["run_parameters=[batch_size]"], check_net=False)


def test_only_the_named_keys_become_pipeline_parameters(tmp_path):
    from pipeline.pipeline import create_pipeline  # pylint: disable=import-outside-toplevel
    from tfx.orchestration import data_types  # pylint: disable=import-outside-toplevel

    config = run_config.load("smoke", ["run_parameters=[train_steps]"], check_net=False,
                             pipeline_root=str(tmp_path))

    def parameters(pipeline):
        return {(node.id, key): value.default for node in pipeline.components
                for key, value in node.exec_properties.items() if isinstance(value, data_types.RuntimeParameter)}

    assert parameters(create_pipeline(config, with_run_parameters=True)) == {("Trainer", "train_steps"): 200}
    assert parameters(create_pipeline(config)) == {}  # the local runners use the values
