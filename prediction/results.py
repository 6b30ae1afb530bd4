"""What a batch prediction writes: one line per file, as JSON lines or CSV, and the summary.

JSON lines (any --output not ending in .csv)::

    {"path": "photos/a.jpg", "labels": ["tulips", "roses", ...], "scores": [0.93, 0.04, ...]}
    {"path": "photos/notes.txt", "error": "not an image: no known image signature"}

CSV (--output ending in .csv): a header, then one row per file with the same fields:
``path,error,label_1,score_1,...,label_k,score_k`` (``error`` empty for a labelled file).
"""
from __future__ import annotations

import csv
import io
import json
from typing import Dict, Iterable, List, Mapping

from schemas import fileio

CSV_SUFFIX = ".csv"


def is_csv(output: str) -> bool:
    return output.lower().endswith(CSV_SUFFIX)


def record(path: str, result: Mapping) -> Dict:
    """The output record of one file: ``path`` first, then the labels and scores or the error."""
    return {"path": path, **result}


def csv_header(top_k: int) -> str:
    columns = ["path", "error"] + [f"{name}_{rank}" for rank in range(1, top_k + 1)
                                   for name in ("label", "score")]
    return _csv_row(columns)


def _csv_row(values: List) -> str:
    """One CSV row without its line end. (The writer keeps its default line end: with
    none, it would not quote a file name holding a newline.)"""
    out = io.StringIO()
    csv.writer(out).writerow(values)
    return out.getvalue()[:-2]


def format_line(rec: Mapping, csv_output: bool, top_k: int) -> str:
    """One output line (no newline) for ``record``: JSON, or a CSV row of ``top_k`` pairs."""
    if not csv_output:
        # ASCII escapes keep any file name (even one that is not UTF-8) one valid JSON line.
        return json.dumps(rec)
    pairs = list(zip(rec.get("labels", []), rec.get("scores", [])))
    pairs += [("", "")] * (top_k - len(pairs))
    return _csv_row([_printable(rec["path"]), rec.get("error", "")]
                    + [v for pair in pairs[:top_k] for v in pair])


def _printable(path: str) -> str:
    """A file name that is not UTF-8 (undecodable bytes as \\xNN), so the row can be written."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def count_records(paths: Iterable[str], csv_output: bool) -> Dict[str, int]:
    """{"files": records, "errors": error records} of written output files (a CSV
    file's first row is its header)."""
    counts = {"files": 0, "errors": 0}
    for path in paths:
        with fileio.open_file(path) as f:
            if csv_output:
                errors = [row[1] != "" for row in list(csv.reader(f))[1:] if row]
            else:
                errors = ["error" in json.loads(line) for line in f if line.strip()]
        counts["files"] += len(errors)
        counts["errors"] += sum(errors)
    return counts


def summary_line(counts: Mapping[str, int], seconds: float, startup_seconds: float, where: str) -> str:
    """The line printed at the end: files, labelled, errors, images/s after the start-up
    (listing the folder, loading the model), where the output is."""
    labelled = counts["files"] - counts["errors"]
    scoring = seconds - startup_seconds
    rate = counts["files"] / scoring if scoring > 0 else 0.0
    return (f"tfslim predict: {counts['files']} files, {labelled} labelled, {counts['errors']} errors "
            f"(error lines in the output); {rate:.1f} files/s, {seconds:.1f}s in all "
            f"({startup_seconds:.1f}s start-up); wrote {where}")
