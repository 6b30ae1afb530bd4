"""`tfslim eval`: slim's eval_image_classifier.py for checkpoints and serving SavedModels.

    tfslim eval --checkpoint_path=/tmp/train_dir --dataset_dir=/tmp/flowers \
        --dataset_name=flowers --dataset_split_name=validation --model_name=inception_v3
    tfslim eval --checkpoint_path=outputs/serving/lenet --dataset_dir=<Examples uri> \
        --dataset_split_name=eval                     # a SavedModel: its serving_examples signature
    tfslim eval --checkpoint_path=/tmp/train_dir --eval_interval_secs=60 --timeout=3600 ...

Prints and writes to TensorBoard (``--eval_dir``) ``eval/Accuracy`` and ``eval/Recall_5``.
``--checkpoint_path`` is a checkpoint file, a directory (its latest checkpoint), or a
SavedModel (a version directory or a TF Serving base directory: its newest version).
With ``--eval_interval_secs`` a checkpoint directory is watched and each new
checkpoint evaluated until ``--timeout`` seconds pass without one (slim's evaluation loop).
"""
from __future__ import annotations

import logging
import sys
from typing import Optional

import pydantic
from absl import flags
from pydantic import Field

from cli import model_flags
from trainer.config import TrainConfig

FLAGS = flags.FLAGS
model_flags.define(TrainConfig, ("model_name", "preprocessing_name", "train_image_size", "labels_offset",
                                 "batch_size", "moving_average_decay", "checkpoint_path"), __name__,
                   names={"train_image_size": "eval_image_size"},
                   defaults={"batch_size": 100, "checkpoint_path": "/tmp/tfmodel/"},
                   helps={"checkpoint_path": "Checkpoint file, directory (latest checkpoint) or serving "
                                             "SavedModel (then --model_name is not used)."})
model_flags.define(model_flags.SlimFlags, ("dataset_name", "dataset_split_name", "dataset_dir", "use_grayscale",
                                           "num_classes"), __name__, defaults={"dataset_split_name": "test"})
model_flags.define_unsupported(("num_preprocessing_threads", "master", "quantize"), __name__)


class EvalFlags(pydantic.BaseModel):
    """The command's own flags (cli/model_flags.py defines them from these fields)."""

    eval_dir: str = Field("/tmp/tfmodel/", description="Where TensorBoard summaries are written.")
    max_num_batches: Optional[int] = Field(None, description="Evaluate at most this many batches; default: one pass.")
    eval_interval_secs: Optional[int] = Field(None, description="Watch a checkpoint directory and evaluate each new "
                                                                "checkpoint at most this often.")
    progress: bool = Field(True, description="Show a progress bar (stderr) while evaluating.")
    report: Optional[str] = Field(None, description="(new) Also write the HTML run report (report.html) into this "
                                                    "directory: confusion matrix, per-class precision/recall, worst "
                                                    "images, curves.")
    timeout: Optional[int] = Field(None, description="With --eval_interval_secs: stop after this many seconds without "
                                                     "a new checkpoint (default: wait forever).")


model_flags.define(EvalFlags, EvalFlags.model_fields, __name__)

log = logging.getLogger(__name__)


def _num_classes() -> int:
    if FLAGS.num_classes:
        return FLAGS.num_classes
    from schemas import labels as labels_lib  # pylint: disable=import-outside-toplevel

    try:
        labels = labels_lib.read_label_file(labels_lib.labels_path(FLAGS.dataset_dir))
    except FileNotFoundError as err:
        raise SystemExit(f"tfslim eval: {err} Pass --num_classes.") from err
    return labels_lib.num_classes(labels, FLAGS.labels_offset)


def _split_size() -> Optional[int]:
    """The split's example count from the converter's summary (`tfslim convert`'s
    <name>_summary.json or the ExampleGen's summary.json), for the progress bar's total."""
    import json  # pylint: disable=import-outside-toplevel
    import os  # pylint: disable=import-outside-toplevel
    from schemas.labels import SUMMARY_FILENAME  # pylint: disable=import-outside-toplevel

    for name in (f"{FLAGS.dataset_name}_summary.json", SUMMARY_FILENAME):
        try:
            with open(os.path.join(FLAGS.dataset_dir, name), encoding="utf-8") as f:
                return int(json.load(f)["splits"][FLAGS.dataset_split_name]["count"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return None


def _build_net(path: str):
    """The zoo net of --model_name restored from ``path``; returns (net, image_spec, resolved)."""
    from trainer.export import model_io  # pylint: disable=import-outside-toplevel
    from trainer import nets
    from trainer.preprocessing.image_ops import image_spec_for_net  # pylint: disable=import-outside-toplevel

    image_spec = image_spec_for_net(FLAGS.model_name, FLAGS.preprocessing_name, FLAGS.eval_image_size,
                                    channels=1 if FLAGS.use_grayscale else 3)
    net = nets.create_model(FLAGS.model_name, num_classes=_num_classes(), is_training=False)
    net.ensure_built(image_spec.image_size, image_spec.channels)
    resolved = model_io.restore_for_inference(net, path, use_moving_averages=bool(FLAGS.moving_average_decay))
    return net, image_spec, resolved


def _evaluate_checkpoint(path: str, files):
    from trainer.training import eval_lib  # pylint: disable=import-outside-toplevel
    from trainer.export import model_io

    net, image_spec, resolved = _build_net(path)
    return eval_lib.evaluate_net(net, image_spec, files, FLAGS.batch_size, FLAGS.labels_offset,
                                 FLAGS.max_num_batches, step=model_io.checkpoint_step(resolved),
                                 source=resolved, progress=FLAGS.progress, total_examples=_split_size())


def _report(result) -> None:
    from trainer.training import eval_lib  # pylint: disable=import-outside-toplevel

    print(result.summary(), flush=True)
    eval_lib.write_summaries(result, FLAGS.eval_dir)


def write_report(path: str, files) -> None:
    """--report: the HTML report of ``path`` (a SavedModel, or a checkpoint exported for it)."""
    import os  # pylint: disable=import-outside-toplevel
    import tempfile  # pylint: disable=import-outside-toplevel

    import report  # pylint: disable=import-outside-toplevel
    from schemas.labels import labels_path, read_label_file  # pylint: disable=import-outside-toplevel
    from serving.versions import latest_version_dir  # pylint: disable=import-outside-toplevel
    from trainer.export import saved_model as export, model_io  # pylint: disable=import-outside-toplevel

    eval_files = sorted(files)
    with tempfile.TemporaryDirectory(prefix="tfslim_report_") as scratch:
        if model_io.is_saved_model(path):
            saved_model, logdir = latest_version_dir(path), None
        else:
            net, image_spec, resolved = _build_net(path)
            labels = read_label_file(labels_path(FLAGS.dataset_dir))
            names = export.class_names_for(labels, _num_classes(), FLAGS.labels_offset)
            saved_model = export.export_saved_model(net, image_spec, names,
                                                    os.path.join(scratch, "model"))
            logdir = os.path.dirname(resolved)
        summary = report.write_report(report.ReportInputs(
            title=f"tfslim eval: {path}", saved_model_dir=saved_model, dataset_dir=FLAGS.dataset_dir,
            eval_files=eval_files, split=FLAGS.dataset_split_name, labels_offset=FLAGS.labels_offset,
            train_logdir=logdir), os.path.join(FLAGS.report, "report.html"))
    print(f"report: {summary.path}  (top-1 {summary.top1:.4f} on {summary.num_eval} images)",
          flush=True)


def main(argv) -> None:
    del argv
    model_flags.exit_on_unsupported("eval")
    from runners.quiet import quiet_import_tensorflow  # pylint: disable=import-outside-toplevel

    quiet_import_tensorflow()
    from schemas import layout  # pylint: disable=import-outside-toplevel
    from trainer.training import eval_lib  # pylint: disable=import-outside-toplevel
    from trainer.export import model_io

    if not FLAGS.dataset_dir:
        raise SystemExit("tfslim eval: --dataset_dir is required.")
    try:
        files = layout.find_split_files(FLAGS.dataset_dir, FLAGS.dataset_name,
                                        FLAGS.dataset_split_name)
    except FileNotFoundError as err:
        raise SystemExit(f"tfslim eval: {err}") from err
    path = FLAGS.checkpoint_path
    if model_io.is_saved_model(path):
        if FLAGS.eval_interval_secs:
            raise SystemExit("tfslim eval: --eval_interval_secs watches checkpoints, not SavedModels.")
        _report(eval_lib.evaluate_saved_model(path, files, FLAGS.batch_size, FLAGS.labels_offset,
                                              FLAGS.max_num_batches, progress=FLAGS.progress,
                                              total_examples=_split_size()))
        if FLAGS.report:
            write_report(path, files)
        return
    if FLAGS.eval_interval_secs:
        import tensorflow as tf  # pylint: disable=import-outside-toplevel

        evaluated = 0
        for checkpoint in tf.train.checkpoints_iterator(path, min_interval_secs=FLAGS.eval_interval_secs,
                                                         timeout=FLAGS.timeout):
            _report(_evaluate_checkpoint(checkpoint, files))
            evaluated += 1
        print(f"No new checkpoint in {FLAGS.timeout}s; evaluated {evaluated}.", file=sys.stderr)
        return
    try:
        _report(_evaluate_checkpoint(path, files))
        if FLAGS.report:
            write_report(path, files)
    except FileNotFoundError as err:
        raise SystemExit(f"tfslim eval: {err}") from err
