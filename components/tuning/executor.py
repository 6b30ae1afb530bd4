"""The Tuner's executor: TFX's search, then every trial written out for the run report.

TFX's own executor writes ``best_hyperparameters.txt`` (what the Trainer reads) and
``tuner_results.json`` (completed trials only, no step counts). This one does the
same and adds ``trials.json`` beside the latter: each trial's values, objective, steps
and status, and the winning trial's id.
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List

from tfx import types
from tfx.components.tuner import executor as tfx_tuner
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import io_utils

from trainer.search_space import OBJECTIVE, STEPS, tuned_values

TRIALS_FILE = "trials.json"


def trials_record(oracle) -> Dict[str, Any]:
    """``{"objective", "best_trial", "trials": [{trial_id, values, objective, steps, status}]}``
    of a finished KerasTuner oracle, trials in the order they ran."""
    best = oracle.get_best_trials(1)
    rows = []
    for trial in sorted(oracle.trials.values(), key=lambda t: t.trial_id):
        steps = trial.metrics.get_last_value(STEPS) if trial.metrics.exists(STEPS) else None
        rows.append({"trial_id": trial.trial_id, "status": str(trial.status),
                     "values": tuned_values({"values": trial.hyperparameters.values}),
                     "objective": trial.score, "steps": int(steps) if steps is not None else None})
    return {"objective": OBJECTIVE, "best_trial": best[0].trial_id if best else None, "trials": rows}


class Executor(tfx_tuner.Executor):
    """TFX's Tuner executor plus ``trials.json`` in the ``tuner_results`` artifact."""

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]], exec_properties: Dict[str, Any]) -> None:
        if tfx_tuner.get_tune_args(exec_properties):
            raise ValueError("TuneArgs (parallel trials) is not supported by this Tuner; "
                             "see docs/tuning.md, 'Parallel trials'")
        tuner = tfx_tuner.search(input_dict, exec_properties, self._get_tmp_dir())
        record = trials_record(tuner.oracle)
        if record["best_trial"] is None:
            # TFX would fail on an empty best list; say why the trials failed instead.
            messages = [t.message for t in tuner.oracle.trials.values() if t.message]
            last = messages[-1].strip().splitlines()[-1] if messages else "no trial ran"
            raise RuntimeError(f"Tuner: no trial finished ({len(tuner.oracle.trials)} tried); "
                               f"last error: {last}")
        tfx_tuner.write_best_hyperparameters(tuner, output_dict)
        uri = artifact_utils.get_single_uri(output_dict[standard_component_specs.TUNER_RESULTS_KEY])
        io_utils.write_string_file(os.path.join(uri, TRIALS_FILE), json.dumps(record, indent=1))
        # The trials' checkpoints are scratch (three copies of the weights per trial, under the
        # pipeline root on Kubeflow); the results above are all that is kept.
        io_utils.delete_dir(tuner.project_dir)
