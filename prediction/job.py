"""`tfslim predict --input_dir` as a library: score every file under a folder, in this
process or as a Beam job.

Without Beam flags a folder of fewer than ``BEAM_FILES`` files (``max_in_process_files``)
is scored in this process (``local``: no `import apache_beam`, one output file); any Beam flag
(--runner, --direct_num_workers, --direct_running_mode, portable runner flags ...) or a
larger folder runs the Beam job (``beam_job``: sharded output ``OUTPUT-00000-of-0000N``;
without --runner, the DirectRunner with a worker process per core). Both score with the
same ``ImageScorer`` and write the same records (``results``).
"""
from __future__ import annotations

import dataclasses
import os
import time
from typing import Any, Dict, Optional, Sequence

from prediction import inputs, local
from prediction.scorer import ImageScorer
from ingestion import convert as convert_lib
from schemas import fileio
from serving.signatures import SERVING_DEFAULT

# From this many files on, without Beam flags, the job runs on Beam's DirectRunner with a
# worker process per core (docs/batch-prediction.md has the measurements behind it).
BEAM_FILES = 100_000
DEFAULT_BATCH_SIZE = 64


@dataclasses.dataclass(frozen=True)
class PredictRequest:
    """The flags of `tfslim predict --input_dir`."""
    input_dir: str
    output: str
    model_dir: str
    top_k: int = 5
    batch_size: int = DEFAULT_BATCH_SIZE
    signature_name: str = SERVING_DEFAULT
    num_shards: Optional[int] = None  # Beam only; default one per beam_job.FILES_PER_SHARD files
    progress: bool = True
    allow_outside_links: bool = False
    # Without Beam flags, a folder with at least this many files runs as a Beam job.
    max_in_process_files: int = BEAM_FILES


def check(request: PredictRequest) -> None:
    """Raises ValueError naming the flag for a request that cannot run."""
    if request.top_k < 1:
        raise ValueError("--top_k must be >= 1")
    if request.batch_size < 1:
        raise ValueError("--batch_size must be >= 1")
    if request.max_in_process_files < 1:
        raise ValueError("--max_in_process_files must be >= 1")
    if request.num_shards is not None and request.num_shards < 1:
        raise ValueError("--num_shards must be >= 1")
    if request.output.rstrip("/") != request.output or not request.output:
        raise ValueError(f"--output {request.output!r} must name a file (e.g. predictions.jsonl)")


def predict_folder(request: PredictRequest, beam_args: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    """Runs the job; returns {"files", "errors", "seconds", "outputs": [paths], "beam": bool,
    "startup_seconds": listing + model load}.

    Raises FileNotFoundError / KeyError / ValueError (one line each) for a missing folder or
    model, a missing signature, or a video model, before anything is written.
    """
    check(request)
    started = time.monotonic()
    fileio.makedirs(os.path.dirname(request.output) or ".")
    files = list(inputs.list_inputs(request.input_dir, request.allow_outside_links))
    # Loaded here on both paths: a wrong model fails in one line before any Beam worker starts.
    scorer = ImageScorer(request.model_dir, request.top_k, request.signature_name)
    threshold = request.max_in_process_files
    use_beam = convert_lib.uses_beam(beam_args, len(files), threshold)
    startup = time.monotonic() - started
    if use_beam:
        from prediction import beam_job  # pylint: disable=import-outside-toplevel
        counts, outputs = beam_job.run(files, scorer.model_dir, request.output, request.top_k,
                                       request.batch_size, request.signature_name, beam_args, threshold,
                                       request.num_shards, request.progress, scorer=scorer)
    else:
        counts = local.run(files, scorer, request.output, request.top_k, request.batch_size,
                           request.progress)
        outputs = [request.output]
    return {**counts, "seconds": time.monotonic() - started, "startup_seconds": startup,
            "outputs": outputs, "beam": use_beam}
