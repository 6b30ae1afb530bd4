"""Typed, frozen pipeline configuration; the named presets are files under configs/.

``create_pipeline`` reads only this object; runners fill in environment facts
(paths, metadata, Beam args, images) when they build it.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Optional, Tuple

from trainer.config import TrainConfig
from trainer.search_space import TunerConfig

# Run-config keys a Kubeflow run may change without a recompile (pipeline parameters); the
# pipeline parameter is the key's last part (train.learning_rate → learning_rate).
RUN_PARAMETER_KEYS = ("data_root", "train_steps", "train.learning_rate", "accuracy_threshold", "serving_dir")


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    """Everything ``create_pipeline`` needs.

    Attributes:
      pipeline_name: KFP-compatible name ([a-z0-9][a-z0-9-]*).
      pipeline_root: where artifacts go (local path, gs://, s3://).
      data_root: the raw input (class-folder tree for source 'folder').
      serving_dir: Pusher's base; models land in ``<serving_dir>/<model_name>/<version>/``.
      serving_model_name: the TF Serving model name (directory under serving_dir).
      source: ImageExampleGen source kind ('folder', 'flowers', 'cifar10', 'mnist', 'imagenet', 'tfrecord').
      verify_decode: ImageExampleGen fully decodes every kept image (besides the
        structural checks), so no undecodable image reaches the Evaluator; slower.
      eval_buckets / train_buckets: hash split of the relative path (train:eval).
      train: slim training options (model_name, optimizer, ...); steps below.
      tuner: the optional hyperparameter search (the ``tuner:`` block, docs/tuning.md);
        when set, a Tuner runs before the Trainer, which trains with its best values.
      train_steps / eval_steps: Trainer TrainArgs/EvalArgs.
      accuracy_threshold: Evaluator's absolute lower bound on top-1.
      top5_threshold: optional absolute lower bound on top-5 accuracy (the
        Evaluator's ``top_5_accuracy``); None gates on top-1 only.
      change_threshold: allowed top-1 change vs the last blessed model (>= this).
      use_baseline_resolver: add the LatestBlessedModel Resolver (off for OSS KFP,
        which cannot run resolver nodes).
      beam_pipeline_args: passed to every Beam-based component.
      enable_cache: reuse a step's outputs when its inputs and settings are unchanged (TFX's
        cache on the local runners, KFP's step cache on Kubeflow); ImageExampleGen's cache
        key covers the input files' fingerprint on the local runners and Vertex.
      run_parameters: the keys a compiled Kubeflow pipeline takes as run parameters
        (from RUN_PARAMETER_KEYS), with this config's values as their defaults.
      serving_smoke_test: run ServingSmokeTest; Pusher then also needs its blessing.
      smoke_num_examples / smoke_max_latency_ms: its request batch size and the
        batch-1 p99 latency above which it does not bless.
      serving_config_base_path: where TF Serving sees ``serving_dir`` (the volume
        mount in kubeflow/serving/deployment.yaml); models.config base paths use it.
        '' means the server reads ``serving_dir`` itself (an object store URL).
      schema_file: ImportSchemaGen's schema; None = schemas/slim_image.pbtxt of this
        checkout (the Kubeflow runner points it at the copy inside the image).
      num_classes: when known, runners write a schema whose label domain is
        [0, num_classes-1] (schemas.write_dataset_schema), so ExampleValidator
        flags out-of-range labels; None keeps only the lower bound 0.
      infer_root: a folder of images (local, gs://, s3://) that a BatchPredict step scores with
        the blessed model after the Evaluator (docs/batch-prediction.md); None: no such step.
    """

    pipeline_name: str = "tfslim-digits"
    pipeline_root: str = "outputs/pipeline_root"
    data_root: str = "data/digits"
    serving_dir: str = "outputs/serving"
    serving_model_name: str = "lenet"
    source: str = "folder"
    verify_decode: bool = False
    train_buckets: int = 4
    eval_buckets: int = 1
    train: TrainConfig = TrainConfig()
    tuner: Optional[TunerConfig] = None
    train_steps: int = 1000
    eval_steps: Optional[int] = None
    accuracy_threshold: float = 0.9
    top5_threshold: Optional[float] = None
    change_threshold: float = -0.01
    use_baseline_resolver: bool = True
    serving_smoke_test: bool = True
    beam_pipeline_args: Tuple[str, ...] = ("--direct_running_mode=in_memory", "--direct_num_workers=1")
    enable_cache: bool = True
    run_parameters: Tuple[str, ...] = RUN_PARAMETER_KEYS
    schema_file: Optional[str] = None
    num_classes: Optional[int] = None
    smoke_num_examples: int = 16
    smoke_max_latency_ms: float = 1000.0
    serving_config_base_path: str = "/models"
    infer_root: Optional[str] = None

    def replace(self, **changes: Any) -> "PipelineConfig":
        return dataclasses.replace(self, **changes)


def preset(name: str, **changes: Any) -> PipelineConfig:
    """The run config ``configs/<name>.yaml`` (or a file path) with runner settings applied.

    The presets are files now (see pipeline/run_config.py); this keeps the old call.
    The net checks that load the model zoo are left to the runners' run_config.load.
    """
    from pipeline import run_config  # pylint: disable=import-outside-toplevel

    return run_config.load(name, check_net=False, **changes)
