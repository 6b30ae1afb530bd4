"""ServingSmokeTest: the probe's checks, and the executor's fresh-process run and blessing."""
import json
import os

import tensorflow as tf
from tfx.types import standard_artifacts

from components.serving_smoke import executor as smoke_executor
from components.serving_smoke import probe
from tests.pipeline import helpers
from tests.serving.fixtures import CLASS_NAMES
from trainer.export import saved_model as export
from trainer import nets
from serving import signatures


class _LogitsAsScores(export.ServingModule):
    """A plausible bug: 'scores' that are logits, not probabilities."""

    def _outputs(self, images):
        outputs = super()._outputs(images)
        logits, _ = self.net(images, training=False)
        outputs["scores"] = logits
        return outputs


def _eval_pattern(examples_uri):
    return [os.path.join(examples_uri, "Split-eval", "*")]


def test_probe_blesses_a_good_model(lenet_model_dir, examples_uri):
    report = probe.probe(lenet_model_dir, _eval_pattern(examples_uri), num_examples=8, latency_requests=5)
    assert report["problems"] == [] and report["blessed"] is True
    assert report["num_examples"] == 8 and report["num_classes"] == 10
    assert report["bad_input_answer"][0] == 400
    assert report["latency_ms"]["requests"] == 5 and report["latency_ms"]["p99"] > 0


def test_probe_leaves_out_and_counts_an_undecodable_record(lenet_model_dir, tmp_path):
    """A held-out record TF cannot decode must not fail the REST/gRPC requests (and so the
    push): the probe skips it, as the Evaluator does, and counts it."""
    examples = helpers.write_examples_artifact(str(tmp_path / "examples"), train=1, eval_=6)
    helpers.add_undecodable_eval_record(examples, position=2)
    report = probe.probe(lenet_model_dir, _eval_pattern(examples), num_examples=7, latency_requests=2)
    assert report["problems"] == [] and report["blessed"] is True
    assert report["num_examples"] == 6 and report["skipped_undecodable"] == 1


def test_probe_rejects_scores_that_are_not_probabilities(tmp_path, examples_uri):
    net = nets.create_model("lenet", num_classes=10)
    net.ensure_built(28, 1)
    module = _LogitsAsScores(net, helpers.LENET_GRAY, CLASS_NAMES)
    path = str(tmp_path / "bad")
    tf.saved_model.save(module, path, signatures={
        signatures.SERVING_DEFAULT: module.serve_images.get_concrete_function(),
        signatures.SERVING_EXAMPLES: module.serve_examples.get_concrete_function()})
    os.makedirs(os.path.join(path, "assets.extra"))
    with open(os.path.join(path, "assets.extra", signatures.LABELS_ASSET), "w") as f:
        f.write("".join(f"{i}:{n}\n" for i, n in enumerate(CLASS_NAMES)))
    report = probe.probe(path, _eval_pattern(examples_uri), num_examples=4, latency_requests=1)
    assert report["blessed"] is False
    assert any("scores are not probabilities" in p for p in report["problems"]), report["problems"]


def test_probe_reports_a_model_that_does_not_load(tmp_path, examples_uri):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "saved_model.pb").write_bytes(b"not a protobuf")
    report_path = str(tmp_path / "report.json")
    assert probe.main(["--model_dir", str(broken), "--examples", _eval_pattern(examples_uri)[0],
                       "--report", report_path]) == 1
    report = json.load(open(report_path))
    assert report["blessed"] is False and report["problems"][0].startswith("probe crashed")


def test_executor_runs_probe_in_fresh_process_and_marks_infra_blessing(tmp_path, lenet_model_dir,
                                                                         examples_uri):
    model = standard_artifacts.Model()
    model.uri = str(tmp_path / "model")
    tf.io.gfile.makedirs(model.uri)
    os.symlink(lenet_model_dir, os.path.join(model.uri, "Format-Serving"))
    examples = standard_artifacts.Examples()
    examples.uri = examples_uri
    examples.split_names = '["train", "eval"]'
    blessing = standard_artifacts.InfraBlessing()
    blessing.uri = str(tmp_path / "blessing")
    params = {"split": "eval", "num_examples": 6, "latency_requests": 3, "max_latency_ms": 5000.0,
              "timeout_secs": 300, "model_name": "lenet"}
    smoke_executor.Executor().Do({"model": [model], "examples": [examples]}, {"blessing": [blessing]}, params)
    report = json.load(open(os.path.join(blessing.uri, smoke_executor.REPORT_FILE)))
    assert report["blessed"] is True, report
    assert blessing.get_int_custom_property("blessed") == 1
    assert os.path.exists(os.path.join(blessing.uri, smoke_executor.BLESSED_FILE))
    assert blessing.get_float_custom_property("latency_p99_ms") > 0
    # It really was another process: the command line is the probe module's.
    assert smoke_executor.probe_command("m", ["e"], "r", params)[1:3] == ["-m", "components.serving_smoke.probe"]


def test_latency_budget_is_enforced(lenet_model_dir, examples_uri):
    report = probe.probe(lenet_model_dir, _eval_pattern(examples_uri), num_examples=2,
                         latency_requests=2, max_latency_ms=0.0001)
    assert not report["blessed"] and any("p99 latency" in p for p in report["problems"])
