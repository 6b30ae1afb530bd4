"""Run compiled Kubeflow steps on this machine, the way the KFP launcher runs them in a pod.

    python -m pipeline.kubeflow_local_step --pipeline_json build/tfslim-digits.json --root /tmp/kfp-local \\
        --set ImageExampleGen.input_base=data/digits --set Pusher.push_destination=...

runs every task of the compiled DAG in a topological order (``--tasks`` picks some).
For each task this builds the ExecutorInput JSON the launcher substitutes for ``{{$}}``
(parameters from the compiled constants, input artifacts from the upstream steps'
executor_output.json, output URIs under ``--root``), then runs the container's own
command and args (``python -m pipeline.kubeflow_entrypoint``, TFX's v2 executor)
in a subprocess with this Python. It is the closest thing to a cluster run without
one; it does not exercise the KFP driver, MLMD, caching or object storage.
"""
from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
from typing import Any, Dict, List, Mapping, Optional, Sequence

EXECUTOR_INPUT_PLACEHOLDER = "{{$}}"
OUTPUT_METADATA_FILE = "executor_output.json"
# TFX 1.16's kubeflow_v2_run_executor can abort at interpreter shutdown after the
# executor has finished and written its output (C++ destructors of protobuf/MLMD);
# sky-uk/kfp-operator PR #1286 works around the same crash on clusters. It is recognised
# only in its exact form: SIGABRT, stderr ENDING with libstdc++'s two lines, and an
# executor output file written by this executor process.
KNOWN_EXIT_CRASH = "pure virtual method called"
KNOWN_EXIT_CRASH_TAIL = "pure virtual method called\nterminate called without an active exception"

Artifact = Dict[str, Any]  # a RuntimeArtifact in its JSON form


@dataclasses.dataclass
class StepResult:
    """One simulated step.

    Attributes:
      task: the task name in the pipeline spec.
      returncode: the executor process's exit status.
      outputs: output key → RuntimeArtifacts (with types) read back from executor_output.json.
      crashed_at_exit: the process aborted with TFX's known shutdown crash AFTER writing
        its executor output (the step's work is complete; a cluster would mark it failed).
      log_tail: the end of the process's stderr+stdout.
      executor_input: the ExecutorInput JSON that was passed for ``{{$}}``.
      driver_output: what the preCacheCheck driver wrote (span, fingerprint, ...), if it ran.
    """

    task: str
    returncode: int
    outputs: Dict[str, List[Artifact]]
    crashed_at_exit: bool
    log_tail: str
    executor_input: Dict[str, Any]
    driver_output: Optional[Dict[str, Any]] = None

    @property
    def succeeded(self) -> bool:
        return self.returncode == 0 or self.crashed_at_exit


def is_known_exit_crash(returncode: int, stderr: str, output_written: bool) -> bool:
    """Whether a non-zero exit is TFX's shutdown abort after a finished step (and nothing else).

    A crash anywhere else — an exception, a different signal, the message followed by more
    output, or no executor output written by this process — is a failure.
    """
    aborted = returncode in (-signal.SIGABRT, 128 + signal.SIGABRT)
    return aborted and output_written and stderr.rstrip().endswith(KNOWN_EXIT_CRASH_TAIL)


class StepFailed(RuntimeError):
    """A simulated step exited non-zero without writing its executor output."""


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


def container_spec(job: Mapping[str, Any], task_name: str) -> Mapping[str, Any]:
    """The task's container executor (image, command, args, lifecycle, env)."""
    label = _component(job, task_name)["executorLabel"]
    executor = _spec(job)["deploymentSpec"]["executors"][label]
    if "container" not in executor:
        raise ValueError(f"Task {task_name!r} is not a container step ({sorted(executor)})")
    return executor["container"]


def _parameters(job: Mapping[str, Any], task_name: str,
                overrides: Mapping[str, Any]) -> Dict[str, Any]:
    """ExecutorInput.inputs fields for the task's constant parameters.

    Spec 2.1 (what the OSS driver fills): ``parameterValues`` of protobuf Values.
    Spec 2.0 (Vertex's legacy form): ``parameters`` of {string,int,double}Value.
    """
    task = _spec(job)["root"]["dag"]["tasks"][task_name]
    definitions = _component(job, task_name).get("inputDefinitions", {}).get("parameters", {})
    values: Dict[str, Any] = {}
    for name, source in task.get("inputs", {}).get("parameters", {}).items():
        runtime = source.get("runtimeValue")
        if runtime is None:
            raise ValueError(f"{task_name}.{name} is not a compile-time constant: {source}")
        values[name] = runtime["constant"] if "constant" in runtime else runtime["constantValue"]
    for name, value in overrides.items():
        if name not in definitions:
            raise KeyError(f"{task_name} has no parameter {name!r}; it has {sorted(definitions)}")
        kind = definitions[name].get("parameterType") or definitions[name].get("type")
        values[name] = float(value) if kind in ("NUMBER_INTEGER", "NUMBER_DOUBLE", "INT", "DOUBLE") else value
    if _spec(job).get("schemaVersion", "2.0.0") >= "2.1.0":
        return {"parameterValues": values}
    legacy = {}
    for name, value in values.items():
        if isinstance(value, dict):  # already {"stringValue": ...} etc.
            legacy[name] = value
        elif definitions.get(name, {}).get("type") == "INT":
            legacy[name] = {"intValue": str(int(float(value)))}
        elif definitions.get(name, {}).get("type") == "DOUBLE":
            legacy[name] = {"doubleValue": float(value)}
        else:
            legacy[name] = {"stringValue": str(value)}
    return {"parameters": legacy}


def executor_input(job: Mapping[str, Any], task_name: str, root: str,
                   upstream: Mapping[str, Mapping[str, List[Artifact]]],
                   overrides: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    """The ExecutorInput the launcher would pass for ``{{$}}``.

    Args:
      job: the compiled PipelineJob.
      task_name: the task to run.
      root: local directory standing in for the run's pipeline root.
      upstream: producer task → output key → RuntimeArtifacts it produced.
      overrides: parameter name → value replacing a compiled constant (e.g. a local
        input_base instead of gs://...).
    """
    task = _spec(job)["root"]["dag"]["tasks"][task_name]
    component = _component(job, task_name)
    inputs: Dict[str, Any] = {"artifacts": {}}
    for key, source in task.get("inputs", {}).get("artifacts", {}).items():
        ref = source["taskOutputArtifact"]
        produced = upstream.get(ref["producerTask"], {}).get(ref["outputArtifactKey"])
        if produced is None:
            raise KeyError(f"{task_name}.{key} needs {ref['producerTask']}.{ref['outputArtifactKey']}, "
                           "which has not run")
        inputs["artifacts"][key] = {"artifacts": produced}
    inputs.update(_parameters(job, task_name, overrides or {}))
    task_dir = os.path.join(os.path.abspath(root), task_name)
    outputs: Dict[str, Any] = {"artifacts": {},
                               "outputFile": os.path.join(task_dir, OUTPUT_METADATA_FILE)}
    for key, definition in component.get("outputDefinitions", {}).get("artifacts", {}).items():
        outputs["artifacts"][key] = {"artifacts": [{
            # The launcher's MLMD artifact name; TFX hashes it into an integer id.
            "name": f"local/{task_name}/{key}",
            "type": definition["artifactType"],
            "uri": os.path.join(task_dir, key),
        }]}
    return {"inputs": inputs, "outputs": outputs}


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


def _read_outputs(job: Mapping[str, Any], task_name: str,
                  invocation: Mapping[str, Any]) -> Dict[str, List[Artifact]]:
    """Output key → RuntimeArtifacts as the launcher publishes them: the ExecutorInput's output
    artifacts, replaced by what executor_output.json reports for a key, typed from the spec."""
    with open(invocation["outputs"]["outputFile"]) as f:
        written = json.load(f)
    definitions = _component(job, task_name).get("outputDefinitions", {}).get("artifacts", {})
    outputs: Dict[str, List[Artifact]] = {key: [dict(a) for a in listed["artifacts"]]
                                          for key, listed in invocation["outputs"]["artifacts"].items()}
    for key, listed in written.get("artifacts", {}).items():
        outputs[key] = [dict(artifact, type=definitions[key]["artifactType"])
                        for artifact in listed.get("artifacts", [])]
    return outputs


def _mtime_ns(path: str) -> Optional[int]:
    return os.stat(path).st_mtime_ns if os.path.exists(path) else None


def run_step(job: Mapping[str, Any], task_name: str, root: str,
             upstream: Mapping[str, Mapping[str, List[Artifact]]],
             overrides: Optional[Mapping[str, Any]] = None, pre_cache_check: bool = False,
             timeout: float = 900, python: str = sys.executable) -> StepResult:
    """Runs one compiled step in a subprocess; raises StepFailed if it produced no output."""
    invocation = executor_input(job, task_name, root, upstream, overrides)
    container = container_spec(job, task_name)
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1")
    env.update({item["name"]: item["value"] for item in container.get("env", [])})
    driver_output = None
    # The launcher prepares the step's local directory before running anything.
    os.makedirs(os.path.dirname(invocation["outputs"]["outputFile"]), exist_ok=True)
    if pre_cache_check and "lifecycle" in container:
        # The driver writes outputFile; the executor then merges its parameters (span,
        # input_fingerprint, resolved input_config) into the execution properties.
        driver = subprocess.run(command_line(container, invocation, python, hook="preCacheCheck"),
                                env=env, capture_output=True, text=True, timeout=timeout, check=False)
        path = invocation["outputs"]["outputFile"]
        if not os.path.exists(path):
            raise StepFailed(f"{task_name} driver exited {driver.returncode} without output:\n"
                             f"{(driver.stderr + driver.stdout)[-4000:]}")
        with open(path) as f:
            driver_output = json.load(f)
    output_file = invocation["outputs"]["outputFile"]
    before = _mtime_ns(output_file)  # the driver's file, if it ran, does not count
    process = subprocess.run(command_line(container, invocation, python), env=env,
                             capture_output=True, text=True, timeout=timeout, check=False)
    log = process.stderr + process.stdout
    written = _mtime_ns(output_file) not in (None, before)
    crashed_at_exit = process.returncode != 0 and is_known_exit_crash(process.returncode, process.stderr,
                                                                       written)
    if not written or (process.returncode != 0 and not crashed_at_exit):
        raise StepFailed(f"{task_name} exited {process.returncode}"
                         f"{'' if written else ' without writing its executor output'}:\n{log[-4000:]}")
    return StepResult(task=task_name, returncode=process.returncode,
                      outputs=_read_outputs(job, task_name, invocation),
                      crashed_at_exit=crashed_at_exit, log_tail=log[-4000:],
                      executor_input=invocation, driver_output=driver_output)


def run_steps(job: Mapping[str, Any], tasks: Sequence[str], root: str,
              overrides: Optional[Mapping[str, Mapping[str, Any]]] = None,
              pre_cache_check: bool = False, timeout: float = 900) -> Dict[str, StepResult]:
    """Runs ``tasks`` in order, each fed the outputs of the ones before it."""
    upstream: Dict[str, Dict[str, List[Artifact]]] = {}
    results: Dict[str, StepResult] = {}
    for task_name in tasks:
        result = run_step(job, task_name, root, upstream, (overrides or {}).get(task_name),
                          pre_cache_check=pre_cache_check, timeout=timeout)
        upstream[task_name] = result.outputs
        results[task_name] = result
    return results


def run_pipeline(job: Mapping[str, Any], root: str,
                 overrides: Optional[Mapping[str, Mapping[str, Any]]] = None,
                 pre_cache_check: bool = True, timeout: float = 900) -> Dict[str, StepResult]:
    """Runs every task of the compiled DAG in a topological order, as KFP would schedule them.

    ``pre_cache_check`` also runs ExampleGen's driver hook before its executor. Raises
    StepFailed at the first failing step (nothing downstream of it could run).
    """
    unknown = sorted(set(overrides or {}) - set(task_order(job)))
    if unknown:
        raise KeyError(f"--set names tasks that are not in the pipeline: {unknown}")
    return run_steps(job, task_order(job), root, overrides, pre_cache_check=pre_cache_check, timeout=timeout)


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
    parser.add_argument("--pipeline_json", required=True, help="Output of python -m pipeline.kubeflow_runner.")
    parser.add_argument("--root", required=True, help="Local directory for the steps' artifacts.")
    parser.add_argument("--tasks", default="all",
                        help="'all' (every task, in DAG order) or comma-separated tasks in order; "
                             "upstream tasks must be listed.")
    parser.add_argument("--set", action="append", default=[], metavar="TASK.PARAM=VALUE",
                        help="Replace a compiled parameter (repeatable).")
    parser.add_argument("--pre_cache_check", action="store_true",
                        help="Also run ExampleGen's driver hook first, as Vertex does.")
    args = parser.parse_args(argv)
    job = load_job(args.pipeline_json)
    tasks = task_order(job) if args.tasks == "all" else [t for t in args.tasks.split(",") if t]
    try:
        results = run_steps(job, tasks, args.root, parse_overrides(args.set),
                            pre_cache_check=args.pre_cache_check)
    except StepFailed as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    for name, result in results.items():
        note = " (aborted at interpreter exit after writing its output)" if result.crashed_at_exit else ""
        for key, artifacts in result.outputs.items():
            for artifact in artifacts:
                print(f"{name}.{key}: {artifact['uri']}{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
