"""No code execution from a dataset archive: CIFAR batches go through a restricted unpickler."""
import pickle

import numpy as np
import pytest

from ingestion import records
from ingestion.sources import cifar10, safe_pickle
from tests.ingestion.hostile import corpus


def test_crafted_batch_is_refused_and_creates_no_file(tmp_path):
    created = tmp_path / "pwned"
    tree = tmp_path / "src" / cifar10.TREE
    tree.mkdir(parents=True)
    (tree / "data_batch_1").write_bytes(corpus.evil_cifar_batch(str(created)))
    with pytest.raises(safe_pickle.UnsafePickle, match=r"refused to load io\.open"):
        cifar10.load_batch(str(tree / "data_batch_1"))
    source = cifar10.Cifar10Source(str(tmp_path / "src"))
    rejects = [r for r in source.scan("train") if isinstance(r, records.Reject)]
    assert rejects[0].path == "data_batch_1" and "refused to load io.open" in rejects[0].detail
    assert not created.exists()
    # The same bytes through plain pickle do create the file: the payload is live.
    pickle.loads(corpus.evil_cifar_batch(str(created)), encoding="bytes")
    assert created.exists()


def test_real_batch_layout_loads(tmp_path):
    data = np.arange(2 * 3072, dtype=np.uint8).reshape(2, 3072)
    path = tmp_path / "data_batch_1"
    # CIFAR's batches were written by Python 2 (protocol 2); both spellings must load.
    path.write_bytes(pickle.dumps({b"data": data, b"labels": [3, 7]}, protocol=2))
    loaded, labels = cifar10.load_batch(str(path))
    np.testing.assert_array_equal(loaded, data)
    assert labels == [3, 7]
