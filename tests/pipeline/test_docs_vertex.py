"""docs/training.md's Vertex Trainer snippet runs against the real pipeline and compiles."""
import json
import os
import re

from tfx import v1 as tfx

from pipeline import configs
from pipeline.pipeline import create_pipeline
from trainer.config import TrainConfig

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "training.md")


def _vertex_snippet() -> str:
    text = open(DOC, encoding="utf-8").read()
    section = text.split("### Vertex AI", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_vertex_trainer_snippet_compiles_into_the_pipeline(tmp_path):
    config = configs.preset("smoke", data_root=str(tmp_path / "data"),
                            pipeline_root="gs://BUCKET/root", serving_dir="gs://BUCKET/serving")
    pipeline = create_pipeline(config)
    by_id = {c.id: c for c in pipeline.components}
    namespace = {"tfx": tfx, "config": config, "example_gen": by_id["ImageExampleGen"],
                 "schema_gen": by_id["ImportSchemaGen"], "transform": by_id["Transform"]}
    exec(compile(_vertex_snippet(), DOC, "exec"), namespace)  # pylint: disable=exec-used
    trainer = namespace["trainer"]
    # The same inputs as the pipeline's own Trainer (raw examples + transform graph).
    assert trainer.inputs["examples"] is by_id["ImageExampleGen"].outputs["examples"]
    assert trainer.inputs["transform_graph"] is by_id["Transform"].outputs["transform_graph"]
    custom = json.loads(trainer.exec_properties["custom_config"])
    assert TrainConfig.from_dict(custom["train_config"]).strategy == "multi_worker"

    components = [c for c in pipeline.components if c.id != "Trainer"] + [trainer]
    vertex = tfx.dsl.Pipeline(pipeline_name="tfslim-vertex", pipeline_root=config.pipeline_root,
                              components=[c for c in components
                                          if c.id in ("ImageExampleGen", "ImportSchemaGen",
                                                      "Transform", "Trainer")])
    out = tmp_path / "vertex.json"
    tfx.orchestration.experimental.KubeflowV2DagRunner(
        config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(
            default_image="REGISTRY/tfslim-tfx:0.1.0"),
        output_dir=str(tmp_path), output_filename=out.name).run(vertex, write_out=True)
    tasks = json.loads(out.read_text())["pipelineSpec"]["root"]["dag"]["tasks"]
    assert set(tasks) == {"ImageExampleGen", "ImportSchemaGen", "Transform", "Trainer"}
    assert set(tasks["Trainer"]["dependentTasks"]) >= {"ImageExampleGen", "Transform"}
