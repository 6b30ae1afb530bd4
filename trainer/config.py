"""TrainConfig: slim's train_image_classifier.py flags as one typed object.

The CLI builds it from absl flags and the TFX Trainer from ``custom_config``;
both then call the same training library (trainer/training/train_lib.py).

Differences from slim, on purpose:
  * ``batch_size`` is the GLOBAL batch (summed over replicas/clones); slim's was
    per clone. The learning-rate decay steps therefore follow the images actually
    consumed (slim ignored num_clones there).
  * ``max_number_of_steps`` is required: a TF2 run needs an end.
  * ``save_interval_steps`` (extra) saves every N steps as well as every N seconds.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, Optional, Sequence

# custom_config key of the Trainer and Transform components: TrainConfig.to_dict().
TRAIN_CONFIG_KEY = "train_config"
# The TrainConfig keys that decide the image spec (size, channels, preprocessing): all that
# Transform reads, so a change of training options alone leaves Transform's cache key as it was.
IMAGE_SPEC_KEYS = ("model_name", "preprocessing_name", "train_image_size", "image_channels", "resize_to_fit")
# The Trainer's record of what it trained with, in its ModelRun artifact (trainer/run_fn.py).
RECIPE_FILE = "recipe.json"

OPTIMIZERS = ("adadelta", "adagrad", "adam", "ftrl", "momentum", "sgd", "rmsprop")
DECAY_TYPES = ("exponential", "fixed", "polynomial")
MIXED_PRECISION = ("none", "mixed_float16", "mixed_bfloat16")
STRATEGIES = ("auto", "one_device", "mirrored", "multi_worker")
# Fields that take one of a fixed set of values (validate() and `tfslim train`'s enum flags).
ENUM_FIELDS = {"optimizer": OPTIMIZERS, "learning_rate_decay_type": DECAY_TYPES,
               "mixed_precision": MIXED_PRECISION, "strategy": STRATEGIES}


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Field names and defaults follow slim's train_image_classifier.py flags."""

    # Model and data.
    model_name: str = "inception_v3"
    preprocessing_name: Optional[str] = None  # falls back to the net's preprocessing
    train_image_size: Optional[int] = None  # falls back to the net's default size
    image_channels: int = 3  # 1 = slim's --use_grayscale
    resize_to_fit: bool = True
    labels_offset: int = 0
    batch_size: int = 32  # global batch (summed over replicas)
    max_number_of_steps: Optional[int] = None
    num_readers: int = 4  # files read in parallel (tf.data interleave cycle)
    num_preprocessing_threads: int = 4  # parallel decode+preprocess calls; <= 0 = AUTOTUNE
    shuffle_buffer: int = 2048
    # Optimizer.
    weight_decay: float = 0.00004
    optimizer: str = "rmsprop"
    adadelta_rho: float = 0.95
    adagrad_initial_accumulator_value: float = 0.1
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    opt_epsilon: float = 1.0
    ftrl_learning_rate_power: float = -0.5
    ftrl_initial_accumulator_value: float = 0.1
    ftrl_l1: float = 0.0
    ftrl_l2: float = 0.0
    momentum: float = 0.9
    rmsprop_momentum: float = 0.9
    rmsprop_decay: float = 0.9
    # Learning rate.
    learning_rate_decay_type: str = "exponential"
    learning_rate: float = 0.01
    end_learning_rate: float = 0.0001
    label_smoothing: float = 0.0
    learning_rate_decay_factor: float = 0.94
    num_epochs_per_decay: float = 2.0
    warmup_epochs: float = 0.0  # slim master: linear warmup, lr = min(warmup_lr, decayed_lr)
    moving_average_decay: Optional[float] = None
    # Fine-tuning.
    checkpoint_path: Optional[str] = None
    checkpoint_exclude_scopes: Sequence[str] = ()
    trainable_scopes: Sequence[str] = ()
    ignore_missing_vars: bool = False
    # Logging / checkpoints.
    train_dir: str = "/tmp/tfmodel/"
    log_every_n_steps: int = 10
    save_interval_secs: int = 600
    save_interval_steps: Optional[int] = None
    save_summaries_secs: int = 600
    max_checkpoints_to_keep: int = 5
    summary_images: int = 3  # input images written to TensorBoard once per run
    # Speed and distribution.
    mixed_precision: str = "none"
    jit_compile: bool = False
    strategy: str = "auto"
    num_clones: int = 1  # replicas on this machine for mirrored (GPUs, or CPUs with clone_on_cpu)
    clone_on_cpu: bool = False
    # Aux-logits loss weight for nets with AuxLogits (slim: 0.4).
    aux_loss_weight: float = 0.4
    dropout_keep_prob: Optional[float] = None
    # slim's arg_scope batch_norm_decay (None = the net's: 0.9997 inception/mobilenet,
    # 0.997 resnet); a few hundred steps from scratch need ~0.9 (see trainer/training/hints.py).
    batch_norm_decay: Optional[float] = None
    seed: Optional[int] = None  # also makes the input order deterministic

    def replace(self, **changes: Any) -> "TrainConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> Dict[str, Any]:
        out = dataclasses.asdict(self)
        for key in ("checkpoint_exclude_scopes", "trainable_scopes"):
            out[key] = list(out[key])
        return out

    @classmethod
    def from_dict(cls, values: Dict[str, Any]) -> "TrainConfig":
        """Builds a config from a dict (e.g. Trainer custom_config); unknown keys are an error."""
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - fields)
        if unknown:
            raise ValueError(f"Unknown training option(s) {unknown}; known: {sorted(fields)}")
        values = dict(values)
        for key in ("checkpoint_exclude_scopes", "trainable_scopes"):
            if isinstance(values.get(key), str):
                values[key] = split_scopes(values[key])
            elif key in values:
                values[key] = tuple(values[key])
        return cls(**values)

    def validate(self) -> "TrainConfig":
        """Raises ValueError naming the first bad option (slim's messages where it had them)."""
        for name, message in (("optimizer", "Optimizer [{}] was not recognized"),
                              ("learning_rate_decay_type", "learning_rate_decay_type [{}] was not recognized"),
                              ("mixed_precision", "--mixed_precision {!r}"), ("strategy", "--strategy {!r}")):
            _one_of(name, getattr(self, name), ENUM_FIELDS[name], message)
        if not self.max_number_of_steps or self.max_number_of_steps < 1:
            raise ValueError("--max_number_of_steps must be set to a positive number "
                             "(TF2 training needs an end).")
        if self.batch_size < 1:
            raise ValueError(f"--batch_size must be positive, got {self.batch_size}")
        if self.moving_average_decay is not None and not 0.0 < self.moving_average_decay < 1.0:
            raise ValueError(f"--moving_average_decay must be in (0, 1), got "
                             f"{self.moving_average_decay}")
        if self.batch_norm_decay is not None and not 0.0 < self.batch_norm_decay < 1.0:
            raise ValueError(f"--batch_norm_decay must be in (0, 1), got {self.batch_norm_decay}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(f"--label_smoothing must be in [0, 1), got {self.label_smoothing}")
        if self.image_channels not in (1, 3):
            raise ValueError(f"image_channels must be 1 or 3, got {self.image_channels}")
        if self.num_clones < 1:
            raise ValueError(f"--num_clones must be >= 1, got {self.num_clones}")
        return self


def _one_of(name: str, value: str, allowed: Sequence[str], message: str) -> None:
    if value not in allowed:
        raise ValueError(f"{message.format(value)}; --{name} must be one of {list(allowed)}")


def split_scopes(text: Optional[str]) -> tuple:
    """slim's comma-separated scope lists ("A/Logits,A/AuxLogits") → tuple."""
    if not text:
        return ()
    return tuple(s.strip() for s in text.split(",") if s.strip())
