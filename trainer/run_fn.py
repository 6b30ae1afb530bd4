"""The TFX Trainer's run_fn (referenced by dotted path ``trainer.run_fn.run_fn``)."""
from __future__ import annotations

import json
import logging
import os
from typing import Any, Dict

import tensorflow_transform as tft
from tfx.components.trainer.fn_args_utils import FnArgs

from trainer.training import distribute, train_lib
from trainer.export import saved_model as export
from trainer import search_space
from trainer.config import RECIPE_FILE, TRAIN_CONFIG_KEY, TrainConfig
from schemas import labels as labels_lib

log = logging.getLogger(__name__)


def run_fn(fn_args: FnArgs) -> None:
    """Trains the configured zoo net and exports the serving SavedModel.

    ``custom_config['train_config']`` holds TrainConfig fields (slim flag names);
    TrainArgs.num_steps sets max_number_of_steps; the class count comes from the
    ExampleGen's labels.txt. With a Tuner upstream, its best values
    (``fn_args.hyperparameters``) replace the config's. The config trained with is
    recorded as ``recipe.json`` in the ModelRun artifact.
    """
    custom = dict(fn_args.custom_config or {})
    config = TrainConfig.from_dict(custom.get(TRAIN_CONFIG_KEY, {}))
    tuned = search_space.tuned_values(fn_args.hyperparameters)
    if tuned:
        log.info("Training with the Tuner's best values: %s", tuned)
    config = search_space.apply(config, tuned).replace(
        max_number_of_steps=fn_args.train_steps, train_dir=os.path.join(fn_args.model_run_dir, "train"))
    labels = labels_lib.examples_labels(fn_args.train_files[0])
    num_classes = labels_lib.num_classes(labels, config.labels_offset)
    result = train_lib.train(config, fn_args.train_files, num_classes,
                             eval_files=fn_args.eval_files, eval_steps=fn_args.eval_steps)
    log.info("Training history: %s", result.history)
    if not distribute.is_chief():
        return  # TFX: with multi-worker training only the chief exports.
    write_recipe(os.path.join(fn_args.model_run_dir, RECIPE_FILE), config, tuned, result.history)
    tft_output = tft.TFTransformOutput(fn_args.transform_output)
    export.export_saved_model(result.net, result.image_spec,
                              export.class_names_for(labels, num_classes, config.labels_offset),
                              fn_args.serving_model_dir,
                              tft_layer=tft_output.transform_features_layer(),
                              labels_offset=config.labels_offset)


def write_recipe(path: str, config: TrainConfig, tuned: Dict[str, Any], history: Dict[str, Any]) -> None:
    """What the Trainer trained with: the full train config, the values the Tuner chose
    (``{}`` without one) and the end-of-training eval results."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    recipe = {"train_config": config.to_dict(), "tuned": tuned,
              "eval": {k: v for k, v in history.items() if k.startswith("eval_")}}
    with tf.io.gfile.GFile(path, "w") as f:
        json.dump(recipe, f, indent=1, sort_keys=True)
