"""TF Serving deployment: Kubernetes manifests (deployment.yaml, service.yaml) and models.config handling."""
