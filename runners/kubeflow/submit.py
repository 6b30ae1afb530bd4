"""Upload and/or run a compiled pipeline on a Kubeflow Pipelines 2.x cluster (kfp 2.5 client).

    python -m runners.kubeflow.submit --host http://localhost:8080 --pipeline_json build/tfslim-digits.json \\
        --experiment tfslim --upload --wait_minutes 120

kfp 2.5's Client takes pipeline packages as YAML (a PipelineSpec), while
KubeflowV2DagRunner writes a PipelineJob JSON; the spec is written next to the JSON
as ``<name>.yaml`` and the run gets the compiled pipeline root
(``runtimeConfig.gcsOutputDirectory``) unless --pipeline_root overrides it.
For Vertex AI Pipelines submit the JSON itself with google-cloud-aiplatform
(see docs/kubeflow.md).
"""
from __future__ import annotations

import dataclasses
import json
import os
from typing import Any, Dict, List, Optional

import yaml
from absl import app, flags

FLAGS = flags.FLAGS


@dataclasses.dataclass
class Submission:
    """What was created on the cluster."""

    package_path: str
    pipeline_id: Optional[str] = None
    version_id: Optional[str] = None
    experiment_id: Optional[str] = None
    run_id: Optional[str] = None
    state: Optional[str] = None
    timed_out: bool = False
    wait_minutes: float = 0


def load_pipeline_job(path: str) -> Dict[str, Any]:
    """Reads the runner's PipelineJob JSON; raises ValueError if it is not one."""
    with open(path) as f:
        job = json.load(f)
    if "pipelineSpec" not in job:
        raise ValueError(f"{path} has no pipelineSpec; compile it with python -m runners.kubeflow.runner")
    return job


def write_package(job: Dict[str, Any], path: str) -> str:
    """Writes the job's PipelineSpec as the YAML package kfp.Client uploads and runs."""
    with open(path, "w") as f:
        yaml.safe_dump(job["pipelineSpec"], f, sort_keys=True)
    return path


def pipeline_root_of(job: Dict[str, Any]) -> Optional[str]:
    return job.get("runtimeConfig", {}).get("gcsOutputDirectory")


def submit(client, job_path: str, experiment: str, run_name: Optional[str] = None,
           pipeline_root: Optional[str] = None, upload: bool = False,
           version_name: Optional[str] = None, run: bool = True,
           enable_caching: Optional[bool] = None, namespace: Optional[str] = None,
           wait_minutes: float = 0, arguments: Optional[Dict[str, Any]] = None) -> Submission:
    """Uploads (optionally) and runs the compiled pipeline with a kfp.Client.

    Args:
      client: a ``kfp.Client`` (2.x) connected to the cluster.
      job_path: the PipelineJob JSON from ``python -m runners.kubeflow.runner``.
      experiment: experiment to run in (created if missing).
      run_name: default '<pipeline name> <time>' (kfp's default).
      pipeline_root: overrides the compiled root for this run.
      upload: also register the pipeline (a new version if the name exists).
      version_name: the version name for an upload of an existing pipeline.
      run: start a run (False: upload only).
      enable_caching: overrides the compiled caching setting for the run.
      namespace: multi-user Kubeflow profile namespace.
      wait_minutes: > 0 waits for the run to finish and records its state.
      arguments: the run's pipeline parameters (``{"train_steps": "5000"}``), typed by the
        pipeline's declarations; the others keep their compiled defaults.
    """
    from runners.kubeflow.local_step import typed_arguments  # pylint: disable=import-outside-toplevel

    job = load_pipeline_job(job_path)
    arguments = typed_arguments(job, arguments or {})
    name = job["pipelineSpec"]["pipelineInfo"]["name"]
    package = write_package(job, os.path.splitext(job_path)[0] + ".yaml")
    result = Submission(package_path=package)
    if upload:
        existing = client.get_pipeline_id(name)
        if existing is None:
            result.pipeline_id = client.upload_pipeline(package, pipeline_name=name,
                                                        namespace=namespace).pipeline_id
        else:
            version = client.upload_pipeline_version(
                package, pipeline_version_name=version_name or _default_version(job),
                pipeline_id=existing)
            result.pipeline_id, result.version_id = existing, version.pipeline_version_id
    if run:
        started = client.create_run_from_pipeline_package(
            package, arguments=arguments, run_name=run_name, experiment_name=experiment,
            namespace=namespace, pipeline_root=pipeline_root or pipeline_root_of(job),
            enable_caching=enable_caching)
        result.run_id = started.run_id
        if wait_minutes > 0:
            result.wait_minutes = wait_minutes
            try:
                finished = client.wait_for_run_completion(result.run_id, timeout=int(wait_minutes * 60))
            except TimeoutError:
                # kfp gives up waiting; the run goes on on the cluster. Record where it was.
                result.timed_out = True
                finished = client.get_run(result.run_id)
            result.state = getattr(finished, "state", None)
    return result


def failure(result: Submission) -> Optional[str]:
    """One line saying why a waited-for run is not a success, or None when it is (or was not waited for)."""
    if result.timed_out:
        return (f"Run {result.run_id} did not finish within --wait_minutes={result.wait_minutes:g} "
                f"(last state {result.state}); it keeps running on the cluster.")
    if result.state is not None and result.state != "SUCCEEDED":
        return f"Run {result.run_id} ended {result.state}."
    return None


def _default_version(job: Dict[str, Any]) -> str:
    """A version name that changes with the spec: '<name>-<sha of the spec>'."""
    import hashlib  # pylint: disable=import-outside-toplevel

    digest = hashlib.sha256(json.dumps(job["pipelineSpec"], sort_keys=True).encode()).hexdigest()
    return f"{job['pipelineSpec']['pipelineInfo']['name']}-{digest[:12]}"


def define_flags(fv: flags.FlagValues = FLAGS) -> None:
    """Defines this command's flags on ``fv``."""
    kw = dict(flag_values=fv)
    flags.DEFINE_string("host", None, "KFP API endpoint, e.g. http://localhost:8080 after "
                        "kubectl port-forward -n kubeflow svc/ml-pipeline-ui 8080:80.", required=True, **kw)
    flags.DEFINE_string("pipeline_json", None, "PipelineJob JSON from python -m runners.kubeflow.runner.",
                        required=True, **kw)
    flags.DEFINE_string("experiment", "tfslim", "Experiment name.", **kw)
    flags.DEFINE_string("run_name", None, "Run name (default: pipeline name + time).", **kw)
    flags.DEFINE_string("pipeline_root", None, "Override the compiled pipeline root for this run.", **kw)
    flags.DEFINE_boolean("upload", False, "Also register the pipeline (or a new version of it).", **kw)
    flags.DEFINE_string("version_name", None, "Version name when uploading an existing pipeline.", **kw)
    flags.DEFINE_boolean("run", True, "Start a run (--norun: upload only).", **kw)
    flags.DEFINE_boolean("enable_caching", None, "Override the compiled caching setting.", **kw)
    flags.DEFINE_string("namespace", None, "Kubeflow profile namespace (multi-user clusters).", **kw)
    flags.DEFINE_string("existing_token", None, "Bearer token for the KFP API (e.g. a service-account token).",
                        **kw)
    flags.DEFINE_float("wait_minutes", 0, "Wait up to this long for the run to finish.", **kw)
    flags.DEFINE_multi_string("param", [], "A pipeline parameter for the run, NAME=VALUE (repeatable), "
                              "e.g. --param train_steps=5000; the others keep their defaults.", **kw)


def main(argv: List[str]) -> None:
    del argv
    import kfp  # pylint: disable=import-outside-toplevel

    from runners.kubeflow.local_step import parse_parameters  # pylint: disable=import-outside-toplevel

    client = kfp.Client(host=FLAGS.host, existing_token=FLAGS.existing_token,
                        **({"namespace": FLAGS.namespace} if FLAGS.namespace else {}))
    result = submit(client, FLAGS.pipeline_json, FLAGS.experiment, run_name=FLAGS.run_name,
                    pipeline_root=FLAGS.pipeline_root, upload=FLAGS.upload,
                    version_name=FLAGS.version_name, run=FLAGS.run,
                    enable_caching=FLAGS.enable_caching, namespace=FLAGS.namespace,
                    wait_minutes=FLAGS.wait_minutes, arguments=parse_parameters(FLAGS.param))
    print(json.dumps(dataclasses.asdict(result), indent=1))
    message = failure(result)
    if message:
        raise SystemExit(message)


if __name__ == "__main__":
    define_flags()
    app.run(main)
