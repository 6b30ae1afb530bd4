"""Serving latency and throughput: the SavedModel's serving_default vs the raw model call.

For each model a serving SavedModel is exported (trainer/export/saved_model.py, image_ops
preprocessing) and loaded back as TF Serving would load it. In the same process
and on the same images it times:

- ``serving_default``: encoded image bytes in (PNG for lenet, JPEG for mobilenet_v1),
  i.e. decode + slim preprocessing + net + softmax/top-k;
- ``serving_tensors``: the SavedModel on pre-decoded, preprocessed tensors;
- ``raw``: the zoo net itself (``tf.function``, ``training=False``) on those tensors;
- ``unchecked``: the same bytes through a bare ``tf.map_fn`` decode + preprocessing and the
  net, without serving_default's per-element checks (trainer/export/serving_input.py: magic
  bytes, end markers, the tf.data decode that names a failing batch index).

It prints p50/p99 latency of single-image requests (batch 1) and images/s at batch
32, the overhead ratio raw/serving_default at batch 32 (goal: <= 1.2x, i.e.
decoding and preprocessing inside the graph cost at most 20% of throughput) and the
cost of the checks, unchecked/serving_default at batch 32 (goal: <= 1.1x).

    TF_USE_LEGACY_KERAS=1 python bench/serving_latency.py --models lenet,mobilenet_v1

A model not registered in ``trainer.nets`` is skipped with a message. Numbers are
CPU numbers of whatever machine runs this; compare ratios, not absolute values.
"""
from __future__ import annotations

import argparse
import dataclasses
import io
import os
import sys
import tempfile
import time
from typing import Dict, List, Sequence

# Runnable as a plain script from a checkout: make the repository importable.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from PIL import Image  # noqa: E402

from trainer.export import saved_model as export  # noqa: E402
from trainer import nets
from trainer.preprocessing.image_ops import ImageSpec, preprocess_encoded_batch  # noqa: E402
from serving import signatures

# name → (input spec, number of classes, encoded image format, source image size)
MODELS: Dict[str, tuple] = {
    "lenet": (ImageSpec("lenet", 28, channels=1), 10, "PNG", 28),
    "mobilenet_v1": (ImageSpec("mobilenet_v1", 224, channels=3), 1001, "JPEG", 256),
}
BATCH = 32


@dataclasses.dataclass
class Timing:
    """Batch-1 latency percentiles (ms) and batch-32 throughput (images/s) of one path."""

    p50_ms: float
    p99_ms: float
    images_per_s: float


def _images(fmt: str, size: int, channels: int, count: int) -> List[bytes]:
    """Photo-like encoded images (smooth gradients + noise), so JPEG/PNG decode does real work."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:size, 0:size] / float(size)
    out = []
    for _ in range(count):
        a, b = rng.uniform(1, 8, 2)
        base = np.sin(a * xx + b * yy)[..., None] * rng.uniform(0.5, 1.0, channels)
        pixels = np.clip((base + 1) * 127.5 + rng.normal(0, 10, (size, size, channels)), 0, 255)
        image = Image.fromarray(pixels.astype(np.uint8).squeeze(-1) if channels == 1 else pixels.astype(np.uint8))
        buf = io.BytesIO()
        image.save(buf, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
        out.append(buf.getvalue())
    return out


def _time_paths(paths: Dict[str, tuple], requests: int, batches: int, rounds: int = 3) -> Dict[str, Timing]:
    """Times every path, interleaved so that load from other processes hits all alike.

    ``paths``: name → (fn, single-image inputs, batch-32 input). Batch-1 requests
    alternate between the paths; throughput is the best of ``rounds`` rounds of
    ``batches`` calls per path (the least disturbed one).
    """
    for fn, singles, batch in paths.values():
        for _ in range(3):  # warm-up: tracing, thread pools, allocator
            fn(singles[0])
            fn(batch)
    latencies: Dict[str, List[float]] = {name: [] for name in paths}
    for i in range(requests):
        for name, (fn, singles, _) in paths.items():
            start = time.perf_counter()
            fn(singles[i % len(singles)])
            latencies[name].append(time.perf_counter() - start)
    best: Dict[str, float] = {name: 0.0 for name in paths}
    for _ in range(rounds):
        for name, (fn, _, batch) in paths.items():
            start = time.perf_counter()
            for _ in range(batches):
                fn(batch)
            best[name] = max(best[name], batches * BATCH / (time.perf_counter() - start))
    return {name: Timing(float(np.percentile(latencies[name], 50) * 1e3),
                         float(np.percentile(latencies[name], 99) * 1e3), best[name]) for name in paths}


def bench_model(name: str, requests: int, batches: int, workdir: str) -> Dict[str, Timing]:
    spec, num_classes, fmt, source_size = MODELS[name]
    net = nets.create_model(name, num_classes=num_classes, is_training=False)
    net.ensure_built(spec.image_size, spec.channels)
    model_dir = os.path.join(workdir, name, "1")
    export.export_saved_model(net, spec, [str(i) for i in range(num_classes)], model_dir)
    loaded = tf.saved_model.load(model_dir)
    serving_default = loaded.signatures[signatures.SERVING_DEFAULT]
    serving_tensors = loaded.signatures[signatures.SERVING_TENSORS]

    encoded = _images(fmt, source_size, spec.channels, BATCH)
    decoded = preprocess_encoded_batch(tf.constant(encoded), spec)  # outside every timed region
    encoded_singles = [tf.constant([e]) for e in encoded]
    decoded_singles = [decoded[i:i + 1] for i in range(BATCH)]
    raw = tf.function(lambda x: tf.nn.softmax(net(x, training=False)[0]))
    unchecked = tf.function(lambda x: tf.nn.softmax(net(preprocess_encoded_batch(x, spec), training=False)[0]))

    def sync(outputs):  # make sure the work is done before the clock stops
        first = next(iter(outputs.values())) if isinstance(outputs, dict) else outputs
        return first.numpy()

    return _time_paths({
        "serving_default (bytes)": (lambda x: sync(serving_default(image_bytes=x)), encoded_singles,
                                    tf.constant(encoded)),
        "serving_tensors (decoded)": (lambda x: sync(serving_tensors(images=x)), decoded_singles, decoded),
        "raw model call (decoded)": (lambda x: sync(raw(x)), decoded_singles, decoded),
        "unchecked decode (bytes)": (lambda x: sync(unchecked(x)), encoded_singles, tf.constant(encoded)),
    }, requests, batches)


def main(argv: Sequence[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="lenet,mobilenet_v1")
    parser.add_argument("--requests", type=int, default=50, help="timed batch-1 requests per path")
    parser.add_argument("--batches", type=int, default=10, help="timed batch-32 calls per path")
    args, _ = parser.parse_known_args(argv)
    print(f"TF {tf.__version__}, {os.cpu_count()} CPUs, devices: "
          f"{[d.device_type for d in tf.config.list_physical_devices()]}")
    with tempfile.TemporaryDirectory() as workdir:
        for name in args.models.split(","):
            if name not in nets.list_models():
                print(f"\n{name}: skipped (not registered in trainer.nets)")
                continue
            if name not in MODELS:
                print(f"\n{name}: skipped (no input settings in this benchmark)")
                continue
            results = bench_model(name, args.requests, args.batches, workdir)
            print(f"\n{name}: batch-1 latency over {args.requests} requests, "
                  f"throughput: best of 3 x {args.batches} x {BATCH} images")
            print(f"  {'path':<28}{'p50 ms':>9}{'p99 ms':>9}{'img/s @32':>11}")
            for path, t in results.items():
                print(f"  {path:<28}{t.p50_ms:>9.2f}{t.p99_ms:>9.2f}{t.images_per_s:>11.1f}")
            ratio = results["raw model call (decoded)"].images_per_s / \
                results["serving_default (bytes)"].images_per_s
            print(f"  overhead at batch 32 (raw / serving_default throughput): {ratio:.2f}x "
                  f"(goal <= 1.2x)")
            checks = results["unchecked decode (bytes)"].images_per_s / \
                results["serving_default (bytes)"].images_per_s
            print(f"  checks at batch 32 (unchecked / serving_default throughput): {checks:.2f}x "
                  f"(goal <= 1.1x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
