"""The report's hyperparameter-search section from a trials.json (no TensorFlow)."""
from report import tuning

RECORD = {"objective": "eval_accuracy", "best_trial": "1", "trials": [
    {"trial_id": "0", "status": "COMPLETED", "values": {"train.opt_epsilon": 1.0, "train.optimizer": "adam"},
     "objective": 0.18333, "steps": 60},
    {"trial_id": "1", "status": "COMPLETED", "values": {"train.opt_epsilon": 1e-8, "train.optimizer": "sgd"},
     "objective": 0.91667, "steps": 60},
    {"trial_id": "2", "status": "FAILED", "values": {"train.opt_epsilon": 1e-8}, "objective": None,
     "steps": None},
]}


def test_rows_show_values_objective_steps_and_the_winner():
    headers, rows = tuning.rows(RECORD)
    assert headers == ["trial", "train.opt_epsilon", "train.optimizer", "objective (eval_accuracy)",
                       "steps", "status"]
    assert rows[0] == ["0", "1", "adam", "0.1833", "60", "COMPLETED"]
    assert rows[1] == ["1 (best)", "1e-08", "sgd", "0.9167", "60", "COMPLETED"]  # 1e-08, not 0.000
    assert rows[2] == ["2", "1e-08", "", "n/a", "n/a", "FAILED"]


def test_verdict_names_the_winning_values():
    assert tuning.best_trial(RECORD)["trial_id"] == "1"
    assert tuning.verdict(RECORD) == ("Trial 1 won with train.opt_epsilon = 1e-08, train.optimizer = sgd "
                                      "(eval_accuracy 0.9167 after 60 steps); the Trainer trained with "
                                      "these values.")
    assert tuning.verdict({**RECORD, "best_trial": None}) == "No trial finished."
    assert tuning.best_trial({}) is None
