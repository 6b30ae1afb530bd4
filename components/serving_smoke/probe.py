"""The serving smoke test proper; runs in a fresh process (``python -m components.serving_smoke.probe``).

A fresh interpreter proves the SavedModel loads on its own (no state borrowed from
the Trainer process, no Python objects the graph secretly depends on), like a model
server loading it. The probe then sends held-out examples as real requests:

1. REST: the JSON body ``tfslim predict --server`` sends (``{"b64": ...}`` instances),
   decoded as TF Serving decodes it, into ``serving_default``;
2. gRPC: the client's ``PredictRequest``, serialized and parsed, into ``serving_default``;
3. tf.Example: the serialized examples into ``serving_examples`` (and ``eval_examples``,
   what the Evaluator runs, must agree with it);

A held-out record whose image cannot be decoded (kept by ingestion's structural checks,
refused by TF's decoder) is left out of the requests and counted (``skipped_undecodable``),
as the Evaluator gives it weight 0: the model's own ``eval_decodable`` says which.
The probe then checks every answer (shapes, probability sums, labels, top-k), that the
three paths agree, that a corrupt image is refused with INVALID_ARGUMENT and the next request is
still answered, and batch-1 latency; writes a JSON report (``blessed`` + problems).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any, Dict, List, Sequence, Tuple

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from components.serving_smoke import checks, emulation  # noqa: E402
from schemas import features, layout  # noqa: E402
from serving import client as serving_client  # noqa: E402
from trainer.export import saved_model as export  # noqa: E402
from serving import signatures

CORRUPT_IMAGE = b"this is not an image"


def read_examples(file_patterns: Sequence[str], limit: int) -> Tuple[List[bytes], List[bytes], List[int]]:
    """(serialized examples, image bytes, labels) of the first ``limit`` records."""
    files = [f for p in file_patterns for f in layout.glob_records(p)]
    if not files:
        raise FileNotFoundError(f"no example files match {list(file_patterns)}")
    compression = layout.compression_of(files)
    serialized, images, labels = [], [], []
    for record in tf.data.TFRecordDataset(files, compression_type=compression).take(limit):
        parsed = tf.io.parse_single_example(record, features.train_feature_spec())
        serialized.append(record.numpy())
        images.append(parsed[features.ENCODED].numpy())
        labels.append(int(parsed[features.LABEL].numpy()))
    if not serialized:
        raise ValueError(f"no examples in {files}")
    return serialized, images, labels


def decodable_only(loaded, serialized: List[bytes], images: List[bytes], labels: List[int]
                   ) -> Tuple[List[bytes], List[bytes], List[int], int]:
    """The records whose image the model's ``eval_decodable`` signature can decode, and how
    many were left out (none are screened for a model exported without it)."""
    if signatures.EVAL_DECODABLE not in loaded.signatures:
        return serialized, images, labels, 0
    keep = loaded.signatures[signatures.EVAL_DECODABLE](
        **{signatures.EXAMPLES_INPUT: tf.constant(serialized)})[signatures.DECODABLE].numpy() > 0
    kept = [i for i, ok in enumerate(keep) if ok]
    return ([serialized[i] for i in kept], [images[i] for i in kept], [labels[i] for i in kept],
            len(serialized) - len(kept))


def _signature_problems(loaded) -> List[str]:
    problems = []
    for name, input_name in ((signatures.SERVING_DEFAULT, signatures.IMAGE_INPUT),
                             (signatures.SERVING_EXAMPLES, signatures.EXAMPLES_INPUT)):
        if name not in loaded.signatures:
            problems.append(f"signature {name!r} missing (have {sorted(loaded.signatures)})")
            continue
        specs = emulation.signature_inputs(loaded.signatures[name])
        spec = specs.get(input_name)
        if list(specs) != [input_name] or spec.dtype != tf.string or spec.shape.rank != 1:
            problems.append(f"{name}: expected one string[batch] input {input_name!r}, got {specs}")
    return problems


def via_rest(fn, images: Sequence[bytes]) -> Tuple[int, Dict[str, Any]]:
    """The REST client's body, through JSON text, decoded as TF Serving does."""
    body = json.loads(json.dumps(serving_client.rest_predict_body(images)))
    status, answer = emulation.call_rest(fn, body)
    return status, json.loads(json.dumps(answer))


def via_grpc(fn, images: Sequence[bytes], model_name: str) -> Dict[str, np.ndarray]:
    """The gRPC client's PredictRequest, through its wire format, into the signature."""
    from tensorflow_serving.apis import predict_pb2  # pylint: disable=import-outside-toplevel

    request = predict_pb2.PredictRequest.FromString(
        serving_client.grpc_predict_request(model_name, images).SerializeToString())
    outputs = fn(**emulation.inputs_from_predict_request(request, emulation.signature_inputs(fn)))
    response = predict_pb2.PredictResponse.FromString(
        emulation.predict_response(outputs, request.model_spec).SerializeToString())
    return serving_client.parse_grpc_response(response)


def probe(model_dir: str, example_patterns: Sequence[str], num_examples: int = 16,
          latency_requests: int = 20, max_latency_ms: float = 1000.0,
          model_name: str = "model") -> Dict[str, Any]:
    """Runs every check; returns the report (``blessed`` is True only without problems)."""
    report: Dict[str, Any] = {"model_dir": model_dir, "problems": []}
    problems: List[str] = report["problems"]
    start = time.perf_counter()
    loaded = tf.saved_model.load(model_dir)
    report["load_secs"] = round(time.perf_counter() - start, 3)
    problems += _signature_problems(loaded)
    if problems:
        report["blessed"] = False
        return report
    class_names = export.read_class_names(model_dir)
    serialized, images, labels, skipped = decodable_only(loaded, *read_examples(example_patterns, num_examples))
    n, top_k = len(images), min(5, len(class_names))
    report.update(num_examples=n, num_classes=len(class_names), skipped_undecodable=skipped)
    if not n:
        problems.append(f"none of the {skipped} held-out images read could be decoded")
        report["blessed"] = False
        return report
    serving_default = loaded.signatures[signatures.SERVING_DEFAULT]

    status, answer = via_rest(serving_default, images)
    if status != 200:
        problems.append(f"REST serving_default answered HTTP {status}: {answer.get('error')}")
        report["blessed"] = False
        return report
    rest = serving_client.parse_rest_response(answer)
    problems += checks.check_outputs(rest, n, class_names, top_k, "REST serving_default")
    grpc_out = via_grpc(serving_default, images, model_name)
    problems += checks.check_outputs(grpc_out, n, class_names, top_k, "gRPC serving_default")
    problems += checks.check_agreement(rest, grpc_out, "REST vs gRPC", atol=1e-6)
    by_example = {k: v.numpy() for k, v in loaded.signatures[signatures.SERVING_EXAMPLES](
        **{signatures.EXAMPLES_INPUT: tf.constant(serialized)}).items()}
    problems += checks.check_outputs(by_example, n, class_names, top_k, "serving_examples")
    problems += checks.check_agreement(rest, by_example, "serving_default vs serving_examples")
    if signatures.EVAL_EXAMPLES in loaded.signatures:
        by_eval = {k: v.numpy() for k, v in loaded.signatures[signatures.EVAL_EXAMPLES](
            **{signatures.EXAMPLES_INPUT: tf.constant(serialized)}).items()}
        problems += checks.check_agreement(by_example, by_eval, "serving_examples vs eval_examples")
    report["sample_top1"] = float(np.mean(np.asarray(rest["classes"]) == np.asarray(labels)))

    # A corrupt image must be refused (HTTP 400 / INVALID_ARGUMENT) without hurting the next request.
    status, answer = via_rest(serving_default, [CORRUPT_IMAGE])
    report["bad_input_answer"] = [status, str(answer.get("error", ""))[:300]]
    if status != 400 or "not a JPEG/PNG/GIF/BMP image" not in str(answer.get("error", "")):
        problems.append(f"corrupt image bytes: expected HTTP 400 naming the problem, got {status}: "
                        f"{str(answer)[:200]}")
    status, _ = via_rest(serving_default, images[:1])
    if status != 200:
        problems.append(f"the request after a corrupt one failed with HTTP {status}")

    durations = []
    for i in range(max(1, latency_requests)):
        t = time.perf_counter()
        via_rest(serving_default, [images[i % n]])
        durations.append(time.perf_counter() - t)
    p50, p99 = checks.percentile_ms(durations, 50), checks.percentile_ms(durations, 99)
    report["latency_ms"] = {"batch": 1, "requests": len(durations), "p50": round(p50, 3),
                            "p99": round(p99, 3)}
    if p99 > max_latency_ms:
        problems.append(f"batch-1 p99 latency {p99:.1f} ms > {max_latency_ms} ms")
    report["blessed"] = not problems
    return report


def main(argv: Sequence[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model_dir", required=True, help="SavedModel directory")
    parser.add_argument("--examples", required=True, action="append", help="TFRecord glob (repeatable)")
    parser.add_argument("--report", required=True, help="where the JSON report goes")
    parser.add_argument("--num_examples", type=int, default=16)
    parser.add_argument("--latency_requests", type=int, default=20)
    parser.add_argument("--max_latency_ms", type=float, default=1000.0)
    parser.add_argument("--model_name", default="model")
    args = parser.parse_args(argv)
    try:
        report = probe(args.model_dir, args.examples, args.num_examples, args.latency_requests,
                       args.max_latency_ms, args.model_name)
    except Exception as err:  # pylint: disable=broad-except  # any failure is a reported non-blessing
        report = {"model_dir": args.model_dir, "blessed": False,
                  "problems": [f"probe crashed: {type(err).__name__}: {err}"]}
    with tf.io.gfile.GFile(args.report, "w") as f:
        json.dump(report, f, indent=2)
    return 0 if report["blessed"] else 1


if __name__ == "__main__":
    sys.exit(main())
