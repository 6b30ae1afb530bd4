"""Kubeflow Pipelines (KFP v2 / Vertex) runner, image and manifests."""
