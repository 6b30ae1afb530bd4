"""`tfslim convert`: slim's download_and_convert_data.py, in this process or as a parallel Beam job.

  tfslim convert --dataset_name=flowers --dataset_dir=/data/flowers
  tfslim convert --dataset_name=folder --source=/photos --dataset_dir=/data/photos \\
      --validation_fraction=0.1 --num_shards=8
  tfslim convert --dataset_name=imagenet --source=/raw/imagenet --dataset_dir=gs://b/imagenet \\
      --num_shards=1024 --runner=DataflowRunner --project=P --region=R \\
      --temp_location=gs://b/tmp --requirements_file=requirements.txt

Flags this command does not define (--runner, --direct_num_workers,
--direct_running_mode, Dataflow/Flink/Spark options, ...) are passed to Beam; they may
also follow a lone ``--``. Without any of them: below 100,000 images the conversion runs
in this process without Beam (same functions, byte-identical files, no ~5 s Beam import);
above, on the DirectRunner with a worker process per core (docs/ingestion.md says why).
Any Beam flag runs Beam: e.g. ``--direct_running_mode=in_memory`` for the in-process
DirectRunner.
"""
from __future__ import annotations

import sys
from typing import List, Literal, Optional

import pydantic
from absl import flags
from absl import logging as absl_logging
from pydantic import Field

from cli import model_flags, parse_known_flags

FLAGS = flags.FLAGS


class ConvertFlags(pydantic.BaseModel):
    """The command's flags (cli/model_flags.py defines them from these fields)."""

    dataset_name: Optional[Literal["flowers", "cifar10", "mnist", "imagenet", "folder", "tfrecord"]] = Field(
        None, description="The dataset (slim's flag) or source kind.")
    dataset_dir: Optional[str] = Field(None, description="Where the TFRecords, labels.txt and reports go (and where "
                                                         "slim's archives are looked for / downloaded to).")
    source: Optional[str] = Field(None, description="Input: an image folder, an archive or extracted dataset "
                                                    "directory, or TFRecord files (default: --dataset_dir).")
    num_shards: Optional[int] = Field(None, description="TFRecord files per split (default 5; 1 for cifar10 and mnist, "
                                                        "slim's single cifar10_train.tfrecord).")
    validation_size: Optional[int] = Field(None, description="Validation images, picked like slim's flowers (seed-0 "
                                                             "shuffle of the sorted paths). Re-splits every input.")
    validation_fraction: Optional[float] = Field(None, description="Validation fraction, by a hash of each relative "
                                                                   "path (stable as files are added). Re-splits every "
                                                                   "input.")
    dedupe: Optional[bool] = Field(None, description="Reject files whose bytes repeat another's (default: on, off for "
                                                     "cifar10/mnist).")
    download: bool = Field(True, description="Download slim's archive when it is missing.")
    progress: bool = Field(True, description="Show a progress bar.")
    synsets_file: Optional[str] = Field(None, description="imagenet: the synset list (default "
                                                          "imagenet_lsvrc_2015_synsets.txt in --source).")
    validation_labels_file: Optional[str] = Field(None, description="imagenet: validation ground truth (default "
                                                                    "imagenet_2012_validation_synset_labels.txt in "
                                                                    "--source).")
    metadata_file: Optional[str] = Field(None, description="imagenet: synset → words (default imagenet_metadata.txt).")
    bbox_dir: Optional[str] = Field(None, description="imagenet: bounding-box XMLs (default bounding_boxes/).")
    max_image_side: Optional[int] = Field(None, description="Reject images whose header claims a side above this many "
                                                            "pixels as 'too large' (default 16384).")
    max_image_pixels: Optional[int] = Field(None, description="Reject images whose header claims more pixels than this "
                                                              "as 'too large' (default 100,000,000).")
    verify_decode: bool = Field(False, description="Also fully decode every kept JPEG/PNG with the trainer's decoder, "
                                                   "in the Beam workers (slower; see docs/ingestion.md).")
    allow_outside_links: bool = Field(False, description="folder/flowers: follow symlinks that point outside --source "
                                                         "(by default they are rejected as 'link outside "
                                                         "source').")


model_flags.define(ConvertFlags, ConvertFlags.model_fields, __name__)
flags.mark_flags_as_required(["dataset_name", "dataset_dir"])

_IMAGENET_OPTIONS = ("synsets_file", "validation_labels_file", "metadata_file", "bbox_dir")
_CHECK_OPTIONS = ("max_image_side", "max_image_pixels", "verify_decode", "allow_outside_links")


# Flags this command does not define are left for Beam.
flags_parser = parse_known_flags


def _print_rejects(path: str, limit: int = 10) -> None:
    """The first rejects (path: reason), so problems show without opening the file."""
    from schemas.labels import read_rejects  # pylint: disable=import-outside-toplevel
    rejects = read_rejects(path)
    for reject in rejects[:limit]:
        detail = f" ({reject['detail']})" if reject.get("detail") else ""
        print(f"  ! {reject['path']}: {reject['reason']}{detail}")
    if len(rejects) > limit:
        print(f"  ! ... {len(rejects) - limit} more in {path}")


def main(argv: List[str]) -> None:
    """Runs the conversion and prints the summary; exits 1 when the input is missing."""
    beam_args = [a for a in argv[1:] if a != "--"]
    unknown = [a for a in beam_args if not a.startswith("-")]
    if unknown:
        sys.exit(f"tfslim convert: unexpected arguments {unknown}")
    if not FLAGS["verbosity"].present:
        # Beam logs every stage and worker at INFO; the progress bar and summary say enough.
        absl_logging.set_verbosity(absl_logging.WARNING)
    from ingestion import convert as convert_lib  # pylint: disable=import-outside-toplevel
    from ingestion.download import SourceMissing  # pylint: disable=import-outside-toplevel
    from ingestion.workdirs import DatasetBusy  # pylint: disable=import-outside-toplevel

    request = convert_lib.ConvertRequest(
        dataset_name=FLAGS.dataset_name, dataset_dir=FLAGS.dataset_dir, source=FLAGS.source,
        num_shards=FLAGS.num_shards, validation_size=FLAGS.validation_size,
        validation_fraction=FLAGS.validation_fraction, dedupe=FLAGS.dedupe,
        source_options={k: FLAGS[k].value for k in _IMAGENET_OPTIONS + _CHECK_OPTIONS
                        if FLAGS[k].value},
        download=FLAGS.download, progress=FLAGS.progress)
    try:
        summary = convert_lib.convert(request, beam_args)
    except (SourceMissing, DatasetBusy, FileNotFoundError, ValueError) as err:
        sys.exit(f"tfslim convert: {err}")
    print(convert_lib.format_summary(summary))
    _print_rejects(summary["files"]["rejects"])
    if not summary["accounted"]:
        sys.exit("tfslim convert: some inputs are neither converted nor rejected (see the summary)")
