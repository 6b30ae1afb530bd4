"""Small real fixtures for pipeline-level tests: digit PNGs, an Examples artifact, a Transform graph."""
from __future__ import annotations

import io
import os
from typing import List, Tuple

import numpy as np
import tensorflow as tf
from PIL import Image

from ingestion.formats import example as example_lib
from ingestion.formats import image_codec
from schemas import labels as labels_lib
from trainer.preprocessing.image_ops import ImageSpec
from trainer.config import TRAIN_CONFIG_KEY, TrainConfig

LENET_GRAY = ImageSpec(preprocessing_name="lenet", image_size=28, channels=1)
# A search that must pick Adam's epsilon 1e-8 over slim's default 1.0. At 60 steps on the
# 300-digit runs: top-1 0.90-0.92 with 1e-8 against 0.07-0.18 with 1.0 over 4 seeds.
TUNER = {"algorithm": "random", "max_trials": 2, "steps_per_trial": 60,
         "search": {"train.opt_epsilon": {"choices": [1.0, 1.0e-8]}}}


def digit_images(count: int, start: int = 0) -> List[Tuple[np.ndarray, int]]:
    """(uint8 8x8 pixels, label) of sklearn's real digits."""
    from sklearn.datasets import load_digits  # pylint: disable=import-outside-toplevel

    digits = load_digits()
    pixels = np.clip(np.round(digits.images * (255.0 / 16.0)), 0, 255).astype(np.uint8)
    return [(pixels[i], int(digits.target[i])) for i in range(start, start + count)]


def encode(pixels: np.ndarray, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    image = Image.fromarray(pixels, mode="L")
    if fmt == "JPEG":
        image = image.convert("RGB")
    image.save(buf, fmt)
    return buf.getvalue()


def write_examples_artifact(uri: str, train: int = 200, eval_: int = 60) -> str:
    """An Examples artifact as ImageExampleGen writes it: Split-*/ GZIP shards + labels.txt."""
    splits = {"train": digit_images(train), "eval": digit_images(eval_, start=train)}
    for split, items in splits.items():
        directory = os.path.join(uri, f"Split-{split}")
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, "data_tfrecord-00000-of-00001.gz")
        with tf.io.TFRecordWriter(path, "GZIP") as writer:
            for index, (pixels, label) in enumerate(items):
                writer.write(example_lib.encode_example(image_codec.normalize(encode(pixels)), label,
                                                        str(label), f"{label}/{split}{index}.png"))
    labels_lib.write_label_file({i: str(i) for i in range(10)}, labels_lib.labels_path(uri))
    return uri


UNDECODABLE_NAME = "3/no-dqt.jpg"


def add_undecodable_eval_record(examples_uri: str, position: int = 0) -> None:
    """Inserts at ``position`` of the Examples artifact's one eval shard a record whose JPEG
    ingestion keeps (marker walk passes, verify_decode off) but TF cannot decode (no DQT)."""
    from tests.ingestion.hostile import corpus  # pylint: disable=import-outside-toplevel

    (path,) = tf.io.gfile.glob(os.path.join(examples_uri, "Split-eval", "*"))
    records = [r.numpy() for r in tf.data.TFRecordDataset(path, "GZIP")]
    bad = example_lib.encode_example(image_codec.normalize(corpus.jpeg_without_quantization_tables()),
                                     3, "3", UNDECODABLE_NAME)
    with tf.io.TFRecordWriter(path, "GZIP") as writer:
        for record in records[:position] + [bad] + records[position:]:
            writer.write(record)


def transform_config(spec: ImageSpec) -> dict:
    """Transform's custom_config for a TrainConfig whose image spec is ``spec``."""
    return {TRAIN_CONFIG_KEY: TrainConfig(model_name="lenet", preprocessing_name=spec.preprocessing_name,
                                          train_image_size=spec.image_size, image_channels=spec.channels,
                                          resize_to_fit=spec.resize_to_fit).to_dict()}


def write_transform_graph(output_dir: str, spec: ImageSpec = LENET_GRAY) -> str:
    """Runs the real preprocessing_fn through tf.Transform (Beam) and writes its graph."""
    import tensorflow_transform as tft  # pylint: disable=import-outside-toplevel
    import tensorflow_transform.beam as tft_beam  # pylint: disable=import-outside-toplevel
    from tfx.utils import io_utils  # pylint: disable=import-outside-toplevel
    from tensorflow_metadata.proto.v0 import schema_pb2  # pylint: disable=import-outside-toplevel

    import schemas  # pylint: disable=import-outside-toplevel
    from trainer.preprocessing_fn import preprocessing_fn  # pylint: disable=import-outside-toplevel

    schema = io_utils.parse_pbtxt_file(schemas.SLIM_IMAGE_SCHEMA, schema_pb2.Schema())
    metadata = tft.DatasetMetadata(schema)
    pixels, label = digit_images(1)[0]
    instance = {"image/encoded": [encode(pixels)], "image/format": [b"png"],
                "image/class/label": [label], "image/class/text": [str(label).encode()],
                "image/height": [8], "image/width": [8], "image/filename": [b"x.png"]}
    with tft_beam.Context(temp_dir=os.path.join(output_dir, "tmp")):
        transform_fn = (([instance], metadata) | tft_beam.AnalyzeDataset(
            lambda inputs: preprocessing_fn(inputs, transform_config(spec))))
        _ = transform_fn | tft_beam.WriteTransformFn(output_dir)
    return output_dir


def tuned_smoke_config(directory) -> str:
    """configs/smoke.yaml with Adam's epsilon at slim's 1.0 and the :data:`TUNER` search, as a file."""
    import yaml  # pylint: disable=import-outside-toplevel

    from pipeline import run_config  # pylint: disable=import-outside-toplevel

    values = run_config.read_file(run_config.config_path("smoke"))
    values["train"]["opt_epsilon"] = 1.0
    values["tuner"] = TUNER
    path = os.path.join(str(directory), "tuned-smoke.yaml")
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(values, f)
    return path
