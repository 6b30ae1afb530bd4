"""The container command of every step in the compiled Kubeflow pipeline.

    python -m runners.kubeflow.entrypoint --executor_class_path ... --json_serialized_invocation_args ...

It is TFX's KFP v2 container executor (``kubeflow_v2_run_executor``, same flags) with what
open-source KFP 2.x's driver and launcher need around it (runners/kubeflow/launcher_paths.py):

1. input artifacts the driver sends untyped (``{"instanceSchema": ""}``) get the type the
   component declares in ``--json_serialized_inputs_spec_args``;
2. ``minio://`` / ``s3://`` artifact URIs become the launcher's local copies (``/minio/...``),
   and the executor output names the store URIs again, so the launcher uploads the right paths;
3. the KFP ``system.HTML`` / ``system.Metrics`` / ``system.ClassificationMetrics`` artifact types
   RunReport outputs import
   (TFX finds a custom artifact's class by importing its schema title, 'system.HTML' →
   module ``system``; Kubeflow's UI renders an artifact inline only under those titles);
4. the exit status is what the launcher reads into it: 0 once the executor output is written
   (the process leaves with ``os._exit``, so TFX 1.16's C++ destructors cannot abort it with
   "pure virtual method called" afterwards), 1 with the error on stderr when the work failed.
"""
from __future__ import annotations

import json
import os
import sys
import traceback
import types
from typing import Any, List, Optional, Tuple

from schemas import fileio

COMMAND = ("python", "-m", "runners.kubeflow.entrypoint")


def register_system_types() -> types.ModuleType:
    """Makes ``system.HTML``, ``system.Metrics`` and ``system.ClassificationMetrics`` import as this
    project's artifact classes."""
    from components.run_report.artifacts import (  # pylint: disable=import-outside-toplevel
        ConfusionMatrix, HtmlReport, RunMetrics)

    module = sys.modules.get("system")
    if module is None:
        module = types.ModuleType("system", "KFP v2 system artifact types (runners.kubeflow.entrypoint)")
        sys.modules["system"] = module
    for artifact_class in (HtmlReport, RunMetrics, ConfusionMatrix):
        setattr(module, artifact_class.TYPE_NAME.split(".", 1)[1], artifact_class)
    return module


def prepare_invocation(args: Any, local_root: str) -> int:
    """Completes input types and localizes store URIs in ``args``' ExecutorInput JSON, in place.

    Returns how many URIs now point at the launcher's local copies.
    """
    from runners.kubeflow import launcher_paths as paths  # pylint: disable=import-outside-toplevel

    invocation = json.loads(args.json_serialized_invocation_args)
    spec_json = getattr(args, "json_serialized_inputs_spec_args", None)
    paths.complete_input_types(invocation, json.loads(spec_json) if spec_json else None)
    localized = paths.localize_uris(invocation, local_root)
    args.json_serialized_invocation_args = json.dumps(invocation)
    if localized:  # what the step writes for people (the report) names the store, not this pod
        os.environ[fileio.STORE_PREFIXES_ENV] = json.dumps(paths.store_prefixes(local_root))
    return localized


def restore_output_uris(output_file: str, local_root: str) -> None:
    """Rewrites the executor output so the launcher sees store URIs, not this pod's local paths."""
    from tfx.dsl.io import fileio  # pylint: disable=import-outside-toplevel

    from runners.kubeflow import launcher_paths as paths  # pylint: disable=import-outside-toplevel

    with fileio.open(output_file, "r") as f:
        written = json.loads(f.read())
    if paths.restore_uris(written, local_root):
        with fileio.open(output_file, "w") as f:
            f.write(json.dumps(written, indent=1))


def run(argv: List[str]) -> None:
    """Runs one step: TFX's v2 executor between the driver/launcher adaptations above."""
    register_system_types()
    from tfx.orchestration.kubeflow.v2.container import (  # pylint: disable=import-outside-toplevel
        kubeflow_v2_run_executor as run_executor)

    from runners.kubeflow import launcher_paths as paths  # pylint: disable=import-outside-toplevel

    args, beam_args = _parse(run_executor, argv)
    local_root = paths.launcher_local_root()
    localized = prepare_invocation(args, local_root)
    # pylint: disable-next=protected-access
    run_executor._run_executor(args, beam_args)
    if localized:
        restore_output_uris(json.loads(args.json_serialized_invocation_args)["outputs"]["outputFile"],
                            local_root)


def _parse(run_executor: Any, argv: List[str]) -> Tuple[Any, List[str]]:
    # TFX's own parser (its flags, the rest are Beam args); argv[0] is not a Beam arg.
    return run_executor._parse_flags(argv[1:])  # pylint: disable=protected-access


def _exit(code: int) -> None:
    """Flushes and leaves without interpreter teardown (where TFX 1.16 can SIGABRT)."""
    import logging  # pylint: disable=import-outside-toplevel

    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # pylint: disable=protected-access


def main(argv: Optional[List[str]] = None) -> None:
    """Runs the step and exits 0 on success, 1 with the error on stderr otherwise."""
    argv = list(sys.argv if argv is None else argv)
    try:
        from absl import logging as absl_logging  # pylint: disable=import-outside-toplevel

        absl_logging.use_absl_handler()
        run(argv)
    except SystemExit as error:  # argparse's --help (0) or a usage error (2)
        _exit(error.code if isinstance(error.code, int) else 1)
    except BaseException as error:  # pylint: disable=broad-except  # the launcher reads only the status
        traceback.print_exc()
        print(f"tfslim step failed: {type(error).__name__}: {error}", file=sys.stderr)
        _exit(1)
    _exit(0)


if __name__ == "__main__":
    main()
