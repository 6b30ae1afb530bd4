"""`tfslim` commands that do not need TensorFlow (or Beam) never import it (it costs seconds), and
the commands that need it check their flags first."""
import pytest

from tests.cli_probe import run_probed
from tests.ingestion import fixtures


@pytest.mark.parametrize("args, shown", [(["--help"], "convert"),
                                         (["convert", "--help"], "--dataset_name")])
def test_help_does_not_import_tensorflow(args, shown):
    out, loaded = run_probed(*args)
    assert shown in out.stdout + out.stderr
    assert loaded == []


def test_models_lists_the_zoo_without_tensorflow():
    out, loaded = run_probed("models")
    assert out.returncode == 0, out.stderr[-2000:]
    assert "lenet" in out.stdout and "LeNet/fc4" in out.stdout and "inception_v3" in out.stdout
    assert loaded == []


def test_model_catalog_matches_the_registry():
    from trainer.zoo import model_catalog  # pylint: disable=import-outside-toplevel
    assert model_catalog.load() == model_catalog.from_registry(), \
        "trainer/zoo/model_catalog.json is stale: run python -m trainer.zoo.model_catalog"


def test_convert_does_not_import_tensorflow(tmp_path):
    fixtures.make_class_tree(str(tmp_path / "src"), {"cats": 3, "dogs": 3}, fmt="jpeg")
    fixtures.write(str(tmp_path / "src" / "dogs" / "notes.jpg"), b"not an image")
    out, loaded = run_probed("convert", "--dataset_name=folder", f"--source={tmp_path / 'src'}",
                          f"--dataset_dir={tmp_path / 'out'}", "--num_shards=2", "--noprogress")
    assert out.returncode == 0, out.stderr[-3000:]
    assert "folder: 6 of 7 inputs converted, 1 rejected" in out.stdout
    assert loaded == []


@pytest.mark.parametrize("args, message", [
    (["train", "--master=grpc://10.0.0.1:2222"], "tfslim train: --master: TF2 has no session master"),
    (["train", "--dataset_dir=d"], "--max_number_of_steps is required"),
    (["eval", "--quantize"], "tfslim eval: --quantize:"),
    (["export", "--num_frames=8"], "tfslim export: --num_frames is for video nets"),
    (["run", "--help"], "--runner"),
    (["predict", "x.jpg"], "give exactly one of --model_dir or --server"),
])
def test_bad_flags_are_answered_before_tensorflow_loads(args, message):
    out, loaded = run_probed(*args)
    assert out.returncode != 0
    assert message in out.stdout + out.stderr, out.stderr[-2000:]
    assert loaded == []
