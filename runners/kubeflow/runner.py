"""Compile the pipeline for Kubeflow Pipelines 2.x / Vertex AI Pipelines.

    python -m runners.kubeflow.runner --output_file build/tfslim-digits.json \\
        --pipeline_root gs://BUCKET/tfx --data_root gs://BUCKET/digits \\
        --serving_dir gs://BUCKET/serving --image REGISTRY/tfslim-tfx:0.1.0 --target kfp

Writes a PipelineJob JSON (``pipelineSpec`` + ``runtimeConfig``) with
KubeflowV2DagRunner; nothing is submitted (see runners/kubeflow/submit.py). The pipeline is
``pipeline.pipeline.create_pipeline`` unchanged; only settings differ.
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

from absl import app, flags  # noqa: E402

from runners.kubeflow import entrypoint as kubeflow_entrypoint  # noqa: E402
from runners.kubeflow.settings import HEAVY_COMPONENTS, IMAGE_PROJECT_DIR, TARGETS, KubeflowSettings  # noqa: E402

FLAGS = flags.FLAGS


def build_pipeline(settings: KubeflowSettings):
    """``create_pipeline`` for the cluster, plus per-component Beam args and Trainer resources."""
    from kfp.pipeline_spec import pipeline_spec_pb2  # pylint: disable=import-outside-toplevel

    from pipeline.pipeline import create_pipeline  # pylint: disable=import-outside-toplevel

    pipeline = create_pipeline(settings.pipeline_config(), with_run_parameters=True)
    by_id = {component.id: component for component in pipeline.components}
    if settings.heavy_beam_pipeline_args:
        for component_id in HEAVY_COMPONENTS:
            # Appended after the pipeline-level args, so e.g. a --runner here wins.
            by_id[component_id].with_beam_pipeline_args(list(settings.heavy_beam_pipeline_args))
    resources = trainer_resources(settings, pipeline_spec_pb2)
    if resources is not None:
        # The Tuner's trials train the same net on the same data: the same pod size.
        for node_id in ("Tuner", "Trainer"):
            if node_id in by_id:
                by_id[node_id].with_platform_config(resources)
    if settings.multi_worker_trainer:
        from runners.kubeflow import vertex_training as kubeflow_vertex_training  # pylint: disable=import-outside-toplevel
        kubeflow_vertex_training.use_vertex_training(by_id["Trainer"], settings)
    return pipeline


def trainer_resources(settings: KubeflowSettings, pipeline_spec_pb2) -> Optional[Any]:
    """The Trainer's ResourceSpec (limits), or None when no resource setting is given."""
    if settings.trainer_cpu is None and settings.trainer_memory_gb is None and not settings.trainer_gpus:
        return None
    spec = pipeline_spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec.ResourceSpec()
    if settings.trainer_cpu is not None:
        spec.cpu_limit = settings.trainer_cpu
    if settings.trainer_memory_gb is not None:
        spec.memory_limit = settings.trainer_memory_gb
    if settings.trainer_gpus:
        spec.accelerator.type = settings.trainer_gpu_type
        spec.accelerator.count = settings.trainer_gpus
    return spec


def compile_pipeline(settings: KubeflowSettings, output_file: Optional[str] = None) -> Dict[str, Any]:
    """Compiles to a PipelineJob dict; writes it as JSON to ``output_file`` when given."""
    from tfx.orchestration.kubeflow.v2 import kubeflow_v2_dag_runner  # pylint: disable=import-outside-toplevel

    runner = kubeflow_v2_dag_runner.KubeflowV2DagRunner(
        config=kubeflow_v2_dag_runner.KubeflowV2DagRunnerConfig(
            default_image=settings.image, default_commands=list(kubeflow_entrypoint.COMMAND),
            use_pipeline_spec_2_1=settings.uses_spec_2_1))
    pipeline = build_pipeline(settings)
    defaults = run_parameter_defaults(pipeline)
    job = runner.run(pipeline, parameter_values=defaults, write_out=False)
    add_parameter_defaults(job, defaults)
    add_container_env(job, settings.env())
    if output_file:
        directory = os.path.dirname(os.path.abspath(output_file))
        os.makedirs(directory, exist_ok=True)
        with open(output_file, "w") as f:
            json.dump(job, f, sort_keys=True, indent=1)
    return job


def run_parameter_defaults(pipeline) -> Dict[str, Any]:
    """Pipeline parameter name → default, from the RuntimeParameters in the components' properties."""
    from tfx.orchestration import data_types  # pylint: disable=import-outside-toplevel

    return {value.name: value.default for component in pipeline.components
            for value in component.exec_properties.values()
            if isinstance(value, data_types.RuntimeParameter)}


def add_parameter_defaults(job: Dict[str, Any], defaults: Dict[str, Any]) -> None:
    """Writes each run parameter's default into the root ``inputDefinitions`` (spec 2.1), where
    the KFP UI and SDK read it; TFX's compiler drops RuntimeParameter defaults. The run's values
    are also in ``runtimeConfig`` (Vertex reads them there)."""
    parameters = job["pipelineSpec"]["root"].get("inputDefinitions", {}).get("parameters", {})
    for name, default in defaults.items():
        if name in parameters and "parameterType" in parameters[name]:  # spec 2.1
            parameters[name]["defaultValue"] = default
            parameters[name]["isOptional"] = True


def add_container_env(job: Dict[str, Any], env: Dict[str, str]) -> None:
    """Sets ``env`` on every container executor (KubeflowV2DagRunner has no option for it)."""
    if not env:
        return
    for executor in job["pipelineSpec"]["deploymentSpec"]["executors"].values():
        container = executor.get("container")
        if container is not None:
            container["env"] = [{"name": k, "value": v} for k, v in sorted(env.items())]


def define_flags(fv: flags.FlagValues = FLAGS) -> None:
    """Defines this command's flags on ``fv`` (the global FLAGS when run as a program)."""
    kw = dict(flag_values=fv)
    flags.DEFINE_string("output_file", None, "Where to write the PipelineJob JSON.", required=True, **kw)
    flags.DEFINE_string("pipeline_root", None, "Artifact root: gs://... or s3://... (MinIO).",
                        required=True, **kw)
    flags.DEFINE_string("data_root", None, "Raw images on object storage.", required=True, **kw)
    flags.DEFINE_string("serving_dir", None, "Pusher base on object storage.", required=True, **kw)
    flags.DEFINE_string("image", None, "Pipeline image built from kubeflow/Dockerfile, pushed to a "
                        "registry the cluster pulls from (REGISTRY/tfslim-tfx:TAG).", required=True, **kw)
    flags.DEFINE_enum("target", "kfp", list(TARGETS),
                      "kfp: open-source KFP 2.x (no Resolver, spec 2.1); vertex: Vertex AI Pipelines.", **kw)
    flags.DEFINE_string("pipeline_name", "tfslim-digits", "Pipeline name ([a-z0-9][a-z0-9-]*).", **kw)
    flags.DEFINE_string("config", "demo", "Run config: a YAML/JSON file or a name under configs/ "
                        "(the file the local runners read).", **kw)
    flags.DEFINE_multi_string("set", [], "Override one config key, e.g. --set train.learning_rate=0.01 "
                              "(repeatable).", **kw)
    flags.DEFINE_string("model_name", None, "Shortcut for --set train.model_name=NAME.", **kw)
    flags.DEFINE_integer("train_steps", None, "Shortcut for --set train_steps=N.", **kw)
    flags.DEFINE_string("source", "folder", "ImageExampleGen source kind.", **kw)
    flags.DEFINE_boolean("baseline_resolver", None,
                         "Compile the latest-blessed-model Resolver (default: only for --target vertex).", **kw)
    flags.DEFINE_boolean("pipeline_spec_2_1", None, "Pipeline spec schema 2.1 (default: for --target kfp).",
                         **kw)
    flags.DEFINE_multi_string("beam_pipeline_arg", None,
                              "Beam args for every Beam component (repeatable; default: the config's).", **kw)
    flags.DEFINE_multi_string("heavy_beam_pipeline_arg", [],
                              f"Beam args added to {', '.join(HEAVY_COMPONENTS)} only, e.g. "
                              "--runner=DataflowRunner (repeatable).", **kw)
    flags.DEFINE_multi_string("container_env", [], "NAME=VALUE set in every step's container.", **kw)
    flags.DEFINE_float("trainer_cpu", None, "Trainer (and Tuner) pod CPU limit.", **kw)
    flags.DEFINE_float("trainer_memory_gb", None, "Trainer (and Tuner) pod memory limit (GB).", **kw)
    flags.DEFINE_integer("trainer_gpus", 0, "GPUs for the Trainer (and Tuner) pod.", **kw)
    flags.DEFINE_string("trainer_gpu_type", "NVIDIA_TESLA_T4", "Accelerator type for --trainer_gpus.", **kw)
    flags.DEFINE_string("image_project_dir", IMAGE_PROJECT_DIR, "Where the image holds this project.", **kw)
    flags.DEFINE_boolean("no_cache", False, "Compile with KFP step caching off (default: the config's "
                         "enable_cache, true unless set).", **kw)
    flags.DEFINE_integer("trainer_workers", 1, "Trainer replicas (chief + workers); > 1 compiles a "
                         "multi-worker Vertex training job (--target vertex).", **kw)
    flags.DEFINE_integer("trainer_gpus_per_worker", 0, "GPUs per Trainer replica in the Vertex "
                         "training job (type: --trainer_gpu_type).", **kw)
    flags.DEFINE_string("trainer_machine_type", "n1-standard-8", "Machine type of each Trainer replica.", **kw)
    flags.DEFINE_string("vertex_project", None, "GCP project of the Vertex training job.", **kw)
    flags.DEFINE_string("vertex_region", None, "Region of the Vertex training job, e.g. europe-west4.", **kw)


def settings_from_flags(fv: flags.FlagValues = FLAGS) -> KubeflowSettings:
    """KubeflowSettings from parsed flags (ValueError on an invalid setting)."""
    beam_args = fv.beam_pipeline_arg
    return KubeflowSettings(
        pipeline_root=fv.pipeline_root, data_root=fv.data_root,
        serving_dir=fv.serving_dir, image=fv.image, target=fv.target,
        pipeline_name=fv.pipeline_name, config=fv.config, overrides=tuple(fv.set),
        model_name=fv.model_name,
        train_steps=fv.train_steps, source=fv.source,
        use_baseline_resolver=fv.baseline_resolver, pipeline_spec_2_1=fv.pipeline_spec_2_1,
        beam_pipeline_args=tuple(beam_args) if beam_args else None,
        heavy_beam_pipeline_args=tuple(fv.heavy_beam_pipeline_arg),
        container_env=tuple(fv.container_env), trainer_cpu=fv.trainer_cpu,
        trainer_memory_gb=fv.trainer_memory_gb, trainer_gpus=fv.trainer_gpus,
        trainer_gpu_type=fv.trainer_gpu_type, image_project_dir=fv.image_project_dir,
        enable_cache=False if fv.no_cache else None, trainer_workers=fv.trainer_workers,
        trainer_gpus_per_worker=fv.trainer_gpus_per_worker, trainer_machine_type=fv.trainer_machine_type,
        vertex_project=fv.vertex_project, vertex_region=fv.vertex_region)


def main(argv: List[str]) -> None:
    del argv
    from runners.quiet import quiet_import_tensorflow  # pylint: disable=import-outside-toplevel

    # The run config's checks load the zoo (TensorFlow): import it first, without the CUDA noise.
    quiet_import_tensorflow()
    try:
        settings = settings_from_flags()
        settings.pipeline_config()  # the run config's checks, before compiling
    except ValueError as error:  # includes run_config.ConfigError (one line)
        raise app.UsageError(str(error)) from error
    job = compile_pipeline(settings, FLAGS.output_file)
    tasks = sorted(job["pipelineSpec"]["root"]["dag"]["tasks"])
    print(f"Wrote {FLAGS.output_file}: {len(tasks)} tasks ({', '.join(tasks)}), image {settings.image}, "
          f"target {settings.target}, pipeline root {settings.pipeline_root}")


if __name__ == "__main__":
    from runners import quiet  # noqa: E402

    quiet.setup()  # progress and results only; main imports TensorFlow once the flags are checked
    define_flags()
    quiet.define_verbose_flag()
    app.run(main)
