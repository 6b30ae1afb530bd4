"""KubeflowSettings: the environment facts of a Kubeflow Pipelines / Vertex run.

Everything that differs between clusters (object-storage roots, the image, the
target backend, Beam and container settings) lives here; the pipeline itself comes
from ``pipeline.pipeline.create_pipeline`` unchanged.
"""
from __future__ import annotations

import dataclasses
import posixpath
import re
from typing import Any, Dict, Optional, Tuple

from pipeline.configs import PipelineConfig

# OSS KFP 2.x runs the open-source Argo backend; Vertex AI Pipelines is Google's.
TARGETS = ("kfp", "vertex")
# Object stores the TFX executors in the image can reach with tf.io.gfile
# (gs:// is built into TF; s3:// — also MinIO — needs the S3 plugin, see docs/kubeflow.md).
OBJECT_STORE_SCHEMES = ("gs://", "s3://")
# The pipeline root may also be KFP's default MinIO store: the KFP launcher copies every artifact
# between the store and the pod's /minio/... paths, and runners.kubeflow.entrypoint points the
# executors at those copies (runners/kubeflow/launcher_paths.py).
PIPELINE_ROOT_SCHEMES = OBJECT_STORE_SCHEMES + ("minio://",)
# KubeflowV2DagRunner's own rule (tfx pipeline_builder._check_name): lowercase,
# digits and dashes, starting with a letter or digit.
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,127}")
# The Beam-heavy components: they read every example (or every image).
HEAVY_COMPONENTS = ("ImageExampleGen", "StatisticsGen", "Transform", "Evaluator")
# Where kubeflow/Dockerfile puts this project (its WORKDIR).
IMAGE_PROJECT_DIR = "/pipeline"
SCHEMA_RELPATH = "schemas/slim_image.pbtxt"


def validate_pipeline_name(name: str) -> str:
    """Returns ``name`` if KFP/Vertex accept it, else raises ValueError saying why."""
    if not NAME_PATTERN.fullmatch(name or ""):
        raise ValueError(
            f"Pipeline name {name!r} is not valid for Kubeflow: use 1-128 characters from "
            "[a-z0-9-] starting with a letter or digit (no underscores or capitals), "
            "e.g. 'tfslim-digits'.")
    return name


def validate_object_store(flag: str, uri: str) -> str:
    """Returns ``uri`` if it is on an object store the pods can reach, else raises ValueError."""
    schemes = PIPELINE_ROOT_SCHEMES if flag == "pipeline_root" else OBJECT_STORE_SCHEMES
    if uri.startswith("minio://") and flag != "pipeline_root":
        raise ValueError(
            f"--{flag} {uri!r}: minio:// works for --pipeline_root only, whose artifacts KFP's launcher "
            "copies to and from the pod; the executors open --data_root and --serving_dir themselves. "
            "Use gs://, or s3://<bucket>/<path> with --container_env S3_ENDPOINT=<host:port> "
            "(see docs/kubeflow.md).")
    scheme_end = uri.find("://") + 3
    if not uri.startswith(schemes) or len(uri) <= scheme_end:
        raise ValueError(
            f"--{flag} {uri!r} must be on object storage ({', '.join(schemes)}): "
            "every step runs in its own pod, so a local path would vanish with the pod.")
    return uri


@dataclasses.dataclass(frozen=True)
class KubeflowSettings:
    """What ``runners.kubeflow.runner`` needs besides the pipeline definition.

    Attributes:
      pipeline_root: artifact root on object storage (gs://... or s3://...).
      data_root: the raw images (class-folder tree or dataset archives) on object storage.
      serving_dir: Pusher base on object storage; models land in <serving_dir>/<model>/<version>/.
      image: the pipeline image built from kubeflow/Dockerfile.
      target: 'kfp' (open-source KFP 2.x: no Resolver nodes, pipeline spec 2.1) or
        'vertex' (Vertex AI Pipelines: keeps the baseline Resolver, spec 2.0 as TFX tests it).
      pipeline_name: [a-z0-9][a-z0-9-]*.
      config: the run config (a YAML/JSON file or a name under configs/), the same file
        the local runners read; overrides: its ``key=value`` --set overrides;
        model_name / train_steps: shortcuts for train.model_name / train_steps; source.
      use_baseline_resolver: None = per target (kfp: off, vertex: on).
      pipeline_spec_2_1: None = per target (kfp: 2.1, whose parameterValues the OSS
        driver fills; vertex: 2.0).
      beam_pipeline_args: for every Beam-based component (default: the config's).
      heavy_beam_pipeline_args: appended for HEAVY_COMPONENTS only, e.g. Dataflow or
        Flink runner args.
      container_env: NAME=VALUE pairs set in every step's container.
      trainer_cpu / trainer_memory_gb / trainer_gpus / trainer_gpu_type: Trainer pod
        resources (limits); the Tuner's pod, when there is one, gets the same.
      trainer_workers / trainer_gpus_per_worker / trainer_machine_type: > 1 worker or
        any GPU per worker compiles the Trainer into a multi-worker Vertex training job
        (runners/kubeflow/vertex_training.py; --target vertex only, with vertex_project and
        vertex_region).
      image_project_dir: where the image holds this project (the schema file is read there).
      enable_cache: KFP step caching; None = the run config's ``enable_cache``.
    """

    pipeline_root: str
    data_root: str
    serving_dir: str
    image: str = ""
    target: str = "kfp"
    pipeline_name: str = "tfslim-digits"
    config: str = "demo"
    overrides: Tuple[str, ...] = ()
    model_name: Optional[str] = None
    train_steps: Optional[int] = None
    source: str = "folder"
    use_baseline_resolver: Optional[bool] = None
    pipeline_spec_2_1: Optional[bool] = None
    beam_pipeline_args: Optional[Tuple[str, ...]] = None
    heavy_beam_pipeline_args: Tuple[str, ...] = ()
    container_env: Tuple[str, ...] = ()
    trainer_cpu: Optional[float] = None
    trainer_memory_gb: Optional[float] = None
    trainer_gpus: int = 0
    trainer_gpu_type: str = "NVIDIA_TESLA_T4"
    image_project_dir: str = IMAGE_PROJECT_DIR
    enable_cache: Optional[bool] = None
    trainer_workers: int = 1
    trainer_gpus_per_worker: int = 0
    trainer_machine_type: str = "n1-standard-8"
    vertex_project: Optional[str] = None
    vertex_region: Optional[str] = None

    def __post_init__(self) -> None:
        validate_pipeline_name(self.pipeline_name)
        if self.target not in TARGETS:
            raise ValueError(f"--target {self.target!r} is not one of {TARGETS}")
        for flag in ("pipeline_root", "data_root", "serving_dir"):
            validate_object_store(flag, getattr(self, flag))
        if not self.image:
            raise ValueError("--image is required: the pipeline image built from kubeflow/Dockerfile "
                             "and pushed to a registry the cluster can pull, e.g. "
                             "--image REGISTRY/tfslim-tfx:0.1.0")
        if not posixpath.isabs(self.image_project_dir):
            raise ValueError(f"--image_project_dir {self.image_project_dir!r} must be absolute")
        self.env()  # validates NAME=VALUE
        if self.trainer_gpus < 0:
            raise ValueError("--trainer_gpus must be >= 0")
        self._validate_multi_worker()

    def _validate_multi_worker(self) -> None:
        if self.trainer_workers < 1 or self.trainer_gpus_per_worker < 0:
            raise ValueError("--trainer_workers must be >= 1 and --trainer_gpus_per_worker >= 0")
        if not self.multi_worker_trainer:
            return
        if self.target != "vertex":
            raise ValueError(
                "--trainer_workers/--trainer_gpus_per_worker compile a Vertex training job and need "
                "--target vertex. On open-source KFP run the Trainer as a Kubeflow TFJob instead "
                "(docs/kubeflow.md, 'Multi-worker Trainer').")
        if not self.vertex_project or not self.vertex_region:
            raise ValueError("--trainer_workers/--trainer_gpus_per_worker need --vertex_project and "
                             "--vertex_region (where the Vertex training job runs)")
        if self.trainer_gpus:
            raise ValueError("--trainer_gpus sizes the Trainer pod; with a Vertex training job use "
                             "--trainer_gpus_per_worker instead")

    @property
    def multi_worker_trainer(self) -> bool:
        """Whether the Trainer is compiled into a Vertex training job (runners/kubeflow/vertex_training.py)."""
        return self.trainer_workers > 1 or self.trainer_gpus_per_worker > 0

    def replace(self, **changes: Any) -> "KubeflowSettings":
        return dataclasses.replace(self, **changes)

    @property
    def keeps_resolver(self) -> bool:
        """Whether the latest-blessed-model Resolver is compiled in."""
        if self.use_baseline_resolver is not None:
            return self.use_baseline_resolver
        return self.target == "vertex"

    @property
    def uses_spec_2_1(self) -> bool:
        if self.pipeline_spec_2_1 is not None:
            return self.pipeline_spec_2_1
        return self.target == "kfp"

    @property
    def schema_file(self) -> str:
        """The schema's path inside the image."""
        return posixpath.join(self.image_project_dir, SCHEMA_RELPATH)

    def env(self) -> Dict[str, str]:
        """container_env as a dict; raises ValueError on an entry without '='."""
        out: Dict[str, str] = {}
        for entry in self.container_env:
            name, sep, value = entry.partition("=")
            if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise ValueError(f"--container_env {entry!r} is not NAME=VALUE")
            out[name] = value
        return out

    def pipeline_config(self) -> PipelineConfig:
        """The run config with this cluster's paths and options (ConfigError if bad)."""
        from pipeline import run_config  # pylint: disable=import-outside-toplevel

        changes: Dict[str, Any] = dict(
            pipeline_name=self.pipeline_name, pipeline_root=self.pipeline_root,
            data_root=self.data_root, serving_dir=self.serving_dir, source=self.source,
            use_baseline_resolver=self.keeps_resolver, schema_file=self.schema_file)
        if self.enable_cache is not None:
            changes["enable_cache"] = self.enable_cache
        if self.beam_pipeline_args is not None:
            changes["beam_pipeline_args"] = tuple(self.beam_pipeline_args)
        shortcuts = ([f"train.model_name={self.model_name}"] if self.model_name else []) + \
            ([f"train_steps={self.train_steps}"] if self.train_steps else [])
        return run_config.load(self.config, shortcuts + list(self.overrides), **changes)
