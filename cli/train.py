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
from typing import List, NoReturn

from absl import flags

from cli import model_flags
from trainer.config import TrainConfig

FLAGS = flags.FLAGS

# TrainConfig keys that are not slim flags: --use_grayscale sets image_channels, and the
# others are run-config keys only (docs/config.md).
NOT_FLAGS = ("image_channels", "resize_to_fit", "summary_images", "aux_loss_weight", "batch_norm_decay")
TRAIN_CONFIG_FLAGS = tuple(name for name in TrainConfig.model_fields if name not in NOT_FLAGS)
model_flags.define(TrainConfig, TRAIN_CONFIG_FLAGS, __name__)
model_flags.define(model_flags.SlimFlags, ("dataset_name", "dataset_split_name", "dataset_dir",
                                           "use_grayscale"), __name__)
model_flags.define_unsupported(("master", "task", "num_ps_tasks", "sync_replicas", "replicas_to_aggregate",
                                "quantize_delay"), __name__)
flags.DEFINE_integer("worker_replicas", 1, "Number of workers; must match TF_CONFIG when > 1.")
flags.DEFINE_string("file_pattern", None, "Glob of the split's files in --dataset_dir "
                    "('%s' = split); default: slim's and tfslim convert's names.")
flags.DEFINE_string("eval_split_name", None, "Evaluate this split at the end (top-1/top-5).")
flags.DEFINE_string("export_dir", None, "Write the serving SavedModel here at the end (chief only).")


def config_from_flags() -> TrainConfig:
    """TrainConfig from the parsed flags, with the net-aware checks that need no TensorFlow.

    Raises:
      pipeline.config_errors.ConfigError: a bad key, net, checkpoint or labels_offset (one line
        naming the flag).
      ValueError: a missing --max_number_of_steps or --dataset_dir.
    """
    from pipeline import train_checks  # pylint: disable=import-outside-toplevel
    from pipeline.config_errors import validated  # pylint: disable=import-outside-toplevel

    if FLAGS.max_number_of_steps is None:
        raise ValueError("--max_number_of_steps is required (TF2 training needs an end).")
    if FLAGS.dataset_dir is None:
        raise ValueError("You must supply the dataset directory with --dataset_dir")
    values = model_flags.values(TrainConfig, TRAIN_CONFIG_FLAGS)
    values["image_channels"] = 1 if FLAGS.use_grayscale else 3
    config = validated(TrainConfig, values, "--").validate()
    for check in (train_checks.check_net, train_checks.check_checkpoint):
        check(config, train_checks.FLAGS)
    train_checks.check_labels_offset(config, None, train_checks.FLAGS)
    return config


def _usage_error(err: Exception) -> NoReturn:
    """A bad flag value: one line naming the flag, exit status 2 (absl's for usage errors)."""
    print(f"tfslim train: {err}", file=sys.stderr)
    sys.exit(2)


def main(argv: List[str]) -> None:
    """Trains, then optionally evaluates and exports; exits 1 with a message on bad input."""
    from pipeline import train_checks  # pylint: disable=import-outside-toplevel
    from pipeline.config_errors import ConfigError  # pylint: disable=import-outside-toplevel

    if len(argv) > 1:
        sys.exit(f"tfslim train: unexpected arguments {argv[1:]}")
    model_flags.exit_on_unsupported("train")
    try:
        config = config_from_flags()
    except ConfigError as err:
        _usage_error(err)
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
    try:  # the checks that need the dataset's class count or the zoo's registry (TensorFlow)
        train_checks.check_labels_offset(config, split.num_classes, train_checks.FLAGS)
        train_checks.check_input_size(config, train_checks.FLAGS)
    except ConfigError as err:
        _usage_error(err)
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
