"""The one split-finder and the labels.txt contract (schemas/)."""
import fnmatch
import subprocess
import sys

import pytest

from schemas import labels as labels_lib, layout


def test_find_split_files_in_every_layout(tmp_path):
    (tmp_path / "Split-eval").mkdir()
    (tmp_path / "Split-eval" / "data_tfrecord-00000-of-00001.gz").write_bytes(b"")
    (tmp_path / "flowers_validation-00000-of-00001.tfrecord").write_bytes(b"")
    (tmp_path / "flowers_summary.json").write_text("{}")  # a finished convert's marker
    (tmp_path / "mnist_test.tfrecord").write_bytes(b"")
    assert layout.find_split_files(str(tmp_path), "x", "eval") == \
        [str(tmp_path / "Split-eval" / "data_tfrecord-00000-of-00001.gz")]
    assert layout.find_split_files(str(tmp_path), "flowers", "validation") == \
        [str(tmp_path / "flowers_validation-00000-of-00001.tfrecord")]
    assert layout.find_split_files(str(tmp_path), "mnist", "test") == [str(tmp_path / "mnist_test.tfrecord")]
    with pytest.raises(FileNotFoundError, match="--dataset_split_name"):
        layout.find_split_files(str(tmp_path), "flowers", "train")


@pytest.mark.parametrize("name", ["flowers_train_00000-of-00001.tfrecord", "train-00000-of-00001",
                                  "folder_train-00000-of-00001.tfrecord"])
def test_slim_converter_names_are_found_but_never_incomplete_shards(tmp_path, name):
    dataset = name.split("_")[0] if "_" in name else "imagenet"
    (tmp_path / name).write_bytes(b"")
    (tmp_path / f"{dataset}_summary.json").write_text("{}")
    (tmp_path / (name.replace("00000", "00001") + layout.INCOMPLETE_SUFFIX)).write_bytes(b"")
    (tmp_path / "labels.txt").write_text("0:a\n")
    assert layout.find_split_files(str(tmp_path), dataset, "train") == [str(tmp_path / name)]


def test_only_incomplete_shards_is_not_a_split(tmp_path):
    (tmp_path / ("d_train-00000-of-00001.tfrecord" + layout.INCOMPLETE_SUFFIX)).write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="split name train was not recognized"):
        layout.find_split_files(str(tmp_path), "d", "train")


def test_examples_root_and_compression():
    shard = "/a/Examples/7/Split-train/data_tfrecord-00000-of-00001.gz"
    assert layout.examples_root("/a/Examples/7/Split-train/*") == "/a/Examples/7"
    assert layout.dataset_root([shard]) == "/a/Examples/7"
    assert layout.dataset_root(["/d/flowers_train-00000-of-00001.tfrecord"]) == "/d"
    assert layout.compression_of([shard]) == "GZIP"
    assert layout.compression_of(["/d/x.tfrecord", shard]) == ""


def test_labels_round_trip_and_class_count(tmp_path):
    path = str(tmp_path / "labels.txt")
    labels_lib.write_label_file({1: "b", 0: "a:x", 3: "d"}, path)
    assert (tmp_path / "labels.txt").read_text() == "0:a:x\n1:b\n3:d\n"
    labels = labels_lib.read_label_file(path)
    assert labels == {0: "a:x", 1: "b", 3: "d"}
    assert labels_lib.num_classes(labels) == 4  # the largest index bounds the records' labels
    assert labels_lib.num_classes(labels, labels_offset=1) == 3
    with pytest.raises(ValueError, match="no classes"):
        labels_lib.num_classes({})


def test_schemas_import_without_tensorflow():
    code = ("import sys; import schemas, schemas.layout, schemas.labels, schemas.features; "
            "print('tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# The _FILE_PATTERN of slim's dataset readers (datasets/flowers.py, cifar10.py, mnist.py, imagenet.py).
SLIM_READERS = {"flowers": "flowers_%s_*.tfrecord", "cifar10": "cifar10_%s.tfrecord",
                "mnist": "mnist_%s.tfrecord", "imagenet": "%s-*"}


@pytest.mark.parametrize("dataset,num_shards", [("flowers", 5), ("cifar10", 1), ("mnist", 1), ("imagenet", 1024)])
def test_convert_writes_names_slims_readers_read(dataset, num_shards):
    pattern = layout.convert_pattern(dataset, num_shards)
    for split in ("train", "validation"):
        names = [pattern.format(name=dataset, split=split, index=i, num=num_shards) for i in range(num_shards)]
        assert all(fnmatch.fnmatch(n, SLIM_READERS[dataset] % split) for n in names)
        assert not any(fnmatch.fnmatch(n, SLIM_READERS[dataset] % "test") for n in names)
        # Every name is one the rerun clean-up knows.
        assert all(layout.is_convert_shard(dataset, n, split) and layout.is_convert_shard(dataset, n)
                   for n in names)
        assert not any(layout.is_convert_shard(dataset, n, "test") for n in names)
    # Any other dataset: this project's names, with the completion marker beside them.
    assert layout.convert_pattern("folder", 5) == layout.CONVERT_PATTERN
    assert layout.convert_pattern("cifar10", 3) == layout.CONVERT_PATTERN


def test_rerun_clean_up_never_matches_another_datasets_files():
    assert layout.is_convert_shard("flowers", "flowers_train-00000-of-00003.tfrecord")  # older naming
    assert layout.is_convert_shard("flowers", "flowers_test.tfrecord.incomplete")
    for other in ("flowers_small_train-00000-of-00005.tfrecord", "flowers_summary.json", "labels.txt",
                  "flowers_train-00000-of-00005.tfrecord.bak", "train-00000-of-01024"):
        assert not layout.is_convert_shard("flowers", other), other
    assert layout.is_convert_shard("imagenet", "validation-00007-of-00128")
    assert not layout.is_convert_shard("imagenet", "flowers_train_00000-of-00005.tfrecord")
