"""Shared fixtures of the serving, export and prediction tests: a LeNet serving SavedModel and real
digit images (registered for the whole suite by tests/conftest.py; TensorFlow loads on first use)."""
from __future__ import annotations

import os
from typing import List, Tuple

import pytest

from tests.pipeline import helpers

CLASS_NAMES = [f"digit-{i}" for i in range(10)]


@pytest.fixture(scope="session")
def digit_pngs() -> List[Tuple[bytes, int]]:
    """(PNG bytes, label) of 12 real sklearn digits (not the ones training fixtures use)."""
    return [(helpers.encode(pixels), label) for pixels, label in helpers.digit_images(12, start=1700)]


@pytest.fixture(scope="session")
def lenet_model_dir(tmp_path_factory) -> str:
    """An untrained (seeded) LeNet exported with image_ops preprocessing, as `tfslim export` does."""
    import tf_keras  # pylint: disable=import-outside-toplevel

    from trainer import nets  # pylint: disable=import-outside-toplevel
    from trainer.export import saved_model as export  # pylint: disable=import-outside-toplevel

    tf_keras.utils.set_random_seed(7)
    net = nets.create_model("lenet", num_classes=10)
    net.ensure_built(28, 1)
    path = str(tmp_path_factory.mktemp("lenet_serving") / "1")
    export.export_saved_model(net, helpers.LENET_GRAY, CLASS_NAMES, path)
    return path


@pytest.fixture(scope="session")
def examples_uri(tmp_path_factory) -> str:
    """A small Examples artifact (Split-train / Split-eval GZIP shards + labels.txt)."""
    return helpers.write_examples_artifact(str(tmp_path_factory.mktemp("examples")), train=40, eval_=24)


def project_root() -> str:
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
