"""`tfslim predict`: labels images locally and through a REST server; bad files fail by name."""
import pytest

from tests.cli_probe import run_probed
from tests.console import noise
from tests.serving.cli import run_tfslim
from tests.serving.fixtures import CLASS_NAMES
from tests.serving.fake_serving import FakeRestServer


@pytest.fixture(scope="module")
def image_files(tmp_path_factory, digit_pngs):
    root = tmp_path_factory.mktemp("images")
    good = root / "seven.png"
    good.write_bytes(digit_pngs[0][0])
    corrupt = root / "notes.txt"
    corrupt.write_bytes(b"shopping list: milk, eggs")
    truncated = root / "truncated.png"
    truncated.write_bytes(digit_pngs[1][0][:40])
    return str(good), str(corrupt), str(truncated), str(root / "missing.jpg")


def _labelled(stdout: str, path: str):
    lines = stdout.splitlines()
    start = lines.index(path)
    return [line.split()[-1] for line in lines[start + 1:start + 6]]


def test_predict_local_labels_good_images_and_names_bad_files(lenet_model_dir, image_files):
    good, corrupt, truncated, missing = image_files
    result = run_tfslim("predict", good, corrupt, truncated, missing, good,
                        f"--model_dir={lenet_model_dir}", "--top_k=5")
    assert result.returncode == 1, result.stderr[-2000:]
    assert set(_labelled(result.stdout, good)) <= set(CLASS_NAMES) and len(_labelled(result.stdout, good)) == 5
    assert result.stdout.count(good) == 2  # the file after the bad ones is still labelled
    errors = [line for line in result.stderr.splitlines() if line.startswith("tfslim predict: error:")]
    assert len(errors) == 3, result.stderr[-2000:]
    assert f"{corrupt}: not labelled:" in errors[0] and "not a JPEG/PNG/GIF/BMP image" in errors[0]
    assert f"{truncated}: not labelled:" in errors[1] and "PNG" in errors[1]
    assert f"{missing}: cannot read" in errors[2]
    assert not noise(result.stdout + result.stderr)  # loading the SavedModel prints no log lines


def test_predict_through_rest_server(lenet_model_dir, image_files):
    good, corrupt, _, _ = image_files
    with FakeRestServer(lenet_model_dir, "lenet") as server:
        result = run_tfslim("predict", good, corrupt, f"--server={server.address}", "--model_name=lenet",
                            "--top_k=3")
        assert len(server.requests) == 2 and "b64" in server.requests[0]["instances"][0]
    assert result.returncode == 1, result.stderr[-2000:]
    assert len(_labelled(result.stdout, good)[:3]) == 3
    assert f"{corrupt}: not labelled: HTTP 400" in result.stderr
    assert "not a JPEG/PNG/GIF/BMP image" in result.stderr


def test_predict_through_rest_server_does_not_import_tensorflow(lenet_model_dir, image_files):
    good, corrupt, _, _ = image_files
    with FakeRestServer(lenet_model_dir, "lenet") as server:
        result, loaded = run_probed("predict", good, corrupt, f"--server={server.address}",
                                    "--model_name=lenet", "--top_k=3")
    assert result.returncode == 1, result.stderr[-2000:]  # the corrupt file is reported
    assert len(_labelled(result.stdout, good)[:3]) == 3
    assert f"{corrupt}: not labelled: HTTP 400" in result.stderr
    assert loaded == []


def test_predict_needs_exactly_one_backend(image_files):
    result = run_tfslim("predict", image_files[0])
    assert result.returncode != 0 and "exactly one of --model_dir or --server" in result.stderr
