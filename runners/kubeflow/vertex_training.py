"""The Trainer as a multi-worker Vertex AI Training job (TFX's google_cloud_ai_platform extension).

With ``trainer_workers > 1`` (or GPUs per worker) on ``--target vertex``, the compiled
Trainer step no longer trains in its own pod: it runs
``tfx.extensions.google_cloud_ai_platform.trainer.executor.GenericExecutor``, which
submits a Vertex CustomJob whose ``worker_pool_specs`` are

  pool 0: 1 chief            (TF_CONFIG task type "chief")
  pool 1: workers - 1 workers (task type "worker")

each running this image's ``tfx.components.trainer.executor.GenericExecutor`` — the same
``trainer.run_fn.run_fn``, which builds a MultiWorkerMirroredStrategy from TF_CONFIG. That
chief/worker layout is what ``trainer.run_fn_cluster`` starts on one machine and
tests/trainer/test_run_fn_multi_worker.py runs.

Open-source KFP has no such launcher in TFX; the route there is a Kubeflow
training-operator TFJob (see docs/kubeflow.md, "Multi-worker Trainer").
"""
from __future__ import annotations

from typing import Any, Dict, List

from tfx.dsl.components.base import executor_spec
from tfx.extensions.google_cloud_ai_platform import constants as vertex_constants
from tfx.extensions.google_cloud_ai_platform.trainer import executor as vertex_trainer_executor
from tfx.types import standard_component_specs
from tfx.utils import json_utils

from components.run_parameters import TrainerExecutor
from runners.kubeflow.settings import KubeflowSettings


class VertexTrainerExecutor(vertex_trainer_executor.GenericExecutor):
    """TFX's Vertex training executor whose replicas run this project's Trainer executor, so the
    run parameters (train_steps, learning_rate) reach the training job too."""

    def _GetExecutorClass(self):  # pylint: disable=invalid-name  # TFX's hook
        return TrainerExecutor


def worker_pool_specs(settings: KubeflowSettings) -> List[Dict[str, Any]]:
    """Vertex CustomJob worker pools: the chief, then the other workers (if any).

    TFX fills each pool's ``container_spec.command`` with its run_executor call.
    """
    machine: Dict[str, Any] = {"machine_type": settings.trainer_machine_type}
    if settings.trainer_gpus_per_worker:
        machine.update(accelerator_type=settings.trainer_gpu_type,
                       accelerator_count=settings.trainer_gpus_per_worker)
    pools = [{"machine_spec": dict(machine), "replica_count": 1,
              "container_spec": {"image_uri": settings.image}}]
    if settings.trainer_workers > 1:
        pools.append({"machine_spec": dict(machine), "replica_count": settings.trainer_workers - 1,
                      "container_spec": {"image_uri": settings.image}})
    return pools


def vertex_training_config(settings: KubeflowSettings) -> Dict[str, Any]:
    """The Trainer custom_config keys the Vertex training extension reads."""
    return {
        vertex_constants.ENABLE_VERTEX_KEY: True,
        vertex_constants.VERTEX_REGION_KEY: settings.vertex_region,
        vertex_trainer_executor.TRAINING_ARGS_KEY: {
            "project": settings.vertex_project,
            "worker_pool_specs": worker_pool_specs(settings),
        },
    }


def use_vertex_training(trainer, settings: KubeflowSettings) -> None:
    """Makes the pipeline's Trainer submit a Vertex training job with the settings' worker pools.

    ``create_pipeline`` stays cluster-agnostic; only the executor and the cluster keys of
    ``custom_config`` change here (the run_fn's own ``train_config`` is kept as is).
    """
    trainer.executor_spec = executor_spec.ExecutorClassSpec(VertexTrainerExecutor)
    key = standard_component_specs.CUSTOM_CONFIG_KEY
    custom = json_utils.loads(trainer.exec_properties.get(key) or "null") or {}
    custom.update(vertex_training_config(settings))
    trainer.exec_properties[key] = json_utils.dumps(custom)
