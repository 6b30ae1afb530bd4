"""Training survives bad records and its own interrupted writes."""
import os

import numpy as np
import tensorflow as tf

from tests.ingestion.hostile import corpus
from tests.pipeline import helpers as pipeline_helpers
from tests.trainer import helpers
from trainer.training import data, train_lib


def test_an_undecodable_record_is_skipped_not_fatal(tmp_path, caplog):
    images, labels = helpers.digits(28)
    files = helpers.write_split(str(tmp_path), "d", "train", images[:8], labels[:8], num_shards=1)
    with tf.io.TFRecordWriter(str(tmp_path / "extra.tfrecord")) as writer:
        writer.write(helpers._example(corpus.garbage_pixels_png(), 3, "three", 12, 16, "bad.png"))  # pylint: disable=protected-access
    ds = data.make_dataset(files + [str(tmp_path / "extra.tfrecord")],
                           pipeline_helpers.LENET_GRAY, batch_size=4, is_training=False)
    seen = np.concatenate([labels.numpy() for _, labels in ds])
    np.testing.assert_array_equal(seen, labels[:8])  # the 8 good ones, in order; the bad one gone


def test_resume_sees_a_new_shuffle_order(tmp_path):
    images, labels = helpers.digits(28)
    files = helpers.write_split(str(tmp_path), "d", "train", images[:64], labels[:64], num_shards=1)

    def first_batch(step):
        ds = data.make_dataset(files, pipeline_helpers.LENET_GRAY, batch_size=16, is_training=True,
                               seed=train_lib.resume_seed(7, step), shuffle_buffer=64)
        return next(iter(ds))[1].numpy()

    np.testing.assert_array_equal(first_batch(0), first_batch(0))  # deterministic per step
    assert not np.array_equal(first_batch(0), first_batch(100))
    assert train_lib.resume_seed(None, 100) is None


def test_stale_temp_checkpoints_are_removed_at_start(tmp_path):
    (tmp_path / "model.ckpt-40_temp" / "part-0").mkdir(parents=True)
    (tmp_path / "model.ckpt-40.index").write_bytes(b"")
    removed = train_lib.remove_stale_temp_checkpoints(str(tmp_path))
    assert removed == [str(tmp_path / "model.ckpt-40_temp")]
    assert os.listdir(tmp_path) == ["model.ckpt-40.index"]
