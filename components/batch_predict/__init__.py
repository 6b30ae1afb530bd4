"""Batch prediction: every file under a folder → one JSON line (or CSV row) of top-k labels.

  prediction.inputs   the files to score (ingestion's safe listing and checks)
  prediction.scorer   the serving SavedModel's signature on batches of image bytes
  prediction.results  output lines (JSON lines / CSV) and the summary
  prediction.local    the in-process job (no Beam)
  prediction.beam_job the same job on Beam's RunInference (any runner)
  prediction.job      the entry point: picks one of the two (`tfslim predict --input_dir`)
  components.batch_predict.component the pipeline's BatchPredict step (``infer_root``): beam_job on
                                     the blessed model (executor), a BatchPredictions artifact (artifact)
"""
