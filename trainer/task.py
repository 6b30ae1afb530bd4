"""The TFX Trainer's run_fn (referenced by dotted path ``trainer.task.run_fn``)."""
from __future__ import annotations

import logging
import os

import tensorflow_transform as tft
from tfx.components.trainer.fn_args_utils import FnArgs

from trainer import distribute, export, train_lib
from trainer.config import TrainConfig
from components.image_example_gen.labels import labels_path, read_label_file

log = logging.getLogger(__name__)

TRAIN_CONFIG_KEY = "train_config"


def examples_root(file_pattern: str) -> str:
    """``<examples uri>/Split-train/*`` → ``<examples uri>`` (where labels.txt lives)."""
    return os.path.dirname(os.path.dirname(file_pattern))


def run_fn(fn_args: FnArgs) -> None:
    """Trains the configured zoo net and exports the serving SavedModel.

    ``custom_config['train_config']`` holds TrainConfig fields (slim flag names);
    TrainArgs.num_steps sets max_number_of_steps; the class count comes from the
    ExampleGen's labels.txt.
    """
    custom = dict(fn_args.custom_config or {})
    config = TrainConfig.from_dict(custom.get(TRAIN_CONFIG_KEY, {}))
    config = config.replace(max_number_of_steps=fn_args.train_steps,
                            train_dir=os.path.join(fn_args.model_run_dir, "train"))
    labels = read_label_file(labels_path(examples_root(fn_args.train_files[0])))
    num_classes = len(labels) - config.labels_offset
    result = train_lib.train(config, fn_args.train_files, num_classes,
                             eval_files=fn_args.eval_files, eval_steps=fn_args.eval_steps)
    log.info("Training history: %s", result.history)
    if not distribute.is_chief():
        return  # TFX: with multi-worker training only the chief exports.
    tft_output = tft.TFTransformOutput(fn_args.transform_output)
    export.export_saved_model(result.net, result.image_spec,
                              export.class_names_for(labels, num_classes, config.labels_offset),
                              fn_args.serving_model_dir,
                              tft_layer=tft_output.transform_features_layer(),
                              labels_offset=config.labels_offset)
