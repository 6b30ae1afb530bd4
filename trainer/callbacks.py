"""Keras callbacks with slim's logging and checkpoint cadence."""
from __future__ import annotations

import logging
import time
from typing import Optional

import tensorflow as tf
import tf_keras

log = logging.getLogger(__name__)


class CheckpointSaver(tf_keras.callbacks.Callback):
    """Saves a TF2 checkpoint (net + optimizer slots + step) every N seconds and/or steps.

    This is slim's --save_interval_secs; a killed run resumes from the last save.
    """

    def __init__(self, manager: tf.train.CheckpointManager, optimizer, every_secs: int = 600,
                 every_steps: Optional[int] = None):
        super().__init__()
        self.manager = manager
        self.optimizer = optimizer
        self.every_secs = every_secs
        self.every_steps = every_steps
        self._last = time.monotonic()

    def on_train_batch_end(self, batch, logs=None):
        step = int(self.optimizer.iterations.numpy())
        due_steps = self.every_steps and step % self.every_steps == 0
        due_secs = self.every_secs and time.monotonic() - self._last >= self.every_secs
        if due_steps or due_secs:
            self.manager.save(checkpoint_number=step)
            self._last = time.monotonic()


class StepLogger(tf_keras.callbacks.Callback):
    """slim's --log_every_n_steps: 'global step N: loss = ... (x sec/step)'."""

    def __init__(self, optimizer, every_n: int, total_steps: int):
        super().__init__()
        self.optimizer = optimizer
        self.every_n = max(1, every_n)
        self.total = total_steps
        self._t = time.monotonic()

    def on_train_batch_end(self, batch, logs=None):
        step = int(self.optimizer.iterations.numpy())
        if step % self.every_n == 0 or step == self.total:
            now = time.monotonic()
            rate = (now - self._t) / self.every_n
            self._t = now
            logs = logs or {}
            msg = (f"global step {step}/{self.total}: loss = {float(logs.get('loss', 0)):.4f}, "
                   f"accuracy = {float(logs.get('accuracy', 0)):.4f} ({rate:.3f} sec/step)")
            log.info(msg)
            print(msg, flush=True)
