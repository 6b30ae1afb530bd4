"""Scale-out paths against their one-process baselines, side by side on the same data.

    python bench/scale_out.py                     # both parts
    python bench/scale_out.py --part beam --per_class 10
    python bench/scale_out.py --part trainer --trainer_steps 60

beam:    the whole pipeline (local_runner.py --runner beam, smoke preset) with the in-process
         DirectRunner vs Beam's portable runner (a local job service + SDK worker pool,
         runners/portable_beam.py); whole processes, service start-up reported apart.
trainer: the TFX run_fn (trainer/run_fn_cluster.py) in 1 process vs 2 MultiWorkerMirrored
         workers on 127.0.0.1, the same global batch and steps.

On one small machine both scale-out paths are expected to be slower: they add processes,
gRPC and collectives without adding cores. The point is what they cost, not a speed-up.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from typing import List

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def timed(command: List[str], log_path: str) -> float:
    start = time.monotonic()
    with open(log_path, "wb") as log:
        code = subprocess.call(command, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
    if code != 0:
        raise SystemExit(f"{' '.join(command[:4])} ... exited {code}; see {log_path}")
    return time.monotonic() - start


def bench_beam(work: str, per_class: int, train_steps: int) -> None:
    from runners import digits
    from runners.portable_beam import portable_services

    data = os.path.join(work, "digits")
    count = digits.write_digits(data, per_class=per_class)

    def pipeline(name: str, extra: List[str]) -> List[str]:
        return [sys.executable, os.path.join(REPO, "local_runner.py"), "--runner=beam", "--config=smoke",
                f"--data_dir={data}", f"--pipeline_root={os.path.join(work, name, 'root')}",
                f"--serving_dir={os.path.join(work, name, 'serving')}", f"--train_steps={train_steps}",
                "--accuracy_threshold=0.0"] + extra

    direct = timed(pipeline("direct", []), os.path.join(work, "direct.log"))
    start = time.monotonic()
    with portable_services(os.path.join(work, "services")) as services:
        startup = time.monotonic() - start
        portable = timed(pipeline("portable", [f"--beam_pipeline_arg={a}" for a in services.beam_args()]),
                         os.path.join(work, "portable.log"))
        jobs = services.completed_jobs()
    print(f"pipeline on {count} images, {train_steps} train steps (whole processes):")
    print(f"  in-process DirectRunner        {direct:7.1f} s")
    print(f"  PortableRunner + worker pool   {portable:7.1f} s   ({len(jobs)} Beam jobs, all {set(jobs)})")
    print(f"  job service + pool start-up    {startup:7.1f} s   (not in the line above)")
    print(f"  ratio portable / direct        {portable / direct:7.2f}x")


def bench_trainer(work: str, steps: int) -> None:
    from pipeline import run_config
    from tests.pipeline import helpers
    from trainer import run_fn_cluster
    from trainer.run_fn import TRAIN_CONFIG_KEY

    examples = helpers.write_examples_artifact(os.path.join(work, "examples"), train=320, eval_=32)
    transform = helpers.write_transform_graph(os.path.join(work, "transform"))
    demo = run_config.load("demo", check_net=False).train
    config = demo.replace(batch_size=32, dropout_keep_prob=1.0, log_every_n_steps=20, seed=7)
    seconds = {}
    for workers in (1, 2):
        out = os.path.join(work, f"w{workers}")
        os.makedirs(out)
        fn_args = run_fn_cluster.write_fn_args(
            os.path.join(out, "fn_args.json"), train_files=[os.path.join(examples, "Split-train", "*")],
            eval_files=[os.path.join(examples, "Split-eval", "*")], train_steps=steps, eval_steps=None,
            transform_output=transform, transform_graph_path=transform,
            serving_model_dir=os.path.join(out, "serving"), model_run_dir=os.path.join(out, "run"),
            custom_config={TRAIN_CONFIG_KEY: config.to_dict()})
        start = time.monotonic()
        codes = [p.wait() for p in run_fn_cluster.start_cluster(fn_args, workers, os.path.join(out, "logs"))]
        seconds[workers] = time.monotonic() - start
        if any(codes):
            raise SystemExit(f"{workers} worker(s) exited {codes}; see {os.path.join(out, 'logs')}")
    print(f"TFX run_fn, lenet, global batch 32, {steps} steps, train + export (whole processes):")
    print(f"  1 process                      {seconds[1]:7.1f} s")
    print(f"  2 workers (MultiWorkerMirrored){seconds[2]:7.1f} s")
    print(f"  ratio 2 workers / 1 process    {seconds[2] / seconds[1]:7.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=["beam", "trainer", "all"], default="all")
    parser.add_argument("--per_class", type=int, default=10, help="Digit PNGs per class (beam part).")
    parser.add_argument("--train_steps", type=int, default=20, help="Trainer steps in the beam part.")
    parser.add_argument("--trainer_steps", type=int, default=60, help="Steps in the trainer part.")
    args, _ = parser.parse_known_args()  # make bench passes its own args to every bench
    with tempfile.TemporaryDirectory(prefix="bench-scale-out-") as work:
        if args.part in ("beam", "all"):
            bench_beam(os.path.join(work, "beam"), args.per_class, args.train_steps)
        if args.part in ("trainer", "all"):
            bench_trainer(os.path.join(work, "trainer"), args.trainer_steps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
