"""`tfslim run`: the pipeline on this machine, LocalDagRunner (default) or BeamDagRunner.

    tfslim run --data_dir data/digits --model_name lenet --train_steps 1500
    tfslim run --runner beam --direct_num_workers 2 --direct_running_mode multi_processing

The flags build a PipelineConfig; ``pipeline.local.run_local`` runs it. The
``python local_runner.py`` script runs this module under its historical name.
"""
from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

from absl import app, flags  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_enum("preset", "demo", ["demo", "smoke"], "Named configuration in pipeline/configs.py.")
# A string flag, not an enum: TFX's Beam executors parse their Beam args (which may
# hold --runner=DirectRunner/DataflowRunner) against absl's global FLAGS in-process.
flags.DEFINE_string("runner", "local", "local (LocalDagRunner) or beam (BeamDagRunner).")
flags.DEFINE_string("data_dir", "data/digits", "Class-folder tree of raw images (<root>/<label>/<file>).")
flags.DEFINE_string("source", "folder", "ImageExampleGen source kind.")
flags.DEFINE_string("model_name", None, "Zoo network (nets_factory key); default: the preset's.")
flags.DEFINE_integer("train_steps", None, "Trainer steps; default: the preset's.")
flags.DEFINE_string("pipeline_root", "outputs/pipeline_root", "Where artifacts and MLMD go.")
flags.DEFINE_string("serving_dir", "outputs/serving", "Pusher base dir (<dir>/<model>/<version>/).")
flags.DEFINE_string("pipeline_name", None, "Pipeline name ([a-z0-9-]).")
flags.DEFINE_string("metadata_path", None, "MLMD sqlite file; default <pipeline_root>/metadata.sqlite.")
flags.DEFINE_integer("direct_num_workers", 1, "Beam DirectRunner workers (0 = all cores).")
flags.DEFINE_enum("direct_running_mode", "in_memory", ["in_memory", "multi_threading", "multi_processing"],
                  "Beam DirectRunner mode.")
flags.DEFINE_multi_string("beam_pipeline_arg", [], "Extra Beam pipeline args (repeatable).")
flags.DEFINE_float("accuracy_threshold", None, "Evaluator lower bound on top-1.")
flags.DEFINE_integer("num_classes", None, "Class count: the schema then bounds labels to "
                     "[0, num_classes-1]; default: the preset's.")
flags.DEFINE_boolean("no_baseline", False, "Omit the latest-blessed-model Resolver.")


def config_from_flags():
    """PipelineConfig from the preset plus flag overrides."""
    from pipeline import configs  # pylint: disable=import-outside-toplevel

    config = configs.preset(FLAGS.preset)
    changes = dict(data_root=FLAGS.data_dir, pipeline_root=FLAGS.pipeline_root,
                   serving_dir=FLAGS.serving_dir, source=FLAGS.source,
                   use_baseline_resolver=not FLAGS.no_baseline,
                   beam_pipeline_args=tuple([f"--direct_running_mode={FLAGS.direct_running_mode}",
                                             f"--direct_num_workers={FLAGS.direct_num_workers}"]
                                            + FLAGS.beam_pipeline_arg))
    if FLAGS.model_name:
        changes["train"] = config.train.replace(model_name=FLAGS.model_name)
        changes["serving_model_name"] = FLAGS.model_name
    if FLAGS.train_steps:
        changes["train_steps"] = FLAGS.train_steps
    if FLAGS.pipeline_name:
        changes["pipeline_name"] = FLAGS.pipeline_name
    if FLAGS.num_classes:
        changes["num_classes"] = FLAGS.num_classes
    if FLAGS.accuracy_threshold is not None:
        changes["accuracy_threshold"] = FLAGS.accuracy_threshold
    return config.replace(**changes)


def main(argv) -> None:
    del argv
    from pipeline.local import RUNNERS, run_local  # pylint: disable=import-outside-toplevel

    if FLAGS.runner not in RUNNERS:
        raise app.UsageError(f"--runner must be one of {RUNNERS}, got {FLAGS.runner!r}")
    summary = run_local(config_from_flags(), runner=FLAGS.runner, metadata_path=FLAGS.metadata_path)
    print(f"pipeline root: {summary.pipeline_root}")
    print(f"metrics: {summary.metrics}")
    print(f"blessed: {summary.blessed}  pushed: {summary.pushed}  -> {summary.pushed_destination}")
