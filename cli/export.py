"""`tfslim export`: slim's export_inference_graph.py + freeze_graph as a serving SavedModel (+ TFLite).

    tfslim export --model_name=inception_v3 --checkpoint_path=inception_v3.ckpt \
        --output_dir=/models/inception_v3/1 --labels_file=imagenet_labels.txt
    tfslim export --model_name=lenet --checkpoint_path=/tmp/train_dir --use_grayscale \
        --image_size=28 --dataset_dir=/tmp/mnist --dataset_name=mnist --output_dir=out/1 --tflite

``--checkpoint_path`` is a project (train_dir) or original TF-Slim checkpoint; a
directory means its latest. The SavedModel gets the serving signatures of
trainer/export/saved_model.py (``serving_default`` on encoded image bytes, ``serving_examples``,
``serving_tensors``) and ``assets.extra/labels.txt``; put it under
``<base>/<model>/<version>/`` for TF Serving. ``--tflite`` also writes
``<output_dir>/tflite/model_float.tflite`` and, calibrated on
``--representative_split`` of ``--dataset_dir``, ``model_int8.tflite``. ``--output_file``
also writes a frozen GraphDef for TF1 consumers (trainer/export/frozen_graph.py).

Without a checkpoint, slim's first example writes the inference graph of an untrained net
(a placeholder ``input`` and the variables under their slim names, not frozen), frozen later
with TF's freeze_graph tool and a checkpoint (trainer/export/inference_graph.py):

    tfslim export --alsologtostderr --model_name=inception_v3 \
        --output_file=/tmp/inception_v3_inf_graph.pb

The video nets (i3d, s3dg) need slim's ``--is_video_model --num_frames=N``; their SavedModel
takes clips of N frames (trainer/export/video_export.py):

    tfslim export --model_name=i3d --is_video_model --num_frames=16 --checkpoint_path=i3d.ckpt \
        --num_classes=400 --output_dir=/models/i3d/1
"""
from __future__ import annotations

import os
from typing import List

from absl import flags
from serving import signatures

from cli import model_flags
from trainer.config import TrainConfig

FLAGS = flags.FLAGS
model_flags.define(TrainConfig, ("model_name", "checkpoint_path", "train_image_size", "batch_size", "labels_offset",
                                 "preprocessing_name", "moving_average_decay"), __name__,
                   names={"train_image_size": "image_size"}, defaults={"batch_size": None},
                   helps={"checkpoint_path": "Checkpoint file or directory (latest checkpoint).",
                          "batch_size": "Fixed batch size of the signatures; default: dynamic."})
model_flags.define(model_flags.SlimFlags, ("dataset_name", "dataset_dir", "use_grayscale", "num_classes"),
                   __name__, defaults={"dataset_dir": ""},
                   helps={"dataset_dir": "Dataset TFRecords + labels.txt: class names, class count, "
                                         "TFLite calibration images."})
model_flags.define_unsupported(("quantize",), __name__)
flags.DEFINE_string("output_dir", None, "Where the SavedModel is written (must not exist yet).")
flags.DEFINE_string("labels_file", None, "slim labels file ('N:name' lines); default: "
                    "<dataset_dir>/labels.txt if present, else class numbers.")
flags.DEFINE_boolean("tflite", False, "Also write TFLite models (float and int8).")
flags.DEFINE_boolean("tflite_int8", True, "With --tflite: also the post-training int8 model.")
flags.DEFINE_string("representative_split", "train", "Split of --dataset_dir used to calibrate int8.")
flags.DEFINE_integer("num_calibration_images", 100, "Representative images for int8 calibration.")
flags.DEFINE_boolean("is_training", False, "Serve the net in training mode (dropout/BatchNorm), as "
                     "slim's export_inference_graph --is_training.")
flags.DEFINE_string("output_file", None, "Without --checkpoint_path: write slim's inference GraphDef "
                    "(placeholder 'input', variables by slim name, not frozen; outputs 'logits', "
                    "'predictions'). With it: also write a frozen GraphDef (.pb, weights as "
                    "constants) of the serving_tensors signature for TF1 consumers (label_image): "
                    "input 'images' (preprocessed float images; 'frames' for a video model), "
                    "outputs 'scores', 'classes', ...")
flags.DEFINE_boolean("write_text_graphdef", False, "With --output_file: write the GraphDef as text.")
flags.DEFINE_boolean("is_video_model", False, "The net is a video net (i3d, s3dg): the SavedModel takes "
                     "clips of --num_frames frames (encoded frames string[B, N] or preprocessed "
                     "float32[B, N, S, S, 3]).")
flags.DEFINE_integer("num_frames", None, "With --is_video_model: frames per clip (fixed in the signatures).")

TFLITE_SUBDIR = "tflite"


def _class_names(num_classes_hint) -> List[str]:
    from schemas import labels as labels_lib  # pylint: disable=import-outside-toplevel
    from trainer.export import saved_model as export  # pylint: disable=import-outside-toplevel

    path = FLAGS.labels_file
    if not path and FLAGS.dataset_dir and os.path.exists(labels_lib.labels_path(FLAGS.dataset_dir)):
        path = labels_lib.labels_path(FLAGS.dataset_dir)
    labels = labels_lib.read_label_file(path) if path else {}
    num_classes = FLAGS.num_classes or (labels_lib.num_classes(labels, FLAGS.labels_offset)
                                        if labels else num_classes_hint)
    return export.class_names_for(labels, num_classes, FLAGS.labels_offset)


def _check_video_flags() -> None:
    """slim's --is_video_model needs --num_frames and the reverse; no TFLite for clips."""
    if FLAGS.num_frames is not None and not FLAGS.is_video_model:
        raise SystemExit("tfslim export: --num_frames is for video nets; add --is_video_model "
                         "(with --model_name=i3d or s3dg).")
    if FLAGS.is_video_model and (FLAGS.num_frames is None or FLAGS.num_frames < 1):
        raise SystemExit("tfslim export: --is_video_model needs --num_frames=N (N >= 1, the frames "
                         "per clip the SavedModel takes).")
    if FLAGS.is_video_model and FLAGS.tflite:
        raise SystemExit("tfslim export: --tflite converts 4-D image models only; drop --tflite "
                         "for a video model.")


def _check_video_net(nets) -> None:
    """--is_video_model exactly when --model_name is a video net."""
    try:
        is_video = nets.get_spec(FLAGS.model_name).video
    except ValueError as err:
        raise SystemExit(f"tfslim export: --model_name: {err}") from err
    video_nets = ", ".join(name for name in nets.list_models() if nets.get_spec(name).video)
    if FLAGS.is_video_model and not is_video:
        raise SystemExit(f"tfslim export: --is_video_model: {FLAGS.model_name} is not a video net "
                         f"(the video nets: {video_nets}); drop --is_video_model and --num_frames.")
    if is_video and not FLAGS.is_video_model:
        raise SystemExit(f"tfslim export: {FLAGS.model_name} is a video net (input [batch, frames, "
                         "height, width, 3]); add --is_video_model --num_frames=N.")


def _export_inference_graph() -> None:
    """slim's export_inference_graph.py: the untrained net's GraphDef, variables not frozen."""
    for flag in ("output_dir", "tflite", "moving_average_decay"):
        if FLAGS[flag].value:
            raise SystemExit(f"tfslim export: --{flag} needs --checkpoint_path (the weights); "
                             "without one only --output_file (slim's inference graph) is written.")
    if not FLAGS.output_file:
        raise SystemExit("tfslim export: give --output_file for slim's inference graph (no "
                         "checkpoint), or --checkpoint_path and --output_dir for the serving "
                         "SavedModel.")
    from runners.quiet import quiet_import_tensorflow  # pylint: disable=import-outside-toplevel

    quiet_import_tensorflow()
    import schemas  # pylint: disable=import-outside-toplevel
    from trainer.export import frozen_graph, inference_graph  # pylint: disable=import-outside-toplevel
    from trainer import nets

    _check_video_net(nets)
    # slim: num_classes = the dataset's classes - labels_offset (imagenet: 1001).
    known = schemas.DATASET_NUM_CLASSES.get(FLAGS.dataset_name)
    hint = known - FLAGS.labels_offset if known else nets.get_spec(FLAGS.model_name).num_classes
    num_classes = len(_class_names(hint))
    graph = inference_graph.build_inference_graph(
        FLAGS.model_name, num_classes, image_size=FLAGS.image_size, batch_size=FLAGS.batch_size,
        channels=1 if FLAGS.use_grayscale else 3, is_training=FLAGS.is_training,
        num_frames=FLAGS.num_frames)
    frozen_graph.write_graph_def(graph.graph_def, FLAGS.output_file, as_text=FLAGS.write_text_graphdef)
    shape = "x".join("?" if d is None else str(d) for d in graph.input_shape)
    outputs = ",".join(graph.output_nodes)
    print(f"Inference GraphDef of {FLAGS.model_name} ({num_classes} classes, input "
          f"{graph.input_name} {shape}, {len(graph.variable_names)} variables not frozen, outputs "
          f"{outputs}) -> {FLAGS.output_file}")
    print(f"Freeze it with a slim checkpoint: python -m tensorflow.python.tools.freeze_graph "
          f"--input_graph={FLAGS.output_file} --input_binary={str(not FLAGS.write_text_graphdef).lower()} "
          f"--input_checkpoint=<model.ckpt> --output_graph=<frozen.pb> "
          f"--output_node_names={graph.output_nodes[-1]}")


def main(argv) -> None:
    del argv
    model_flags.exit_on_unsupported("export")
    _check_video_flags()
    if FLAGS.write_text_graphdef and not FLAGS.output_file:
        raise SystemExit("tfslim export: --write_text_graphdef needs --output_file (the GraphDef to write).")
    if not FLAGS.checkpoint_path:
        _export_inference_graph()
        return
    if not FLAGS.output_dir:
        raise SystemExit("tfslim export: --output_dir is required with --checkpoint_path (where the "
                         "serving SavedModel goes); for slim's unfrozen inference graph drop "
                         "--checkpoint_path and give --output_file.")
    if os.path.exists(os.path.join(FLAGS.output_dir, "saved_model.pb")):
        raise SystemExit(f"tfslim export: {FLAGS.output_dir} already holds a SavedModel; "
                         "exports never overwrite (pick a new version directory).")
    from runners.quiet import quiet_import_tensorflow  # pylint: disable=import-outside-toplevel

    quiet_import_tensorflow()
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    from trainer.export import saved_model as export, model_io  # pylint: disable=import-outside-toplevel
    from trainer import nets
    from trainer.preprocessing.image_ops import image_spec_for_net  # pylint: disable=import-outside-toplevel

    _check_video_net(nets)
    class_names = _class_names(nets.get_spec(FLAGS.model_name).num_classes)
    image_spec = image_spec_for_net(FLAGS.model_name, FLAGS.preprocessing_name, FLAGS.image_size,
                                    channels=1 if FLAGS.use_grayscale else 3)
    net = nets.create_model(FLAGS.model_name, num_classes=len(class_names), is_training=FLAGS.is_training)
    net.ensure_built(image_spec.image_size, image_spec.channels)
    try:
        source = model_io.restore_for_inference(net, FLAGS.checkpoint_path,
                                                use_moving_averages=bool(FLAGS.moving_average_decay))
    except (FileNotFoundError, ValueError) as err:
        raise SystemExit(f"tfslim export: {err}") from err
    shape = f"{image_spec.image_size}x{image_spec.image_size}x{image_spec.channels}"
    if FLAGS.is_video_model:
        from trainer.export import video_export  # pylint: disable=import-outside-toplevel

        video_export.export_video_saved_model(net, image_spec, class_names, FLAGS.output_dir,
                                              FLAGS.num_frames, batch_size=FLAGS.batch_size,
                                              training=FLAGS.is_training)
        shape = f"clips of {FLAGS.num_frames} frames {shape}"
    else:
        export.export_saved_model(net, image_spec, class_names, FLAGS.output_dir, batch_size=FLAGS.batch_size,
                                  training=FLAGS.is_training)
    print(f"SavedModel ({len(class_names)} classes, {shape}, from {source}) -> {FLAGS.output_dir}")
    if FLAGS.output_file:
        from trainer.export import frozen_graph  # pylint: disable=import-outside-toplevel

        frozen = frozen_graph.freeze_saved_model(FLAGS.output_dir)
        frozen_graph.write_graph_def(frozen.graph_def, FLAGS.output_file, as_text=FLAGS.write_text_graphdef)
        print(f"Frozen GraphDef (input {frozen.input_name}, outputs "
              f"{', '.join(frozen.output_names.values())}) -> {FLAGS.output_file}")
    if not FLAGS.tflite:
        return
    from schemas import labels as labels_lib, layout  # pylint: disable=import-outside-toplevel
    from trainer.export import tflite_export  # pylint: disable=import-outside-toplevel

    out = os.path.join(FLAGS.output_dir, TFLITE_SUBDIR)
    tf.io.gfile.makedirs(out)
    models = {"model_float.tflite": tflite_export.convert(net, image_spec, FLAGS.batch_size or 1)}
    if FLAGS.tflite_int8:
        if not FLAGS.dataset_dir:
            raise SystemExit("tfslim export: int8 TFLite needs --dataset_dir (calibration images); "
                             "or pass --notflite_int8.")
        files = layout.find_split_files(FLAGS.dataset_dir, FLAGS.dataset_name, FLAGS.representative_split)
        images = tflite_export.representative_images(files, image_spec, FLAGS.num_calibration_images,
                                                     FLAGS.labels_offset)
        models["model_int8.tflite"] = tflite_export.convert(net, image_spec, FLAGS.batch_size or 1,
                                                            int8=True, representative_images=images)
    for name, content in models.items():
        with tf.io.gfile.GFile(os.path.join(out, name), "wb") as f:
            f.write(content)
        print(f"TFLite {name} ({len(content) / 1024:.0f} KiB) -> {out}")
    labels_lib.write_label_file(dict(enumerate(class_names)), os.path.join(out, signatures.LABELS_ASSET))
