"""BatchPredict's executor: the RunInference job of `tfslim predict --input_dir` (beam_job) on
the pipeline's blessed model, in the pipeline's Beam pipeline.

Blessed means the Evaluator's ``model_blessing`` and, when given, ServingSmokeTest's
``infra_blessing`` both say so (the Pusher's rule). A model that is not blessed is not
scored: the artifact holds only ``summary.json`` saying why (``blessed: false``).
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List

from tfx import types
from tfx.components.util import model_utils
from tfx.dsl.components.base import base_beam_executor
from tfx.types import artifact_utils
from tfx.utils import path_utils

from prediction import beam_job, inputs
from components.batch_predict.artifact import PREDICTIONS_FILE, SUMMARY_FILE
from schemas import fileio
from serving.signatures import SERVING_DEFAULT

MODEL_KEY = "model"
MODEL_BLESSING_KEY = "model_blessing"
INFRA_BLESSING_KEY = "infra_blessing"
PREDICTIONS_KEY = "predictions"
INFER_ROOT_KEY = "infer_root"
TOP_K_KEY = "top_k"
BATCH_SIZE_KEY = "batch_size"


def not_blessed_reason(input_dict: Dict[str, List[types.Artifact]]) -> str:
    """Why the model must not be scored ('' when both blessings say blessed)."""
    if not model_utils.is_model_blessed(artifact_utils.get_single_instance(input_dict[MODEL_BLESSING_KEY])):
        return "not blessed by the Evaluator"
    infra = input_dict.get(INFRA_BLESSING_KEY)
    if infra and not model_utils.is_infra_validated(artifact_utils.get_single_instance(infra)):
        return "not blessed by ServingSmokeTest"
    return ""


class Executor(base_beam_executor.BaseBeamExecutor):
    """Scores every file under ``infer_root`` with the blessed model's serving signature."""

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]],
           exec_properties: Dict[str, Any]) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        predictions = artifact_utils.get_single_instance(output_dict[PREDICTIONS_KEY])
        root = exec_properties[INFER_ROOT_KEY]
        summary: Dict[str, Any] = {"infer_root": root, "blessed": False}
        reason = not_blessed_reason(input_dict)
        if reason:
            summary["skipped"] = f"{reason}; nothing scored"
        else:
            model = artifact_utils.get_single_instance(input_dict[MODEL_KEY])
            try:
                files = list(inputs.list_inputs(root))
            except FileNotFoundError:
                raise FileNotFoundError(f"infer_root {root} is not a directory; point infer_root at "
                                        "the folder of images to score") from None
            counts, shards = beam_job.run(
                files, path_utils.serving_model_path(model.uri), os.path.join(predictions.uri, PREDICTIONS_FILE),
                exec_properties[TOP_K_KEY], exec_properties[BATCH_SIZE_KEY], SERVING_DEFAULT, beam_args=None,
                threshold=1, show_progress=False, make_pipeline=self._make_beam_pipeline)
            summary.update(blessed=True, **counts, shards=[os.path.basename(path) for path in shards])
            predictions.set_int_custom_property("files", counts["files"])
            predictions.set_int_custom_property("errors", counts["errors"])
        predictions.set_int_custom_property("blessed", int(summary["blessed"]))
        fileio.makedirs(predictions.uri)
        with fileio.open_file(os.path.join(predictions.uri, SUMMARY_FILE), "w") as f:
            f.write(json.dumps(summary, indent=1) + "\n")
