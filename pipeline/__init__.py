"""The TFX pipeline: configs, create_pipeline, the demo and the tfslim CLI."""
