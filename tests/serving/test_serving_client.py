"""TF Serving clients: request building, response parsing, and real calls to local fake servers."""
import base64
import json

import numpy as np
import pytest
import tensorflow as tf

from components.serving_smoke import emulation
from tests.serving.fixtures import CLASS_NAMES
from tests.serving.fake_serving import FakeGrpcServer, FakeRestServer
from serving import client as serving_client, predict


def test_rest_url_and_body():
    assert serving_client.rest_url("localhost:8501", "lenet") == "http://localhost:8501/v1/models/lenet:predict"
    assert serving_client.rest_url("https://h:1/", "m", version=7) == "https://h:1/v1/models/m/versions/7:predict"
    body = serving_client.rest_predict_body([b"\x89PNG\x00\xff", b"\xff\xd8\xff"])
    assert body["signature_name"] == "serving_default"
    assert [base64.b64decode(i["b64"]) for i in body["instances"]] == [b"\x89PNG\x00\xff", b"\xff\xd8\xff"]
    json.dumps(body)  # plain JSON (no bytes objects)


def test_rest_body_decodes_as_tf_serving_does():
    specs = {"image_bytes": tf.TensorSpec([None], tf.string)}
    body = json.loads(json.dumps(serving_client.rest_predict_body([b"\x00\x01", b"\xfe"])))
    inputs = emulation.inputs_from_rest_body(body, specs)
    assert inputs["image_bytes"].numpy().tolist() == [b"\x00\x01", b"\xfe"]
    columnar = emulation.inputs_from_rest_body({"inputs": [{"b64": "AAE="}]}, specs)
    assert columnar["image_bytes"].numpy().tolist() == [b"\x00\x01"]
    with pytest.raises(emulation.RequestError, match="exactly one of"):
        emulation.inputs_from_rest_body({"inputs": [], "instances": []}, specs)


def test_parse_rest_response_row_columnar_and_error():
    row = {"predictions": [{"classes": 3, "scores": [0.1, 0.9], "labels": "three",
                            "top_k_labels": ["three", "one"], "top_k_scores": [0.9, 0.1]}]}
    parsed = serving_client.parse_rest_response(row)
    assert parsed["classes"].tolist() == [3] and parsed["labels"].tolist() == [b"three"]
    assert predict.ranked(parsed) == [[("three", 0.9), ("one", 0.1)]]
    columnar = serving_client.parse_rest_response({"outputs": {"classes": [1, 2]}})
    assert columnar["classes"].tolist() == [1, 2]
    with pytest.raises(serving_client.ServingError, match="not a JPEG"):
        serving_client.parse_rest_response({"error": "image_bytes: not a JPEG/PNG/GIF/BMP image"})


def test_grpc_request_proto():
    request = serving_client.grpc_predict_request("lenet", [b"\xff\xd8\xffabc", b"\x89PNG"], version=3)
    assert request.model_spec.name == "lenet" and request.model_spec.version.value == 3
    assert request.model_spec.signature_name == "serving_default"
    proto = request.inputs["image_bytes"]
    assert proto.dtype == tf.string.as_datatype_enum
    assert [d.size for d in proto.tensor_shape.dim] == [2]
    assert tf.make_ndarray(proto).tolist() == [b"\xff\xd8\xffabc", b"\x89PNG"]


def test_rest_client_against_local_server(lenet_model_dir, digit_pngs):
    local = predict.run_images(predict.load_serving_fn(lenet_model_dir), [p for p, _ in digit_pngs[:3]])
    with FakeRestServer(lenet_model_dir, "lenet") as server:
        out = serving_client.rest_predict(server.address, "lenet", [p for p, _ in digit_pngs[:3]])
        np.testing.assert_allclose(out["scores"], local["scores"], atol=1e-5)
        assert out["top_k_labels"].shape == (3, 5)
        assert {label.decode() for label in out["labels"]} <= set(CLASS_NAMES)
        # What went over the wire is TF Serving's b64 row format.
        sent = server.requests[-1]
        assert base64.b64decode(sent["instances"][0]["b64"]) == digit_pngs[0][0]
        with pytest.raises(serving_client.ServingError, match="(?s)HTTP 400.*not a JPEG/PNG/GIF/BMP"):
            serving_client.rest_predict(server.address, "lenet", [b"not an image"])
        again = serving_client.rest_predict(server.address, "lenet", [digit_pngs[0][0]])
        np.testing.assert_allclose(again["scores"][0], local["scores"][0], atol=1e-5)
        with pytest.raises(serving_client.ServingError, match="HTTP 404"):
            serving_client.rest_predict(server.address, "other", [digit_pngs[0][0]])


def test_grpc_client_against_local_server(lenet_model_dir, digit_pngs):
    local = predict.run_images(predict.load_serving_fn(lenet_model_dir), [p for p, _ in digit_pngs[:2]])
    with FakeGrpcServer(lenet_model_dir, "lenet") as server:
        out = serving_client.grpc_predict(server.address, "lenet", [p for p, _ in digit_pngs[:2]])
        np.testing.assert_allclose(out["scores"], local["scores"], atol=1e-5)
        assert out["top_k_labels"].tolist() == local["top_k_labels"].tolist()
        with pytest.raises(serving_client.ServingError, match="(?s)INVALID_ARGUMENT.*not a JPEG/PNG/GIF/BMP"):
            serving_client.grpc_predict(server.address, "lenet", [b"\x00\x01garbage"])
        again = serving_client.grpc_predict(server.address, "lenet", [digit_pngs[1][0]])
        np.testing.assert_allclose(again["scores"][0], local["scores"][1], atol=1e-5)


def test_unreachable_server_is_a_serving_error():
    with pytest.raises(serving_client.ServingError, match="UNAVAILABLE"):
        serving_client.rest_predict("127.0.0.1:9", "lenet", [b"x"], timeout=2)
