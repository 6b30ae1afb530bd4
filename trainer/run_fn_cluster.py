"""Run the TFX Trainer's ``run_fn`` as a multi-worker cluster, one process per worker.

Vertex AI Training (TFX's ``tfx.extensions.google_cloud_ai_platform`` Trainer) and a
Kubeflow TFJob start the same program in every replica and tell each one its place
through ``TF_CONFIG``: ``{"cluster": {"chief": [...], "worker": [...]}, "task": {...}}``.
This module does the same on one machine, on loopback ports:

    python -m trainer.run_fn_cluster --fn_args fn_args.json --workers 2

``fn_args.json`` holds the FnArgs fields that ``trainer.run_fn.run_fn`` reads. Every
process builds its MultiWorkerMirroredStrategy from TF_CONFIG (``--strategy auto``);
the chief writes checkpoints, summaries and the serving model, the other workers write
only to ``<train_dir>/workertemp_<i>``, which they delete when done
(trainer/training/distribute.py).
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
from typing import Any, Dict, List, Mapping, Optional, Sequence

# The FnArgs fields run_fn reads; the rest of TFX's FnArgs stays at its defaults.
FN_ARGS_FIELDS = ("train_files", "eval_files", "train_steps", "eval_steps", "transform_output",
                  "transform_graph_path", "serving_model_dir", "model_run_dir", "custom_config",
                  "hyperparameters")


def free_ports(count: int) -> List[int]:
    """``count`` distinct loopback TCP ports that nothing listens on right now."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def tf_configs(ports: Sequence[int], host: str = "127.0.0.1") -> List[Dict[str, Any]]:
    """TF_CONFIG of each replica: the first is the chief, the rest are workers 0..n-2.

    That is the layout Vertex gives ``worker_pool_specs`` (pool 0 = chief) and what
    TFX's Trainer executor treats as the chief.
    """
    addresses = [f"{host}:{port}" for port in ports]
    cluster: Dict[str, List[str]] = {"chief": addresses[:1]}
    if len(addresses) > 1:
        cluster["worker"] = addresses[1:]
    tasks = [{"type": "chief", "index": 0}] + [{"type": "worker", "index": i}
                                               for i in range(len(addresses) - 1)]
    return [{"cluster": cluster, "task": task} for task in tasks]


def write_fn_args(path: str, **fields: Any) -> str:
    """Writes the run_fn arguments as JSON (only FN_ARGS_FIELDS; unknown names are an error)."""
    unknown = sorted(set(fields) - set(FN_ARGS_FIELDS))
    if unknown:
        raise ValueError(f"Not FnArgs fields that run_fn reads: {unknown}; known: {list(FN_ARGS_FIELDS)}")
    with open(path, "w") as f:
        json.dump(fields, f, indent=1, sort_keys=True)
    return path


def start_cluster(fn_args_path: str, workers: int, log_dir: str,
                  env: Optional[Mapping[str, str]] = None) -> List[subprocess.Popen]:
    """Starts ``workers`` processes running run_fn, each with its own TF_CONFIG.

    With ``workers == 1`` the single process gets no TF_CONFIG (plain one-process
    training). Output of replica i goes to ``<log_dir>/replica-<i>.log`` (files, not
    pipes: a replica blocked on a full pipe would stall the others' collectives).
    """
    base = {k: v for k, v in (env if env is not None else os.environ).items() if k != "TF_CONFIG"}
    base.setdefault("TF_USE_LEGACY_KERAS", "1")
    configs = tf_configs(free_ports(workers)) if workers > 1 else [None]
    processes = []
    for index, tf_config in enumerate(configs):
        replica_env = dict(base)
        if tf_config is not None:
            replica_env["TF_CONFIG"] = json.dumps(tf_config)
        command = [sys.executable, "-m", "trainer.run_fn_cluster", "--fn_args", fn_args_path, "--workers", "0"]
        os.makedirs(log_dir, exist_ok=True)
        with open(replica_log(log_dir, index), "ab") as log:
            processes.append(subprocess.Popen(command, env=replica_env, stdout=log, stderr=subprocess.STDOUT))
    return processes


def replica_log(log_dir: str, index: int) -> str:
    """Where replica ``index`` (0 = chief) writes its output."""
    return os.path.join(log_dir, f"replica-{index}.log")


def run_replica(fn_args_path: str) -> None:
    """This process's part: run_fn with the FnArgs in ``fn_args_path`` (TF_CONFIG from the env)."""
    from tfx.components.trainer.fn_args_utils import FnArgs  # pylint: disable=import-outside-toplevel

    from trainer.run_fn import run_fn  # pylint: disable=import-outside-toplevel

    with open(fn_args_path) as f:
        fields = json.load(f)
    run_fn(FnArgs(**fields))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fn_args", required=True, help="JSON of the FnArgs fields run_fn reads.")
    parser.add_argument("--workers", type=int, default=2,
                        help="Replicas to start (chief + workers); 0 = run this process's own "
                             "replica with the TF_CONFIG already in the environment.")
    parser.add_argument("--log_dir", default=None,
                        help="Per-replica logs replica-<i>.log (default: beside --fn_args).")
    args = parser.parse_args(argv)
    if args.workers == 0:
        run_replica(args.fn_args)
        return 0
    log_dir = args.log_dir or os.path.join(os.path.dirname(os.path.abspath(args.fn_args)), "replica-logs")
    codes = [process.wait() for process in start_cluster(args.fn_args, args.workers, log_dir)]
    print(f"replica exit codes: {codes}; logs: {log_dir}/replica-<i>.log")
    return next((code for code in codes if code), 0)


if __name__ == "__main__":
    sys.exit(main())
