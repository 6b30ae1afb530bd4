"""Keras callbacks with slim's logging, summary and checkpoint cadence.

All three read the step from the optimizer (slim's global_step) and the values
``Classifier.train_step`` returns for the step just run. They take those values as
tensors (``_supports_tf_logs``) and copy them to the host only when they log or write a
summary: a callback without it makes Keras copy every step's logs to numpy, which
stalls an accelerator once per step.
"""
from __future__ import annotations

import dataclasses
import logging
import math
import sys
import time
from typing import Callable, Optional, TextIO

import numpy as np
import tensorflow as tf
import tf_keras

from trainer.training import console

log = logging.getLogger(__name__)

# Scalars written to TensorBoard: train_step log key → summary tag (slim's tags).
SUMMARY_SCALARS = {
    "total_loss": "total_loss",
    "loss": "losses/cross_entropy",
    "regularization_loss": "regularization_loss",
    "learning_rate": "learning_rate",
    "accuracy": "accuracy",
}


class _Every:
    """Decides 'due now' from seconds and/or steps since the last time."""

    def __init__(self, every_secs: Optional[float], every_steps: Optional[int] = None):
        self.every_secs = every_secs or 0
        self.every_steps = every_steps or 0
        self.last_time = time.monotonic()

    def due(self, step: int) -> bool:
        by_steps = self.every_steps and step % self.every_steps == 0
        by_secs = self.every_secs and time.monotonic() - self.last_time >= self.every_secs
        return bool(by_steps or by_secs)

    def mark(self) -> None:
        self.last_time = time.monotonic()


class _StepCallback(tf_keras.callbacks.Callback):
    """Knows the global step after each batch without reading the variable every step.

    The optimizer's step is read once when training starts; fit runs one step
    per batch (steps_per_execution=1), so step = start + batch + 1.
    """

    def __init__(self, optimizer):
        super().__init__()
        # Logs arrive as tensors; subclasses read them to the host only when due.
        self._supports_tf_logs = True
        self.optimizer = optimizer
        self.start_step = 0

    def on_train_begin(self, logs=None):
        self.start_step = int(self.optimizer.iterations.numpy())

    def step_after(self, batch: int) -> int:
        return self.start_step + batch + 1


class CheckpointSaver(_StepCallback):
    """Saves net + optimizer slots + step (+ EMA) every N seconds and/or steps.

    slim's --save_interval_secs (and --save_interval_steps here); a killed run
    resumes from the last save, losing at most one interval. With several
    workers the seconds rule is agreed on by all of them (one tiny all-reduce),
    because every worker must take part in each save.
    """

    def __init__(self, manager: tf.train.CheckpointManager, optimizer, every_secs: float = 600,
                 every_steps: Optional[int] = None,
                 agree: Optional[Callable[[bool], bool]] = None,
                 guard: Optional["NanGuard"] = None):
        super().__init__(optimizer)
        self.manager = manager
        self.timer = _Every(every_secs, every_steps)
        self.agree = agree
        # Weights updated from a NaN/Inf loss are never saved over the last good checkpoint;
        # the guard must run before the saver in fit's callback list.
        self.guard = guard
        self.last_saved_step = -1

    def on_train_batch_end(self, batch, logs=None):
        if self.guard is not None and self.guard.failure is not None:
            return
        step = self.step_after(batch)
        due = self.timer.due(step)
        if self.agree is not None:
            due = self.agree(due)
        if due:
            self.save(step)

    def save(self, step: int) -> None:
        if step != self.last_saved_step:
            self.manager.save(checkpoint_number=step)
            self.last_saved_step = step
        self.timer.mark()


@dataclasses.dataclass(frozen=True)
class NonFiniteLoss:
    """Where the loss stopped being finite: the step, its value and the last finite one."""

    step: int
    value: float
    last_finite_step: Optional[int]
    last_finite_loss: Optional[float]

    def describe(self) -> str:
        before = (f"last finite loss {self.last_finite_loss:.6g} at step {self.last_finite_step}"
                  if self.last_finite_step is not None else "no finite loss before it")
        return f"the loss became {self.value} at step {self.step} ({before})"


class NanGuard(_StepCallback):
    """Stops training at the first step whose total loss is NaN or Inf (slim's check_numerics).

    Reads one all-reduced scalar per step, so every worker stops at the same step; the
    :class:`CheckpointSaver` given this guard saves nothing from then on, and the caller
    turns :attr:`failure` into its error after ``fit`` returns.
    """

    def __init__(self, optimizer, key: str = "total_loss"):
        super().__init__(optimizer)
        self.key = key
        self.failure: Optional[NonFiniteLoss] = None
        self._last: Optional[tuple] = None

    def on_train_batch_end(self, batch, logs=None):
        if not logs or self.key not in logs or self.failure is not None:
            return
        value = float(np.asarray(logs[self.key]))
        step = self.step_after(batch)
        if math.isfinite(value):
            self._last = (step, value)
            return
        last_step, last_loss = self._last or (None, None)
        self.failure = NonFiniteLoss(step, value, last_step, last_loss)
        self.model.stop_training = True


class ProgressLogger(_StepCallback):
    """slim's --log_every_n_steps line with a progress display.

    ``global step 120/1000 (12%): loss = 1.2345 (xent 1.1, reg 0.13), accuracy = 0.61,
    lr = 0.01 (0.052 sec/step, 615 images/s, ETA 0:00:45)``
    """

    def __init__(self, optimizer, every_n: int, total_steps: int, batch_size: int,
                 stream: Optional[TextIO] = None, prefix: str = ""):
        super().__init__(optimizer)
        self.every_n = max(1, every_n)
        self.total = total_steps
        self.batch_size = batch_size
        self.stream = stream or sys.stdout
        self.prefix = prefix
        self._time = None
        self._step = None

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._time = time.monotonic()
        self._step = self.start_step

    def on_train_batch_end(self, batch, logs=None):
        step = self.step_after(batch)
        if step % self.every_n and step != self.total:
            return
        now = time.monotonic()
        steps = max(1, step - self._step)
        sec_per_step = (now - self._time) / steps
        self._time, self._step = now, step
        logs = logs or {}
        eta = int(sec_per_step * max(0, self.total - step))
        line = (f"{self.prefix}global step {step}/{self.total} ({100.0 * step / self.total:.0f}%): "
                f"loss = {_f(logs, 'total_loss'):.4f} (xent {_f(logs, 'loss'):.4f}, "
                f"reg {_f(logs, 'regularization_loss'):.4f}), accuracy = {_f(logs, 'accuracy'):.3f}, "
                f"lr = {_f(logs, 'learning_rate'):.3g} ({sec_per_step:.3f} sec/step, "
                f"{self.batch_size / max(sec_per_step, 1e-9):.0f} images/s, "
                f"ETA {eta // 3600}:{eta // 60 % 60:02d}:{eta % 60:02d})")
        console.say(line, log, self.stream)


def _f(logs, key: str) -> float:
    value = logs.get(key, float("nan"))
    return float(np.asarray(value))


class SummaryWriter(_StepCallback):
    """TensorBoard summaries every --save_summaries_secs (and at the first and last step).

    Scalars: total_loss, losses/cross_entropy, regularization_loss,
    learning_rate, accuracy, global_step/sec; plus ``input_images`` (a few
    preprocessed training images, rescaled to [0, 1]) once per run.
    """

    def __init__(self, logdir: str, optimizer, every_secs: float, total_steps: int,
                 images: Optional[tf.Tensor] = None):
        super().__init__(optimizer)
        self.writer = tf.summary.create_file_writer(logdir)
        self.timer = _Every(every_secs)
        self.total = total_steps
        self.images = images
        self._last_step = None
        self._last_time = None

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._last_step = self.start_step
        self._last_time = time.monotonic()

    def on_train_batch_end(self, batch, logs=None):
        step = self.step_after(batch)
        first = self.images is not None
        if not (first or self.timer.due(step) or step == self.total):
            return
        now = time.monotonic()
        rate = (step - self._last_step) / max(now - self._last_time, 1e-9)
        self._last_step, self._last_time = step, now
        with self.writer.as_default(step=step):
            for key, tag in SUMMARY_SCALARS.items():
                if logs and key in logs:
                    tf.summary.scalar(tag, logs[key])
            tf.summary.scalar("global_step/sec", rate)
            if self.images is not None:
                tf.summary.image("input_images", display_range(self.images),
                                 max_outputs=int(self.images.shape[0]))
                self.images = None
        self.writer.flush()
        self.timer.mark()

    def on_train_end(self, logs=None):
        self.writer.flush()


def display_range(images: tf.Tensor) -> tf.Tensor:
    """Per-image min-max rescale to [0, 1] (preprocessed images are in [-1, 1], standardized, ...)."""
    images = tf.cast(images, tf.float32)
    low = tf.reduce_min(images, axis=[1, 2, 3], keepdims=True)
    high = tf.reduce_max(images, axis=[1, 2, 3], keepdims=True)
    return (images - low) / tf.maximum(high - low, 1e-6)
