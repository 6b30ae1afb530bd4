"""KubeflowV2DagRunner output: valid KFP protos, every component, the local DAG, settings honoured."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import Any, Dict, Set, Tuple

import pytest
from absl import flags
from google.protobuf import json_format

from runners.kubeflow import runner
from runners.kubeflow.settings import HEAVY_COMPONENTS, validate_pipeline_name
from tests.runners.kubeflow.conftest import HEAVY_ARGS, IMAGE, settings

pytestmark = pytest.mark.xdist_group("kubeflow")

ENTRYPOINT = ["python", "-m", "runners.kubeflow.entrypoint"]  # TFX's v2 executor + KFP system types
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
RESOLVER_ID = "latest_blessed_model_resolver"


def protos(job: Dict[str, Any]):
    """(PipelineJob, PipelineSpec, PipelineDeploymentConfig), parsed strictly (unknown fields fail)."""
    from kfp.pipeline_spec import pipeline_spec_pb2  # pylint: disable=import-outside-toplevel

    pipeline_job = json_format.ParseDict(job, pipeline_spec_pb2.PipelineJob())
    spec = json_format.ParseDict(json_format.MessageToDict(pipeline_job.pipeline_spec),
                                 pipeline_spec_pb2.PipelineSpec())
    deployment = json_format.ParseDict(json_format.MessageToDict(spec.deployment_spec),
                                       pipeline_spec_pb2.PipelineDeploymentConfig())
    return pipeline_job, spec, deployment


def local_pipeline(use_baseline_resolver: bool = True):
    """The pipeline exactly as local_runner builds it (local paths, same preset)."""
    from pipeline import run_config  # pylint: disable=import-outside-toplevel
    from pipeline.pipeline import create_pipeline  # pylint: disable=import-outside-toplevel

    return create_pipeline(run_config.load("smoke", check_net=False, data_root="/tmp/digits", pipeline_root="/tmp/root",
                                          serving_dir="/tmp/serving",
                                          use_baseline_resolver=use_baseline_resolver))


def node_of(task_name: str, node_ids: Set[str]) -> str:
    """Compiled task → TFX node id (a Resolver compiles to '<id>-model-resolver' etc.)."""
    if task_name in node_ids:
        return task_name
    owners = [node for node in node_ids if task_name.startswith(node + "-")]
    assert len(owners) == 1, f"task {task_name!r} maps to {owners}"
    return owners[0]


def compiled_edges(spec, node_ids: Set[str]) -> Set[Tuple[str, str]]:
    edges = set()
    for name, task in spec.root.dag.tasks.items():
        for dependency in task.dependent_tasks:
            edge = (node_of(dependency, node_ids), node_of(name, node_ids))
            if edge[0] != edge[1]:
                edges.add(edge)
    return edges


def pipeline_edges(pipeline) -> Set[Tuple[str, str]]:
    return {(up.id, node.id) for node in pipeline.components for up in node.upstream_nodes}


def task_parameters(spec, task_name: str, job=None) -> Dict[str, Any]:
    """A task's parameters: compile-time constants (spec 2.1 'constant' or 2.0 'constantValue'),
    and pipeline parameters (``componentInputParameter``) as their compiled defaults in ``job``."""
    from runners.kubeflow import local_step  # pylint: disable=import-outside-toplevel

    defaults = local_step.run_parameter_values(job) if job else {}
    out = {}
    for name, source in spec.root.dag.tasks[task_name].inputs.parameters.items():
        source = json_format.MessageToDict(source)
        if "componentInputParameter" in source:
            out[name] = defaults.get(source["componentInputParameter"])
            continue
        runtime = source["runtimeValue"]
        if "constant" in runtime:
            out[name] = runtime["constant"]
        else:  # {"stringValue": ...} / {"intValue": ...} / {"doubleValue": ...}
            (out[name],) = runtime["constantValue"].values()
    return out


@pytest.mark.parametrize("job_fixture,keeps_resolver", [("kfp_job", False), ("vertex_job", True)])
def test_every_component_with_image_command_args_and_local_dag(request, job_fixture, keeps_resolver):
    job = request.getfixturevalue(job_fixture)
    _, spec, deployment = protos(job)
    local = local_pipeline(use_baseline_resolver=keeps_resolver)
    node_ids = {node.id for node in local.components}

    compiled_nodes = {node_of(name, node_ids) for name in spec.root.dag.tasks}
    assert compiled_nodes == node_ids
    assert compiled_edges(spec, node_ids) == pipeline_edges(local)
    assert spec.pipeline_info.name == "tfslim-digits"

    for node in local.components:
        if node.id == RESOLVER_ID:
            continue
        task = spec.root.dag.tasks[node.id]
        executor = deployment.executors[spec.components[task.component_ref.name].executor_label]
        container = executor.container
        assert container.image == IMAGE
        assert list(container.command) == ENTRYPOINT
        args = list(container.args)
        class_path = args[args.index("--executor_class_path") + 1]
        executor_class = node.executor_spec.executor_class
        assert class_path == f"{executor_class.__module__}.{executor_class.__name__}"
        assert args[args.index("--json_serialized_invocation_args") + 1] == "{{$}}"
        assert args[-2:] == ["--direct_running_mode=in_memory", "--direct_num_workers=1"]
        # Every exec property that has a value reaches the task as a parameter.
        set_properties = {k for k, v in node.exec_properties.items() if v is not None}
        assert set_properties <= set(task_parameters(spec, node.id)), node.id


def test_parameters_carry_the_settings(kfp_job):
    _, spec, _ = protos(kfp_job)
    assert task_parameters(spec, "ImageExampleGen", kfp_job)["input_base"] == "gs://tfslim-test/digits"
    assert task_parameters(spec, "Trainer")["run_fn"] == "trainer.run_fn.run_fn"
    assert json.loads(task_parameters(spec, "Trainer")["train_args"]) == {"num_steps": 200}
    # The run parameters: declared on the root with the config's values as defaults, consumed by tasks.
    assert task_parameters(spec, "Trainer", kfp_job)["train_steps"] == 200
    assert task_parameters(spec, "Pusher", kfp_job)["serving_dir"] == "gs://tfslim-test/serving"
    assert task_parameters(spec, "Evaluator", kfp_job)["accuracy_threshold"] == 0.3
    assert task_parameters(spec, "Transform")["preprocessing_fn"] == "trainer.preprocessing_fn.preprocessing_fn"
    # The schema is read inside the image, where kubeflow/Dockerfile puts the project.
    assert task_parameters(spec, "ImportSchemaGen")["schema_file"] == "/pipeline/schemas/slim_image.pbtxt"
    assert "gs://tfslim-test/serving/lenet" in task_parameters(spec, "Pusher")["push_destination"]
    assert kfp_job["runtimeConfig"]["gcsOutputDirectory"] == "gs://tfslim-test/root"


def test_oss_kfp_has_no_resolver_and_uses_spec_2_1(kfp_job, vertex_job):
    _, kfp_spec, kfp_deployment = protos(kfp_job)
    assert kfp_spec.schema_version == "2.1.0"
    assert not [t for t in kfp_spec.root.dag.tasks if t.startswith(RESOLVER_ID)]
    # The OSS backend rejects resolver executors; every executor here is a container.
    assert all(e.WhichOneof("spec") == "container" for e in kfp_deployment.executors.values())
    assert "--json_serialized_inputs_spec_args" in kfp_deployment.executors["Trainer_executor"].container.args
    assert "baseline_model" not in kfp_spec.root.dag.tasks["Evaluator"].inputs.artifacts

    _, vertex_spec, vertex_deployment = protos(vertex_job)
    assert vertex_spec.schema_version == "2.0.0"
    resolvers = sorted(t for t in vertex_spec.root.dag.tasks if t.startswith(RESOLVER_ID))
    assert resolvers == [f"{RESOLVER_ID}-model-blessing-resolver", f"{RESOLVER_ID}-model-resolver"]
    assert {vertex_deployment.executors[f"{r}_executor"].WhichOneof("spec") for r in resolvers} == {"resolver"}
    baseline = vertex_spec.root.dag.tasks["Evaluator"].inputs.artifacts["baseline_model"]
    assert baseline.task_output_artifact.producer_task == f"{RESOLVER_ID}-model-resolver"


def test_heavy_beam_args_env_and_trainer_resources(kfp_heavy_job):
    _, _, deployment = protos(kfp_heavy_job)
    for label, executor in deployment.executors.items():
        component = label[:-len("_executor")]
        args = list(executor.container.args)
        expected_tail = list(HEAVY_ARGS) if component in HEAVY_COMPONENTS else []
        assert args[len(args) - len(expected_tail):] == expected_tail, component
        if component not in HEAVY_COMPONENTS:
            assert not any(a.startswith("--runner") for a in args), component
        assert [(e.name, e.value) for e in executor.container.env] == [("S3_ENDPOINT", "minio.kubeflow:9000")]
    resources = deployment.executors["Trainer_executor"].container.resources
    assert (resources.cpu_limit, resources.memory_limit) == (4.0, 16.0)
    assert (resources.accelerator.type, resources.accelerator.count) == ("NVIDIA_TESLA_T4", 2)
    assert not deployment.executors["Transform_executor"].container.HasField("resources")


@pytest.mark.parametrize("name,valid", [
    ("tfslim-digits", True), ("a", True), ("9lives-2", True), ("x" * 128, True),
    ("tfslim_digits", False), ("Tfslim", False), ("-digits", False), ("", False), ("x" * 129, False),
    ("digits.v2", False)])
def test_pipeline_names_follow_the_kfp_rule(name, valid):
    from tfx.orchestration.kubeflow.v2 import pipeline_builder  # pylint: disable=import-outside-toplevel

    if valid:
        assert validate_pipeline_name(name) == name
        pipeline_builder._check_name(name)  # pylint: disable=protected-access
    else:
        with pytest.raises(ValueError, match="not valid for Kubeflow"):
            settings(pipeline_name=name)
        if name:  # TFX's compiler agrees
            with pytest.raises(ValueError):
                pipeline_builder._check_name(name)  # pylint: disable=protected-access


@pytest.mark.parametrize("flag,root,message", [
    ("pipeline_root", "/data/root", "object storage"), ("pipeline_root", "outputs/root", "object storage"),
    ("pipeline_root", "gs://", "object storage"), ("pipeline_root", "minio://", "object storage"),
    ("data_root", "minio://mlpipeline/digits", "--pipeline_root only"),
    ("serving_dir", "minio://mlpipeline/serving", "--pipeline_root only")])
def test_roots_must_be_on_object_storage(flag, root, message):
    with pytest.raises(ValueError, match=message):
        settings(**{flag: root})
    assert settings(pipeline_root="s3://bucket/root").pipeline_root == "s3://bucket/root"
    # KFP's default store: the launcher syncs the artifacts (runners/kubeflow/launcher_paths.py).
    assert settings(pipeline_root="minio://mlpipeline/v2/artifacts").pipeline_root.startswith("minio://")


def test_settings_from_flags():
    fv = flags.FlagValues()
    runner.define_flags(fv)
    fv(["prog", "--output_file=/tmp/x.json", "--pipeline_root=s3://b/root", "--data_root=s3://b/data",
        "--serving_dir=s3://b/serving", "--image=reg/img:1", "--target=vertex", "--nobaseline_resolver",
        "--beam_pipeline_arg=--direct_num_workers=0", "--beam_pipeline_arg=--direct_running_mode=multi_processing",
        "--heavy_beam_pipeline_arg=--runner=FlinkRunner", "--container_env=A=b=c", "--trainer_gpus=1",
        "--model_name=mobilenet_v1", "--train_steps=7"])
    got = runner.settings_from_flags(fv)
    assert (got.target, got.keeps_resolver, got.uses_spec_2_1) == ("vertex", False, False)
    assert got.env() == {"A": "b=c"}
    config = got.pipeline_config()
    assert config.beam_pipeline_args == ("--direct_num_workers=0", "--direct_running_mode=multi_processing")
    assert (config.train.model_name, config.serving_model_name, config.train_steps) == ("mobilenet_v1",
                                                                                      "mobilenet_v1", 7)
    assert config.data_root == "s3://b/data" and config.schema_file == "/pipeline/schemas/slim_image.pbtxt"
    with pytest.raises(ValueError, match="NAME=VALUE"):
        got.replace(container_env=("NOEQUALS",))


_PROJECT_PATH = re.compile(r"\b(?:components|trainer|pipeline|kubeflow|schemas)(?:\.[A-Za-z_]\w*)+")

_IMPORT_CHECK = r"""
import importlib, importlib.util, json, sys
refs = json.loads(sys.argv[1])
missing = []
for module in refs["modules"]:
    try:
        found = importlib.util.find_spec(module) is not None
    except ImportError:  # a missing parent package
        found = False
    if not found:
        missing.append(module)
for path in refs["objects"]:
    module, _, name = path.rpartition(".")
    try:
        obj = getattr(importlib.import_module(module), name)
    except Exception as error:  # report every failure, not just the first
        missing.append(f"{path}: {error!r}")
        continue
    if not callable(obj):
        missing.append(f"{path} is not callable")
for path in refs["project_paths"]:
    try:
        importlib.import_module(path)
    except ImportError:
        module, _, name = path.rpartition(".")
        try:
            getattr(importlib.import_module(module), name)
        except Exception as error:
            missing.append(f"{path}: {error!r}")
print(json.dumps(missing))
"""


def test_everything_the_json_references_exists_in_the_installed_project(kfp_job, vertex_job, tmp_path):
    """Entry points, executor classes, run_fn/preprocessing_fn and every dotted project path in
    the parameters import in a fresh process OUTSIDE the source tree (the installed package, as
    in the image), and the schema file the JSON names exists at its place in the project."""
    modules, objects, project_paths = set(), set(), set()
    for job in (kfp_job, vertex_job):
        _, spec, deployment = protos(job)
        for executor in deployment.executors.values():
            if executor.WhichOneof("spec") != "container":
                continue
            for command in (executor.container.command, executor.container.lifecycle.pre_cache_check.command):
                if command:
                    assert list(command[:2]) == ["python", "-m"]
                    modules.add(command[2])
            args = list(executor.container.args)
            objects.add(args[args.index("--executor_class_path") + 1])
        for task_name in spec.root.dag.tasks:
            for value in task_parameters(spec, task_name).values():
                if isinstance(value, str):
                    project_paths.update(_PROJECT_PATH.findall(value))
        params = task_parameters(spec, "Trainer")
        objects.update({params["run_fn"], task_parameters(spec, "Transform")["preprocessing_fn"]})
        schema = task_parameters(spec, "ImportSchemaGen")["schema_file"]
        assert os.path.isfile(os.path.join(REPO, os.path.relpath(schema, "/pipeline")))
    assert "components.evaluation.per_class" in project_paths  # the custom TFMA metric module
    refs = {"modules": sorted(modules), "objects": sorted(objects), "project_paths": sorted(project_paths)}
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["TF_USE_LEGACY_KERAS"] = "1"
    out = subprocess.run([sys.executable, "-c", _IMPORT_CHECK, json.dumps(refs)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=600, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
    assert len(objects) >= 10 and len(modules) == 2


def test_compile_writes_json_and_cli_rejects_bad_settings(tmp_path):
    """compile_pipeline writes what it returns; `python -m runners.kubeflow.runner` refuses a local root."""
    path = tmp_path / "job.json"
    job = runner.compile_pipeline(settings(pipeline_name="cli-check"), str(path))
    assert json.loads(path.read_text()) == job
    bad = subprocess.run([sys.executable, "-m", "runners.kubeflow.runner", f"--output_file={path}",
                          "--pipeline_root=/local", "--data_root=gs://b/d", "--serving_dir=gs://b/s",
                          f"--image={IMAGE}"],
                         capture_output=True, text=True, timeout=300, check=False, cwd=REPO)
    assert bad.returncode != 0 and "object storage" in bad.stderr


def test_local_step_inputs_for_both_spec_versions(kfp_job, vertex_job, tmp_path):
    """runners.kubeflow.local_step builds each backend's ExecutorInput in its spec version's form."""
    from runners.kubeflow import local_step  # pylint: disable=import-outside-toplevel

    order = local_step.task_order(kfp_job)
    assert order.index("ImageExampleGen") < order.index("StatisticsGen") < order.index("ExampleValidator")
    assert order.index("Trainer") < order.index("Evaluator") < order.index("Pusher") < order.index("RunReport")
    assert order.index("RunReport") == len(order) - 1
    overrides = local_step.parse_overrides(["ImageExampleGen.input_base=/data",
                                            "ImageExampleGen.output_file_format=5"])
    assert overrides == {"ImageExampleGen": {"input_base": "/data", "output_file_format": "5"}}
    with pytest.raises(ValueError, match="Task.param=value"):
        local_step.parse_overrides(["input_base=/data"])

    kfp = local_step.Launcher(kfp_job, str(tmp_path / "r"), backend="kfp")
    new = kfp.executor_input("ImageExampleGen", {}, overrides["ImageExampleGen"])
    assert new["inputs"]["parameterValues"]["input_base"] == "/data"
    assert new["inputs"]["parameterValues"]["output_file_format"] == 5.0
    vertex = local_step.Launcher(vertex_job, str(tmp_path / "r"), backend="vertex")
    legacy = vertex.executor_input("ImageExampleGen", {}, overrides["ImageExampleGen"])
    assert legacy["inputs"]["parameters"]["input_base"] == {"stringValue": "/data"}
    assert legacy["inputs"]["parameters"]["output_file_format"] == {"intValue": "5"}
    assert legacy["outputs"]["outputFile"] == str(tmp_path / "r" / "run-1" / "ImageExampleGen" /
                                                  "executor_output.json")
    with pytest.raises(KeyError, match="ImageExampleGen.examples"):
        kfp.executor_input("StatisticsGen", {})
    with pytest.raises(KeyError, match="no parameter"):
        kfp.executor_input("ImageExampleGen", {}, {"nope": "1"})
    # Each backend refuses what it cannot run.
    with pytest.raises(ValueError, match="spec 2.1"):
        local_step.Launcher(vertex_job, str(tmp_path / "r"), backend="kfp").executor_input("ImageExampleGen", {})
    with pytest.raises(ValueError, match="resolver"):
        local_step.Launcher(vertex_job, str(tmp_path / "r"), backend="kfp").run_step(
            "latest_blessed_model_resolver-model-blessing-resolver", {})
    with pytest.raises(ValueError, match="--store_dir"):
        local_step.Launcher(kfp_job, "minio://mlpipeline/root", backend="kfp")
    with pytest.raises(ValueError, match="gs:// cannot be emulated"):
        local_step.Launcher(kfp_job, "gs://b/root", backend="kfp", store_dir=str(tmp_path))


def test_every_artifact_type_resolves_in_the_container_entrypoint(kfp_job, tmp_path):
    """TFX's v2 executor imports a custom artifact class from its schema title; RunReport's
    KFP `system.HTML` / `system.Metrics` titles resolve only through runners.kubeflow.entrypoint."""
    _, spec, _ = protos(kfp_job)
    schemas = {}
    for component in spec.components.values():
        for output in component.output_definitions.artifacts.values():
            schemas[output.artifact_type.instance_schema.split("\n", 1)[0]] = json_format.MessageToDict(
                output.artifact_type)
    assert {"title: system.HTML", "title: system.Metrics", "title: system.ClassificationMetrics"} <= set(schemas)
    probe = tmp_path / "types.json"
    probe.write_text(json.dumps(list(schemas.values())))
    # One fresh process (the TFX import is most of its cost): every title through TFX's own
    # resolver first, then again after the entrypoint's registration.
    script = (
        "import json, sys\n"
        "from google.protobuf import json_format\n"
        "from kfp.pipeline_spec import pipeline_spec_pb2\n"
        "from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_entrypoint_utils as u\n"
        "from tfx.utils import import_utils\n"
        "def resolve(tag):\n"
        "    for raw in json.load(open(sys.argv[1])):\n"
        "        schema = json_format.ParseDict(raw, pipeline_spec_pb2.ArtifactTypeSchema())\n"
        "        try:\n"
        "            cls = import_utils.import_class_by_path(u._retrieve_class_path(schema))\n"
        "        except ImportError as err:\n"
        "            print(tag, 'error', err)\n"
        "        else:\n"
        "            print(tag, cls.TYPE_NAME)\n"
        "resolve('plain')\n"
        "from runners.kubeflow.entrypoint import register_system_types\n"
        "register_system_types()\n"
        "resolve('entrypoint')\n")
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1")
    run = subprocess.run([sys.executable, "-c", script, str(probe)], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    lines = [line.split(" ", 1) for line in run.stdout.splitlines()]
    plain = [rest for tag, rest in lines if tag == "plain"]
    fixed = [rest for tag, rest in lines if tag == "entrypoint"]
    # TFX alone: "Could not import system.HTML" (no module named 'system'); the rest resolve.
    assert sorted(rest for rest in plain if rest.startswith("error")) == [
        "error Could not import system.ClassificationMetrics", "error Could not import system.HTML",
        "error Could not import system.Metrics"], run.stdout
    assert len(fixed) == len(schemas) and not any(rest.startswith("error") for rest in fixed), fixed
    assert {"system.HTML", "system.Metrics", "system.ClassificationMetrics", "Examples", "Model"} <= set(fixed)


def test_a_tuner_block_compiles_to_a_tuner_task_feeding_the_trainer(tmp_path):
    """With a ``tuner:`` block the JSON has a Tuner task on ImageExampleGen's examples and
    Transform's graph, and the Trainer and RunReport take its outputs (best values, trials)."""
    from tests.pipeline.helpers import TUNER, tuned_smoke_config  # pylint: disable=import-outside-toplevel

    job = runner.compile_pipeline(settings(config=tuned_smoke_config(tmp_path), trainer_cpu=4.0),
                                  str(tmp_path / "job.json"))
    _, spec, deployment = protos(json.loads((tmp_path / "job.json").read_text()))
    assert json.loads((tmp_path / "job.json").read_text()) == job
    tasks = spec.root.dag.tasks

    def source(task_name: str, key: str) -> Tuple[str, str]:
        artifact = tasks[task_name].inputs.artifacts[key].task_output_artifact
        return artifact.producer_task, artifact.output_artifact_key

    assert source("Tuner", "examples") == ("ImageExampleGen", "examples")
    assert source("Tuner", "transform_graph") == ("Transform", "transform_graph")
    assert source("Trainer", "hyperparameters") == ("Tuner", "best_hyperparameters")
    assert source("RunReport", "tuner_results") == ("Tuner", "tuner_results")
    assert "Tuner" in tasks["Trainer"].dependent_tasks
    params = task_parameters(spec, "Tuner")
    assert params["tuner_fn"] == "trainer.tuner_fn.tuner_fn"
    assert json.loads(params["train_args"]) == {"num_steps": TUNER["steps_per_trial"]}
    custom = json.loads(params["custom_config"])
    assert custom["tuner_config"]["search"] == {"train.opt_epsilon": {"choices": [1.0, 1e-8]}}
    assert custom["train_config"]["opt_epsilon"] == 1.0  # the Trainer's base; the Tuner's pick overrides it
    executor = deployment.executors[spec.components[tasks["Tuner"].component_ref.name].executor_label]
    args = list(executor.container.args)
    assert args[args.index("--executor_class_path") + 1] == "components.tuning.executor.Executor"
    assert executor.container.image == IMAGE
    assert executor.container.resources.cpu_limit == 4.0  # the Trainer's pod size


def test_infer_root_compiles_to_a_batch_predict_task_after_the_blessings(tmp_path):
    """``infer_root`` adds a BatchPredict task on the Trainer's model and both blessings; its
    executor imports in the container, and so does its output type's schema title."""
    from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_entrypoint_utils as utils
    from tfx.utils import import_utils

    runner.compile_pipeline(settings(overrides=("infer_root=gs://tfslim-test/new",)), str(tmp_path / "job.json"))
    _, spec, deployment = protos(json.loads((tmp_path / "job.json").read_text()))
    task = spec.root.dag.tasks["BatchPredict"]
    sources = {key: (a.task_output_artifact.producer_task, a.task_output_artifact.output_artifact_key)
               for key, a in task.inputs.artifacts.items()}
    assert sources == {"model": ("Trainer", "model"), "model_blessing": ("Evaluator", "blessing"),
                       "infra_blessing": ("ServingSmokeTest", "blessing")}
    params = task_parameters(spec, "BatchPredict")
    assert params["infer_root"] == "gs://tfslim-test/new" and params["input_fingerprint"] == ""
    args = list(deployment.executors[spec.components[task.component_ref.name].executor_label].container.args)
    class_path = args[args.index("--executor_class_path") + 1]
    assert class_path == "components.batch_predict.executor.Executor"
    assert import_utils.import_class_by_path(class_path).__name__ == "Executor"
    (output,) = spec.components[task.component_ref.name].output_definitions.artifacts.values()
    artifact_class = import_utils.import_class_by_path(utils._retrieve_class_path(output.artifact_type))  # pylint: disable=protected-access
    assert artifact_class.TYPE_NAME == "components.BatchPredictions"
