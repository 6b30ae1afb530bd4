"""The report's hyperparameter-search section: the Tuner's trials as rows, and the winner.

``record`` is the Tuner's trials.json (components/tuning/executor.py):
``{"objective", "best_trial", "trials": [{trial_id, values, objective, steps, status}]}``.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple


def best_trial(record: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The winning trial's row (None without a search or a finished trial)."""
    return next((t for t in record.get("trials", []) if t["trial_id"] == record.get("best_trial")), None)


def keys(record: Dict[str, Any]) -> List[str]:
    """The searched keys, in the order the trials first name them."""
    out: List[str] = []
    for trial in record.get("trials", []):
        out.extend(k for k in trial["values"] if k not in out)
    return out


def value_text(value: Any) -> str:
    """A searched value as a person reads it (1e-08, not 0.000)."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def rows(record: Dict[str, Any]) -> Tuple[Sequence[str], List[Sequence[str]]]:
    """(headers, rows): trial, one column per searched key, objective, steps, status."""
    names = keys(record)
    headers = ["trial", *names, f"objective ({record.get('objective', 'score')})", "steps", "status"]
    table = []
    for trial in record.get("trials", []):
        score = trial.get("objective")
        won = trial["trial_id"] == record.get("best_trial")
        table.append([trial["trial_id"] + (" (best)" if won else ""),
                      *(value_text(trial["values"][k]) if k in trial["values"] else "" for k in names),
                      f"{score:.4f}" if isinstance(score, (int, float)) else "n/a",
                      str(trial.get("steps") if trial.get("steps") is not None else "n/a"),
                      str(trial.get("status", ""))])
    return headers, table


def verdict(record: Dict[str, Any]) -> str:
    """One sentence: which trial won with which values (what the Trainer trained with)."""
    best = best_trial(record)
    if best is None:
        return "No trial finished."
    values = ", ".join(f"{k} = {value_text(v)}" for k, v in best["values"].items())
    return (f"Trial {best['trial_id']} won with {values} ({record.get('objective', 'score')} "
            f"{best['objective']:.4f} after {best.get('steps')} steps); the Trainer trained with "
            f"these values.")
