"""The run config's model: a typed, frozen PipelineConfig; the named presets are files under configs/.

Top-level keys are :class:`PipelineConfig` fields; ``train:`` holds
:class:`trainer.config.TrainConfig` (slim's flag names) and ``tuner:`` the optional
:class:`trainer.search_space.TunerConfig`. The fields' types, defaults and descriptions are
the one source of truth: pipeline/run_config.py reads files against them,
pipeline/config_docs.py writes docs/config.md from them. ``create_pipeline`` reads only
this object; runners fill in environment facts (paths, metadata, Beam args, images).
"""
from __future__ import annotations

import typing
from typing import Literal, Optional, Tuple

import pydantic
from pydantic import Field

from trainer.config import ConfigModel, TrainConfig
from trainer.search_space import TunerConfig

# Run-config keys a Kubeflow run may change without a recompile (pipeline parameters); the
# pipeline parameter is the key's last part (train.learning_rate → learning_rate).
RUN_PARAMETER_KEYS = ("data_root", "train_steps", "train.learning_rate", "accuracy_threshold", "serving_dir")
Source = Literal["folder", "flowers", "cifar10", "mnist", "imagenet", "tfrecord"]
SOURCES = typing.get_args(Source)


class PipelineConfig(ConfigModel):
    """Everything ``create_pipeline`` needs (one run config)."""

    pipeline_name: str = Field("tfslim-digits", description="KFP-compatible name ([a-z0-9][a-z0-9-]*).")
    pipeline_root: str = Field("outputs/pipeline_root", description="Where artifacts go (local path, "
                                                                    "gs://, s3://).")
    data_root: str = Field("data/digits", description="The raw input (class-folder tree for source "
                                                      "'folder').")
    serving_dir: str = Field("outputs/serving", description="Pusher's base; models land in "
                                                            "`<serving_dir>/<model_name>/<version>/`.")
    serving_model_name: str = Field("lenet", description="The TF Serving model name (directory under "
                                                         "serving_dir); default: train.model_name.")
    source: Source = Field("folder", description="ImageExampleGen's source kind.")
    verify_decode: bool = Field(
        False, description="ImageExampleGen fully decodes every kept image (besides the structural "
                           "checks), so no undecodable image reaches the Evaluator; slower.")
    train_buckets: int = Field(4, ge=1, description="Hash split of the relative path: train buckets.")
    eval_buckets: int = Field(1, ge=1, description="Hash split of the relative path: eval buckets.")
    train: TrainConfig = Field(TrainConfig(), description="Slim training options (the `train:` block).")
    tuner: Optional[TunerConfig] = Field(
        None, description="The optional hyperparameter search (docs/tuning.md); when set, a Tuner runs "
                          "before the Trainer, which trains with its best values.")
    train_steps: int = Field(1000, ge=1, description="Trainer steps (TrainArgs).")
    eval_steps: Optional[int] = Field(None, description="Trainer eval steps (EvalArgs); none: the "
                                                        "whole eval split.")
    accuracy_threshold: float = Field(0.9, description="Evaluator's absolute lower bound on top-1.")
    top5_threshold: Optional[float] = Field(
        None, description="Optional absolute lower bound on top-5 accuracy; none gates on top-1 only.")
    change_threshold: float = Field(-0.01, description="Allowed top-1 change vs the last blessed model "
                                                       "(>= this).")
    use_baseline_resolver: bool = Field(
        True, description="Add the LatestBlessedModel Resolver (off for OSS KFP, which cannot run "
                          "resolver nodes).")
    serving_smoke_test: bool = Field(True, description="Run ServingSmokeTest; Pusher then also needs "
                                                       "its blessing.")
    beam_pipeline_args: Tuple[str, ...] = Field(
        ("--direct_running_mode=in_memory", "--direct_num_workers=1"),
        description="Passed to every Beam-based component.")
    enable_cache: bool = Field(
        True, description="Reuse a step's outputs when its inputs and settings are unchanged (TFX's "
                          "cache locally, KFP's step cache on Kubeflow).")
    run_parameters: Tuple[str, ...] = Field(
        RUN_PARAMETER_KEYS, description="The keys a compiled Kubeflow pipeline takes as run parameters "
                                        "(some of the default), with this config's values as defaults.")
    schema_file: Optional[str] = Field(
        None, description="ImportSchemaGen's schema; none: schemas/slim_image.pbtxt of this checkout.")
    num_classes: Optional[int] = Field(
        None, description="Label domain [0, num_classes-1] of the schema; default: the class folders "
                          "of data_root or the slim dataset's count.")
    smoke_num_examples: int = Field(16, description="ServingSmokeTest's request batch size.")
    smoke_max_latency_ms: float = Field(1000.0, description="Batch-1 p99 latency above which "
                                                            "ServingSmokeTest does not bless.")
    serving_config_base_path: str = Field(
        "/models", description="Where TF Serving sees serving_dir (models.config base paths); '' "
                               "means the server reads serving_dir itself.")
    infer_root: Optional[str] = Field(
        None, description="A folder of images (local, gs://, s3://) that a BatchPredict step scores "
                          "with the blessed model (docs/batch-prediction.md); none: no such step.")

    @pydantic.field_validator("accuracy_threshold")
    @classmethod
    def _fraction(cls, value: float) -> float:
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{value} is a top-1 fraction; use a value in [0, 1]")
        return value

    @pydantic.field_validator("run_parameters")
    @classmethod
    def _run_parameters(cls, keys: Tuple[str, ...]) -> Tuple[str, ...]:
        """Spelled as RUN_PARAMETER_KEYS spells them (``learning_rate`` is ``train.learning_rate``)."""
        by_name = {key.rpartition(".")[2]: key for key in RUN_PARAMETER_KEYS}
        out = []
        for key in keys:
            full = key if key in RUN_PARAMETER_KEYS else by_name.get(key)
            if full is None:
                raise ValueError(f"{key!r} cannot be a run parameter; use some of {', '.join(RUN_PARAMETER_KEYS)}")
            out.append(full)
        return tuple(dict.fromkeys(out))
