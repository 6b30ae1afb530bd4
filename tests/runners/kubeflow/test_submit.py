"""runners.kubeflow.submit with the real kfp 2.5 Client against a local stand-in for the KFP v2beta1 API.

The stand-in answers only the endpoints the client calls and records the requests, so the
test sees exactly what a cluster would receive (no cluster here).
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List
from urllib.parse import parse_qs, urlparse

import pytest
import yaml
from google.protobuf import json_format

from runners.kubeflow import submit

pytestmark = pytest.mark.xdist_group("kubeflow")


class FakeKfpApi(BaseHTTPRequestHandler):
    """Minimal KFP v2beta1 API: experiments, pipelines (upload, versions), runs."""

    state: Dict[str, Any] = {}

    def log_message(self, *args) -> None:  # keep pytest output clean
        del args

    def _reply(self, body: Dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def _uploaded_file(self) -> str:
        boundary = self.headers["Content-Type"].split("boundary=")[1].encode()
        for part in self._body().split(b"--" + boundary):
            head, _, content = part.partition(b"\r\n\r\n")
            if b"filename=" in head:
                return content.rsplit(b"\r\n", 1)[0].decode()
        raise AssertionError("no file in the upload")

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        url = urlparse(self.path)
        calls: List = self.state["calls"]
        calls.append(("GET", url.path))
        if url.path == "/apis/v2beta1/healthz":
            self._reply({"multi_user": False})
        elif url.path == "/apis/v2beta1/experiments":
            self._reply({"experiments": self.state["experiments"]} if self.state["experiments"] else {})
        elif url.path == "/apis/v2beta1/pipelines":
            self._reply({"pipelines": self.state["pipelines"]} if self.state["pipelines"] else {})
        elif url.path.startswith("/apis/v2beta1/runs/"):
            self._reply({"run_id": url.path.rsplit("/", 1)[1], "state": self.state["run_state"]})
        else:
            self.send_error(404)

    def do_POST(self) -> None:  # noqa: N802
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.state["calls"].append(("POST", url.path))
        if url.path == "/apis/v2beta1/experiments":
            body = json.loads(self._body())
            experiment = {"experiment_id": "exp-1", "display_name": body["display_name"]}
            self.state["experiments"].append(experiment)
            self._reply(experiment)
        elif url.path == "/apis/v2beta1/runs":
            self.state["runs"].append(json.loads(self._body()))
            self._reply({"run_id": f"run-{len(self.state['runs'])}", "state": "PENDING"})
        elif url.path == "/apis/v2beta1/pipelines/upload":
            self.state["uploads"].append((query, self._uploaded_file()))
            pipeline = {"pipeline_id": "pl-1", "display_name": query["name"]}
            self.state["pipelines"].append(pipeline)
            self._reply(pipeline)
        elif url.path == "/apis/v2beta1/pipelines/upload_version":
            self.state["uploads"].append((query, self._uploaded_file()))
            self._reply({"pipeline_id": query["pipelineid"], "pipeline_version_id": "v-2",
                         "display_name": query["name"]})
        else:
            self.send_error(404)


@pytest.fixture()
def kfp_client():
    import kfp  # pylint: disable=import-outside-toplevel

    FakeKfpApi.state = {"calls": [], "experiments": [], "pipelines": [], "runs": [], "uploads": [],
                        "run_state": "SUCCEEDED"}
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeKfpApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield kfp.Client(host=f"http://127.0.0.1:{server.server_address[1]}"), FakeKfpApi.state
    finally:
        server.shutdown()
        server.server_close()


def same_spec(a: Dict[str, Any], b: Dict[str, Any]) -> bool:
    from kfp.pipeline_spec import pipeline_spec_pb2  # pylint: disable=import-outside-toplevel

    return (json_format.ParseDict(a, pipeline_spec_pb2.PipelineSpec())
            == json_format.ParseDict(b, pipeline_spec_pb2.PipelineSpec()))


def test_upload_then_run_and_wait(kfp_job, kfp_client, tmp_path):
    client, state = kfp_client
    path = tmp_path / "tfslim-digits.json"
    path.write_text(json.dumps(kfp_job))

    first = submit.submit(client, str(path), experiment="tfslim", upload=True, wait_minutes=1)
    assert (first.pipeline_id, first.version_id, first.run_id, first.state) == ("pl-1", None, "run-1",
                                                                                "SUCCEEDED")
    assert not first.timed_out and submit.failure(first) is None
    query, uploaded = state["uploads"][0]
    assert query["name"] == "tfslim-digits"
    assert same_spec(yaml.safe_load(uploaded), kfp_job["pipelineSpec"])
    (run,) = state["runs"]
    assert run["experiment_id"] == "exp-1"
    assert same_spec(run["pipeline_spec"], kfp_job["pipelineSpec"])
    # The compiled root travels with the run (a YAML package alone would lose it).
    assert run["runtime_config"]["pipeline_root"] == "gs://tfslim-test/root"

    # Second submission: the pipeline exists → a new version named after the spec's hash;
    # the existing experiment is reused; the root can be overridden per run.
    second = submit.submit(client, str(path), experiment="tfslim", upload=True,
                           pipeline_root="s3://other/root", enable_caching=False,
                           arguments={"train_steps": "5000", "data_root": "gs://b/photos-v2"})
    query, _ = state["uploads"][1]
    assert query["pipelineid"] == "pl-1" and query["name"].startswith("tfslim-digits-")
    assert (second.version_id, second.run_id) == ("v-2", "run-2")
    assert len(state["experiments"]) == 1
    assert state["runs"][1]["runtime_config"]["pipeline_root"] == "s3://other/root"
    # The run's arguments, typed by the pipeline's parameter declarations (one upload, many runs).
    assert state["runs"][1]["runtime_config"]["parameters"] == {"train_steps": 5000,
                                                                "data_root": "gs://b/photos-v2"}
    with pytest.raises(KeyError, match="no such parameter"):
        submit.submit(client, str(path), experiment="tfslim", arguments={"batch_size": "8"})
    # Compiled with caching on (the run config's default); the run-time override reaches every task.
    from kfp.pipeline_spec import pipeline_spec_pb2  # pylint: disable=import-outside-toplevel

    sent = json_format.ParseDict(state["runs"][1]["pipeline_spec"], pipeline_spec_pb2.PipelineSpec())
    assert not any(task.caching_options.enable_cache for task in sent.root.dag.tasks.values())
    first_sent = json_format.ParseDict(run["pipeline_spec"], pipeline_spec_pb2.PipelineSpec())
    assert all(task.caching_options.enable_cache for task in first_sent.root.dag.tasks.values())


def test_upload_only_and_bad_input(kfp_job, kfp_client, tmp_path):
    client, state = kfp_client
    path = tmp_path / "job.json"
    path.write_text(json.dumps(kfp_job))
    result = submit.submit(client, str(path), experiment="tfslim", upload=True, run=False)
    assert result.run_id is None and not state["runs"] and result.pipeline_id == "pl-1"
    assert result.package_path == str(tmp_path / "job.yaml")

    not_a_job = tmp_path / "spec.json"
    not_a_job.write_text(json.dumps(kfp_job["pipelineSpec"]))
    with pytest.raises(ValueError, match="no pipelineSpec"):
        submit.submit(client, str(not_a_job), experiment="tfslim")


def test_a_failed_run_is_reported_as_a_failure(kfp_job, kfp_client, tmp_path):
    client, state = kfp_client
    state["run_state"] = "FAILED"
    path = tmp_path / "job.json"
    path.write_text(json.dumps(kfp_job))
    result = submit.submit(client, str(path), experiment="tfslim", wait_minutes=1)
    assert (result.run_id, result.state, result.timed_out) == ("run-1", "FAILED", False)
    assert submit.failure(result) == "Run run-1 ended FAILED."


def test_a_run_that_outlives_the_wait_is_reported_as_a_timeout(kfp_job, kfp_client, tmp_path):
    client, state = kfp_client
    state["run_state"] = "RUNNING"  # never finishes
    path = tmp_path / "job.json"
    path.write_text(json.dumps(kfp_job))
    # 0.01 min = 0 whole seconds: kfp's wait gives up after its first poll (no 5 s sleeps).
    result = submit.submit(client, str(path), experiment="tfslim", wait_minutes=0.01)
    assert (result.run_id, result.state, result.timed_out) == ("run-1", "RUNNING", True)
    assert submit.failure(result) == ("Run run-1 did not finish within --wait_minutes=0.01 (last state RUNNING); "
                                      "it keeps running on the cluster.")
    # kfp polled the run, timed out, then submit read the run's state once more.
    assert [call for call in state["calls"] if call[1].startswith("/apis/v2beta1/runs/")] == [
        ("GET", "/apis/v2beta1/runs/run-1")] * 2
