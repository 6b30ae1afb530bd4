"""The batch prediction in this process, without Beam: batches of files, read ahead.

A thread reads and checks the next batch's files (``inputs.read_image``) while the
serving signature scores the current one (TensorFlow releases the GIL), so file I/O
and ingestion's checks hide behind the model. A tqdm bar shows images/s.
"""
from __future__ import annotations

import concurrent.futures
import sys
from typing import Dict, Iterator, List, Sequence, Tuple

from tqdm import tqdm

from prediction import inputs, results
from prediction.scorer import ImageScorer
from schemas import fileio

# (path, bytes to score, why the file is not scored: '' when it is)
_Read = Tuple[str, bytes, str]


def _read(batch: Sequence[inputs.InputFile]) -> List[_Read]:
    out = []
    for item in batch:
        data, error = (b"", item.error) if item.error else inputs.read_image(item.path)
        out.append((item.path, data, error))
    return out


def score_files(files: Sequence[inputs.InputFile], scorer: ImageScorer,
                batch_size: int) -> Iterator[Dict]:
    """One output record per file, in order; the next batch is read while one is scored."""
    batches = [files[i:i + batch_size] for i in range(0, len(files), batch_size)]
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="read-ahead") as pool:
        pending = pool.submit(_read, batches[0]) if batches else None
        for index in range(len(batches)):
            batch = pending.result()
            pending = pool.submit(_read, batches[index + 1]) if index + 1 < len(batches) else None
            readable = [(path, data) for path, data, error in batch if not error]
            scored = dict(zip((path for path, _ in readable), scorer.score([d for _, d in readable])))
            for path, _, error in batch:
                yield results.record(path, {"error": error} if error else scored[path])


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
