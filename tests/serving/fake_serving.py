"""Stand-ins for a TF Serving model server on 127.0.0.1, running a SavedModel in-process.

The real ``tensorflow_model_server`` is not installable here (no Docker, no apt repo),
so these servers speak its wire protocols — REST ``/v1/models/<name>[/versions/<v>]:predict``
(JSON, b64) and gRPC ``PredictionService/Predict`` — with the request decoding of
components.serving_smoke.emulation, so the project's real clients can be exercised
end to end over real sockets.
"""
from __future__ import annotations

import json
import re
import threading
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
import tensorflow as tf
from tensorflow_serving.apis import prediction_service_pb2_grpc

from components.serving_smoke import emulation
from serving.versions import latest_version_dir

_PREDICT_PATH = re.compile(r"^/v1/models/([^/:]+)(?:/versions/(\d+))?:predict$")


class FakeRestServer:
    """``with FakeRestServer(model_dir, 'lenet') as server:`` → ``server.address`` is host:port."""

    def __init__(self, model_dir: str, model_name: str):
        self.loaded = tf.saved_model.load(latest_version_dir(model_dir))
        self.model_name = model_name
        self.requests = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.address = f"127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                del args

            def _answer(self, status: int, payload) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):  # noqa: N802  (http.server's naming)
                match = _PREDICT_PATH.match(self.path)
                if not match or match.group(1) != server.model_name:
                    self._answer(404, {"error": f"Servable not found for request: {self.path}"})
                    return
                try:
                    body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                except ValueError as err:
                    self._answer(400, {"error": f"JSON Parse error: {err}"})
                    return
                server.requests.append(body)
                try:
                    fn = emulation.signature_for(server.loaded, body.get("signature_name", "serving_default"))
                except emulation.RequestError as err:
                    self._answer(400, {"error": str(err)})
                    return
                self._answer(*emulation.call_rest(fn, body))

        return Handler

    def __enter__(self) -> "FakeRestServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class _PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    def __init__(self, loaded, model_name: str):
        self.loaded = loaded
        self.model_name = model_name

    def Predict(self, request, context):  # noqa: N802  (gRPC method name)
        if request.model_spec.name != self.model_name:
            context.abort(grpc.StatusCode.NOT_FOUND, f"Servable not found: {request.model_spec.name}")
        try:
            fn = emulation.signature_for(self.loaded, request.model_spec.signature_name or "serving_default")
            outputs = fn(**emulation.inputs_from_predict_request(request, emulation.signature_inputs(fn)))
        except emulation.RequestError as err:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(err))
        except tf.errors.InvalidArgumentError as err:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, err.message)
        return emulation.predict_response(outputs, request.model_spec)


class FakeGrpcServer:
    """``with FakeGrpcServer(model_dir, 'lenet') as server:`` → ``server.address`` is host:port."""

    def __init__(self, model_dir: str, model_name: str):
        loaded = tf.saved_model.load(latest_version_dir(model_dir))
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
            _PredictionService(loaded, model_name), self._server)
        port = self._server.add_insecure_port("127.0.0.1:0")
        self.address = f"127.0.0.1:{port}"

    def __enter__(self) -> "FakeGrpcServer":
        self._server.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.stop(grace=None)
