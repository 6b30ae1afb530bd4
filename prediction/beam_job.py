"""The batch prediction as a Beam job on RunInference (``apache_beam.ml.inference``).

    listing (a text file of the files to score, written by the launcher)
      → ReadFromText → Reshuffle (spreads the files over the workers)
      → read + ingestion's checks ─ refused → error records ───────────┐
      → RunInference(ImageBytesModelHandler: the serving signature)     │
      → records ── Flatten ───────────────────────────────────────────────┘
      → progress counts → WriteToText(OUTPUT-SSSSS-of-NNNNN)

The same code runs on the DirectRunner and on any portable runner (Flink, Spark,
Dataflow Runner v2): each worker process loads the SavedModel once (``load_model``;
RunInference shares it between the process's threads) and scores batches with the same
``ImageScorer`` as the in-process path, so both write the same records. The workers must
see the input folder, the model and the output (local paths for local runners, gs:// for
Dataflow).

Costs on one machine (docs/performance.md, "Batch prediction"): a DirectRunner worker
*process* pays Beam's, TensorFlow's and the model's start-up again, so with
``--direct_running_mode=multi_processing`` each of W workers caps TensorFlow at
cores / W threads (W TensorFlow processes with a thread per core each would fight over
the cores); an in-process runner (``in_memory``, ``multi_threading``) scores with the
model the launcher already loaded (``scorer.lend``), its threads calling it at once
(TensorFlow releases the GIL). RunInference's ``share_model_across_processes`` is not
used: it serves one model from one process to the others, which on CPUs serializes
the calls that the workers are there to run side by side.
"""
from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import apache_beam as beam
from apache_beam.ml.inference.base import KeyedModelHandler, ModelHandler, PredictionResult, RunInference
from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions

from prediction import inputs, results, scorer as scorer_lib
from prediction.scorer import ImageScorer, Result
from ingestion import convert as convert_lib, progress
from schemas import fileio

SHARD_TEMPLATE = "-SSSSS-of-NNNNN"
# Output shards: one per this many files (at least one).
FILES_PER_SHARD = 100_000
_REFUSED = "refused"


class ImageBytesModelHandler(ModelHandler[bytes, Result, ImageScorer]):
    """RunInference's model: the serving SavedModel's signature on batches of encoded images.

    Holds only the model's path and settings (it is pickled to the workers); each worker
    process loads the SavedModel once (or takes the one lent by the launcher in its own
    process), with ``tf_threads`` TensorFlow threads when set. An image the signature
    refuses gives an error result, so a bad file never fails a bundle.
    """

    def __init__(self, model_dir: str, top_k: int, signature_name: str, batch_size: int,
                 tf_threads: Optional[int] = None):
        super().__init__()
        self._model_dir = model_dir
        self._top_k = top_k
        self._signature_name = signature_name
        self._batch_size = batch_size
        self._tf_threads = tf_threads

    def load_model(self) -> ImageScorer:
        return scorer_lib.load(self._model_dir, self._top_k, self._signature_name, self._tf_threads)

    def run_inference(self, batch: Sequence[bytes], model: ImageScorer,
                      inference_args: Optional[Dict[str, Any]] = None) -> Iterable[PredictionResult]:
        del inference_args
        return [PredictionResult(image, result) for image, result in zip(batch, model.score(batch))]

    def get_num_bytes(self, batch: Sequence[bytes]) -> int:
        return sum(len(image) for image in batch)

    def batch_elements_kwargs(self) -> Dict[str, int]:
        # Full batches: the signature's cost per call is amortized like the in-process path's.
        return {"min_batch_size": self._batch_size, "max_batch_size": self._batch_size}

    def get_metrics_namespace(self) -> str:
        return "tfslim_batch_predict"


class _ReadImageFn(beam.DoFn):
    """A listing line → (path, image bytes), or an error record (tagged ``refused``)."""

    def process(self, line: str) -> Iterator[Any]:
        item = inputs.InputFile(**json.loads(line))
        data, error = (b"", item.error) if item.error else inputs.read_image(item.path)
        if error:
            yield beam.pvalue.TaggedOutput(_REFUSED, results.record(item.path, {"error": error}))
        else:
            yield item.path, data


class _ProgressFn(beam.DoFn):
    """Passes records on and counts them into ``progress_dir`` (what the launcher's bar sums)."""

    def __init__(self, progress_dir: str):
        super().__init__()
        self._dir = progress_dir
        self._name = ""
        self._done = 0
        self._last = 0.0

    def setup(self) -> None:
        self._name = uuid.uuid4().hex

    def process(self, rec: Dict) -> Iterator[Dict]:
        self._done += 1
        if time.monotonic() - self._last > progress.POLL_S:
            progress.write_count(self._dir, self._name, self._done)
            self._last = time.monotonic()
        yield rec

    def finish_bundle(self) -> None:
        progress.write_count(self._dir, self._name, self._done)


def shard_paths(output: str) -> List[str]:
    """The shards a job wrote (or an earlier one left) for ``output``, sorted."""
    return sorted(fileio.glob(output + "-" + "[0-9]" * 5 + "-of-" + "[0-9]" * 5))


def tf_threads_per_worker(options: PipelineOptions, cores: Optional[int] = None) -> Optional[int]:
    """TensorFlow threads for each worker process of the DirectRunner's multi_processing mode
    (cores / workers, at least 1); None (TensorFlow's default) for in-process modes and
    other runners, whose workers' share of a machine is not known here."""
    runner = options.view_as(StandardOptions).runner
    direct = options.view_as(DirectOptions)
    if (runner not in (None, "DirectRunner", "direct", "BundleBasedDirectRunner")
            or direct.direct_running_mode != "multi_processing"):
        return None
    cores = cores or os.cpu_count() or 1
    return max(1, cores // (direct.direct_num_workers or cores))


def _write_listing(files: Sequence[inputs.InputFile], path: str) -> None:
    with fileio.open_file(path, "w") as f:
        for item in files:
            f.write(json.dumps({"path": item.path, "error": item.error}) + "\n")


def run(files: Sequence[inputs.InputFile], model_dir: str, output: str, top_k: int, batch_size: int,
        signature_name: str, beam_args: Optional[Sequence[str]], threshold: int,
        num_shards: Optional[int] = None, show_progress: bool = True,
        make_pipeline: Optional[Callable[[], beam.Pipeline]] = None,
        scorer: Optional[ImageScorer] = None) -> Tuple[Dict[str, int], List[str]]:
    """Runs the job (``beam_args`` as `tfslim convert` passes them); returns the counts
    ({"files", "errors"}, read back from the shards) and the shard paths.

    ``make_pipeline`` replaces the pipeline built from ``beam_args`` (the BatchPredict
    component passes its executor's, with the TFX pipeline's Beam args). ``scorer``: the
    model already loaded in this process (``model_dir``'s, ``signature_name``), lent to
    workers that run in this process."""
    csv_output = results.is_csv(output)
    num_shards = num_shards or max(1, -(-len(files) // FILES_PER_SHARD))
    out_dir = os.path.dirname(output) or "."
    run_dir = f"{out_dir.rstrip('/')}/.{os.path.basename(output)}-run-{uuid.uuid4().hex[:8]}"
    listing, progress_dir = f"{run_dir}/inputs.jsonl", f"{run_dir}/progress"
    fileio.makedirs(progress_dir)
    try:
        for stale in shard_paths(output):  # an earlier run's shards, maybe another count
            fileio.remove(stale)
        _write_listing(files, listing)
        if make_pipeline is None:
            options = convert_lib.beam_options(beam_args, len(files), threshold)
            make_pipeline = lambda: beam.Pipeline(options=options)  # noqa: E731
        lent = scorer_lib.lend(scorer, signature_name) if scorer else contextlib.nullcontext()
        with progress.ProgressMonitor(progress_dir, len(files), enabled=show_progress, description="predict"), \
                lent, make_pipeline() as pipeline:
            handler = KeyedModelHandler(ImageBytesModelHandler(
                model_dir, top_k, signature_name, batch_size, tf_threads_per_worker(pipeline.options)))
            read = (pipeline
                    | "ListFiles" >> beam.io.ReadFromText(listing)
                    | "Spread" >> beam.Reshuffle()
                    | "Read" >> beam.ParDo(_ReadImageFn()).with_outputs(_REFUSED, main="images"))
            scored = (read.images
                      | "Score" >> RunInference(handler)
                      | "Record" >> beam.MapTuple(lambda path, result: results.record(path, result.inference)))
            _ = ((scored, read[_REFUSED])
                 | "All" >> beam.Flatten()
                 | "Progress" >> beam.ParDo(_ProgressFn(progress_dir))
                 | "Format" >> beam.Map(results.format_line, csv_output, top_k)
                 | "Write" >> beam.io.WriteToText(
                     output, num_shards=num_shards, shard_name_template=SHARD_TEMPLATE,
                     header=results.csv_header(top_k) if csv_output else None))
    finally:
        fileio.rmtree(run_dir)
    paths = shard_paths(output)
    return results.count_records(paths, csv_output), paths
