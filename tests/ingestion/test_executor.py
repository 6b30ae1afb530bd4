"""ImageExampleGen executor Do on a temp class-folder tree: splits, labels, rejects."""
import json
import os

import pytest
import tensorflow as tf
from tfx.components.example_gen import base_example_gen_executor
from tfx.proto import example_gen_pb2

from schemas import labels as labels_lib
from components.image_example_gen.component import ImageExampleGen
from tests.ingestion import fixtures, helpers

OUTPUT_CONFIG = example_gen_pb2.Output(split_config=example_gen_pb2.SplitConfig(splits=[
    example_gen_pb2.SplitConfig.Split(name="train", hash_buckets=9),
    example_gen_pb2.SplitConfig.Split(name="eval", hash_buckets=1)],
    partition_feature_name="image/filename"))


@pytest.fixture(scope="module")
def bad_tree(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("bad_tree"))
    expected = fixtures.make_bad_tree(root)
    # More good images so both splits are populated.
    good = fixtures.make_class_tree(root, {"cats": 20, "dogs": 20}, fmt="jpeg")
    expected.update({rel: "keep" for rel in good})
    return root, expected


@pytest.fixture(scope="module")
def run(bad_tree, tmp_path_factory):
    root, _ = bad_tree
    out = str(tmp_path_factory.mktemp("examples"))
    examples = helpers.run_component(ImageExampleGen(input_base=root, output_config=OUTPUT_CONFIG), out)
    return examples


def test_splits_follow_tfx_hash_buckets(bad_tree, run):
    root, expected = bad_tree
    assert json.loads(run.split_names) == ["train", "eval"]
    converted = {rel for rel, outcome in expected.items() if outcome in ("keep", "png")}
    seen = {}
    for split in ("train", "eval"):
        for rel in helpers.by_filename(helpers.read_split(run.uri, split)):
            seen[rel] = split
    assert set(seen) == converted
    for rel, split in seen.items():
        # The exact bucket TFX's own partition function gives image/filename = rel.
        example = tf.train.Example()
        example.features.feature["image/filename"].bytes_list.value.append(rel.encode())
        index = base_example_gen_executor._PartitionFn(  # pylint: disable=protected-access
            example, 2, [9, 10], OUTPUT_CONFIG.split_config)
        assert split == ["train", "eval"][index], rel
    assert "train" in seen.values() and "eval" in seen.values()


def test_examples_keep_original_bytes_and_labels(bad_tree, run):
    root, expected = bad_tree
    examples = helpers.by_filename(helpers.read_split(run.uri, "train") + helpers.read_split(run.uri, "eval"))
    labels = labels_lib.read_label_file(labels_lib.labels_path(run.uri))
    assert labels == {0: "cats", 1: "dogs"}
    for rel, example in examples.items():
        with open(os.path.join(root, rel), "rb") as f:
            data = f.read()
        encoded = helpers.feature(example, "image/encoded")
        if expected[rel] == "keep":
            assert encoded == data, rel
            assert helpers.feature(example, "image/format") == (b"png" if rel.endswith(".png") else b"jpeg")
        else:
            assert helpers.feature(example, "image/format") == b"png"
        cls = rel.split("/")[0]
        assert helpers.feature(example, "image/class/label") == {"cats": 0, "dogs": 1}[cls]
        assert helpers.feature(example, "image/class/text") == cls.encode()
    assert helpers.feature(examples["cats/good.jpg"], "image/height") == 12
    assert helpers.feature(examples["cats/good.jpg"], "image/width") == 16


def test_rejects_are_reported_with_reasons(bad_tree, run):
    _, expected = bad_tree
    rejects = labels_lib.read_rejects(labels_lib.rejects_path(run.uri))
    got = {r["path"]: r["reason"] for r in rejects}
    want = {rel: outcome for rel, outcome in expected.items() if outcome not in ("keep", "png")}
    assert got == want
    summary = json.load(open(labels_lib.summary_path(run.uri)))
    assert summary["accounted"] and summary["inputs"] == len(expected)
    assert summary["rejected"] == len(want)
    assert summary["splits"]["train"]["count"] + summary["splits"]["eval"]["count"] == len(expected) - len(want)


def test_artifact_properties(run):
    assert run.get_string_custom_property("payload_format") == "FORMAT_TF_EXAMPLE"
    assert run.get_string_custom_property("file_format") == "tfrecords_gzip"


def test_rerun_is_byte_identical(bad_tree, run, tmp_path):
    root, _ = bad_tree
    again = helpers.run_component(ImageExampleGen(input_base=root, output_config=OUTPUT_CONFIG),
                                  str(tmp_path / "again"))
    first = {k: v for k, v in helpers.file_bytes(run.uri).items() if not k.startswith(".tmp")}
    second = {k: v for k, v in helpers.file_bytes(again.uri).items() if not k.startswith(".tmp")}
    assert first == second


def test_input_splits_map_to_sub_directories(tmp_path):
    root = str(tmp_path / "data")
    fixtures.make_class_tree(os.path.join(root, "train"), {"a": 3, "b": 2})
    fixtures.make_class_tree(os.path.join(root, "eval"), {"a": 1, "b": 1}, first_seed=2000)
    input_config = example_gen_pb2.Input(splits=[
        example_gen_pb2.Input.Split(name="train", pattern="train/*"),
        example_gen_pb2.Input.Split(name="eval", pattern="eval")])
    examples = helpers.run_component(
        ImageExampleGen(input_base=root, input_config=input_config, num_shards=2), str(tmp_path / "out"))
    train = helpers.by_filename(helpers.read_split(examples.uri, "train"))
    assert sorted(train) == ["train/a/000.png", "train/a/001.png", "train/a/002.png",
                             "train/b/000.png", "train/b/001.png"]
    assert len(os.listdir(os.path.join(examples.uri, "Split-eval"))) == 2
    assert len(helpers.read_split(examples.uri, "eval")) == 2


def test_dataset_source_with_native_splits(tmp_path):
    from tests.ingestion import dataset_fixtures
    dataset_fixtures.make_mnist(str(tmp_path / "raw"), train=8, test=4)
    input_config = example_gen_pb2.Input(splits=[
        example_gen_pb2.Input.Split(name="train", pattern="train"),
        example_gen_pb2.Input.Split(name="test", pattern="test")])
    examples = helpers.run_component(
        ImageExampleGen(input_base=str(tmp_path / "raw"), source="mnist", input_config=input_config),
        str(tmp_path / "out"))
    assert json.loads(examples.split_names) == ["train", "test"]
    assert len(helpers.read_split(examples.uri, "train")) == 8
    assert len(helpers.read_split(examples.uri, "test")) == 4
    assert labels_lib.read_label_file(labels_lib.labels_path(examples.uri))[9] == "nine"
    assert not os.path.exists(os.path.join(examples.uri, ".ingest-work"))


def test_unknown_source_is_refused_at_construction(tmp_path):
    with pytest.raises(ValueError, match="unknown source"):
        ImageExampleGen(input_base=str(tmp_path), source="sketches")
