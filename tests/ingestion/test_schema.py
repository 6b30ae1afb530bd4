"""The curated schema + class count: ExampleValidator's check (TFDV) flags a label out of
range and a missing key in converted data, and passes clean data."""
import os

import pytest
import tensorflow as tf
import tensorflow_data_validation as tfdv

import schemas
from ingestion import convert as convert_lib
from tests.ingestion import fixtures


@pytest.fixture(scope="module")
def statistics(tmp_path_factory):
    """Statistics of a converted 3-class folder, and of the same data minus class/text."""
    root = tmp_path_factory.mktemp("schema")
    fixtures.make_class_tree(str(root / "src"), {"a": 4, "b": 4, "c": 4})
    request = convert_lib.ConvertRequest(dataset_name="folder", dataset_dir=str(root / "out"),
                                         source=str(root / "src"), num_shards=1, progress=False)
    convert_lib.convert(request, ["--direct_running_mode=in_memory"])
    pattern = str(root / "out" / "folder_train-*")
    stripped = str(root / "stripped.tfrecord")
    with tf.io.TFRecordWriter(stripped) as writer:
        for record in tf.data.TFRecordDataset(tf.io.gfile.glob(pattern)):
            example = tf.train.Example.FromString(record.numpy())
            del example.features.feature["image/class/text"]
            writer.write(example.SerializeToString())
    return (tfdv.generate_statistics_from_tfrecord(data_location=pattern),
            tfdv.generate_statistics_from_tfrecord(data_location=stripped))


def test_clean_data_has_no_anomalies(statistics):
    anomalies = tfdv.validate_statistics(statistics[0], schemas.dataset_schema(num_classes=3))
    assert dict(anomalies.anomaly_info) == {}


def test_label_out_of_range_is_flagged(statistics):
    anomalies = tfdv.validate_statistics(statistics[0], schemas.dataset_schema(num_classes=2))
    assert list(anomalies.anomaly_info) == ["image/class/label"]
    assert "out-of-range" in anomalies.anomaly_info["image/class/label"].short_description.lower()


def test_missing_key_is_flagged(statistics):
    anomalies = tfdv.validate_statistics(statistics[1], schemas.dataset_schema(num_classes=3))
    assert "image/class/text" in anomalies.anomaly_info


def test_schema_file_for_import_schema_gen(tmp_path):
    path = schemas.write_dataset_schema(str(tmp_path / "imagenet.pbtxt"),
                                        schemas.DATASET_NUM_CLASSES["imagenet"], with_bboxes=True)
    schema = tfdv.load_schema_text(path)
    label = tfdv.get_feature(schema, "image/class/label")
    assert (label.int_domain.min, label.int_domain.max) == (0, 1000)
    assert tfdv.get_feature(schema, "image/object/bbox/xmin").presence.min_fraction == 0.0
    assert os.path.getsize(path) > 0
