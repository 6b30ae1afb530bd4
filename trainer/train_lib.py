"""The training library behind both `tfslim train` and the TFX Trainer's run_fn."""
from __future__ import annotations

import dataclasses
import logging
import os
from typing import Optional, Sequence

import tensorflow as tf
import tf_keras

from trainer import callbacks as cb
from trainer import data, distribute, nets, optim
from trainer.classifier import Classifier
from trainer.config import TrainConfig
from trainer.image_ops import ImageSpec

log = logging.getLogger(__name__)


@dataclasses.dataclass
class TrainResult:
    """What training produced: the net (EMA weights swapped in when enabled) and its history."""

    net: nets.SlimModel
    classifier: Classifier
    image_spec: ImageSpec
    num_classes: int
    steps: int
    history: dict
    restore_report: Optional[nets.RestoreReport] = None


def image_spec_for(config: TrainConfig) -> ImageSpec:
    """The net's preprocessing and input size, with slim's fallbacks to the net's defaults."""
    spec = nets.get_spec(config.model_name)
    return ImageSpec(preprocessing_name=config.preprocessing_name or spec.preprocessing,
                     image_size=config.train_image_size or spec.default_image_size,
                     channels=config.image_channels, resize_to_fit=config.resize_to_fit)


def build_net(config: TrainConfig, num_classes: int, image_spec: ImageSpec,
              is_training: bool = True) -> nets.SlimModel:
    """Creates the zoo net for ``config`` and builds its variables at the input size."""
    kwargs = {}
    if config.dropout_keep_prob is not None:
        kwargs["dropout_keep_prob"] = config.dropout_keep_prob
    net = nets.create_model(config.model_name, num_classes=num_classes, is_training=is_training,
                            weight_decay=config.weight_decay, **kwargs)
    net.ensure_built(image_spec.image_size, image_spec.channels)
    return net


def set_mixed_precision(policy: str) -> None:
    """--mixed_precision {none,mixed_float16,mixed_bfloat16}."""
    tf_keras.mixed_precision.set_global_policy("float32" if policy in ("none", "", None) else policy)


def train(config: TrainConfig, train_files: Sequence[str], num_classes: int,
          eval_files: Optional[Sequence[str]] = None, eval_steps: Optional[int] = None,
          num_train_samples: Optional[int] = None,
          strategy: Optional[tf.distribute.Strategy] = None) -> TrainResult:
    """Trains ``config.model_name`` on slim TFRecords, resuming from ``config.train_dir``.

    Args:
      config: slim's training options.
      train_files: TFRecord globs of the training split.
      num_classes: model outputs (dataset classes - labels_offset).
      eval_files / eval_steps: optional held-out split evaluated at the end.
      num_train_samples: split size for LR decay; counted from the files if None.
      strategy: a tf.distribute strategy; default from ``config.strategy``.
    """
    if not config.max_number_of_steps:
        raise ValueError("--max_number_of_steps must be set (TF2 training needs an end).")
    strategy = strategy or distribute.get_strategy(config.strategy)
    set_mixed_precision(config.mixed_precision)
    if config.seed is not None:
        tf_keras.utils.set_random_seed(config.seed)
    image_spec = image_spec_for(config)
    if num_train_samples is None and config.learning_rate_decay_type != "fixed":
        num_train_samples = data.count_records(train_files)
    tf.io.gfile.makedirs(config.train_dir)

    with strategy.scope():
        net = build_net(config, num_classes, image_spec, is_training=True)
        classifier = Classifier(net, num_classes, label_smoothing=config.label_smoothing,
                                aux_loss_weight=config.aux_loss_weight,
                                trainable_scopes=config.trainable_scopes)
        optimizer = optim.build_optimizer(
            config, optim.learning_rate_schedule(config, num_train_samples or 1))
        if config.mixed_precision == "mixed_float16":
            optimizer = tf_keras.mixed_precision.LossScaleOptimizer(optimizer)
        classifier.compile(optimizer=optimizer, jit_compile=config.jit_compile)
        checkpoint = tf.train.Checkpoint(net=net, optimizer=optimizer)
        manager = tf.train.CheckpointManager(checkpoint, config.train_dir, max_to_keep=5,
                                             checkpoint_name="model.ckpt")
        report = None
        if manager.latest_checkpoint:
            # slim semantics: an existing train_dir checkpoint wins over --checkpoint_path.
            checkpoint.restore(manager.latest_checkpoint)
            if config.checkpoint_path:
                log.info("Ignoring --checkpoint_path because a checkpoint already exists in %s",
                         config.train_dir)
            log.info("Resuming from %s", manager.latest_checkpoint)
        elif config.checkpoint_path:
            report = nets.restore_slim_checkpoint(
                net, config.checkpoint_path, exclude_scopes=config.checkpoint_exclude_scopes,
                ignore_missing_vars=config.ignore_missing_vars)
            log.info("Fine-tuning from %s", report.summary())

    done = int(optimizer.iterations.numpy())
    remaining = config.max_number_of_steps - done
    history: dict = {}
    if remaining > 0:
        dataset = data.make_dataset(train_files, image_spec, config.batch_size, is_training=True,
                                    labels_offset=config.labels_offset,
                                    num_readers=config.num_readers,
                                    shuffle_buffer=config.shuffle_buffer, seed=config.seed)
        callbacks = [
            cb.CheckpointSaver(manager, optimizer, every_secs=config.save_interval_secs,
                               every_steps=config.save_interval_steps),
            cb.StepLogger(optimizer, config.log_every_n_steps, config.max_number_of_steps),
            tf_keras.callbacks.TensorBoard(log_dir=config.train_dir, update_freq=max(
                1, config.log_every_n_steps)),
        ]
        fit = classifier.fit(dataset, epochs=1, steps_per_epoch=remaining, callbacks=callbacks,
                             verbose=0)
        history = {k: [float(x) for x in v] for k, v in fit.history.items()}
        manager.save(checkpoint_number=optimizer.iterations)
    if config.moving_average_decay:
        # Export/eval use the EMA shadows, as slim's eval restored them.
        inner = getattr(optimizer, "inner_optimizer", optimizer)
        inner.finalize_variable_values(classifier.trainable_for_step())
    if eval_files:
        eval_ds = data.make_dataset(eval_files, image_spec, config.batch_size, is_training=False,
                                    labels_offset=config.labels_offset)
        results = classifier.evaluate(eval_ds, steps=eval_steps, verbose=0, return_dict=True)
        history.update({f"eval_{k}": float(v) for k, v in results.items()})
        log.info("Eval: %s", {k: round(float(v), 4) for k, v in results.items()})
    return TrainResult(net=net, classifier=classifier, image_spec=image_spec,
                       num_classes=num_classes, steps=int(optimizer.iterations.numpy()),
                       history=history, restore_report=report)


def default_train_dir(base: str) -> str:
    return os.path.join(base, "train")
