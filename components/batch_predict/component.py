"""BatchPredict: the pipeline's batch-prediction step (TFX custom component, Beam-based).

    BatchPredict(model=trainer.outputs['model'], model_blessing=evaluator.outputs['blessing'],
                 infra_blessing=smoke.outputs['blessing'], infer_root='photos/')

Scores every file under ``infer_root`` with the model's serving signature when the model
is blessed, with the same RunInference job as `tfslim predict --input_dir` (beam_job), in
the pipeline's Beam pipeline (its ``beam_pipeline_args``). Output: a ``BatchPredictions``
artifact holding ``predictions.jsonl-SSSSS-of-NNNNN`` and ``summary.json``.
"""
from __future__ import annotations

from typing import Optional

from tfx import types
from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ExecutionParameter

from components.batch_predict import executor
from components.batch_predict.artifact import BatchPredictions
from prediction.job import DEFAULT_BATCH_SIZE
from components.image_example_gen.driver import tree_fingerprint


class BatchPredictSpec(types.ComponentSpec):
    """Parameters, inputs and outputs of BatchPredict."""

    PARAMETERS = {
        executor.INFER_ROOT_KEY: ExecutionParameter(type=str),
        executor.TOP_K_KEY: ExecutionParameter(type=int),
        executor.BATCH_SIZE_KEY: ExecutionParameter(type=int),
        # Part of the cache key only: new files under a local infer_root rerun the step.
        "input_fingerprint": ExecutionParameter(type=str),
    }
    INPUTS = {
        executor.MODEL_KEY: ChannelParameter(type=standard_artifacts.Model),
        executor.MODEL_BLESSING_KEY: ChannelParameter(type=standard_artifacts.ModelBlessing),
        executor.INFRA_BLESSING_KEY: ChannelParameter(type=standard_artifacts.InfraBlessing, optional=True),
    }
    OUTPUTS = {executor.PREDICTIONS_KEY: ChannelParameter(type=BatchPredictions)}


class BatchPredict(base_beam_component.BaseBeamComponent):
    """Top-k labels of every file under a folder, from the blessed model only."""

    SPEC_CLASS = BatchPredictSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)

    def __init__(self, model: types.BaseChannel, model_blessing: types.BaseChannel, infer_root: str,
                 infra_blessing: Optional[types.BaseChannel] = None, top_k: int = 5,
                 batch_size: int = DEFAULT_BATCH_SIZE):
        """Args:
          model: the Trainer's Model (its Format-Serving SavedModel scores the files).
          model_blessing: the Evaluator's blessing; not blessed → nothing is scored.
          infer_root: the folder to score (local, gs://, s3://), read when the step runs.
          infra_blessing: ServingSmokeTest's blessing, when the pipeline has one.
          top_k: labels (and scores) per file.
          batch_size: images per signature call.
        """
        # A local folder's files are fingerprinted when the pipeline is built, so the step's
        # cache key changes with them; an object store's folder is read only at run time.
        fingerprint = "" if "://" in infer_root else tree_fingerprint(infer_root)
        super().__init__(spec=BatchPredictSpec(
            model=model, model_blessing=model_blessing, infra_blessing=infra_blessing,
            infer_root=infer_root, top_k=top_k, batch_size=batch_size, input_fingerprint=fingerprint,
            predictions=types.Channel(type=BatchPredictions)))
