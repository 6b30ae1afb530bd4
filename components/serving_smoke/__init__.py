"""Serving smoke test (InfraValidator stand-in).

  components.serving_smoke.component.ServingSmokeTest   fresh-process request checks → InfraBlessing
  components.serving_smoke.emulation                     TF Serving's REST/gRPC request decoding
"""
