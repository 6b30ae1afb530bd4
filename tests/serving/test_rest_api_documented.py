"""The REST client and the fake server against TF Serving's *documented* REST API.

The other serving tests check the client against the project's own model of TF Serving
(components.serving_smoke.emulation). Here the request and response shapes are literal
JSON copied from TF Serving's REST API page (tensorflow.org/tfx/serving/api_rest,
tensorflow_serving/g3doc/api_rest.md): if the client or the fake drifts from the
documented wire format, these fail.
"""
import base64
import json

import numpy as np
import pytest
import requests

from serving import client
from tests.serving.fake_serving import FakeRestServer

# "Encoding binary values": bytes travel as {"b64": ...}; these two strings are the doc's own
# ("image bytes", "awesome image bytes").
DOC_B64 = ["aW1hZ2UgYnl0ZXM=", "YXdlc29tZSBpbWFnZSBieXRlcw=="]
# "Request format" of the predict API: optional signature_name, then row-format instances;
# with one named input, instances are the input's values themselves.
DOC_PREDICT_REQUEST = {"signature_name": "serving_default",
                       "instances": [{"b64": "aW1hZ2UgYnl0ZXM="}, {"b64": "YXdlc29tZSBpbWFnZSBieXRlcw=="}]}
# "Example": the doc's URL forms.
DOC_URLS = {("iris", None, "classify"): "http://host:port/v1/models/iris:classify",
            ("mnist", 314, "predict"): "http://host:port/v1/models/mnist/versions/314:predict"}
# "Response format": several named outputs → a list of objects (row) / an object (columnar).
DOC_ROW_RESPONSE = {"predictions": [{"classes": 3, "scores": [0.25, 0.75]},
                                    {"classes": 1, "scores": [0.5, 0.5]}]}
DOC_COLUMNAR_RESPONSE = {"outputs": {"classes": [3, 1], "scores": [[0.25, 0.75], [0.5, 0.5]]}}
# A single unnamed output (the doc's half_plus_three example answer).
DOC_SINGLE_OUTPUT_RESPONSE = {"predictions": [3.5, 4.0, 5.5]}
# "In case of error, all APIs will return ... error as key"; the doc's 404 example body.
DOC_ERROR_RESPONSE = json.loads('{ "error": "Servable not found for request: Latest(half)" }')


def test_request_body_and_urls_are_the_documented_ones():
    body = client.rest_predict_body([b"image bytes", b"awesome image bytes"])
    assert body == DOC_PREDICT_REQUEST
    assert [inst["b64"] for inst in body["instances"]] == DOC_B64
    for (model, version, verb), url in DOC_URLS.items():
        assert client.rest_url("host:port", model, version, verb) == url


def test_documented_responses_parse():
    row = client.parse_rest_response(DOC_ROW_RESPONSE)
    columnar = client.parse_rest_response(DOC_COLUMNAR_RESPONSE)
    for parsed in (row, columnar):
        assert sorted(parsed) == ["classes", "scores"]
        np.testing.assert_array_equal(parsed["classes"], [3, 1])
        np.testing.assert_allclose(parsed["scores"], [[0.25, 0.75], [0.5, 0.5]])
    # serving_default has named outputs; an unnamed single output is a wrong signature.
    with pytest.raises(client.ServingError, match="not dicts of named outputs"):
        client.parse_rest_response(DOC_SINGLE_OUTPUT_RESPONSE)
    with pytest.raises(client.ServingError, match=r"^Servable not found for request: Latest\(half\)$"):
        client.parse_rest_response(DOC_ERROR_RESPONSE)


def _post(server: FakeRestServer, path: str, body) -> requests.Response:
    return requests.post(f"http://{server.address}{path}", data=json.dumps(body), timeout=60)


def test_fake_server_accepts_the_documented_shapes(lenet_model_dir, digit_pngs):
    png = base64.b64encode(digit_pngs[0][0]).decode("ascii")
    row_bodies = [
        {"signature_name": "serving_default", "instances": [{"b64": png}]},  # the client's form
        {"instances": [{"b64": png}]},  # signature_name is optional
        {"instances": [{"image_bytes": {"b64": png}}]},  # one object per instance, by input name
    ]
    with FakeRestServer(lenet_model_dir, "lenet") as server:
        answers = [_post(server, "/v1/models/lenet:predict", body) for body in row_bodies]
        for answer in answers:
            assert answer.status_code == 200, answer.text
            (prediction,) = answer.json()["predictions"]  # row request → row response
            assert isinstance(prediction, dict) and {"classes", "scores"} <= set(prediction)
        assert len({json.dumps(a.json(), sort_keys=True) for a in answers}) == 1
        columnar = _post(server, "/v1/models/lenet/versions/1:predict", {"inputs": [{"b64": png}]})
        assert columnar.status_code == 200, columnar.text
        assert set(columnar.json()) == {"outputs"}
        assert columnar.json()["outputs"]["classes"] == [answers[0].json()["predictions"][0]["classes"]]
        # Errors are {"error": <message>} with an HTTP error status, like the doc's 404.
        missing = _post(server, "/v1/models/half:predict", {"instances": [1.0, 5.0]})
        assert missing.status_code == 404 and set(missing.json()) == {"error"}
        both = _post(server, "/v1/models/lenet:predict", {"instances": [{"b64": png}], "inputs": [{"b64": png}]})
        assert both.status_code == 400 and set(both.json()) == {"error"}
        assert server.requests[0] == row_bodies[0]
