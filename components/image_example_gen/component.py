"""ImageExampleGen: a FileBasedExampleGen whose executor reads image datasets.

    ImageExampleGen(input_base=<dir>, output_config=example_gen_pb2.Output(
        split_config=example_gen_pb2.SplitConfig(splits=[...train 9, eval 1...],
                                                 partition_feature_name='image/filename')),
        source='folder')

``source`` picks the layout under input_base: folder (default, ``<label>/<file>``),
flowers, cifar10, mnist, imagenet, tfrecord. Labels, rejects and a summary are written
beside the splits in the Examples artifact (see schemas.labels).
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

from tfx.components.example_gen.component import FileBasedExampleGen
from tfx.dsl.components.base import executor_spec
from tfx.proto import example_gen_pb2, range_config_pb2

from ingestion import config as config_lib
from components.image_example_gen.driver import ImageExampleGenDriver
from components.image_example_gen.executor import Executor
from ingestion.sources import source_names


class ImageExampleGen(FileBasedExampleGen):  # pylint: disable=too-few-public-methods
    """Raw images / slim dataset archives → slim-format tf.Examples (GZIP TFRecords)."""

    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)
    # Its cache key follows every file below input_base, not only the class folders (driver.py).
    DRIVER_CLASS = ImageExampleGenDriver

    def __init__(self, input_base: str, source: str = config_lib.DEFAULT_SOURCE,
                 num_shards: Optional[int] = None, dedupe: Optional[bool] = None,
                 source_options: Optional[Mapping[str, Any]] = None,
                 input_config: Optional[example_gen_pb2.Input] = None,
                 output_config: Optional[example_gen_pb2.Output] = None,
                 range_config: Optional[range_config_pb2.RangeConfig] = None):
        """Args:
          input_base: the directory holding the images / archives.
          source: folder | flowers | cifar10 | mnist | imagenet | tfrecord.
          num_shards: TFRecord files per split (default ~1 per 1,000 images).
          dedupe: reject inputs whose bytes repeat an earlier one (default per source).
          source_options: source-specific settings (see each source's module doc).
          input_config / output_config / range_config: as for every FileBasedExampleGen.
        """
        if source not in source_names():
            raise ValueError(f"ImageExampleGen: unknown source {source!r}; known: {source_names()}")
        options = config_lib.IngestOptions(source=source, num_shards=num_shards, dedupe=dedupe,
                                           source_options=dict(source_options or {}))
        super().__init__(input_base=input_base, input_config=input_config,
                         output_config=output_config,
                         custom_config=config_lib.to_custom_config(options),
                         range_config=range_config,
                         output_data_format=example_gen_pb2.FORMAT_TF_EXAMPLE,
                         output_file_format=example_gen_pb2.FORMAT_TFRECORDS_GZIP)
