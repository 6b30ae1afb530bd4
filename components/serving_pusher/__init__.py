"""The serving-layout Pusher.

  components.serving_pusher.component.ServingPusher   Pusher that never overwrites a version and
                                                      keeps TF Serving's models.config current
  components.serving_pusher.executor                  its executor (version rule, copy order)
"""
