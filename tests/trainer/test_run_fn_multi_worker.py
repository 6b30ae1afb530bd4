"""The TFX Trainer's run_fn under MultiWorkerMirroredStrategy: two processes on 127.0.0.1 with
TF_CONFIG (chief + worker, the layout Vertex and a TFJob give), as trainer.run_fn_cluster starts them.

- The chief writes the checkpoints and the serving model; the worker writes only to
  ``workertemp_0``, which is gone afterwards.
- Two workers at global batch B take the same steps as one process at global batch B from
  the same initial weights and data order (the single-file split is sharded by data, so
  every step's global batch is the same examples).
- A worker SIGKILLed mid-run, then both restarted, resume from the last checkpoint.
"""
import json
import os
import re
import signal
import time

import numpy as np
import pytest
import tensorflow as tf

from pipeline import run_config
from tests.pipeline import helpers
from trainer import nets, run_fn_cluster
from trainer.run_fn import TRAIN_CONFIG_KEY

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("run-fn-cluster")]

BATCH = 16
STEPS = 6
SAVE_EVERY = 5
# |delta_2workers - delta_1process| / max|delta_1process|, per variable: measured at most
# 1.4e-5 over seeds 1, 2, 3 and 42 (float32 summation order in the all-reduce). A
# replica-scaling bug, or workers on different examples, changes it by ~50-100 %.
RELATIVE_TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Examples (one shard per split) and a Transform graph as the pipeline makes them, plus
    an initial lenet checkpoint so that both layouts start from the same weights."""
    root = tmp_path_factory.mktemp("cluster")
    examples = helpers.write_examples_artifact(str(root / "examples"), train=160, eval_=32)
    transform = helpers.write_transform_graph(str(root / "transform"))
    net = nets.create_model("lenet", num_classes=10)
    net.ensure_built(28, 1)
    init = nets.save_slim_checkpoint(net, str(root / "init" / "lenet.ckpt"))
    return examples, transform, init


def fn_args_file(inputs, out_dir, steps, seed=42, **train_changes):
    examples, transform, init = inputs
    demo = run_config.load("demo", check_net=False).train
    config = demo.replace(batch_size=BATCH, optimizer="momentum", learning_rate=0.002,
                          dropout_keep_prob=1.0, checkpoint_path=init, seed=seed,
                          log_every_n_steps=1, save_interval_steps=SAVE_EVERY, **train_changes)
    os.makedirs(out_dir, exist_ok=True)
    return run_fn_cluster.write_fn_args(
        os.path.join(out_dir, "fn_args.json"),
        train_files=[os.path.join(examples, "Split-train", "*")],
        eval_files=[os.path.join(examples, "Split-eval", "*")], train_steps=steps, eval_steps=None,
        transform_output=transform, transform_graph_path=transform,
        serving_model_dir=os.path.join(out_dir, "serving"), model_run_dir=os.path.join(out_dir, "run"),
        custom_config={TRAIN_CONFIG_KEY: config.to_dict()})


def env():
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")


def wait_all(processes, log_dir, timeout=1800):
    deadline = time.monotonic() + timeout
    codes = []
    for process in processes:
        codes.append(process.wait(max(1.0, deadline - time.monotonic())))
    logs = [open(run_fn_cluster.replica_log(log_dir, i)).read() for i in range(len(processes))]
    assert codes == [0] * len(processes), "\n".join(log[-3000:] for log in logs)
    return logs


def trained_delta(train_dir, init):
    """What training changed in each variable (checkpoint minus the initial weights)."""
    reader, start = tf.train.load_checkpoint(train_dir), tf.train.load_checkpoint(init)
    out = {}
    for key in reader.get_variable_to_shape_map():
        if key.startswith("slim_names/"):
            name = key.split("/")[2].replace(".S", "/")
            out[name] = reader.get_tensor(key) - start.get_tensor(name)
    return out


@pytest.fixture(scope="module")
def runs(inputs, tmp_path_factory):
    """One process and two workers, started together, on the same FnArgs (their own dirs)."""
    root = tmp_path_factory.mktemp("runs")
    started = {}
    for workers in (1, 2):
        out = str(root / f"w{workers}")
        started[workers] = (out, run_fn_cluster.start_cluster(fn_args_file(inputs, out, STEPS), workers,
                                                             os.path.join(out, "logs"), env=env()))
    return {w: (out, wait_all(procs, os.path.join(out, "logs"))) for w, (out, procs) in started.items()}


def test_chief_writes_checkpoints_and_model_worker_only_temp(runs):
    out, (chief, worker) = runs[2]
    assert "on 2 replica(s)" in chief and f"global step {STEPS}/{STEPS}" in chief
    assert f"[worker 0] global step {STEPS}/{STEPS}" in worker
    train_dir = os.path.join(out, "run", "train")
    assert tf.train.latest_checkpoint(train_dir).endswith(f"model.ckpt-{STEPS}")
    assert os.path.exists(os.path.join(train_dir, f"model.ckpt-{SAVE_EVERY}.index"))
    # The worker's scratch copies (workertemp_0) are deleted; nothing else of it remains.
    assert not [p for p in os.listdir(train_dir) if p.startswith("workertemp")]
    serving = os.path.join(out, "serving")
    assert os.path.isfile(os.path.join(serving, "saved_model.pb"))
    loaded = tf.saved_model.load(serving)
    pixels, _ = helpers.digit_images(1, start=1000)[0]
    scores = loaded.signatures["serving_default"](image_bytes=tf.constant([helpers.encode(pixels)]))["scores"]
    assert scores.shape == (1, 10)


def test_two_workers_match_one_process_at_the_same_global_batch(runs):
    init = initial_checkpoint(runs[1][0])
    one = trained_delta(os.path.join(runs[1][0], "run", "train"), init)
    two = trained_delta(os.path.join(runs[2][0], "run", "train"), init)
    assert "on 1 replica(s)" in runs[1][1][0]
    assert len(one) == 8 and one.keys() == two.keys()
    report = {name: float(np.abs(two[name] - one[name]).max() / np.abs(one[name]).max()) for name in one}
    print("relative differences:", report)
    for name in one:
        scale = np.abs(one[name]).max()
        assert scale > 1e-5, name  # training moved this variable
        np.testing.assert_allclose(two[name], one[name], atol=RELATIVE_TOLERANCE * scale, err_msg=name)


def initial_checkpoint(out_dir):
    with open(os.path.join(out_dir, "fn_args.json")) as f:
        return json.load(f)["custom_config"][TRAIN_CONFIG_KEY]["checkpoint_path"]


def test_sigkilled_worker_then_restarted_cluster_resumes_from_last_checkpoint(inputs, tmp_path):
    out = str(tmp_path / "preempt")
    fn_args = fn_args_file(inputs, out, steps=1000)
    log_dir = os.path.join(out, "logs")
    chief, worker = run_fn_cluster.start_cluster(fn_args, 2, log_dir, env=env())
    try:
        deadline = time.monotonic() + 1500
        while time.monotonic() < deadline and chief.poll() is None:
            steps = [int(s) for s in re.findall(r"global step (\d+)/",
                                                 open(run_fn_cluster.replica_log(log_dir, 0)).read())]
            if steps and max(steps) >= 2 * SAVE_EVERY + 2:
                break
            time.sleep(0.5)
        assert chief.poll() is None, open(run_fn_cluster.replica_log(log_dir, 0)).read()[-3000:]
        worker.send_signal(signal.SIGKILL)
        worker.wait(60)
        # A TFJob/Vertex restart replaces the whole cluster: the chief goes too.
        chief.send_signal(signal.SIGKILL)
        chief.wait(60)
    finally:
        for process in (chief, worker):
            if process.poll() is None:
                process.kill()
                process.wait(60)
    train_dir = os.path.join(out, "run", "train")
    saved = int(tf.train.latest_checkpoint(train_dir).rsplit("-", 1)[1])
    assert saved >= 2 * SAVE_EVERY and saved % SAVE_EVERY == 0
    assert not os.path.exists(os.path.join(out, "serving", "saved_model.pb"))
    target = saved + 3
    fn_args = fn_args_file(inputs, out, steps=target)
    restart_logs = os.path.join(out, "restart-logs")
    chief_log, worker_log = wait_all(run_fn_cluster.start_cluster(fn_args, 2, restart_logs, env=env()),
                                     restart_logs)
    assert f"Resuming from {os.path.join(train_dir, 'model.ckpt')}-{saved} at step {saved}" in chief_log
    assert f"at step {saved}" in worker_log and f"[worker 0] global step {target}/{target}" in worker_log
    assert f"global step {saved + 1}/" in chief_log and f"global step {saved}/" not in chief_log
    assert tf.train.latest_checkpoint(train_dir).endswith(f"model.ckpt-{target}")
    assert not [p for p in os.listdir(train_dir) if p.startswith("workertemp")]
    assert os.path.isfile(os.path.join(out, "serving", "saved_model.pb"))
