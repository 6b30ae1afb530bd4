"""`tfslim train`: slim's train_image_classifier.py with slim's flag names.

  tfslim train --train_dir=/tmp/flowers-models/inception_v3 --dataset_dir=/data/flowers \\
      --dataset_name=flowers --dataset_split_name=train --model_name=inception_v3 \\
      --checkpoint_path=/ckpts/inception_v3.ckpt \\
      --checkpoint_exclude_scopes=InceptionV3/Logits,InceptionV3/AuxLogits \\
      --trainable_scopes=InceptionV3/Logits,InceptionV3/AuxLogits --max_number_of_steps=1000

--dataset_dir holds `tfslim convert` output (``<dataset_name>_<split>-*`` shards and
labels.txt); the class count comes from labels.txt and the split size from the
converter's summary (or a count of the records). Differences from slim:
--batch_size is the global batch; --max_number_of_steps is required; the
parameter-server flags (--num_ps_tasks, --sync_replicas, --replicas_to_aggregate,
--master, --task, --worker_replicas) are replaced by --strategy and TF_CONFIG;
--quantize_delay (tf.contrib quantization) is not available.
"""
from __future__ import annotations

import dataclasses
import os
import sys
from typing import List, Mapping

from absl import flags

from trainer.config import ENUM_FIELDS, TrainConfig, split_scopes

FLAGS = flags.FLAGS

# TrainConfig fields exposed as flags of the same (slim) name, with their help; the type,
# default and enum choices come from TrainConfig itself (trainer/config.py).
TRAIN_CONFIG_FLAGS = {
    # General (slim).
    "train_dir": "Where checkpoints and event logs are written.",
    "num_clones": "Model replicas on this machine (MirroredStrategy).",
    "clone_on_cpu": "Replicate on CPU logical devices instead of GPUs.",
    "num_readers": "Files read in parallel.",
    "num_preprocessing_threads": "Parallel decode+preprocess calls (<= 0: tf.data AUTOTUNE).",
    "log_every_n_steps": "How often progress lines are printed.",
    "save_summaries_secs": "Seconds between TensorBoard summaries.",
    "save_interval_secs": "Seconds between checkpoints.",
    "save_interval_steps": "Also checkpoint every N steps.",
    # Optimizer (slim).
    "weight_decay": "The weight decay on the model weights.",
    "optimizer": "The optimizer.",
    "adadelta_rho": "The decay rate for adadelta.",
    "adagrad_initial_accumulator_value": "Starting value of the AdaGrad accumulators.",
    "adam_beta1": "Exponential decay rate of the 1st moment estimates.",
    "adam_beta2": "Exponential decay rate of the 2nd moment estimates.",
    "opt_epsilon": "Epsilon term of adadelta, adam and rmsprop.",
    "ftrl_learning_rate_power": "The learning rate power.",
    "ftrl_initial_accumulator_value": "Starting value of the FTRL accumulators.",
    "ftrl_l1": "The FTRL l1 regularization strength.",
    "ftrl_l2": "The FTRL l2 regularization strength.",
    "momentum": "The momentum of the momentum optimizer.",
    "rmsprop_momentum": "Momentum of rmsprop.",
    "rmsprop_decay": "Decay term of rmsprop.",
    # Learning rate (slim).
    "learning_rate_decay_type": "How the learning rate decays.",
    "learning_rate": "Initial learning rate.",
    "end_learning_rate": "Final rate of the polynomial decay.",
    "label_smoothing": "The amount of label smoothing.",
    "learning_rate_decay_factor": "Learning rate decay factor.",
    "num_epochs_per_decay": "Epochs after which the learning rate decays.",
    "warmup_epochs": "Linear learning-rate warmup epochs (slim master).",
    "moving_average_decay": "Decay of the weights' moving average (None: off). The averages are "
                            "what eval and export use.",
    # Dataset and model (slim).
    "labels_offset": "Subtracted from every label (e.g. 1 to drop ImageNet's background class).",
    "model_name": "The network (see `tfslim models`).",
    "preprocessing_name": "Preprocessing (default: the net's).",
    "batch_size": "Global batch size (split across replicas).",
    "train_image_size": "Train image size (default: the net's).",
    "max_number_of_steps": "Number of training steps (required).",
    # Fine-tuning (slim).
    "checkpoint_path": "Checkpoint to fine-tune from: slim .ckpt or a TF2 train_dir checkpoint "
                       "(file prefix or directory).",
    "ignore_missing_vars": "Skip variables missing from the checkpoint.",
    # TF2 additions.
    "strategy": "tf.distribute strategy; multi_worker reads TF_CONFIG.",
    "mixed_precision": "Keras mixed-precision policy.",
    "jit_compile": "XLA-compile the training step.",
    "dropout_keep_prob": "Override the net's dropout keep probability.",
    "seed": "Random seed (also makes the input order deterministic).",
    "shuffle_buffer": "Examples in the shuffle buffer.",
    "max_checkpoints_to_keep": "Checkpoints kept in --train_dir.",
}
_DEFINE_BY_TYPE = (("bool", flags.DEFINE_boolean), ("int", flags.DEFINE_integer),
                   ("float", flags.DEFINE_float), ("str", flags.DEFINE_string))


def define_train_config_flags(names: Mapping[str, str]) -> None:
    """One absl flag per TrainConfig field in ``names`` (name → help): the field's default,
    its type, and for fields with a fixed set of values (ENUM_FIELDS) an enum flag."""
    for field in dataclasses.fields(TrainConfig):
        if field.name not in names:
            continue
        if field.name in ENUM_FIELDS:
            flags.DEFINE_enum(field.name, field.default, list(ENUM_FIELDS[field.name]), names[field.name])
            continue
        type_name = field.type if isinstance(field.type, str) else field.type.__name__
        define = next(fn for key, fn in _DEFINE_BY_TYPE if key in type_name)
        define(field.name, field.default, names[field.name])


define_train_config_flags(TRAIN_CONFIG_FLAGS)
# slim flags without a TrainConfig field.
flags.DEFINE_string("master", "", "Not in TF2 (no session master): set TF_CONFIG instead.")
flags.DEFINE_integer("worker_replicas", 1, "Number of workers; must match TF_CONFIG when > 1.")
flags.DEFINE_integer("num_ps_tasks", 0, "Parameter servers: not supported (use --strategy).")
flags.DEFINE_integer("task", 0, "Not in TF2: the task index comes from TF_CONFIG.")
flags.DEFINE_integer("quantize_delay", -1, "Quantization-aware training: not available in TF2.")
flags.DEFINE_boolean("sync_replicas", False, "Not in TF2: all-reduce training is synchronous.")
flags.DEFINE_integer("replicas_to_aggregate", 1, "Not in TF2: all-reduce aggregates every "
                     "replica.")
flags.DEFINE_string("dataset_name", "imagenet", "Dataset name: the prefix of its TFRecord files.")
flags.DEFINE_string("dataset_split_name", "train", "The split to train on.")
flags.DEFINE_string("dataset_dir", None, "Directory with the `tfslim convert` output or a "
                    "pipeline Examples artifact (Split-<name>/ folders).")
flags.DEFINE_string("file_pattern", None, "Glob of the split's files in --dataset_dir "
                    "('%s' = split); default: slim's and tfslim convert's names.")
flags.DEFINE_boolean("use_grayscale", False, "Train on 1-channel grayscale images.")
flags.DEFINE_string("checkpoint_exclude_scopes", None, "Comma-separated scopes not restored.")
flags.DEFINE_string("trainable_scopes", None, "Comma-separated scopes to train (default: all).")
flags.DEFINE_string("eval_split_name", None, "Evaluate this split at the end (top-1/top-5).")
flags.DEFINE_string("export_dir", None, "Write the serving SavedModel here at the end (chief only).")

_UNSUPPORTED = {
    "num_ps_tasks": (0, "parameter servers are not supported; use --strategy=multi_worker "
                        "with TF_CONFIG"),
    "quantize_delay": (-1, "quantization-aware training (tf.contrib.quantize) does not exist in TF2"),
    "sync_replicas": (False, "SyncReplicasOptimizer does not exist in TF2; --strategy's all-reduce "
                             "training is always synchronous, so drop the flag"),
    "replicas_to_aggregate": (1, "SyncReplicasOptimizer does not exist in TF2; all-reduce "
                                 "aggregates every replica's gradients each step"),
    "master": ("", "TF2 has no session master; for several machines use "
                   "--strategy=multi_worker with TF_CONFIG"),
    "task": (0, "the task index comes from TF_CONFIG's task.index with "
                "--strategy=multi_worker; set TF_CONFIG instead"),
}


def config_from_flags():
    """TrainConfig from the parsed flags (raises ValueError for unsupported slim options)."""
    for name, (default, why) in _UNSUPPORTED.items():
        if FLAGS[name].value != default:
            raise ValueError(f"--{name}: {why}.")
    if FLAGS.max_number_of_steps is None:
        raise ValueError("--max_number_of_steps is required (TF2 training needs an end).")
    if FLAGS.dataset_dir is None:
        raise ValueError("You must supply the dataset directory with --dataset_dir")
    values = {name: FLAGS[name].value for name in TRAIN_CONFIG_FLAGS}
    values["checkpoint_exclude_scopes"] = split_scopes(FLAGS.checkpoint_exclude_scopes)
    values["trainable_scopes"] = split_scopes(FLAGS.trainable_scopes)
    values["image_channels"] = 1 if FLAGS.use_grayscale else 3
    return TrainConfig(**values).validate()


def main(argv: List[str]) -> None:
    """Trains, then optionally evaluates and exports; exits 1 with a message on bad input."""
    if len(argv) > 1:
        sys.exit(f"tfslim train: unexpected arguments {argv[1:]}")
    try:
        config = config_from_flags()
    except ValueError as err:
        sys.exit(f"tfslim train: {err}")
    from runners.quiet import quiet_import_tensorflow  # pylint: disable=import-outside-toplevel

    quiet_import_tensorflow()
    # The strategy comes first: logical CPU devices and the multi-worker runtime
    # can only be set up before TensorFlow runs an op.
    from trainer.training import data, distribute, train_lib  # pylint: disable=import-outside-toplevel
    from trainer.export import saved_model as export

    strategy = distribute.get_strategy(config.strategy, config.num_clones, config.clone_on_cpu)
    workers = distribute.num_workers(strategy)
    if FLAGS.worker_replicas > 1 and FLAGS.worker_replicas != workers:
        sys.exit(f"tfslim train: --worker_replicas={FLAGS.worker_replicas} but TF_CONFIG names "
                 f"{workers} worker(s).")
    try:
        split = data.dataset_split(FLAGS.dataset_dir, FLAGS.dataset_name,
                                   FLAGS.dataset_split_name, FLAGS.file_pattern)
        eval_files = (data.find_split_files(FLAGS.dataset_dir, FLAGS.dataset_name,
                                            FLAGS.eval_split_name, FLAGS.file_pattern)
                      if FLAGS.eval_split_name else None)
    except (FileNotFoundError, ValueError) as err:
        sys.exit(f"tfslim train: {err}")
    num_classes = split.num_classes - config.labels_offset
    print(f"{FLAGS.dataset_name}/{FLAGS.dataset_split_name}: {split.num_samples} images in "
          f"{len(split.files)} file(s), {split.num_classes} classes", flush=True)
    try:
        result = train_lib.train(config, split.files, num_classes, eval_files=eval_files,
                                 num_train_samples=split.num_samples, strategy=strategy)
    except train_lib.NonFiniteLossError as err:
        sys.exit(f"tfslim train: {err}")
    if FLAGS.export_dir:
        if distribute.is_chief(strategy):
            names = export.class_names_for(split.labels, num_classes, config.labels_offset)
            export.export_saved_model(result.net, result.image_spec, names, FLAGS.export_dir)
            print(f"Exported the serving SavedModel to {FLAGS.export_dir}", flush=True)
        else:
            print("Not the chief: skipping the export.", flush=True)
    print(f"Finished at step {result.steps}; checkpoints in {os.path.abspath(config.train_dir)}",
          flush=True)
