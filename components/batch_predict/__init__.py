"""Batch prediction: every file under a folder → one JSON line (or CSV row) of top-k labels.

  components.batch_predict.inputs   the files to score (ingestion's safe listing and checks)
  components.batch_predict.scorer   the serving SavedModel's signature on batches of image bytes
  components.batch_predict.results  output lines (JSON lines / CSV) and the summary
  components.batch_predict.local    the in-process job (no Beam)
  components.batch_predict.beam_job the same job on Beam's RunInference (any runner)
  components.batch_predict.job      the entry point: picks one of the two (`tfslim predict --input_dir`)
  components.batch_predict.component the pipeline's BatchPredict step (``infer_root``): beam_job on
                                     the blessed model (executor), a BatchPredictions artifact (artifact)
"""
