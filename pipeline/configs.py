"""Typed, frozen pipeline configuration and named presets.

``create_pipeline`` reads only this object; runners fill in environment facts
(paths, metadata, Beam args, images) when they build it.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, Optional, Tuple

from trainer.config import TrainConfig


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
      eval_buckets / train_buckets: hash split of the relative path (train:eval).
      train: slim training options (model_name, optimizer, ...); steps below.
      train_steps / eval_steps: Trainer TrainArgs/EvalArgs.
      accuracy_threshold: Evaluator's absolute lower bound on top-1.
      top5_threshold: optional absolute lower bound on top-5 accuracy (the
        Evaluator's ``top_5_accuracy``); None gates on top-1 only.
      change_threshold: allowed top-1 change vs the last blessed model (>= this).
      use_baseline_resolver: add the LatestBlessedModel Resolver (off for OSS KFP,
        which cannot run resolver nodes).
      beam_pipeline_args: passed to every Beam-based component.
      enable_cache: TFX caching.
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
    """

    pipeline_name: str = "tfslim-digits"
    pipeline_root: str = "outputs/pipeline_root"
    data_root: str = "data/digits"
    serving_dir: str = "outputs/serving"
    serving_model_name: str = "lenet"
    source: str = "folder"
    train_buckets: int = 4
    eval_buckets: int = 1
    train: TrainConfig = TrainConfig()
    train_steps: int = 1000
    eval_steps: Optional[int] = None
    accuracy_threshold: float = 0.9
    top5_threshold: Optional[float] = None
    change_threshold: float = -0.01
    use_baseline_resolver: bool = True
    serving_smoke_test: bool = True
    beam_pipeline_args: Tuple[str, ...] = ("--direct_running_mode=in_memory", "--direct_num_workers=1")
    enable_cache: bool = False
    schema_file: Optional[str] = None
    num_classes: Optional[int] = None
    smoke_num_examples: int = 16
    smoke_max_latency_ms: float = 1000.0
    serving_config_base_path: str = "/models"

    def replace(self, **changes: Any) -> "PipelineConfig":
        return dataclasses.replace(self, **changes)


# LeNet on the 1,797 sklearn digits written as 8x8 grayscale PNGs: slim's mnist
# setup (28x28, 1 channel), Adam; reaches >0.95 held-out top-1 in ~1 minute on 2 cores.
DEMO_TRAIN = TrainConfig(
    model_name="lenet", image_channels=1, batch_size=32, optimizer="adam",
    learning_rate=0.001, opt_epsilon=1e-8, learning_rate_decay_type="fixed", weight_decay=0.0,
    log_every_n_steps=100, save_interval_secs=600, seed=42)

PRESETS: Dict[str, PipelineConfig] = {
    "demo": PipelineConfig(train=DEMO_TRAIN, train_steps=1500, num_classes=10),
    # A few steps on a small subset: for the e2e test and quick checks.
    "smoke": PipelineConfig(train=DEMO_TRAIN.replace(log_every_n_steps=50), train_steps=200,
                            num_classes=10,
                            accuracy_threshold=0.3),
}


def preset(name: str, **changes: Any) -> PipelineConfig:
    """A named preset with overrides; raises ValueError naming the known presets."""
    if name not in PRESETS:
        raise ValueError(f"Unknown preset {name!r}; known: {sorted(PRESETS)}")
    return PRESETS[name].replace(**changes)
