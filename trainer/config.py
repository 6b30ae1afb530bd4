"""TrainConfig: slim's train_image_classifier.py flags as one typed object.

One pydantic model is the single source of truth for the training keys: their types,
defaults, allowed values and help (the ``description``). The run config's ``train:``
block, `tfslim train`'s flags (cli/model_flags.py), docs/config.md
(pipeline/config_docs.py) and the TFX Trainer's ``custom_config`` all read it; both the
CLI and the Trainer then call the same training library (trainer/training/train_lib.py).

Differences from slim, on purpose:
  * ``batch_size`` is the GLOBAL batch (summed over replicas/clones); slim's was
    per clone. The learning-rate decay steps therefore follow the images actually
    consumed (slim ignored num_clones there).
  * ``max_number_of_steps`` is required: a TF2 run needs an end.
  * ``save_interval_steps`` (extra) saves every N steps as well as every N seconds.
"""
from __future__ import annotations

import typing
from typing import Any, Dict, Literal, Optional, Tuple

import pydantic
from pydantic import Field

# custom_config key of the Trainer and Transform components: TrainConfig.to_dict().
TRAIN_CONFIG_KEY = "train_config"
# The TrainConfig keys that decide the image spec (size, channels, preprocessing): all that
# Transform reads, so a change of training options alone leaves Transform's cache key as it was.
IMAGE_SPEC_KEYS = ("model_name", "preprocessing_name", "train_image_size", "image_channels", "resize_to_fit")
# The Trainer's record of what it trained with, in its ModelRun artifact (trainer/run_fn.py).
RECIPE_FILE = "recipe.json"
# Modules (comma-separated) that register nets of their own (trainer.slim.register_net) beside the zoo's.
NET_MODULES_ENV = "TFSLIM_NET_MODULES"
# Strings that mean "unset" for an optional key (YAML null, or `--set key=none`).
NONE_WORDS = ("none", "null", "")

Optimizer = Literal["adadelta", "adagrad", "adam", "ftrl", "momentum", "sgd", "rmsprop"]
DecayType = Literal["exponential", "fixed", "polynomial"]
MixedPrecision = Literal["none", "mixed_float16", "mixed_bfloat16"]
Strategy = Literal["auto", "one_device", "mirrored", "multi_worker"]
OPTIMIZERS = typing.get_args(Optimizer)
DECAY_TYPES = typing.get_args(DecayType)
MIXED_PRECISION = typing.get_args(MixedPrecision)
STRATEGIES = typing.get_args(Strategy)


def optional_of(annotation: Any) -> Tuple[Any, bool]:
    """``Optional[X]`` → (X, True); any other annotation → (it, False)."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is typing.Union and len(args) == 1:
        return args[0], True
    return annotation, False


def is_sequence(annotation: Any) -> bool:
    """A ``Tuple[str, ...]`` key (a YAML list, or one comma-separated string)."""
    return typing.get_origin(optional_of(annotation)[0]) in (tuple, list)


def choices(annotation: Any) -> Tuple[Any, ...]:
    """The allowed values of a ``Literal`` key; () for any other."""
    annotation = optional_of(annotation)[0]
    return typing.get_args(annotation) if typing.get_origin(annotation) is Literal else ()


class ConfigModel(pydantic.BaseModel):
    """A frozen config block: unknown keys are errors, values are read the way YAML files and
    command lines spell them (``none`` for an optional key, ``a,b`` for a list)."""

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid", coerce_numbers_to_str=True)

    @pydantic.model_validator(mode="before")
    @classmethod
    def _spelled_values(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        out = dict(values)
        for name, value in values.items():
            field = cls.model_fields.get(name)
            if field is None or not isinstance(value, str):
                continue
            if optional_of(field.annotation)[1] and value.strip().lower() in NONE_WORDS:
                out[name] = None
            elif is_sequence(field.annotation):
                out[name] = split_scopes(value)
        return out

    def replace(self, **changes: Any):
        """A copy with ``changes`` applied and validated (like dataclasses.replace)."""
        return type(self).model_validate({**dict(self), **changes})


class TrainConfig(ConfigModel):
    """Field names and defaults follow slim's train_image_classifier.py flags."""

    # Model and data.
    model_name: str = Field("inception_v3", description="The network (see `tfslim models`), or one registered "
                                                        "by a module named in TFSLIM_NET_MODULES.")
    preprocessing_name: Optional[str] = Field(None, description="Preprocessing (default: the net's).")
    train_image_size: Optional[int] = Field(None, description="Input image size (default: the net's).")
    image_channels: Literal[1, 3] = Field(
        3, description="Input channels: 3 (colour) or 1 (grayscale; slim's --use_grayscale), for nets "
                       "with lenet or cifarnet preprocessing.")
    resize_to_fit: bool = Field(
        True, description="For the crop/pad preprocessing (lenet, cifarnet): first resize (bilinear) "
                          "an image whose size differs from the input size; a no-op on MNIST/CIFAR.")
    labels_offset: int = Field(0, description="Subtracted from every label (e.g. 1 to drop ImageNet's "
                                              "background class).")
    batch_size: int = Field(32, description="Examples per batch; in training the global batch, split across "
                                               "replicas.")
    max_number_of_steps: Optional[int] = Field(
        None, description="Number of training steps (required by `tfslim train`; the pipeline's "
                          "Trainer takes train_steps).")
    num_readers: int = Field(4, description="Files read in parallel.")
    num_preprocessing_threads: int = Field(
        4, description="Parallel decode+preprocess calls (<= 0: tf.data AUTOTUNE).")
    shuffle_buffer: int = Field(2048, description="Examples in the shuffle buffer.")
    # Optimizer.
    weight_decay: float = Field(0.00004, description="The weight decay on the model weights.")
    optimizer: Optimizer = Field("rmsprop", description="The optimizer.")
    adadelta_rho: float = Field(0.95, description="The decay rate for adadelta.")
    adagrad_initial_accumulator_value: float = Field(
        0.1, description="Starting value of the AdaGrad accumulators.")
    adam_beta1: float = Field(0.9, description="Exponential decay rate of the 1st moment estimates.")
    adam_beta2: float = Field(0.999, description="Exponential decay rate of the 2nd moment estimates.")
    opt_epsilon: float = Field(1.0, description="Epsilon term of adadelta, adam and rmsprop.")
    ftrl_learning_rate_power: float = Field(-0.5, description="The learning rate power.")
    ftrl_initial_accumulator_value: float = Field(
        0.1, description="Starting value of the FTRL accumulators.")
    ftrl_l1: float = Field(0.0, description="The FTRL l1 regularization strength.")
    ftrl_l2: float = Field(0.0, description="The FTRL l2 regularization strength.")
    momentum: float = Field(0.9, description="The momentum of the momentum optimizer.")
    rmsprop_momentum: float = Field(0.9, description="Momentum of rmsprop.")
    rmsprop_decay: float = Field(0.9, description="Decay term of rmsprop.")
    # Learning rate.
    learning_rate_decay_type: DecayType = Field("exponential", description="How the learning rate decays.")
    learning_rate: float = Field(0.01, description="Initial learning rate.")
    end_learning_rate: float = Field(0.0001, description="Final rate of the polynomial decay.")
    label_smoothing: float = Field(0.0, description="The amount of label smoothing.")
    learning_rate_decay_factor: float = Field(0.94, description="Learning rate decay factor.")
    num_epochs_per_decay: float = Field(2.0, description="Epochs after which the learning rate decays.")
    warmup_epochs: float = Field(0.0, description="Linear learning-rate warmup epochs (slim master).")
    moving_average_decay: Optional[float] = Field(
        None, description="Decay of the weights' moving average (none: off); eval and export use "
                          "the averages when it is set.")
    # Fine-tuning.
    checkpoint_path: Optional[str] = Field(
        None, description="Checkpoint to fine-tune from: slim .ckpt or a TF2 train_dir checkpoint "
                          "(file prefix or directory), or a checkpoint table name (docs/downloads.md).")
    checkpoint_exclude_scopes: Tuple[str, ...] = Field((), description="Comma-separated scopes not restored.")
    trainable_scopes: Tuple[str, ...] = Field((), description="Comma-separated scopes to train (default: all).")
    ignore_missing_vars: bool = Field(False, description="Skip variables missing from the checkpoint.")
    # Logging / checkpoints.
    train_dir: str = Field("/tmp/tfmodel/", description="Where checkpoints and event logs are written.")
    log_every_n_steps: int = Field(10, description="How often progress lines are printed.")
    save_interval_secs: int = Field(600, description="Seconds between checkpoints.")
    save_interval_steps: Optional[int] = Field(None, description="Also checkpoint every N steps.")
    save_summaries_secs: int = Field(600, description="Seconds between TensorBoard summaries.")
    max_checkpoints_to_keep: int = Field(5, description="Checkpoints kept in --train_dir.")
    summary_images: int = Field(3, description="Input images written to TensorBoard once per run.")
    # Speed and distribution.
    mixed_precision: MixedPrecision = Field("none", description="Keras mixed-precision policy.")
    jit_compile: bool = Field(False, description="XLA-compile the training step.")
    strategy: Strategy = Field("auto", description="tf.distribute strategy; multi_worker reads TF_CONFIG.")
    num_clones: int = Field(1, description="Model replicas on this machine (MirroredStrategy).")
    clone_on_cpu: bool = Field(False, description="Replicate on CPU logical devices instead of GPUs.")
    aux_loss_weight: float = Field(0.4, description="Loss weight of the AuxLogits head, for nets "
                                                    "that have one (slim: 0.4).")
    dropout_keep_prob: Optional[float] = Field(None, description="Override the net's dropout keep probability.")
    batch_norm_decay: Optional[float] = Field(
        None, description="slim's arg_scope batch_norm_decay (None: the net's, 0.9997 inception/"
                          "mobilenet, 0.997 resnet); a few hundred steps from scratch need ~0.9.")
    seed: Optional[int] = Field(None, description="Random seed (also makes the input order deterministic).")

    def to_dict(self) -> Dict[str, Any]:
        out = self.model_dump()
        for key in ("checkpoint_exclude_scopes", "trainable_scopes"):
            out[key] = list(out[key])
        return out

    @classmethod
    def from_dict(cls, values: Dict[str, Any]) -> "TrainConfig":
        """Builds a config from a dict (e.g. Trainer custom_config); unknown keys are an error."""
        unknown = sorted(set(values) - set(cls.model_fields))
        if unknown:
            raise ValueError(f"Unknown training option(s) {unknown}; known: {sorted(cls.model_fields)}")
        return cls.model_validate(values)

    def validate(self) -> "TrainConfig":
        """Raises ValueError naming the first bad option (slim's messages where it had them)."""
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
        if self.num_clones < 1:
            raise ValueError(f"--num_clones must be >= 1, got {self.num_clones}")
        return self


# Fields that take one of a fixed set of values (their Literal types).
ENUM_FIELDS = {name: values for name, values in ((name, choices(field.annotation))
                                                 for name, field in TrainConfig.model_fields.items())
               if values and isinstance(values[0], str)}


def split_scopes(text: Optional[str]) -> tuple:
    """slim's comma-separated scope lists ("A/Logits,A/AuxLogits") → tuple."""
    if not text:
        return ()
    return tuple(s.strip() for s in text.split(",") if s.strip())
