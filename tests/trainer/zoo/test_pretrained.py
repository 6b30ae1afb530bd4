"""The pretrained-checkpoint table, `tfslim download_checkpoint` and checkpoint_path: NAME (offline)."""
import os

import numpy as np
import pytest
import tensorflow as tf

from tests.trainer.nets import oracle
from tests.trainer import checkpoint_server
from trainer import nets
from trainer.zoo import pretrained


def test_table_starts_with_the_seed_readme():
    table = pretrained.table()
    assert list(table)[:16] == [  # the seed README's 16 rows, in its order
        "inception_v1", "inception_v2", "inception_v3", "inception_v4", "inception_resnet_v2",
        "resnet_v1_50", "resnet_v1_101", "resnet_v1_152", "resnet_v2_50", "resnet_v2_101",
        "resnet_v2_152", "vgg_16", "vgg_19", "mobilenet_v1", "mobilenet_v1_050", "mobilenet_v1_025"]
    seed = table["inception_v3"]
    assert (seed.top1, seed.top5, seed.image_size, seed.labels_offset) == (78.0, 93.9, 299, 1)
    assert seed.exclude_scopes == ("InceptionV3/Logits", "InceptionV3/AuxLogits")
    assert table["vgg_16"].labels_offset == 0 and table["resnet_v2_50"].preprocessing_name == "inception"
    for entry in list(table.values())[:16]:
        assert entry.url.startswith("http://download.tensorflow.org/models/")


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    """inception_v1's tarball, with a checkpoint written by tf-slim 1.1.0, on a loopback server."""
    tf_slim = oracle.import_tf_slim()
    from tf_slim.nets import inception  # pylint: disable=import-outside-toplevel
    root = tmp_path_factory.mktemp("mirror")
    images = np.random.default_rng(0).uniform(-1, 1, [1, 224, 224, 3]).astype(np.float32)

    def build(x):
        with tf_slim.arg_scope(inception.inception_v1_arg_scope()):
            return inception.inception_v1(x, 1001, is_training=False)

    logits, _ = oracle.slim_reference(build, images, str(root / "ckpt" / "inception_v1.ckpt"))
    entry = pretrained.lookup("inception_v1")
    served = root / "served"
    served.mkdir()
    checkpoint_server.make_tarball(str(root / "ckpt" / "inception_v1.ckpt"),
                                   str(served / entry.tarball), "inception_v1.ckpt")
    with checkpoint_server.serve(str(served)) as url:
        yield url, images, logits, served


def test_download_unpacks_a_slim_checkpoint_that_restores(mirror, tmp_path, monkeypatch, capsys):
    url, images, logits, _ = mirror
    monkeypatch.setenv(pretrained.MIRROR_ENV, url)
    prefix = pretrained.download("inception_v1", str(tmp_path))
    assert prefix == str(tmp_path / "inception_v1" / "inception_v1.ckpt")
    net = nets.create_model("inception_v1", num_classes=1001)
    net.ensure_built(224, 3)
    report = nets.restore_slim_checkpoint(net, prefix)
    assert not report.missing
    ours, _ = net(tf.constant(images), training=False)
    oracle.assert_close(logits, ours.numpy(), "inception_v1 logits", rel=1e-4)
    # The second call finds the unpacked checkpoint and fetches nothing.
    monkeypatch.setenv(pretrained.MIRROR_ENV, "http://127.0.0.1:9/unreachable/")
    assert pretrained.download("inception_v1", str(tmp_path)) == prefix


def test_table_name_resolves_through_the_cache(mirror, tmp_path, monkeypatch):
    url, *_ = mirror
    monkeypatch.setenv(pretrained.MIRROR_ENV, url)
    monkeypatch.setenv(pretrained.CACHE_ENV, str(tmp_path / "cache"))
    assert pretrained.resolve("inception_v1", progress=False) == str(
        tmp_path / "cache" / "inception_v1" / "inception_v1.ckpt")
    assert pretrained.resolve("/some/path/model.ckpt") == "/some/path/model.ckpt"


def test_short_or_corrupt_downloads_are_refused(mirror, tmp_path, monkeypatch):
    url, _, _, served = mirror
    entry = pretrained.lookup("inception_v1")
    monkeypatch.setenv(pretrained.MIRROR_ENV, url)
    # A sha256 in the table that the bytes do not have.
    bad = pretrained.Pretrained(**{**entry.__dict__, "sha256": "0" * 64})
    monkeypatch.setattr(pretrained, "lookup", lambda name: bad)
    with pytest.raises(ValueError, match="sha256 .* differs from the published"):
        pretrained.download("inception_v1", str(tmp_path), progress=False)
    assert not pretrained.is_downloaded(bad, str(tmp_path))
    assert not [f for f in os.listdir(tmp_path / "inception_v1") if f.endswith(".part")]
    monkeypatch.setenv(pretrained.MIRROR_ENV, "http://127.0.0.1:9/")
    with pytest.raises(ValueError, match="cannot download http://127.0.0.1:9/inception_v1_2016"):
        pretrained.download("inception_v1", str(tmp_path / "x"), progress=False)


def test_download_checkpoint_cli(mirror, tmp_path):
    from tests.serving.cli import run_tfslim

    url, *_ = mirror
    os.environ[pretrained.MIRROR_ENV] = url
    try:
        result = run_tfslim("download_checkpoint", "inception_v1", f"--dir={tmp_path}")
        unknown = run_tfslim("download_checkpoint", "inceptoin_v3", f"--dir={tmp_path}")
        os.environ[pretrained.MIRROR_ENV] = "http://127.0.0.1:9/"  # refused, as offline
        offline = run_tfslim("download_checkpoint", "inception_v2", f"--dir={tmp_path}")
    finally:
        del os.environ[pretrained.MIRROR_ENV]
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"inception_v1: {tmp_path}/inception_v1/inception_v1.ckpt" in result.stdout
    assert "--checkpoint_exclude_scopes InceptionV1/Logits" in result.stdout
    assert "%" in result.stderr  # tqdm's progress bar
    assert unknown.returncode == 1
    assert unknown.stderr.strip().splitlines()[-1].startswith(
        "error: 'inceptoin_v3' is not in the checkpoint table; did you mean 'inception_v3'?")
    assert offline.returncode == 1 and "Traceback" not in offline.stderr
    assert offline.stderr.strip().splitlines() == [
        "error: cannot download http://127.0.0.1:9/inception_v2_2016_08_28.tar.gz: 127.0.0.1:9 is "
        "unreachable ([Errno 111] Connection refused); is this machine offline? Set "
        f"${pretrained.MIRROR_ENV} to a mirror, or download "
        "http://download.tensorflow.org/models/inception_v2_2016_08_28.tar.gz by hand and pass "
        "its checkpoint path."]
    assert not os.path.exists(tmp_path / "inception_v2")  # nothing left behind


def test_a_row_without_a_published_checkpoint_name_takes_the_archives_only_one(tmp_path):
    def touch(*parts):
        path = tmp_path.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")

    v3 = pretrained.lookup("mobilenet_v3_large")  # named: v3-large_224_1.0_float/ema/model-540000
    for kind in ("ema", "pristine"):
        touch("mobilenet_v3_large", "v3-large_224_1.0_float", kind, "model-540000.index")
    assert pretrained.checkpoint_prefix(v3, str(tmp_path)) == str(
        tmp_path / "mobilenet_v3_large" / "v3-large_224_1.0_float" / "ema" / "model-540000")
    edgetpu = pretrained.lookup("mobilenet_edgetpu")
    assert edgetpu.checkpoint is None and not pretrained.is_downloaded(edgetpu, str(tmp_path))
    touch("mobilenet_edgetpu", "a", "model.ckpt.index")
    assert pretrained.checkpoint_prefix(edgetpu, str(tmp_path)) == str(
        tmp_path / "mobilenet_edgetpu" / "a" / "model.ckpt")
    touch("mobilenet_edgetpu", "b", "model.ckpt.index")  # two: ambiguous
    assert pretrained.checkpoint_prefix(edgetpu, str(tmp_path)) is None
    touch("mobilenet_edgetpu", "ema", "model.ckpt.index")  # the moving averages win
    assert pretrained.checkpoint_prefix(edgetpu, str(tmp_path)) == str(
        tmp_path / "mobilenet_edgetpu" / "ema" / "model.ckpt")
