"""The training callbacks take tensor logs, so Keras does not copy every step's logs to the
host; they read values only when they log (every log_every_n_steps)."""
import io

import numpy as np
import tensorflow as tf
import tf_keras

from trainer.training import callbacks as cb


class _Spy(cb.ProgressLogger):
    """Records the type of the logs' values at every step."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kinds = []

    def on_train_batch_end(self, batch, logs=None):
        self.kinds.append(type(logs["loss"]))
        super().on_train_batch_end(batch, logs)


def test_callbacks_get_tensor_logs_and_log_every_n_steps(tmp_path):
    model = tf_keras.Sequential([tf_keras.layers.Dense(2, input_shape=(3,))])
    model.compile(optimizer=tf_keras.optimizers.SGD(0.01),
                  loss=tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    data = tf.data.Dataset.from_tensors((np.ones((4, 3), np.float32), np.zeros((4,), np.int64))).repeat()
    stream = io.StringIO()
    spy = _Spy(model.optimizer, every_n=5, total_steps=12, batch_size=4, stream=stream)
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(optimizer=model.optimizer),
                                         str(tmp_path / "ckpt"), max_to_keep=1)
    saver = cb.CheckpointSaver(manager, model.optimizer, every_secs=None, every_steps=6)
    summaries = cb.SummaryWriter(str(tmp_path / "tb"), model.optimizer, every_secs=3600, total_steps=12)
    model.fit(data, epochs=1, steps_per_epoch=12, callbacks=[spy, saver, summaries], verbose=0)
    assert len(spy.kinds) == 12
    assert all(issubclass(kind, tf.Tensor) for kind in spy.kinds), set(spy.kinds)
    lines = stream.getvalue().splitlines()
    assert [line.split()[2] for line in lines] == ["5/12", "10/12", "12/12"]
    assert "xent nan" not in lines[0]  # the loss was read when the line was due
    assert manager.latest_checkpoint.endswith("-12")
