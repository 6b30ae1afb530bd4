"""Batch prediction throughput: `tfslim predict --input_dir` in process and as a Beam job,
against a plain loop calling the SavedModel, each as a whole process.

For each model a serving SavedModel is exported (trainer/export/saved_model.py, randomly initialised
seeded weights: throughput does not depend on training) and a folder of images written:

  lenet             the demo's net and data: the sklearn digits as 8x8 grayscale PNGs
                    (cycled to --images files), image_ops lenet preprocessing at 28 px
  mobilenet_v1_025  1001 classes at 128 px (mobilenet_v1 preprocessing), photo-like
                    256x192 JPEGs

Then, in interleaved rounds, whole processes as a user runs them:

  plain loop   a script: import TF, load serving_default, read the files in sorted order
               and call it on batches of 64 encoded images (what one writes by hand)
  in-process   tfslim predict --input_dir DIR --output F.jsonl --model_dir M --noprogress
               (--max_in_process_files above the folder's size)
  beam         the same + --direct_running_mode=multi_processing --direct_num_workers=2
               (Beam's DirectRunner, 2 worker processes, RunInference)
  beam threads the same + --direct_running_mode=multi_threading --direct_num_workers=2
               (Beam's DirectRunner, 2 worker threads in the launcher's process, which
               lends them its loaded model)

Each runs on the whole folder and on a 64-image folder: the steady rate is
(N - 64) / (wall_N - wall_64) images/s, the start-up (fixed cost: imports, model load,
Beam's workers) is wall_64 minus 64 images at that rate. Best wall of --repeats rounds.
Each process also reports its own rate ("inside the process": the plain loop's timer around
its loop; `tfslim predict`'s summary, files over the time after listing the folder and
loading the model, which for the Beam job includes starting its workers). On a loaded
machine the whole-process difference of a short job is noisy; the inside rate is not.
Goals: in-process >= 0.9x the plain loop; Beam >= 1.5x the plain loop for mobilenet on 2 cores.

    python bench/batch_predict.py                       # 2,000 images, both models
    python bench/batch_predict.py --models lenet --images 500 --repeats 1
    python bench/batch_predict.py --models mobilenet_v1_025 --images 20000 --repeats 1 --ways "plain loop,beam"

Prints a markdown table and writes <work_dir>/results.json.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import re
import sys
import tempfile
import time
from typing import Dict, List

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench.convert_throughput import TFSLIM, measure_process, photo_like  # noqa: E402

SMALL = 64
BATCH = 64
# name → (net, classes, preprocessing, image size, channels)
MODELS = {"lenet": ("lenet", 10, "lenet", 28, 1),
          "mobilenet_v1_025": ("mobilenet_v1_025", 1001, "mobilenet_v1", 128, 3)}
BEAM_ARGS = {"beam": ["--direct_running_mode=multi_processing", "--direct_num_workers=2"],
             "beam threads": ["--direct_running_mode=multi_threading", "--direct_num_workers=2"]}
WAYS = ["plain loop", "in-process", "beam", "beam threads"]
# The rate each process reports itself: the plain loop's timer, `tfslim predict`'s summary line
# (files over the time after its start-up: for the Beam job that includes starting the workers).
INNER_RATE = re.compile(r"([0-9.]+) files/s")


def export_model(name: str, path: str) -> str:
    """The serving SavedModel of ``name`` (seeded random weights) under ``path``/1."""
    import tf_keras  # pylint: disable=import-outside-toplevel

    from trainer.export import saved_model as export  # pylint: disable=import-outside-toplevel
    from trainer import nets
    from trainer.preprocessing.image_ops import ImageSpec  # pylint: disable=import-outside-toplevel

    net_name, classes, preprocessing, size, channels = MODELS[name]
    version = os.path.join(path, "1")
    if not os.path.exists(os.path.join(version, "saved_model.pb")):
        tf_keras.utils.set_random_seed(7)
        net = nets.create_model(net_name, num_classes=classes)
        net.ensure_built(size, channels)
        export.export_saved_model(net, ImageSpec(preprocessing, size, channels),
                                  [f"class-{i}" for i in range(classes)], version)
    return path


def _sources(name: str) -> List[bytes]:
    """Distinct encoded images to cycle through: the digits, or photo-like JPEGs."""
    from PIL import Image  # pylint: disable=import-outside-toplevel

    def encoded(array, fmt):
        out = io.BytesIO()
        Image.fromarray(array).save(out, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
        return out.getvalue()

    if name == "lenet":
        import numpy as np  # pylint: disable=import-outside-toplevel
        from sklearn.datasets import load_digits  # pylint: disable=import-outside-toplevel
        pixels = np.clip(np.round(load_digits().images * (255.0 / 16.0)), 0, 255).astype(np.uint8)
        return [encoded(p, "PNG") for p in pixels]
    return [encoded(photo_like(seed, 192, 256), "JPEG") for seed in range(100)]


def write_folder(name: str, root: str, count: int) -> str:
    """``count`` image files under ``root`` (two levels, as a photo folder would be)."""
    marker = os.path.normpath(root) + ".complete"  # beside the folder: every file in it is an image
    if not os.path.exists(marker):
        sources = _sources(name)
        ext = ".png" if name == "lenet" else ".jpg"
        for i in range(count):
            folder = os.path.join(root, f"part{i % 10}")
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, f"img{i:06d}{ext}"), "wb") as f:
                f.write(sources[i % len(sources)])
        open(marker, "w").close()
    return root


def plain_loop(model_dir: str, root: str) -> None:
    """The baseline, run as its own process (--plain_loop): serving_default on batches of 64."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    fn = tf.saved_model.load(os.path.join(model_dir, "1")).signatures["serving_default"]
    paths = sorted(os.path.join(d, f) for d, _, files in os.walk(root) for f in files)
    labels, started = 0, time.perf_counter()
    for start in range(0, len(paths), BATCH):
        batch = []
        for path in paths[start:start + BATCH]:
            with open(path, "rb") as f:
                batch.append(f.read())
        labels += len(fn(image_bytes=tf.constant(batch))["top_k_labels"].numpy())
    print(f"labelled {labels}, {labels / (time.perf_counter() - started):.1f} files/s")


def commands(way: str, model_dir: str, root: str, out: str) -> List[str]:
    if way == "plain loop":
        return [sys.executable, os.path.abspath(__file__), "--plain_loop", model_dir, root]
    predict = [sys.executable, "-c", TFSLIM, "predict", f"--input_dir={root}", f"--output={out}",
               f"--model_dir={model_dir}", "--noprogress"]
    # In process whatever the folder's size (above job.BEAM_FILES it would run on Beam).
    return predict + BEAM_ARGS.get(way, ["--max_in_process_files=1000000000"])


def measure(args) -> Dict:
    results: Dict = {"images": args.images, "cores": os.cpu_count(), "load_before": os.getloadavg(),
                     "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "models": {},
               "loads": []}  # the 1-minute load average as each process started
    ways = args.ways.split(",")
    for name in args.models.split(","):
        model_dir = export_model(name, os.path.join(args.work_dir, name, "model"))
        roots = {n: write_folder(name, os.path.join(args.work_dir, name, f"images{n}"), n)
                 for n in (SMALL, args.images)}
        walls: Dict = {way: {n: [] for n in roots} for way in ways}
        cpus: Dict = {way: {n: [] for n in roots} for way in ways}
        inner: Dict = {way: {n: [] for n in roots} for way in ways}
        for _ in range(args.repeats):
            for way in ways:
                for n, root in roots.items():
                    out = os.path.join(args.work_dir, name, "out", f"{way.replace(' ', '_')}-{n}.jsonl")
                    load = os.getloadavg()[0]
                    done = measure_process(commands(way, model_dir, root, out), cwd=REPO)
                    results["loads"].append(load)
                    walls[way][n].append(done["wall_s"])
                    cpus[way][n].append(done["cpu_s"])
                    inner[way][n].append(float(INNER_RATE.findall(done["output"])[-1]))
                    print(f"  {name} {way} {n}: {done['wall_s']:.1f}s wall {done['cpu_s']:.1f}s cpu "
                          f"{inner[way][n][-1]:.0f} files/s inside, load {load:.1f} at its start", flush=True)
        rows = {}
        for way in ways:
            wall = {n: min(v) for n, v in walls[way].items()}
            rate = (args.images - SMALL) / (wall[args.images] - wall[SMALL])
            cpu = {n: min(v) for n, v in cpus[way].items()}
            rows[way] = {"images_per_s": rate, "startup_s": wall[SMALL] - SMALL / rate,
                         "wall_s": wall, "inner_images_per_s": max(inner[way][args.images]),
                         "cpu_ms_per_image": 1000 * (cpu[args.images] - cpu[SMALL]) / (args.images - SMALL)}
        for way in ways:
            for key in ("images_per_s", "inner_images_per_s"):
                rows[way][f"{key}_vs_plain"] = rows[way][key] / rows[ways[0]][key]
        results["models"][name] = rows
    results["load_after"] = os.getloadavg()
    return results


def table(results: Dict) -> str:
    lines = [f"{results['images']} images, {results['cores']} cores, {results['date']}, load average "
             f"{results['load_before'][0]:.1f} before / {results['load_after'][0]:.1f} after "
             f"({min(results['loads']):.1f}-{max(results['loads']):.1f} as the processes started)", "",
             "| model | way | whole process, all images (s) | start-up (s) | images/s (whole-process "
             "difference) | vs plain | images/s inside the process | vs plain | CPU ms/image |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, rows in results["models"].items():
        for way, row in rows.items():
            lines.append(f"| {name} | {way} | {row['wall_s'][str(results['images'])]:.1f} | {row['startup_s']:.1f} | "
                         f"{row['images_per_s']:.0f} | {row['images_per_s_vs_plain']:.2f}x | "
                         f"{row['inner_images_per_s']:.0f} | {row['inner_images_per_s_vs_plain']:.2f}x | "
                         f"{row['cpu_ms_per_image']:.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="lenet,mobilenet_v1_025")
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=2, help="Rounds; the best wall time counts.")
    parser.add_argument("--ways", default=",".join(WAYS), help=f"Comma-separated, from {WAYS}; "
                        "the first is the baseline the others are compared with.")
    parser.add_argument("--work_dir", default=os.path.join(tempfile.gettempdir(), "tfslim-bench-batch-predict"))
    parser.add_argument("--plain_loop", nargs=2, metavar=("MODEL_DIR", "ROOT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.plain_loop:
        plain_loop(*args.plain_loop)
        return
    if args.images <= SMALL:
        parser.error(f"--images must be above {SMALL}")
    if not args.ways or set(args.ways.split(",")) - set(WAYS):
        parser.error(f"--ways must name some of {WAYS}")
    results = json.loads(json.dumps(measure(args)))  # as results.json holds it (string keys)
    with open(os.path.join(args.work_dir, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
    print(table(results))


if __name__ == "__main__":
    main()
