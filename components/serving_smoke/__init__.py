"""Serving smoke test (InfraValidator stand-in) and the serving-layout Pusher.

  components.serving_smoke.component.ServingSmokeTest   fresh-process request checks → InfraBlessing
  components.serving_smoke.pusher.ServingPusher          Pusher that never overwrites a version and
                                                         keeps TF Serving's models.config current
  components.serving_smoke.emulation                     TF Serving's REST/gRPC request decoding
"""
