"""Runs the ImageExampleGen executor the way the TFX launcher does, and reads its output."""
from __future__ import annotations

import glob
import os
from typing import Dict, List

import tensorflow as tf
from google.protobuf import message
from tfx.types import standard_artifacts, standard_component_specs
from tfx.utils import proto_utils

from components.image_example_gen.component import ImageExampleGen
from components.image_example_gen.executor import Executor


def run_component(component: ImageExampleGen, output_uri: str,
                  beam_pipeline_args: List[str] = None) -> standard_artifacts.Examples:
    """Serializes the component's exec_properties like the launcher and calls Do."""
    exec_properties = {}
    for key, value in component.exec_properties.items():
        if value is None:
            continue
        exec_properties[key] = (proto_utils.proto_to_json(value)
                                if isinstance(value, message.Message) else value)
    examples = standard_artifacts.Examples()
    examples.uri = output_uri
    context = Executor.Context(beam_pipeline_args=beam_pipeline_args or ["--runner=DirectRunner"],
                               tmp_dir=os.path.join(output_uri, ".tmp"))
    Executor(context).Do({}, {standard_component_specs.EXAMPLES_KEY: [examples]}, exec_properties)
    return examples


def read_split(examples_uri: str, split: str) -> List[tf.train.Example]:
    """All examples of ``Split-<split>`` in shard order."""
    files = sorted(glob.glob(os.path.join(examples_uri, f"Split-{split}", "*")))
    return [tf.train.Example.FromString(r.numpy())
            for r in tf.data.TFRecordDataset(files, compression_type="GZIP")]


def read_tfrecords(pattern: str) -> List[tf.train.Example]:
    return read_tfrecords_files(sorted(glob.glob(pattern)))


def read_tfrecords_files(files: List[str]) -> List[tf.train.Example]:
    return [tf.train.Example.FromString(r.numpy()) for r in tf.data.TFRecordDataset(files)]


def feature(example: tf.train.Example, key: str):
    """The single value of a scalar feature (bytes or int)."""
    f = example.features.feature[key]
    if f.HasField("bytes_list"):
        return f.bytes_list.value[0]
    return f.int64_list.value[0]


def by_filename(examples: List[tf.train.Example]) -> Dict[str, tf.train.Example]:
    return {feature(e, "image/filename").decode(): e for e in examples}


def file_bytes(directory: str) -> Dict[str, bytes]:
    """{relative path: bytes} of every file under ``directory``."""
    out = {}
    for path in sorted(glob.glob(os.path.join(directory, "**", "*"), recursive=True)):
        if os.path.isfile(path):
            with open(path, "rb") as f:
                out[os.path.relpath(path, directory)] = f.read()
    return out
