"""docs/config.md is generated from the config models and must match them."""
import os

import pytest

from pipeline import config_docs
from pipeline.configs import PipelineConfig
from trainer.config import TrainConfig

DOC = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                   "docs", "config.md")


def test_docs_config_md_matches_the_models():
    with open(DOC, encoding="utf-8") as f:
        assert f.read() == config_docs.render(), f"docs/config.md is stale: run {config_docs.COMMAND}"


@pytest.mark.parametrize("prefix, model", [("", PipelineConfig), ("train.", TrainConfig)])
def test_every_key_is_listed_with_its_default(prefix, model):
    with open(DOC, encoding="utf-8") as f:
        rows = {line.split(" | ")[0].strip("| `"): line for line in f if line.startswith("| `")}
    for name, field in model.model_fields.items():
        assert f"{prefix}{name}" in rows, name
    assert "| `train.optimizer` | one of adadelta, adagrad, adam, ftrl, momentum, sgd, rmsprop | `rmsprop` |" \
        in rows["train.optimizer"]


def test_a_key_without_a_description_cannot_be_documented():
    import pydantic

    class Bare(pydantic.BaseModel):
        size: int = 3

    with pytest.raises(ValueError, match="Bare.size has no description"):
        config_docs.table("", Bare)
