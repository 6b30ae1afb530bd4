"""Every registered net's preprocessing (resolved through the net registry) runs eagerly and in tf.data."""
import numpy as np
import pytest
import tensorflow as tf

from trainer import nets, preprocessing

SIZE = 24  # small: the point is that every net's function runs, not its numbers at 224


def _image(seed: int = 0) -> tf.Tensor:
    return tf.constant(np.random.RandomState(seed).randint(0, 256, (37, 29, 3)), tf.uint8)


@pytest.mark.parametrize("name", nets.list_models())
def test_net_preprocessing_eagerly_and_in_tf_data(name):
    module = nets.get_spec(name).preprocessing
    assert preprocessing.module_name(name) == module
    eager = preprocessing.get_preprocessing(name, is_training=False)(_image(), SIZE, SIZE)
    # A net name is its registry entry's preprocessing, nothing else.
    same = preprocessing.get_preprocessing(module, is_training=False)(_image(), SIZE, SIZE)
    np.testing.assert_allclose(eager.numpy(), same.numpy())
    assert eager.shape == (SIZE, SIZE, 3) and eager.dtype == tf.float32

    for is_training in (False, True):
        fn = preprocessing.get_preprocessing(name, is_training=is_training)
        ds = tf.data.Dataset.range(2).map(lambda i: fn(_image(), SIZE, SIZE))
        batch = list(ds.batch(2))[0]
        assert batch.shape == (2, SIZE, SIZE, 3)
        assert np.isfinite(batch.numpy()).all()


def test_unknown_name_lists_modules_and_nets():
    with pytest.raises(ValueError, match=r"Preprocessing name \[nope\] was not recognized; known: .*lenet"):
        preprocessing.get_preprocessing("nope")
