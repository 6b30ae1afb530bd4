"""A new user's run: a folder of colour photos → `tfslim run --config configs/photos.yaml`,
fine-tuned from a table checkpoint by name, logits excluded, labels_offset=1.

One pipeline run (each costs minutes) checks both the photos recipe and fine-tuning:
- the report, the push and the console of a photos run;
- the checkpoint is restored by name without the logits, through the table's download path;
- the photo folder has an empty first class folder (a background class, label 0), as slim's
  ImageNet checkpoints have; the model gets one output per real class and the Evaluator must
  score label 1..4 against model classes 0..3. Off by one, top-1 would be near 0 and nothing
  would be blessed.
"""
import os
import re

import pytest

from tests import console
from tests.pipeline import photos
from tests.trainer import checkpoint_server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from trainer import nets
    from trainer.zoo import pretrained

    root = tmp_path_factory.mktemp("photos")
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
    # A user's shell: no TF_CPP_MIN_LOG_LEVEL, so the console test below sees what they would.
    env = console.user_env(TF_USE_LEGACY_KERAS="1", **{pretrained.CACHE_ENV: str(root / "cache")})
    # photos.yaml trains every layer (the stand-in checkpoint holds random weights);
    # finetune.yaml's restore settings on top of it.
    overrides = ["train.checkpoint_path=mobilenet_v1_025",
                 "train.checkpoint_exclude_scopes=MobilenetV1/Logits",
                 "train.labels_offset=1", "train_steps=250"]
    with checkpoint_server.serve(str(served)) as url:
        env[pretrained.MIRROR_ENV] = url
        result = photos.tfslim_run(str(root), "configs/photos.yaml", data, overrides, env=env)
    return root, result


def test_photos_run_is_blessed_pushed_and_reported(run):
    root, result = run
    out = result.stdout
    assert re.search(r"blessed:\s+True\s+pushed: True", out), out[-2000:]
    report = re.search(r"report:\s+(\S+)", out).group(1)
    assert report.endswith("report.html")  # a browser renders it
    page = open(report, encoding="utf-8").read()
    for section in ("Confusion matrix", "Per-class precision and recall", "Worst misclassified",
                    "Training curves", "Ingestion", "ExampleValidator anomalies"):
        assert section in page
    assert page.count("data:image/png;base64,") >= 3
    assert re.search(r"rejects:\s+0\s+anomalies: 0", out), out[-2000:]
    # Printed once each (absl/TFX logging used to repeat every training line).
    steps = re.findall(r"global step 250/250", out + result.stderr)
    assert len(steps) == 1, steps
    assert "Unable to register" not in result.stderr


def test_console_shows_progress_and_results_only(run):
    """No absl/TensorFlow log line, Python warning or library WARNING: in the whole run's output
    (TFX executors and Beam run in the tfslim process under the LocalDagRunner)."""
    _, result = run
    assert not console.noise(result.stdout + result.stderr), console.noise(result.stdout + result.stderr)[:20]
    assert "Trainer finished in" in result.stdout and "global step 250/250" in result.stdout


def test_checkpoint_restored_by_name_without_logits(run):
    root, result = run
    out = result.stdout + result.stderr
    line = re.search(r"Fine-tuning from (.*)", out).group(1)
    assert os.path.join(str(root), "cache", "mobilenet_v1_025", "mobilenet_v1_0.25_128.ckpt") in line
    assert re.search(r"restored [1-9]\d*, excluded [1-9]\d*, missing 0", line), line


def test_labels_offset_is_scored_on_the_right_labels(run):
    _, result = run
    top1 = float(re.search(r"top-1:\s+([0-9.]+)", result.stdout).group(1))
    # 250 steps: held-out top-1 measured 0.89-1.0 over seeds (README, Your own images).
    assert top1 >= 0.6, result.stdout[-2000:]


@pytest.mark.parametrize("seed", [1234, 99])
def test_pushed_model_names_the_class_of_new_photos(run, seed):
    from serving import predict

    root, _ = run
    serving_fn = predict.load_serving_fn(os.path.join(root, "serving", "mobilenet_v1_025"))
    names = photos.new_photo_labels()
    ranked = predict.top_k(serving_fn, photos.new_photos(seed=seed))
    hits = sum(r[0][0] == name for r, name in zip(ranked, names))
    # Class i is dataset label i + 1, named from labels.txt.
    assert hits >= 6, ranked
