"""Run a compiled Kubeflow pipeline task by task on this machine, as a chosen backend would.

    python -m runners.kubeflow.local_step --pipeline_json build/tfslim-digits.json --backend kfp \\
        --root minio://mlpipeline/v2/artifacts --store_dir /tmp/minio \\
        --set ImageExampleGen.input_base=data/digits \\
        --set 'Pusher.push_destination={"filesystem": {"base_directory": "/tmp/serving/lenet"}}'

Every task of the DAG runs in a topological order (``--tasks`` picks some). For each one this
plays the backend's driver and launcher (runners/kubeflow/backends.py): it builds the
ExecutorInput the driver would substitute for ``{{$}}`` (input artifacts as read back from the
backend's metadata store, output URIs under the pipeline root, typed parameters), and with
``--backend kfp`` it also does the launcher's object-store work: each step runs in a fresh
directory standing in for its pod, the launcher downloads the inputs of a ``minio://`` /
``s3://`` root from ``--store_dir`` (a local directory standing in for the buckets) to the pod's
``/minio/...`` paths, runs the container's own command and args (``python -m
runners.kubeflow.entrypoint``, TFX's v2 executor) with this venv's Python, and uploads the
outputs' local paths afterwards. A non-zero exit fails the step, as it fails a KFP task.
It does not run a cluster, Argo, MLMD's server or KFP's cache.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from typing import Any, Dict, List, Mapping, Optional, Sequence

from runners.kubeflow import backends
from runners.kubeflow import launcher_paths as paths

EXECUTOR_INPUT_PLACEHOLDER = "{{$}}"
VERTEX_OUTPUT_FILE = "executor_output.json"
KFP_OUTPUT_FILE = "output_metadata.json"
KFP_FALLBACK_OUTPUT_FILE = "tmp/kfp_outputs/output_metadata.json"  # launcher_v2.OutputMetadataFilepath

Record = backends.Record


@dataclasses.dataclass
class StepResult:
    """One step as the backend saw it.

    Attributes:
      task: the task name in the pipeline spec.
      returncode: the container command's exit status (None for a resolver task).
      outputs: output key → the artifacts the backend recorded (id, name, type, uri, metadata).
      log_tail: the end of the process's stderr+stdout.
      executor_input: the ExecutorInput JSON that was passed for ``{{$}}``.
      driver_output: what the preCacheCheck hook wrote (span, fingerprint, ...), if it ran.
    """

    task: str
    returncode: Optional[int]
    outputs: Dict[str, List[Record]]
    log_tail: str
    executor_input: Dict[str, Any]
    driver_output: Optional[Dict[str, Any]] = None

    @property
    def succeeded(self) -> bool:
        return self.returncode in (0, None)


class StepFailed(RuntimeError):
    """A step's command exited non-zero (or wrote no executor output where one is required)."""


def load_job(path: str) -> Dict[str, Any]:
    """Reads a compiled PipelineJob JSON."""
    with open(path) as f:
        return json.load(f)


def _spec(job: Mapping[str, Any]) -> Mapping[str, Any]:
    return job["pipelineSpec"]


def task_order(job: Mapping[str, Any]) -> List[str]:
    """The DAG's tasks in a topological order (ties broken by name)."""
    tasks = _spec(job)["root"]["dag"]["tasks"]
    order: List[str] = []
    done = set()
    while len(order) < len(tasks):
        ready = sorted(name for name, task in tasks.items() if name not in done
                       and set(task.get("dependentTasks", [])) <= done)
        if not ready:
            raise ValueError(f"The DAG has a cycle among {sorted(set(tasks) - done)}")
        order.extend(ready)
        done.update(ready)
    return order


def _component(job: Mapping[str, Any], task_name: str) -> Mapping[str, Any]:
    task = _spec(job)["root"]["dag"]["tasks"][task_name]
    return _spec(job)["components"][task["componentRef"]["name"]]


def _executor(job: Mapping[str, Any], task_name: str) -> Mapping[str, Any]:
    return _spec(job)["deploymentSpec"]["executors"][_component(job, task_name)["executorLabel"]]


def container_spec(job: Mapping[str, Any], task_name: str) -> Mapping[str, Any]:
    """The task's container executor (image, command, args, lifecycle, env)."""
    executor = _executor(job, task_name)
    if "container" not in executor:
        raise ValueError(f"Task {task_name!r} is not a container step ({sorted(executor)})")
    return executor["container"]


_NUMBER_TYPES = {"NUMBER_INTEGER": int, "INT": int, "NUMBER_DOUBLE": float, "DOUBLE": float}


def _typed(name: str, value: Any, definition: Mapping[str, Any]) -> Any:
    kind = _NUMBER_TYPES.get(definition.get("parameterType") or definition.get("type"))
    if kind is None:
        return value
    try:
        return kind(float(value)) if kind is int else kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"--param {name}={value!r}: expected a number") from None


def typed_arguments(job: Mapping[str, Any], arguments: Mapping[str, Any]) -> Dict[str, Any]:
    """A run's ``NAME=VALUE`` arguments typed by the pipeline's parameter types; KeyError for a
    name the pipeline does not declare."""
    definitions = _spec(job)["root"].get("inputDefinitions", {}).get("parameters", {})
    unknown = sorted(set(arguments) - set(definitions))
    if unknown:
        raise KeyError(f"--param {unknown[0]}: the pipeline has no such parameter; it has "
                       f"{', '.join(sorted(definitions)) or 'none'}")
    return {name: _typed(name, value, definitions[name]) for name, value in arguments.items()}


def run_parameter_values(job: Mapping[str, Any], overrides: Optional[Mapping[str, Any]] = None
                         ) -> Dict[str, Any]:
    """The run's pipeline parameters, as KFP resolves them for the root DAG: the compiled
    defaults (root inputDefinitions, then runtimeConfig), then the run's arguments (``overrides``)."""
    definitions = _spec(job)["root"].get("inputDefinitions", {}).get("parameters", {})
    values = {name: d["defaultValue"] for name, d in definitions.items() if "defaultValue" in d}
    runtime = job.get("runtimeConfig", {})
    values.update(runtime.get("parameterValues", {}))
    for name, legacy in runtime.get("parameters", {}).items():  # spec 2.0: {"intValue": "200"}
        (value,) = legacy.values()
        values[name] = value
    values.update(typed_arguments(job, overrides or {}))
    return {name: _typed(name, value, definitions.get(name, {})) for name, value in values.items()}


def _constants(job: Mapping[str, Any], task_name: str, overrides: Mapping[str, Any],
               run_values: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    """The task's parameter values: compiled constants, or pipeline parameters from ``run_values``
    (componentInputParameter), with ``overrides`` (typed from the spec) applied."""
    task = _spec(job)["root"]["dag"]["tasks"][task_name]
    definitions = _component(job, task_name).get("inputDefinitions", {}).get("parameters", {})
    values: Dict[str, Any] = {}
    run_values = run_parameter_values(job) if run_values is None else run_values
    for name, source in task.get("inputs", {}).get("parameters", {}).items():
        if "componentInputParameter" in source:
            values[name] = run_values[source["componentInputParameter"]]
            continue
        runtime = source.get("runtimeValue")
        if runtime is None:
            raise ValueError(f"{task_name}.{name} is neither a constant nor a pipeline parameter: {source}")
        values[name] = runtime["constant"] if "constant" in runtime else runtime["constantValue"]
    for name, value in overrides.items():
        if name not in definitions:
            raise KeyError(f"{task_name} has no parameter {name!r}; it has {sorted(definitions)}")
        kind = definitions[name].get("parameterType") or definitions[name].get("type")
        values[name] = float(value) if kind in ("NUMBER_INTEGER", "NUMBER_DOUBLE", "INT", "DOUBLE") else value
    return values


def command_line(container: Mapping[str, Any], invocation: Mapping[str, Any],
                 python: str = sys.executable, hook: Optional[str] = None) -> List[str]:
    """The container's command + args with ``{{$}}`` filled in, run by ``python``.

    ``hook='preCacheCheck'`` gives the lifecycle hook's command instead (the
    FileBasedExampleGen driver that Vertex runs before the executor).
    """
    spec = container["lifecycle"][hook] if hook else container
    command = list(spec["command"])
    if command[0] == "python":
        command[0] = python  # the image's python is this project's venv python
    payload = json.dumps(invocation)
    return command + [payload if arg == EXECUTOR_INPUT_PLACEHOLDER else arg for arg in spec["args"]]


def _copy(source: str, destination: str) -> bool:
    """Copies a file or directory tree (replacing ``destination``); False if ``source`` is missing."""
    if not os.path.exists(source):
        return False
    if os.path.isdir(destination):
        shutil.rmtree(destination)
    os.makedirs(os.path.dirname(destination.rstrip("/")), exist_ok=True)
    if os.path.isdir(source):
        shutil.copytree(source, destination)
    else:
        shutil.copy2(source, destination)
    return True


class Launcher:
    """Runs compiled tasks as ``backend`` would (see the module docstring).

    Args:
      job: the compiled PipelineJob.
      root: the pipeline root: a local directory, or ``minio://B/K`` / ``s3://B/K`` (kfp only)
        whose buckets are directories under ``store_dir``.
      backend: 'kfp' or 'vertex'.
      store_dir: the local directory standing in for the object store's buckets.
      work_dir: where the emulated pods and the metadata store live (default: under store_dir
        or root).
      run_id: names this run's directory under the root.
      parameters: the run's arguments for the pipeline parameters (``--param name=value``),
        over the compiled defaults.
    """

    def __init__(self, job: Mapping[str, Any], root: str, backend: str = "kfp",
                 store_dir: Optional[str] = None, work_dir: Optional[str] = None,
                 run_id: str = "run-1", python: str = sys.executable, timeout: float = 900,
                 parameters: Optional[Mapping[str, Any]] = None):
        self.job, self.run_id, self.python, self.timeout = job, run_id, python, timeout
        self.parameters = run_parameter_values(job, parameters)
        self.store_dir = os.path.abspath(store_dir) if store_dir else None
        if paths.local_path_for_uri(root) is not None:
            if not paths.needs_local_sync(root):
                raise ValueError(f"--root {root!r}: gs:// cannot be emulated here; use a minio:// or "
                                 "s3:// root with --store_dir, or a local directory.")
            if backend != "kfp" or not self.store_dir:
                raise ValueError(f"--root {root!r} needs --backend kfp and --store_dir (the directory "
                                 "standing in for the buckets).")
            self.root = root.rstrip("/")
        else:
            self.root = os.path.abspath(root)
        self.work_dir = os.path.abspath(work_dir or os.path.join(self.store_dir or self.root, "_launcher"))
        self.store = backends.MetadataStore(os.path.join(self.work_dir, "metadata_store.json"))
        self.backend = backends.make_backend(backend, self.store)

    # -- the object store stand-in ------------------------------------------------------------
    def store_path(self, uri: str) -> Optional[str]:
        """Where ``uri`` lives under --store_dir, for a minio:// or s3:// URI."""
        local = paths.local_path_for_uri(uri, "/")
        if local is None or not paths.needs_local_sync(uri):
            return None
        return os.path.join(self.store_dir, local.lstrip("/").split("/", 1)[1])

    def _download(self, invocation: Mapping[str, Any], pod: str) -> None:
        """launcher_v2 downloadArtifacts: every input with a store URI to its pod-local path."""
        for listed in invocation["inputs"].get("artifacts", {}).values():
            for artifact in listed["artifacts"]:
                bucket = self.store_path(artifact["uri"])
                if bucket is not None and not _copy(bucket, paths.local_path_for_uri(artifact["uri"], pod)):
                    raise StepFailed(f"input artifact {artifact['uri']} is not in the store ({bucket})")

    def _upload(self, artifacts: Mapping[str, List[Mapping[str, Any]]], pod: str) -> None:
        """launcher_v2 uploadOutputArtifacts: each output's pod-local path to its URI (missing: skipped)."""
        for listed in artifacts.values():
            for artifact in listed:
                bucket = self.store_path(artifact["uri"])
                if bucket is not None:
                    _copy(paths.local_path_for_uri(artifact["uri"], pod), bucket)

    # -- ExecutorInput ---------------------------------------------------------------------------
    def _task_root(self, task_name: str) -> str:
        return f"{self.root}/{self.run_id}/{task_name}" if self.store_path(self.root) else \
            os.path.join(self.root, self.run_id, task_name)

    def _output_file(self, task_root: str, pod: str) -> str:
        if self.backend.name == "vertex":
            return os.path.join(task_root, VERTEX_OUTPUT_FILE)
        local = paths.local_path_for_uri(task_root, pod)  # the driver: under the task's local root
        return os.path.join(local, KFP_OUTPUT_FILE) if local else os.path.join(pod, KFP_FALLBACK_OUTPUT_FILE)

    def executor_input(self, task_name: str, upstream: Mapping[str, Mapping[str, List[Record]]],
                       overrides: Optional[Mapping[str, Any]] = None, pod: str = "/") -> Dict[str, Any]:
        """The ExecutorInput the backend's driver builds for ``task_name``.

        Args:
          upstream: producer task → output key → the artifacts the backend recorded for it.
          overrides: parameter name → value replacing a compiled constant (e.g. a local input_base).
          pod: the directory standing in for the step's pod filesystem (kfp's local paths).
        """
        task = _spec(self.job)["root"]["dag"]["tasks"][task_name]
        component = _component(self.job, task_name)
        inputs: Dict[str, Any] = {"artifacts": {}}
        for key, source in task.get("inputs", {}).get("artifacts", {}).items():
            ref = source["taskOutputArtifact"]
            produced = upstream.get(ref["producerTask"], {}).get(ref["outputArtifactKey"])
            if produced is None:
                raise KeyError(f"{task_name}.{key} needs {ref['producerTask']}.{ref['outputArtifactKey']}, "
                               "which has not run")
            inputs["artifacts"][key] = {"artifacts": [self.backend.input_artifact(r) for r in produced]}
        definitions = component.get("inputDefinitions", {}).get("parameters", {})
        inputs.update(self.backend.parameters(_spec(self.job).get("schemaVersion", "2.0.0"), definitions,
                                              _constants(self.job, task_name, overrides or {},
                                                         self.parameters)))
        task_root = self._task_root(task_name)
        outputs: Dict[str, Any] = {"artifacts": {}, "outputFile": self._output_file(task_root, pod)}
        for key, definition in component.get("outputDefinitions", {}).get("artifacts", {}).items():
            uri = f"{task_root}/{key}" if self.store_path(task_root) else os.path.join(task_root, key)
            outputs["artifacts"][key] = {"artifacts": [
                self.backend.output_artifact(key, definition["artifactType"], uri)]}
        return {"inputs": inputs, "outputs": outputs}

    # -- running ---------------------------------------------------------------------------------
    def _pod(self, task_name: str) -> str:
        pod = os.path.join(self.work_dir, "pods", self.run_id, task_name)
        if os.path.exists(pod):
            shutil.rmtree(pod)
        os.makedirs(pod)
        return pod

    def _env(self, container: Mapping[str, Any], pod: str) -> Dict[str, str]:
        env = dict(os.environ, TF_USE_LEGACY_KERAS="1")
        env.update({item["name"]: item["value"] for item in container.get("env", [])})
        if self.backend.name == "kfp":
            env[paths.LOCAL_ROOT_ENV] = pod  # the pod's "/" for /minio, /s3, /gcs
        return env

    def _resolve(self, task_name: str, upstream: Mapping[str, Mapping[str, List[Record]]]) -> StepResult:
        task = _spec(self.job)["root"]["dag"]["tasks"][task_name]
        inputs = {key: upstream[source["taskOutputArtifact"]["producerTask"]][
            source["taskOutputArtifact"]["outputArtifactKey"]]
            for key, source in task.get("inputs", {}).get("artifacts", {}).items()}
        queries = _executor(self.job, task_name)["resolver"]["outputArtifactQueries"]
        outputs = self.backend.resolve(task_name, queries, inputs)
        return StepResult(task=task_name, returncode=None, outputs=outputs, log_tail="",
                          executor_input={"inputs": {"artifacts": inputs}})

    def run_step(self, task_name: str, upstream: Mapping[str, Mapping[str, List[Record]]],
                 overrides: Optional[Mapping[str, Any]] = None) -> StepResult:
        """Runs one task; raises StepFailed if its command exits non-zero."""
        if "resolver" in _executor(self.job, task_name):
            return self._resolve(task_name, upstream)
        container = container_spec(self.job, task_name)
        pod = self._pod(task_name)
        invocation = self.executor_input(task_name, upstream, overrides, pod)
        env = self._env(container, pod)
        self._download(invocation, pod)
        output_file = invocation["outputs"]["outputFile"]
        os.makedirs(os.path.dirname(output_file), exist_ok=True)  # prepareOutputFolders
        driver_output = None
        if self.backend.runs_pre_cache_check and "lifecycle" in container:
            driver_output = self._run(task_name, "preCacheCheck driver", command_line(
                container, invocation, self.python, hook="preCacheCheck"), env, output_file)[1]
        returncode, written, log = self._run(task_name, "", command_line(container, invocation, self.python),
                                             env, output_file)
        outputs = self._publish(task_name, invocation, written or {}, pod)
        return StepResult(task=task_name, returncode=returncode, outputs=outputs, log_tail=log[-4000:],
                          executor_input=invocation, driver_output=driver_output)

    def _run(self, task_name: str, what: str, command: List[str], env: Mapping[str, str],
             output_file: str) -> tuple:
        process = subprocess.run(command, env=env, capture_output=True, text=True, timeout=self.timeout,
                                 check=False)
        log = process.stderr + process.stdout
        if process.returncode != 0:  # KFP's launcher: any error, a non-zero exit included, fails the task
            raise StepFailed(f"{task_name}{' ' + what if what else ''} exited {process.returncode}:\n"
                             f"{log[-4000:]}")
        written = None
        if os.path.exists(output_file):  # a missing file reads as an empty ExecutorOutput
            with open(output_file) as f:
                written = json.load(f)
        return process.returncode, written, log

    def _publish(self, task_name: str, invocation: Mapping[str, Any], written: Mapping[str, Any],
                 pod: str) -> Dict[str, List[Record]]:
        """Merges the executor's report into the launcher's outputs, uploads them and records them."""
        definitions = _component(self.job, task_name).get("outputDefinitions", {}).get("artifacts", {})
        merged: Dict[str, List[Dict[str, Any]]] = {}
        for key, listed in invocation["outputs"]["artifacts"].items():
            artifact = dict(listed["artifacts"][0])
            reported = (written.get("artifacts", {}).get(key) or {}).get("artifacts") or []
            if reported:  # launcher_v2 mergeRuntimeArtifacts
                artifact["uri"] = reported[0].get("uri") or artifact["uri"]
                artifact["metadata"] = {**artifact.get("metadata", {}), **reported[0].get("metadata", {})}
            merged[key] = [artifact]
        if self.backend.name == "kfp":
            self._upload(merged, pod)
        return {key: [self.backend.publish(task_name, key, artifact, definitions[key]["artifactType"])
                      for artifact in listed] for key, listed in merged.items()}

    def run(self, tasks: Sequence[str], overrides: Optional[Mapping[str, Mapping[str, Any]]] = None
            ) -> Dict[str, StepResult]:
        """Runs ``tasks`` in order, each fed the outputs of the ones before it."""
        unknown = sorted(set(overrides or {}) - set(task_order(self.job)))
        if unknown:
            raise KeyError(f"--set names tasks that are not in the pipeline: {unknown}")
        upstream: Dict[str, Dict[str, List[Record]]] = {}
        results: Dict[str, StepResult] = {}
        for task_name in tasks:
            result = self.run_step(task_name, upstream, (overrides or {}).get(task_name))
            upstream[task_name] = result.outputs
            results[task_name] = result
        return results


def run_pipeline(job: Mapping[str, Any], root: str,
                 overrides: Optional[Mapping[str, Mapping[str, Any]]] = None, backend: str = "kfp",
                 store_dir: Optional[str] = None, timeout: float = 900,
                 parameters: Optional[Mapping[str, Any]] = None) -> Dict[str, StepResult]:
    """Runs every task of the compiled DAG in a topological order, as ``backend`` would schedule them.

    Raises StepFailed at the first failing step (nothing downstream of it could run).
    """
    launcher = Launcher(job, root, backend=backend, store_dir=store_dir, timeout=timeout,
                        parameters=parameters)
    return launcher.run(task_order(job), overrides)


def parse_parameters(items: Sequence[str]) -> Dict[str, str]:
    """['name=value', ...] → {name: value} (typed later from the pipeline's parameter types)."""
    out: Dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ValueError(f"--param {item!r} is not NAME=VALUE")
        out[name] = value
    return out


def parse_overrides(items: Sequence[str]) -> Dict[str, Dict[str, Any]]:
    """['Task.param=value', ...] → {task: {param: value}} (typed later from the spec)."""
    out: Dict[str, Dict[str, Any]] = {}
    for item in items:
        target, sep, value = item.partition("=")
        task, dot, param = target.partition(".")
        if not sep or not dot:
            raise ValueError(f"--set {item!r} is not Task.param=value")
        out.setdefault(task, {})[param] = value
    return out


def main(argv: Optional[List[str]] = None) -> int:
    """CLI: run some compiled steps locally and print where their outputs went."""
    import argparse  # pylint: disable=import-outside-toplevel

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pipeline_json", required=True, help="Output of python -m runners.kubeflow.runner.")
    parser.add_argument("--backend", choices=backends.BACKENDS, default="kfp",
                        help="Whose driver and launcher to play: open-source KFP 2.x or Vertex AI Pipelines.")
    parser.add_argument("--root", required=True,
                        help="Pipeline root: a local directory, or minio://BUCKET/PATH or s3://BUCKET/PATH "
                             "(kfp) with --store_dir.")
    parser.add_argument("--store_dir", default=None,
                        help="Local directory standing in for the object store: minio://B/K is STORE_DIR/B/K.")
    parser.add_argument("--tasks", default="all",
                        help="'all' (every task, in DAG order) or comma-separated tasks in order; "
                             "upstream tasks must be listed.")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="A pipeline parameter for this run, as KFP's run arguments (repeatable), "
                             "e.g. --param train_steps=50.")
    parser.add_argument("--set", action="append", default=[], metavar="TASK.PARAM=VALUE",
                        help="Replace one task's compiled parameter (repeatable).")
    args = parser.parse_args(argv)
    try:
        job = load_job(args.pipeline_json)
        tasks = task_order(job) if args.tasks == "all" else [t for t in args.tasks.split(",") if t]
        launcher = Launcher(job, args.root, backend=args.backend, store_dir=args.store_dir,
                            parameters=parse_parameters(args.param))
        results = launcher.run(tasks, parse_overrides(args.set))
    except (StepFailed, ValueError, KeyError, OSError) as error:
        print(f"FAILED: {error.args[0] if isinstance(error, KeyError) else error}", file=sys.stderr)
        return 1
    for name, result in results.items():
        for key, artifacts in result.outputs.items():
            for artifact in artifacts:
                print(f"{name}.{key}: {artifact['uri']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
