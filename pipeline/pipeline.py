"""create_pipeline: the one TFX pipeline definition every runner uses.

ImageExampleGen → StatisticsGen → ImportSchemaGen → ExampleValidator → Transform →
[Tuner] → Trainer → [Resolver(latest blessed)] → Evaluator → [ServingSmokeTest] → ServingPusher →
[BatchPredict(infer_root)] → RunReport.
No environment lookups happen here: runners pass everything in PipelineConfig.
"""
from __future__ import annotations

import os
from typing import List, Optional

import tensorflow_model_analysis as tfma
from tfx import v1 as tfx
from tfx.proto import example_gen_pb2

from components import run_parameters
from components.batch_predict.component import BatchPredict
from components.image_example_gen.component import ImageExampleGen
from components.run_report.component import RunReport
from components.serving_smoke.component import ServingSmokeTest
from components.serving_pusher.component import (CONFIG_BASE_FROM_SERVING_DIR_KEY, CONFIG_BASE_PATH_KEY,
                                                 MODEL_NAME_KEY, ServingPusher)
from components.tuning.component import Tuner
from serving import models_config
from serving.signatures import DATASET_SCORES, DECODABLE, EVAL_DECODABLE, EVAL_EXAMPLES
from pipeline.configs import PipelineConfig
from schemas import SLIM_IMAGE_SCHEMA
from schemas import features
from trainer.config import IMAGE_SPEC_KEYS, TRAIN_CONFIG_KEY
from trainer.search_space import TUNER_CONFIG_KEY

PREPROCESSING_FN = "trainer.preprocessing_fn.preprocessing_fn"
RUN_FN = "trainer.run_fn.run_fn"
TUNER_FN = "trainer.tuner_fn.tuner_fn"
PER_CLASS_METRICS = "components.evaluation.per_class"


def _overall(threshold: tfma.MetricThreshold) -> tfma.PerSliceMetricThreshold:
    """``threshold`` on the whole eval split (the unsliced slice) only."""
    return tfma.PerSliceMetricThreshold(slicing_specs=[tfma.SlicingSpec()], threshold=threshold)


def eval_config(config: PipelineConfig, num_top_k: int = 5) -> tfma.EvalConfig:
    """TFMA config of the Evaluator (candidate vs the latest blessed baseline).

    Metrics: top-1 (SparseCategoricalAccuracy, gated by an absolute lower bound and
    by its change vs the baseline), top-k (SparseTopKCategoricalAccuracy, gated by
    ``config.top5_threshold`` when set), per-class
    argmax precision/recall and the multi-class confusion matrix (a TFMA plot);
    sliced overall and by label; the gates apply to the overall slice. Inputs go through ``eval_examples``, i.e. the
    same Transform-graph preprocessing as serving (``serving_examples``); its ``dataset_scores`` are indexed
    by dataset label (model class + labels_offset), so the raw label is scored right.

    A record whose image cannot be decoded does not fail the run: ``eval_examples``
    scores it on a stand-in image and ``eval_decodable`` (a TFMA preprocessing function)
    gives it example weight 0, so every metric, the confusion matrix included, is the one
    of the decodable records. ``example_count`` counts every record and
    ``weighted_example_count`` the decodable ones: the difference is the skipped count.
    """
    # The gates apply to the overall slice only: a `threshold` would also gate every
    # per-label slice, where a class with one or two held-out images blocks the push.
    top1 = tfma.MetricConfig(
        class_name="SparseCategoricalAccuracy",
        per_slice_thresholds=[_overall(tfma.MetricThreshold(
            value_threshold=tfma.GenericValueThreshold(lower_bound={"value": config.accuracy_threshold}),
            # Ignored on the first run (no blessed baseline yet).
            change_threshold=tfma.GenericChangeThreshold(
                direction=tfma.MetricDirection.HIGHER_IS_BETTER,
                absolute={"value": config.change_threshold})))])
    top_k = tfma.MetricConfig(
        class_name="SparseTopKCategoricalAccuracy",
        config=f'{{"k": {num_top_k}, "name": "top_{num_top_k}_accuracy"}}')
    if config.top5_threshold is not None:
        top_k.per_slice_thresholds.append(_overall(tfma.MetricThreshold(
            value_threshold=tfma.GenericValueThreshold(lower_bound={"value": config.top5_threshold}))))
    return tfma.EvalConfig(
        model_specs=[tfma.ModelSpec(signature_name=EVAL_EXAMPLES,
                                    preprocessing_function_names=[EVAL_DECODABLE],
                                    label_key=features.LABEL,
                                    prediction_key=DATASET_SCORES,
                                    example_weight_key=DECODABLE)],
        slicing_specs=[tfma.SlicingSpec(), tfma.SlicingSpec(feature_keys=[features.LABEL])],
        metrics_specs=[
            # Weighted (TFMA's default with an example_weight_key): the decodable records.
            tfma.MetricsSpec(metrics=[
                tfma.MetricConfig(class_name="WeightedExampleCount"),
                top1,
                top_k,
                tfma.MetricConfig(class_name="PerClassPrecisionRecall", module=PER_CLASS_METRICS),
                tfma.MetricConfig(class_name="MultiClassConfusionMatrixPlot"),
            ]),
            # Every record, skipped ones included.
            tfma.MetricsSpec(metrics=[tfma.MetricConfig(class_name="ExampleCount")],
                             example_weights=tfma.ExampleWeightOptions(unweighted=True)),
        ])


class RunParameters:
    """Each run-parameter key as a ``RuntimeParameter`` (default: the config's value) when the
    pipeline is compiled with them, else ``None`` (the components keep their compiled values)."""

    def __init__(self, config: PipelineConfig, enabled: bool):
        self._config, self._enabled = config, enabled

    def get(self, key: str) -> Optional[tfx.dsl.experimental.RuntimeParameter]:
        if not self._enabled or key not in self._config.run_parameters:
            return None
        prefix, _, name = key.rpartition(".")
        default = getattr(self._config.train if prefix == "train" else self._config, name)
        return tfx.dsl.experimental.RuntimeParameter(name=name, ptype=type(default), default=default)

    def value(self, key: str, compiled):
        """The parameter for ``key`` if it is one, else the compiled value."""
        parameter = self.get(key)
        return compiled if parameter is None else parameter


def serving_components(config: PipelineConfig, examples, model, blessing,
                       parameters: Optional[RunParameters] = None) -> List:
    """[ServingSmokeTest,] ServingPusher: push only what both the Evaluator and the
    smoke test blessed, into ``<serving_dir>/<model>/<version>/`` + models.config."""
    components = []
    infra_blessing = None
    if config.serving_smoke_test:
        smoke = ServingSmokeTest(model=model, examples=examples, split="eval",
                                 num_examples=config.smoke_num_examples,
                                 max_latency_ms=config.smoke_max_latency_ms,
                                 model_name=config.serving_model_name)
        components.append(smoke)
        infra_blessing = smoke.outputs["blessing"]
    custom_config = {MODEL_NAME_KEY: config.serving_model_name,
                     # '' = the server reads serving_dir itself (gs://, s3://).
                     CONFIG_BASE_PATH_KEY: models_config.container_base_path(
                         config.serving_model_name, config.serving_config_base_path or config.serving_dir)}
    if not config.serving_config_base_path:
        custom_config[CONFIG_BASE_FROM_SERVING_DIR_KEY] = True  # follows a serving_dir run parameter
    components.append(ServingPusher(
        model=model, model_blessing=blessing, infra_blessing=infra_blessing,
        push_destination=tfx.proto.PushDestination(filesystem=tfx.proto.PushDestination.Filesystem(
            base_directory=os.path.join(config.serving_dir, config.serving_model_name))),
        custom_config=custom_config,
        serving_dir=(parameters or RunParameters(config, False)).get("serving_dir"),
    ).with_id("Pusher"))
    return components


def tuner_component(config: PipelineConfig, examples, transform_graph, schema) -> Tuner:
    """The Tuner of ``config.tuner``: trials of ``steps_per_trial`` steps on the Trainer's
    inputs and code (trainer/tuner_fn.py), scored on the eval split."""
    return Tuner(tuner_fn=TUNER_FN, examples=examples, transform_graph=transform_graph, schema=schema,
                 train_args=tfx.proto.TrainArgs(num_steps=config.tuner.steps_per_trial),
                 eval_args=tfx.proto.EvalArgs(num_steps=config.eval_steps),
                 custom_config={TRAIN_CONFIG_KEY: config.train.to_dict(),
                                TUNER_CONFIG_KEY: config.tuner.to_dict()})


def create_pipeline(config: PipelineConfig, metadata_connection_config=None,
                    extra_components: Optional[List] = None,
                    with_run_parameters: bool = False) -> tfx.dsl.Pipeline:
    """Builds the pipeline from ``config`` (and the runner's metadata config, if any).

    ``with_run_parameters`` (the Kubeflow compile) makes ``config.run_parameters`` pipeline
    parameters whose defaults are the config's values; the local runners use the values.
    """
    parameters = RunParameters(config, with_run_parameters)
    output_config = example_gen_pb2.Output(split_config=example_gen_pb2.SplitConfig(splits=[
        example_gen_pb2.SplitConfig.Split(name="train", hash_buckets=config.train_buckets),
        example_gen_pb2.SplitConfig.Split(name="eval", hash_buckets=config.eval_buckets),
    ], partition_feature_name=features.FILENAME))
    example_gen = ImageExampleGen(input_base=parameters.value("data_root", config.data_root),
                                  output_config=output_config,
                                  source=config.source,
                                  source_options={"verify_decode": True} if config.verify_decode else None)
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    schema_gen = tfx.components.ImportSchemaGen(schema_file=config.schema_file or SLIM_IMAGE_SCHEMA)
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"])

    # Transform and Trainer each derive the image spec from the train config themselves, so
    # compiling the DAG never loads the model zoo. Transform gets only the image-spec keys:
    # a change of training options (steps, learning rate, checkpoint) reuses its cached graph.
    train_config = {TRAIN_CONFIG_KEY: config.train.to_dict()}
    image_config = {TRAIN_CONFIG_KEY: {key: train_config[TRAIN_CONFIG_KEY][key] for key in IMAGE_SPEC_KEYS}}
    transform = tfx.components.Transform(
        examples=example_gen.outputs["examples"], schema=schema_gen.outputs["schema"],
        preprocessing_fn=PREPROCESSING_FN, custom_config=image_config,
        # Training reads the raw examples (slim's train-time distortions happen in
        # tf.data); the Transform graph serves evaluation and serving.
        materialize=False, disable_statistics=True)
    tuner = (tuner_component(config, example_gen.outputs["examples"], transform.outputs["transform_graph"],
                             schema_gen.outputs["schema"]) if config.tuner else None)
    trainer = run_parameters.Trainer(
        train_steps=parameters.get("train_steps"),
        learning_rate=parameters.get("train.learning_rate"),
        run_fn=RUN_FN,
        hyperparameters=tuner.outputs["best_hyperparameters"] if tuner else None,
        examples=example_gen.outputs["examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema_gen.outputs["schema"],
        train_args=tfx.proto.TrainArgs(num_steps=config.train_steps),
        eval_args=tfx.proto.EvalArgs(num_steps=config.eval_steps),
        custom_config=train_config)

    components = [example_gen, statistics_gen, schema_gen, example_validator, transform,
                  *([tuner] if tuner else []), trainer]
    baseline = None
    if config.use_baseline_resolver:
        resolver = tfx.dsl.Resolver(
            strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
            model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
            model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
        ).with_id("latest_blessed_model_resolver")
        components.append(resolver)
        baseline = resolver.outputs["model"]
    evaluator = run_parameters.Evaluator(
        accuracy_threshold=parameters.get("accuracy_threshold"),
        examples=example_gen.outputs["examples"], model=trainer.outputs["model"],
        baseline_model=baseline, eval_config=eval_config(config), schema=schema_gen.outputs["schema"])
    components.append(evaluator)
    serving = serving_components(config, example_gen.outputs["examples"],
                                 trainer.outputs["model"], evaluator.outputs["blessing"], parameters)
    components.extend(serving)
    if config.infer_root:
        smoke = serving[0] if config.serving_smoke_test else None
        components.append(BatchPredict(
            model=trainer.outputs["model"], model_blessing=evaluator.outputs["blessing"],
            infra_blessing=smoke.outputs["blessing"] if smoke else None, infer_root=config.infer_root))
    components.append(RunReport(
        examples=example_gen.outputs["examples"], model=trainer.outputs["model"],
        model_run=trainer.outputs["model_run"], evaluation=evaluator.outputs["evaluation"],
        blessing=evaluator.outputs["blessing"], anomalies=example_validator.outputs["anomalies"],
        pushed_model=serving[-1].outputs["pushed_model"], title=config.pipeline_name,
        tuner_results=tuner.outputs["tuner_results"] if tuner else None,
        labels_offset=config.train.labels_offset,
        accuracy_threshold=parameters.value("accuracy_threshold", config.accuracy_threshold)))
    components.extend(extra_components or [])
    return tfx.dsl.Pipeline(
        pipeline_name=config.pipeline_name, pipeline_root=config.pipeline_root,
        components=components, enable_cache=config.enable_cache,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=list(config.beam_pipeline_args))
