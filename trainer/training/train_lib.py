"""The training library behind both `tfslim train` and the TFX Trainer's run_fn.

One call, :func:`train`, does what slim's train_image_classifier.py did:
build the net and optimizer under a tf.distribute strategy, resume from the
newest checkpoint in ``train_dir`` or else initialise from --checkpoint_path
(slim's fine-tuning rules), run ``max_number_of_steps`` with periodic
checkpoints, summaries and progress lines, and hand back a net holding the final
weights (the moving averages when --moving_average_decay is set).
"""
from __future__ import annotations

import dataclasses
import logging
import os
from typing import List, Optional, Sequence

import tensorflow as tf
import tf_keras

from trainer.training import callbacks as cb
from trainer.training import console, data, distribute, finetune, hints, optim
from trainer import nets
from trainer.zoo import pretrained
from trainer.training.classifier import Classifier
from trainer.config import TrainConfig
from trainer.training.ema import MovingAverages
from trainer.preprocessing.image_ops import ImageSpec, image_spec_for

log = logging.getLogger(__name__)

CHECKPOINT_NAME = "model.ckpt"
# Optimizers that read --opt_epsilon (slim's _configure_optimizer).
EPSILON_OPTIMIZERS = ("adadelta", "adam", "rmsprop")


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or Inf: training stopped at that step, the last good checkpoint kept."""


def non_finite_message(failure: cb.NonFiniteLoss, config: TrainConfig,
                       latest_checkpoint: Optional[str]) -> str:
    """One line: where the loss went non-finite, the checkpoint kept, and what to change."""
    causes = [f"a learning rate too high (--learning_rate={config.learning_rate:g})"]
    if config.optimizer in EPSILON_OPTIMIZERS:
        causes.append(f"an optimizer epsilon too small (--opt_epsilon={config.opt_epsilon:g} for "
                      f"{config.optimizer})")
    causes.append("bad input (corrupt images or labels in the dataset)")
    kept = latest_checkpoint or f"none written in {config.train_dir}"
    return (f"Training stopped: {failure.describe()}. Last good checkpoint kept: {kept}. Likely "
            f"causes: {', '.join(causes[:-1])} or {causes[-1]}; fix it and rerun (a rerun resumes "
            "from that checkpoint; a new --train_dir starts over).")


@dataclasses.dataclass
class TrainResult:
    """What training produced.

    ``net`` is a plain (undistributed, float32, inference-mode) copy holding the
    final weights — the EMA shadows when --moving_average_decay is set — ready
    for export on any worker. ``classifier`` is the trained, distributed model
    (also holding the EMA weights after training).
    """

    net: nets.SlimModel
    classifier: Classifier
    image_spec: ImageSpec
    num_classes: int
    steps: int
    history: dict
    restore_report: Optional[nets.RestoreReport] = None


@dataclasses.dataclass
class TrainState:
    """The trackable objects of one run and the checkpoint that holds them."""

    net: nets.SlimModel
    classifier: Classifier
    optimizer: tf_keras.optimizers.Optimizer
    schedule: optim.SlimLearningRate
    moving_averages: Optional[MovingAverages]
    checkpoint: tf.train.Checkpoint
    manager: tf.train.CheckpointManager

    @property
    def step(self) -> int:
        return int(self.optimizer.iterations.numpy())


def build_net(config: TrainConfig, num_classes: int, image_spec: ImageSpec,
              is_training: bool = True) -> nets.SlimModel:
    """Creates the zoo net for ``config`` and builds its variables at the input size."""
    kwargs = {}
    if config.dropout_keep_prob is not None:
        kwargs["dropout_keep_prob"] = config.dropout_keep_prob
    net = nets.create_model(config.model_name, num_classes=num_classes, is_training=is_training,
                            weight_decay=config.weight_decay, **kwargs)
    net.ensure_built(image_spec.image_size, image_spec.channels)
    if config.batch_norm_decay is not None:
        set_batch_norm_decay(net, config.batch_norm_decay)
    return net


def batch_norm_layers(net: nets.SlimModel) -> list:
    return [m for m in net.submodules if isinstance(m, tf_keras.layers.BatchNormalization)]


def set_batch_norm_decay(net: nets.SlimModel, decay: float) -> None:
    """slim's arg_scope ``batch_norm_decay`` for every batch-norm layer of ``net``.

    Keras reads ``momentum`` when the training step is traced, so setting it after
    construction is the same as passing it to the family's arg_scope.
    """
    for layer in batch_norm_layers(net):
        layer.momentum = decay


def net_batch_norm_decay(net: nets.SlimModel) -> Optional[float]:
    """The (largest) batch-norm decay in ``net``; None for nets without batch norm."""
    momenta = [float(layer.momentum) for layer in batch_norm_layers(net)]
    return max(momenta) if momenta else None


def set_mixed_precision(policy: Optional[str]) -> None:
    """--mixed_precision {none,mixed_float16,mixed_bfloat16}."""
    tf_keras.mixed_precision.set_global_policy("float32" if policy in ("none", "", None) else policy)


def _base_optimizer(optimizer):
    return getattr(optimizer, "inner_optimizer", optimizer)


def create_state(config: TrainConfig, num_classes: int, image_spec: ImageSpec,
                 num_train_samples: int, strategy: tf.distribute.Strategy,
                 checkpoint_dir: str) -> TrainState:
    """Builds net, optimizer (slots included), EMA and checkpoint under ``strategy``."""
    with strategy.scope():
        net = build_net(config, num_classes, image_spec, is_training=True)
        schedule = optim.learning_rate_schedule(config, max(1, num_train_samples))
        optimizer = optim.build_optimizer(config, schedule)
        if config.mixed_precision == "mixed_float16":
            optimizer = tf_keras.mixed_precision.LossScaleOptimizer(optimizer)
        averages = (MovingAverages(net.slim_variables(), config.moving_average_decay)
                    if config.moving_average_decay else None)
        classifier = Classifier(net, num_classes, label_smoothing=config.label_smoothing,
                                aux_loss_weight=config.aux_loss_weight,
                                trainable_scopes=config.trainable_scopes,
                                learning_rate_fn=schedule, moving_averages=averages)
        classifier.compile(optimizer=optimizer, jit_compile=config.jit_compile)
        # Create the slots now, so a restore fills them instead of deferring.
        _base_optimizer(optimizer).build(classifier.trainable_for_step())
        objects = {"net": net, "optimizer": optimizer,
                   "slim_names": finetune.SlimNameIndex(net.slim_variables())}
        if averages is not None:
            objects["ema"] = averages
        checkpoint = tf.train.Checkpoint(**objects)
    manager = tf.train.CheckpointManager(checkpoint, checkpoint_dir,
                                         max_to_keep=config.max_checkpoints_to_keep,
                                         checkpoint_name=CHECKPOINT_NAME)
    return TrainState(net=net, classifier=classifier, optimizer=optimizer, schedule=schedule,
                      moving_averages=averages, checkpoint=checkpoint, manager=manager)


def restore_or_initialize(state: TrainState, config: TrainConfig) -> Optional[nets.RestoreReport]:
    """slim's rule: resume from train_dir's newest checkpoint; only without one use --checkpoint_path.

    Resuming restores the weights, the step, the optimizer slots and the EMA
    shadows. Fine-tuning restores model variables only (minus
    --checkpoint_exclude_scopes) and starts the shadows at the restored values.
    """
    latest = tf.train.latest_checkpoint(config.train_dir)
    if latest:
        _check_same_model(state, latest)
        state.checkpoint.restore(latest).expect_partial()
        if config.checkpoint_path:
            _say(f"Ignoring --checkpoint_path because a checkpoint already exists in "
                 f"{config.train_dir}")
        if state.moving_averages is not None and not _has_ema(latest):
            log.warning("%s holds no moving averages; starting them at the restored weights.",
                        latest)
            state.moving_averages.reset()
        _say(f"Resuming from {latest} at step {state.step}")
        return None
    if not config.checkpoint_path:
        return None
    report = finetune.restore_net(state.net, pretrained.resolve(config.checkpoint_path),
                                  exclude_scopes=config.checkpoint_exclude_scopes,
                                  ignore_missing_vars=config.ignore_missing_vars)
    if state.moving_averages is not None:
        state.moving_averages.reset()
    _say(f"Fine-tuning from {report.summary()}")
    return report


def _check_same_model(state: TrainState, path: str) -> None:
    """A train_dir checkpoint of another net (or class count) is an error, not a partial resume."""
    keys = finetune.slim_tensor_keys(path)
    shapes = tf.train.load_checkpoint(path).get_variable_to_shape_map()
    wrong = sorted(n for n, v in state.net.slim_variables().items()
                   if n not in keys or list(shapes[keys[n]]) != v.shape.as_list())
    if wrong:
        raise ValueError(f"--train_dir {os.path.dirname(path)} holds a checkpoint of another model "
                         f"or class count ({len(wrong)} variables differ, e.g. {wrong[0]}); use a new "
                         "--train_dir, or pass that checkpoint as --checkpoint_path to fine-tune.")


def _has_ema(path: str) -> bool:
    return any(key.startswith("ema/") for key, _ in tf.train.list_variables(path))


def _say(message: str) -> None:
    console.say(message, log)


def _agree_fn(strategy: tf.distribute.Strategy):
    """With several workers: 'save now' if any worker says so (a one-scalar all-reduce)."""
    if distribute.num_workers(strategy) <= 1:
        return None

    @tf.function
    def votes(flag):
        per_replica = strategy.run(lambda: tf.identity(flag))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    return lambda due: bool(votes(tf.constant(1.0 if due else 0.0)).numpy() > 0)


def _sample_images(dataset: tf.data.Dataset, count: int) -> Optional[tf.Tensor]:
    """The first ``count`` training images, for the summary. ``dataset`` must be its own
    copy: iterating the training dataset itself would advance its reshuffle seed, so the
    chief (the only one writing summaries) would train on another order than the other
    workers, and the order would depend on --summary_images."""
    if count <= 0:
        return None
    images, _ = next(iter(dataset.take(1)))
    return images[:count]


def _plain_copy(config: TrainConfig, num_classes: int, image_spec: ImageSpec,
                net: nets.SlimModel) -> nets.SlimModel:
    """A float32 inference copy of ``net`` outside any strategy (export needs no collectives)."""
    previous = tf_keras.mixed_precision.global_policy()
    tf_keras.mixed_precision.set_global_policy("float32")
    try:
        copy = build_net(config, num_classes, image_spec, is_training=False)
    finally:
        tf_keras.mixed_precision.set_global_policy(previous)
    source = net.slim_variables()
    for name, var in sorted(copy.slim_variables().items()):
        var.assign(tf.cast(tf.convert_to_tensor(source[name]), var.dtype))
    return copy


def evaluate(net: nets.SlimModel, config: TrainConfig, image_spec: ImageSpec, num_classes: int,
             eval_files: Sequence[str], eval_steps: Optional[int] = None) -> dict:
    """Top-1 ('eval_accuracy'), top-5 ('eval_recall_5') and cross entropy of ``net`` on a split.

    Runs on the plain export copy outside the training strategy: it measures
    exactly the weights that are exported, and a final partial batch cannot
    leave a replica with an empty batch.
    """
    evaluator = Classifier(net, num_classes)
    evaluator.compile()
    eval_ds = data.make_dataset(eval_files, image_spec, config.batch_size, is_training=False,
                                labels_offset=config.labels_offset,
                                num_parallel_calls=config.num_preprocessing_threads)
    results = evaluator.evaluate(eval_ds, steps=eval_steps, verbose=0, return_dict=True)
    _say(f"Eval: { {k: round(float(v), 4) for k, v in results.items()} }")
    return {f"eval_{k}": float(v) for k, v in results.items()}


def write_eval_summaries(logdir: str, results: dict, step: int) -> None:
    """The end-of-training evaluation as TensorBoard scalars (``eval/<metric>`` at the last step)."""
    writer = tf.summary.create_file_writer(logdir)
    with writer.as_default(step=step):
        for key, value in results.items():
            tf.summary.scalar("eval/" + key[len("eval_"):], value)
    writer.flush()
    writer.close()


def train(config: TrainConfig, train_files: Sequence[str], num_classes: int,
          eval_files: Optional[Sequence[str]] = None, eval_steps: Optional[int] = None,
          num_train_samples: Optional[int] = None,
          strategy: Optional[tf.distribute.Strategy] = None) -> TrainResult:
    """Trains ``config.model_name`` on slim TFRecords, resuming from ``config.train_dir``.

    Args:
      config: slim's training options.
      train_files: TFRecord globs of the training split.
      num_classes: model outputs (dataset classes - labels_offset).
      eval_files / eval_steps: optional held-out split evaluated at the end with
        the exported weights (EMA when enabled); results land in history['eval_*'].
      num_train_samples: split size for LR decay; read from the converter's
        summary or counted when None.
      strategy: a tf.distribute strategy; default from ``config.strategy``. Create
        it before any other TensorFlow work (see trainer/training/distribute.py).
    """
    config.validate()
    strategy = strategy or distribute.get_strategy(config.strategy, config.num_clones,
                                                   config.clone_on_cpu)
    previous_policy = tf_keras.mixed_precision.global_policy()
    set_mixed_precision(config.mixed_precision)
    try:
        return _train(config, train_files, num_classes, eval_files, eval_steps,
                      num_train_samples, strategy)
    finally:
        tf_keras.mixed_precision.set_global_policy(previous_policy)


def _train(config, train_files, num_classes, eval_files, eval_steps, num_train_samples,
           strategy) -> TrainResult:
    if config.seed is not None:
        tf_keras.utils.set_random_seed(config.seed)
    image_spec = image_spec_for(config)
    if num_train_samples is None:
        needs_size = config.learning_rate_decay_type != "fixed" or config.warmup_epochs > 0
        num_train_samples = data.num_samples(data.list_files(train_files)) if needs_size else 1
    chief = distribute.is_chief(strategy)
    write_dir = distribute.worker_dir(config.train_dir, strategy)
    tf.io.gfile.makedirs(write_dir)
    if chief:
        remove_stale_temp_checkpoints(config.train_dir)
    state = create_state(config, num_classes, image_spec, num_train_samples, strategy, write_dir)
    report = restore_or_initialize(state, config)
    for line in hints.hints(config, net_batch_norm_decay=net_batch_norm_decay(state.net)):
        _say(line)
    _say(f"Training {config.model_name} ({num_classes} classes, {image_spec.image_size}px) on "
         f"{strategy.num_replicas_in_sync} replica(s), global batch {config.batch_size}, "
         f"{config.optimizer}, lr {config.learning_rate_decay_type} "
         f"(decay every {state.schedule.decay_steps} steps), step {state.step}/"
         f"{config.max_number_of_steps}")

    remaining = config.max_number_of_steps - state.step
    guard = cb.NanGuard(state.optimizer)
    saver = cb.CheckpointSaver(state.manager, state.optimizer, every_secs=config.save_interval_secs,
                               every_steps=config.save_interval_steps, agree=_agree_fn(strategy),
                               guard=guard)
    history: dict = {}
    if remaining > 0:
        num_train_files = len(data.list_files(train_files))

        def train_dataset() -> tf.data.Dataset:
            return data.make_dataset(
                train_files, image_spec, config.batch_size, is_training=True,
                labels_offset=config.labels_offset, num_readers=config.num_readers,
                shuffle_buffer=config.shuffle_buffer, seed=resume_seed(config.seed, state.step),
                num_parallel_calls=config.num_preprocessing_threads,
                shard=distribute.input_shard(num_train_files, strategy))

        dataset = distribute.shard_inputs(train_dataset(), num_train_files, strategy)
        _, task_id = distribute.task_of(strategy)
        callbacks = [guard, saver, cb.ProgressLogger(
            state.optimizer, config.log_every_n_steps, config.max_number_of_steps,
            config.batch_size, prefix="" if chief else f"[worker {task_id}] ")]
        if chief:
            callbacks.append(cb.SummaryWriter(
                config.train_dir, state.optimizer, config.save_summaries_secs,
                config.max_number_of_steps, _sample_images(train_dataset(), config.summary_images)))
        fit = state.classifier.fit(dataset, epochs=1, steps_per_epoch=remaining,
                                   callbacks=callbacks, verbose=0)
        if guard.failure is not None:
            raise NonFiniteLossError(non_finite_message(guard.failure, config,
                                                        state.manager.latest_checkpoint))
        history = {k: [float(x) for x in v] for k, v in fit.history.items()}
        saver.save(state.step)
    if not chief:
        tf.io.gfile.rmtree(write_dir)
    if state.moving_averages is not None:
        # Eval and export use the shadows, as slim's eval restored them.
        state.moving_averages.copy_to_variables()
    net = _plain_copy(config, num_classes, image_spec, state.net)
    if eval_files:
        results = evaluate(net, config, image_spec, num_classes, eval_files, eval_steps)
        history.update(results)
        if chief:
            write_eval_summaries(os.path.join(config.train_dir, "eval"), results, state.step)
    return TrainResult(net=net, classifier=state.classifier, image_spec=image_spec,
                       num_classes=num_classes, steps=state.step, history=history,
                       restore_report=report)


def resume_seed(seed: Optional[int], step: int) -> Optional[int]:
    """The input pipeline's shuffle seed for a run starting at ``step``.

    The input position is not in the checkpoint, so a resume restarts the pipeline;
    offsetting the seed by the restored step makes it see a new order instead of
    replaying the first batches again (and stays deterministic for a given step)."""
    return None if seed is None else seed + step


def remove_stale_temp_checkpoints(train_dir: str) -> List[str]:
    """Deletes ``*_temp`` folders (``model.ckpt-N_temp/``) that a save killed mid-write left
    in ``train_dir``; no live writer exists at start-up. Returns what was removed."""
    removed = []
    for path in tf.io.gfile.glob(os.path.join(train_dir, f"{CHECKPOINT_NAME}-*_temp")):
        if tf.io.gfile.isdir(path):
            tf.io.gfile.rmtree(path)
            removed.append(path)
    if removed:
        log.warning("Removed %d unfinished checkpoint write(s): %s", len(removed), removed)
    return removed


def default_train_dir(base: str) -> str:
    return os.path.join(base, "train")
