"""Kubeflow Pipelines 2.x / Vertex AI: compile, submit, the container entrypoint of every step, and
a task-by-task local runner.
"""
