"""The container command of every step in the compiled Kubeflow pipeline.

    python -m pipeline.kubeflow_entrypoint --executor_class_path ... --json_serialized_invocation_args ...

It is TFX's KFP v2 container executor (``kubeflow_v2_run_executor``, same flags) with
one addition: the KFP ``system.*`` artifact types that RunReport outputs are made
importable first. TFX's executor finds a custom artifact's Python class by importing
its schema title ('system.HTML' → module ``system``, class ``HTML``), while Kubeflow's
UI renders an artifact inline only when its title is ``system.HTML`` / ``system.Metrics``.
Registering the module here keeps the titles the UI needs without shipping a
top-level package named ``system``.
"""
from __future__ import annotations

import sys
import types


def register_system_types() -> types.ModuleType:
    """Makes ``system.HTML`` and ``system.Metrics`` import as this project's artifact classes."""
    from components.run_report.artifacts import HtmlReport, RunMetrics  # pylint: disable=import-outside-toplevel

    module = sys.modules.get("system")
    if module is None:
        module = types.ModuleType("system", "KFP v2 system artifact types (pipeline.kubeflow_entrypoint)")
        sys.modules["system"] = module
    for artifact_class in (HtmlReport, RunMetrics):
        setattr(module, artifact_class.TYPE_NAME.split(".", 1)[1], artifact_class)
    return module


def main() -> None:
    """Registers the system types, then runs TFX's v2 executor with this process's argv."""
    register_system_types()
    from absl import app  # pylint: disable=import-outside-toplevel
    from tfx.orchestration.kubeflow.v2.container import (  # pylint: disable=import-outside-toplevel
        kubeflow_v2_run_executor as run_executor)

    # pylint: disable-next=protected-access
    app.run(run_executor.main, flags_parser=run_executor._parse_flags)


COMMAND = ("python", "-m", "pipeline.kubeflow_entrypoint")

if __name__ == "__main__":
    main()
