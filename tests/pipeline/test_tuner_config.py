"""The run config's ``tuner:`` block: typed, round-tripped to the Tuner, and every mistake a
one-line ConfigError naming the key before any component runs (no TensorFlow needed)."""
import pytest

from pipeline import run_config
from pipeline.run_config import ConfigError
from tests.pipeline.test_run_config import _photos, _write
from trainer import search_space
from trainer.config import TrainConfig
from trainer.search_space import TunerConfig

LENET = {"model_name": "lenet", "image_channels": 1, "optimizer": "adam"}
TUNER = {"algorithm": "bayesian", "max_trials": 6, "steps_per_trial": 200,
         "search": {"train.learning_rate": {"min": 1.0e-4, "max": 1.0e-1, "sampling": "log"},
                    "train.opt_epsilon": {"choices": [1.0, "1e-8"]},
                    "train.batch_norm_decay": {"choices": [0.9, 0.99, 0.9997]},
                    "train.optimizer": {"choices": ["adam", "rmsprop"]},
                    "train.batch_size": {"min": 16, "max": 64}}}


def _load(tmp_path, tuner, overrides=()):
    path = _write(tmp_path, {"train": LENET, "tuner": tuner})
    return run_config.load(path, list(overrides), data_root=_photos(tmp_path / "data"))


def test_the_block_is_typed_and_round_trips_to_the_tuner(tmp_path):
    config = _load(tmp_path, TUNER)
    tuner = config.tuner
    assert (tuner.algorithm, tuner.max_trials, tuner.steps_per_trial) == ("bayesian", 6, 200)
    by_key = {p.key: p for p in tuner.search}
    assert by_key["train.opt_epsilon"].choices == (1.0, 1e-8)  # YAML's '1e-8' string, typed
    assert (by_key["train.learning_rate"].min, by_key["train.learning_rate"].sampling) == (1e-4, "log")
    assert by_key["train.batch_size"].min == 16 and isinstance(by_key["train.batch_size"].min, int)
    assert by_key["train.batch_size"].sampling == "linear"  # the default
    # What the Tuner gets in custom_config reads back the same.
    assert TunerConfig.from_dict(tuner.to_dict()) == tuner
    assert _load(tmp_path, None).tuner is None


def test_set_overrides_reach_the_block(tmp_path):
    config = _load(tmp_path, TUNER, ["tuner.max_trials=2", "tuner.algorithm=hyperband"])
    assert (config.tuner.max_trials, config.tuner.algorithm) == (2, "hyperband")


def test_best_values_map_back_onto_the_train_config():
    best = {"space": [], "values": {"train.opt_epsilon": 1e-8, "train.optimizer": "adam",
                                    "tuner/epochs": 3, "tuner/trial_id": "0001"}}
    tuned = search_space.tuned_values(best)
    assert tuned == {"train.opt_epsilon": 1e-8, "train.optimizer": "adam"}  # not Hyperband's own
    config = search_space.apply(TrainConfig(opt_epsilon=1.0, optimizer="rmsprop"), tuned)
    assert (config.opt_epsilon, config.optimizer) == (1e-8, "adam")
    assert search_space.tuned_values(None) == {}


def _search(key, spec):
    return {"max_trials": 2, "search": {key: spec}}


@pytest.mark.parametrize("tuner, message", [
    (_search("train.learning_rate", {"min": 0.1, "max": 1.0e-4}),
     r"^tuner.search.train.learning_rate: min 0.1 > max 0.0001; swap them$"),
    (_search("train.learning_rate", {"min": 1.0e-4, "max": 0.1, "sampling": "exponential"}),
     r"^tuner.search.train.learning_rate.sampling: 'exponential' is not one of linear, log$"),
    (_search("train.learning_rate", {"min": 0.0, "max": 0.1, "sampling": "log"}),
     r"^tuner.search.train.learning_rate: log sampling needs min > 0"),
    (_search("train.opt_epsilon", {"choices": []}), r"^tuner.search.train.opt_epsilon.choices: give a non-empty"),
    (_search("train.opt_epsilon", {"choices": [1.0, 1.0]}), "lists a value twice"),
    (_search("train.learning_rat", {"min": 0.1, "max": 1.0}),
     r"^tuner.search.train.learning_rat: no such key; did you mean train.learning_rate\?$"),
    (_search("learning_rate", {"min": 0.1, "max": 1.0}),
     r"^tuner.search.learning_rate: no such key; did you mean train.learning_rate\?$"),
    (_search("train.model_name", {"choices": ["lenet", "cifarnet"]}),
     r"^tuner.search.train.model_name: train.model_name is not a numeric or enum training option"),
    (_search("train.ignore_missing_vars", {"choices": [True, False]}), "is not a numeric or enum"),
    (_search("train.train_image_size", {"choices": [28, 32]}),
     "train.train_image_size cannot be searched .the data, the Transform graph"),
    (_search("train.optimizer", {"min": 1, "max": 2}),
     r"^tuner.search.train.optimizer: train.optimizer takes one of .*search it with choices"),
    (_search("train.optimizer", {"choices": ["adam", "adamw"]}),
     r"^tuner.search.train.optimizer.choices: 'adamw' is not one of"),
    (_search("train.batch_norm_decay", {"choices": [0.99, 1.5]}),
     r"^tuner.search.train.batch_norm_decay: 1.5 cannot be trained \(--batch_norm_decay must be in"),
    (_search("train.learning_rate", {"min": "low", "max": 0.1}),
     r"^tuner.search.train.learning_rate.min: expected a number, got 'low'$"),
    (_search("train.batch_size", {"min": 8, "max": 16.5}), r"tuner.search.train.batch_size.max: expected an integer"),
    (_search("train.learning_rate", {"max": 0.1}), r"^tuner.search.train.learning_rate: expected \{min"),
    (_search("train.learning_rate", 0.1), r"^tuner.search.train.learning_rate: expected \{choices"),
    (_search("train.opt_epsilon", {"choices": [1.0], "min": 0.0}), "choices cannot be combined with min"),
    ({"max_trials": 2}, r"^tuner.search: give at least one key to search"),
    ({"search": {}}, r"^tuner.search: give at least one key"),
    ({**_search("train.opt_epsilon", {"choices": [1.0]}), "algorithm": "grid"},
     r"^tuner.algorithm: 'grid' is not one of random, bayesian, hyperband"),
    ({**_search("train.opt_epsilon", {"choices": [1.0]}), "max_trials": 0}, r"^tuner.max_trials: must be >= 1"),
    ({**_search("train.opt_epsilon", {"choices": [1.0]}), "steps_per_trial": "many"},
     r"^tuner.steps_per_trial: expected an integer"),
    ({**_search("train.opt_epsilon", {"choices": [1.0]}), "max_trial": 3},
     r"^unknown key 'tuner.max_trial'; did you mean tuner.max_trials\?$"),
    (["train.opt_epsilon"], r"^tuner: expected a mapping"),
])
def test_bad_blocks_name_the_key(tmp_path, tuner, message):
    with pytest.raises(ConfigError, match=message) as info:
        _load(tmp_path, tuner)
    assert "\n" not in str(info.value)


def test_cli_refuses_a_bad_search_before_any_component_runs(tmp_path):
    from tests.serving.cli import run_tfslim

    path = _write(tmp_path, {"train": LENET, "tuner": _search("train.learning_rate",
                                                              {"min": 0.1, "max": 1.0e-4})})
    root = tmp_path / "root"
    result = run_tfslim("run", f"--config={path}", f"--data_dir={_photos(tmp_path / 'data')}",
                        f"--pipeline_root={root}")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == \
        "error: tuner.search.train.learning_rate: min 0.1 > max 0.0001; swap them"
    assert "Traceback" not in result.stderr
    assert not root.exists()  # no component ran
