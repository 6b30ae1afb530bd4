"""The batch prediction in this process, without Beam: batches of files, scored side by side.

``SCORING_THREADS`` threads each take a batch, read and check its files
(``inputs.read_image``) and call the serving signature on it; TensorFlow releases the
GIL, so one thread's file reads, ingestion's checks and result formatting run while the
other's batch is in the model, and two calls at once can use cores that one call of a
small net leaves idle. Records come out in file order. A tqdm bar shows images/s.
"""
from __future__ import annotations

import collections
import concurrent.futures
import sys
from typing import Deque, Dict, Iterator, List, Sequence, Tuple

from tqdm import tqdm

from prediction import inputs, results
from prediction.scorer import ImageScorer
from schemas import fileio

# (path, bytes to score, why the file is not scored: '' when it is)
_Read = Tuple[str, bytes, str]


# Batches scored at once. Two: one call of lenet or mobilenet_v1_025 on 64 images kept about
# one core busy on the 2-core machine of docs/performance.md (a shared one: the bench there
# shows no gain, nor a loss); more threads would mostly hold more batches in memory.
SCORING_THREADS = 2


def _read(batch: Sequence[inputs.InputFile]) -> List[_Read]:
    out = []
    for item in batch:
        data, error = (b"", item.error) if item.error else inputs.read_image(item.path)
        out.append((item.path, data, error))
    return out


def _score_batch(batch: Sequence[inputs.InputFile], scorer: ImageScorer) -> List[Dict]:
    """The records of one batch of files, in order (refused files get their reason)."""
    read = _read(batch)
    readable = [data for _, data, error in read if not error]
    scored = iter(scorer.score(readable))
    return [results.record(path, {"error": error} if error else next(scored)) for path, _, error in read]


def score_files(files: Sequence[inputs.InputFile], scorer: ImageScorer, batch_size: int,
                threads: int = SCORING_THREADS) -> Iterator[Dict]:
    """One output record per file, in order; ``threads`` batches are read and scored at once
    (at most one more waits, so memory holds ``threads + 1`` batches). The first batch is
    scored alone: the signature's first call sets up its kernels, and two first calls at
    once would both pay for that."""
    with concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix="score") as pool:
        pending: Deque[concurrent.futures.Future] = collections.deque()
        for start in range(0, len(files), batch_size):
            pending.append(pool.submit(_score_batch, files[start:start + batch_size], scorer))
            if len(pending) > (threads if start else 0):
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()


def run(files: Sequence[inputs.InputFile], scorer: ImageScorer, output: str, top_k: int,
        batch_size: int, progress: bool = True) -> Dict[str, int]:
    """Scores ``files`` into ``output`` (JSON lines, or CSV for a .csv name; written under a
    temporary name, renamed when whole); returns {"files": n, "errors": n}."""
    csv_output = results.is_csv(output)
    counts = {"files": 0, "errors": 0}
    temp = output + ".incomplete"
    with fileio.open_file(temp, "w") as out, \
            tqdm(total=len(files), unit="img", desc="predict", file=sys.stderr, disable=not progress,
                 dynamic_ncols=True, mininterval=0.5) as bar:
        if csv_output:
            out.write(results.csv_header(top_k) + "\n")
        for rec in score_files(files, scorer, batch_size):
            out.write(results.format_line(rec, csv_output, top_k) + "\n")
            counts["files"] += 1
            counts["errors"] += int("error" in rec)
            bar.update(1)
    fileio.replace(temp, output)
    return counts
