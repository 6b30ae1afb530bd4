"""`tfslim predict`: label_image for serving SavedModels, locally or through TF Serving,
and batch prediction over whole folders.

    tfslim predict cat.jpg dog.png --model_dir outputs/serving/lenet      # newest version, in-process
    tfslim predict cat.jpg --server localhost:8501 --model_name lenet      # REST :predict, b64
    tfslim predict cat.jpg --server localhost:8500 --protocol grpc --model_name lenet
    tfslim predict clip1/ clip2/ --model_dir outputs/serving/i3d         # a video model: folders
    tfslim predict --input_dir photos/ --output labels.jsonl --model_dir outputs/serving/lenet
    tfslim predict --input_dir photos/ --output labels.csv --model_dir M \
        --runner=PortableRunner --job_endpoint=localhost:8099 --environment_type=EXTERNAL ...

With --input_dir every file under the folder is scored (prediction/): one
JSON line (or CSV row) per file with its top-k labels and scores, or the reason it could
not be scored; a summary line counts both. Flags this command does not define are Beam
flags and run the job on Beam's RunInference (so does a folder of BEAM_FILES files or more);
the output is then sharded (OUTPUT-00000-of-0000N). docs/batch-prediction.md has more.

Prints the top-k labels with scores per image. Each image is its own request, so a
file that is missing or not an image is reported by name (the server's error
message included) while the others are still labelled; the exit status is 1 if
any image failed. A video SavedModel (`tfslim export --is_video_model`) labels
folders instead (--model_dir only): each folder is one clip, its files the frames
in name order, exactly as many as the export's --num_frames.
"""
from __future__ import annotations

import os
import sys
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

from absl import flags
from absl import logging as absl_logging

from cli import parse_known_flags

FLAGS = flags.FLAGS
flags.DEFINE_string("model_dir", None, "SavedModel directory or TF Serving base dir (newest version).")
flags.DEFINE_string("server", None, "host:port of a TF Serving model server (instead of --model_dir).")
flags.DEFINE_enum("protocol", "rest", ["rest", "grpc"], "With --server: REST (:8501) or gRPC (:8500).")
flags.DEFINE_string("model_name", None, "With --server: the served model's name.")
flags.DEFINE_integer("model_version", None, "With --server: a specific version (default: the served one).")
flags.DEFINE_string("signature_name", "serving_default", "Signature taking encoded image bytes (or, "
                    "for a video model, clips of encoded frames).")
flags.DEFINE_integer("top_k", 5, "Labels printed per image.")
flags.DEFINE_float("request_timeout", 30.0, "Seconds per request (--server).")
flags.DEFINE_string("input_dir", None, "Batch prediction: score every file under this folder "
                    "(recursively) into --output.")
flags.DEFINE_string("output", None, "With --input_dir: the output file; JSON lines, or CSV for a "
                    "name ending in .csv (a Beam job writes shards OUTPUT-00000-of-0000N).")
flags.DEFINE_integer("batch_size", 64, "With --input_dir: images per call of the signature.")
flags.DEFINE_integer("num_shards", None, "With --input_dir on Beam: output shards (default one "
                     "per 100,000 files).")
flags.DEFINE_boolean("progress", True, "With --input_dir: show a progress bar (images/s).")
flags.DEFINE_integer("max_in_process_files", None, "With --input_dir and no Beam flag: a folder "
                     "with at least this many files runs as a Beam job (default 100,000).")
flags.DEFINE_boolean("allow_outside_links", False, "With --input_dir: follow symlinks that point "
                     "outside the folder (by default they get an error line).")


# Flags this command does not define are left for Beam (--input_dir only).
flags_parser = parse_known_flags


# One request's input: an encoded image, or a clip's encoded frames for a video model.
Item = Union[bytes, List[bytes]]


class _NotLabelled(Exception):
    """An input refused before any request; the message is the reason."""


def _runner() -> Tuple[Callable[[Item], Dict], Optional[int]]:
    """(a function: one input → output dict, for the chosen backend; the frames per clip
    of a local video model, else None)."""
    if bool(FLAGS.model_dir) == bool(FLAGS.server):
        raise SystemExit("tfslim predict: give exactly one of --model_dir or --server.")
    if FLAGS.model_dir:
        from runners.quiet import quiet_import_tensorflow  # pylint: disable=import-outside-toplevel

        quiet_import_tensorflow()
        from serving import predict  # pylint: disable=import-outside-toplevel

        try:
            fn = predict.load_serving_fn(FLAGS.model_dir, FLAGS.signature_name)
        except (FileNotFoundError, KeyError, OSError) as err:
            raise SystemExit(f"tfslim predict: cannot load {FLAGS.model_dir}: {err}") from err
        num_frames = predict.clip_frames(fn)
        if num_frames:
            return (lambda clip: predict.run_clips(fn, [clip])), num_frames
        return (lambda image: predict.run_images(fn, [image])), None
    if not FLAGS.model_name:
        raise SystemExit("tfslim predict: --server needs --model_name (the served model's name).")
    from serving import client as serving_client  # pylint: disable=import-outside-toplevel

    call = serving_client.rest_predict if FLAGS.protocol == "rest" else serving_client.grpc_predict
    return (lambda image: call(FLAGS.server, FLAGS.model_name, [image], signature_name=FLAGS.signature_name,
                               version=FLAGS.model_version, timeout=FLAGS.request_timeout)), None


def _read_clip(folder: str, num_frames: int) -> List[bytes]:
    """The frames of a clip folder in name order; exactly ``num_frames`` files."""
    names = sorted(os.listdir(folder))
    if len(names) != num_frames:
        raise _NotLabelled(f"{len(names)} frame files; the model takes clips of exactly {num_frames} "
                           "frames (its export's --num_frames)")
    frames = []
    for name in names:
        path = os.path.join(folder, name)
        if os.path.isdir(path):
            raise _NotLabelled(f"{name} is a folder, not a frame image")
        with open(path, "rb") as f:
            frames.append(f.read())
    return frames


def _read_input(path: str, num_frames: Optional[int]) -> Item:
    """An image file's bytes, or a clip folder's frames for a video model (``num_frames``)."""
    if num_frames is None:
        if os.path.isdir(path):
            raise _NotLabelled("a folder (a clip of frames), but the model takes images; clips need "
                               "a video model (tfslim export --is_video_model) and --model_dir")
        with open(path, "rb") as f:
            return f.read()
    if os.path.isfile(path):
        raise _NotLabelled(f"not a folder; this video model labels folders of {num_frames} frame "
                           "images (one clip each, frames in name order)")
    return _read_clip(path, num_frames)


def label_images(paths: Sequence[str], run: Callable[[Item], Dict], top_k: int,
                 num_frames: Optional[int] = None) -> List[str]:
    """Prints top-k per image (per clip folder when ``num_frames`` is given: a video model);
    returns 'path: reason' for every input that failed."""
    from serving import client as serving_client, predict  # pylint: disable=import-outside-toplevel

    # A bad image fails as the server's error, or locally as TF's InvalidArgumentError;
    # TF is loaded only by the local (--model_dir) path, so --server starts without it.
    not_labelled: tuple = (serving_client.ServingError,)
    if "tensorflow" in sys.modules:
        not_labelled += (sys.modules["tensorflow"].errors.InvalidArgumentError,)

    failures = []
    for path in paths:
        try:
            item = _read_input(path, num_frames)
        except _NotLabelled as err:
            failures.append(f"{path}: not labelled: {err}")
            continue
        except OSError as err:
            failures.append(f"{path}: cannot read: {err.strerror or err}")
            continue
        try:
            ranked = predict.ranked(run(item))[0][:top_k]
        except not_labelled as err:
            failures.append(f"{path}: not labelled: {predict.error_text(err)}")
            continue
        print(path)
        for label, score in ranked:
            print(f"  {score:.5f}  {label}")
    return failures


def predict_folder(beam_args: List[str]) -> None:
    """`tfslim predict --input_dir DIR --output FILE --model_dir M [Beam flags]`."""
    if not FLAGS.output or not FLAGS.model_dir or FLAGS.server:
        raise SystemExit("tfslim predict: --input_dir needs --output FILE (.jsonl or .csv) and "
                         "--model_dir (a SavedModel or TF Serving base dir; not --server)")
    if not FLAGS["verbosity"].present:
        # Beam logs every stage and worker at INFO; the progress bar and summary say enough.
        absl_logging.set_verbosity(absl_logging.WARNING)
    from runners.quiet import quiet_import_tensorflow  # pylint: disable=import-outside-toplevel

    quiet_import_tensorflow()
    from prediction import job, results  # pylint: disable=import-outside-toplevel

    request = job.PredictRequest(
        input_dir=FLAGS.input_dir, output=FLAGS.output, model_dir=FLAGS.model_dir, top_k=FLAGS.top_k,
        batch_size=FLAGS.batch_size, signature_name=FLAGS.signature_name, num_shards=FLAGS.num_shards,
        progress=FLAGS.progress, allow_outside_links=FLAGS.allow_outside_links,
        max_in_process_files=(job.BEAM_FILES if FLAGS.max_in_process_files is None
                              else FLAGS.max_in_process_files))
    try:
        summary = job.predict_folder(request, beam_args)
    except (FileNotFoundError, KeyError, ValueError, OSError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        raise SystemExit(f"tfslim predict: {message}") from err
    outputs = summary["outputs"]
    where = outputs[0] if len(outputs) == 1 else f"{len(outputs)} shards {outputs[0]} ..."
    print(results.summary_line(summary, summary["seconds"], summary["startup_seconds"], where))


def main(argv) -> None:
    args = [a for a in argv[1:] if a != "--"]
    beam_args = [a for a in args if a.startswith("-")]
    paths = [a for a in args if not a.startswith("-")]
    if FLAGS.input_dir:
        if paths:
            raise SystemExit(f"tfslim predict: --input_dir scores a whole folder; unexpected arguments {paths}")
        predict_folder(beam_args)
        return
    if beam_args:
        raise SystemExit(f"tfslim predict: unknown flags {beam_args} (Beam flags go with --input_dir)")
    if not paths:
        raise SystemExit("usage: tfslim predict IMAGE... (--model_dir DIR | --server HOST:PORT --model_name M); "
                         "a video model: tfslim predict FRAME_FOLDER... --model_dir DIR")
    run, num_frames = _runner()
    failures = label_images(paths, run, FLAGS.top_k, num_frames)
    for failure in failures:
        print(f"tfslim predict: error: {failure}", file=sys.stderr)
    if failures:
        sys.exit(1)
