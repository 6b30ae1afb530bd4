"""--strategy {auto,one_device,mirrored,multi_worker} → a tf.distribute strategy, and chief rules.

slim's deployment flags map onto tf.distribute:
  --num_clones N             MirroredStrategy over N local devices (GPUs, or CPUs with
                             --clone_on_cpu, which splits the CPU into N logical devices)
  --worker_replicas/--task   MultiWorkerMirroredStrategy configured by TF_CONFIG
  --num_ps_tasks/--sync_replicas  (parameter servers) have no counterpart; all-reduce is synchronous.

Strategies must be created before TensorFlow runs its first op (logical devices
and the multi-worker collective runtime can only be configured then), so
callers create the strategy first and read data afterwards.
"""
from __future__ import annotations

import json
import os
from typing import Optional, Tuple

import tensorflow as tf

from trainer.config import STRATEGIES


def _tf_config() -> dict:
    return json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")


def _tf_config_workers() -> int:
    cluster = _tf_config().get("cluster", {})
    return sum(len(cluster.get(k, [])) for k in ("chief", "worker", "master"))


def configure_cpu_clones(num_clones: int) -> None:
    """Splits the CPU into ``num_clones`` logical devices (slim's --clone_on_cpu).

    Raises RuntimeError when TensorFlow already initialised its devices.
    """
    cpus = tf.config.list_physical_devices("CPU")
    current = tf.config.get_logical_device_configuration(cpus[0])
    if current and len(current) >= num_clones:
        return
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration() for _ in range(num_clones)])
    except RuntimeError as err:
        raise RuntimeError("--clone_on_cpu must be configured before TensorFlow runs any op; "
                           "create the strategy first.") from err


def get_strategy(name: str = "auto", num_clones: int = 1,
                 clone_on_cpu: bool = False) -> tf.distribute.Strategy:
    """The strategy for ``--strategy`` (and slim's --num_clones/--clone_on_cpu).

    auto: MultiWorkerMirrored when TF_CONFIG names several workers; Mirrored with
    several GPUs or num_clones > 1; otherwise the default single-device strategy.
    """
    if name not in STRATEGIES:
        raise ValueError(f"--strategy {name!r} is not one of {list(STRATEGIES)}")
    if name == "auto":
        if _tf_config_workers() > 1:
            name = "multi_worker"
        elif num_clones > 1 or len(tf.config.list_physical_devices("GPU")) > 1:
            name = "mirrored"
        else:
            return tf.distribute.get_strategy()
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    if clone_on_cpu and num_clones > 1:
        configure_cpu_clones(num_clones)
    gpus = [] if clone_on_cpu else tf.config.list_logical_devices("GPU")
    if name == "one_device":
        return tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else "/cpu:0")
    if clone_on_cpu or not gpus:
        cpus = tf.config.list_logical_devices("CPU")
        devices = [d.name for d in cpus[:max(1, num_clones)]]
    else:
        devices = [d.name for d in gpus[:num_clones]] if num_clones > 1 else [d.name for d in gpus]
    if num_clones > 1 and len(devices) < num_clones:
        raise ValueError(f"--num_clones={num_clones} but only {len(devices)} device(s) are "
                         "available (use --clone_on_cpu for CPU clones).")
    return tf.distribute.MirroredStrategy(devices)


def num_workers(strategy: Optional[tf.distribute.Strategy] = None) -> int:
    """Workers taking part in training (1 unless multi-worker)."""
    strategy = strategy or tf.distribute.get_strategy()
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None:
        return 1
    spec = resolver.cluster_spec().as_dict()
    return max(1, sum(len(spec.get(k, [])) for k in ("chief", "worker", "master")))


def task_of(strategy: Optional[tf.distribute.Strategy] = None):
    """(task_type, task_id) of this process; (None, None) outside a cluster."""
    resolver = getattr(strategy, "cluster_resolver", None) if strategy is not None else None
    if resolver is not None and resolver.task_type is not None:
        return resolver.task_type, resolver.task_id
    task = _tf_config().get("task", {})
    return task.get("type"), task.get("index")


def is_chief(strategy: Optional[tf.distribute.Strategy] = None) -> bool:
    """True unless this task is a non-chief worker (TFX's and Keras' rule).

    The chief is the 'chief' (or 'master') task, or worker 0 when the cluster has
    no chief.
    """
    kind, index = task_of(strategy)
    if kind in (None, "chief", "master"):
        return True
    cluster = _tf_config().get("cluster", {})
    return kind == "worker" and (index or 0) == 0 and "chief" not in cluster \
        and "master" not in cluster


def worker_dir(base: str, strategy: Optional[tf.distribute.Strategy] = None) -> str:
    """Where this worker writes: ``base`` for the chief, ``base/workertemp_<id>`` otherwise.

    Every worker must take part in a save (reading distributed variables can be a
    collective op), but only the chief's copy is kept (TF's multi-worker recipe).
    """
    if is_chief(strategy):
        return base
    _, index = task_of(strategy)
    return os.path.join(base, f"workertemp_{index}")


def input_shard(num_files: int, strategy: Optional[tf.distribute.Strategy] = None
                ) -> Optional[Tuple[int, int]]:
    """(shard count, this worker's index) for reading a split by file, or None.

    None with one worker, and when a split has fewer files than workers (a small
    ExampleGen split is often one file): then ``shard_inputs`` shards by data.
    The index orders the cluster as TF does: chief (or master) first, then workers.
    """
    workers = num_workers(strategy)
    if workers <= 1 or num_files < workers:
        return None
    strategy = strategy or tf.distribute.get_strategy()
    task_type, task_id = task_of(strategy)
    spec = strategy.cluster_resolver.cluster_spec().as_dict()
    leaders = len(spec.get("chief", [])) + len(spec.get("master", []))
    index = int(task_id or 0) + (leaders if task_type == "worker" else 0)
    return workers, index


def shard_inputs(dataset: tf.data.Dataset, num_files: int,
                 strategy: Optional[tf.distribute.Strategy] = None) -> tf.data.Dataset:
    """Sets how a multi-worker strategy splits ``dataset`` (read from ``num_files`` files).

    TF's AUTO/FILE policy must walk from the batches back to the file reader, and
    cannot pass the ``ignore_errors`` that keeps one bad record from stopping
    training. So files are sharded explicitly (``make_dataset(shard=input_shard(...))``)
    and auto-sharding is turned off; with fewer files than workers it shards by
    data: every worker reads everything and keeps its part of each global batch.
    """
    workers = num_workers(strategy)
    if workers <= 1:
        return dataset
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = (
        tf.data.experimental.AutoShardPolicy.OFF if input_shard(num_files, strategy)
        else tf.data.experimental.AutoShardPolicy.DATA)
    return dataset.with_options(options)
