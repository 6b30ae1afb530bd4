"""What TF Serving does between the wire and a signature, for in-process serving.

TF Serving's binary is not available here (no Docker, no apt repo), so the
serving smoke test and the tests' fake servers decode requests the way the model
server does (tensorflow/serving g3doc api_rest.md, json_tensor.cc) and call the
SavedModel signature directly:

- REST row format ``{"instances": [...]}`` or columnar ``{"inputs": ...}`` (never both);
  ``{"b64": "..."}`` values are base64-decoded to bytes; a single-input signature
  takes bare instances, several inputs take one object per instance.
- Row responses ``{"predictions": [...]}`` (a list of objects when the signature
  has several outputs), columnar ``{"outputs": ...}``; outputs whose name ends in
  ``_bytes`` are returned as ``{"b64": ...}``, other strings as text.
- gRPC ``PredictRequest.inputs`` TensorProtos → tensors; outputs → ``PredictResponse``.
"""
from __future__ import annotations

import base64
from typing import Any, Dict, List, Mapping, Tuple

import numpy as np
import tensorflow as tf


class RequestError(ValueError):
    """A malformed request (TF Serving answers these with INVALID_ARGUMENT / HTTP 400)."""


def signature_inputs(fn) -> Dict[str, tf.TensorSpec]:
    """Input name → TensorSpec of a loaded signature."""
    _, kwargs = fn.structured_input_signature
    return dict(kwargs)


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"b64"}:
            try:
                return base64.b64decode(value["b64"], validate=True)
            except (ValueError, TypeError) as err:
                raise RequestError(f"invalid base64 in b64 value: {err}") from err
        raise RequestError(f"unexpected object {sorted(value)} where a value was expected")
    if isinstance(value, list):
        return [_decode_value(v) for v in value]
    return value


def _to_tensor(values: Any, spec: tf.TensorSpec, name: str) -> tf.Tensor:
    try:
        if spec.dtype == tf.string:
            values = [v.encode("utf-8") if isinstance(v, str) else v for v in values] \
                if isinstance(values, list) else values
        return tf.constant(values, dtype=spec.dtype)
    except (TypeError, ValueError) as err:
        raise RequestError(f"input {name!r}: cannot make a {spec.dtype.name} tensor: {err}") from err


def inputs_from_rest_body(body: Mapping[str, Any], specs: Mapping[str, tf.TensorSpec]) -> Dict[str, tf.Tensor]:
    """A ``:predict`` JSON body → signature inputs (raises RequestError like TF Serving's 400s)."""
    if ("instances" in body) == ("inputs" in body):
        raise RequestError("JSON body must hold exactly one of 'instances' (row) or 'inputs' (columnar)")
    names = sorted(specs)
    if "instances" in body:
        instances = body["instances"]
        if not isinstance(instances, list) or not instances:
            raise RequestError("'instances' must be a non-empty list")
        if len(names) == 1:
            name = names[0]
            rows = [inst[name] if isinstance(inst, dict) and set(inst) == {name} else inst
                    for inst in instances]
            return {name: _to_tensor(_decode_value(rows), specs[name], name)}
        columns: Dict[str, List[Any]] = {n: [] for n in names}
        for index, inst in enumerate(instances):
            if not isinstance(inst, dict) or set(inst) != set(names):
                raise RequestError(f"instance {index} must be an object with keys {names}")
            for n in names:
                columns[n].append(_decode_value(inst[n]))
        return {n: _to_tensor(columns[n], specs[n], n) for n in names}
    inputs = body["inputs"]
    if len(names) == 1 and not (isinstance(inputs, dict) and set(inputs) == set(names)):
        inputs = {names[0]: inputs}
    if not isinstance(inputs, dict) or set(inputs) != set(names):
        raise RequestError(f"'inputs' must name the signature inputs {names}")
    return {n: _to_tensor(_decode_value(inputs[n]), specs[n], n) for n in names}


def _json_value(name: str, value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return [_json_value(name, v) for v in value]
    if isinstance(value, bytes):
        if name.endswith("_bytes"):
            return {"b64": base64.b64encode(value).decode("ascii")}
        return value.decode("utf-8", "replace")
    if isinstance(value, np.generic):
        return value.item()
    return value


def rest_response(outputs: Mapping[str, tf.Tensor], row_format: bool = True) -> Dict[str, Any]:
    """Signature outputs → the ``:predict`` JSON answer."""
    arrays = {k: np.asarray(v.numpy() if hasattr(v, "numpy") else v) for k, v in outputs.items()}
    if not row_format:
        return {"outputs": {k: _json_value(k, v) for k, v in arrays.items()}}
    batch = {v.shape[0] for v in arrays.values()}
    if len(batch) != 1:
        raise RequestError(f"outputs disagree on the batch size {sorted(batch)}; use columnar 'inputs'")
    n = batch.pop()
    if len(arrays) == 1:
        (name, value), = arrays.items()
        return {"predictions": [_json_value(name, value[i]) for i in range(n)]}
    return {"predictions": [{k: _json_value(k, v[i]) for k, v in arrays.items()} for i in range(n)]}


def inputs_from_predict_request(request, specs: Mapping[str, tf.TensorSpec]) -> Dict[str, tf.Tensor]:
    """``PredictRequest.inputs`` → signature inputs (names and dtypes checked)."""
    given, wanted = set(request.inputs), set(specs)
    if given != wanted:
        raise RequestError(f"request inputs {sorted(given)} != signature inputs {sorted(wanted)}")
    out = {}
    for name, proto in request.inputs.items():
        tensor = tf.constant(tf.make_ndarray(proto))
        if tensor.dtype != specs[name].dtype:
            raise RequestError(f"input {name!r} is {tensor.dtype.name}, signature expects "
                               f"{specs[name].dtype.name}")
        out[name] = tensor
    return out


def predict_response(outputs: Mapping[str, tf.Tensor], model_spec=None):
    """Signature outputs → ``PredictResponse`` (echoing the request's model_spec)."""
    from tensorflow_serving.apis import predict_pb2  # pylint: disable=import-outside-toplevel

    response = predict_pb2.PredictResponse()
    if model_spec is not None:
        response.model_spec.CopyFrom(model_spec)
    for name, value in outputs.items():
        response.outputs[name].CopyFrom(tf.make_tensor_proto(np.asarray(value)))
    return response


def call_rest(fn, body: Mapping[str, Any]) -> Tuple[int, Dict[str, Any]]:
    """(HTTP status, JSON answer) for a ``:predict`` body, as TF Serving's REST handler answers."""
    try:
        inputs = inputs_from_rest_body(body, signature_inputs(fn))
        outputs = fn(**inputs)
        return 200, rest_response(outputs, row_format="instances" in body)
    except RequestError as err:
        return 400, {"error": str(err)}
    except tf.errors.InvalidArgumentError as err:
        return 400, {"error": err.message}


def signature_for(loaded, name: str):
    """``loaded.signatures[name]`` or RequestError naming the available ones."""
    if name not in loaded.signatures:
        raise RequestError(f"Serving signature name: \"{name}\" not found in signature def; "
                           f"have {sorted(loaded.signatures)}")
    return loaded.signatures[name]


