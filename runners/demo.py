"""`make demo`: raw digit PNGs → ImageExampleGen → … → Trainer(lenet) → Evaluator → Pusher → a served answer.

Prints the pipeline root, held-out top-1 from the Evaluator, whether the model
was blessed and where it was pushed, and the top-3 labels the pushed model's
serving_default signature returns for one PNG sent as raw bytes.
"""
from __future__ import annotations

import glob
import os
import sys
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

from absl import app, flags  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("data_dir", "data/digits", "Where the digit PNGs are written (cached).")
flags.DEFINE_string("output_dir", "outputs/demo", "Pipeline root, MLMD and serving dir go under here.")
flags.DEFINE_integer("train_steps", None, "Override configs/demo.yaml's steps.")
flags.DEFINE_string("runner", "local", "local (LocalDagRunner) or beam (BeamDagRunner).")


def main(argv) -> None:
    del argv
    from runners import digits  # pylint: disable=import-outside-toplevel
    from pipeline import run_config
    from runners.local import run_local  # pylint: disable=import-outside-toplevel
    from serving import predict  # pylint: disable=import-outside-toplevel

    start = time.monotonic()
    try:
        count = digits.write_digits(FLAGS.data_dir)
    except digits.DemoExtraMissing as error:
        sys.exit(f"error: {error}")
    print(f"dataset: {count} digit PNGs under {FLAGS.data_dir}")
    config = run_config.load(  # configs/demo.yaml
        "demo", check_net=False, data_root=FLAGS.data_dir,
        pipeline_root=os.path.join(FLAGS.output_dir, "pipeline_root"),
        serving_dir=os.path.join(FLAGS.output_dir, "serving"))
    if FLAGS.train_steps:
        config = config.replace(train_steps=FLAGS.train_steps)
    summary = run_local(config, runner=FLAGS.runner)

    print("\n=== demo summary ===")
    print("\n".join(summary.lines()))
    model_base = os.path.join(config.serving_dir, config.serving_model_name)
    if not summary.pushed:
        print(f"not pushed (not blessed); serving keeps {model_base}'s previous version")
    sample = sorted(glob.glob(os.path.join(FLAGS.data_dir, "7", "*.png")))[0]
    if os.path.isdir(model_base):
        serving_fn = predict.load_serving_fn(model_base)
        with open(sample, "rb") as f:
            ranked = predict.top_k(serving_fn, [f.read()])[0][:3]
        print(f"serving_default on {sample} (raw PNG bytes, as TF Serving REST "
              '{"instances": [{"b64": ...}]} delivers them):')
        for label, score in ranked:
            print(f"    {label}: {score:.4f}")
    print(f"total: {time.monotonic() - start:.0f}s")


if __name__ == "__main__":
    from runners import quiet  # noqa: E402

    quiet.setup(import_tensorflow=True)  # progress and results only, unless --verbose
    quiet.define_verbose_flag()
    app.run(main)
