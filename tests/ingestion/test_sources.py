"""Every source through `tfslim convert`'s library entry: counts, labels, splits, bytes."""
import os
import random

import numpy as np
import pytest
import tensorflow as tf

from ingestion import convert as convert_lib
from schemas import labels as labels_lib, layout
from tests.ingestion import dataset_fixtures, fixtures, helpers

IN_MEMORY = ["--direct_running_mode=in_memory", "--direct_num_workers=1"]


def _run(name, out, **kwargs):
    request = convert_lib.ConvertRequest(dataset_name=name, dataset_dir=str(out), progress=False,
                                         download=False, **kwargs)
    return convert_lib.convert(request, IN_MEMORY)


# The file names slim's own converters write (so slim's readers read them), by dataset.
SLIM_NAMES = {"flowers": "flowers_{split}_{i:05d}-of-{n:05d}.tfrecord",
              "cifar10": "cifar10_{split}.tfrecord", "mnist": "mnist_{split}.tfrecord",
              "imagenet": "{split}-{i:05d}-of-{n:05d}", "tfrecord": "tfrecord_{split}-{i:05d}-of-{n:05d}.tfrecord"}


def _split(out, name, split, num_shards=None):
    """A split's records, read through the one split-finder; the files carry slim's names."""
    files = layout.find_split_files(str(out), name, split)
    n = num_shards or convert_lib.default_num_shards(name)
    assert [os.path.basename(f) for f in files] == sorted(
        SLIM_NAMES[name].format(split=split, i=i, n=n) for i in range(n))
    return helpers.read_tfrecords_files(files)


def _decode(example):
    return tf.io.decode_image(helpers.feature(example, "image/encoded"), expand_animations=False).numpy()


def test_flowers_tgz_uses_slims_split(tmp_path):
    written = dataset_fixtures.make_flowers_tgz(str(tmp_path / "dl"), per_class=80)
    out = tmp_path / "out"
    # Files of earlier converts (this project's older names, another count, a partial
    # shard): all removed, since slim-named shards have no completion marker.
    out.mkdir()
    for old in ("flowers_train-00000-of-00003.tfrecord", "flowers_validation_00001-of-00007.tfrecord",
                "flowers_train_00002-of-00005.tfrecord.incomplete", "flowers_test.tfrecord"):
        (out / old).write_bytes(b"old")
    summary = _run("flowers", out, source=str(tmp_path / "dl" / "flower_photos.tgz"))
    assert summary["splits"]["validation"]["count"] == 350
    assert summary["splits"]["train"]["count"] == 50
    assert summary["rejected_by_reason"] == {"outside any class folder": 1}  # LICENSE.txt
    assert summary["accounted"] and summary["inputs"] == 401
    # slim: random.seed(0); random.shuffle(paths); first 350 → validation (paths sorted here).
    paths = sorted(written)
    random.Random(0).shuffle(paths)
    validation = _split(out, "flowers", "validation")
    assert [helpers.feature(e, "image/filename").decode() for e in validation] == paths[:350]
    assert labels_lib.read_label_file(str(out / "labels.txt")) == dict(enumerate(dataset_fixtures.FLOWER_CLASSES))
    for example in validation[:20]:
        rel = helpers.feature(example, "image/filename").decode()
        assert helpers.feature(example, "image/encoded") == written[rel]
        assert helpers.feature(example, "image/class/text").decode() == rel.split("/")[0]
    assert len(os.listdir(out)) == 5 + 5 + 3  # shards, labels.txt, rejects, summary
    assert not any(name.startswith(".") for name in os.listdir(out))  # unpacked tree removed


def test_cifar10_pickles(tmp_path):
    batches = dataset_fixtures.make_cifar_tgz(str(tmp_path), per_batch=6, test=5)
    out = tmp_path / "out"
    summary = _run("cifar10", out, source=str(tmp_path))  # the directory holding the archive
    assert {k: v["count"] for k, v in summary["splits"].items()} == {"train": 30, "test": 5}
    test = helpers.by_filename(_split(out, "cifar10", "test"))
    data, labels = batches["test_batch"]
    for index in range(5):
        example = test[f"test_batch/{index:05d}"]
        expected = data[index].reshape(3, 32, 32).transpose(1, 2, 0)
        np.testing.assert_array_equal(_decode(example), expected)
        assert helpers.feature(example, "image/class/label") == labels[index]
        assert helpers.feature(example, "image/format") == b"png"


def test_mnist_idx(tmp_path):
    arrays = dataset_fixtures.make_mnist(str(tmp_path / "raw"), train=12, test=7)
    out = tmp_path / "out"
    summary = _run("mnist", out, source=str(tmp_path / "raw"))
    assert {k: v["count"] for k, v in summary["splits"].items()} == {"train": 12, "test": 7}
    train = helpers.by_filename(_split(out, "mnist", "train"))
    images, labels = arrays["train"]
    for index in range(12):
        example = train[f"train/{index:05d}"]
        np.testing.assert_array_equal(_decode(example)[:, :, 0], images[index])
        assert helpers.feature(example, "image/class/label") == labels[index]
        assert (helpers.feature(example, "image/height"), helpers.feature(example, "image/width")) == (28, 28)
    assert labels_lib.read_label_file(str(out / "labels.txt"))[6] == "six"


def test_imagenet_tree(tmp_path):
    root = tmp_path / "imagenet"
    dataset_fixtures.make_imagenet(str(root))
    out = tmp_path / "out"
    summary = _run("imagenet", out, source=str(root))
    labels = labels_lib.read_label_file(str(out / "labels.txt"))
    assert len(labels) == 4 and labels[0] == "background" and labels[1] == "tench, Tinca tinca"
    assert summary["splits"]["train"]["count"] == 10 and summary["splits"]["validation"]["count"] == 3
    assert summary["rejected_by_reason"] == {"no label": 1}
    validation = helpers.by_filename(_split(out, "imagenet", "validation"))
    assert helpers.feature(validation["validation/ILSVRC2012_val_00000001.JPEG"], "image/class/label") == 3
    assert helpers.feature(validation["validation/ILSVRC2012_val_00000002.JPEG"], "image/class/label") == 1
    train = helpers.by_filename(_split(out, "imagenet", "train"))
    boxed = train["train/n01440764/n01440764_0.JPEG"].features.feature
    assert list(boxed["image/object/bbox/xmin"].float_list.value) == pytest.approx([0.1])
    assert list(boxed["image/object/bbox/ymax"].float_list.value) == pytest.approx([1.0])  # clipped
    assert list(boxed["image/object/class/label"].int64_list.value) == [1]
    unboxed = train["train/n01440764/n01440764_1.JPEG"].features.feature
    assert len(unboxed["image/object/bbox/xmin"].float_list.value) == 0
    cmyk = train["train/n01443537/n01443537_cmyk.JPEG"]
    assert helpers.feature(cmyk, "image/format") == b"png" and _decode(cmyk).shape == (10, 12, 3)


def test_tfrecord_revalidates_and_resplits(tmp_path):
    src = tmp_path / "src"
    fixtures.make_class_tree(str(src), {"a": 6, "b": 6}, fmt="jpeg")
    first = tmp_path / "first"
    _run("folder", first, source=str(src), num_shards=2)
    # A bad record and one with an unknown label appended as an extra shard.
    with tf.io.TFRecordWriter(str(first / "folder_train-extra.tfrecord")) as writer:
        writer.write(b"not a proto at all")
        bad_label = tf.train.Example()
        bad_label.features.feature["image/encoded"].bytes_list.value.append(fixtures.png_bytes(seed=77))
        bad_label.features.feature["image/class/label"].int64_list.value.append(9)
        writer.write(bad_label.SerializeToString())
    out = tmp_path / "again"
    summary = _run("tfrecord", out, source=str(first), validation_fraction=0.5, num_shards=1)
    assert summary["converted"] == 12
    assert summary["rejected_by_reason"] == {"invalid record": 1, "label out of range": 1}
    again = helpers.by_filename(_split(out, "tfrecord", "train", 1) + _split(out, "tfrecord", "validation", 1))
    original = helpers.by_filename(helpers.read_tfrecords(str(first / "folder_*-*-of-*.tfrecord")))
    assert set(again) == set(original)
    for key, example in again.items():
        assert helpers.feature(example, "image/encoded") == helpers.feature(original[key], "image/encoded")
    assert labels_lib.read_label_file(str(out / "labels.txt")) == {0: "a", 1: "b"}
