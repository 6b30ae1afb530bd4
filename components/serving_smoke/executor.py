"""ServingSmokeTest executor: run the probe in a fresh process, bless or not.

The blessing is an ``InfraBlessing`` artifact marked exactly as TFX's
InfraValidator marks it (custom property ``blessed`` 1/0 and an
``INFRA_BLESSED`` / ``INFRA_NOT_BLESSED`` file), so the stock Pusher's
``infra_blessing`` input honours it. The probe's report is kept beside it.
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from typing import Any, Dict, List

from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.dsl.io import fileio
from tfx.types import artifact_utils
from tfx.utils import io_utils, path_utils

log = logging.getLogger(__name__)

BLESSED_KEY = "blessed"
BLESSED_FILE = "INFRA_BLESSED"
NOT_BLESSED_FILE = "INFRA_NOT_BLESSED"
REPORT_FILE = "smoke_report.json"
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def probe_command(model_dir: str, example_patterns: List[str], report_path: str,
                  params: Dict[str, Any]) -> List[str]:
    """The fresh-process command line (same interpreter, so the same installed stack)."""
    cmd = [sys.executable, "-m", "components.serving_smoke.probe", "--model_dir", model_dir,
           "--report", report_path,
           "--num_examples", str(params["num_examples"]),
           "--latency_requests", str(params["latency_requests"]),
           "--max_latency_ms", str(params["max_latency_ms"]),
           "--model_name", str(params["model_name"])]
    for pattern in example_patterns:
        cmd += ["--examples", pattern]
    return cmd


def run_probe(model_dir: str, example_patterns: List[str], report_path: str,
              params: Dict[str, Any]) -> Dict[str, Any]:
    """Runs the probe subprocess; a crash or timeout becomes a not-blessed report."""
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1",
               PYTHONPATH=os.pathsep.join(p for p in (PROJECT_ROOT, os.environ.get("PYTHONPATH")) if p))
    try:
        proc = subprocess.run(probe_command(model_dir, example_patterns, report_path, params),
                              env=env, capture_output=True, text=True,
                              timeout=params["timeout_secs"], check=False)
    except subprocess.TimeoutExpired:
        return {"blessed": False, "problems": [f"probe did not finish in {params['timeout_secs']} s"]}
    if not fileio.exists(report_path):
        tail = (proc.stderr or "")[-2000:]
        return {"blessed": False, "problems": [f"probe exited {proc.returncode} without a report: {tail}"]}
    with fileio.open(report_path, "r") as f:
        return json.load(f)


class Executor(base_executor.BaseExecutor):
    """Inputs: model (Model), examples (Examples). Output: blessing (InfraBlessing)."""

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]],
           exec_properties: Dict[str, Any]) -> None:
        model = artifact_utils.get_single_instance(input_dict["model"])
        examples = artifact_utils.get_single_instance(input_dict["examples"])
        blessing = artifact_utils.get_single_instance(output_dict["blessing"])
        model_dir = path_utils.serving_model_path(model.uri, path_utils.is_old_model_artifact(model))
        split_uri = artifact_utils.get_split_uri([examples], exec_properties["split"])
        report_path = os.path.join(blessing.uri, REPORT_FILE)
        fileio.makedirs(blessing.uri)
        report = run_probe(model_dir, [os.path.join(split_uri, "*")], report_path, exec_properties)
        io_utils.write_string_file(report_path, json.dumps(report, indent=2))
        blessed = bool(report.get("blessed"))
        io_utils.write_string_file(os.path.join(blessing.uri, BLESSED_FILE if blessed else NOT_BLESSED_FILE), "")
        blessing.set_int_custom_property(BLESSED_KEY, int(blessed))
        latency = report.get("latency_ms") or {}
        for key in ("p50", "p99"):
            if key in latency:
                blessing.set_float_custom_property(f"latency_{key}_ms", float(latency[key]))
        if blessed:
            log.info("Serving smoke test passed: %s", json.dumps(latency))
        else:
            log.warning("Serving smoke test failed: %s", "; ".join(report.get("problems", [])))
