"""The TF-free Example encoder and TFRecord writer give TF's bytes (what the converter
wrote when it built protos and used tf.io.TFRecordWriter)."""
import glob
import os

import pytest
import tensorflow as tf

from ingestion import convert as convert_lib
from ingestion.formats import example as example_lib
from ingestion.formats.image_codec import EncodedImage
from ingestion.formats.record_writer import RecordWriter
from tests.ingestion import fixtures


def _tf_example(features) -> bytes:
    """The same features built as a proto and serialized as the converter did before."""
    example = tf.train.Example()
    for name, (kind, values) in features.items():
        target = getattr(example.features.feature[name], kind)
        target.SetInParent()
        target.value.extend(values)
    return example.SerializeToString(deterministic=True)


CASES = [
    {"image/encoded": (example_lib.BYTES, (b"\xff\xd8" + bytes(range(256)) * 3,)),
     "image/class/label": (example_lib.INT64, (3,))},
    {"a": (example_lib.INT64, (0, 1, 127, 128, 300, 2**31, 2**63 - 1, -1, -(2**63))),
     "b": (example_lib.FLOAT, (0.1, -2.5, 1e-30, 3.4e38)),
     "c": (example_lib.BYTES, (b"", b"x" * 200, "é/\udcff".encode("utf-8", "surrogateescape")))},
    {"image/object/bbox/xmin": (example_lib.FLOAT, ()),
     "image/object/bbox/label": (example_lib.INT64, ()),
     "image/object/class/text": (example_lib.BYTES, ()),
     "z" * 200: (example_lib.INT64, (5,))},
]


@pytest.mark.parametrize("features", CASES)
def test_features_serialize_like_tf(features):
    assert example_lib.encode_features(features) == _tf_example(features)


def test_example_has_slims_keys_and_tfs_bytes():
    image = EncodedImage(data=b"\x89PNG...", format="png", height=375, width=500, reencoded=False)
    boxes = {"image/object/bbox/xmin": (example_lib.FLOAT, (0.25, 0.5)),
             "image/object/bbox/label": (example_lib.INT64, (7, 7))}
    encoded = example_lib.encode_example(image, 7, "tulips", "tulips/ä b.png", boxes)
    parsed = tf.train.Example.FromString(encoded).features.feature
    assert parsed["image/encoded"].bytes_list.value == [b"\x89PNG..."]
    assert parsed["image/format"].bytes_list.value == [b"png"]
    assert parsed["image/filename"].bytes_list.value == ["tulips/ä b.png".encode()]
    assert (parsed["image/height"].int64_list.value, parsed["image/width"].int64_list.value) == ([375], [500])
    assert list(parsed["image/object/bbox/xmin"].float_list.value) == [0.25, 0.5]
    assert encoded == tf.train.Example.FromString(encoded).SerializeToString(deterministic=True)


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown feature kind"):
        example_lib.encode_feature("double_list", (1.0,))


def test_uncompressed_records_match_tfs_writer(tmp_path):
    records = [b"", b"a", os.urandom(70_000), b"\x00" * 5]
    with RecordWriter(str(tmp_path / "ours")) as writer:
        for record in records:
            writer.write(record)
    with tf.io.TFRecordWriter(str(tmp_path / "tf")) as writer:
        for record in records:
            writer.write(record)
    assert (tmp_path / "ours").read_bytes() == (tmp_path / "tf").read_bytes()


def test_gzip_records_read_back_with_tf(tmp_path):
    records = [os.urandom(n) for n in (0, 10, 300_000)]
    path = str(tmp_path / "data.gz")
    with RecordWriter(path, "GZIP") as writer:
        for record in records:
            writer.write(record)
    read = [r.numpy() for r in tf.data.TFRecordDataset(path, compression_type="GZIP")]
    assert read == records


def test_converted_shards_equal_tf_rewrite(tmp_path):
    """Each shard equals the file TF writes for the same parsed Examples: the bytes the
    converter wrote when it serialized protos and used tf.io.TFRecordWriter."""
    src = str(tmp_path / "src")
    fixtures.make_class_tree(src, {"cats": 6, "dogs": 6}, fmt="jpeg")
    fixtures.make_class_tree(src, {"birds": 4}, fmt="png")
    request = convert_lib.ConvertRequest(dataset_name="folder", dataset_dir=str(tmp_path / "out"),
                                         source=src, num_shards=2, progress=False)
    summary = convert_lib.convert(request)
    assert summary["converted"] == 16
    shards = sorted(glob.glob(str(tmp_path / "out" / "*.tfrecord")))
    assert len(shards) == 4
    for shard in shards:
        rewritten = shard + ".tf"
        with tf.io.TFRecordWriter(rewritten) as writer:
            for record in tf.data.TFRecordDataset(shard):
                example = tf.train.Example.FromString(record.numpy())
                writer.write(example.SerializeToString(deterministic=True))
        with open(shard, "rb") as ours, open(rewritten, "rb") as theirs:
            assert ours.read() == theirs.read(), shard
