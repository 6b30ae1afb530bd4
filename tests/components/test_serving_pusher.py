"""ServingPusher (never overwrite, both blessings, models.config) and the TF Serving manifests."""
import json
import os
import shutil

import pytest
import yaml
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2
from tfx.proto import pusher_pb2
from tfx.types import standard_artifacts
from tfx.utils import proto_utils

from components.serving_pusher import executor as pusher
from serving import models_config
from pipeline.configs import PipelineConfig

MANIFESTS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                         "kubeflow", "serving")


def _artifact(cls, uri, blessed=None):
    artifact = cls()
    artifact.uri = str(uri)
    if blessed is not None:
        artifact.set_int_custom_property("blessed", int(blessed))
    return artifact


def _push(tmp_path, model_dir, serving_dir, model_blessed=True, infra_blessed=True, run="a",
          **properties):
    model = _artifact(standard_artifacts.Model, tmp_path / run / "model")
    shutil.copytree(model_dir, os.path.join(model.uri, "Format-Serving"))
    pushed = _artifact(standard_artifacts.PushedModel, tmp_path / run / "pushed")
    inputs = {"model": [model],
              "model_blessing": [_artifact(standard_artifacts.ModelBlessing, tmp_path / run / "mb", model_blessed)],
              "infra_blessing": [_artifact(standard_artifacts.InfraBlessing, tmp_path / run / "ib", infra_blessed)]}
    destination = pusher_pb2.PushDestination(filesystem=pusher_pb2.PushDestination.Filesystem(
        base_directory=os.path.join(serving_dir, "lenet")))
    pusher.Executor().Do(inputs, {"pushed_model": [pushed]}, {
        "push_destination": proto_utils.proto_to_json(destination),
        "custom_config": json.dumps({pusher.MODEL_NAME_KEY: "lenet",
                                     pusher.CONFIG_BASE_PATH_KEY: "/models/lenet"}), **properties})
    return pushed


@pytest.mark.parametrize("from_serving_dir", [False, True])
def test_serving_dir_run_parameter_replaces_the_compiled_destination(tmp_path, lenet_model_dir,
                                                                     from_serving_dir):
    """A Kubeflow run's serving_dir wins over the compiled push destination; models.config points
    into it when the server reads the serving dir itself (config_base_from_serving_dir)."""
    compiled, chosen = str(tmp_path / "compiled"), str(tmp_path / "chosen")
    model = _artifact(standard_artifacts.Model, tmp_path / "model")
    shutil.copytree(lenet_model_dir, os.path.join(model.uri, "Format-Serving"))
    pushed = _artifact(standard_artifacts.PushedModel, tmp_path / "pushed")
    inputs = {"model": [model],
              "model_blessing": [_artifact(standard_artifacts.ModelBlessing, tmp_path / "mb", True)],
              "infra_blessing": [_artifact(standard_artifacts.InfraBlessing, tmp_path / "ib", True)]}
    destination = pusher_pb2.PushDestination(filesystem=pusher_pb2.PushDestination.Filesystem(
        base_directory=os.path.join(compiled, "lenet")))
    custom = {pusher.MODEL_NAME_KEY: "lenet", pusher.CONFIG_BASE_PATH_KEY: f"{compiled}/lenet"}
    if from_serving_dir:
        custom[pusher.CONFIG_BASE_FROM_SERVING_DIR_KEY] = True
    pusher.Executor().Do(inputs, {"pushed_model": [pushed]}, {
        "push_destination": proto_utils.proto_to_json(destination), "custom_config": json.dumps(custom),
        pusher.SERVING_DIR_KEY: chosen})
    version = pushed.get_string_custom_property("pushed_version")
    assert os.path.exists(os.path.join(chosen, "lenet", version, "saved_model.pb"))
    assert not os.path.exists(compiled)
    parsed = text_format.Parse(open(models_config.models_config_path(chosen)).read(),
                               model_server_config_pb2.ModelServerConfig())
    (entry,) = parsed.model_config_list.config
    assert entry.base_path == (f"{chosen}/lenet" if from_serving_dir else f"{compiled}/lenet")


def test_push_writes_new_version_and_models_config(tmp_path, lenet_model_dir):
    serving = str(tmp_path / "serving")
    first = _push(tmp_path, lenet_model_dir, serving, run="a")
    assert first.get_int_custom_property("pushed") == 1
    v1 = int(first.get_string_custom_property("pushed_version"))
    assert os.path.exists(os.path.join(serving, "lenet", str(v1), "saved_model.pb"))
    assert os.path.exists(os.path.join(serving, "lenet", str(v1), "assets.extra", "labels.txt"))
    config_path = models_config.models_config_path(serving)
    assert models_config.served_version(config_path, "lenet") == v1
    # The file is a valid TF Serving ModelServerConfig pointing into the container's mount.
    parsed = text_format.Parse(open(config_path).read(), model_server_config_pb2.ModelServerConfig())
    (entry,) = parsed.model_config_list.config
    assert (entry.name, entry.base_path, entry.model_platform) == ("lenet", "/models/lenet", "tensorflow")

    second = _push(tmp_path, lenet_model_dir, serving, run="b")  # same second: must not collide
    v2 = int(second.get_string_custom_property("pushed_version"))
    assert v2 > v1 and sorted(os.listdir(os.path.join(serving, "lenet"))) == sorted([str(v1), str(v2)])
    assert models_config.served_version(config_path, "lenet") == v2


@pytest.mark.parametrize("model_blessed,infra_blessed", [(False, True), (True, False)],
                         ids=["evaluator-says-no", "smoke-test-says-no"])
def test_push_needs_both_blessings(tmp_path, lenet_model_dir, model_blessed, infra_blessed):
    serving = str(tmp_path / "serving")
    pushed = _push(tmp_path, lenet_model_dir, serving, model_blessed, infra_blessed)
    assert pushed.get_int_custom_property("pushed") == 0
    assert not os.path.exists(os.path.join(serving, "lenet"))
    assert not os.path.exists(models_config.models_config_path(serving))


def test_next_version_is_above_every_existing_one(tmp_path):
    base = tmp_path / "lenet"
    assert pusher.next_version(str(base), now=100) == 100
    (base / "5000").mkdir(parents=True)
    (base / "not-a-version").mkdir()
    assert pusher.next_version(str(base), now=100) == 5001  # a clock behind the newest version
    assert pusher.next_version(str(base), now=9000) == 9000


def test_copy_model_never_overwrites(tmp_path, lenet_model_dir):
    target = tmp_path / "lenet" / "7"
    pusher.copy_model(lenet_model_dir, str(target))
    with pytest.raises(FileExistsError, match="never overwritten"):
        pusher.copy_model(lenet_model_dir, str(target))


def test_models_config_keeps_other_models(tmp_path):
    path = models_config.models_config_path(str(tmp_path))
    config = models_config.set_served_version(models_config.read(path), "flowers", "/models/flowers", 3)
    models_config.write(config, path)
    config = models_config.set_served_version(models_config.read(path), "lenet", "/models/lenet", 10)
    config = models_config.set_served_version(config, "lenet", "/models/lenet", 11)
    models_config.write(config, path)
    assert models_config.served_version(path, "flowers") == 3
    assert models_config.served_version(path, "lenet") == 11
    assert list(models_config.read(path).model_config_list.config[1].model_version_policy.specific.versions) == [11]
    assert sorted(os.listdir(tmp_path)) == ["models.config"]  # no temp files left behind


def _manifests():
    return {name: yaml.safe_load(open(os.path.join(MANIFESTS, name)))
            for name in ("deployment.yaml", "service.yaml", "pvc.yaml", "kustomization.yaml")}


def test_manifests_agree_with_the_push_layout():
    docs = _manifests()
    assert sorted(docs["kustomization.yaml"]["resources"]) == ["deployment.yaml", "pvc.yaml", "service.yaml"]
    pod = docs["deployment.yaml"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"].startswith("tensorflow/serving:2.16")
    args = dict(a.lstrip("-").split("=", 1) for a in container["args"])
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == "models"]
    # The server reads models.config from the volume the Pusher writes, at the path
    # models.config's base paths assume.
    assert mount["mountPath"] == models_config.CONTAINER_MODELS_DIR == PipelineConfig().serving_config_base_path
    assert args["model_config_file"] == f"{mount['mountPath']}/{models_config.MODELS_CONFIG}"
    (volume,) = [v for v in pod["volumes"] if v["name"] == "models"]
    assert volume["persistentVolumeClaim"]["claimName"] == docs["pvc.yaml"]["metadata"]["name"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert (ports["grpc"], ports["http"]) == (int(args["port"]), int(args["rest_api_port"]))
    service = docs["service.yaml"]["spec"]
    assert service["selector"] == docs["deployment.yaml"]["spec"]["selector"]["matchLabels"]
    assert {p["targetPort"] for p in service["ports"]} == set(ports)
    assert container["readinessProbe"]["httpGet"]["path"] == f"/v1/models/{PipelineConfig().serving_model_name}"
