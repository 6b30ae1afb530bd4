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

import os
import sys
from typing import List

from absl import flags

FLAGS = flags.FLAGS

# General (slim).
flags.DEFINE_string("master", "", "Unused: TF2 has no session master (kept for slim's scripts).")
flags.DEFINE_string("train_dir", "/tmp/tfmodel/", "Where checkpoints and event logs are written.")
flags.DEFINE_integer("num_clones", 1, "Model replicas on this machine (MirroredStrategy).")
flags.DEFINE_boolean("clone_on_cpu", False, "Replicate on CPU logical devices instead of GPUs.")
flags.DEFINE_integer("worker_replicas", 1, "Number of workers; must match TF_CONFIG when > 1.")
flags.DEFINE_integer("num_ps_tasks", 0, "Parameter servers: not supported (use --strategy).")
flags.DEFINE_integer("num_readers", 4, "Files read in parallel.")
flags.DEFINE_integer("num_preprocessing_threads", 4,
                     "Parallel decode+preprocess calls (<= 0: tf.data AUTOTUNE).")
flags.DEFINE_integer("log_every_n_steps", 10, "How often progress lines are printed.")
flags.DEFINE_integer("save_summaries_secs", 600, "Seconds between TensorBoard summaries.")
flags.DEFINE_integer("save_interval_secs", 600, "Seconds between checkpoints.")
flags.DEFINE_integer("save_interval_steps", None, "Also checkpoint every N steps.")
flags.DEFINE_integer("task", 0, "Unused: the task comes from TF_CONFIG.")
# Optimizer (slim).
flags.DEFINE_float("weight_decay", 0.00004, "The weight decay on the model weights.")
flags.DEFINE_enum("optimizer", "rmsprop", ["adadelta", "adagrad", "adam", "ftrl", "momentum",
                                           "sgd", "rmsprop"], "The optimizer.")
flags.DEFINE_float("adadelta_rho", 0.95, "The decay rate for adadelta.")
flags.DEFINE_float("adagrad_initial_accumulator_value", 0.1, "Starting value of the AdaGrad accumulators.")
flags.DEFINE_float("adam_beta1", 0.9, "Exponential decay rate of the 1st moment estimates.")
flags.DEFINE_float("adam_beta2", 0.999, "Exponential decay rate of the 2nd moment estimates.")
flags.DEFINE_float("opt_epsilon", 1.0, "Epsilon term of adadelta, adam and rmsprop.")
flags.DEFINE_float("ftrl_learning_rate_power", -0.5, "The learning rate power.")
flags.DEFINE_float("ftrl_initial_accumulator_value", 0.1, "Starting value of the FTRL accumulators.")
flags.DEFINE_float("ftrl_l1", 0.0, "The FTRL l1 regularization strength.")
flags.DEFINE_float("ftrl_l2", 0.0, "The FTRL l2 regularization strength.")
flags.DEFINE_float("momentum", 0.9, "The momentum of the momentum optimizer.")
flags.DEFINE_float("rmsprop_momentum", 0.9, "Momentum of rmsprop.")
flags.DEFINE_float("rmsprop_decay", 0.9, "Decay term of rmsprop.")
flags.DEFINE_integer("quantize_delay", -1, "Quantization-aware training: not available in TF2.")
# Learning rate (slim).
flags.DEFINE_enum("learning_rate_decay_type", "exponential", ["fixed", "exponential", "polynomial"],
                  "How the learning rate decays.")
flags.DEFINE_float("learning_rate", 0.01, "Initial learning rate.")
flags.DEFINE_float("end_learning_rate", 0.0001, "Final rate of the polynomial decay.")
flags.DEFINE_float("label_smoothing", 0.0, "The amount of label smoothing.")
flags.DEFINE_float("learning_rate_decay_factor", 0.94, "Learning rate decay factor.")
flags.DEFINE_float("num_epochs_per_decay", 2.0, "Epochs after which the learning rate decays.")
flags.DEFINE_float("warmup_epochs", 0.0, "Linear learning-rate warmup epochs (slim master).")
flags.DEFINE_boolean("sync_replicas", False, "Unused: all-reduce training is synchronous.")
flags.DEFINE_integer("replicas_to_aggregate", 1, "Unused: all-reduce aggregates every replica.")
flags.DEFINE_float("moving_average_decay", None, "Decay of the weights' moving average "
                   "(None: off). The averages are what eval and export use.")
# Dataset (slim).
flags.DEFINE_string("dataset_name", "imagenet", "Dataset name: the prefix of its TFRecord files.")
flags.DEFINE_string("dataset_split_name", "train", "The split to train on.")
flags.DEFINE_string("dataset_dir", None, "Directory with the `tfslim convert` output.")
flags.DEFINE_string("file_pattern", None, "Glob of the split's files in --dataset_dir "
                    "('%s' = split); default: slim's and tfslim convert's names.")
flags.DEFINE_integer("labels_offset", 0, "Subtracted from every label (e.g. 1 to drop "
                     "ImageNet's background class).")
flags.DEFINE_string("model_name", "inception_v3", "The network (see `tfslim models`).")
flags.DEFINE_string("preprocessing_name", None, "Preprocessing (default: the net's).")
flags.DEFINE_integer("batch_size", 32, "Global batch size (split across replicas).")
flags.DEFINE_integer("train_image_size", None, "Train image size (default: the net's).")
flags.DEFINE_integer("max_number_of_steps", None, "Number of training steps (required).")
flags.DEFINE_boolean("use_grayscale", False, "Train on 1-channel grayscale images.")
# Fine-tuning (slim).
flags.DEFINE_string("checkpoint_path", None, "Checkpoint to fine-tune from: slim .ckpt or a TF2 "
                    "train_dir checkpoint (file prefix or directory).")
flags.DEFINE_string("checkpoint_exclude_scopes", None, "Comma-separated scopes not restored.")
flags.DEFINE_string("trainable_scopes", None, "Comma-separated scopes to train (default: all).")
flags.DEFINE_boolean("ignore_missing_vars", False, "Skip variables missing from the checkpoint.")
# TF2 additions.
flags.DEFINE_enum("strategy", "auto", ["auto", "one_device", "mirrored", "multi_worker"],
                  "tf.distribute strategy; multi_worker reads TF_CONFIG.")
flags.DEFINE_enum("mixed_precision", "none", ["none", "mixed_float16", "mixed_bfloat16"],
                  "Keras mixed-precision policy.")
flags.DEFINE_boolean("jit_compile", False, "XLA-compile the training step.")
flags.DEFINE_float("dropout_keep_prob", None, "Override the net's dropout keep probability.")
flags.DEFINE_integer("seed", None, "Random seed (also makes the input order deterministic).")
flags.DEFINE_integer("shuffle_buffer", 2048, "Examples in the shuffle buffer.")
flags.DEFINE_integer("max_checkpoints_to_keep", 5, "Checkpoints kept in --train_dir.")
flags.DEFINE_string("eval_split_name", None, "Evaluate this split at the end (top-1/top-5).")
flags.DEFINE_string("export_dir", None, "Write the serving SavedModel here at the end (chief only).")

_UNSUPPORTED = {
    "num_ps_tasks": (0, "parameter servers are not supported; use --strategy=multi_worker "
                        "with TF_CONFIG"),
    "quantize_delay": (-1, "quantization-aware training (tf.contrib.quantize) does not exist in TF2"),
}


def config_from_flags():
    """TrainConfig from the parsed flags (raises ValueError for unsupported slim options)."""
    from trainer.config import TrainConfig, split_scopes  # pylint: disable=import-outside-toplevel

    for name, (default, why) in _UNSUPPORTED.items():
        if FLAGS[name].value != default:
            raise ValueError(f"--{name}: {why}.")
    if FLAGS.max_number_of_steps is None:
        raise ValueError("--max_number_of_steps is required (TF2 training needs an end).")
    if FLAGS.dataset_dir is None:
        raise ValueError("You must supply the dataset directory with --dataset_dir")
    names = {"train_dir", "num_clones", "clone_on_cpu", "num_readers", "num_preprocessing_threads",
             "log_every_n_steps", "save_summaries_secs", "save_interval_secs",
             "save_interval_steps", "weight_decay", "optimizer", "adadelta_rho",
             "adagrad_initial_accumulator_value", "adam_beta1", "adam_beta2", "opt_epsilon",
             "ftrl_learning_rate_power", "ftrl_initial_accumulator_value", "ftrl_l1", "ftrl_l2",
             "momentum", "rmsprop_momentum", "rmsprop_decay", "learning_rate_decay_type",
             "learning_rate", "end_learning_rate", "label_smoothing",
             "learning_rate_decay_factor", "num_epochs_per_decay", "warmup_epochs",
             "moving_average_decay", "labels_offset", "model_name", "preprocessing_name",
             "batch_size", "train_image_size", "max_number_of_steps", "checkpoint_path",
             "ignore_missing_vars", "strategy", "mixed_precision", "jit_compile", "seed",
             "shuffle_buffer", "max_checkpoints_to_keep", "dropout_keep_prob"}
    values = {name: FLAGS[name].value for name in names}
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
    # The strategy comes first: logical CPU devices and the multi-worker runtime
    # can only be set up before TensorFlow runs an op.
    from trainer import data, distribute, export, train_lib  # pylint: disable=import-outside-toplevel

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
    result = train_lib.train(config, split.files, num_classes, eval_files=eval_files,
                             num_train_samples=split.num_samples, strategy=strategy)
    if FLAGS.export_dir:
        if distribute.is_chief(strategy):
            names = export.class_names_for(split.labels, num_classes, config.labels_offset)
            export.export_saved_model(result.net, result.image_spec, names, FLAGS.export_dir)
            print(f"Exported the serving SavedModel to {FLAGS.export_dir}", flush=True)
        else:
            print("Not the chief: skipping the export.", flush=True)
    print(f"Finished at step {result.steps}; checkpoints in {os.path.abspath(config.train_dir)}",
          flush=True)
