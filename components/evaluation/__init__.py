"""TFMA additions used by the pipeline's Evaluator (see pipeline.pipeline.eval_config)."""
