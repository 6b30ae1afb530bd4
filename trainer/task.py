"""The TFX Trainer's run_fn (referenced by dotted path ``trainer.task.run_fn``)."""
from __future__ import annotations

import logging
import os

import tensorflow_transform as tft
from tfx.components.trainer.fn_args_utils import FnArgs

from trainer import distribute, export, train_lib
from trainer.config import TRAIN_CONFIG_KEY, TrainConfig
from schemas import labels as labels_lib
from schemas.layout import examples_root

log = logging.getLogger(__name__)


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
    labels = labels_lib.read_label_file(labels_lib.labels_path(examples_root(fn_args.train_files[0])))
    num_classes = labels_lib.num_classes(labels, config.labels_offset)
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
