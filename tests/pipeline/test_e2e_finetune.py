"""Fine-tuning in the pipeline: a table checkpoint by name, logits excluded, labels_offset=1.

The photo folder has an empty first class folder (a background class, label 0), as
slim's ImageNet checkpoints have; the model gets one output per real class and the
Evaluator must score label 1..4 against model classes 0..3. Off by one, top-1 would
be near 0 and nothing would be blessed.
"""
import os
import re

import pytest

from tests.pipeline import photos
from tests.trainer import checkpoint_server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from trainer import nets, pretrained

    root = tmp_path_factory.mktemp("finetune")
    data = str(root / "photos")
    photos.write_photos(data, per_class=30)
    os.makedirs(os.path.join(data, "0_background"))
    entry = pretrained.lookup("mobilenet_v1_025")
    net = nets.create_model("mobilenet_v1_025", num_classes=entry.num_classes)
    net.ensure_built(96, 3)
    prefix = nets.save_slim_checkpoint(net, str(root / "released" / "model.ckpt"))
    served = root / "served"
    served.mkdir()
    checkpoint_server.make_tarball(prefix, str(served / entry.tarball), entry.checkpoint)
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1",
               **{pretrained.CACHE_ENV: str(root / "cache")})
    overrides = [
        # The stand-in checkpoint holds random weights: train every layer, as photos.yaml.
        "train.trainable_scopes=", "train.optimizer=adam", "train.opt_epsilon=1e-8",
        "train.learning_rate=0.002", "train.batch_norm_decay=0.9", "train.train_image_size=96",
        "train.labels_offset=1", "train_steps=250", "accuracy_threshold=0.6"]
    with checkpoint_server.serve(str(served)) as url:
        env[pretrained.MIRROR_ENV] = url
        result = photos.tfslim_run(str(root), "finetune", data, overrides, env=env)
    return root, result


def test_checkpoint_restored_by_name_without_logits(run):
    root, result = run
    out = result.stdout + result.stderr
    line = re.search(r"Fine-tuning from (.*)", out).group(1)
    assert os.path.join(str(root), "cache", "mobilenet_v1_025", "mobilenet_v1_0.25_128.ckpt") in line
    assert re.search(r"restored [1-9]\d*, excluded [1-9]\d*, missing 0", line), line


def test_labels_offset_is_scored_on_the_right_labels(run):
    from serving import predict

    root, result = run
    assert re.search(r"blessed:\s+True\s+pushed: True", result.stdout), result.stdout[-2000:]
    top1 = float(re.search(r"top-1:\s+([0-9.]+)", result.stdout).group(1))
    assert top1 >= 0.6
    serving_fn = predict.load_serving_fn(os.path.join(root, "serving", "mobilenet_v1_025"))
    ranked = predict.top_k(serving_fn, photos.new_photos(seed=99))
    hits = sum(r[0][0] == name for r, name in zip(ranked, photos.new_photo_labels()))
    assert hits >= 6, ranked  # class i is dataset label i + 1, named from labels.txt
