"""Beam transforms with TestPipeline + assert_that on a tiny folder made by the test."""
import apache_beam as beam
import pytest
import tensorflow as tf
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from tfx.proto import example_gen_pb2
from tfx.utils import proto_utils

from ingestion import config as config_lib
from ingestion import planning, records, transforms
from components.image_example_gen.executor import Executor
from ingestion.sources import make_source
from tests.ingestion import fixtures, helpers


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("tree"))
    fixtures.write(f"{root}/daisy/a.png", fixtures.png_bytes(seed=1))
    fixtures.write(f"{root}/daisy/b.jpg", fixtures.jpeg_bytes(seed=2))
    fixtures.write(f"{root}/tulips/c.png", fixtures.png_bytes(seed=3, gray=True))
    fixtures.write(f"{root}/tulips/bad.png", fixtures.corrupt_png_bytes())
    fixtures.write(f"{root}/tulips/readme.png", b"not a png\n")
    return root


def _summary(example):
    return (helpers.feature(example, "image/filename").decode(),
            helpers.feature(example, "image/class/label"),
            helpers.feature(example, "image/class/text").decode(),
            helpers.feature(example, "image/format").decode(),
            helpers.feature(example, "image/height"),
            helpers.feature(example, "image/width"))


def test_items_to_examples(tree):
    source = make_source("folder", tree)
    items = planning.scan_items(source, "*", [])
    with TestPipeline() as p:
        out = p | beam.Create(items) | transforms.ItemsToExamples(source)  # pylint: disable=no-value-for-parameter
        assert_that(out.examples | beam.Map(_summary), equal_to([
            ("daisy/a.png", 0, "daisy", "png", 12, 16),
            ("daisy/b.jpg", 0, "daisy", "jpeg", 12, 16),
            ("tulips/c.png", 1, "tulips", "png", 12, 16)]), label="examples")
        assert_that(out[transforms.REJECTS_TAG] | beam.Map(lambda r: (r.path, r.reason)), equal_to([
            ("tulips/bad.png", records.CORRUPT),
            ("tulips/readme.png", records.NOT_AN_IMAGE)]), label="rejects")


def test_executor_input_source_transform(tree):
    exec_properties = {"input_base": tree, "custom_config": proto_utils.proto_to_json(
        config_lib.to_custom_config(config_lib.IngestOptions(source="folder")))}
    with TestPipeline() as p:
        examples = p | Executor().GetInputSourceToExamplePTransform()(exec_properties, "*")
        assert_that(examples | beam.Map(lambda e: helpers.feature(e, "image/filename")),
                    equal_to([b"daisy/a.png", b"daisy/b.jpg", b"tulips/c.png"]))


def test_find_duplicates(tmp_path):
    root = str(tmp_path)
    data = fixtures.png_bytes(seed=11)
    for rel in ("b/x.png", "a/z.png", "a/y.png"):
        fixtures.write(f"{root}/{rel}", data)
    fixtures.write(f"{root}/a/unique.png", fixtures.png_bytes(seed=12))
    # Same size, same first and last 4 KB, different middle: not duplicates.
    head, tail = b"H" * 4096, b"T" * 4096
    fixtures.write(f"{root}/c/m1.bin", head + b"1" * 3000 + tail)
    fixtures.write(f"{root}/c/m2.bin", head + b"2" * 3000 + tail)
    fixtures.write(f"{root}/c/m3.bin", head + b"1" * 3000 + tail)
    source = make_source("folder", root)
    plan = planning.make_plan(source, planning.HashSplit((("train", 1),)), num_shards=2)
    with TestPipeline() as p:
        dups = p | beam.Create(plan.shards) | transforms.FindDuplicates(source)  # pylint: disable=no-value-for-parameter
        assert_that(dups, equal_to([("a/z.png", "a/y.png"), ("b/x.png", "a/y.png"),
                                    ("c/m3.bin", "c/m1.bin")]))


def test_custom_config_round_trip():
    options = config_lib.IngestOptions(source="imagenet", num_shards=3, dedupe=False,
                                       source_options={"synsets_file": "s.txt"})
    exec_properties = {"custom_config": proto_utils.proto_to_json(config_lib.to_custom_config(options))}
    assert config_lib.from_exec_properties(exec_properties) == options
    assert config_lib.from_exec_properties({}) == config_lib.IngestOptions()


def test_hash_split_matches_tfx_partition():
    from tfx.components.example_gen import base_example_gen_executor as tfx_base
    split_config = example_gen_pb2.SplitConfig(splits=[
        example_gen_pb2.SplitConfig.Split(name="train", hash_buckets=7),
        example_gen_pb2.SplitConfig.Split(name="eval", hash_buckets=3)],
        partition_feature_name="image/filename")
    items = [records.ItemRef(key=f"c{i % 3}/img_{i}.jpg", label=0, text="c", locator="") for i in range(200)]
    assigned = planning.assign_hash(items, planning.HashSplit((("train", 7), ("eval", 3))))
    for name, refs in assigned.items():
        for ref in refs:
            example = tf.train.Example()
            example.features.feature["image/filename"].bytes_list.value.append(ref.key.encode())
            assert ["train", "eval"][tfx_base._PartitionFn(example, 2, [7, 10], split_config)] == name  # pylint: disable=protected-access
    assert 0 < len(assigned["eval"]) < len(assigned["train"])


def test_find_duplicates_inside_containers(tmp_path):
    from tests.ingestion import dataset_fixtures
    arrays = dataset_fixtures.make_mnist(str(tmp_path), train=6, test=3)
    images, labels = arrays["train"]
    images[4] = images[1]  # same pixels twice in the train file
    dataset_fixtures.write_idx(str(tmp_path / "train-images-idx3-ubyte.gz"), images)
    source = make_source("mnist", str(tmp_path))
    plan = planning.make_plan(source, planning.NativeSplit((("train", "train"), ("test", "test"))),
                              num_shards=1, dedupe=True)
    with TestPipeline() as p:
        dups = p | beam.Create(plan.shards) | transforms.FindDuplicates(source)  # pylint: disable=no-value-for-parameter
        assert_that(dups, equal_to([("train/00004", "train/00001")]))
