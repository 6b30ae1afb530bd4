"""ImageExampleGen executor: the ingestion plan + Beam transforms inside TFX.

``Do`` writes, inside the Examples artifact URI:
  Split-<name>/data_tfrecord-XXXXX-of-YYYYY.gz   slim-format tf.Examples (GZIP TFRecords)
  labels.txt                                      ``N:name`` lines
  rejects.jsonl                                   one {"path", "reason", "detail"} per input not converted
  summary.json                                    counts per split/class, rejects per reason
Splits: ``output_config.split_config`` hash buckets (keyed by the relative path, exactly
as TFX's partition_feature_name='image/filename'), or the input_config splits one to
one (sub-directories for folder sources, native split names for dataset sources).
``Do`` writes the shards itself, in plan order, so reruns are byte-identical and
memory stays flat (TFX's WriteSplit reshuffles every example through the runner).
"""
from __future__ import annotations

import json
import logging
import os
from typing import Any, Dict, List

import apache_beam as beam
import tensorflow as tf
from tfx import types
from tfx.components.example_gen import utils as example_gen_utils
from tfx.components.example_gen import write_split
from tfx.components.example_gen.base_example_gen_executor import BaseExampleGenExecutor
from tfx.components.util import examples_utils
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import proto_utils

from ingestion import config as config_lib
from schemas import labels as labels_lib, layout as layout_lib
from ingestion import planning, transforms, workdirs
from ingestion.formats.example import FILENAME
from ingestion.sources import make_source

# How many reject lines go to the log individually (all are in rejects.jsonl).
MAX_LOGGED_REJECTS = 200


def split_strategy(input_config: example_gen_pb2.Input,
                   output_config: example_gen_pb2.Output) -> planning.SplitStrategy:
    """TFX input/output configs → the planner's split strategy."""
    split_config = output_config.split_config
    if split_config.splits:
        if len(input_config.splits) != 1:
            raise ValueError("input must have only one split when output splits are specified")
        if split_config.partition_feature_name not in ("", FILENAME):
            raise ValueError(f"ImageExampleGen splits by {FILENAME!r} (the relative path); "
                             f"partition_feature_name={split_config.partition_feature_name!r} "
                             "is not supported")
        return planning.HashSplit(tuple((s.name, s.hash_buckets) for s in split_config.splits),
                                  selector=input_config.splits[0].pattern)
    return planning.NativeSplit(tuple((s.name, s.pattern) for s in input_config.splits))


def log_results(summary_file: str, rejects_file: str) -> Dict[str, Any]:
    """Logs the summary (INFO) and each reject (WARNING); returns the summary."""
    with tf.io.gfile.GFile(summary_file) as f:
        summary = json.load(f)
    rejects = labels_lib.read_rejects(rejects_file)
    for reject in rejects[:MAX_LOGGED_REJECTS]:
        logging.warning("ImageExampleGen rejected %s: %s%s", reject["path"], reject["reason"],
                        f" ({reject['detail']})" if reject.get("detail") else "")
    if len(rejects) > MAX_LOGGED_REJECTS:
        logging.warning("... and %d more rejects, see %s", len(rejects) - MAX_LOGGED_REJECTS,
                        rejects_file)
    logging.info("ImageExampleGen summary: %s", json.dumps(summary, sort_keys=True))
    return summary


@beam.ptransform_fn
def _ImagesToExamples(pipeline: beam.Pipeline, exec_properties: Dict[str, Any],  # pylint: disable=invalid-name
                      split_pattern: str) -> beam.PCollection:
    """Input split → PCollection[tf.Example] (rejects are logged at WARNING)."""
    options = config_lib.from_exec_properties(exec_properties)
    source = make_source(options.source, exec_properties[standard_component_specs.INPUT_BASE_KEY],
                         options.source_options)
    listing_rejects: List = []
    items = planning.scan_items(source, split_pattern, listing_rejects)
    for reject in listing_rejects:
        logging.warning("ImageExampleGen rejected %s: %s", reject.path, reject.reason)
    converted = (pipeline | "Items" >> beam.Create(items)
                 | "ItemsToExamples" >> transforms.ItemsToExamples(source))  # pylint: disable=no-value-for-parameter
    return converted.examples


class Executor(BaseExampleGenExecutor):
    """Beam executor for ImageExampleGen (see the module doc)."""

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
        """Element-wise conversion of one input split (for composing other pipelines;
        ``Do`` uses the shard writer instead)."""
        return _ImagesToExamples

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]],
           exec_properties: Dict[str, Any]) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        input_config = example_gen_pb2.Input()
        proto_utils.json_to_proto(exec_properties[standard_component_specs.INPUT_CONFIG_KEY],
                                  input_config)
        output_config = example_gen_pb2.Output()
        proto_utils.json_to_proto(exec_properties[standard_component_specs.OUTPUT_CONFIG_KEY],
                                  output_config)
        options = config_lib.from_exec_properties(exec_properties)
        examples = artifact_utils.get_single_instance(
            output_dict[standard_component_specs.EXAMPLES_KEY])

        source = make_source(options.source,
                             exec_properties[standard_component_specs.INPUT_BASE_KEY],
                             options.source_options)
        workdirs.remove_stale_temp_dirs()  # scratch dirs of runs that died
        workdir = workdirs.OwnedTempDir("ingest")  # local: archives unpack here
        # Shard item lists: beside the output so remote workers can read them.
        run_dir = os.path.join(examples.uri, ".ingest-work")
        try:
            source.prepare(workdir.path)
            plan = planning.make_plan(source, split_strategy(input_config, output_config),
                                      num_shards=options.num_shards, dedupe=options.dedupe)
            split_names = example_gen_utils.generate_output_split_names(input_config, output_config)
            assert split_names == plan.split_names, (split_names, plan.split_names)
            examples.split_names = artifact_utils.encode_split_names(split_names)
            labels_lib.write_label_file(plan.labels, labels_lib.labels_path(examples.uri))
            layout = layout_lib.ShardLayout(examples.uri, layout_lib.TFX_PATTERN, compression=layout_lib.GZIP)
            logging.info("ImageExampleGen: %s, %d inputs, splits %s", source.describe(),
                         plan.num_inputs, plan.split_sizes())
            with self._make_beam_pipeline() as pipeline:
                _ = pipeline | "ConvertDataset" >> transforms.ConvertDataset(  # pylint: disable=no-value-for-parameter
                    plan, layout, labels_lib.rejects_path(examples.uri),
                    labels_lib.summary_path(examples.uri), run_dir)
        finally:
            workdir.cleanup()
            if tf.io.gfile.exists(run_dir):
                tf.io.gfile.rmtree(run_dir)

        examples_utils.set_payload_format(examples, example_gen_pb2.FORMAT_TF_EXAMPLE)
        examples_utils.set_file_format(
            examples, write_split.to_file_format_str(example_gen_pb2.FORMAT_TFRECORDS_GZIP))
        summary = log_results(labels_lib.summary_path(examples.uri),
                              labels_lib.rejects_path(examples.uri))
        if not summary["accounted"]:
            raise RuntimeError(f"ImageExampleGen lost inputs: {summary}")
