"""The local runner's command line (`tfslim run`, `python local_runner.py`): the pipeline on this
machine, LocalDagRunner (default) or BeamDagRunner.

    tfslim run --config configs/demo.yaml
    tfslim run --config photos --data_dir my_photos --set train.learning_rate=0.01
    tfslim run --runner beam --direct_num_workers 2 --direct_running_mode multi_processing

--config names a run config (pipeline/run_config.py); the shortcut flags and the
repeatable --set KEY=VALUE override it, and every check runs before any component.
``runners.local.run_local`` runs it.
"""
from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

from absl import app, flags  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("config", "demo", "Run config: a YAML/JSON file, or the name of one under "
                    "configs/ (demo, smoke, photos, finetune).")
flags.DEFINE_multi_string("set", [], "Override one config key, e.g. --set train.learning_rate=0.01 "
                          "or --set train_steps=500 (repeatable; typed by the config field).")
# A string flag, not an enum: TFX's Beam executors parse their Beam args (which may
# hold --runner=DirectRunner/DataflowRunner) against absl's global FLAGS in-process.
flags.DEFINE_string("runner", "local", "local (LocalDagRunner) or beam (BeamDagRunner).")
flags.DEFINE_string("data_dir", None, "Class-folder tree of raw images (<root>/<label>/<file>); "
                    "default: the config's data_root.")
flags.DEFINE_string("source", None, "ImageExampleGen source kind; default: the config's.")
flags.DEFINE_string("model_name", None, "Shortcut for --set train.model_name=NAME.")
flags.DEFINE_integer("train_steps", None, "Shortcut for --set train_steps=N.")
flags.DEFINE_string("pipeline_root", None, "Where artifacts and MLMD go; default: the config's.")
flags.DEFINE_string("serving_dir", None, "Pusher base dir (<dir>/<model>/<version>/); default: the config's.")
flags.DEFINE_string("pipeline_name", None, "Pipeline name ([a-z0-9-]).")
flags.DEFINE_string("metadata_path", None, "MLMD sqlite file; default <pipeline_root>/metadata.sqlite.")
flags.DEFINE_integer("direct_num_workers", 1, "Beam DirectRunner workers (0 = all cores).")
flags.DEFINE_enum("direct_running_mode", "in_memory", ["in_memory", "multi_threading", "multi_processing"],
                  "Beam DirectRunner mode.")
flags.DEFINE_multi_string("beam_pipeline_arg", [], "Extra Beam pipeline args (repeatable).")
flags.DEFINE_float("accuracy_threshold", None, "Shortcut for --set accuracy_threshold=X.")
flags.DEFINE_integer("num_classes", None, "Class count for the schema's label range; default: "
                     "the class folders of data_dir.")
flags.DEFINE_boolean("no_baseline", False, "Omit the latest-blessed-model Resolver.")
flags.DEFINE_boolean("no_cache", False, "Run every step again (sets enable_cache: false); by default a "
                     "step whose inputs and settings are unchanged reuses its last outputs.")

# Shortcut flag → config key.
_SHORTCUTS = {"model_name": "train.model_name", "train_steps": "train_steps",
              "accuracy_threshold": "accuracy_threshold", "num_classes": "num_classes",
              "pipeline_name": "pipeline_name", "data_dir": "data_root", "source": "source",
              "pipeline_root": "pipeline_root", "serving_dir": "serving_dir"}


def config_from_flags():
    """PipelineConfig from --config, the shortcut flags and --set overrides (in that order).

    Raises pipeline.run_config.ConfigError (one line) for a bad config.
    """
    from pipeline import run_config  # pylint: disable=import-outside-toplevel

    overrides = [f"{key}={getattr(FLAGS, flag)}" for flag, key in _SHORTCUTS.items()
                 if getattr(FLAGS, flag) is not None]
    beam_args = tuple([f"--direct_running_mode={FLAGS.direct_running_mode}",
                       f"--direct_num_workers={FLAGS.direct_num_workers}"] + FLAGS.beam_pipeline_arg)
    changes = {"beam_pipeline_args": beam_args}
    if FLAGS.no_baseline:
        changes["use_baseline_resolver"] = False
    if FLAGS.no_cache:
        changes["enable_cache"] = False
    return run_config.load(FLAGS.config, overrides + list(FLAGS.set), **changes)


def main(argv) -> None:
    del argv
    from pipeline import run_config  # pylint: disable=import-outside-toplevel
    from runners.quiet import quiet_import_tensorflow  # pylint: disable=import-outside-toplevel

    # A config's checks may load TensorFlow (a checkpoint named by the table is fetched and
    # read), so it is imported first, quietly; --help and flag errors never get here.
    quiet_import_tensorflow()

    if FLAGS.runner not in ("local", "beam"):
        raise app.UsageError(f"--runner must be local or beam, got {FLAGS.runner!r}")
    try:
        config = config_from_flags()  # every check before any component runs
    except run_config.ConfigError as error:
        sys.exit(f"error: {error}")
    for hint in run_config.hints(config):
        print(hint, flush=True)
    from runners.local import run_local  # pylint: disable=import-outside-toplevel

    summary = run_local(config, runner=FLAGS.runner, metadata_path=FLAGS.metadata_path)
    print("\n".join(summary.lines()))
