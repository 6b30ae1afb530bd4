"""docs/training.md's Vertex Trainer snippet runs against the real pipeline's components."""
import json
import os
import re

from tfx import v1 as tfx

from pipeline import run_config
from pipeline.pipeline import create_pipeline
from trainer.config import TrainConfig

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "..", "docs", "training.md")


def _vertex_snippet() -> str:
    text = open(DOC, encoding="utf-8").read()
    section = text.split("### Vertex AI", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_vertex_trainer_snippet_builds_on_the_pipeline(tmp_path):
    config = run_config.load("smoke", check_net=False, data_root=str(tmp_path / "data"),
                            pipeline_root="gs://BUCKET/root", serving_dir="gs://BUCKET/serving")
    by_id = {c.id: c for c in create_pipeline(config).components}
    namespace = {"tfx": tfx, "config": config, "example_gen": by_id["ImageExampleGen"],
                 "schema_gen": by_id["ImportSchemaGen"], "transform": by_id["Transform"]}
    # Compiles and constructs the documented component; a missing output channel
    # (transformed_examples under materialize=False) is a KeyError here.
    exec(compile(_vertex_snippet(), DOC, "exec"), namespace)  # pylint: disable=exec-used
    trainer = namespace["trainer"]
    ours = by_id["Trainer"]
    assert type(trainer).__module__.startswith("tfx.extensions.google_cloud_ai_platform")
    # The same inputs as the pipeline's own Trainer.
    for key in ("examples", "transform_graph", "schema"):
        assert trainer.inputs[key] is ours.inputs[key], key
    assert trainer.exec_properties["run_fn"] == ours.exec_properties["run_fn"]
    custom = json.loads(trainer.exec_properties["custom_config"])
    assert TrainConfig.from_dict(custom["train_config"]).strategy == "multi_worker"
    assert custom["ai_platform_enable_vertex"] is True
