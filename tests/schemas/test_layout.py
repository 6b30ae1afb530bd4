"""The one split-finder and the labels.txt contract (schemas/)."""
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
