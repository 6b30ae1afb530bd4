"""The serving contract: signature/output names, TF Serving clients, local predict, models.config.

  serving.signatures     signature, input and output names and the labels asset (no TensorFlow)
  serving.versions       TF Serving's integer version folders (the one scan)
  serving.client         REST ``:predict`` (b64) and gRPC ``PredictRequest`` clients
  serving.predict        run a serving SavedModel locally (``tfslim predict``)
  serving.models_config  TF Serving's ``--model_config_file`` beside the pushed models
"""
