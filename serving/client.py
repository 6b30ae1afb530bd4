"""Clients for a TF Serving model server: REST ``:predict`` (b64) and gRPC ``PredictRequest``.

Both send raw encoded image bytes to ``serving_default`` (see serving/signatures.py, trainer/export/saved_model.py)
and return the outputs as numpy arrays keyed by output name, the same dict
``serving.predict.run_images`` returns for a local SavedModel.

REST (port 8501), row format::

    POST /v1/models/<name>[/versions/<v>]:predict
    {"signature_name": "serving_default", "instances": [{"b64": "<base64 bytes>"}, ...]}
    → {"predictions": [{"classes": 3, "scores": [...], "labels": "3", ...}, ...]}

TF Serving base64-decodes ``{"b64": ...}`` values, so the graph receives the file bytes.
gRPC (port 8500): ``PredictionService/Predict`` with ``inputs['image_bytes']`` a
DT_STRING tensor of the bytes (tensorflow-serving-api protos).
"""
from __future__ import annotations

import base64
import json
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np

from serving.signatures import IMAGE_INPUT, SERVING_DEFAULT

DEFAULT_TIMEOUT_SECS = 30.0


class ServingError(RuntimeError):
    """The model server answered with an error (its message is kept verbatim)."""

    def __init__(self, message: str, code: Optional[str] = None):
        super().__init__(message if code is None else f"{code}: {message}")
        self.code = code


# ---------------------------------------------------------------------------- REST


def rest_url(server: str, model_name: str, version: Optional[int] = None, verb: str = "predict") -> str:
    """``http://host:port/v1/models/<name>[/versions/<v>]:<verb>`` (``server`` may carry a scheme)."""
    base = server if server.startswith(("http://", "https://")) else f"http://{server}"
    path = f"/v1/models/{model_name}"
    if version is not None:
        path += f"/versions/{int(version)}"
    return f"{base.rstrip('/')}{path}:{verb}"


def rest_predict_body(images: Sequence[bytes], signature_name: str = SERVING_DEFAULT) -> Dict[str, Any]:
    """The row-format request body: one ``{"b64": ...}`` instance per encoded image."""
    return {"signature_name": signature_name,
            "instances": [{"b64": base64.b64encode(bytes(b)).decode("ascii")} for b in images]}


def _column(values: List[Any]) -> np.ndarray:
    # Labels come back as JSON strings; keep them as bytes like the local signature does.
    if values and isinstance(values[0], str):
        return np.asarray([v.encode("utf-8") for v in values], dtype=object)
    if values and isinstance(values[0], list) and values[0] and isinstance(values[0][0], str):
        return np.asarray([[v.encode("utf-8") for v in row] for row in values], dtype=object)
    return np.asarray(values)


def parse_rest_response(payload: Mapping[str, Any]) -> Dict[str, np.ndarray]:
    """``{"predictions": [...]}`` (row) or ``{"outputs": {...}}`` (columnar) → arrays by output name.

    Raises:
      ServingError: the payload is an ``{"error": ...}`` answer or has neither key.
    """
    if "error" in payload:
        raise ServingError(str(payload["error"]))
    if "outputs" in payload:
        outputs = payload["outputs"]
        if not isinstance(outputs, dict):
            raise ServingError("columnar response with a single unnamed output; expected named outputs")
        return {k: _column(v if isinstance(v, list) else [v]) for k, v in outputs.items()}
    if "predictions" not in payload:
        raise ServingError(f"unexpected response keys {sorted(payload)}; expected 'predictions'")
    rows = payload["predictions"]
    if rows and not isinstance(rows[0], dict):
        raise ServingError("response rows are not dicts of named outputs; is this serving_default?")
    keys = list(rows[0]) if rows else []
    return {k: _column([row[k] for row in rows]) for k in keys}


def rest_predict(server: str, model_name: str, images: Sequence[bytes],
                 signature_name: str = SERVING_DEFAULT, version: Optional[int] = None,
                 timeout: float = DEFAULT_TIMEOUT_SECS, session=None) -> Dict[str, np.ndarray]:
    """POSTs ``images`` to TF Serving's REST API and returns the outputs.

    Raises:
      ServingError: HTTP error status (with the server's ``error`` text), a malformed
        answer, or no connection (code UNAVAILABLE).
    """
    import requests  # pylint: disable=import-outside-toplevel

    http = session or requests
    url = rest_url(server, model_name, version)
    try:
        response = http.post(url, timeout=timeout, data=json.dumps(rest_predict_body(images, signature_name)),
                             headers={"Content-Type": "application/json"})
    except requests.RequestException as err:
        raise ServingError(f"cannot reach {url}: {err}", code="UNAVAILABLE") from err
    try:
        payload = response.json()
    except ValueError as err:
        raise ServingError(f"HTTP {response.status_code}, not JSON: {response.text[:200]!r}") from err
    if response.status_code != 200:
        raise ServingError(str(payload.get("error", payload)), code=f"HTTP {response.status_code}")
    return parse_rest_response(payload)


# ---------------------------------------------------------------------------- gRPC


def grpc_predict_request(model_name: str, images: Sequence[bytes],
                         signature_name: str = SERVING_DEFAULT, version: Optional[int] = None,
                         input_name: str = IMAGE_INPUT):
    """A ``tensorflow.serving.PredictRequest`` carrying the bytes as a DT_STRING [N] tensor."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    from tensorflow_serving.apis import predict_pb2  # pylint: disable=import-outside-toplevel

    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = signature_name
    if version is not None:
        request.model_spec.version.value = int(version)
    request.inputs[input_name].CopyFrom(
        tf.make_tensor_proto([bytes(b) for b in images], dtype=tf.string, shape=[len(images)]))
    return request


def parse_grpc_response(response) -> Dict[str, np.ndarray]:
    """``PredictResponse.outputs`` → numpy arrays by output name."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    return {name: tf.make_ndarray(proto) for name, proto in response.outputs.items()}


def grpc_predict(server: str, model_name: str, images: Sequence[bytes],
                 signature_name: str = SERVING_DEFAULT, version: Optional[int] = None,
                 timeout: float = DEFAULT_TIMEOUT_SECS, channel=None) -> Dict[str, np.ndarray]:
    """Calls ``PredictionService/Predict`` on ``server`` (host:port).

    Raises:
      ServingError: any RPC failure, with the gRPC status code name (e.g. INVALID_ARGUMENT).
    """
    import grpc  # pylint: disable=import-outside-toplevel
    from tensorflow_serving.apis import prediction_service_pb2_grpc  # pylint: disable=import-outside-toplevel

    own_channel = channel is None
    channel = channel or grpc.insecure_channel(
        server, options=[("grpc.max_send_message_length", 64 << 20),
                         ("grpc.max_receive_message_length", 64 << 20)])
    try:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        request = grpc_predict_request(model_name, images, signature_name, version)
        try:
            response = stub.Predict(request, timeout=timeout)
        except grpc.RpcError as err:
            raise ServingError(err.details() or str(err), code=err.code().name) from err
        return parse_grpc_response(response)
    finally:
        if own_channel:
            channel.close()
