"""Training throughput of the full training step, through the project's training library.

Two measurements, each in one process:

1. Input pipeline vs in-memory (``--ratio_model``): the same Classifier/optimizer
   built by ``train_lib.create_state`` is trained with ``fit`` first from
   TFRecords of JPEGs through ``trainer.training.data.make_dataset`` (decode + the net's
   slim training preprocessing), then from one preprocessed batch held in memory.
   The ratio (TFRecord images/s / in-memory images/s) shows whether the input
   pipeline is the bottleneck (goal >= 0.9).
2. Training callbacks (``--callbacks_model``): the same in-memory fit with no callbacks,
   with the project's callbacks (trainer.training.callbacks: progress line every
   ``--log_every_n_steps``, summaries, checkpoint saver), and with the same callbacks
   marked as not taking tensor logs (what they were before: Keras then copies every
   step's logs to the host), interleaved rounds, best of each.
3. Speed options (``--models``): steady-state images/s for each model with
   float32, mixed_bfloat16, jit_compile (XLA) and both; on a GPU machine
   mixed_float16 (+XLA) instead of bfloat16.

Steady state = images/s over the timed steps after ``--warmup`` steps (tracing
and XLA compilation excluded). Defaults are small for a 2-core CPU:

    TF_USE_LEGACY_KERAS=1 python bench/train_throughput.py
    TF_USE_LEGACY_KERAS=1 python bench/train_throughput.py --models resnet_v1_50 \\
        --image_size 224 --batch_size 256 --steps 50      # one GPU
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from typing import Dict, List, Optional

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras  # noqa: E402

from trainer.training import data, train_lib  # noqa: E402
from trainer.config import TrainConfig  # noqa: E402


class StepTimer(tf_keras.callbacks.Callback):
    """Wall time at the end of every batch. It takes tensor logs, so by itself it does
    not make Keras copy the logs to the host each step."""

    def __init__(self):
        super().__init__()
        self._supports_tf_logs = True
        self.times: List[float] = []

    def on_train_batch_end(self, batch, logs=None):
        self.times.append(time.perf_counter())


def _example(encoded: bytes, label: int, height: int, width: int) -> bytes:
    """A slim-format tf.Example (the keys `tfslim convert` writes)."""
    def b(value):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))

    def i(value):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))

    return tf.train.Example(features=tf.train.Features(feature={
        "image/encoded": b(encoded), "image/format": b(b"jpeg"), "image/class/label": i(label),
        "image/height": i(height), "image/width": i(width)})).SerializeToString()


def write_jpeg_shards(directory: str, count: int, size: int, num_shards: int = 4) -> List[str]:
    """Photo-like JPEGs (smooth random fields, ~``size`` px, varying aspect) as slim TFRecords."""
    from PIL import Image  # pylint: disable=import-outside-toplevel
    import io  # pylint: disable=import-outside-toplevel

    rng = np.random.RandomState(0)
    os.makedirs(directory, exist_ok=True)
    paths = [os.path.join(directory, f"bench_train-{s:05d}-of-{num_shards:05d}.tfrecord")
             for s in range(num_shards)]
    writers = [tf.io.TFRecordWriter(p) for p in paths]
    for n in range(count):
        height, width = size, int(size * rng.uniform(1.0, 1.4))
        coarse = rng.randint(0, 255, (height // 16 + 1, width // 16 + 1, 3)).astype(np.uint8)
        image = Image.fromarray(coarse).resize((width, height), Image.BICUBIC)
        buf = io.BytesIO()
        image.save(buf, format="JPEG", quality=90)
        writers[n % num_shards].write(_example(buf.getvalue(), n % 10, height, width))
    for w in writers:
        w.close()
    return paths


def steady_images_per_s(classifier, dataset, batch_size: int, warmup: int, steps: int,
                        extra: Optional[List[tf_keras.callbacks.Callback]] = None) -> float:
    timer = StepTimer()
    classifier.fit(dataset, epochs=1, steps_per_epoch=warmup + steps,
                   callbacks=list(extra or []) + [timer], verbose=0)
    elapsed = timer.times[-1] - timer.times[warmup - 1]
    return batch_size * steps / elapsed


def build(config: TrainConfig, workdir: str):
    spec = train_lib.image_spec_for(config)
    train_lib.set_mixed_precision(config.mixed_precision)
    state = train_lib.create_state(config, 10, spec, 1000, tf.distribute.get_strategy(), workdir)
    return state.classifier, spec


def run_ratio(model: str, files: List[str], args) -> Dict[str, float]:
    """TFRecords+preprocessing vs the same step on an in-memory batch, one classifier."""
    config = TrainConfig(model_name=model, batch_size=args.batch_size, optimizer="momentum",
                         learning_rate=0.01, train_image_size=args.image_size,
                         num_preprocessing_threads=-1, train_dir=tempfile.mkdtemp())
    classifier, spec = build(config, config.train_dir)
    records = data.make_dataset(files, spec, args.batch_size, is_training=True,
                                num_parallel_calls=config.num_preprocessing_threads,
                                shuffle_buffer=256)
    batch = next(iter(records))
    in_memory = tf.data.Dataset.from_tensors(batch).repeat()
    memory_rate = steady_images_per_s(classifier, in_memory, args.batch_size, args.warmup, args.steps)
    record_rate = steady_images_per_s(classifier, records, args.batch_size, args.warmup, args.steps)
    # Input alone, for the record: how fast the pipeline produces batches with the CPU to itself.
    start, n = time.perf_counter(), 0
    for _ in records.take(args.steps):
        n += args.batch_size
    input_rate = n / (time.perf_counter() - start)
    return {"model": model, "tfrecord_images_per_s": record_rate,
            "in_memory_images_per_s": memory_rate, "ratio": record_rate / memory_rate,
            "input_only_images_per_s": input_rate}


def run_callbacks(model: str, args) -> Dict[str, float]:
    """images/s of one classifier's in-memory fit: no callbacks, the project's callbacks,
    and those callbacks forced to numpy logs (the behaviour before they took tensors)."""
    import io  # pylint: disable=import-outside-toplevel
    from trainer.training import callbacks as cb  # pylint: disable=import-outside-toplevel
    config = TrainConfig(model_name=model, batch_size=args.batch_size, optimizer="momentum",
                         learning_rate=0.01, train_dir=tempfile.mkdtemp())
    classifier, spec = build(config, config.train_dir)
    images = tf.random.uniform([args.batch_size, spec.image_size, spec.image_size, 3], -1, 1)
    labels = tf.random.uniform([args.batch_size], 0, 10, dtype=tf.int64)
    dataset = tf.data.Dataset.from_tensors((images, labels)).repeat()
    optimizer = classifier.optimizer
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(optimizer=optimizer),
                                         config.train_dir, max_to_keep=1)
    total = 10 ** 9  # never the last step: only the cadence decides when to log

    def project_callbacks(tensor_logs: bool) -> List[tf_keras.callbacks.Callback]:
        guard = cb.NanGuard(optimizer)  # train_lib's list: the guard first, reading every step
        made = [guard, cb.CheckpointSaver(manager, optimizer, every_secs=10 ** 6, guard=guard),
                cb.ProgressLogger(optimizer, args.log_every_n_steps, total, args.batch_size,
                                  stream=io.StringIO()),
                cb.SummaryWriter(os.path.join(config.train_dir, "summaries"), optimizer,
                                 every_secs=10 ** 6, total_steps=total)]
        for callback in made:
            callback._supports_tf_logs = tensor_logs  # pylint: disable=protected-access
        return made

    contenders = {"none": lambda: [], "tensor_logs": lambda: project_callbacks(True),
                  "numpy_logs": lambda: project_callbacks(False)}
    best: Dict[str, float] = {}
    for _ in range(args.callback_rounds):
        for name, make in contenders.items():
            rate = steady_images_per_s(classifier, dataset, args.batch_size, args.warmup,
                                       args.callback_steps, extra=make())
            best[name] = max(best.get(name, 0.0), rate)
    return {"model": model, **{f"{name}_images_per_s": rate for name, rate in best.items()}}


def run_speed(model: str, precision: str, jit: bool, args) -> Dict[str, float]:
    config = TrainConfig(model_name=model, batch_size=args.batch_size, optimizer="momentum",
                         learning_rate=0.01, train_image_size=args.image_size,
                         mixed_precision=precision, jit_compile=jit, train_dir=tempfile.mkdtemp())
    classifier, spec = build(config, config.train_dir)
    images = tf.random.uniform([args.batch_size, spec.image_size, spec.image_size, 3], -1, 1)
    labels = tf.random.uniform([args.batch_size], 0, 10, dtype=tf.int64)
    dataset = tf.data.Dataset.from_tensors((images, labels)).repeat()
    rate = steady_images_per_s(classifier, dataset, args.batch_size, args.warmup, args.steps)
    return {"model": model, "precision": precision, "jit_compile": jit, "images_per_s": rate}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="mobilenet_v1,resnet_v1_50")
    parser.add_argument("--ratio_model", default="mobilenet_v1")
    parser.add_argument("--image_size", type=int, default=128)
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--records", type=int, default=256, help="JPEGs written for the ratio run")
    parser.add_argument("--callbacks_model", default="lenet",
                        help="model of the callbacks on/off run ('' to skip)")
    parser.add_argument("--callback_steps", type=int, default=200)
    parser.add_argument("--callback_rounds", type=int, default=3)
    parser.add_argument("--log_every_n_steps", type=int, default=10)
    parser.add_argument("--output", default=None, help="also write the results as JSON here")
    args, _ = parser.parse_known_args(argv)
    gpu = bool(tf.config.list_physical_devices("GPU"))
    half = "mixed_float16" if gpu else "mixed_bfloat16"
    device = "GPU" if gpu else f"CPU ({os.cpu_count()} cores)"
    print(f"device: {device}; {args.image_size}px, batch {args.batch_size}, "
          f"{args.warmup} warm-up + {args.steps} timed steps", flush=True)
    results: Dict[str, list] = {"ratio": [], "speed": [], "callbacks": []}
    if args.callbacks_model:
        r = run_callbacks(args.callbacks_model, args)
        results["callbacks"].append(r)
        print(f"{r['model']} callbacks ({args.callback_steps} steps, log every "
              f"{args.log_every_n_steps}): none {r['none_images_per_s']:.0f} img/s, "
              f"project callbacks {r['tensor_logs_images_per_s']:.0f} img/s "
              f"({r['tensor_logs_images_per_s'] / r['none_images_per_s']:.2f}x of none), "
              f"same callbacks with numpy logs (before) {r['numpy_logs_images_per_s']:.0f} img/s "
              f"({r['numpy_logs_images_per_s'] / r['none_images_per_s']:.2f}x)", flush=True)
    if args.ratio_model:
        files = write_jpeg_shards(tempfile.mkdtemp(), args.records, max(args.image_size * 2, 160))
        r = run_ratio(args.ratio_model, files, args)
        results["ratio"].append(r)
        print(f"{r['model']}: TFRecords+preprocessing {r['tfrecord_images_per_s']:.1f} img/s, "
              f"in-memory {r['in_memory_images_per_s']:.1f} img/s, ratio {r['ratio']:.2f} "
              f"(input alone {r['input_only_images_per_s']:.1f} img/s)", flush=True)
    print(f"{'model':<16}{'precision':<16}{'XLA':<6}{'images/s':>10}", flush=True)
    for model in [m for m in args.models.split(",") if m]:
        for precision in ("float32", half):
            for jit in (False, True):
                r = run_speed(model, "none" if precision == "float32" else precision, jit, args)
                r["precision"] = precision
                results["speed"].append(r)
                print(f"{model:<16}{precision:<16}{str(jit):<6}{r['images_per_s']:>10.1f}",
                      flush=True)
    train_lib.set_mixed_precision("none")
    if args.output:
        with open(args.output, "w") as f:
            json.dump({"device": device, "args": vars(args), **results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
